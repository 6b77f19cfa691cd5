//! Analytical hit ratios of caches under the independent reference model (IRM): requests are
//! independent draws, object `i` with probability `p_i` (a Poisson stream of rate
//! `lambda_i = rate * p_i` when time matters).
//!
//! * **LRU, Che's approximation** (Che, Tung and Wang, 2002): a cache of `C` objects behaves as
//!   if each object stayed for a fixed characteristic time `T` after its last request, where `T`
//!   solves `sum_i (1 - exp(-lambda_i T)) = C`; object `i` hits with probability
//!   `1 - exp(-lambda_i T)`.
//! * **FIFO and RANDOM** (Gelenbe 1973; Martina, Garetto and Leonardi, 2014): the same with
//!   `lambda_i T / (1 + lambda_i T)` in place of `1 - exp(-lambda_i T)` (the object stays a fixed
//!   time after the miss that brought it in, and the next request finds it with that
//!   probability).
//! * **TTL caches** (exact under Poisson requests): with the timer set on a miss, object `i`
//!   hits with probability `lambda_i T / (1 + lambda_i T)`; with the timer reset on every hit,
//!   `1 - exp(-lambda_i T)`.
//!
//! Capacity-driven models take time in units of requests (`lambda_i = p_i`); TTL models take a
//! request rate and a TTL in the same time unit. With sizes, capacity is in bytes
//! (`sum_i s_i h_i = C`) and a byte hit ratio comes too. Every transcendental function is the
//! portable `libm` one, so results are the same bits everywhere.

/// Which approximation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// LRU (Che's approximation).
    Lru,
    /// FIFO, and RANDOM (same formula).
    Fifo,
}

/// Which timer a TTL cache has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// Set on a miss, untouched by hits.
    OnMiss,
    /// Reset on every hit.
    Reset,
}

/// A model's answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    /// Hits / requests.
    pub hit_ratio: f64,
    /// Bytes hit / bytes requested (equal to `hit_ratio` without sizes).
    pub byte_hit_ratio: f64,
    /// The characteristic time (requests for capacity models; the TTL for TTL models);
    /// infinite when everything fits.
    pub t: f64,
    /// Expected objects held.
    pub objects: f64,
    /// Expected bytes held (objects without sizes).
    pub bytes: f64,
}

/// Zipf popularity over `n` objects: `p_k` proportional to `k^-alpha`, `k = 1..n`, summing to 1.
pub fn zipf(n: usize, alpha: f64) -> Vec<f64> {
    let w = crate::workload::zipf_weights(n, alpha);
    let total: f64 = w.iter().sum();
    w.into_iter().map(|x| x / total).collect()
}

/// Probability that an object of request rate `lambda` is found cached, given the
/// characteristic time (capacity models) or TTL (TTL models) `t`.
#[inline]
pub fn object_hit(shape: Shape, lambda: f64, t: f64) -> f64 {
    if t.is_infinite() {
        return if lambda > 0.0 { 1.0 } else { 0.0 };
    }
    let x = lambda * t;
    match shape {
        Shape::Exp => -libm::expm1(-x),
        Shape::Rational => x / (1.0 + x),
    }
}

/// The two hit-probability shapes the models use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `1 - exp(-lambda T)`: LRU, TTL reset on hit.
    Exp,
    /// `lambda T / (1 + lambda T)`: FIFO, RANDOM, TTL set on miss.
    Rational,
}

impl Model {
    fn shape(self) -> Shape {
        match self {
            Model::Lru => Shape::Exp,
            Model::Fifo => Shape::Rational,
        }
    }
}

impl Timer {
    fn shape(self) -> Shape {
        match self {
            Timer::OnMiss => Shape::Rational,
            Timer::Reset => Shape::Exp,
        }
    }
}

fn weighted(shape: Shape, p: &[f64], sizes: Option<&[f64]>, rate: f64, t: f64) -> Prediction {
    let (mut hit, mut byte_hit, mut byte_req, mut objects, mut bytes) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &pi) in p.iter().enumerate() {
        let s = sizes.map_or(1.0, |s| s[i]);
        let h = object_hit(shape, rate * pi, t);
        hit += pi * h;
        byte_hit += pi * s * h;
        byte_req += pi * s;
        objects += h;
        bytes += s * h;
    }
    Prediction {
        hit_ratio: hit,
        byte_hit_ratio: if byte_req > 0.0 { byte_hit / byte_req } else { 0.0 },
        t,
        objects,
        bytes,
    }
}

/// Hit ratios of a cache of `capacity` objects (bytes, with `sizes`) under `model`, for
/// popularities `p` (summing to 1).
///
/// Solves `sum_i s_i h_i(T) = capacity` for `T` by Newton's method from `T = 0` (the left side is
/// increasing and concave in `T`, so the iterates rise monotonically to the root).
pub fn capacity_model(model: Model, p: &[f64], sizes: Option<&[f64]>, capacity: f64) -> Prediction {
    let shape = model.shape();
    let total: f64 = match sizes {
        Some(s) => s.iter().zip(p).filter(|(_, &pi)| pi > 0.0).map(|(s, _)| *s).sum(),
        None => p.iter().filter(|&&pi| pi > 0.0).count() as f64,
    };
    if capacity >= total {
        return weighted(shape, p, sizes, 1.0, f64::INFINITY);
    }
    if capacity <= 0.0 {
        return weighted(shape, p, sizes, 1.0, 0.0);
    }
    let mut t = 0.0f64;
    for _ in 0..200 {
        let (mut f, mut df) = (-capacity, 0.0);
        for (i, &pi) in p.iter().enumerate() {
            let s = sizes.map_or(1.0, |s| s[i]);
            let x = pi * t;
            match shape {
                Shape::Exp => {
                    let e = libm::exp(-x);
                    f += s * (1.0 - e);
                    df += s * pi * e;
                }
                Shape::Rational => {
                    f += s * x / (1.0 + x);
                    df += s * pi / ((1.0 + x) * (1.0 + x));
                }
            }
        }
        if df <= 0.0 {
            break;
        }
        let step = -f / df;
        t += step;
        if step.abs() <= 1e-12 * t.max(1.0) {
            break;
        }
    }
    weighted(shape, p, sizes, 1.0, t)
}

/// LRU hit ratio of a cache of `capacity` objects, by Che's approximation.
pub fn lru_hit_ratio(p: &[f64], capacity: f64) -> f64 {
    capacity_model(Model::Lru, p, None, capacity).hit_ratio
}

/// FIFO (and RANDOM) hit ratio of a cache of `capacity` objects.
pub fn fifo_hit_ratio(p: &[f64], capacity: f64) -> f64 {
    capacity_model(Model::Fifo, p, None, capacity).hit_ratio
}

/// Hit ratios of an unbounded TTL cache: requests at `rate` per time unit split by `p`, a TTL
/// of `ttl` time units.
pub fn ttl_model(timer: Timer, p: &[f64], sizes: Option<&[f64]>, rate: f64, ttl: f64) -> Prediction {
    weighted(timer.shape(), p, sizes, rate, ttl)
}

/// Hit ratio of an unbounded TTL cache (see [`ttl_model`]).
pub fn ttl_hit_ratio(timer: Timer, p: &[f64], rate: f64, ttl: f64) -> f64 {
    ttl_model(timer, p, None, rate, ttl).hit_ratio
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_characteristic_time_fills_the_cache() {
        let p = zipf(1000, 0.8);
        for model in [Model::Lru, Model::Fifo] {
            for c in [1.0, 10.0, 100.0, 999.0] {
                let pr = capacity_model(model, &p, None, c);
                assert!((pr.objects - c).abs() < 1e-6 * c, "{model:?} {c}: {}", pr.objects);
                assert!(pr.hit_ratio > 0.0 && pr.hit_ratio < 1.0);
            }
            assert!((capacity_model(model, &p, None, 1000.0).hit_ratio - 1.0).abs() < 1e-12);
        }
        // More room, more hits; LRU beats FIFO under IRM.
        assert!(lru_hit_ratio(&p, 100.0) > lru_hit_ratio(&p, 50.0));
        assert!(lru_hit_ratio(&p, 100.0) > fifo_hit_ratio(&p, 100.0));
    }

    #[test]
    fn sizes_weight_bytes() {
        let p = [0.5, 0.5];
        let pr = capacity_model(Model::Lru, &p, Some(&[1.0, 3.0]), 2.0);
        assert!((pr.bytes - 2.0).abs() < 1e-9);
        assert!(pr.byte_hit_ratio < pr.hit_ratio + 1e-12);
    }

    #[test]
    fn ttl_formulas() {
        let p = [1.0];
        let on_miss = ttl_hit_ratio(Timer::OnMiss, &p, 2.0, 3.0);
        assert!((on_miss - 6.0 / 7.0).abs() < 1e-12);
        let reset = ttl_hit_ratio(Timer::Reset, &p, 2.0, 3.0);
        assert!((reset - (1.0 - (-6.0f64).exp())).abs() < 1e-12);
    }
}
