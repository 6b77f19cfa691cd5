//! The uploads so far, indexed by time so that a fresh-clip view finds "the latest upload at or
//! before time T" by reading one cache line.
//!
//! Time is cut into buckets of a fixed length (about [`super::UPLOADS_PER_BUCKET`] mean gaps
//! between uploads). Each bucket is one 64-byte record: the latest upload before the bucket, then
//! the times and clips of the bucket's first [`SLOTS`] uploads. A bucket with more uploads than
//! that (rare: uploads are a Poisson process) is answered by a binary search over the full list.

use clipsim_engine::{ClipId, SimTime};

/// Uploads a bucket record holds inline.
const SLOTS: usize = 7;
/// "No upload" in a bucket record.
const NONE: u32 = u32::MAX;

/// One bucket: fills one cache line.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct Bucket {
    /// The latest upload before the bucket's start, or [`NONE`].
    before: u32,
    /// Uploads in the bucket (more than [`SLOTS`]: only the first ones are inline).
    len: u32,
    /// Their times, microseconds after the bucket's start (a bucket is at most an hour long).
    offset_us: [u32; SLOTS],
    /// Their clips.
    clip: [u32; SLOTS],
}

/// The uploads, in time order.
#[derive(Debug)]
pub(super) struct Uploads {
    /// Every upload (time, clip), for buckets past [`SLOTS`] uploads.
    all: Vec<(SimTime, ClipId)>,
    /// A record per bucket, up to the last upload's bucket.
    buckets: Vec<Bucket>,
    bucket_us: u64,
}

impl Uploads {
    /// No uploads yet; buckets of `bucket_us`, at least 1 µs and at most `u32::MAX` µs (the
    /// workload uses 1 ms to 1 hour).
    pub(super) fn new(bucket_us: u64) -> Self {
        assert!((1..=u64::from(u32::MAX)).contains(&bucket_us), "a bucket's offsets fit in u32");
        Uploads { all: Vec::new(), buckets: Vec::new(), bucket_us }
    }

    /// Whether there are none.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// Adds an upload at `t`, not before the previous one.
    pub(super) fn push(&mut self, t: SimTime, clip: ClipId) {
        debug_assert!(self.all.last().is_none_or(|&(u, _)| u <= t));
        let b = (t.as_micros() / self.bucket_us) as usize;
        let latest = self.all.last().map_or(NONE, |&(_, c)| c.0);
        while self.buckets.len() <= b {
            self.buckets.push(Bucket { before: latest, len: 0, offset_us: [0; SLOTS], clip: [NONE; SLOTS] });
        }
        let bucket = &mut self.buckets[b];
        let i = bucket.len as usize;
        if i < SLOTS {
            bucket.offset_us[i] = (t.as_micros() - b as u64 * self.bucket_us) as u32;
            bucket.clip[i] = clip.0;
        }
        bucket.len += 1;
        self.all.push((t, clip));
    }

    /// The latest upload at or before `target_us`, if any.
    #[inline]
    pub(super) fn latest_at(&self, target_us: u64) -> Option<ClipId> {
        let b = (target_us / self.bucket_us) as usize;
        let Some(bucket) = self.buckets.get(b) else {
            // Past the last upload's bucket: every upload is before.
            return self.all.last().map(|&(_, c)| c);
        };
        if bucket.len as usize > SLOTS {
            let i = self.all.partition_point(|&(u, _)| u.as_micros() <= target_us);
            return i.checked_sub(1).map(|i| self.all[i].1);
        }
        let offset = (target_us - b as u64 * self.bucket_us) as u32;
        let at_or_before = bucket.offset_us[..bucket.len as usize].iter().filter(|&&o| o <= offset).count();
        let clip = if at_or_before == 0 { bucket.before } else { bucket.clip[at_or_before - 1] };
        (clip != NONE).then_some(ClipId(clip))
    }

    /// Hints that [`Uploads::latest_at`] will be asked about `target_us` soon. Performance only.
    #[inline]
    pub(super) fn prefetch_at(&self, target_us: u64) {
        if let Some(bucket) = self.buckets.get((target_us / self.bucket_us) as usize) {
            clipsim_engine::hint::prefetch(bucket);
        }
    }

    /// Heap bytes held.
    pub(super) fn heap_bytes(&self) -> usize {
        self.all.capacity() * std::mem::size_of::<(SimTime, ClipId)>()
            + self.buckets.capacity() * std::mem::size_of::<Bucket>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};

    #[test]
    fn a_bucket_record_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Bucket>(), 64);
    }

    #[test]
    fn the_buckets_find_what_a_full_search_finds() {
        for bucket_us in [1, 1_000, 8_640_000, 3_600_000_000] {
            let mut u = Uploads::new(bucket_us);
            assert_eq!(u.latest_at(0), None);
            let mut rng = Stream::new(7, Purpose::Uploads);
            let mut t = 5 * bucket_us + 17;
            for clip in 0..2_000 {
                // Gaps from 0 (several uploads in one instant, buckets past SLOTS) to several
                // empty buckets; clips with gaps, as spike clips leave.
                t += match rng.below(4) {
                    0 => 0,
                    1 => rng.below(bucket_us / 10 + 1),
                    2 => rng.below(bucket_us),
                    _ => rng.below(7 * bucket_us),
                };
                u.push(SimTime(t), ClipId(clip * 2 + (clip % 3)));
            }
            assert!(u.buckets.iter().any(|b| b.len as usize > SLOTS), "the overflow path is exercised");
            let full = |target: u64| {
                let i = u.all.partition_point(|&(at, _)| at.as_micros() <= target);
                i.checked_sub(1).map(|i| u.all[i].1)
            };
            let mut targets: Vec<u64> =
                u.all.iter().flat_map(|&(at, _)| [at.as_micros() - 1, at.as_micros(), at.as_micros() + 1]).collect();
            targets.extend([0, 1, t + 1, t + 100 * bucket_us]);
            targets.extend((0..5_000).map(|_| rng.below(t + 10 * bucket_us)));
            for target in targets {
                assert_eq!(u.latest_at(target), full(target), "bucket {bucket_us} µs, target {target}");
            }
        }
    }
}
