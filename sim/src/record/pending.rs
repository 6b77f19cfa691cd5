//! Load times waiting to be merged into the histograms, counted by hdrhistogram bucket.
//!
//! Recording into a `Histogram` costs ~125 instructions (bounds, resizing, min/max and total
//! bookkeeping); this is an index computation and an increment. The buckets are exactly those
//! of [`super::latency_histogram`] (1 µs to [`LATENCY_US_MAX`], 3 significant digits: 2,048
//! sub-buckets, unit 1), and [`PendingLatency::drain_into`] records each bucket's count at the
//! bucket's lowest value, so the histograms receive the same counts in the same buckets as if
//! every load time had been recorded into them directly. Every figure the reports take from a
//! histogram (quantiles, mean, the CDF) depends on those counts alone.

use super::LATENCY_US_MAX;
use hdrhistogram::Histogram;

/// log2 of half the sub-bucket count (2,048 sub-buckets for 3 significant digits).
const HALF_MAGNITUDE: u32 = 10;
const HALF_COUNT: usize = 1 << HALF_MAGNITUDE;
/// `2 * HALF_COUNT - 1`.
const SUB_MASK: u64 = (2 << HALF_MAGNITUDE) - 1;

/// The bucket index of `value_us` (at least 1), not bounded.
#[inline]
fn index_of(value_us: u64) -> usize {
    let bucket = 64 - (value_us | SUB_MASK).leading_zeros() - (HALF_MAGNITUDE + 1);
    let sub = (value_us >> bucket) as usize;
    ((bucket as usize + 1) << HALF_MAGNITUDE) + sub - HALF_COUNT
}

/// The number of buckets: whole buckets up to the one holding [`LATENCY_US_MAX`], as
/// hdrhistogram allocates them.
fn counts_len() -> usize {
    ((index_of(LATENCY_US_MAX) >> HALF_MAGNITUDE) + 1) << HALF_MAGNITUDE
}

/// The bucket index of `value_us`, as `Histogram::saturating_record` places it: 0 counts as 1,
/// and a value past the last bucket counts as [`LATENCY_US_MAX`].
#[inline]
pub fn bucket_of(value_us: u64, len: usize) -> usize {
    let i = index_of(value_us.max(1));
    if i < len {
        i
    } else {
        index_of(LATENCY_US_MAX)
    }
}

/// The lowest value of bucket `index`.
pub fn value_of(index: usize) -> u64 {
    let bucket = index >> HALF_MAGNITUDE;
    let sub = (index & (HALF_COUNT - 1)) as u64;
    if bucket == 0 {
        sub
    } else {
        (sub + HALF_COUNT as u64) << (bucket - 1)
    }
}

/// Counts of load times by bucket.
#[derive(Clone, Debug)]
pub struct PendingLatency {
    counts: Vec<u64>,
    total: u64,
}

impl Default for PendingLatency {
    fn default() -> Self {
        PendingLatency { counts: vec![0; counts_len()], total: 0 }
    }
}

impl PendingLatency {
    /// Counts one load time (bounded like `Histogram::saturating_record`).
    #[inline]
    pub fn record(&mut self, value_us: u64) {
        let i = bucket_of(value_us, self.counts.len());
        self.counts[i] += 1;
        self.total += 1;
    }

    /// Adds the counts to each of `into` and empties them.
    pub fn drain_into(&mut self, into: &mut [&mut Histogram<u64>]) {
        if self.total == 0 {
            return;
        }
        for (i, c) in self.counts.iter_mut().enumerate().filter(|(_, c)| **c > 0) {
            for h in into.iter_mut() {
                h.saturating_record_n(value_of(i), *c);
            }
            *c = 0;
        }
        self.total = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::super::latency_histogram;
    use super::*;
    use proptest::prelude::*;

    /// The one value `h` holds after recording `v` (its bucket's value as hdrhistogram iterates it).
    fn recorded(v: u64) -> u64 {
        let mut h = latency_histogram();
        h.saturating_record(v);
        let all: Vec<u64> = h.iter_recorded().map(|x| x.value_iterated_to()).collect();
        assert_eq!(all.len(), 1);
        all[0]
    }

    #[test]
    fn buckets_are_hdrhistograms_buckets() {
        let len = counts_len();
        assert_eq!(len, latency_histogram().distinct_values());
        let mut values: Vec<u64> = (1..5000).collect();
        for shift in 0..40 {
            let p = 1u64 << shift;
            values.extend([p - 1, p, p + 1, 3 * p, 3 * p + 1]);
        }
        values.extend([LATENCY_US_MAX - 1, LATENCY_US_MAX, LATENCY_US_MAX + 1, 3_602_907_135, 3_602_907_136]);
        values.extend([u64::MAX >> 1, u64::MAX]);
        for v in values.into_iter().filter(|&v| v > 0) {
            let i = bucket_of(v, len);
            assert_eq!(recorded(value_of(i)), recorded(v), "value {v}: bucket {i}");
            assert_eq!(bucket_of(value_of(i), len), i, "value {v}");
        }
    }

    /// Empty buckets record nothing: not even the histogram's smallest and largest value.
    #[test]
    fn draining_touches_only_counted_buckets() {
        let mut pending = PendingLatency::default();
        pending.record(450_000);
        pending.record(450_000);
        let mut h = latency_histogram();
        pending.drain_into(&mut [&mut h]);
        assert_eq!(h.len(), 2);
        assert_eq!((h.min(), h.max()), (h.lowest_equivalent(450_000), h.highest_equivalent(450_000)));
        // A value past the last bucket counts in the last one, never one past it.
        let len = counts_len();
        for v in [LATENCY_US_MAX + 1, LATENCY_US_MAX * 2, u64::MAX] {
            assert_eq!(bucket_of(v, len), index_of(LATENCY_US_MAX), "{v}");
        }
        let first_past = (LATENCY_US_MAX..=u64::MAX).step_by(1 << 20).find(|&v| index_of(v) >= len);
        if let Some(v) = first_past {
            let v = (v.saturating_sub(1 << 20)..=v).find(|&w| index_of(w) >= len).unwrap();
            assert!(bucket_of(v, len) < len, "the first value whose index is past the table: {v}");
        }
    }

    proptest! {
        /// Counting, then draining, leaves a histogram equal to recording directly.
        #[test]
        fn draining_equals_recording(values in prop::collection::vec(prop_oneof![0u64..20_000_000, 0u64..=u64::MAX], 1..400)) {
            let mut direct = latency_histogram();
            let mut pending = PendingLatency::default();
            for &v in &values {
                direct.saturating_record(v.max(1));
                pending.record(v.max(1));
            }
            let (mut a, mut b) = (latency_histogram(), latency_histogram());
            pending.drain_into(&mut [&mut a, &mut b]);
            prop_assert_eq!(pending.total, 0);
            prop_assert!(pending.counts.iter().all(|&c| c == 0));
            for h in [&a, &b] {
                prop_assert_eq!(h.len(), direct.len());
                let got: Vec<(u64, u64)> = h.iter_recorded().map(|x| (x.value_iterated_to(), x.count_at_value())).collect();
                let want: Vec<(u64, u64)> =
                    direct.iter_recorded().map(|x| (x.value_iterated_to(), x.count_at_value())).collect();
                prop_assert_eq!(got, want);
                for q in [0.0, 0.5, 0.95, 0.99, 1.0] {
                    prop_assert_eq!(h.value_at_quantile(q), direct.value_at_quantile(q));
                }
                prop_assert_eq!(h.mean().to_bits(), direct.mean().to_bits());
            }
        }
    }
}
