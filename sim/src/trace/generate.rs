//! The synthetic workload of a scenario as a trace: the same arrivals (time, clip, geography)
//! the simulator serves, in the same order, with each clip's size, so that the very same
//! requests can be replayed by `clipsim replay` or another simulator.
//!
//! It takes them from the scenario's [`Demand`], the driver the world uses too: catalog sizes
//! from the catalog stream, uploads (on their schedule) and "new" spikes' clips from the upload
//! stream, a spike start before an upload before a view at the same instant. Nothing else the
//! world simulates (outages, mirrors, the CDN) changes which requests arrive; the test
//! `a_generated_trace_holds_the_requests_the_simulator_serves` checks the two agree.

use super::{CsvWriter, Format, OracleWriter, TraceError};
use crate::report::StagedFile;
use crate::rng::Purpose;
use crate::scenario::Scenario;
use crate::workload::{ClipFactory, Demand, Next};
use clipsim_engine::{ClipId, SimTime};
use std::sync::atomic::{AtomicBool, Ordering};

/// Requests written between two looks at the stop flag (a few milliseconds of work).
const STOP_CHECK_REQUESTS: u64 = 1 << 14;

/// One generated request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generated {
    /// When.
    pub time: SimTime,
    /// Which clip (dense: catalog clips first, then uploads in upload order).
    pub clip: u32,
    /// Its size in bytes.
    pub size: u64,
    /// The viewer's geography (index into the scenario's geographies).
    pub geo: u32,
}

/// The requests of a scenario, lazily.
pub struct Generator {
    demand: Demand,
    sizes: Vec<u64>,
    end: SimTime,
}

impl Generator {
    /// The requests of `sc` from time 0 to its end (warm-up included).
    pub fn new(sc: &Scenario) -> Self {
        let mut catalog = ClipFactory::new(sc, Purpose::Catalog);
        let sizes = (0..sc.catalog.clips).map(|_| catalog.next_clip().0).collect();
        Generator { demand: Demand::new(sc), sizes, end: SimTime::ZERO + sc.duration }
    }

    fn add_clip(&mut self, size: u64) -> ClipId {
        self.sizes.push(size);
        ClipId(self.sizes.len() as u32 - 1)
    }

    /// Clips known so far (catalog and uploads).
    pub fn clips(&self) -> usize {
        self.sizes.len()
    }
}

impl Iterator for Generator {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        loop {
            let (t, next) = self.demand.next(self.end)?;
            match next {
                Next::SpikeStart(i) => {
                    let (size, _primary) = self.demand.take_spike_clip();
                    let clip = self.add_clip(size);
                    self.demand.spike_clip_uploaded(i, clip);
                }
                Next::Upload => {
                    let (size, _primary) = self.demand.take_upload();
                    let clip = self.add_clip(size);
                    self.demand.uploaded(t, clip);
                }
                Next::View => {
                    let a = self.demand.take_view();
                    let size = self.sizes[a.clip.index()];
                    return Some(Generated { time: a.time, clip: a.clip.0, size, geo: a.geo.0 });
                }
            }
        }
    }
}

/// What `trace generate` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenerateOptions {
    /// The format.
    pub format: Format,
    /// At most this many requests.
    pub max_requests: Option<u64>,
    /// Object ids are SplitMix64 hashes of the clip ids (scattered 64-bit numbers, as real
    /// traces' ids are) instead of the dense clip ids.
    pub hash_ids: bool,
}

/// What `trace generate` wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    /// Requests.
    pub requests: u64,
    /// Clips (catalog and uploads).
    pub clips: u64,
    /// Stopped by `stop` before the end: the file is incomplete (not to be committed).
    pub interrupted: bool,
}

/// Writes the requests of `sc` into `out` as `opts` say (times in whole seconds), until the
/// end, `max_requests` or `stop` (looked at every few thousand requests). The caller commits
/// `out` when the result is not interrupted; an error or an interruption leaves the destination
/// as it was once `out` is dropped.
pub fn write_trace(
    sc: &Scenario,
    out: &mut StagedFile,
    opts: &GenerateOptions,
    stop: &AtomicBool,
) -> Result<Written, TraceError> {
    let hash_ids = opts.hash_ids;
    let id = |clip: u32| if hash_ids { crate::rng::splitmix64(u64::from(clip)) } else { u64::from(clip) };
    let mut g = Generator::new(sc);
    let limit = opts.max_requests.unwrap_or(u64::MAX);
    let mut n = 0u64;
    let mut interrupted = false;
    // Whether to go on after `n` requests: below the limit, not stopped.
    let mut go_on = |n: u64| {
        interrupted = n > 0 && n.is_multiple_of(STOP_CHECK_REQUESTS) && stop.load(Ordering::Relaxed);
        n < limit && !interrupted
    };
    match opts.format {
        Format::OracleGeneral => {
            let mut w = OracleWriter::create_staged(out)?;
            while go_on(n) {
                let Some(r) = g.next() else { break };
                w.write(r.time.as_secs(), id(r.clip), r.size)?;
                n += 1;
            }
            if !interrupted {
                w.finish()?;
            }
        }
        Format::Csv => {
            let mut w = CsvWriter::create_staged(out, true)?;
            while go_on(n) {
                let Some(r) = g.next() else { break };
                w.write(r.time.as_secs(), id(r.clip), r.size, sc.geos.get(r.geo as usize).map(String::as_str))?;
                n += 1;
            }
            if !interrupted {
                w.finish()?;
            }
        }
    }
    Ok(Written { requests: n, clips: g.clips() as u64, interrupted })
}
