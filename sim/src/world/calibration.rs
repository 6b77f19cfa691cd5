//! Observed beside simulated: for a trace that carries the CDN's own cache results (an imported
//! access log), each request's real result and the simulated edge's, tallied per day and
//! geography after the warm-up (the real CDN was warm when the log began; the simulated one
//! starts cold). Only requests whose real result is a hit or a miss are compared.

use crate::trace::Observed;
use clipsim_engine::{SimDuration, SimTime};

/// One day and geography's tallies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    /// Requests compared (their real result a hit or a miss).
    pub requests: u64,
    /// Their bytes (each request weighs its clip's size on both sides).
    pub bytes: u64,
    /// Of them, real edge hits, and their bytes.
    pub observed_hits: u64,
    /// See `observed_hits`.
    pub observed_hit_bytes: u64,
    /// Of them, simulated edge hits, and their bytes.
    pub simulated_hits: u64,
    /// See `simulated_hits`.
    pub simulated_hit_bytes: u64,
}

impl Cell {
    /// Adds `other`'s tallies to these.
    pub fn add(&mut self, other: &Cell) {
        self.requests += other.requests;
        self.bytes += other.bytes;
        self.observed_hits += other.observed_hits;
        self.observed_hit_bytes += other.observed_hit_bytes;
        self.simulated_hits += other.simulated_hits;
        self.simulated_hit_bytes += other.simulated_hit_bytes;
    }
}

/// The tallies of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calibration {
    warmup: SimTime,
    geos: usize,
    /// `day * geos + geo`.
    pub cells: Vec<Cell>,
}

const DAY: SimDuration = SimDuration::from_days(1);

impl Calibration {
    /// Tallies for a run of `duration` with `geos` geographies, counting from `warmup`.
    pub fn new(warmup: SimTime, duration: SimDuration, geos: usize) -> Self {
        let days = duration.as_micros().div_ceil(DAY.as_micros()) as usize;
        Calibration { warmup, geos, cells: vec![Cell::default(); days.max(1) * geos] }
    }

    /// Geographies.
    pub fn geos(&self) -> usize {
        self.geos
    }

    /// Days.
    pub fn days(&self) -> usize {
        self.cells.len() / self.geos.max(1)
    }

    /// One request at `t` from `geo` of `bytes`, its real result `observed`, whether the
    /// simulated edge served it from its cache.
    #[inline]
    pub fn record(&mut self, t: SimTime, geo: usize, observed: u8, simulated_hit: bool, bytes: u64) {
        let hit = observed == Observed::Hit as u8;
        if t < self.warmup || !(hit || observed == Observed::Miss as u8) {
            return;
        }
        let day = (t.as_micros() / DAY.as_micros()) as usize;
        let Some(c) = self.cells.get_mut(day * self.geos + geo) else { return };
        c.requests += 1;
        c.bytes += bytes;
        if hit {
            c.observed_hits += 1;
            c.observed_hit_bytes += bytes;
        }
        if simulated_hit {
            c.simulated_hits += 1;
            c.simulated_hit_bytes += bytes;
        }
    }

    /// The cell of `day` and `geo`.
    pub fn cell(&self, day: usize, geo: usize) -> Cell {
        self.cells[day * self.geos + geo]
    }
}
