//! The validated scenario: integer units, dense ids, and the engine configuration it implies.

use clipsim_engine::{EngineConfig, GeoId, Input, ProviderId, RegionId, SimDuration, SimTime};
use std::path::PathBuf;

/// A scenario ready to run. Built only by [`super::load`] / [`super::from_str`], which check
/// every field.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Shown in reports.
    pub name: String,
    /// A sentence for the report.
    pub description: Option<String>,
    /// The master seed every random stream derives from.
    pub seed: u64,
    /// Simulated time.
    pub duration: SimDuration,
    /// Requests before this are simulated but not counted.
    pub warmup: SimDuration,
    /// Time-series resolution.
    pub report_interval: SimDuration,
    /// The Unix time (seconds, UTC midnight of `scenario.start`) simulated time 0 stands for.
    pub start_unix_s: u64,
    /// SHA-256 of the scenario text plus any overrides (`--seed`, `--env`), hex.
    pub sha256: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// Its text as read, with secrets' values redacted (kept with the report as `scenario.toml`,
    /// so that `clipsim compare` can say which inputs two runs differ in).
    pub text: String,
    /// The `.env` overrides it was loaded with (`--env`), if any.
    pub env: Option<EnvOverrides>,
    /// Viewer geographies, indexed by [`GeoId`].
    pub geos: Vec<String>,
    /// The catalog.
    pub catalog: Catalog,
    /// The traffic.
    pub traffic: Traffic,
    /// The network.
    pub network: Network,
    /// The CDN, when enabled.
    pub cdn: Option<Cdn>,
    /// Probe interval.
    pub probe_interval: SimDuration,
    /// What a failed attempt costs the viewer.
    pub request_timeout: SimDuration,
    /// Outages, in start order (scripted ones; background failures join them when the world is
    /// built, see [`crate::standins::failures`]).
    pub outages: Vec<Outage>,
    /// Background failures, when enabled.
    pub failures: Option<Failures>,
    /// `scenario.replicas`: seeds `clipsim run` runs for intervals (1: one run, no interval).
    pub replicas: u32,
    /// `scenario.steady_state`: settle before measuring (see [`crate::world::steady`]).
    pub steady_state: Option<SteadyState>,
    /// Price changes: (time, engine input), in time order.
    pub price_changes: Vec<(SimTime, Input)>,
    /// Targets to check.
    pub targets: Targets,
    /// `MIRROR_MIN_HIT_RATE` as a fraction.
    pub mirror_min_hit_rate: f64,
    /// An estimate to compare the bill with.
    pub expected: Option<Expected>,
    /// Providers in engine id order: name, kind, price source.
    pub providers: Vec<ProviderInfo>,
    /// The engine's configuration (topology, policy, prices).
    pub engine: EngineConfig,
    /// Source selection policy.
    pub source_policy: clipsim_engine::SourcePolicy,
    /// Mirror placement policy.
    pub placement: clipsim_engine::PlacementPolicy,
    /// `[rollout]`, when the design is rolled out in stages beside a control arm.
    pub rollout: Option<crate::rollout::Rollout>,
}

impl Scenario {
    /// Clips the run holds at most: the trace's, or the catalog, the uploads expected (with
    /// 10 % to spare) and the spikes' clips; plus 64.
    pub fn clips_expected(&self) -> u64 {
        let clips = match &self.traffic.trace {
            Some(t) => t.clips,
            None => self.catalog.clips_expected(self.duration).saturating_add(self.traffic.spikes.len() as u64),
        };
        clips.saturating_add(64)
    }

    /// The steady-state pre-run before the measured period (zero without one, or before the
    /// pilot has run).
    pub fn pre_run(&self) -> SimDuration {
        self.steady_state.as_ref().and_then(|s| s.settled.as_ref()).map_or(SimDuration::ZERO, |s| s.pre_run)
    }
}

/// The `.env` file a scenario was loaded with and what it set, for the report.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvOverrides {
    /// The file.
    pub file: PathBuf,
    /// The variables applied, in file order, with their values (secrets as `<redacted>`).
    pub applied: Vec<(String, String)>,
}

/// A provider as the report names it.
#[derive(Clone, Debug)]
pub struct ProviderInfo {
    /// Its name.
    pub name: String,
    /// `cdn` or `storage`.
    pub kind: crate::pricing::ProviderKind,
    /// Where its prices come from.
    pub source: String,
    /// Its free allowances (price key, free price units a month).
    pub free_per_month: Vec<(crate::pricing::PriceKey, u64)>,
    /// What its flat-rate plan includes, if it has one.
    pub plan_includes: Option<crate::pricing::PlanIncludes>,
}

/// The catalog at the start and its growth.
#[derive(Clone, Debug)]
pub struct Catalog {
    /// Clips at the start.
    pub clips: u32,
    /// Sizes.
    pub size: SizeDist,
    /// Primary regions with their shares of clips (sum 1).
    pub primary_shares: Vec<(RegionId, f64)>,
    /// New clips per day.
    pub uploads_per_day: f64,
    /// How long the catalog was viewed before the run (zero: a launch).
    pub history: SimDuration,
}

impl Catalog {
    /// The clips a run of `duration` is expected to hold at its end: the catalog and the mean
    /// number of uploads with 10 % to spare (uploads arrive at random; a run draws more than the
    /// mean about as often as fewer, and 10 % is many standard deviations above it once the
    /// count is large enough to matter).
    pub fn clips_expected(&self, duration: SimDuration) -> u64 {
        let uploads = self.uploads_per_day * duration.as_secs_f64() / 86_400.0 * 1.1;
        u64::from(self.clips).saturating_add(uploads.min(u64::MAX as f64) as u64)
    }
}

/// Clip sizes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SizeDist {
    /// Every clip this many bytes.
    Fixed(u64),
    /// `exp(N(mu, sigma))` bytes, at least 1.
    Lognormal {
        /// Mean of the log of the size in bytes.
        mu: f64,
        /// Standard deviation of the log.
        sigma: f64,
    },
}

/// Popularity of the catalog by rank.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Popularity {
    /// P(rank k) proportional to k^-alpha.
    Zipf(f64),
    /// Every clip equally likely.
    Uniform,
}

/// The traffic.
#[derive(Clone, Debug)]
pub struct Traffic {
    /// Mean views per second over a day.
    pub views_per_sec: f64,
    /// Popularity of the catalog.
    pub popularity: Popularity,
    /// Time constant of a fresh upload's popularity decay (`None`: no fresh-upload traffic).
    pub new_clip_decay: Option<SimDuration>,
    /// Share of views that go to fresh uploads.
    pub new_clip_share: f64,
    /// Daily curve amplitude (0 when `diurnal = false`).
    pub diurnal_amplitude: f64,
    /// Votes per view.
    pub votes_per_view: f64,
    /// Share of votes that are up-votes.
    pub upvote_share: f64,
    /// Share of views per geography (sum 1).
    pub geo_shares: Vec<f64>,
    /// Each geography's UTC offset, minutes.
    pub utc_offset_min: Vec<i32>,
    /// Viral spikes.
    pub spikes: Vec<Spike>,
    /// The trace whose views replace the synthetic ones (`[traffic] trace`, `run --trace`),
    /// scanned when the scenario was loaded. With one, the catalog, its history, uploads and
    /// spikes are not used: clips are the trace's, uploaded at their first views.
    pub trace: Option<std::sync::Arc<crate::workload::trace::TraceInfo>>,
}

/// A viral spike.
#[derive(Clone, Debug, PartialEq)]
pub struct Spike {
    /// Which clip.
    pub clip: SpikeClip,
    /// When it starts.
    pub start: SimTime,
    /// When it ends.
    pub end: SimTime,
    /// Extra views per hour.
    pub views_per_hour: f64,
    /// Only from this geography (else the traffic's mix).
    pub geo: Option<GeoId>,
}

/// The clip a spike is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpikeClip {
    /// A clip uploaded when the spike starts.
    New,
    /// The catalog clip of this popularity rank (0 = most popular).
    Rank(u32),
}

/// `scenario.steady_state`: how long the world may take to settle, and, once the pilot has run,
/// what it found.
#[derive(Clone, Debug, PartialEq)]
pub struct SteadyState {
    /// `steady_state_max`.
    pub max: SimDuration,
    /// Set by [`crate::world::steady::settle`]: the pre-run and the criterion's values.
    pub settled: Option<crate::world::steady::Settled>,
}

/// The network.
#[derive(Clone, Copy, Debug)]
pub struct Network {
    /// Replication bandwidth of each link, bits per second.
    pub inter_region_bps: u64,
    /// Round trip between regions.
    pub inter_region_rtt: SimDuration,
    /// Mean viewer throughput, bits per second.
    pub viewer_bps: u64,
    /// Lognormal shape of viewer throughput.
    pub viewer_sigma: f64,
    /// Round trips before the first byte.
    pub round_trips: u32,
    /// Bytes the player buffers before it starts (capped at the clip's size).
    pub startup_bytes: u64,
}

/// The CDN.
#[derive(Clone, Debug)]
pub struct Cdn {
    /// The engine's provider id.
    pub provider: ProviderId,
    /// Its name.
    pub name: String,
    /// `CDN_CACHE_TTL`.
    pub cache_ttl: SimDuration,
    /// Edge capacity per geography in bytes, `None` for unlimited.
    pub edge_capacity_bytes: Option<u64>,
    /// The eviction policy.
    pub eviction: crate::cache::Policy,
    /// Which misses the edges (and the shield) cache.
    pub admission: crate::cache::Admission,
    /// Whether an edge revalidates a copy whose TTL ran out (a conditional request: the
    /// origin's request fee, no body) rather than fetching it again.
    pub revalidate: bool,
    /// The origin shield, when there is one.
    pub shield: Option<Shield>,
    /// Round trip from a viewer to its edge.
    pub edge_rtt: SimDuration,
    /// A second CDN, with the same edge and shield settings but its own prices, edges, health
    /// and outages.
    pub second: Option<SecondCdnSpec>,
}

/// The second of two CDNs (`[cdn] second_provider`).
#[derive(Clone, Debug)]
pub struct SecondCdnSpec {
    /// The engine's provider id.
    pub provider: ProviderId,
    /// Its name.
    pub name: String,
    /// How requests are shared between the two.
    pub mode: clipsim_engine::MultiCdn,
    /// Round trip from a viewer to its edge.
    pub edge_rtt: SimDuration,
}

impl Cdn {
    /// The names of the CDNs, the first one first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.second.as_ref().map(|s| s.name.as_str()))
    }
}

/// Background failures: each region's storage and the CDN go down at random, an alternating
/// renewal process with exponential times up (mean `*_mtbf`) and down (mean `*_mttr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failures {
    /// Mean time between a region's failures.
    pub region_mtbf: SimDuration,
    /// Mean time to repair a region.
    pub region_mttr: SimDuration,
    /// Mean time between the CDN's failures.
    pub cdn_mtbf: SimDuration,
    /// Mean time to repair the CDN.
    pub cdn_mttr: SimDuration,
}

/// An origin shield (tiered cache): one cache between every edge and the origins, asked on an
/// edge miss before an origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shield {
    /// Its size in bytes, `None` for unlimited.
    pub capacity_bytes: Option<u64>,
    /// Round trip from an edge to it.
    pub rtt: SimDuration,
}

/// An outage.
#[derive(Clone, Debug, PartialEq)]
pub struct Outage {
    /// The target as written (`region:eu-west-1`).
    pub label: String,
    /// What is affected.
    pub target: OutageTarget,
    /// How.
    pub kind: OutageKind,
    /// From.
    pub start: SimTime,
    /// Until (exclusive).
    pub end: SimTime,
}

/// What an outage hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutageTarget {
    /// One region's storage and network.
    Region(RegionId),
    /// Every region of a storage provider (bit mask of regions).
    Regions(u64),
    /// A CDN: 0 the first, 1 the second.
    Cdn(u8),
    /// Replication between two regions (both directions).
    Link(RegionId, RegionId),
}

/// How an outage hits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OutageKind {
    /// Nothing answers.
    Down,
    /// Slower, and some attempts fail.
    Degraded {
        /// Latency multiplier (at least 1).
        latency_factor: f64,
        /// Share of attempts and probes that fail.
        error_rate: f64,
    },
    /// Database replication lag; copies to and from the region are delayed by it.
    Lag(SimDuration),
}

impl std::fmt::Display for OutageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutageKind::Down => write!(f, "down"),
            OutageKind::Degraded { latency_factor, error_rate } => {
                write!(f, "degraded: latency x{latency_factor}, {:.1} % of attempts fail", error_rate * 100.0)
            }
            OutageKind::Lag(d) => write!(f, "replication lag {d}"),
        }
    }
}

/// Targets to check; `None` is not checked.
#[derive(Clone, Copy, Debug, Default)]
pub struct Targets {
    /// P50 load time, ms.
    pub p50_load_ms: Option<f64>,
    /// P95 load time, ms.
    pub p95_load_ms: Option<f64>,
    /// Share of requests served.
    pub availability: Option<f64>,
    /// Nanodollars per GB delivered.
    pub cost_per_gb_nanos: Option<u64>,
    /// Mirror hit rate of the top 100 clips.
    pub top100_mirror_hit_rate: Option<f64>,
}

impl Targets {
    /// A target's value in its unit (dollars for the cost per GB), when it is checked.
    pub fn get(&self, t: crate::report::target::Target) -> Option<f64> {
        use crate::report::target::Target;
        match t {
            Target::P50LoadMs => self.p50_load_ms,
            Target::P95LoadMs => self.p95_load_ms,
            Target::Availability => self.availability,
            Target::CostPerGb => self.cost_per_gb_nanos.map(|n| n as f64 / 1e9),
            Target::Top100MirrorHitRate => self.top100_mirror_hit_rate,
        }
    }
}

/// A monthly estimate to compare with, in nanodollars.
#[derive(Clone, Debug, Default)]
pub struct Expected {
    /// Where it comes from.
    pub source: Option<String>,
    /// Per category (`storage`, `cdn_egress`, ...).
    pub categories: Vec<(clipsim_engine::Category, u64)>,
    /// The total.
    pub total_nanos: Option<u64>,
    /// Notes shown in the report.
    pub notes: Vec<String>,
}
