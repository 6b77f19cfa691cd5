//! Seeded random streams, one per purpose.
//!
//! Each purpose (arrival times, geographies, clip choice, votes, sizes, uploads, faults) draws
//! from its own PCG stream, seeded from the scenario's master seed and the purpose's name with
//! SplitMix64. One more draw in one place therefore never shifts any other result. Floating-point
//! transforms use the `libm` crate (a portable software libm), so every machine computes the same
//! bits.

use rand::RngCore;
use rand_pcg::Pcg64Mcg;

/// What a stream is for. Adding a purpose never changes the other streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Catalog clip sizes and primary regions.
    Catalog,
    /// Arrival times.
    Arrivals,
    /// Viewer geographies.
    Geos,
    /// Which clip a view is for.
    Clips,
    /// Votes.
    Votes,
    /// Uploads over time.
    Uploads,
    /// Failures of degraded targets.
    Faults,
    /// Viewer throughput of each request.
    Network,
    /// Which catalog clip a catalog view picks (the Zipf draw).
    CatalogPicks,
    /// A catalog's past views (`catalog.history`).
    History,
    /// Background failures (`[failures]`).
    Failures,
    /// The bootstrap traces of `clipsim trace fit`.
    Fit,
    /// Which arm of a rollout a view is in (`[rollout]`, `unit = "viewers"`).
    Rollout,
}

impl Purpose {
    fn tag(self) -> u64 {
        // Stable tags: never renumber.
        match self {
            Purpose::Catalog => 1,
            Purpose::Arrivals => 2,
            Purpose::Geos => 3,
            Purpose::Clips => 4,
            Purpose::Votes => 5,
            Purpose::Uploads => 6,
            Purpose::Faults => 7,
            Purpose::Network => 8,
            Purpose::CatalogPicks => 9,
            Purpose::History => 10,
            Purpose::Failures => 11,
            Purpose::Fit => 12,
            Purpose::Rollout => 13,
        }
    }
}

/// SplitMix64's finaliser.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A random stream.
#[derive(Clone, Debug)]
pub struct Stream(Pcg64Mcg);

impl Stream {
    /// The stream for `purpose` under `seed`.
    pub fn new(seed: u64, purpose: Purpose) -> Self {
        let a = splitmix64(seed ^ splitmix64(purpose.tag()));
        let b = splitmix64(a ^ 0xD1B5_4A32_D192_ED03);
        Stream(Pcg64Mcg::new((u128::from(a) << 64) | u128::from(b) | 1))
    }

    /// The generator, for samplers of `rand_distr`.
    pub fn rng(&mut self) -> &mut impl rand::Rng {
        &mut self.0
    }

    /// A uniform `u64`.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1), 53 bits.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1].
    #[inline]
    pub fn unit_open0(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// Exponential with mean 1.
    #[inline]
    pub fn exp1(&mut self) -> f64 {
        -libm::log(self.unit_open0())
    }

    /// Standard normal (Box-Muller; one value per call, for determinism and simplicity).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit_open0();
        let u2 = self.unit();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
    }

    /// A pair of independent standard normals (Marsaglia's polar method: one logarithm and one
    /// square root per pair, no trigonometry).
    pub fn normal_pair(&mut self) -> (f64, f64) {
        loop {
            let x = 2.0 * self.unit() - 1.0;
            let y = 2.0 * self.unit() - 1.0;
            let s = x * x + y * y;
            if s > 0.0 && s < 1.0 {
                let f = libm::sqrt(-2.0 * libm::log(s) / s);
                return (x * f, y * f);
            }
        }
    }

    /// Uniform integer in [0, n) (Lemire's multiply-shift; n > 0).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let mut a = Stream::new(42, Purpose::Arrivals);
        let mut b = Stream::new(42, Purpose::Arrivals);
        let mut c = Stream::new(42, Purpose::Geos);
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..4).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(xs, (0..4).map(|_| c.next_u64()).collect::<Vec<_>>());
    }

    #[test]
    fn known_values_pin_the_algorithm() {
        // If this changes, every golden output changes: it must not, across machines.
        let mut s = Stream::new(1, Purpose::Catalog);
        let first = s.next_u64();
        let mut again = Stream::new(1, Purpose::Catalog);
        assert_eq!(first, again.next_u64());
        let mean: f64 = (0..100_000).map(|_| s.exp1()).sum::<f64>() / 100_000.0;
        assert!((mean - 1.0).abs() < 0.02, "{mean}");
        let below: Vec<u64> = (0..1000).map(|_| s.below(7)).collect();
        assert!(below.iter().all(|&x| x < 7));
    }
}

/// Exponential(1) by the ziggurat method (Marsaglia and Tsang, 2000, with 256 layers): one
/// 64-bit draw and a table lookup almost always, a logarithm only in the rare tail and wedges.
/// The tables are built once with the portable `libm`, so every machine draws the same values.
#[derive(Clone, Debug)]
pub struct ExpZiggurat {
    ke: [u32; 256],
    we: [f64; 256],
    fe: [f64; 256],
}

impl Default for ExpZiggurat {
    fn default() -> Self {
        Self::new()
    }
}

impl ExpZiggurat {
    const R: f64 = 7.697_117_470_131_05;
    const V: f64 = 3.949_659_822_581_557e-3;

    /// Builds the tables.
    pub fn new() -> Self {
        let m = 4_294_967_296.0_f64;
        let mut ke = [0u32; 256];
        let mut we = [0f64; 256];
        let mut fe = [0f64; 256];
        let mut de = Self::R;
        let mut te = de;
        let q = Self::V / libm::exp(-de);
        ke[0] = ((de / q) * m) as u32;
        ke[1] = 0;
        we[0] = q / m;
        we[255] = de / m;
        fe[0] = 1.0;
        fe[255] = libm::exp(-de);
        for i in (1..=254).rev() {
            de = -libm::log(Self::V / de + libm::exp(-de));
            ke[i + 1] = ((de / te) * m) as u32;
            te = de;
            fe[i] = libm::exp(-de);
            we[i] = de / m;
        }
        ExpZiggurat { ke, we, fe }
    }

    /// One Exponential(1) value.
    #[inline]
    pub fn sample(&self, rng: &mut Stream) -> f64 {
        loop {
            let u = rng.next_u64();
            let iz = (u & 255) as usize;
            let jz = (u >> 32) as u32;
            let x = f64::from(jz) * self.we[iz];
            if jz < self.ke[iz] {
                return x;
            }
            if iz == 0 {
                // The tail beyond R: R plus a fresh exponential (memorylessness).
                return Self::R - libm::log(rng.unit_open0());
            }
            if self.fe[iz] + rng.unit() * (self.fe[iz - 1] - self.fe[iz]) < libm::exp(-x) {
                return x;
            }
        }
    }
}

#[cfg(test)]
mod ziggurat_tests {
    use super::*;

    #[test]
    fn ziggurat_exponential_has_the_right_moments_and_quantiles() {
        let z = ExpZiggurat::new();
        let mut rng = Stream::new(3, Purpose::Arrivals);
        let n = 400_000;
        let xs: Vec<f64> = (0..n).map(|_| z.sample(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
        // P(X > x) = exp(-x) at a few points, including the tail beyond the base layer.
        for x in [0.1, 0.5, 1.0, 2.0, 4.0, 8.0] {
            let p = xs.iter().filter(|&&v| v > x).count() as f64 / n as f64;
            let want = libm::exp(-x);
            assert!((p - want).abs() < 0.003 + want * 0.05, "P(X > {x}) = {p}, want {want}");
        }
        assert!(xs.iter().all(|&x| x >= 0.0 && x.is_finite()));
    }
}
