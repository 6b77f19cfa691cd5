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
        let n = weights.len();
        assert!(n > 0 && n < u32::MAX as usize, "validated: 1 to 2^32-1 weights");
        let total: f64 = weights.iter().sum();
        assert!(total > 0.0, "validated: weights not all zero");
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut keep = vec![u32::MAX; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
        for (i, &p) in scaled.iter().enumerate() {
            if p < 1.0 {
                small.push(i as u32);
            } else {
                large.push(i as u32);
            }
        }
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            keep[s as usize] = to_u32_fraction(scaled[s as usize]);
            alias[s as usize] = l;
            scaled[l as usize] = (scaled[l as usize] + scaled[s as usize]) - 1.0;
            if scaled[l as usize] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Leftovers are 1 up to rounding: always keep.
        AliasTable { columns: keep.into_iter().zip(alias).collect() }
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

/// Zipf weights `(k+1)^-alpha` for ranks `0..n`.
pub fn zipf_weights(n: usize, alpha: f64) -> Vec<f64> {
    (1..=n).map(|k| libm::pow(k as f64, -alpha)).collect()
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
    fn zero_weights_never_come_up() {
        let t = AliasTable::new(&[0.0, 1.0, 0.0]);
        let mut rng = Stream::new(1, Purpose::Clips);
        assert!((0..10_000).all(|_| t.sample(&mut rng) == 1));
    }
}
