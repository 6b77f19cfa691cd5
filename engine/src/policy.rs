//! Pluggable policies: where mirrors go, how long they live, and which copy serves a request.
//!
//! Each sits behind a small trait so that alternatives (demand-predictive mirroring, adaptive
//! TTL, latency-first routing, ...) can be compared side by side with the seed's behaviour, which
//! is the default of each. The enums [`PlacementPolicy`], [`TtlPolicy`] and [`SourcePolicy`] are
//! the built-in choices, selectable at run time (a scenario names one).

use crate::config::{MirrorConfig, TtlBounds, MIRRORS_PER_CLIP_MAX, REGIONS_MAX};
use crate::health::Health;
use crate::ids::{ClipId, GeoId, RegionId};
use crate::topology::Topology;
use crate::units::SimDuration;

/// A short list with a fixed capacity, kept on the stack (no allocation on the request path).
#[derive(Clone, Copy, Debug)]
pub struct StackVec<T: Copy, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T: Copy, const N: usize> StackVec<T, N> {
    /// An empty list whose unused slots hold `fill`.
    pub const fn new(fill: T) -> Self {
        StackVec { items: [fill; N], len: 0 }
    }

    /// Appends; returns `false` (and drops the item) when full.
    pub fn push(&mut self, item: T) -> bool {
        if self.len == N {
            return false;
        }
        self.items[self.len] = item;
        self.len += 1;
        true
    }

    /// The items.
    pub fn as_slice(&self) -> &[T] {
        &self.items[..self.len]
    }

    /// Sorts the items by a key with a stable insertion sort (lists are a handful long).
    pub fn sort_by_key<K: Ord>(&mut self, mut key: impl FnMut(&T) -> K) {
        let s = &mut self.items[..self.len];
        for i in 1..s.len() {
            let mut j = i;
            while j > 0 && key(&s[j - 1]) > key(&s[j]) {
                s.swap(j - 1, j);
                j -= 1;
            }
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// What kind of copy a source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A mirror in the region nearest to the viewer.
    LocalMirror,
    /// A mirror elsewhere.
    RemoteMirror,
    /// The clip's primary copy.
    Primary,
}

/// A copy a request could be served from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// Where the copy is.
    pub region: RegionId,
    /// What it is.
    pub kind: SourceKind,
}

/// The ordered copies a request may try: at most every mirror plus the primary.
pub type Candidates = StackVec<Candidate, { MIRRORS_PER_CLIP_MAX + 1 }>;

/// What a source selector sees of one request.
#[derive(Clone, Copy, Debug)]
pub struct RouteView<'a> {
    /// The viewer's geography.
    pub geo: GeoId,
    /// The clip's primary region.
    pub primary: RegionId,
    /// Regions holding an active (complete, unexpired) mirror of the clip.
    pub mirrors: &'a [RegionId],
    /// Believed health of every region.
    pub health: &'a [Health],
    /// Regions, geographies, latencies.
    pub topology: &'a Topology,
}

/// Orders the copies of a clip for one request. The engine then tries them in order, first every
/// copy not believed unhealthy, then, as a last resort, the unhealthy ones.
pub trait SelectSource {
    /// Fills `chain` with every copy in `view` (each mirror and the primary), best first.
    fn order(&self, view: &RouteView<'_>, chain: &mut Candidates);
}

/// The built-in source selectors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SourcePolicy {
    /// The seed's chain: the mirror in the viewer's nearest region, then any other active mirror
    /// (healthiest, then lowest latency), then the primary. Note that the primary comes after
    /// every mirror even when it is nearer to the viewer.
    #[default]
    SeedChain,
    /// Every copy, primary included, by health and then latency to the viewer.
    LatencyFirst,
}

impl SelectSource for SourcePolicy {
    fn order(&self, view: &RouteView<'_>, chain: &mut Candidates) {
        let nearest = view.topology.nearest_region(view.geo);
        let rank =
            |c: &Candidate| (view.health[c.region.index()], view.topology.latency_ms(c.region, view.geo), c.region);
        let kind_of = |r: RegionId| if r == nearest { SourceKind::LocalMirror } else { SourceKind::RemoteMirror };
        match self {
            SourcePolicy::SeedChain => {
                if view.mirrors.contains(&nearest) {
                    chain.push(Candidate { region: nearest, kind: SourceKind::LocalMirror });
                }
                let mut rest = Candidates::new(PRIMARY_PLACEHOLDER);
                for &r in view.mirrors.iter().filter(|&&r| r != nearest) {
                    rest.push(Candidate { region: r, kind: SourceKind::RemoteMirror });
                }
                rest.sort_by_key(rank);
                for &c in rest.as_slice() {
                    chain.push(c);
                }
                chain.push(Candidate { region: view.primary, kind: SourceKind::Primary });
            }
            SourcePolicy::LatencyFirst => {
                for &r in view.mirrors {
                    chain.push(Candidate { region: r, kind: kind_of(r) });
                }
                chain.push(Candidate { region: view.primary, kind: SourceKind::Primary });
                chain.sort_by_key(rank);
            }
        }
    }
}

const PRIMARY_PLACEHOLDER: Candidate = Candidate { region: RegionId(0), kind: SourceKind::Primary };

/// Target regions chosen for one clip.
pub type RegionList = StackVec<RegionId, MIRRORS_PER_CLIP_MAX>;

/// What a placement policy sees of one popular clip at a sync.
#[derive(Clone, Copy, Debug)]
pub struct PlacementView<'a> {
    /// The clip.
    pub clip: ClipId,
    /// Its recent views by viewer geography (as counted for its popularity score).
    pub demand: &'a [u32],
    /// Regions that may receive a mirror (bit `r` for region `r`): in `MIRROR_REGIONS`, not
    /// the primary, not already holding a copy or a pending copy, not believed unhealthy.
    pub candidates: u64,
    /// Regions that hold a copy (the primary and every mirror record).
    pub copies: u64,
    /// How many more mirrors the clip may have.
    pub slots: usize,
    /// Regions, geographies, latencies.
    pub topology: &'a Topology,
}

/// Chooses where a popular clip's new mirrors go.
pub trait PlaceMirrors {
    /// Pushes at most `view.slots` regions from `view.candidates` onto `out`, best first.
    fn place(&self, view: &PlacementView<'_>, out: &mut RegionList);
}

/// The built-in placement policies. Both rank candidate regions greedily by the latency they
/// would save the clip's viewers: `sum over geographies of demand x (latency to the nearest
/// existing copy - latency to the candidate)` when positive; ties go to the region closest to the
/// demand, then to the lower region id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlacementPolicy {
    /// Fill every free slot, best region first (the seed mirrors to 2-3 regions regardless).
    #[default]
    DemandRanked,
    /// Stop when no candidate would save any latency: never mirror where nobody watches.
    DemandOnly,
}

impl PlaceMirrors for PlacementPolicy {
    fn place(&self, view: &PlacementView<'_>, out: &mut RegionList) {
        let topo = view.topology;
        let geos = topo.geos();
        // Best latency each geography has today.
        let mut best = [u32::MAX; crate::config::GEOS_MAX];
        for r in MaskIter(view.copies) {
            for (g, b) in best.iter_mut().enumerate().take(geos) {
                *b = (*b).min(topo.latency_ms(r, GeoId(g as u32)));
            }
        }
        let mut left = view.candidates;
        while out.len() < view.slots && left != 0 {
            let mut pick: Option<(u64, u64, RegionId)> = None; // (gain, closeness, region)
            for r in MaskIter(left) {
                let (mut gain, mut closeness) = (0u64, 0u64);
                for (g, &b) in best.iter().enumerate().take(geos) {
                    let ms = topo.latency_ms(r, GeoId(g as u32));
                    let d = view.demand.get(g).copied().unwrap_or(0) as u64;
                    gain += d * b.saturating_sub(ms) as u64;
                    closeness += d * ms as u64;
                }
                let better = match pick {
                    None => true,
                    Some((pg, pc, _)) => gain > pg || (gain == pg && closeness < pc),
                };
                if better {
                    pick = Some((gain, closeness, r));
                }
            }
            let (gain, _, r) = pick.expect("left is not empty");
            if gain == 0 && *self == PlacementPolicy::DemandOnly {
                break;
            }
            out.push(r);
            left &= !(1u64 << r.0);
            for (g, b) in best.iter_mut().enumerate().take(geos) {
                *b = (*b).min(topo.latency_ms(r, GeoId(g as u32)));
            }
        }
    }
}

/// Iterates the set bits of a region mask, lowest first.
#[derive(Clone, Copy, Debug)]
pub struct MaskIter(pub u64);

impl Iterator for MaskIter {
    type Item = RegionId;
    fn next(&mut self) -> Option<RegionId> {
        if self.0 == 0 {
            return None;
        }
        let r = self.0.trailing_zeros();
        self.0 &= self.0 - 1;
        debug_assert!((r as usize) < REGIONS_MAX);
        Some(RegionId(r))
    }
}

/// Decides how long a mirror lives.
pub trait ExpireMirrors {
    /// The lifetime of a mirror of `clip` that becomes active now, given its popularity score.
    fn ttl(&self, clip: ClipId, score: i64) -> SimDuration;
    /// Whether a sync that finds the clip still popular extends its active mirrors to `now + ttl`.
    fn refresh_on_sync(&self) -> bool;
}

/// The built-in TTL policy: the seed's fixed `MIRROR_TTL_DAYS`, or an adaptive lifetime that
/// follows the clip's popularity.
///
/// Adaptive ([`MirrorConfig::ttl_bounds`]): a mirror of a clip with score `s` lives
/// `ttl x s / threshold`, clamped to `[min, max]` (`max` when the threshold is 0), computed
/// exactly in microseconds and rounded down. A clip twice as popular as the threshold keeps its
/// copies twice as long; with `refresh_on_sync` each sync that finds the clip popular extends them
/// by the lifetime its score earns now, so with a recent-popularity score (`score_half_life` or
/// `score_window`) the extensions follow the clip's trend: rising clips are held longer, fading
/// ones get short extensions and expire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TtlPolicy {
    /// Lifetime from activation (the adaptive lifetime's unit: the lifetime at the threshold).
    pub ttl: SimDuration,
    /// See [`ExpireMirrors::refresh_on_sync`].
    pub refresh_on_sync: bool,
    /// The adaptive lifetime's bounds and the threshold the score is scaled by; `None`: fixed.
    pub adaptive: Option<(TtlBounds, u64)>,
}

impl TtlPolicy {
    /// The policy a mirror configuration names.
    pub fn from_config(m: &MirrorConfig) -> Self {
        TtlPolicy {
            ttl: m.ttl,
            refresh_on_sync: m.refresh_ttl_on_sync,
            adaptive: m.ttl_bounds.map(|b| (b, m.replication_threshold)),
        }
    }
}

impl ExpireMirrors for TtlPolicy {
    fn ttl(&self, _clip: ClipId, score: i64) -> SimDuration {
        let Some((bounds, threshold)) = self.adaptive else { return self.ttl };
        let (min, max) = (u128::from(bounds.min.as_micros()), u128::from(bounds.max.as_micros()));
        let scaled = match threshold {
            0 => max,
            t => u128::from(self.ttl.as_micros()) * score.max(0) as u128 / u128::from(t),
        };
        SimDuration(scaled.clamp(min, max) as u64)
    }
    fn refresh_on_sync(&self) -> bool {
        self.refresh_on_sync
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::*;
    use crate::ids::ProviderId;

    fn topo() -> Topology {
        let region = |name: &str| RegionConfig { name: name.into(), storage_provider: ProviderId(0) };
        let cfg = EngineConfig {
            providers: vec!["s3".into()],
            regions: vec![region("us"), region("eu"), region("ap")],
            geos: vec!["na".into(), "eu".into(), "apac".into()],
            latency_ms: vec![vec![25, 95, 190], vec![90, 20, 170], vec![180, 160, 30]],
            cdn_provider: None,
            second_cdn: None,
            mirror: MirrorConfig::seed_defaults(vec![]),
            health: Default::default(),
            probe_normal: Vec::new(),
            billing: BillingConfig {
                month: SimDuration::from_days(30),
                rates: vec![],
                cost_alert: Default::default(),
                allowances: vec![],
            },
            lifecycle: None,
        };
        Topology::new(&cfg)
    }

    /// The most mirrors a clip may have, plus the primary, all fit one chain, in either order.
    #[test]
    fn a_chain_holds_every_mirror_and_the_primary() {
        let n = MIRRORS_PER_CLIP_MAX + 1;
        let region = |r: usize| RegionConfig { name: format!("r{r}"), storage_provider: ProviderId(0) };
        let cfg = EngineConfig {
            providers: vec!["s3".into()],
            regions: (0..n).map(region).collect(),
            geos: vec!["g".into()],
            latency_ms: (0..n).map(|r| vec![10 + r as u32]).collect(),
            cdn_provider: None,
            second_cdn: None,
            mirror: MirrorConfig::seed_defaults(vec![]),
            health: Default::default(),
            probe_normal: Vec::new(),
            billing: BillingConfig {
                month: SimDuration::from_days(30),
                rates: vec![],
                cost_alert: Default::default(),
                allowances: vec![],
            },
            lifecycle: None,
        };
        let t = Topology::new(&cfg);
        let health = vec![Health::Healthy; n];
        let mirrors: Vec<RegionId> = (1..n as u32).rev().map(RegionId).collect();
        let view = RouteView { geo: GeoId(0), primary: RegionId(0), mirrors: &mirrors, health: &health, topology: &t };
        for policy in [SourcePolicy::SeedChain, SourcePolicy::LatencyFirst] {
            let mut chain = Candidates::new(PRIMARY_PLACEHOLDER);
            policy.order(&view, &mut chain);
            let regions: Vec<u32> = chain.as_slice().iter().map(|c| c.region.0).collect();
            let want: Vec<u32> = match policy {
                // Nearest mirror (region 1: 11 ms) first, then the other mirrors by latency, then the primary.
                SourcePolicy::SeedChain => (1..n as u32).chain([0]).collect(),
                SourcePolicy::LatencyFirst => (0..n as u32).collect(),
            };
            assert_eq!(regions, want, "{policy:?}");
        }
    }

    /// The sort is stable (equal keys keep their order) and `is_empty` says whether it holds any.
    #[test]
    fn stack_vecs_sort_stably_and_know_when_they_are_empty() {
        let mut v: StackVec<(u8, char), 6> = StackVec::new((0, ' '));
        assert!(v.is_empty());
        for item in [(2, 'a'), (1, 'b'), (2, 'c'), (1, 'd'), (0, 'e')] {
            assert!(v.push(item));
        }
        assert!(!v.is_empty());
        v.sort_by_key(|&(k, _)| k);
        assert_eq!(v.as_slice(), [(0, 'e'), (1, 'b'), (1, 'd'), (2, 'a'), (2, 'c')]);
        assert!(v.push((9, 'f')));
        assert!(!v.push((9, 'g')), "full");
        assert_eq!(v.len(), 6);
    }

    #[test]
    fn seed_chain_tries_the_local_mirror_then_others_then_the_primary() {
        let t = topo();
        let health = [Health::Healthy; 3];
        let view = RouteView {
            geo: GeoId(1),
            primary: RegionId(0),
            mirrors: &[RegionId(2), RegionId(1)],
            health: &health,
            topology: &t,
        };
        let mut chain = Candidates::new(PRIMARY_PLACEHOLDER);
        SourcePolicy::SeedChain.order(&view, &mut chain);
        let got: Vec<_> = chain.as_slice().iter().map(|c| (c.region.0, c.kind)).collect();
        assert_eq!(got, [(1, SourceKind::LocalMirror), (2, SourceKind::RemoteMirror), (0, SourceKind::Primary)]);
    }

    #[test]
    fn seed_chain_prefers_a_remote_mirror_over_a_nearer_primary() {
        let t = topo();
        let health = [Health::Healthy; 3];
        let view =
            RouteView { geo: GeoId(0), primary: RegionId(0), mirrors: &[RegionId(1)], health: &health, topology: &t };
        let mut seed = Candidates::new(PRIMARY_PLACEHOLDER);
        SourcePolicy::SeedChain.order(&view, &mut seed);
        assert_eq!(seed.as_slice()[0].region, RegionId(1));
        let mut latency = Candidates::new(PRIMARY_PLACEHOLDER);
        SourcePolicy::LatencyFirst.order(&view, &mut latency);
        assert_eq!(latency.as_slice()[0], Candidate { region: RegionId(0), kind: SourceKind::Primary });
    }

    #[test]
    fn remote_mirrors_are_ranked_healthiest_first() {
        let t = topo();
        let health = [Health::Healthy, Health::Degraded, Health::Healthy];
        let view = RouteView {
            geo: GeoId(0),
            primary: RegionId(0),
            mirrors: &[RegionId(1), RegionId(2)],
            health: &health,
            topology: &t,
        };
        let mut chain = Candidates::new(PRIMARY_PLACEHOLDER);
        SourcePolicy::SeedChain.order(&view, &mut chain);
        // eu (90 ms) is nearer than ap (180 ms) but degraded.
        assert_eq!(chain.as_slice()[0].region, RegionId(2));
    }

    #[test]
    fn placement_follows_demand() {
        let t = topo();
        // Watched mostly from apac, some from eu; primary in us.
        let view = PlacementView {
            clip: ClipId(0),
            demand: &[10, 50, 400],
            candidates: 0b110,
            copies: 0b001,
            slots: 2,
            topology: &t,
        };
        let mut out = RegionList::new(RegionId(0));
        PlacementPolicy::DemandRanked.place(&view, &mut out);
        assert_eq!(out.as_slice(), [RegionId(2), RegionId(1)]);
        // Only na demand: neither mirror saves latency; DemandOnly places none.
        let view = PlacementView { demand: &[100, 0, 0], ..view };
        let mut none = RegionList::new(RegionId(0));
        PlacementPolicy::DemandOnly.place(&view, &mut none);
        assert!(none.is_empty());
        let mut filled = RegionList::new(RegionId(0));
        PlacementPolicy::DemandRanked.place(&view, &mut filled);
        assert_eq!(filled.as_slice(), [RegionId(1), RegionId(2)], "closest to the demand first");
    }

    /// The adaptive lifetime scales with the score and stays in its bounds; the fixed one ignores it.
    #[test]
    fn adaptive_ttl_scales_with_the_score_within_its_bounds() {
        let day = SimDuration::from_days(1);
        let mut m = MirrorConfig::seed_defaults(vec![]);
        assert_eq!(TtlPolicy::from_config(&m).ttl(ClipId(0), 1_000_000), SimDuration::from_days(7), "fixed");
        m.ttl_bounds = Some(TtlBounds { min: day, max: SimDuration::from_days(30) });
        let p = TtlPolicy::from_config(&m);
        let ttl = |score| p.ttl(ClipId(0), score);
        assert_eq!(ttl(1000), SimDuration::from_days(7), "at the threshold: ttl");
        assert_eq!(ttl(2000), SimDuration::from_days(14));
        assert_eq!(ttl(1500), SimDuration(SimDuration::from_days(7).as_micros() * 3 / 2));
        assert_eq!(ttl(100), day, "clamped up");
        assert_eq!(ttl(-5), day, "a negative score is the shortest");
        assert_eq!(ttl(i64::MAX), SimDuration::from_days(30), "clamped down, no overflow");
        m.replication_threshold = 0;
        assert_eq!(TtlPolicy::from_config(&m).ttl(ClipId(0), 0), SimDuration::from_days(30), "every clip popular");
    }
}
