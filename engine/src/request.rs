//! The per-request fast path: O(1) expected, no allocation.
//!
//! A request is a small `Copy` value the caller holds while it serves it:
//!
//! 1. [`Engine::begin_request`] counts the view and says whether the CDN may be used.
//! 2. [`Engine::next_step`] names what to try: the edge, a copy (through the CDN or directly),
//!    or nothing left ([`Step::Failed`]).
//! 3. The caller tries it. An edge miss is [`Request::edge_missed`], an expired copy at the edge
//!    [`Request::edge_expired`] (revalidated with the origin: a request fee, no bytes); a failed
//!    attempt (timeout, error) is [`Engine::attempt_failed`], which counts a failover; then back
//!    to step 2.
//! 4. [`Engine::finish`] with the step that served the request (or `Step::Failed`) meters the
//!    bytes and requests and counts exactly one outcome.

use crate::config::MIRRORS_PER_CLIP_MAX;
use crate::engine::Engine;
use crate::health::Health;
use crate::ids::{ClipId, GeoId, RegionId};
use crate::io::{EngineError, HealthTarget, Step};
use crate::metrics::ServedFrom;
use crate::mirrors::NONE;
use crate::policy::{
    Candidate, Candidates, ExpireMirrors, PlaceMirrors, RouteView, SelectSource, SourceKind, StackVec,
};
use crate::units::{Bytes, SimTime};

/// Where a request stands with the CDN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CdnPath {
    /// No CDN, or the CDN is believed unhealthy: copies are fetched directly.
    Off,
    /// The edge has not been asked yet.
    Ready,
    /// The edge missed: copies are fetched by the CDN.
    Missed,
    /// The edge's copy had expired: the CDN revalidates it with a copy (a conditional request:
    /// a request fee and a round trip, no body, as the object has not changed).
    Stale,
    /// The CDN failed during this request: copies are fetched directly.
    Failed,
}

/// One request in flight. Only [`Engine::begin_request`] makes one, and it is valid only with
/// the engine that began it: its fields cannot be changed, so no step can meter another clip,
/// size or geography than the request's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    clip: ClipId,
    geo: GeoId,
    size: Bytes,
    start: SimTime,
    tried: u64,
    cdn: CdnPath,
    /// Which CDN: 0 the first, 1 the second (meaningless while `cdn` is `Off` or `Failed`).
    cdn_index: u8,
    failed_attempts: u8,
    /// Served the way a system without the CDN and mirrors would: [`Request::direct`].
    direct: bool,
}

impl Request {
    /// The clip.
    pub fn clip(&self) -> ClipId {
        self.clip
    }

    /// The viewer's geography.
    pub fn geo(&self) -> GeoId {
        self.geo
    }

    /// The clip's size: bytes delivered if served.
    pub fn size(&self) -> Bytes {
        self.size
    }

    /// When it began.
    pub fn start(&self) -> SimTime {
        self.start
    }

    /// The edge did not have the clip: the next steps fetch through the CDN.
    pub fn edge_missed(&mut self) {
        debug_assert_eq!(self.cdn, CdnPath::Ready, "edge_missed after a step other than Edge");
        if self.cdn == CdnPath::Ready {
            self.cdn = CdnPath::Missed;
        }
    }

    /// The edge held the clip but its TTL had run out: the next steps revalidate it through the
    /// CDN with a conditional request to a copy, which bills the origin's request fee but no
    /// bytes (clips never change), while the edge delivers the body as on a hit.
    pub fn edge_expired(&mut self) {
        debug_assert_eq!(self.cdn, CdnPath::Ready, "edge_expired after a step other than Edge");
        if self.cdn == CdnPath::Ready {
            self.cdn = CdnPath::Stale;
        }
    }

    /// Whether the next origin steps revalidate the edge's expired copy rather than fetch it.
    pub fn revalidating(&self) -> bool {
        self.cdn == CdnPath::Stale
    }

    /// Serves this request the way the system without the CDN and mirrors would, straight from
    /// the clip's primary: the control arm of a rollout, whose other requests see the whole
    /// design. The view still counts toward the clip's popularity (it was counted when the
    /// request began). Call before the first [`Engine::next_step`]; afterwards it changes nothing.
    pub fn direct(&mut self) {
        if self.tried == 0 && self.failed_attempts == 0 && matches!(self.cdn, CdnPath::Ready | CdnPath::Off) {
            self.cdn = CdnPath::Off;
            self.direct = true;
        }
    }

    /// The CDN this request uses, if it still uses one: 0 the first, 1 the second
    /// ([`crate::SecondCdn`]); `None` when it skips the CDN (none usable, direct, or its edge
    /// failed during this request).
    pub fn cdn_index(&self) -> Option<usize> {
        match self.cdn {
            CdnPath::Off | CdnPath::Failed => None,
            CdnPath::Ready | CdnPath::Missed | CdnPath::Stale => Some(usize::from(self.cdn_index)),
        }
    }

    /// Whether the request is served directly from the primary ([`Request::direct`]).
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// Attempts that failed so far.
    pub fn failed_attempts(&self) -> u8 {
        self.failed_attempts
    }

    /// Whether the edge missed (or held an expired copy), so that copies are fetched (or
    /// revalidated) through the CDN. (An edge hit ends the request with [`Step::Edge`] without
    /// changing this.)
    pub fn reached_cdn(&self) -> bool {
        matches!(self.cdn, CdnPath::Missed | CdnPath::Stale)
    }
}

impl<S: SelectSource, P: PlaceMirrors, T: ExpireMirrors> Engine<S, P, T> {
    /// Hints that a request for `clip` comes soon, so that its state is on its way into the cache
    /// while the current request is served. A pure performance hint for simulators that serve
    /// millions of requests a second, no effect on any result, and not part of the specification
    /// (a production service has no use for it).
    #[doc(hidden)]
    #[inline]
    pub fn prefetch(&self, clip: ClipId) {
        if let Some(c) = self.clips.get(clip.index()) {
            crate::hint::prefetch(c);
        }
    }

    /// Starts serving a view of `clip` from `geo` at `now`: counts the view toward the clip's
    /// popularity and demand. O(1).
    #[inline(always)]
    pub fn begin_request(&mut self, now: SimTime, clip: ClipId, geo: GeoId) -> Result<Request, EngineError> {
        // Every check comes before any change: a refused request leaves the engine unchanged.
        if now < self.now {
            return Err(EngineError::TimeWentBackwards { now, last: self.now });
        }
        if geo.index() >= self.topo.geos() {
            return Err(EngineError::UnknownGeo { geo, geos: self.topo.geos() });
        }
        let clips = self.clips.len();
        let c = self.clips.get_mut(clip.index()).ok_or(EngineError::UnknownClip { clip, clips })?;
        self.now = now;
        c.views = c.views.saturating_add(1);
        let size = Bytes(c.size_bytes);
        if let Some(w) = &mut self.window {
            w.view(clip.index(), 1);
        }
        self.bump_demand(clip.index(), geo.index());
        self.note_score(clip.index());
        self.counters.requests_total += 1;
        let cdn = if self.cfg.second_cdn.is_some() {
            self.choose_cdn(geo.index())
        } else if !self.lines.cdn_egress.is_empty() && self.health(HealthTarget::Cdn) != Health::Unhealthy {
            Some(0)
        } else {
            None
        };
        Ok(Request {
            clip,
            geo,
            size,
            start: now,
            tried: 0,
            cdn: if cdn.is_some() { CdnPath::Ready } else { CdnPath::Off },
            cdn_index: cdn.unwrap_or(0),
            failed_attempts: 0,
            direct: false,
        })
    }

    /// Which of two CDNs a request from geography `geo` uses ([`crate::MultiCdn`]): the
    /// preferred one (the first in failover mode; by the geography's share when splitting),
    /// else the other if it is not believed unhealthy, else none. O(1).
    fn choose_cdn(&mut self, geo: usize) -> Option<u8> {
        let regions = self.topo.regions();
        let usable = |h: &crate::health::TargetHealth| h.state() != Health::Unhealthy;
        let (first_ok, second_ok) = (usable(&self.health[regions]), usable(&self.health[regions + 1]));
        let second_preferred = match self.cdn_split.get_mut(geo) {
            None => false,
            Some(share) => {
                let acc = share.acc + share.second_pct;
                let second = acc >= 100;
                share.acc = if second { acc - 100 } else { acc };
                second
            }
        };
        match (second_preferred, first_ok, second_ok) {
            (false, true, _) | (true, true, false) => Some(0),
            (true, _, true) | (false, false, true) => Some(1),
            (_, false, false) => None,
        }
    }

    /// What to try next for `req` at `now`. Pure: asking twice gives the same answer.
    ///
    /// The copies are ordered by the source policy; copies believed unhealthy are tried only
    /// after every other copy, and a copy that failed during this request is not tried again.
    /// Pending and expired mirrors are never named.
    #[inline(always)]
    pub fn next_step(&self, now: SimTime, req: &Request) -> Step {
        if req.cdn == CdnPath::Ready {
            return Step::Edge;
        }
        let via_cdn = req.reached_cdn();
        let clip = &self.clips[req.clip.index()];
        if clip.first_mirror == NONE || req.direct {
            // The only copy is the primary (or the only one a direct request may use): every
            // selector orders a one-copy chain the same way.
            let region = RegionId(u32::from(clip.primary));
            return if req.tried & (1u64 << region.0) == 0 {
                Step::Origin { region, kind: SourceKind::Primary, via_cdn }
            } else {
                Step::Failed
            };
        }
        let mut regions = StackVec::<RegionId, MIRRORS_PER_CLIP_MAX>::new(RegionId(0));
        for (_, m) in self.mirrors.chain(clip.first_mirror) {
            if m.serveable(now) {
                regions.push(m.region);
            }
        }
        let view = RouteView {
            geo: req.geo,
            primary: RegionId(u32::from(clip.primary)),
            mirrors: regions.as_slice(),
            health: &self.region_health,
            topology: &self.topo,
        };
        let mut chain = Candidates::new(Candidate { region: RegionId(0), kind: SourceKind::Primary });
        self.selector.order(&view, &mut chain);
        for last_resort in [false, true] {
            for c in chain.as_slice() {
                let untried = req.tried & (1u64 << c.region.0) == 0;
                let unhealthy = self.region_health[c.region.index()] == Health::Unhealthy;
                if untried && unhealthy == last_resort {
                    return Step::Origin { region: c.region, kind: c.kind, via_cdn };
                }
            }
        }
        Step::Failed
    }

    /// The attempt `step` of `req` failed (timed out or errored): counts a failover
    /// (`mirror_failover_total`) and excludes that source for the rest of the request.
    pub fn attempt_failed(&mut self, req: &mut Request, step: Step) -> Result<(), EngineError> {
        match step {
            Step::Edge if req.cdn == CdnPath::Ready => req.cdn = CdnPath::Failed,
            Step::Origin { region, via_cdn, .. } => {
                self.check_origin_step(req, step, region, via_cdn)?;
                req.tried |= 1u64 << region.0;
            }
            _ => return Err(EngineError::StepMismatch { step, reason: "not the request's current step" }),
        }
        req.failed_attempts = req.failed_attempts.saturating_add(1);
        self.counters.failovers += 1;
        Ok(())
    }

    /// Finishes `req`: `step` is the step that served it, or [`Step::Failed`]. Meters delivery
    /// and requests and counts the outcome. Returns the outcome.
    #[inline]
    pub fn finish(&mut self, req: &Request, step: Step) -> Result<ServedFrom, EngineError> {
        let size = req.size.0;
        let from = match step {
            Step::Edge => {
                if req.cdn != CdnPath::Ready {
                    return Err(EngineError::StepMismatch { step, reason: "the edge was not the current step" });
                }
                self.meter_cdn(req, size);
                ServedFrom::Edge
            }
            Step::Origin { region, kind, via_cdn } => {
                self.check_origin_step(req, step, region, via_cdn)?;
                let r = region.index();
                if self.infrequent.is_empty() {
                    // No lifecycle rule: every copy is in the standard class.
                    self.ledger.add(self.lines.origin_requests[r], 1);
                } else {
                    let body = req.cdn != CdnPath::Stale;
                    self.meter_read_with_lifecycle(req.clip.index(), r, size, body);
                }
                if via_cdn {
                    self.meter_cdn(req, size);
                    if req.cdn == CdnPath::Stale {
                        // A conditional request answered "not modified": no body leaves the origin.
                        self.counters.revalidations += 1;
                        self.counters.revalidated_bytes += size;
                    } else {
                        self.ledger.add(self.lines.origin_to_cdn[r], u128::from(size));
                    }
                } else {
                    self.ledger.add(self.lines.origin_direct[r], u128::from(size));
                }
                match (kind, via_cdn) {
                    (SourceKind::LocalMirror, _) => ServedFrom::LocalMirror,
                    (SourceKind::RemoteMirror, _) => ServedFrom::RemoteMirror,
                    (SourceKind::Primary, true) => ServedFrom::PrimaryViaCdn,
                    (SourceKind::Primary, false) => ServedFrom::PrimaryDirect,
                }
            }
            Step::Failed => {
                if req.reached_cdn() {
                    self.counters.cdn_lookups += 1;
                }
                ServedFrom::Failed
            }
        };
        if from != ServedFrom::Failed {
            self.counters.bytes_from[from as usize] += size;
            self.alert.delivered.0 += size;
        }
        self.counters.served_from[from as usize] += 1;
        debug_assert!(self.counters.finished() <= self.counters.requests_total, "one outcome per request begun");
        Ok(from)
    }

    /// Whether an origin step could be the request's current one: the CDN is not to be asked
    /// first, the step goes through the CDN exactly when the edge missed, and it names a known
    /// region not yet tried for this request.
    #[inline]
    fn check_origin_step(&self, req: &Request, step: Step, region: RegionId, via_cdn: bool) -> Result<(), EngineError> {
        let known = region.index() < self.topo.regions();
        let allowed = !req.direct || region.0 == u32::from(self.clips[req.clip.index()].primary);
        if req.cdn == CdnPath::Ready
            || via_cdn != req.reached_cdn()
            || !known
            || !allowed
            || req.tried & (1u64 << region.0) != 0
        {
            return Err(EngineError::StepMismatch { step, reason: "not a step next_step could give" });
        }
        Ok(())
    }

    /// The request fee of a read of clip `i`'s copy in region `r` under a lifecycle rule: the
    /// primary copy (the one in the clip's primary region) in the infrequent-access class bills
    /// its own request fee, and a retrieval fee on the bytes when a body is sent; any other copy
    /// a standard request. Out of line and marked cold so that the path without a rule (every
    /// read, in most scenarios) carries one test; with a rule every origin read takes this call.
    #[cold]
    #[inline(never)]
    fn meter_read_with_lifecycle(&mut self, i: usize, r: usize, size: u64, body: bool) {
        if u32::from(self.clips[i].primary) == r as u32 && self.is_infrequent(i) {
            self.ledger.add(self.lines.requests_infrequent[r], 1);
            if body {
                self.ledger.add(self.lines.retrieval[r], u128::from(size));
            }
        } else {
            self.ledger.add(self.lines.origin_requests[r], 1);
        }
    }

    fn meter_cdn(&mut self, req: &Request, size: u64) {
        let line = usize::from(req.cdn_index) * self.topo.geos() + req.geo.index();
        self.ledger.add(self.lines.cdn_egress[line], u128::from(size));
        self.ledger.add(self.lines.cdn_requests[line], 1);
        self.counters.cdn_lookups += 1;
        self.alert.delivered.1 += size;
    }
}
