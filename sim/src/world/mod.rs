//! The world: the engine, the workload and the stand-ins (storage regions, CDN edges,
//! inter-region links, probes, outages), driven by a discrete-event loop on simulated time.
//!
//! Scheduled events wait in a binary heap ordered by (time, priority, sequence); arrivals come
//! from the lazy workload and never enter the heap; the engine's timers come from
//! `poll_timeout`. At equal times the order is: outage changes, price changes, spike starts,
//! uploads, copy completions, probes, engine timers, report ticks, the end of the warm-up, then
//! arrivals. Nothing here reads a clock.

pub mod calibration;
mod rows;
mod serve;
pub mod steady;
mod timeline;

use crate::cache::{self, AnyCache, EdgeCache, Policy, PolicyVisitor, RANDOM_DEFAULT_SEED};
use crate::conformance::record::{note, Event as RecEvent, Recording};
use crate::record::timeline::{Entry, Event, MirrorStep};
use crate::record::Recorder;
use crate::rng::{Purpose, Stream};
use crate::scenario::Scenario;
use crate::standins::{prober, Cdn, Faults, Links, Meters, Storage};
use crate::workload::history::Past;
use crate::workload::{ClipFactory, Demand};
use clipsim_engine::{Bytes, ClipId, Engine, Input, Output, RegionId, SimDuration, SimTime};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};

/// How often (in arrivals) the loop reports progress and checks for an interrupt.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// How often (in scheduled events handled: probes, engine timers, copies, report ticks...) the
/// loop also reports progress and checks for an interrupt, so that a run of many events and few
/// views (a probe every 100 µs, a cleanup every microsecond) stops promptly too. An event costs
/// at most some microseconds (a probe round of 64 regions), so this is milliseconds apart.
pub const STOP_CHECK_EVENTS: u64 = 1 << 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Faults,
    Price(usize),
    SpikeStart(usize),
    Upload,
    CopyDone { clip: u32, from: u32, to: u32, ok: bool, bytes: u64 },
    Probe,
    Report,
    WarmupEnds,
    PreRunEnds,
}

impl Ev {
    fn priority(self) -> u8 {
        match self {
            Ev::Faults => 0,
            Ev::Price(_) => 1,
            Ev::SpikeStart(_) => 2,
            Ev::Upload => 3,
            Ev::CopyDone { .. } => 4,
            Ev::Probe => 5,
            Ev::Report => 7,
            Ev::WarmupEnds | Ev::PreRunEnds => 8,
        }
    }
}

/// How many arrivals past the next one the loop prefetches the state of (see
/// `Sim::prefetch_ahead`): the engine's clip record, the recorder's counts and the edge's index
/// entry. Performance only: any distance gives the same results.
pub const PREFETCH_FAR: usize = 3;
const _: () = assert!(PREFETCH_FAR < crate::workload::LOOKAHEAD, "the workload draws at most LOOKAHEAD ahead");
/// Where the edge's entry is prefetched (its index entry is prefetched at [`PREFETCH_FAR`]).
const PREFETCH_NEAR: usize = 2;

/// The engine's timers sit between probes and report ticks.
const ENGINE_PRIORITY: u8 = 6;

/// Told how far the run is, every [`PROGRESS_EVERY`] arrivals and every [`STOP_CHECK_EVENTS`]
/// events.
pub trait Progress {
    /// Simulated time reached.
    fn at(&mut self, now: SimTime);
}

impl Progress for () {
    fn at(&mut self, _now: SimTime) {}
}

/// The engine a run of `sc` drives: its configuration and policies.
pub fn engine_for(sc: &Scenario) -> Result<Engine, clipsim_engine::ConfigError> {
    Engine::with_policies(
        sc.engine.clone(),
        sc.source_policy,
        sc.placement,
        clipsim_engine::TtlPolicy::from_config(&sc.engine.mirror),
    )
}

/// What a run leaves behind.
#[derive(Debug)]
pub struct RunResult {
    /// The scenario.
    pub scenario: Scenario,
    /// The measurements.
    pub recorder: Recorder,
    /// The engine at the end (bills, counters, mirrors).
    pub engine: Engine,
    /// Where the run stopped: the scenario's end, or earlier when interrupted.
    pub end: SimTime,
    /// Whether it was interrupted before the end.
    pub interrupted: bool,
    /// Arrivals simulated (warm-up included).
    pub arrivals: u64,
    /// Heap bytes of the workload at the end.
    pub workload_bytes: usize,
    /// What the stand-ins metered (storage, edges, links), apart from the engine's bill.
    pub meters: Meters,
    /// With replicas ([`crate::replicas`]): every replica's summary, this run's first; else empty.
    pub replicas: Vec<crate::report::summary::Summary>,
    /// The trace could not be read to the end in the run although it was when the scenario was
    /// loaded (it changed since): what went wrong. The figures are then not the trace's.
    pub trace_error: Option<String>,
    /// With a trace that carries the CDN's own results (and a CDN): observed beside simulated.
    pub calibration: Option<calibration::Calibration>,
    /// With a trace: what the run read of it (to its end, past the run's, unless interrupted).
    pub trace_tally: Option<crate::workload::trace::TraceTally>,
    /// With [`World::new_recorded`]: every call the run made into the engine, in order.
    pub conformance: Option<Box<Recording>>,
    /// With `[rollout]`: what each stage's arms measured.
    pub rollout: Option<crate::rollout::record::RolloutRecorder>,
    /// With `[rollout]`, after [`crate::replicas`] ran the twin (the same seed, everyone in the
    /// control arm): its bill to date at every report tick.
    pub rollout_twin_costs: Option<Vec<(SimTime, i128)>>,
}

impl RunResult {
    /// The bills of the measured period: every month after a steady-state pre-run (which ends on
    /// a month boundary), or all of them.
    pub fn measured_bills(&self) -> &[clipsim_engine::MonthBill] {
        let from = SimTime::ZERO + self.scenario.pre_run();
        let bills = self.engine.bills();
        &bills[bills.iter().take_while(|b| b.start < from).count()..]
    }
}

/// The simulated world, its loop compiled for the scenario's edge eviction policy (one policy
/// per run: the request path calls the edge cache directly, with no dispatch).
pub struct World(Box<dyn Run>);

/// A [`Sim`] of some edge policy, run once.
trait Run {
    fn run(self: Box<Self>, progress: &mut dyn Progress, stop: &AtomicBool) -> RunResult;
    fn set_prefetch_distances(&mut self, far: usize, near: usize);
    fn set_request_log(&mut self, log: RequestLog);
}

impl<C: EdgeCache> Run for Sim<C> {
    fn run(self: Box<Self>, progress: &mut dyn Progress, stop: &AtomicBool) -> RunResult {
        Sim::run(*self, progress, stop)
    }

    fn set_request_log(&mut self, log: RequestLog) {
        self.watch.get_or_insert_with(Default::default).log = Some(log);
    }

    fn set_prefetch_distances(&mut self, far: usize, near: usize) {
        self.prefetch_far = far;
        self.prefetch_near = near;
        self.demand.set_lookahead(far.max(near));
    }
}

/// Catalog clips drawn per batch at set-up (see `World::new`).
const CATALOG_BATCH: usize = 1024;

impl World {
    /// Builds the world at time 0: the catalog uploaded, the first events scheduled.
    pub fn new(sc: Scenario) -> Result<Self, clipsim_engine::ConfigError> {
        Self::build(sc, false)
    }

    /// The world of [`World::new`], recording every call it makes into the engine
    /// ([`RunResult::conformance`]): for `clipsim conformance`.
    pub fn new_recorded(sc: Scenario) -> Result<Self, clipsim_engine::ConfigError> {
        Self::build(sc, true)
    }

    fn build(sc: Scenario, record: bool) -> Result<Self, clipsim_engine::ConfigError> {
        struct Build(Scenario, bool);
        impl PolicyVisitor for Build {
            type Output = Result<World, clipsim_engine::ConfigError>;
            fn visit<C: EdgeCache + Into<AnyCache> + 'static>(self, make: &dyn Fn() -> C) -> Self::Output {
                Ok(World(Box::new(Sim::new(self.0, make, self.1)?)))
            }
        }
        // Without a CDN there are no edges: the type does not matter.
        let (policy, cap) =
            sc.cdn.as_ref().map_or((Policy::Lru, 0), |c| (c.eviction, c.edge_capacity_bytes.unwrap_or(u64::MAX)));
        cache::with_policy(policy, cap, RANDOM_DEFAULT_SEED, Build(sc, record))
    }

    /// Runs to the scenario's end, or until `stop` is set (checked every [`PROGRESS_EVERY`]
    /// arrivals and every [`STOP_CHECK_EVENTS`] events, at an event boundary).
    pub fn run(self, progress: &mut dyn Progress, stop: &AtomicBool) -> RunResult {
        self.0.run(progress, stop)
    }

    /// Calls `log` with every request served (see [`RequestLog`]).
    pub fn with_request_log(mut self, log: RequestLog) -> Self {
        self.0.set_request_log(log);
        self
    }

    /// Prefetches `far` and `near` arrivals ahead instead of [`PREFETCH_FAR`] and 2 (both below
    /// [`crate::workload::LOOKAHEAD`]): for tests that show the distance changes no result.
    pub fn with_prefetch_distances(mut self, far: usize, near: usize) -> Self {
        assert!(far < crate::workload::LOOKAHEAD && near < crate::workload::LOOKAHEAD, "within the lookahead");
        self.0.set_prefetch_distances(far, near);
        self
    }
}

/// The simulated world with edges of type `C`.
struct Sim<C> {
    sc: Scenario,
    engine: Engine,
    demand: Demand,
    /// How far ahead arrivals' state is prefetched (see [`PREFETCH_FAR`]).
    prefetch_far: usize,
    prefetch_near: usize,
    /// Each region's storage.
    storage: Vec<Storage>,
    /// Each CDN's edges, one per geography: the first CDN's (none without a CDN), then the
    /// second's (none without a second).
    cdns: [Cdn<C>; 2],
    links: Links,
    /// What is really down or slow, from the scenario's outages.
    faults: Faults,
    /// Whether a degraded target fails an attempt or a probe.
    fault_rng: Stream,
    votes_rng: Stream,
    heap: BinaryHeap<Reverse<(SimTime, u8, u64, Ev)>>,
    seq: u64,
    /// One probe round's inputs (kept to reuse the allocation).
    probe_inputs: Vec<Input>,
    rec: Recorder,
    end: SimTime,
    arrivals: u64,
    /// Scheduled events handled (engine timers included).
    events: u64,
    /// Precomputed per request: the startup transfer time of a clip of each size is computed on
    /// the fly; these are the constants.
    startup_bytes: u64,
    /// Viewer throughput, bits per second: one quantile of the throughput distribution each.
    throughput_bps: Vec<u64>,
    net_rng: Stream,
    /// Per spike and region, which steps of the spike clip's mirror are in the timeline already
    /// (`MirrorStep::bit`): only the first of each, later TTL cycles and retries are left out.
    spike_noted: Vec<Vec<u8>>,
    /// Whether a cost alert is raised (not yet cleared), for the timeline's end.
    alert_raised: bool,
    /// What watches each request served: none in a plain run (one branch per request).
    watch: Option<Box<Watch>>,
    /// Every call into the engine, when recording (`clipsim conformance`).
    conformance: Option<Box<Recording>>,
    /// With `[rollout]`: the arms' measurements, and the stream that puts views in an arm.
    rollout: Option<crate::rollout::record::RolloutRecorder>,
    rollout_rng: Stream,
}

/// Called with every request served (warm-up included): its time, clip, geography, size in
/// bytes and whether the edge served it from its cache.
pub type RequestLog = Box<dyn FnMut(SimTime, ClipId, clipsim_engine::GeoId, u64, bool)>;

/// What watches each request served.
#[derive(Default)]
struct Watch {
    /// With a trace that carries the CDN's own results: observed beside simulated.
    calibration: Option<calibration::Calibration>,
    log: Option<RequestLog>,
}

impl<C: EdgeCache> Sim<C> {
    /// Builds the world at time 0 with an `edge()` per geography (with a CDN): the catalog
    /// uploaded, the first events scheduled.
    fn new(sc: Scenario, edge: impl Fn() -> C, record: bool) -> Result<Self, clipsim_engine::ConfigError> {
        let mut engine = engine_for(&sc)?;
        let mut conformance = record.then(Box::<Recording>::default);
        let mut input = |engine: &mut Engine, input: Input| {
            note(&mut conformance, || RecEvent::Input(SimTime::ZERO, input.clone()));
            engine.handle_input(SimTime::ZERO, input)
        };
        let regions = sc.engine.regions.len();
        let mut catalog = ClipFactory::new(&sc, Purpose::Catalog);
        // Room for the catalog and the uploads expected during the run (10 % slack), so that large
        // per-clip tables are allocated once rather than doubled and copied mid-run.
        let clips_expected = sc.clips_expected() as usize;
        // With a trace, its clips are the catalog (uploaded at time 0 or at their first views).
        let catalog_clips = if sc.traffic.trace.is_some() { 0 } else { sc.catalog.clips };
        engine.reserve_clips(clips_expected);
        // Sizes are drawn a batch at a time, apart from the registrations: a size is a long chain
        // of floating-point latency (logarithm, square root, exponential), and a loop of only
        // those lets the CPU overlap the chains of successive clips, and the exponentials run
        // vectorised. The same draws in the same order, the same bits.
        let mut batch = Vec::with_capacity(CATALOG_BATCH);
        let mut catalog_bytes = vec![0u64; regions];
        for start in (0..catalog_clips).step_by(CATALOG_BATCH) {
            let end = catalog_clips.min(start.saturating_add(CATALOG_BATCH as u32));
            catalog.next_clips((end - start) as usize, &mut batch);
            for (i, &(size, primary)) in (start..end).zip(&batch) {
                input(&mut engine, Input::ClipUploaded { clip: ClipId(i), size: Bytes(size), primary })
                    .expect("catalog clips are dense, non-empty and in known regions");
                catalog_bytes[primary.index()] += size;
            }
        }
        // A trace of an established catalog has its clips uploaded at time 0, in clip order.
        for &size in sc.traffic.trace.as_ref().map_or(&[][..], |t| &t.sizes[..]) {
            let primary = catalog.next_primary();
            let clip = ClipId(engine.clip_count() as u32);
            input(&mut engine, Input::ClipUploaded { clip, size: Bytes(size), primary })
                .expect("trace clips are dense, non-empty and in known regions");
            catalog_bytes[primary.index()] += size;
        }
        // A catalog with a history starts with the views it would have had.
        crate::workload::history::past_views(&sc, |clip, past| {
            let past = match past {
                Past::Views(geo, views) => Input::PastViews { clip, geo, views },
                Past::Votes(delta) => Input::Vote { clip, delta },
            };
            input(&mut engine, past).expect("past views name catalog clips and known geographies");
        });
        // Both CDNs' edges and shields alike, each its own, at its own edge latency.
        let cdn_with_rtt = |c: &crate::scenario::Cdn, edge_rtt| {
            let cdn = Cdn::new(sc.geos.len(), &edge, c.cache_ttl, c.revalidate, edge_rtt);
            match c.shield {
                Some(s) => cdn
                    .with_shield(crate::cache::AnyCache::new(c.eviction, s.capacity_bytes.unwrap_or(u64::MAX)), s.rtt),
                None => cdn,
            }
            .with_admission(c.admission)
        };
        let cdns = [
            sc.cdn.as_ref().map_or_else(Cdn::none, |c| cdn_with_rtt(c, c.edge_rtt)),
            sc.cdn
                .as_ref()
                .and_then(|c| c.second.as_ref().map(|s| cdn_with_rtt(c, s.edge_rtt)))
                .unwrap_or_else(Cdn::none),
        ];
        let mut storage: Vec<Storage> = sc.engine.latency_ms.iter().map(|row| Storage::new(row)).collect();
        for (s, &bytes) in storage.iter_mut().zip(&catalog_bytes) {
            s.put(SimTime::ZERO, bytes);
        }
        // Background failures join the scripted outages, all in start order.
        let mut sc = sc;
        sc.outages.extend(crate::standins::failures::draw(&sc));
        sc.outages.sort_by_key(|o| o.start);
        let faults = Faults::new(&sc.outages, regions);
        let end = SimTime::ZERO + sc.duration;
        let mut w = Sim {
            demand: {
                let mut d = Demand::new(&sc);
                d.set_lookahead(PREFETCH_FAR.max(PREFETCH_NEAR));
                d
            },
            prefetch_far: PREFETCH_FAR,
            prefetch_near: PREFETCH_NEAR,
            storage,
            cdns,
            links: Links::new(regions, sc.network.inter_region_bps, sc.network.inter_region_rtt),
            fault_rng: Stream::new(sc.seed, Purpose::Faults),
            votes_rng: Stream::new(sc.seed, Purpose::Votes),
            heap: BinaryHeap::new(),
            seq: 0,
            probe_inputs: Vec::new(),
            rec: Recorder::new(
                SimTime::ZERO + sc.warmup,
                sc.geos.len(),
                regions,
                engine.clip_count(),
                clips_expected,
                sc.duration.as_micros().div_ceil(sc.report_interval.as_micros().max(1)),
            ),
            end,
            arrivals: 0,
            events: 0,
            startup_bytes: sc.network.startup_bytes,
            throughput_bps: serve::throughput_table(sc.network.viewer_bps, sc.network.viewer_sigma, sc.seed),
            net_rng: Stream::new(sc.seed, Purpose::Network),
            spike_noted: vec![vec![0; regions]; sc.traffic.spikes.len()],
            alert_raised: false,
            watch: sc.traffic.trace.as_ref().filter(|t| t.has_cache && sc.cdn.is_some()).map(|_| {
                Box::new(Watch {
                    calibration: Some(calibration::Calibration::new(
                        SimTime::ZERO + sc.warmup,
                        sc.duration,
                        sc.geos.len(),
                    )),
                    log: None,
                })
            }),
            conformance,
            faults,
            engine,
            rollout: sc
                .rollout
                .clone()
                .map(|r| crate::rollout::record::RolloutRecorder::new(r, SimTime::ZERO + sc.warmup)),
            rollout_rng: Stream::new(sc.seed, Purpose::Rollout),
            sc,
        };
        for t in w.faults.change_times() {
            w.schedule(t, Ev::Faults);
        }
        for i in 0..w.sc.price_changes.len() {
            w.schedule(w.sc.price_changes[i].0, Ev::Price(i));
        }
        for k in 0..w.demand.new_spikes().len() {
            let (start, i) = w.demand.new_spikes()[k];
            w.schedule(start, Ev::SpikeStart(i));
        }
        if w.demand.next_upload_at() != SimTime::NEVER {
            w.schedule(w.demand.next_upload_at(), Ev::Upload);
        }
        w.schedule(SimTime::ZERO, Ev::Probe);
        w.schedule(SimTime::ZERO + w.sc.report_interval, Ev::Report);
        if w.sc.warmup > SimDuration::ZERO {
            w.schedule(SimTime::ZERO + w.sc.warmup, Ev::WarmupEnds);
        }
        if w.sc.pre_run() > SimDuration::ZERO {
            w.schedule(SimTime::ZERO + w.sc.pre_run(), Ev::PreRunEnds);
        }
        w.drain_outputs(SimTime::ZERO);
        Ok(w)
    }

    fn schedule(&mut self, t: SimTime, ev: Ev) {
        self.seq += 1;
        self.heap.push(Reverse((t, ev.priority(), self.seq, ev)));
    }

    fn run(mut self, progress: &mut dyn Progress, stop: &AtomicBool) -> RunResult {
        let mut interrupted = false;
        'run: loop {
            let (sched, is_engine) = self.next_event();
            // Serve the arrivals before the next event (at equal times the event goes first).
            // Serving schedules nothing and sets no engine timer, so `sched` stays valid.
            let serve_until = sched.0.min(self.end);
            loop {
                let arrival_t = self.demand.peek_time();
                if arrival_t >= serve_until {
                    break;
                }
                if let Some((size, primary)) = self.demand.next_view_uploads(self.engine.clip_count()) {
                    // A trace's clip is uploaded at its first view, before it: the upload may
                    // order copies or set timers, so the next event is looked at again.
                    self.upload(arrival_t, size, primary);
                    self.drain_outputs(arrival_t);
                    continue 'run;
                }
                let a = self.demand.take_view();
                self.prefetch_ahead();
                let from = self.serve(a);
                if let Some(w) = &mut self.watch {
                    let hit = from == clipsim_engine::ServedFrom::Edge;
                    let size = self.engine.clip_size(a.clip).map_or(0, |s| s.0);
                    if let Some(c) = &mut w.calibration {
                        let observed = self.demand.trace().map_or(0, |t| t.last_observed());
                        c.record(a.time, a.geo.index(), observed, hit, size);
                    }
                    if let Some(log) = &mut w.log {
                        log(a.time, a.clip, a.geo, size, hit);
                    }
                }
                debug_assert_eq!(self.next_event(), (sched, is_engine), "serving a request scheduled something");
                self.arrivals += 1;
                if self.arrivals.is_multiple_of(PROGRESS_EVERY) {
                    progress.at(a.time);
                    if stop.load(Ordering::Relaxed) {
                        interrupted = true;
                        break 'run;
                    }
                }
            }
            if sched.0 >= self.end {
                break;
            }
            self.events += 1;
            if self.events.is_multiple_of(STOP_CHECK_EVENTS) {
                progress.at(sched.0);
                if stop.load(Ordering::Relaxed) {
                    interrupted = true;
                    break;
                }
            }
            if is_engine {
                note(&mut self.conformance, || RecEvent::Timeout(sched.0));
                self.engine.handle_timeout(sched.0).expect("the loop never goes back in time");
                self.drain_outputs(sched.0);
            } else {
                let Reverse((t, _, _, ev)) = self.heap.pop().expect("peeked");
                self.handle(t, ev);
            }
        }
        let end = if interrupted { self.engine.now() } else { self.end };
        self.finish(end, interrupted)
    }

    /// The next scheduled event's (time, priority), and whether it is an engine timer.
    fn next_event(&self) -> ((SimTime, u8), bool) {
        let heap_key = self.heap.peek().map_or((SimTime::NEVER, u8::MAX), |Reverse((t, p, ..))| (*t, *p));
        let engine_key = (self.engine.poll_timeout(), ENGINE_PRIORITY);
        if engine_key < heap_key {
            (engine_key, true)
        } else {
            (heap_key, false)
        }
    }

    fn finish(mut self, end: SimTime, interrupted: bool) -> RunResult {
        let last_row_end = self.rec.rows.last().map_or(SimTime::ZERO, |r| r.end);
        if end > last_row_end {
            self.report_row(end);
        }
        note(&mut self.conformance, || RecEvent::CloseBooks(end));
        self.engine.close_books(end).expect("end is not before the last event");
        self.drain_outputs(end);
        self.close_timeline(end);
        self.rec.finish(self.engine.counters());
        let meters = Meters {
            storage: self.storage.iter_mut().map(|s| s.meter(end)).collect(),
            edges: self.cdns.iter().flat_map(|c| c.meters()).collect(),
            copied_out_bytes: self.links.copied_out().to_vec(),
        };
        RunResult {
            trace_tally: self.demand.trace_mut().map(|t| t.finish(interrupted)),
            conformance: self.conformance.take(),
            trace_error: self.demand.trace().and_then(|t| t.error()).map(ToString::to_string),
            calibration: self.watch.as_mut().and_then(|w| w.calibration.take()),
            meters,
            workload_bytes: self.demand.heap_bytes(),
            scenario: self.sc,
            recorder: self.rec,
            engine: self.engine,
            end,
            interrupted,
            arrivals: self.arrivals,
            replicas: Vec::new(),
            rollout: self.rollout.take(),
            rollout_twin_costs: None,
        }
    }

    fn handle(&mut self, t: SimTime, ev: Ev) {
        match ev {
            Ev::Faults => {
                self.faults.update(t);
                for (s, (&state, &lag)) in self.storage.iter_mut().zip(self.faults.region.iter().zip(&self.faults.lag))
                {
                    s.set_state(state, lag);
                }
                for (cdn, &state) in self.cdns.iter_mut().zip(&self.faults.cdn) {
                    cdn.set_state(state);
                }
                for (i, o) in self.sc.outages.iter().enumerate().filter(|(_, o)| o.start == t || o.end == t) {
                    let event = if o.start == t { Event::OutageStarts(i) } else { Event::OutageEnds(i) };
                    self.rec.timeline.push(Entry { at: t, event });
                }
            }
            Ev::Price(i) => {
                self.rec.timeline.push(Entry { at: t, event: Event::PriceChange(i) });
                let input = self.sc.price_changes[i].1.clone();
                note(&mut self.conformance, || RecEvent::Input(t, input.clone()));
                self.engine.handle_input(t, input).expect("price changes name known providers");
            }
            Ev::SpikeStart(i) => {
                // A spike's clip takes its views from the spike alone, not from the fresh-upload share.
                let (size, primary) = self.demand.take_spike_clip();
                let clip = self.upload(t, size, primary);
                self.demand.spike_clip_uploaded(i, clip);
                self.rec.timeline.push(Entry { at: t, event: Event::SpikeStartsOnNewClip { clip } });
            }
            Ev::Upload => {
                let (size, primary) = self.demand.take_upload();
                let clip = self.upload(t, size, primary);
                self.demand.uploaded(t, clip);
                self.schedule(self.demand.next_upload_at(), Ev::Upload);
            }
            Ev::CopyDone { clip, from, to, ok, bytes } => {
                let (clip, region) = (ClipId(clip), RegionId(to));
                self.links.ended(RegionId(from), bytes);
                if ok {
                    let size = self.engine.clip_size(clip).expect("copies are of known clips");
                    self.storage[to as usize].put(t, size.0);
                }
                self.note_spike_mirror(t, clip, region, if ok { MirrorStep::Ready } else { MirrorStep::Failed });
                let input = if ok {
                    Input::ReplicationFinished { clip, region }
                } else {
                    Input::ReplicationFailed { clip, region, bytes_transferred: Bytes(bytes) }
                };
                note(&mut self.conformance, || RecEvent::Input(t, input.clone()));
                self.engine.handle_input(t, input).expect("every copy the engine ordered is reported once");
            }
            Ev::Probe => {
                self.probe(t);
                self.schedule(t + self.sc.probe_interval, Ev::Probe);
            }
            Ev::WarmupEnds => self.rec.warmup_ends(self.engine.counters()),
            Ev::PreRunEnds => self.rec.pre_run_ends(self.engine.counters()),
            Ev::Report => {
                self.report_row(t);
                let next = t + self.sc.report_interval;
                if next <= self.end {
                    self.schedule(next, Ev::Report);
                }
            }
        }
        self.drain_outputs(t);
    }

    /// Starts loading the state that the next arrivals will touch, while this one is served:
    /// four arrivals ahead the engine's clip record, the recorder's counts and the edge's index
    /// entry; three ahead the edge's entry itself (the distances that measured fastest, see
    /// docs/benchmarks.md). Neither the prefetches nor drawing the arrivals ahead changes a
    /// result (see `workload`: what depends on earlier events is decided when an arrival is
    /// taken).
    #[inline]
    fn prefetch_ahead(&mut self) {
        let far = self.demand.peek_nth(self.prefetch_far);
        self.engine.prefetch(far.clip);
        self.rec.prefetch(far.clip.index());
        // The first CDN's: a hint (the CDN a request uses is chosen when it begins).
        self.cdns[0].prefetch_index(far.geo.index(), far.clip.0);
        let near = self.demand.peek_nth(self.prefetch_near);
        self.cdns[0].prefetch_entry(near.geo.index(), near.clip.0);
    }

    /// Uploads a clip of `size` bytes to `primary` at `t`: to the engine and the region's storage.
    fn upload(&mut self, t: SimTime, size: u64, primary: RegionId) -> ClipId {
        let clip = ClipId(self.engine.clip_count() as u32);
        let input = Input::ClipUploaded { clip, size: Bytes(size), primary };
        note(&mut self.conformance, || RecEvent::Input(t, input.clone()));
        self.engine.handle_input(t, input).expect("uploads are dense, non-empty, in known regions");
        self.storage[primary.index()].put(t, size);
        self.rec.on_upload(clip.index());
        clip
    }

    fn probe(&mut self, t: SimTime) {
        let cdns = self.sc.cdn.as_ref().map_or(0, |c| c.names().count());
        prober::probe_round(&self.storage, &self.cdns[..cdns], &mut self.fault_rng, &mut self.probe_inputs);
        for input in self.probe_inputs.drain(..) {
            note(&mut self.conformance, || RecEvent::Input(t, input.clone()));
            self.engine.handle_input(t, input).expect("probes of known regions and of the CDN");
        }
    }

    fn drain_outputs(&mut self, t: SimTime) {
        while let Some(out) = self.engine.poll_output() {
            match out {
                Output::Replicate { clip, from, to, size } => {
                    self.note_spike_mirror(t, clip, to, MirrorStep::Ordered);
                    self.start_copy(t, clip, from, to, size);
                }
                Output::HealthChanged { target, from, to } => {
                    self.rec.timeline.push(Entry { at: t, event: Event::HealthChanged { target, from, to } });
                }
                Output::CostAlert { cost_per_gb_nanos, threshold_nanos } => {
                    self.alert_raised = true;
                    let event = Event::CostAlert { per_gb_nanos: cost_per_gb_nanos, threshold_nanos };
                    self.rec.timeline.push(Entry { at: t, event });
                }
                Output::CostAlertCleared { cost_per_gb_nanos } => {
                    self.alert_raised = false;
                    let event = Event::CostAlertCleared { per_gb_nanos: cost_per_gb_nanos };
                    self.rec.timeline.push(Entry { at: t, event });
                }
                Output::ReplicationAbandoned { clip, region } => {
                    self.rec.timeline.push(Entry { at: t, event: Event::CopyAbandoned { clip, region } });
                }
                Output::DeleteMirror { region, size, .. } => self.storage[region.index()].delete(t, size.0),
                Output::MonthClosed { .. } => {}
            }
        }
    }

    fn start_copy(&mut self, t: SimTime, clip: ClipId, from: RegionId, to: RegionId, size: Bytes) {
        let lag = self.storage[from.index()].lag() + self.storage[to.index()].lag();
        let end = self.links.start(t, from, to, size.0, lag, &self.faults);
        self.schedule(end.at, Ev::CopyDone { clip: clip.0, from: from.0, to: to.0, ok: end.ok, bytes: end.bytes });
    }
}
