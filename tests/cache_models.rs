//! Simulated hit ratios against analytical models, N = 10,000 objects with Zipf popularity
//! (alpha 0.6, 0.8, 1.0) under the independent reference model: LRU against Che's
//! approximation, FIFO and RANDOM against their `lambda T / (1 + lambda T)` counterpart, and TTL
//! caches (timer set on a miss, timer reset on every hit) against their exact Poisson formulas.
//! Each simulated hit ratio must be within 0.01 of the model.

use clipsim_engine::{SimDuration, SimTime};
use clipsim_sim::analytic::{self, Model, Timer};
use clipsim_sim::cache::{AnyCache, EdgeCache, Policy};
use clipsim_sim::rng::{Purpose, Stream};
use clipsim_sim::workload::AliasTable;

const N: usize = 10_000;
const ALPHAS: [f64; 3] = [0.6, 0.8, 1.0];
const WARMUP: usize = 200_000;
const MEASURED: usize = 1_000_000;
const TOLERANCE: f64 = 0.01;

/// IRM requests (object ids) for a Zipf popularity.
fn requests(alpha: f64, seed: u64) -> (Vec<f64>, Vec<u32>) {
    let p = analytic::zipf(N, alpha);
    let table = AliasTable::new(&p);
    let mut rng = Stream::new(seed, Purpose::Clips);
    let reqs = (0..WARMUP + MEASURED).map(|_| table.sample(&mut rng)).collect();
    (p, reqs)
}

/// Hit ratio over the measured requests, every object of size 1.
fn simulate(policy: Policy, capacity: u64, reqs: &[u32]) -> f64 {
    let mut cache = AnyCache::new(policy, capacity);
    let mut hits = 0u64;
    for (i, &k) in reqs.iter().enumerate() {
        if cache.get(k, SimTime::ZERO) {
            if i >= WARMUP {
                hits += 1;
            }
        } else {
            cache.insert(k, 1, SimTime::NEVER);
        }
    }
    hits as f64 / (reqs.len() - WARMUP) as f64
}

#[test]
fn lru_fifo_and_random_match_their_approximations() {
    let mut worst = 0.0f64;
    for (a, alpha) in ALPHAS.into_iter().enumerate() {
        let (p, reqs) = requests(alpha, 100 + a as u64);
        for capacity in [50u64, 500, 2_000, 5_000] {
            for (policy, model) in
                [(Policy::Lru, Model::Lru), (Policy::Fifo, Model::Fifo), (Policy::Random, Model::Fifo)]
            {
                let sim = simulate(policy, capacity, &reqs);
                let want = analytic::capacity_model(model, &p, None, capacity as f64).hit_ratio;
                eprintln!("alpha {alpha} C {capacity:>5} {:<6}: simulated {sim:.4}, model {want:.4}", policy.name());
                worst = worst.max((sim - want).abs());
                assert!(
                    (sim - want).abs() <= TOLERANCE,
                    "{} alpha {alpha} capacity {capacity}: simulated {sim:.4}, model {want:.4}",
                    policy.name()
                );
            }
        }
    }
    eprintln!("largest difference: {worst:.4}");
}

#[test]
fn ttl_caches_match_their_poisson_formulas() {
    let rate = 1_000.0; // requests per second
    for (a, alpha) in ALPHAS.into_iter().enumerate() {
        let p = analytic::zipf(N, alpha);
        let table = AliasTable::new(&p);
        for (policy, timer) in [(Policy::Ttl, Timer::OnMiss), (Policy::TtlReset, Timer::Reset)] {
            for ttl_s in [1u64, 10, 60] {
                let ttl = SimDuration::from_secs(ttl_s);
                let mut clips = Stream::new(200 + a as u64, Purpose::Clips);
                let mut arrivals = Stream::new(200 + a as u64, Purpose::Arrivals);
                let mut cache = AnyCache::new(policy, u64::MAX);
                let mut t = 0.0f64;
                let mut hits = 0u64;
                for i in 0..WARMUP + MEASURED {
                    t += arrivals.exp1() / rate;
                    let now = SimTime((t * 1e6) as u64);
                    let k = table.sample(&mut clips);
                    if cache.get(k, now) {
                        if i >= WARMUP {
                            hits += 1;
                        }
                    } else {
                        cache.insert(k, 1, now + ttl);
                    }
                }
                let sim = hits as f64 / MEASURED as f64;
                let want = analytic::ttl_hit_ratio(timer, &p, rate, ttl_s as f64);
                eprintln!("alpha {alpha} TTL {ttl_s:>2}s {:<9}: simulated {sim:.4}, model {want:.4}", policy.name());
                assert!(
                    (sim - want).abs() <= TOLERANCE,
                    "{} alpha {alpha} ttl {ttl_s}s: simulated {sim:.4}, model {want:.4}",
                    policy.name()
                );
            }
        }
    }
}
