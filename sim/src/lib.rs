//! # clipsim-sim: the simulator around the reference engine
//!
//! A scenario file ([`scenario`]) describes a catalog, traffic, regions, a CDN, mirror policy,
//! health checks, outages, prices and targets. [`world::World`] builds the engine and the
//! in-memory [`standins`] (storage regions, CDN edge caches, inter-region links, probes) and
//! drives them with a discrete-event loop on simulated time, taking the demand lazily
//! ([`workload`]) from seeded streams, one per purpose ([`rng`]). [`record`] measures,
//! [`report`] writes `summary.json`, `timeseries.csv`, SVG charts, `report.md` and `report.html`; [`sweep`]
//! runs parameter sweeps, [`trace`] and [`mrc`] replay traces through the edge caches
//! ([`cache`]). The `clipsim` command line is the binary's (`src/cli`), not this crate's: the
//! library does no argument parsing, draws no progress bar and installs no signal handler
//! (long runs take a stop flag and report progress through a trait).
//!
//! Same scenario and seed give byte-identical outputs: simulated time only, seeded streams, a
//! portable software libm for every transcendental function, no hash-order iteration.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
// Input errors carry the file, position, key path and value; they are built once, on a cold path.
#![allow(clippy::result_large_err)]

pub mod analytic;
pub mod cache;
pub mod conformance;
pub mod mrc;
pub mod pricing;
pub mod record;
pub mod replicas;
pub mod report;
pub mod rng;
pub mod rollout;
pub mod scenario;
pub mod sensitivity;
pub mod standins;
pub mod sweep;
pub mod trace;
pub mod workload;
pub mod world;

use std::sync::atomic::AtomicBool;

/// Runs a scenario to its end with no progress display.
pub fn run_scenario(sc: scenario::Scenario) -> Result<world::RunResult, clipsim_engine::ConfigError> {
    let stop = AtomicBool::new(false);
    let sc = world::steady::settle(sc, &stop)?;
    let mut res = world::World::new(sc)?.run(&mut (), &stop);
    rollout::run_twin(&mut res, &stop)?;
    Ok(res)
}
