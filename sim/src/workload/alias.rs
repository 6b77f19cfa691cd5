//! Walker's alias method (Vose's construction): O(1) sampling from a fixed discrete distribution.

use crate::rng::Stream;

/// An alias table over `0..n`.
#[derive(Clone, Debug)]
pub struct AliasTable {
    /// Per column: the probability of keeping it (scaled to 2^32) and its alias, side by side so
    /// that a sample touches one cache line.
    columns: Vec<(u32, u32)>,
}

impl AliasTable {
    /// A table for `weights` (non-negative, not all zero, at most `u32::MAX` of them).
    pub fn new(weights: &[f64]) -> Self {
        Self::from_weights(weights.to_vec())
    }

    /// A table for `weights`, reusing their buffer for the construction (peak memory: the
    /// weights, the table and one worklist of `u32`).
    pub fn from_weights(mut scaled: Vec<f64>) -> Self {
        let n = scaled.len();
        assert!(n > 0 && n < u32::MAX as usize, "validated: 1 to 2^32-1 weights");
        let total: f64 = scaled.iter().sum();
        assert!(total > 0.0, "validated: weights not all zero");
        for w in &mut scaled {
            *w *= n as f64 / total;
        }
        let mut columns: Vec<(u32, u32)> = (0..n as u32).map(|i| (u32::MAX, i)).collect();
        // One worklist: small columns grow from the front, large ones from the back.
        let mut work = vec![0u32; n];
        let (mut small, mut large) = (0usize, n);
        for (i, &p) in scaled.iter().enumerate() {
            if p < 1.0 {
                work[small] = i as u32;
                small += 1;
            } else {
                large -= 1;
                work[large] = i as u32;
            }
        }
        while small > 0 && large < n {
            small -= 1;
            let s = work[small] as usize;
            let l = work[large] as usize;
            columns[s] = (to_u32_fraction(scaled[s]), l as u32);
            scaled[l] = (scaled[l] + scaled[s]) - 1.0;
            if scaled[l] < 1.0 {
                large += 1;
                work[small] = l as u32;
                small += 1;
            }
        }
        // Leftovers are 1 up to rounding: always keep.
        AliasTable { columns }
    }

    /// Number of outcomes.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether there are no outcomes (never: construction needs one).
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// One sample, from one 64-bit draw.
    #[inline]
    pub fn sample(&self, rng: &mut Stream) -> u32 {
        self.sample_with(rng.next_u64())
    }

    /// Hints that `x` will be passed to [`AliasTable::sample_with`] soon.
    #[inline]
    pub fn prefetch_for(&self, x: u64) {
        let i = (((x >> 32) * self.columns.len() as u64) >> 32) as usize;
        if let Some(c) = self.columns.get(i) {
            clipsim_engine::hint::prefetch(c);
        }
    }

    /// The sample that the 64-bit draw `x` selects.
    #[inline]
    pub fn sample_with(&self, x: u64) -> u32 {
        let i = (((x >> 32) * self.columns.len() as u64) >> 32) as usize;
        let (keep, alias) = self.columns[i];
        if (x as u32) < keep {
            i as u32
        } else {
            alias
        }
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.columns.capacity() * 8
    }
}

fn to_u32_fraction(p: f64) -> u32 {
    (p.clamp(0.0, 1.0) * 4_294_967_296.0).min(u32::MAX as f64) as u32
}

/// Ranks below this get an exact `pow`; above it, blocks of [`ZIPF_BLOCK`] ranks are
/// interpolated geometrically between exact values at the block ends.
const ZIPF_EXACT_BELOW: usize = 4096;
const ZIPF_BLOCK: usize = 64;

/// Zipf weights `(k+1)^-alpha` for ranks `0..n`.
///
/// A `pow` per rank dominates the start-up of a large catalog, so beyond rank 4,096 the weight
/// is interpolated geometrically within blocks of 64 ranks between exact end points. Because
/// `ln w` is smooth there (its second derivative is `alpha / k^2`), the relative error is below
/// `alpha * 64^2 / (8 * 4096^2)`, about 2.4e-5 for alpha = 0.8: far below sampling noise.
pub fn zipf_weights(n: usize, alpha: f64) -> Vec<f64> {
    let exact = |k: usize| libm::pow(k as f64, -alpha);
    let mut w = Vec::with_capacity(n);
    w.extend((1..=n.min(ZIPF_EXACT_BELOW)).map(exact));
    let mut k = ZIPF_EXACT_BELOW + 1;
    while k <= n {
        let end = (k + ZIPF_BLOCK).min(n + 1);
        let (wa, wb) = (exact(k), exact(end));
        let ratio = libm::exp(libm::log(wb / wa) / (end - k) as f64);
        let mut x = wa;
        for _ in k..end {
            w.push(x);
            x *= ratio;
        }
        k = end;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Purpose;

    #[test]
    fn samples_follow_the_weights() {
        let w = [1.0, 2.0, 3.0, 4.0];
        let t = AliasTable::new(&w);
        let mut rng = Stream::new(7, Purpose::Clips);
        let mut counts = [0u32; 4];
        let n = 400_000;
        for _ in 0..n {
            counts[t.sample(&mut rng) as usize] += 1;
        }
        for (i, &c) in counts.iter().enumerate() {
            let expected = w[i] / 10.0;
            let got = f64::from(c) / f64::from(n);
            assert!((got - expected).abs() < 0.005, "outcome {i}: {got} vs {expected}");
        }
    }

    #[test]
    fn interpolated_zipf_weights_stay_within_their_bound() {
        let n = 200_000;
        for alpha in [0.6, 0.8, 1.0] {
            let w = zipf_weights(n, alpha);
            assert_eq!(w.len(), n);
            let worst = w
                .iter()
                .enumerate()
                .map(|(i, &x)| (x / libm::pow((i + 1) as f64, -alpha) - 1.0).abs())
                .fold(0.0f64, f64::max);
            assert!(worst < alpha * 64.0 * 64.0 / (8.0 * 4096.0 * 4096.0) * 1.01, "alpha {alpha}: {worst}");
        }
    }

    #[test]
    fn zero_weights_never_come_up() {
        let t = AliasTable::new(&[0.0, 1.0, 0.0]);
        let mut rng = Stream::new(1, Purpose::Clips);
        assert!((0..10_000).all(|_| t.sample(&mut rng) == 1));
    }
}
