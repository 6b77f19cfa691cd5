//! The synthetic workload of a scenario as a trace: the same arrivals (time, clip, geography)
//! the simulator serves, in the same order, with each clip's size, so that the very same
//! requests can be replayed by `clipsim replay` or another simulator.
//!
//! It drives the scenario's lazy [`Workload`] exactly as the world does: catalog sizes from the
//! catalog stream, uploads (on their schedule) and "new" spikes' clips from the upload stream,
//! with a spike start before an upload before an arrival at the same instant, and arrivals drawn
//! as far ahead as the world draws them (a spike start re-plans the arrivals drawn ahead). Nothing
//! else the world simulates (outages, mirrors, the CDN) changes which requests arrive; the test
//! `a_generated_trace_holds_the_requests_the_simulator_serves` checks the two agree.

use super::{CsvWriter, Format, OracleWriter, TraceError};
use crate::rng::Purpose;
use crate::scenario::{Scenario, SpikeClip};
use crate::workload::{ClipFactory, Workload};
use clipsim_engine::{SimDuration, SimTime};
use std::path::Path;

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
    workload: Workload,
    uploads: ClipFactory,
    sizes: Vec<u64>,
    /// ("new" spike start, spike index), in start then index order.
    spikes: Vec<(SimTime, usize)>,
    next_spike: usize,
    next_upload: SimTime,
    uploads_per_day: f64,
    end: SimTime,
}

impl Generator {
    /// The requests of `sc` from time 0 to its end (warm-up included).
    pub fn new(sc: &Scenario) -> Self {
        let mut catalog = ClipFactory::new(sc, Purpose::Catalog);
        let sizes = (0..sc.catalog.clips).map(|_| catalog.next_clip().0).collect();
        let mut uploads = ClipFactory::new(sc, Purpose::Uploads);
        let mut spikes: Vec<(SimTime, usize)> = sc
            .traffic
            .spikes
            .iter()
            .enumerate()
            .filter(|(_, s)| s.clip == SpikeClip::New)
            .map(|(i, s)| (s.start, i))
            .collect();
        spikes.sort();
        let next_upload = if sc.catalog.uploads_per_day > 0.0 {
            SimTime::ZERO + uploads.next_upload_gap(sc.catalog.uploads_per_day)
        } else {
            SimTime::NEVER
        };
        Generator {
            workload: Workload::new(sc),
            uploads,
            sizes,
            spikes,
            next_spike: 0,
            next_upload,
            uploads_per_day: sc.catalog.uploads_per_day,
            end: SimTime::ZERO + sc.duration,
        }
    }

    fn upload(&mut self, t: SimTime, fresh: bool) -> u32 {
        let (size, _primary) = self.uploads.next_clip();
        let clip = self.sizes.len() as u32;
        self.sizes.push(size);
        if fresh {
            self.workload.on_upload(t, clipsim_engine::ClipId(clip));
        }
        clip
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
            let arrival = self.workload.peek().time;
            let spike = self.spikes.get(self.next_spike).map_or(SimTime::NEVER, |s| s.0);
            let event = spike.min(self.next_upload);
            if event.min(arrival) >= self.end {
                return None;
            }
            if event <= arrival {
                if spike <= self.next_upload {
                    let i = self.spikes[self.next_spike].1;
                    self.next_spike += 1;
                    let clip = self.upload(spike, false);
                    self.workload.set_spike_clip(i, clipsim_engine::ClipId(clip), spike);
                } else {
                    let t = self.next_upload;
                    self.upload(t, true);
                    let gap = self.uploads.next_upload_gap(self.uploads_per_day);
                    self.next_upload = t + gap.max(SimDuration::from_micros(1));
                }
                continue;
            }
            let a = self.workload.pop();
            // The world draws ahead after each arrival it takes (to prefetch their state); a
            // spike start discards what was drawn ahead, so draw the same way.
            self.workload.peek_nth(crate::world::PREFETCH_FAR);
            return Some(Generated { time: a.time, clip: a.clip.0, size: self.sizes[a.clip.index()], geo: a.geo.0 });
        }
    }
}

/// What `trace generate` wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    /// Requests.
    pub requests: u64,
    /// Clips (catalog and uploads).
    pub clips: u64,
}

/// Writes the requests of `sc` to `path` in `format` (times in whole seconds), at most
/// `max_requests` of them. With `hash_ids`, object ids are SplitMix64 hashes of the clip ids
/// (scattered 64-bit numbers, as real traces' ids are) instead of the dense clip ids.
pub fn write_trace(
    sc: &Scenario,
    path: &Path,
    format: Format,
    max_requests: Option<u64>,
    hash_ids: bool,
) -> Result<Written, TraceError> {
    let id = |clip: u32| if hash_ids { crate::rng::splitmix64(u64::from(clip)) } else { u64::from(clip) };
    let mut g = Generator::new(sc);
    let limit = max_requests.unwrap_or(u64::MAX);
    let mut n = 0u64;
    match format {
        Format::OracleGeneral => {
            let mut w = OracleWriter::create(path)?;
            while n < limit {
                let Some(r) = g.next() else { break };
                w.write(r.time.as_secs(), id(r.clip), r.size)?;
                n += 1;
            }
            w.finish()?;
        }
        Format::Csv => {
            let mut w = CsvWriter::create(path, true)?;
            while n < limit {
                let Some(r) = g.next() else { break };
                w.write(r.time.as_secs(), id(r.clip), r.size, sc.geos.get(r.geo as usize).map(String::as_str))?;
                n += 1;
            }
            w.finish()?;
        }
    }
    Ok(Written { requests: n, clips: g.clips() as u64 })
}
