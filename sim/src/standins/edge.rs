//! The CDN: one edge cache per viewer geography, each with the scenario's eviction policy and
//! the CDN's cache TTL. A request asks its geography's edge; a miss is filled from the origin the
//! engine picks, and the clip stays cached until its TTL runs out or it is evicted. A copy whose
//! TTL ran out stays until it is evicted or asked for; asked for, it is revalidated with the
//! origin (a conditional request answered "not modified": clips never change) and cached for
//! another TTL, or, with `cdn.on_expiry = "refetch"`, treated as a miss.
//!
//! With an admission filter (`cdn.admission`), an edge caches a clip it fetched (or got from the
//! shield) only when the filter admits it; the shield has a filter of its own. A revalidated copy
//! was admitted before and is kept.
//!
//! With an origin shield (`cdn.shield`, a tiered cache), an edge that misses or holds an expired
//! copy asks the shield first, one round trip away: a fresh copy there is passed on (and cached
//! at the edge) like a hit; otherwise the origin fetch or revalidation goes through the shield,
//! which caches the clip too.

use super::TargetState;
use crate::cache::{Admission, AdmissionFilter, AnyCache, EdgeCache, Lookup};
use crate::rng::Stream;
use clipsim_engine::{SimDuration, SimTime};

/// What one edge did, counted by the stand-in itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EdgeMeter {
    /// Requests the edge answered from its cache.
    pub hits: u64,
    /// Bytes of those.
    pub hit_bytes: u64,
    /// Requests it fetched from an origin and passed on (cached when admitted).
    pub fills: u64,
    /// Bytes of those.
    pub fill_bytes: u64,
    /// Requests whose expired copy it revalidated with an origin (no bytes fetched) and then
    /// answered from its cache.
    pub revalidations: u64,
    /// Bytes of those.
    pub revalidated_bytes: u64,
    /// Requests it missed (or held expired) that the origin shield answered from its cache.
    pub shield_hits: u64,
    /// Bytes of those.
    pub shield_hit_bytes: u64,
}

struct Edge<C> {
    cache: C,
    admit: AdmissionFilter,
    meter: EdgeMeter,
}

/// The CDN's edges (none when the scenario has no CDN).
pub struct Cdn<C> {
    edges: Vec<Edge<C>>,
    ttl: SimDuration,
    revalidate: bool,
    /// The origin shield's cache, its admission filter and round trip from an edge, microseconds.
    shield: Option<(AnyCache, AdmissionFilter, u64)>,
    admission: Admission,
    base_rtt_us: u64,
    rtt_us: u64,
    state: TargetState,
}

impl<C: EdgeCache> Cdn<C> {
    /// `geos` edges made by `cache`, caching for `ttl`, revalidating expired copies or not,
    /// `rtt` from the viewers.
    pub fn new(geos: usize, cache: impl Fn() -> C, ttl: SimDuration, revalidate: bool, rtt: SimDuration) -> Self {
        let edges = (0..geos)
            .map(|_| Edge { cache: cache(), admit: Admission::Always.filter(), meter: EdgeMeter::default() })
            .collect();
        Cdn {
            edges,
            ttl,
            revalidate,
            shield: None,
            admission: Admission::Always,
            base_rtt_us: rtt.as_micros(),
            rtt_us: rtt.as_micros(),
            state: TargetState::UP,
        }
    }

    /// Puts an origin shield with cache `cache`, `rtt` from every edge, between the edges and
    /// the origins.
    pub fn with_shield(mut self, cache: AnyCache, rtt: SimDuration) -> Self {
        self.shield = Some((cache, self.admission.filter(), rtt.as_micros()));
        self
    }

    /// Gives every edge (and the shield) an `admission` filter of its own.
    pub fn with_admission(mut self, admission: Admission) -> Self {
        self.admission = admission;
        for e in &mut self.edges {
            e.admit = admission.filter();
        }
        if let Some(s) = &mut self.shield {
            s.1 = admission.filter();
        }
        self
    }

    /// The extra round trip of a request that passes the edge, microseconds: to the shield, when
    /// there is one.
    #[inline]
    pub fn shield_rtt_us(&self) -> u64 {
        self.shield.as_ref().map_or(0, |s| s.2)
    }

    /// No CDN: no edges.
    pub fn none() -> Self {
        Cdn {
            edges: Vec::new(),
            ttl: SimDuration::ZERO,
            revalidate: false,
            shield: None,
            admission: Admission::Always,
            base_rtt_us: 0,
            rtt_us: 0,
            state: TargetState::UP,
        }
    }

    /// Sets what is really wrong with the CDN from now on.
    pub fn set_state(&mut self, state: TargetState) {
        self.state = state;
        self.rtt_us = (self.base_rtt_us as f64 * state.latency_factor) as u64;
    }

    /// Whether the CDN answers a request now (drawn from `rng` only when it is up).
    #[inline]
    pub fn answers(&self, rng: &mut Stream) -> bool {
        !(self.state.down || rng.chance(self.state.error_rate))
    }

    /// The round trip from a viewer to an edge now, microseconds.
    #[inline]
    pub fn rtt_us(&self) -> u64 {
        self.rtt_us
    }

    /// Looks `clip` up in the edge of `geo` at `now`; on a hit, meters `bytes` delivered. An
    /// expired copy is [`Lookup::Expired`] when the CDN revalidates, else a [`Lookup::Miss`].
    /// Also returns the round trip past the edge this lookup took, microseconds: to the shield
    /// when the edge did not hit and there is one, else 0.
    #[inline(always)]
    pub fn lookup(&mut self, geo: usize, clip: u32, bytes: u64, now: SimTime) -> (Lookup, u64) {
        let edge = &mut self.edges[geo];
        let mut found = edge.cache.lookup(clip, now);
        let hit = found == Lookup::Hit;
        edge.meter.hits += u64::from(hit);
        edge.meter.hit_bytes += u64::from(hit) * bytes;
        let mut past_edge_us = 0;
        if !hit {
            if let Some((shield, _, shield_rtt_us)) = &mut self.shield {
                past_edge_us = *shield_rtt_us;
                found = shield.lookup(clip, now);
                if found == Lookup::Hit {
                    edge.meter.shield_hits += 1;
                    edge.meter.shield_hit_bytes += bytes;
                    if edge.admit.admits(clip, now) {
                        edge.cache.insert(clip, bytes, now + self.ttl);
                    }
                }
            }
        }
        let found = match found {
            Lookup::Expired if !self.revalidate => Lookup::Miss,
            found => found,
        };
        (found, past_edge_us)
    }

    /// After an expired copy of `clip` in `geo`'s edge was revalidated with an origin: caches it
    /// again until `now` plus the CDN's TTL and passes it on from the cache.
    #[inline]
    pub fn revalidated(&mut self, geo: usize, clip: u32, bytes: u64, now: SimTime) {
        let edge = &mut self.edges[geo];
        edge.meter.revalidations += 1;
        edge.meter.revalidated_bytes += bytes;
        self.keep(geo, clip, bytes, now, true);
    }

    /// Passes on `clip` (`bytes`) fetched from an origin after a miss in `geo`'s edge, and caches
    /// it there until `now` plus the CDN's TTL.
    #[inline(always)]
    pub fn fill(&mut self, geo: usize, clip: u32, bytes: u64, now: SimTime) {
        let edge = &mut self.edges[geo];
        edge.meter.fills += 1;
        edge.meter.fill_bytes += bytes;
        self.keep(geo, clip, bytes, now, false);
    }

    /// Caches `clip` in `geo`'s edge and in the shield (when there is one) for a TTL from `now`,
    /// where their admission filters admit it; `held`: the edge held an expired copy (admitted
    /// before, so kept without asking its filter).
    #[inline(always)]
    fn keep(&mut self, geo: usize, clip: u32, bytes: u64, now: SimTime, held: bool) {
        let edge = &mut self.edges[geo];
        if held || edge.admit.admits(clip, now) {
            edge.cache.insert(clip, bytes, now + self.ttl);
        }
        if let Some((shield, admit, _)) = &mut self.shield {
            if admit.admits(clip, now) {
                shield.insert(clip, bytes, now + self.ttl);
            }
        }
    }

    /// A health probe: whether it answers (drawn like a request) and its round trip.
    pub fn probe(&self, rng: &mut Stream) -> (bool, SimDuration) {
        (self.answers(rng), SimDuration::from_micros(self.rtt_us))
    }

    /// Hints that `clip` will be looked up in `geo`'s edge soon: its index entry.
    #[inline]
    pub fn prefetch_index(&self, geo: usize, clip: u32) {
        if let Some(e) = self.edges.get(geo) {
            e.cache.prefetch_index(clip);
        }
    }

    /// Hints that `clip` will be looked up in `geo`'s edge soon: its entry.
    #[inline]
    pub fn prefetch_entry(&self, geo: usize, clip: u32) {
        if let Some(e) = self.edges.get(geo) {
            e.cache.prefetch_entry(clip);
        }
    }

    /// What each edge metered.
    pub fn meters(&self) -> Vec<EdgeMeter> {
        self.edges.iter().map(|e| e.meter.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{ListCache, Policy};

    fn cdn(admission: Admission, shield: bool) -> Cdn<ListCache> {
        let cdn = Cdn::new(
            1,
            || ListCache::new(Policy::Lru, 1_000),
            SimDuration::from_secs(10),
            true,
            SimDuration::from_millis(15),
        );
        let cdn =
            if shield { cdn.with_shield(AnyCache::new(Policy::Lru, 1_000), SimDuration::from_millis(40)) } else { cdn };
        cdn.with_admission(admission)
    }

    fn at(s: u64) -> SimTime {
        SimTime(s * 1_000_000)
    }

    /// A miss then a fill: the edge caches the clip from its second fill on with a second-hit
    /// filter, at once without one.
    #[test]
    fn second_hit_edges_cache_from_the_second_fill() {
        for (admission, first_cached) in [(Admission::Always, true), (Admission::SecondHit { window: None }, false)] {
            let mut c = cdn(admission, false);
            assert_eq!(c.lookup(0, 7, 100, at(0)).0, Lookup::Miss);
            c.fill(0, 7, 100, at(0));
            let second = c.lookup(0, 7, 100, at(1)).0;
            assert_eq!(second == Lookup::Hit, first_cached, "{admission:?}");
            if second != Lookup::Hit {
                c.fill(0, 7, 100, at(1));
                assert_eq!(c.lookup(0, 7, 100, at(2)).0, Lookup::Hit, "{admission:?}");
            }
        }
    }

    /// An expired copy revalidated is kept whatever the filter says (it was admitted before);
    /// the shield filters on its own.
    #[test]
    fn revalidated_copies_stay_and_the_shield_has_its_own_filter() {
        let mut c = cdn(Admission::SecondHit { window: None }, true);
        c.lookup(0, 7, 100, at(0));
        c.fill(0, 7, 100, at(0)); // first miss everywhere: nothing cached
        c.lookup(0, 7, 100, at(1));
        c.fill(0, 7, 100, at(1)); // second: cached at the edge and the shield
        assert_eq!(c.lookup(0, 7, 100, at(2)).0, Lookup::Hit);
        assert_eq!(c.lookup(0, 7, 100, at(20)).0, Lookup::Expired);
        c.revalidated(0, 7, 100, at(20));
        assert_eq!(c.lookup(0, 7, 100, at(21)).0, Lookup::Hit);
        assert_eq!(c.meters()[0].shield_hits, 0);
    }
}
