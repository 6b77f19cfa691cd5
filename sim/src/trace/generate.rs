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

/// What `trace generate` writes: a trace, or an access log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// A trace of this format.
    Trace(Format),
    /// A CloudFront standard log (W3C, tab-separated, every published field), for `trace
    /// import`: see [`write_trace`].
    CloudFrontLog,
}

impl Output {
    /// Its name, as `--format` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Output::Trace(f) => f.name(),
            Output::CloudFrontLog => "cloudfront",
        }
    }
}

/// The trace time (Unix seconds) of a log's time 0: 2026-01-01T00:00:00Z, a UTC midnight, so
/// that a run of the imported log starts at the same time as the scenario's (see
/// [`crate::workload::trace`]).
pub const LOG_EPOCH_S: u64 = 1_767_225_600;

/// What `trace generate` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenerateOptions {
    /// The format.
    pub format: Output,
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
///
/// A CloudFront log holds what such a log can: the time (from [`LOG_EPOCH_S`]) in whole seconds,
/// the edge location (the alphabetically first of the request's geography in `geo_table`, which must have one
/// for every geography of the scenario), a `GET` of `/clips/ID.mp4` answered `200` with the
/// clip's size in bytes; the CDN's result is `-` (a synthetic workload has none). Importing it
/// with `--geo-table` the same table gives the requests back with clips renumbered by first
/// appearance, which is how a run numbers them anyway.
pub fn write_trace(
    sc: &Scenario,
    out: &mut StagedFile,
    opts: &GenerateOptions,
    geo_table: &super::import::GeoTable,
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
        Output::CloudFrontLog => {
            let edges = sc
                .geos
                .iter()
                .map(|g| {
                    geo_table.first_edge(g).map(|e| format!("{e}50-C1")).ok_or_else(|| {
                        TraceError::file(
                            out.dest(),
                            format!(
                                "an edge location for geography `{g}` in the geography table ([edges] {g} = [...])"
                            ),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut w = CsvWriter::create_staged_text(out, CLOUDFRONT_HEADER)?;
            let mut day = u64::MAX;
            let mut date = String::new();
            while go_on(n) {
                let Some(r) = g.next() else { break };
                let t = LOG_EPOCH_S + r.time.as_secs();
                if t / 86_400 != day {
                    day = t / 86_400;
                    date = crate::report::format::civil_date(day);
                }
                let (h, m, sec) = (t % 86_400 / 3600, t % 3600 / 60, t % 60);
                w.write_line(format_args!(
                    "{date}\t{h:02}:{m:02}:{sec:02}\t{edge}\t{size}\t192.0.2.1\tGET\td111111abcdef8.cloudfront.net\t\
                     /clips/{id}.mp4\t200\t-\tclipsim\t-\t-\t-\treq{n}\tclips.example.com\thttps\t100\t0.100\t-\t\
                     TLSv1.3\tTLS_AES_128_GCM_SHA256\t-\tHTTP/2.0\t-\t-\t443\t0.010\t-\tvideo/mp4\t{size}\t-\t-\n",
                    edge = edges[r.geo as usize],
                    size = r.size,
                    id = id(r.clip),
                ))?;
                n += 1;
            }
            if !interrupted {
                w.finish()?;
            }
        }
        Output::Trace(Format::OracleGeneral) => {
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
        Output::Trace(Format::Csv) => {
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

/// The header of a CloudFront standard log, with every published field.
const CLOUDFRONT_HEADER: &str = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) \
    cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id \
    x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type \
    cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type \
    sc-content-type sc-content-len sc-range-start sc-range-end\n";
