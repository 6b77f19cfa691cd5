//! Views read from a request trace (`[traffic] trace`, `clipsim run --trace`) instead of drawn.
//!
//! * **Clips** are the trace's objects, numbered `0, 1, 2, ...` in order of first appearance
//!   (whatever ids the trace gives them), each with the size its first request gives (at least
//!   one byte) and a primary region drawn by the catalog's shares. A clip is uploaded at its
//!   first view, just before it is served (`trace_uploads = "first-view"`, the default), or every
//!   clip at time 0 (`"start"`: a trace of an established catalog). There is no synthetic
//!   catalog, history, upload or spike.
//! * **Time**: a trace's times are whole seconds; the run's time 0 is the UTC midnight at or
//!   before the first request (so hours of day read as UTC hours), and each request is served
//!   at its second. A request earlier than the one before it is served at the earlier one's time
//!   and counted ([`TraceInfo::out_of_order`]): the world's time never goes back.
//! * **Geography**: a trace's geography labels name the scenario's geographies (a label that is
//!   none of them is an error when the scenario is loaded); a trace without them has each
//!   request's geography drawn by the scenario's shares, from its own stream.
//!
//! When the scenario is loaded, [`TraceInfo::scan`] reads its first batch (the format, the
//! columns, the first records and their geographies checked, the run's time 0 set), or the whole
//! file when asked (`clipsim validate`) or needed (`trace_uploads = "start"`: every clip's size).
//! The run then reads it once, a batch at a time, as it advances (so memory grows with the
//! clips, never with the requests), checks every record and geography as it goes, and counts
//! what the summary reports ([`TraceTally`]), reading to the end past the run's end. A bad record
//! found in the run ends it with an error ([`TraceViews::error`]): nothing is written.

use super::Arrival;
use crate::rng::{Purpose, Stream};
use crate::trace::{Format, IdMap, Observed, ReadOptions, Request, TraceError, TraceReader, BATCH, NO_GEO};
use clipsim_engine::{ClipId, GeoId, SimTime};
use std::path::{Path, PathBuf};

const DAY_S: u64 = 86_400;

/// A trace as the scenario names it, checked when the scenario is loaded. Its counts
/// (`requests`, `clips`, `last_s`, `out_of_order`, `observed`) are of what the scan read: the
/// first batch, or the whole file when asked ([`TraceInfo::scan`]); a run's [`TraceTally`] has
/// the whole file's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceInfo {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Requests in it.
    pub requests: u64,
    /// Distinct objects (clips) in it.
    pub clips: u64,
    /// The trace time (seconds) of the run's time 0: the UTC midnight at or before the first
    /// request.
    pub origin_s: u64,
    /// The first and last request's trace time, seconds.
    pub first_s: u64,
    /// See `first_s`.
    pub last_s: u64,
    /// Requests earlier than the one before them (served at that one's time).
    pub out_of_order: u64,
    /// The scenario's geography of each of the trace's geography labels (in the reader's label
    /// order); empty when the trace has none.
    pub geo_map: Vec<GeoId>,
    /// When clips are uploaded.
    pub uploads: TraceUploads,
    /// Requests with the CDN's own cache result (a hit or a miss; an imported log's `cache`).
    pub observed: u64,
    /// With [`TraceUploads::Start`]: each clip's size in bytes, by clip number (else empty).
    pub sizes: Vec<u64>,
    /// Whether its requests carry the CDN's cache results (a `cache` column).
    pub has_cache: bool,
}

/// What a run read of its trace: the counts the summary reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceTally {
    /// Requests in the trace (past the run's end too).
    pub requests: u64,
    /// Distinct clips.
    pub clips: u64,
    /// The last request's trace time (the latest), seconds.
    pub last_s: u64,
    /// Requests earlier than the one before them.
    pub out_of_order: u64,
}

impl TraceTally {
    /// Counts one request at trace time `s`.
    #[inline]
    fn count(&mut self, s: u64) {
        self.out_of_order += u64::from(self.requests > 0 && s < self.last_s);
        self.last_s = if self.requests == 0 { s } else { self.last_s.max(s) };
        self.requests += 1;
    }
}

/// When a trace's clips are uploaded (`[traffic] trace_uploads`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceUploads {
    /// Each at its first view.
    FirstView,
    /// All at time 0.
    Start,
}

impl TraceUploads {
    /// Names accepted by `trace_uploads`.
    pub const NAMES: [&'static str; 2] = ["first-view", "start"];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            TraceUploads::FirstView => "first-view",
            TraceUploads::Start => "start",
        }
    }

    /// The setting of this name.
    pub fn parse(name: &str) -> Option<TraceUploads> {
        match name {
            "first-view" => Some(TraceUploads::FirstView),
            "start" => Some(TraceUploads::Start),
            _ => None,
        }
    }
}

impl TraceInfo {
    /// Reads the trace at `path`, its first batch or (`whole`, or with [`TraceUploads::Start`])
    /// all of it: every record read must be good, every geography label one of `geos` (the
    /// scenario's geographies).
    pub fn scan(
        path: &Path,
        format: Option<Format>,
        geos: &[String],
        uploads: TraceUploads,
        whole: bool,
    ) -> Result<TraceInfo, TraceError> {
        let whole = whole || uploads == TraceUploads::Start;
        let mut reader = open(path, format)?;
        let mut ids = IdMap::new();
        let mut sizes = Vec::new();
        let mut batch = Vec::with_capacity(BATCH);
        let (mut requests, mut first_s, mut last_s, mut latest, mut out_of_order) = (0u64, 0, 0, 0, 0);
        let mut observed = 0u64;
        while reader.next_batch(&mut batch)? {
            for r in &batch {
                match ids.get_or_insert(r.id) {
                    None => {
                        return Err(TraceError::file(path, format!("at most {} distinct clips", crate::trace::IDS_MAX)))
                    }
                    Some((_, true)) if uploads == TraceUploads::Start => sizes.push(r.size.max(1)),
                    Some(_) => {}
                }
                if requests == 0 {
                    (first_s, latest) = (r.time, r.time);
                }
                out_of_order += u64::from(r.time < latest);
                latest = latest.max(r.time);
                last_s = r.time;
                requests += 1;
                observed += u64::from(r.cache == Observed::Hit as u32 || r.cache == Observed::Miss as u32);
            }
            if !whole {
                break;
            }
        }
        if requests == 0 {
            return Err(TraceError::file(path, "at least one request"));
        }
        let mut geo_map = Vec::new();
        for label in reader.geo_names() {
            match geos.iter().position(|g| g.eq_ignore_ascii_case(&label)) {
                Some(g) => geo_map.push(GeoId(g as u32)),
                None => {
                    return Err(TraceError::file(
                        path,
                        format!(
                            "geography labels that are the scenario's geographies ({}); `{label}` is not one",
                            geos.join(", ")
                        ),
                    ))
                }
            }
        }
        // Every request has a geography or none does: a CSV reader with a geography column
        // rejects a row without one.
        Ok(TraceInfo {
            path: path.to_path_buf(),
            format: reader.format(),
            requests,
            clips: u64::from(ids.len()),
            origin_s: first_s / DAY_S * DAY_S,
            first_s,
            last_s: last_s.max(latest),
            out_of_order,
            geo_map,
            uploads,
            observed,
            sizes,
            has_cache: reader.has_cache(),
        })
    }

    /// The run's time of trace time `s` (seconds).
    pub fn sim_time(&self, s: u64) -> SimTime {
        SimTime::ZERO + clipsim_engine::SimDuration::from_secs(s.saturating_sub(self.origin_s))
    }
}

fn open(path: &Path, format: Option<Format>) -> Result<TraceReader, TraceError> {
    TraceReader::open(path, &ReadOptions { format, ..Default::default() })
}

/// One view as read, with the size of its clip when it is the clip's first view.
#[derive(Clone, Copy, Debug)]
struct Read {
    time: SimTime,
    clip: ClipId,
    geo: GeoId,
    /// Bytes, when this is the clip's first view (else 0).
    first_size: u64,
    observed: u8,
}

/// The views of a trace, read lazily.
pub struct TraceViews {
    info: TraceInfo,
    reader: Option<TraceReader>,
    ids: IdMap,
    batch: Vec<Request>,
    /// Views read and not yet taken: `ready[pos..]`.
    ready: Vec<Read>,
    pos: usize,
    /// How many views past the next one stay read (the caller's prefetch distance).
    keep: usize,
    latest: SimTime,
    end: SimTime,
    /// Geographies of a trace without them: drawn by the scenario's shares.
    geo_cum: Vec<f64>,
    geos: Stream,
    /// A bad record, an unknown geography or a read error: the views end there, and the run
    /// is not to be reported.
    error: Option<TraceError>,
    done: bool,
    last_observed: u8,
    /// The first record of `batch` not yet counted.
    batch_next: usize,
    tally: TraceTally,
    /// The scenario's geography of each of the trace's labels seen so far, and the scenario's
    /// geographies.
    geo_map: Vec<GeoId>,
    scenario_geos: Vec<String>,
}

impl TraceViews {
    /// The views of `info`'s trace for a run of `seed` ending at `end`, its geography labels
    /// matched to `geos` (the scenario's), geographies drawn by `geo_shares` when it has none.
    pub fn new(info: &TraceInfo, seed: u64, geo_shares: &[f64], geos: &[String], end: SimTime) -> TraceViews {
        let mut geo_cum = Vec::with_capacity(geo_shares.len());
        let mut acc = 0.0;
        for s in geo_shares {
            acc += s;
            geo_cum.push(acc);
        }
        // An unreadable file (removed since the scan) reads as an empty trace with its error.
        let (reader, error) = match open(&info.path, Some(info.format)) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        };
        let mut v = TraceViews {
            info: info.clone(),
            done: reader.is_none(),
            reader,
            ids: IdMap::with_capacity(info.clips as usize),
            batch: Vec::with_capacity(BATCH),
            ready: Vec::with_capacity(BATCH + super::LOOKAHEAD),
            pos: 0,
            keep: 0,
            latest: SimTime::ZERO,
            end,
            geo_cum,
            geos: Stream::new(seed, Purpose::Geos),
            error,
            last_observed: 0,
            batch_next: 0,
            tally: TraceTally::default(),
            geo_map: info.geo_map.clone(),
            scenario_geos: geos.to_vec(),
        };
        v.fill();
        v
    }

    /// The reader's error, when the trace could not be read to its end in the run.
    pub fn error(&self) -> Option<&TraceError> {
        self.error.as_ref()
    }

    /// Keeps `k` views past the next one read (see [`super::Workload::set_lookahead`]).
    pub fn set_lookahead(&mut self, k: usize) {
        assert!(k < super::LOOKAHEAD, "at most LOOKAHEAD views ahead");
        self.keep = k;
        self.fill();
    }

    /// Reads until `keep + 1` views are ready or the trace (or the run) ends.
    fn fill(&mut self) {
        while self.ready.len() - self.pos <= self.keep && !self.done {
            self.ready.drain(..self.pos);
            self.pos = 0;
            if !self.next_batch() {
                break;
            }
            while self.batch_next < self.batch.len() {
                let r = self.batch[self.batch_next];
                let time = self.info.sim_time(r.time).max(self.latest);
                if time >= self.end {
                    // This request and the rest are past the run's end: counted by `finish`.
                    self.done = true;
                    break;
                }
                self.batch_next += 1;
                self.tally.count(r.time);
                let Some((clip, new)) = self.ids.get_or_insert(r.id) else {
                    self.fail(format!("at most {} distinct clips", crate::trace::IDS_MAX));
                    break;
                };
                self.latest = time;
                let geo = if r.geo == NO_GEO {
                    self.draw_geo()
                } else {
                    match self.geo(r.geo) {
                        Some(g) => g,
                        None => break,
                    }
                };
                let first_size = if new { r.size.max(1) } else { 0 };
                self.ready.push(Read { time, clip: ClipId(clip), geo, first_size, observed: r.cache as u8 });
            }
        }
    }

    /// Reads the next batch (`false` at the end of the file or on an error, which is kept).
    fn next_batch(&mut self) -> bool {
        let Some(reader) = &mut self.reader else { return false };
        self.batch_next = 0;
        match reader.next_batch(&mut self.batch) {
            Ok(true) => true,
            Ok(false) => {
                self.done = true;
                false
            }
            Err(e) => {
                self.error = Some(e);
                self.done = true;
                false
            }
        }
    }

    /// Ends the views with an error about the record read last.
    fn fail(&mut self, expected: String) {
        let record = self.reader.as_ref().map(|r| r.stats().records);
        let mut e = TraceError::file(&self.info.path, expected);
        e.record = record.filter(|_| self.batch_next > 0).map(|n| n - (self.batch.len() - self.batch_next) as u64);
        self.error = Some(e);
        self.done = true;
    }

    /// The scenario's geography of the trace's label `label` (mapped when first seen), or `None`
    /// after failing on a label that is not one.
    #[inline]
    fn geo(&mut self, label: u32) -> Option<GeoId> {
        if let Some(&g) = self.geo_map.get(label as usize) {
            return Some(g);
        }
        let names = self.reader.as_ref().map(TraceReader::geo_names).unwrap_or_default();
        for name in &names[self.geo_map.len().min(names.len())..] {
            match self.scenario_geos.iter().position(|g| g.eq_ignore_ascii_case(name)) {
                Some(g) => self.geo_map.push(GeoId(g as u32)),
                None => {
                    let expected = format!(
                        "geography labels that are the scenario's geographies ({}); `{name}` is not one",
                        self.scenario_geos.join(", ")
                    );
                    self.fail(expected);
                    return None;
                }
            }
        }
        self.geo_map.get(label as usize).copied()
    }

    /// The counts of the whole trace: what the run read, and the rest of the file (past the
    /// run's end) read now, unless `interrupted`.
    pub fn finish(&mut self, interrupted: bool) -> TraceTally {
        if !interrupted && self.error.is_none() {
            loop {
                while self.batch_next < self.batch.len() {
                    let r = self.batch[self.batch_next];
                    self.batch_next += 1;
                    self.tally.count(r.time);
                    if self.ids.get_or_insert(r.id).is_none() {
                        self.fail(format!("at most {} distinct clips", crate::trace::IDS_MAX));
                        break;
                    }
                    if r.geo != NO_GEO && self.geo(r.geo).is_none() {
                        break;
                    }
                }
                if self.error.is_some() || !self.next_batch_to_end() {
                    break;
                }
            }
        }
        TraceTally { clips: u64::from(self.ids.len()), ..self.tally }
    }

    /// [`Self::next_batch`] ignoring `done` (set at the run's end).
    fn next_batch_to_end(&mut self) -> bool {
        self.done = false;
        let more = self.next_batch();
        self.done = true;
        more
    }

    fn draw_geo(&mut self) -> GeoId {
        let x = self.geos.unit() * self.geo_cum.last().copied().unwrap_or(1.0);
        GeoId(self.geo_cum.iter().position(|&c| x < c).unwrap_or(self.geo_cum.len().saturating_sub(1)) as u32)
    }

    /// The next view's time ([`SimTime::NEVER`] when none is left before the run's end).
    #[inline]
    pub fn peek_time(&self) -> SimTime {
        self.ready.get(self.pos).map_or(SimTime::NEVER, |r| r.time)
    }

    /// The view `k` places after the next one (clip 0 and geography 0 past the end, for a
    /// caller that prefetches).
    #[inline]
    pub fn peek_nth(&self, k: usize) -> Arrival {
        self.ready.get(self.pos + k).map_or(Arrival { time: SimTime::NEVER, clip: ClipId(0), geo: GeoId(0) }, |r| {
            Arrival { time: r.time, clip: r.clip, geo: r.geo }
        })
    }

    /// The size of the next view's clip when that view is its first and the clip is not one of
    /// the `uploaded` clips yet (it is to be uploaded before it is served), else `None`.
    #[inline]
    pub fn next_first_size(&self, uploaded: usize) -> Option<u64> {
        let r = self.ready.get(self.pos)?;
        (r.first_size > 0 && r.clip.index() >= uploaded).then_some(r.first_size)
    }

    /// Takes the next view.
    #[inline]
    pub fn pop(&mut self) -> Arrival {
        let r = self.ready[self.pos];
        self.pos += 1;
        if self.ready.len() - self.pos <= self.keep {
            self.fill();
        }
        self.last_observed = r.observed;
        Arrival { time: r.time, clip: r.clip, geo: r.geo }
    }

    /// The CDN's own result for the view taken last (an [`Observed`] as `u8`).
    #[inline]
    pub fn last_observed(&self) -> u8 {
        self.last_observed
    }

    /// Heap bytes held (grows with the clips, not with the requests).
    pub fn heap_bytes(&self) -> usize {
        self.ids.heap_bytes()
            + self.ready.capacity() * std::mem::size_of::<Read>()
            + self.batch.capacity() * std::mem::size_of::<Request>()
    }
}
