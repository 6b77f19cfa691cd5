//! The engine: state, inputs, timers and getters. The request fast path is in
//! [`crate::request`], the scheduled jobs in [`crate::jobs`].

use crate::billing::{Ledger, LineId, LineKey, Meter, MonthBill};
use crate::config::{ConfigError, EngineConfig, MultiCdn, SecondCdn};
use crate::health::{Health, TargetHealth};
use crate::ids::{ClipId, ProviderId, RegionId};
use crate::io::{EngineError, HealthTarget, Input, Output};
use crate::metrics::{Counters, MetricsSnapshot, RegionGauges};
use crate::mirrors::{Mirror, MirrorState, MirrorTable, NONE};
use crate::policy::{ExpireMirrors, PlaceMirrors, PlacementPolicy, SelectSource, SourcePolicy, TtlPolicy};
use crate::topology::Topology;
use crate::units::{Bytes, SimDuration, SimTime};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// The engine's timer jobs, in the order they run when due at the same instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    /// Close the billing month.
    MonthClose,
    /// Check the cost alert's window.
    CostAlertCheck,
    /// Delete expired mirrors.
    Cleanup,
    /// Order mirrors of popular clips (and refresh their TTL).
    Sync,
    /// Retry a failed copy.
    CopyRetry,
    /// Move primary copies to the infrequent-access class ([`crate::Lifecycle`]).
    Lifecycle,
}

impl Job {
    /// Every job, in [`Engine::job_timers`] order.
    const ALL: [Job; 6] =
        [Job::MonthClose, Job::CostAlertCheck, Job::Cleanup, Job::Sync, Job::CopyRetry, Job::Lifecycle];
}

/// Geographies whose demand counters live inside the clip record (more use a side table).
pub(crate) const DEMAND_INLINE: usize = 5;

/// The most clips an engine holds: ids are `u32` below [`crate::mirrors::NONE`] (`u32::MAX`),
/// which marks "no record" in the mirror chains.
pub const CLIPS_MAX: usize = NONE as usize;

/// Per-clip state: 32 bytes, aligned so that a request touches exactly one cache line.
///
/// Demand counters are `u16` and record the *mix* of a clip's recent viewers: when one reaches
/// `u16::MAX`, all of that clip's counters are halved, which keeps their proportions.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(32))]
pub(crate) struct Clip {
    pub(crate) size_bytes: u64,
    /// Views counted for the popularity score (halved every half-life when one is set).
    pub(crate) views: u32,
    /// Net vote score (halved likewise).
    pub(crate) votes: i32,
    /// Head of the clip's mirror chain.
    pub(crate) first_mirror: u32,
    pub(crate) primary: u8,
    /// Mirror records (pending, active, expired awaiting cleanup).
    pub(crate) records: u8,
    /// Views by geography when there are at most [`DEMAND_INLINE`] geographies.
    pub(crate) demand: [u16; DEMAND_INLINE],
}

/// Line ids of the meters the hot path touches, by region or geography.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lines {
    pub(crate) storage: Vec<LineId>,
    pub(crate) origin_direct: Vec<LineId>,
    pub(crate) origin_to_cdn: Vec<LineId>,
    pub(crate) origin_requests: Vec<LineId>,
    pub(crate) inter_region: Vec<LineId>,
    /// `cdn_egress[cdn * geos + geo]`: the first CDN's geographies, then the second's. Empty
    /// when there is no CDN.
    pub(crate) cdn_egress: Vec<LineId>,
    /// Laid out as `cdn_egress`.
    pub(crate) cdn_requests: Vec<LineId>,
    /// Each CDN's flat-rate plan, when it has one.
    pub(crate) cdn_plan: [Option<LineId>; 2],
    /// Empty without a lifecycle rule.
    pub(crate) storage_infrequent: Vec<LineId>,
    /// Empty without a lifecycle rule.
    pub(crate) retrieval: Vec<LineId>,
    /// Empty without a lifecycle rule.
    pub(crate) requests_infrequent: Vec<LineId>,
}

/// One geography's share of requests for the second of two CDNs sharing the load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CdnShare {
    /// Percent of the geography's requests that go to the second CDN.
    pub(crate) second_pct: u8,
    /// The running remainder: each request adds `second_pct`, and one that reaches 100 goes to
    /// the second CDN and takes 100 off, so any run of requests is split within one request.
    pub(crate) acc: u8,
}

/// The cost-alert window: a ring of per-check-interval sums.
#[derive(Clone, Debug)]
pub(crate) struct AlertWindow {
    /// (cost nanos, bytes delivered) per interval, for the watched scope.
    pub(crate) ring: Vec<(i64, u64)>,
    pub(crate) next: usize,
    pub(crate) raised: bool,
    /// Bytes delivered since the last check: (all paths, through the CDN).
    pub(crate) delivered: (u64, u64),
}

/// The reference engine. See the crate documentation for the contract.
///
/// The type parameters are the pluggable policies; the defaults are the seed's behaviour,
/// selectable at run time through the built-in enums.
#[derive(Clone, Debug)]
pub struct Engine<S = SourcePolicy, P = PlacementPolicy, T = TtlPolicy> {
    pub(crate) cfg: EngineConfig,
    pub(crate) topo: Topology,
    pub(crate) selector: S,
    pub(crate) placement: P,
    pub(crate) ttl: T,
    pub(crate) now: SimTime,
    pub(crate) clips: Vec<Clip>,
    /// Views by geography, `demand_ext[clip * side_geos + geo]`, used only when there are more
    /// than [`DEMAND_INLINE`] geographies (else the counters are inside [`Clip`]).
    pub(crate) demand_ext: Vec<u16>,
    /// The geographies counted in `demand_ext` per clip: all of them, or 0 when they fit inline.
    pub(crate) side_geos: usize,
    pub(crate) mirrors: MirrorTable,
    /// One bit per clip, set once its score has reached the replication threshold: a superset of
    /// the clips a sync must look at, so that a sync costs O(clips / 64 + popular clips).
    pub(crate) reached_threshold: Vec<u64>,
    pub(crate) mirror_region_mask: u64,
    /// One per region, then the CDN, then the second CDN.
    pub(crate) health: Vec<TargetHealth>,
    /// Believed health per region (a copy of `health[..regions]`'s states for the request path).
    pub(crate) region_health: Vec<Health>,
    pub(crate) lag: Vec<Option<SimDuration>>,
    pub(crate) stored_bytes: Vec<u64>,
    pub(crate) stored_since: Vec<SimTime>,
    pub(crate) ledger: Ledger,
    pub(crate) lines: Lines,
    pub(crate) alert: AlertWindow,
    pub(crate) counters: Counters,
    pub(crate) active_records: u64,
    pub(crate) outputs: VecDeque<Output>,
    /// Copy retries: (due, sequence, clip, region).
    pub(crate) retries: BinaryHeap<Reverse<(SimTime, u64, u32, u32)>>,
    pub(crate) retry_seq: u64,
    pub(crate) next_sync: SimTime,
    pub(crate) next_cleanup: SimTime,
    pub(crate) next_month: SimTime,
    pub(crate) next_alert: SimTime,
    pub(crate) next_halving: SimTime,
    /// Until when the CDN plans' time is metered.
    pub(crate) plan_since: SimTime,
    /// Per geography, how its requests are shared between two CDNs (empty unless
    /// [`crate::MultiCdn::CostSplit`]).
    pub(crate) cdn_split: Vec<CdnShare>,
    /// The sliding score window, when `score_window` is set.
    pub(crate) window: Option<crate::window::ScoreWindow>,
    pub(crate) scratch: Vec<u32>,
    /// Each clip's upload time, kept only when predictive mirroring or a lifecycle rule is on
    /// (else empty).
    pub(crate) uploaded_at: Vec<SimTime>,
    /// One bit per clip whose primary copy is in the infrequent-access class (empty without a
    /// lifecycle rule).
    pub(crate) infrequent: Vec<u64>,
    /// Of `stored_bytes`, those in the infrequent-access class, per region.
    pub(crate) infrequent_bytes: Vec<u64>,
    /// The first clip whose primary copy has not moved yet: transitions come in upload order.
    pub(crate) next_transition: usize,
    /// When that clip moves (kept for the timer; never without a rule).
    pub(crate) transition_due: SimTime,
    /// Clips below this id are never fresh for predictive mirroring: one past them had past
    /// views ([`Input::PastViews`], a catalog's history), so they are not new uploads.
    pub(crate) first_fresh: usize,
}

impl Engine {
    /// An engine with the seed's policies (chosen from `cfg.mirror`), starting at time 0.
    pub fn new(cfg: EngineConfig) -> Result<Self, ConfigError> {
        let ttl = TtlPolicy::from_config(&cfg.mirror);
        Engine::with_policies(cfg, SourcePolicy::default(), PlacementPolicy::default(), ttl)
    }
}

impl<S: SelectSource, P: PlaceMirrors, T: ExpireMirrors> Engine<S, P, T> {
    /// An engine with the given policies, starting at time 0.
    pub fn with_policies(cfg: EngineConfig, selector: S, placement: P, ttl: T) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let topo = Topology::new(&cfg);
        let side_geos = if topo.geos() > DEMAND_INLINE { topo.geos() } else { 0 };
        let (ledger, lines) = build_ledger(&cfg)?;
        let regions = cfg.regions.len();
        let mirror_region_mask = cfg.mirror.regions.iter().fold(0u64, |m, r| m | 1 << r.0);
        let alert_slots =
            (cfg.billing.cost_alert.window.as_micros() / cfg.billing.cost_alert.check_interval.as_micros()) as usize;
        let start = SimTime::ZERO;
        let mut engine = Engine {
            next_sync: if cfg.mirror.enabled { start + cfg.mirror.sync_interval } else { SimTime::NEVER },
            next_cleanup: start + cfg.mirror.cleanup_interval,
            next_month: start + cfg.billing.month,
            next_alert: start + cfg.billing.cost_alert.check_interval,
            next_halving: cfg.mirror.score_half_life.map_or(SimTime::NEVER, |h| start + h),
            window: cfg.mirror.score_window.map(|w| crate::window::ScoreWindow::new(w, start)),
            topo,
            selector,
            placement,
            ttl,
            now: start,
            clips: Vec::new(),
            demand_ext: Vec::new(),
            side_geos,
            mirrors: MirrorTable::default(),
            reached_threshold: Vec::new(),
            mirror_region_mask,
            health: (0..regions + 2)
                .map(|i| TargetHealth::new(&cfg.health, cfg.probe_normal.get(i).copied().flatten()))
                .collect(),
            region_health: vec![Health::Healthy; regions],
            lag: vec![None; regions],
            stored_bytes: vec![0; regions],
            stored_since: vec![start; regions],
            plan_since: start,
            cdn_split: match cfg.second_cdn {
                Some(SecondCdn { mode: MultiCdn::CostSplit { .. }, .. }) => vec![CdnShare::default(); cfg.geos.len()],
                _ => Vec::new(),
            },
            ledger,
            lines,
            alert: AlertWindow { ring: vec![(0, 0); alert_slots], next: 0, raised: false, delivered: (0, 0) },
            counters: Counters::default(),
            active_records: 0,
            outputs: VecDeque::new(),
            retries: BinaryHeap::new(),
            retry_seq: 0,
            scratch: Vec::new(),
            uploaded_at: Vec::new(),
            first_fresh: 0,
            infrequent: Vec::new(),
            infrequent_bytes: vec![0; regions],
            next_transition: 0,
            transition_due: SimTime::NEVER,
            cfg,
        };
        engine.rebalance_cdns();
        Ok(engine)
    }

    /// Reserves room for `clips` clips, so that a large catalog loads without regrowth.
    pub fn reserve_clips(&mut self, clips: usize) {
        self.clips.reserve(clips);
        self.reached_threshold.reserve(clips.div_ceil(64));
        if self.keeps_upload_times() {
            self.uploaded_at.reserve(clips);
        }
        if self.cfg.lifecycle.is_some() {
            self.infrequent.reserve(clips.div_ceil(64));
        }
        self.demand_ext.reserve(clips.saturating_mul(self.side_geos));
        if let Some(w) = &mut self.window {
            w.reserve(clips);
        }
    }

    pub(crate) fn advance(&mut self, now: SimTime) -> Result<(), EngineError> {
        if now < self.now {
            return Err(EngineError::TimeWentBackwards { now, last: self.now });
        }
        self.now = now;
        Ok(())
    }

    pub(crate) fn check_clip(&self, clip: ClipId) -> Result<&Clip, EngineError> {
        self.clips.get(clip.index()).ok_or(EngineError::UnknownClip { clip, clips: self.clips.len() })
    }

    fn check_region(&self, region: RegionId) -> Result<(), EngineError> {
        if region.index() >= self.topo.regions() {
            return Err(EngineError::UnknownRegion { region, regions: self.topo.regions() });
        }
        Ok(())
    }

    /// Handles one input at time `now`. On error nothing changed.
    pub fn handle_input(&mut self, now: SimTime, input: Input) -> Result<(), EngineError> {
        if now < self.now {
            return Err(EngineError::TimeWentBackwards { now, last: self.now });
        }
        match input {
            Input::ClipUploaded { clip, size, primary } => {
                let expected = ClipId(self.clips.len() as u32);
                if clip != expected {
                    return Err(EngineError::ClipIdNotNext { clip, expected });
                }
                if self.clips.len() >= CLIPS_MAX {
                    return Err(EngineError::TooManyClips);
                }
                if size.0 == 0 {
                    return Err(EngineError::EmptyClip { clip });
                }
                self.check_region(primary)?;
                self.now = now;
                self.clips.push(Clip {
                    size_bytes: size.0,
                    views: 0,
                    votes: 0,
                    first_mirror: NONE,
                    primary: primary.0 as u8,
                    records: 0,
                    demand: [0; DEMAND_INLINE],
                });
                self.demand_ext.extend(std::iter::repeat_n(0, self.side_geos));
                if self.keeps_upload_times() {
                    self.uploaded_at.push(now);
                }
                if self.cfg.lifecycle.is_some() && clip.index().is_multiple_of(64) {
                    self.infrequent.push(0);
                }
                if let Some(w) = &mut self.window {
                    w.add_clip();
                }
                if clip.index().is_multiple_of(64) {
                    self.reached_threshold.push(0);
                }
                self.note_score(clip.index());
                self.change_stored(primary, size.0 as i64, now);
                // A clip already past the rule's age (an old catalog) is stored infrequent at once.
                self.run_transitions(now);
                debug_assert_eq!(self.clips.len(), clip.index() + 1, "clip ids are dense");
                debug_assert_eq!(self.reached_threshold.len(), self.clips.len().div_ceil(64), "a bit per clip");
                debug_assert_eq!(self.demand_ext.len(), self.clips.len() * self.side_geos, "a side row per clip");
                debug_assert_eq!(
                    self.infrequent.len(),
                    if self.cfg.lifecycle.is_some() { self.clips.len().div_ceil(64) } else { 0 },
                    "a storage-class bit per clip, with a lifecycle rule only"
                );
            }
            Input::PastViews { clip, geo, views } => {
                self.check_clip(clip)?;
                if geo.index() >= self.topo.geos() {
                    return Err(EngineError::UnknownGeo { geo, geos: self.topo.geos() });
                }
                self.now = now;
                let before = self.clips[clip.index()].views;
                self.clips[clip.index()].views = before.saturating_add(views);
                if let Some(w) = &mut self.window {
                    w.past_views(clip.index(), views);
                }
                self.add_demand(clip.index(), geo.index(), views);
                self.note_score(clip.index());
                self.first_fresh = self.first_fresh.max(clip.index() + 1);
                debug_assert!(self.clips[clip.index()].views >= before, "views only grow");
            }
            Input::Vote { clip, delta } => {
                self.check_clip(clip)?;
                self.now = now;
                let c = &mut self.clips[clip.index()];
                c.votes = c.votes.saturating_add(delta);
                if let Some(w) = &mut self.window {
                    w.vote(clip.index(), delta);
                }
                self.note_score(clip.index());
            }
            Input::Probe { target, ok, latency } => {
                let idx = match target {
                    HealthTarget::Region(r) => {
                        self.check_region(r)?;
                        r.index()
                    }
                    HealthTarget::Cdn => self.topo.regions(),
                    HealthTarget::SecondCdn => self.topo.regions() + 1,
                };
                self.now = now;
                if let Some(from) = self.health[idx].on_probe(&self.cfg.health, ok, latency) {
                    let to = self.health[idx].state();
                    if let HealthTarget::Region(r) = target {
                        self.region_health[r.index()] = to;
                    }
                    self.counters.health_changes += 1;
                    self.outputs.push_back(Output::HealthChanged { target, from, to });
                }
            }
            Input::ReplicationFinished { clip, region } => {
                let idx = self.pending_mirror(clip, region)?;
                self.now = now;
                let score = self.score(&self.clips[clip.index()]);
                let ttl = self.ttl.ttl(clip, score);
                let m = self.mirrors.get_mut(idx);
                m.state = MirrorState::Active;
                m.active_at = now;
                m.expires_at = now + ttl;
                let (source, source_infrequent) = (m.source, m.source_infrequent);
                let size = self.clips[clip.index()].size_bytes;
                self.meter_copy(source, size, source_infrequent);
                self.change_stored(region, size as i64, now);
                self.counters.mirrors_activated += 1;
                self.active_records += 1;
                self.counters.active_mirrors_peak = self.counters.active_mirrors_peak.max(self.active_records);
            }
            Input::ReplicationFailed { clip, region, bytes_transferred } => {
                let idx = self.pending_mirror(clip, region)?;
                let size = Bytes(self.clips[clip.index()].size_bytes);
                if bytes_transferred > size {
                    return Err(EngineError::TransferTooLarge { clip, bytes: bytes_transferred, size });
                }
                self.now = now;
                let m = self.mirrors.get_mut(idx);
                m.failed_attempts = m.failed_attempts.saturating_add(1);
                let (source, failed, source_infrequent) = (m.source, m.failed_attempts, m.source_infrequent);
                self.meter_copy(source, bytes_transferred.0, source_infrequent);
                self.counters.copy_failures += 1;
                if failed >= self.cfg.mirror.copy_attempts_max {
                    let head = &mut self.clips[clip.index()].first_mirror;
                    self.mirrors.remove(head, idx);
                    self.clips[clip.index()].records -= 1;
                    self.counters.mirrors_abandoned += 1;
                    self.outputs.push_back(Output::ReplicationAbandoned { clip, region });
                } else {
                    let m = &self.cfg.mirror;
                    let backoff =
                        m.retry_backoff_base.saturating_mul(1u64 << (failed - 1).min(32)).min(m.retry_backoff_max);
                    self.retry_seq += 1;
                    self.retries.push(Reverse((now + backoff, self.retry_seq, clip.0, region.0)));
                }
            }
            Input::ReplicationLag { region, lag } => {
                self.check_region(region)?;
                self.now = now;
                self.lag[region.index()] = Some(lag);
            }
            Input::PriceChange { meter, provider, zone, table } => {
                if provider.index() >= self.cfg.providers.len() {
                    return Err(EngineError::UnknownProvider { provider, providers: self.cfg.providers.len() });
                }
                self.now = now;
                self.accrue_time_meters(now);
                self.ledger.set_rate(meter, provider, zone, &table);
                self.rebalance_cdns();
            }
        }
        Ok(())
    }

    fn pending_mirror(&self, clip: ClipId, region: RegionId) -> Result<u32, EngineError> {
        let head = self.check_clip(clip)?.first_mirror;
        self.mirrors
            .find(head, region)
            .filter(|&i| self.mirrors.get(i).state == MirrorState::Pending)
            .ok_or(EngineError::NoPendingMirror { clip, region })
    }

    /// Meters `bytes` copied out of `source`: inter-region traffic, and a retrieval when the copy
    /// reads an infrequent-access primary (`source_infrequent`, judged when it was ordered).
    fn meter_copy(&mut self, source: RegionId, bytes: u64, source_infrequent: bool) {
        self.ledger.add(self.lines.inter_region[source.index()], bytes as u128);
        self.counters.replication_bytes += bytes;
        if source_infrequent {
            self.ledger.add(self.lines.retrieval[source.index()], bytes as u128);
        }
    }

    /// Whether upload times are kept: predictive mirroring and the lifecycle rule need them.
    fn keeps_upload_times(&self) -> bool {
        self.cfg.mirror.predict.is_some() || self.cfg.lifecycle.is_some()
    }

    /// Whether clip `i`'s primary copy is in the infrequent-access class. O(1).
    #[inline]
    pub(crate) fn is_infrequent(&self, i: usize) -> bool {
        self.infrequent.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// When the next primary copy moves to the infrequent-access class (never without a rule,
    /// or once every clip has moved).
    fn next_transition_at(&self) -> SimTime {
        match (&self.cfg.lifecycle, self.uploaded_at.get(self.next_transition)) {
            (Some(rule), Some(&uploaded)) => rule.transition_at(uploaded),
            _ => SimTime::NEVER,
        }
    }

    /// Moves every primary copy due by `now` to the infrequent-access class, each at its own
    /// time, in upload order (the order of their due times).
    pub(crate) fn run_transitions(&mut self, now: SimTime) {
        loop {
            let at = self.next_transition_at();
            if at > now {
                self.transition_due = at;
                return;
            }
            let i = self.next_transition;
            let (region, size) = (RegionId(u32::from(self.clips[i].primary)), self.clips[i].size_bytes);
            self.accrue_storage(region, at.max(self.stored_since[region.index()]));
            self.infrequent_bytes[region.index()] += size;
            self.infrequent[i / 64] |= 1 << (i % 64);
            self.next_transition += 1;
            self.counters.transitions_infrequent += 1;
        }
    }

    /// Accrues a region's storage up to `at`, then changes its stored bytes by `delta`.
    pub(crate) fn change_stored(&mut self, region: RegionId, delta: i64, at: SimTime) {
        self.accrue_storage(region, at);
        let s = &mut self.stored_bytes[region.index()];
        *s = s.checked_add_signed(delta).expect("stored bytes never go below zero");
    }

    pub(crate) fn accrue_storage(&mut self, region: RegionId, at: SimTime) {
        let r = region.index();
        debug_assert!(at >= self.stored_since[r], "storage accrues forward in time");
        let elapsed = at.saturating_since(self.stored_since[r]).as_micros();
        if elapsed == 0 {
            // Nothing to meter (the catalog's uploads at time 0, several changes at one instant).
            return;
        }
        meter_storage(&mut self.ledger, &self.lines, r, self.stored_bytes[r], self.infrequent_bytes[r], elapsed);
        self.stored_since[r] = at;
    }

    /// Meters the time-based usage up to `at`: storage in every region and the CDN's plan.
    pub(crate) fn accrue_time_meters(&mut self, at: SimTime) {
        for r in 0..self.topo.regions() {
            self.accrue_storage(RegionId(r as u32), at);
        }
        debug_assert!(at >= self.plan_since, "plan time accrues forward");
        for line in self.lines.cdn_plan.into_iter().flatten() {
            self.ledger.add(line, u128::from(at.saturating_since(self.plan_since).as_micros()));
        }
        self.plan_since = at;
    }

    /// With two CDNs splitting the load by cost ([`MultiCdn::CostSplit`]): gives each
    /// geography's larger share to the CDN whose next byte (then next request) is cheaper there
    /// now, and the pricier one `min_share_pct`; equal prices split evenly. O(geographies).
    pub(crate) fn rebalance_cdns(&mut self) {
        let Some(SecondCdn { mode: MultiCdn::CostSplit { min_share_pct }, .. }) = self.cfg.second_cdn else {
            return;
        };
        let min_pct = min_share_pct as u8;
        let geos = self.topo.geos();
        for g in 0..geos {
            let price = |cdn: usize| {
                let line = cdn * geos + g;
                (
                    self.ledger.marginal_rate(self.lines.cdn_egress[line]),
                    self.ledger.marginal_rate(self.lines.cdn_requests[line]),
                )
            };
            self.cdn_split[g].second_pct = match price(0).cmp(&price(1)) {
                std::cmp::Ordering::Less => min_pct,
                std::cmp::Ordering::Greater => 100 - min_pct,
                std::cmp::Ordering::Equal => 50,
            };
        }
    }

    /// Marks clip `i` for the sync pass if its score has reached the threshold. O(1).
    #[inline]
    pub(crate) fn note_score(&mut self, i: usize) {
        if self.score(&self.clips[i]) >= self.cfg.mirror.replication_threshold as i64 {
            self.reached_threshold[i / 64] |= 1 << (i % 64);
        }
    }

    pub(crate) fn score(&self, c: &Clip) -> i64 {
        let m = &self.cfg.mirror;
        i64::from(c.views) * i64::from(m.view_weight) + i64::from(c.votes) * i64::from(m.vote_weight)
    }

    /// The next output, if any. Drain until `None` after every input and timeout.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the engine next wants [`Engine::handle_timeout`] called.
    pub fn poll_timeout(&self) -> SimTime {
        self.job_timers().iter().map(|t| t.0).min().expect("six jobs")
    }

    /// Runs every job due at or before `now`, each at its own scheduled time, in time order;
    /// jobs due at the same time run in the order: month close, cost-alert check, cleanup, sync,
    /// copy retries, storage-class transitions.
    pub fn handle_timeout(&mut self, now: SimTime) -> Result<(), EngineError> {
        self.advance(now)?;
        loop {
            let timers = self.job_timers();
            let (job, &(at, _)) = Job::ALL.iter().zip(&timers).min_by_key(|(j, t)| (t.0, **j)).expect("six jobs");
            if at > now {
                break;
            }
            debug_assert!(at <= now, "a job runs only once it is due");
            match job {
                Job::MonthClose => self.close_month(at),
                Job::CostAlertCheck => self.check_cost_alert(at),
                Job::Cleanup => self.cleanup(at),
                Job::Sync => self.sync(at),
                Job::CopyRetry => self.retry_copy(at),
                Job::Lifecycle => self.run_transitions(at),
            }
            // Each job reschedules itself (a retry leaves the queue), so the loop moves on.
            let i = *job as usize;
            assert!(self.job_timers()[i] != timers[i], "{job:?} ran at {at} and did not reschedule");
        }
        Ok(())
    }

    /// When each job ([`Job`], in its order) is next due; a copy retry with its sequence number
    /// (the others' are 0).
    fn job_timers(&self) -> [(SimTime, u64); 6] {
        let retry = self.retries.peek().map_or((SimTime::NEVER, 0), |Reverse((t, seq, ..))| (*t, *seq));
        let lifecycle = (self.transition_due, 0);
        [(self.next_month, 0), (self.next_alert, 0), (self.next_cleanup, 0), (self.next_sync, 0), retry, lifecycle]
    }

    /// Accrues storage up to `now` and closes the current (possibly partial) billing month, so
    /// that [`Engine::bills`] covers the whole run. Call once, at the end.
    pub fn close_books(&mut self, now: SimTime) -> Result<(), EngineError> {
        self.advance(now)?;
        self.accrue_time_meters(now);
        let month = self.ledger.close_month(now);
        let (month, total) = (month.month, month.total());
        self.outputs.push_back(Output::MonthClosed { month, total });
        self.next_month = SimTime::NEVER;
        Ok(())
    }

    // ----- getters -----

    /// The latest time handled.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Regions, geographies and latencies.
    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Number of clips uploaded.
    pub fn clip_count(&self) -> usize {
        self.clips.len()
    }

    /// A clip's size.
    pub fn clip_size(&self, clip: ClipId) -> Result<Bytes, EngineError> {
        Ok(Bytes(self.check_clip(clip)?.size_bytes))
    }

    /// A clip's primary region.
    pub fn clip_primary(&self, clip: ClipId) -> Result<RegionId, EngineError> {
        Ok(RegionId(u32::from(self.check_clip(clip)?.primary)))
    }

    /// A clip's popularity score: views x view_weight + votes x vote_weight.
    pub fn popularity_score(&self, clip: ClipId) -> Result<i64, EngineError> {
        Ok(self.score(self.check_clip(clip)?))
    }

    /// A clip's mirror records, newest first.
    pub fn mirrors_of(&self, clip: ClipId) -> Result<impl Iterator<Item = &Mirror> + '_, EngineError> {
        let head = self.check_clip(clip)?.first_mirror;
        Ok(self.mirrors.chain(head).map(|(_, m)| m))
    }

    /// Every mirror record, in slot order.
    pub fn all_mirrors(&self) -> impl Iterator<Item = &Mirror> + '_ {
        self.mirrors.iter().map(|(_, m)| m)
    }

    /// The believed health of a target.
    pub fn health(&self, target: HealthTarget) -> Health {
        match target {
            HealthTarget::Region(r) => self.region_health.get(r.index()).copied().unwrap_or(Health::Unhealthy),
            HealthTarget::Cdn => self.health[self.topo.regions()].state(),
            HealthTarget::SecondCdn => self.health[self.topo.regions() + 1].state(),
        }
    }

    /// Bytes stored in a region now.
    pub fn stored_bytes(&self, region: RegionId) -> Bytes {
        Bytes(self.stored_bytes.get(region.index()).copied().unwrap_or(0))
    }

    /// Bills of every closed month.
    pub fn bills(&self) -> &[MonthBill] {
        self.ledger.closed_months()
    }

    /// The current month's bill as if it closed at `now` (storage and a plan's time accrued to
    /// `now`).
    pub fn bill_preview(&self, now: SimTime) -> MonthBill {
        let mut ledger = self.ledger.clone();
        for r in 0..self.topo.regions() {
            let elapsed = now.saturating_since(self.stored_since[r]).as_micros();
            meter_storage(&mut ledger, &self.lines, r, self.stored_bytes[r], self.infrequent_bytes[r], elapsed);
        }
        for line in self.lines.cdn_plan.into_iter().flatten() {
            ledger.add(line, u128::from(now.saturating_since(self.plan_since).as_micros()));
        }
        ledger.close_month(now).clone()
    }

    /// Every bill line key, in the order bills list them.
    pub fn line_keys(&self) -> impl Iterator<Item = LineKey> + '_ {
        self.ledger.keys()
    }

    /// Bytes of engine state per clip: the clip record, plus side-table demand counters when there
    /// are more than five geographies.
    pub fn state_bytes_per_clip(&self) -> usize {
        size_of::<Clip>() + size_of::<u16>() * self.side_geos
    }

    /// Counts one view of clip `i` from geography `g`, halving the clip's counters when one is full.
    #[inline]
    pub(crate) fn bump_demand(&mut self, i: usize, g: usize) {
        let (geos, side) = (self.topo.geos(), self.side_geos);
        let counters: &mut [u16] =
            if side == 0 { &mut self.clips[i].demand[..geos] } else { &mut self.demand_ext[i * side..(i + 1) * side] };
        if counters[g] == u16::MAX {
            for c in counters.iter_mut() {
                *c /= 2;
            }
        }
        counters[g] += 1;
    }

    /// Adds `n` views from geography `g` to clip `i`'s demand, exactly as `n` calls of
    /// [`Engine::bump_demand`] would, in O(1 + n / 32,768) steps: fill the counter, halve every
    /// counter of the clip when it is full, go on.
    fn add_demand(&mut self, i: usize, g: usize, n: u32) {
        let (geos, side) = (self.topo.geos(), self.side_geos);
        let counters: &mut [u16] =
            if side == 0 { &mut self.clips[i].demand[..geos] } else { &mut self.demand_ext[i * side..(i + 1) * side] };
        let mut n = n;
        while n > 0 {
            if counters[g] == u16::MAX {
                for c in counters.iter_mut() {
                    *c /= 2;
                }
            }
            let step = n.min(u32::from(u16::MAX - counters[g]));
            counters[g] += step as u16;
            n -= step;
        }
    }

    /// Clip `i`'s demand by geography, widened.
    pub(crate) fn demand_of(&self, i: usize) -> [u32; crate::config::GEOS_MAX] {
        let (geos, side) = (self.topo.geos(), self.side_geos);
        let counters: &[u16] =
            if side == 0 { &self.clips[i].demand[..geos] } else { &self.demand_ext[i * side..(i + 1) * side] };
        let mut out = [0u32; crate::config::GEOS_MAX];
        for (o, c) in out.iter_mut().zip(counters) {
            *o = u32::from(*c);
        }
        out
    }

    /// Gauges and counters under the seed's names.
    pub fn metrics(&self, now: SimTime) -> MetricsSnapshot {
        let (mut active, mut expired, mut pending) = (0, 0, 0);
        for (_, m) in self.mirrors.iter() {
            match m.state {
                MirrorState::Pending => pending += 1,
                MirrorState::Active if m.serveable(now) => active += 1,
                MirrorState::Active => expired += 1,
            }
        }
        let cdn_bytes = self.lines.cdn_egress.iter().map(|&l| self.ledger_usage(l)).sum::<u128>();
        MetricsSnapshot {
            counters: self.counters.clone(),
            total_active_mirrors: active,
            expired_awaiting_cleanup: expired,
            pending_mirrors: pending,
            cdn_bandwidth_bytes: u64::try_from(cdn_bytes).unwrap_or(u64::MAX),
            cdn_latency_avg: self.health[self.topo.regions()].latency_avg(),
            regions: (0..self.topo.regions())
                .map(|r| RegionGauges {
                    name: self.topo.region_name(RegionId(r as u32)).to_string(),
                    health: self.region_health[r],
                    latency: self.health[r].latency_avg(),
                    replication_lag: self.lag[r],
                    stored_bytes: self.stored_bytes[r],
                })
                .collect(),
        }
    }

    fn ledger_usage(&self, line: LineId) -> u128 {
        let closed: u128 =
            self.ledger.closed_months().iter().flat_map(|m| m.lines.get(line.0 as usize)).map(|l| l.usage).sum();
        closed + self.ledger.usage_this_month(line)
    }
}

/// Meters `elapsed` microseconds of region `r` storing `stored` bytes, `infrequent` of them in
/// the infrequent-access class.
fn meter_storage(ledger: &mut Ledger, lines: &Lines, r: usize, stored: u64, infrequent: u64, elapsed: u64) {
    debug_assert!(infrequent <= stored, "infrequent bytes are stored bytes");
    ledger.add(lines.storage[r], u128::from(stored - infrequent) * u128::from(elapsed));
    if infrequent > 0 {
        ledger.add(lines.storage_infrequent[r], u128::from(infrequent) * u128::from(elapsed));
    }
}

/// Builds one line per (meter, provider, zone) the topology uses, with its rate table.
fn build_ledger(cfg: &EngineConfig) -> Result<(Ledger, Lines), ConfigError> {
    let mut ledger = Ledger::new(SimTime::ZERO);
    let mut lines = Lines::default();
    let add = |ledger: &mut Ledger, meter: Meter, provider: ProviderId, zone: u32| {
        let table = cfg.rate_for(meter, provider, zone).ok_or_else(|| ConfigError::MissingRate {
            meter: meter.name(),
            provider: cfg.providers[provider.index()].clone(),
            zone: cfg.zone_name(meter, zone).to_string(),
        })?;
        Ok::<_, ConfigError>(ledger.add_line(LineKey { meter, provider, zone }, table.clone()))
    };
    for (r, region) in cfg.regions.iter().enumerate() {
        let (p, z) = (region.storage_provider, r as u32);
        lines.storage.push(add(&mut ledger, Meter::StorageByteTime, p, z)?);
        lines.origin_direct.push(add(&mut ledger, Meter::OriginEgressDirect, p, z)?);
        lines.origin_to_cdn.push(add(&mut ledger, Meter::OriginEgressToCdn, p, z)?);
        lines.origin_requests.push(add(&mut ledger, Meter::OriginRequests, p, z)?);
        lines.inter_region.push(add(&mut ledger, Meter::InterRegion, p, z)?);
        if cfg.lifecycle.is_some() {
            lines.storage_infrequent.push(add(&mut ledger, Meter::StorageInfrequent, p, z)?);
            lines.retrieval.push(add(&mut ledger, Meter::Retrieval, p, z)?);
            lines.requests_infrequent.push(add(&mut ledger, Meter::RequestsInfrequent, p, z)?);
        }
    }
    let second = cfg.second_cdn.map(|s| s.provider);
    for (i, cdn) in cfg.cdn_provider.into_iter().chain(second).enumerate() {
        for g in 0..cfg.geos.len() as u32 {
            lines.cdn_egress.push(add(&mut ledger, Meter::CdnEgress, cdn, g)?);
            lines.cdn_requests.push(add(&mut ledger, Meter::CdnRequests, cdn, g)?);
        }
        // A flat-rate plan is optional: its line exists only when it has a price.
        if cfg.rate_for(Meter::CdnPlan, cdn, 0).is_some() {
            lines.cdn_plan[i] = Some(add(&mut ledger, Meter::CdnPlan, cdn, 0)?);
        }
    }
    for a in &cfg.billing.allowances {
        ledger.add_allowance(a.units_per_month, |k| k.provider == a.provider && a.meters.contains(&k.meter));
    }
    Ok((ledger, lines))
}

// The per-clip budget (at most 64 bytes) and one cache line per request depend on this.
const _: () = assert!(size_of::<Clip>() == 32);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GeoId, Input, Meter, RateTable};

    /// An engine with one region and `geos` geographies, and one clip.
    fn engine(geos: u32) -> Engine {
        let mut cfg = EngineConfig::new();
        let s3 = cfg.add_provider("s3");
        let r = cfg.add_region("r", s3);
        for g in 0..geos {
            let g = cfg.add_geo(&format!("g{g}"));
            cfg.set_latency_ms(r, g, 10);
        }
        for m in Meter::ALL.into_iter().filter(|m| !m.zone_is_geo()) {
            cfg.set_rate(m, s3, RateTable::flat(1).unwrap());
        }
        let mut e = Engine::new(cfg).unwrap();
        for c in 0..3 {
            let input = Input::ClipUploaded { clip: ClipId(c), size: Bytes(1), primary: RegionId(0) };
            e.handle_input(SimTime::ZERO, input).unwrap();
        }
        e
    }

    /// Upload times cost 8 bytes a clip (the memory estimate counts them): kept only for
    /// predictive mirroring or a lifecycle rule.
    #[test]
    fn upload_times_are_kept_only_when_a_policy_needs_them() {
        let kept = |predict: bool, lifecycle: bool| {
            let mut cfg = engine(1).cfg;
            cfg.mirror.predict = predict
                .then_some(crate::Predict { age: SimDuration::from_days(1), horizon: SimDuration::from_days(2) });
            cfg.lifecycle = lifecycle.then_some(crate::Lifecycle {
                infrequent_after: SimDuration::from_days(30),
                catalog_age: SimDuration::ZERO,
            });
            let mut e = Engine::new(cfg).unwrap();
            let input = Input::ClipUploaded { clip: ClipId(0), size: Bytes(1), primary: RegionId(0) };
            e.handle_input(SimTime::ZERO, input).unwrap();
            e.uploaded_at.len()
        };
        assert_eq!([kept(false, false), kept(true, false), kept(false, true), kept(true, true)], [0, 1, 1, 1]);
    }

    /// An allowance reaches the lines of its provider and meters only: storage of one provider's
    /// region draws on it, the same meter of another provider's region and another meter of the
    /// same provider do not, though it has room left.
    #[test]
    fn an_allowance_reaches_its_providers_meters_only() {
        let mut cfg = EngineConfig::new();
        let (s3, gcs) = (cfg.add_provider("s3"), cfg.add_provider("gcs"));
        let (r0, r1) = (cfg.add_region("r0", s3), cfg.add_region("r1", gcs));
        let g = cfg.add_geo("g");
        cfg.set_latency_ms(r0, g, 10);
        cfg.set_latency_ms(r1, g, 10);
        for m in Meter::ALL.into_iter().filter(|m| !m.zone_is_geo()) {
            for p in [s3, gcs] {
                cfg.set_rate(m, p, RateTable::flat(1_000_000_000).unwrap());
            }
        }
        let gb_month = crate::billing::BYTE_MICROS_PER_GB_MONTH;
        cfg.add_allowance(s3, &[Meter::StorageByteTime], 3 * gb_month);
        let mut e = Engine::new(cfg).unwrap();
        for (clip, region) in [(0, r0), (1, r1)] {
            let input = Input::ClipUploaded { clip: ClipId(clip), size: Bytes(2_000_000_000), primary: region };
            e.handle_input(SimTime::ZERO, input).unwrap();
        }
        let month = SimTime::ZERO + SimDuration::from_days(30);
        while e.poll_timeout() <= month {
            e.handle_timeout(e.poll_timeout()).unwrap();
        }
        let free = |meter: Meter, zone: u32| {
            e.bills()[0].lines.iter().find(|l| l.key.meter == meter && l.key.zone == zone).map(|l| l.free)
        };
        assert_eq!(free(Meter::StorageByteTime, 0), Some(2 * gb_month), "s3's storage: all of its 2 GB-month");
        assert_eq!(free(Meter::StorageByteTime, 1), Some(0), "gcs's storage: none, 1 GB-month left");
        assert_eq!(free(Meter::OriginEgressDirect, 0), Some(0), "another meter of s3: none");
    }

    /// A CDN's flat-rate plan is billed for the time it is held, a 30-day month at its monthly
    /// price, on one line; a CDN without a plan price has no such line.
    #[test]
    fn a_flat_rate_plan_bills_its_fee_per_month_on_one_line() {
        for plan in [None, Some(15_000_000_000u64)] {
            let mut cfg = EngineConfig::new();
            let s3 = cfg.add_provider("s3");
            let cdn = cfg.add_provider("cdn");
            let r = cfg.add_region("r", s3);
            for g in ["a", "b"] {
                let g = cfg.add_geo(g);
                cfg.set_latency_ms(r, g, 10);
            }
            cfg.set_cdn(cdn);
            for m in Meter::ALL.into_iter().filter(|&m| m != Meter::CdnPlan) {
                cfg.set_rate(m, if m.zone_is_geo() { cdn } else { s3 }, RateTable::flat(0).unwrap());
            }
            if let Some(nanos) = plan {
                cfg.set_rate(Meter::CdnPlan, cdn, RateTable::flat(nanos).unwrap());
            }
            let mut e = Engine::new(cfg).unwrap();
            let month = SimTime::ZERO + SimDuration::from_days(30);
            let half = SimTime::ZERO + SimDuration::from_days(15);
            // A price change mid-month meters the plan's time so far at the old price.
            let doubled = RateTable::flat(plan.unwrap_or(0) * 2).unwrap();
            let change = Input::PriceChange { meter: Meter::CdnPlan, provider: cdn, zone: None, table: doubled };
            while e.poll_timeout() < half {
                e.handle_timeout(e.poll_timeout()).unwrap();
            }
            let preview = e.bill_preview(half);
            let plan_cost: Vec<i64> =
                preview.lines.iter().filter(|l| l.key.meter == Meter::CdnPlan).map(|l| l.cost.0).collect();
            assert_eq!(plan_cost, plan.map(|n| n as i64 / 2).into_iter().collect::<Vec<_>>(), "half a month so far");
            e.handle_input(half, change).unwrap();
            while e.poll_timeout() <= month {
                e.handle_timeout(e.poll_timeout()).unwrap();
            }
            let bill = &e.bills()[0];
            let lines: Vec<_> = bill.lines.iter().filter(|l| l.key.meter == Meter::CdnPlan).collect();
            match plan {
                None => assert!(lines.is_empty()),
                Some(nanos) => {
                    assert_eq!(lines.len(), 1);
                    assert_eq!(lines[0].usage, 30 * 86_400 * 1_000_000);
                    assert_eq!(
                        lines[0].cost,
                        crate::MoneyNanos((nanos / 2 + nanos) as i64),
                        "half a month at 15, half at 30"
                    );
                    assert_eq!(e.config().zone_name(Meter::CdnPlan, 0), "every zone");
                }
            }
        }
    }

    /// Demand counters of a clip, inline (up to five geographies) or in the side table (more):
    /// each clip counts its own views per geography, and when one counter is full every counter
    /// of that clip is halved, so that the mix of viewers is kept.
    #[test]
    fn demand_counts_views_per_clip_and_geography_and_halves_when_full() {
        for geos in [3, 7] {
            let mut e = engine(geos);
            let last = geos as usize - 1;
            for _ in 0..u16::MAX {
                e.bump_demand(1, last);
            }
            for _ in 0..1001 {
                e.bump_demand(1, 1);
            }
            e.bump_demand(2, 0);
            let mut want = [0u32; crate::config::GEOS_MAX];
            want[last] = u32::from(u16::MAX);
            want[1] = 1001;
            assert_eq!(e.demand_of(1), want, "{geos} geographies: clip 1 before its counter overflows");
            assert_eq!(e.demand_of(0), [0; crate::config::GEOS_MAX], "clip 0 was not viewed");
            let mut one = [0u32; crate::config::GEOS_MAX];
            one[0] = 1;
            assert_eq!(e.demand_of(2), one, "clip 2's one view");
            // The last counter is full: the next view halves clip 1's counters first, then counts.
            e.bump_demand(1, last);
            want[last] = u32::from(u16::MAX / 2) + 1;
            want[1] = 500;
            assert_eq!(e.demand_of(1), want, "{geos} geographies: halved");
            assert_eq!(e.demand_of(2), one, "clip 2 is not halved");
        }
    }

    /// Past views count as that many views would: the same view count, score, threshold bits
    /// and demand counters (halvings included) as views one at a time.
    #[test]
    fn past_views_count_as_views_one_at_a_time() {
        for geos in [3, 7] {
            let mut past = engine(geos);
            let mut live = engine(geos);
            let plan = [(0usize, 70_000u32), (1, 30_000), (0, 5), (2, 1), (1, 200_000)];
            for &(g, n) in &plan {
                let input = Input::PastViews { clip: ClipId(1), geo: GeoId(g as u32), views: n };
                past.handle_input(SimTime::ZERO, input).unwrap();
                for _ in 0..n {
                    let req = live.begin_request(SimTime::ZERO, ClipId(1), GeoId(g as u32)).unwrap();
                    live.finish(&req, live.next_step(SimTime::ZERO, &req)).unwrap();
                }
            }
            assert_eq!(past.clips[1].views, live.clips[1].views, "{geos} geographies: views");
            assert_eq!(past.score(&past.clips[1]), live.score(&live.clips[1]), "{geos} geographies: score");
            assert_eq!(past.reached_threshold, live.reached_threshold, "{geos} geographies: threshold bits");
            assert_eq!(past.demand_of(1), live.demand_of(1), "{geos} geographies: demand");
            assert_eq!(past.demand_of(0), [0; crate::config::GEOS_MAX], "other clips untouched");
            let bad = Input::PastViews { clip: ClipId(1), geo: GeoId(geos), views: 1 };
            assert!(past.handle_input(SimTime::ZERO, bad).is_err(), "an unknown geography is refused");
        }
    }

    /// The clip record is 32 bytes; beyond five geographies each clip also has a u16 per geography.
    #[test]
    fn state_per_clip_is_the_record_plus_the_side_table() {
        assert_eq!(engine(5).state_bytes_per_clip(), 32);
        assert_eq!(engine(6).state_bytes_per_clip(), 32 + 12);
        assert_eq!(engine(7).state_bytes_per_clip(), 32 + 14);
    }
}
