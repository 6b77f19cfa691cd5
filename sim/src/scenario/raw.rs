//! The scenario file as written: serde structures that mirror the TOML one to one.
//!
//! Every key is documented in `scenarios/README.md`. Defaults are the seed's (`CDN_ENABLED=false`,
//! `CDN_CACHE_TTL=3600`, `MIRROR_TTL_DAYS=7`, ...). Unknown keys are errors, so a typo never passes
//! silently. Cross-field checks happen in the `validate` module.

use super::units::Dur;
use indexmap::IndexMap;
use serde::Deserialize;

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// `[scenario]`
    pub scenario: RawMeta,
    /// `[catalog]`
    #[serde(default)]
    pub catalog: RawCatalog,
    /// `[traffic]`
    #[serde(default)]
    pub traffic: RawTraffic,
    /// `[[regions]]`; when absent, the seed's three regions.
    #[serde(default)]
    pub regions: Vec<RawRegion>,
    /// `[network]`
    #[serde(default)]
    pub network: RawNetwork,
    /// `[cdn]`
    #[serde(default)]
    pub cdn: RawCdn,
    /// `[mirror]`
    #[serde(default)]
    pub mirror: RawMirror,
    /// `[health]`
    #[serde(default)]
    pub health: RawHealth,
    /// `[billing]`
    #[serde(default)]
    pub billing: RawBilling,
    /// `[[outages]]`
    #[serde(default)]
    pub outages: Vec<RawOutage>,
    /// `[failures]`
    #[serde(default)]
    pub failures: RawFailures,
    /// `[[price_changes]]`
    #[serde(default)]
    pub price_changes: Vec<RawPriceChange>,
    /// `[providers.NAME]`: overrides of the built-in price tables, or new providers.
    #[serde(default)]
    pub providers: IndexMap<String, RawProvider>,
    /// `[targets]`
    #[serde(default)]
    pub targets: RawTargets,
    /// `[expected]`: an estimate to put beside the simulated bill.
    #[serde(default)]
    pub expected: Option<RawExpected>,
    /// `[rollout]`: the design switched on in stages, beside a control arm.
    #[serde(default)]
    pub rollout: Option<RawRollout>,
    /// `[lifecycle]`: a storage lifecycle rule (primary copies to the infrequent-access class).
    #[serde(default)]
    pub lifecycle: Option<RawLifecycle>,
}

/// `[lifecycle]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLifecycle {
    /// The age at which a primary copy moves to the infrequent-access class.
    pub infrequent_after: Dur,
}

/// `[rollout]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRollout {
    /// `"viewers"` (default) or `"clips"`.
    #[serde(default = "viewers")]
    pub unit: String,
    /// The stages, in order.
    pub stages: Vec<RawStage>,
}

fn viewers() -> String {
    "viewers".into()
}

/// One `[[rollout.stages]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    /// Share of the unit in treatment, 0 to 1.
    pub share: f64,
    /// How long it lasts (the last stage lasts to the end of the run).
    pub length: Dur,
}

/// `[scenario]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    /// Shown in reports.
    pub name: String,
    /// A sentence for the report.
    #[serde(default)]
    pub description: Option<String>,
    /// The master seed.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated time.
    #[serde(default = "default_duration")]
    pub duration: Dur,
    /// Requests before this are simulated but not counted.
    #[serde(default = "default_zero")]
    pub warmup: Dur,
    /// Time-series resolution.
    #[serde(default = "default_report_interval")]
    pub report_interval: Dur,
    /// Run until the mirror set and the edges stop changing before the measured period.
    #[serde(default)]
    pub steady_state: bool,
    /// The longest the world may take to settle.
    #[serde(default = "default_steady_state_max")]
    pub steady_state_max: Dur,
    /// Seeds `clipsim run` runs (`seed` to `seed + replicas - 1`) for intervals.
    #[serde(default = "default_replicas")]
    pub replicas: u32,
    /// The calendar date (UTC) simulated time 0 stands for, `YYYY-MM-DD`: exported timestamps
    /// count from it.
    #[serde(default = "default_start")]
    pub start: String,
}

fn default_start() -> String {
    "2026-01-01".to_string()
}

fn default_replicas() -> u32 {
    1
}

fn default_steady_state_max() -> Dur {
    Dur(clipsim_engine::SimDuration::from_days(180))
}

fn default_seed() -> u64 {
    1
}
fn default_duration() -> Dur {
    Dur(clipsim_engine::SimDuration::from_days(30))
}
fn default_zero() -> Dur {
    Dur(clipsim_engine::SimDuration::ZERO)
}
fn default_report_interval() -> Dur {
    Dur(clipsim_engine::SimDuration::from_hours(1))
}

/// `[catalog]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCatalog {
    /// Clips at the start.
    pub clips: u64,
    /// Size distribution.
    pub size: RawSize,
    /// Where every clip's original lives (or use `primary_regions`).
    pub primary_region: Option<String>,
    /// Shares of clips by primary region.
    pub primary_regions: Option<IndexMap<String, f64>>,
    /// New clips per day (Poisson).
    pub uploads_per_day: f64,
    /// How long the catalog was viewed before the run starts (its clips start with the views
    /// they would have had); `0s` is a launch.
    pub history: Dur,
}

impl Default for RawCatalog {
    fn default() -> Self {
        RawCatalog {
            clips: 100_000,
            size: RawSize::Fixed { mb: 10.0 },
            primary_region: None,
            primary_regions: None,
            uploads_per_day: 0.0,
            history: Dur(clipsim_engine::SimDuration::ZERO),
        }
    }
}

/// A clip size distribution, in decimal megabytes.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawSize {
    /// Every clip the same size.
    Fixed {
        /// Megabytes.
        mb: f64,
    },
    /// Lognormal with this mean and shape.
    Lognormal {
        /// Mean size in megabytes.
        mean_mb: f64,
        /// Shape (standard deviation of the log).
        sigma: f64,
    },
}

/// `[traffic]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawTraffic {
    /// Views per 30 days.
    pub views_per_month: Option<f64>,
    /// Or a mean request rate.
    pub requests_per_second: Option<f64>,
    /// Popularity of the catalog.
    pub popularity: RawPopularity,
    /// Time constant of a fresh upload's popularity decay.
    pub new_clip_decay_days: f64,
    /// Share of views that go to fresh uploads (when there are uploads).
    pub new_clip_share: f64,
    /// Daily curve in each geography's local time.
    pub diurnal: bool,
    /// Peak-to-mean swing of the daily curve (0.5: peak 1.5x the mean, trough 0.5x).
    pub diurnal_amplitude: f64,
    /// Votes cast per view.
    pub votes_per_view: f64,
    /// Share of votes that are up-votes.
    pub upvote_share: f64,
    /// Share of views by viewer geography.
    pub geos: IndexMap<String, f64>,
    /// UTC offset of each geography, hours (defaults for na, eu, apac, sa, me, af, oc).
    pub utc_offset_hours: IndexMap<String, f64>,
    /// `[[traffic.spikes]]`: viral spikes.
    pub spikes: Vec<RawSpike>,
    /// A request trace whose views replace the synthetic ones (relative to the scenario file).
    pub trace: Option<String>,
    /// Its format, `csv` or `oracle-general` (default: from the file name).
    pub trace_format: Option<String>,
    /// When its clips are uploaded: `first-view` (default) or `start`.
    pub trace_uploads: Option<String>,
}

impl Default for RawTraffic {
    fn default() -> Self {
        RawTraffic {
            views_per_month: None,
            requests_per_second: None,
            popularity: RawPopularity::Zipf { alpha: 0.8 },
            new_clip_decay_days: 3.0,
            new_clip_share: 0.2,
            diurnal: true,
            diurnal_amplitude: 0.5,
            votes_per_view: 0.05,
            upvote_share: 0.8,
            geos: IndexMap::new(),
            utc_offset_hours: IndexMap::new(),
            spikes: Vec::new(),
            trace: None,
            trace_format: None,
            trace_uploads: None,
        }
    }
}

/// Popularity of the catalog by rank.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawPopularity {
    /// P(rank k) proportional to k^-alpha.
    Zipf {
        /// The exponent.
        alpha: f64,
    },
    /// Every clip equally likely.
    Uniform {},
}

/// `[[traffic.spikes]]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpike {
    /// `"new"` (a clip uploaded when the spike starts) or `"rank:N"` (the catalog's N-th most
    /// popular clip, from 1).
    pub clip: String,
    /// When it starts.
    pub start: Dur,
    /// How long it lasts.
    pub duration: Dur,
    /// Extra views per hour while it lasts.
    pub views_per_hour: f64,
    /// Only from this geography (default: the traffic's geography mix).
    pub geo: Option<String>,
}

/// `[[regions]]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    /// The region's name.
    pub name: String,
    /// Its storage provider (`s3`, `r2`, `bunny-storage`, or one from `[providers]`).
    #[serde(default = "default_storage")]
    pub storage: String,
    /// Round-trip latency to each viewer geography, ms.
    pub latency_ms: IndexMap<String, f64>,
}

fn default_storage() -> String {
    "s3".into()
}

/// `[network]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawNetwork {
    /// Replication bandwidth of each link between two regions, Gbit/s.
    pub inter_region_gbps: f64,
    /// Round trip between regions, ms (added to every copy).
    pub inter_region_rtt_ms: f64,
    /// Viewer download throughput, Mbit/s (the mean over viewers).
    pub viewer_mbps: f64,
    /// Spread of viewer throughput: shape of a lognormal with the mean above (0: everyone gets
    /// exactly `viewer_mbps`).
    pub viewer_mbps_sigma: f64,
    /// Round trips before the first byte (TCP, TLS, request).
    pub round_trips: u32,
    /// Seconds of video the player buffers before it starts.
    pub startup_seconds: f64,
    /// Video bitrate, Mbit/s (startup bytes = startup_seconds x bitrate, at most the clip).
    pub bitrate_mbps: f64,
}

impl Default for RawNetwork {
    fn default() -> Self {
        RawNetwork {
            inter_region_gbps: 1.0,
            inter_region_rtt_ms: 80.0,
            viewer_mbps: 25.0,
            viewer_mbps_sigma: 0.6,
            round_trips: 3,
            startup_seconds: 2.0,
            bitrate_mbps: 5.0,
        }
    }
}

/// `[cdn]`: the seed's `CDN_*` variables.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCdn {
    /// `CDN_ENABLED` (seed default false).
    pub enabled: bool,
    /// `CDN_PROVIDER`.
    pub provider: String,
    /// `CDN_CACHE_TTL`: a duration string, or seconds as a number.
    pub cache_ttl: DurOrSecs,
    /// `CDN_MAX_COST_PER_GB`, dollars.
    pub max_cost_per_gb: f64,
    /// Edge cache size per geography in GB, or `"unlimited"`.
    pub edge_capacity_gb: Capacity,
    /// Edge eviction policy.
    pub eviction: String,
    /// Edge admission filter: `always` or `second-hit`.
    pub admission: String,
    /// With `second-hit`: how long ago the earlier miss may be (none: any time).
    pub admission_window: Option<DurOrSecs>,
    /// What an edge does with a copy whose TTL ran out: `revalidate` or `refetch`.
    pub on_expiry: String,
    /// An origin shield (tiered cache): one regional cache between the edges and the origins.
    pub shield: bool,
    /// The shield's size in GB, or `"unlimited"`.
    pub shield_capacity_gb: Capacity,
    /// Round trip from an edge to the shield, ms.
    pub shield_latency_ms: f64,
    /// Round trip from a viewer to its edge, ms.
    pub edge_latency_ms: f64,
    /// A second CDN provider beside `provider` (multi-CDN), or none.
    pub second_provider: Option<String>,
    /// How the two share requests: `failover` (the second only while the first is believed
    /// unhealthy; the default) or `cost-split` (active-active, the cheaper one per geography
    /// takes the most).
    pub multi_cdn: Option<String>,
    /// With `cost-split`: the share of each geography's requests the pricier CDN keeps, percent
    /// (default 10).
    pub min_share_pct: Option<u32>,
    /// Round trip from a viewer to the second CDN's edge, ms (default: `edge_latency_ms`).
    pub second_edge_latency_ms: Option<f64>,
    /// `CDN_CLOUDFLARE_ZONE_ID`: accepted, not used.
    pub cloudflare_zone_id: Option<String>,
    /// `CDN_CLOUDFLARE_API_KEY`: accepted, never written anywhere.
    pub cloudflare_api_key: Option<String>,
}

impl Default for RawCdn {
    fn default() -> Self {
        RawCdn {
            enabled: false,
            provider: "cloudflare".into(),
            cache_ttl: DurOrSecs::Secs(3600),
            max_cost_per_gb: 0.10,
            edge_capacity_gb: Capacity::Unlimited,
            eviction: "lru".into(),
            admission: "always".into(),
            admission_window: None,
            on_expiry: "revalidate".into(),
            shield: false,
            shield_capacity_gb: Capacity::Unlimited,
            shield_latency_ms: 40.0,
            edge_latency_ms: 15.0,
            second_provider: None,
            multi_cdn: None,
            min_share_pct: None,
            second_edge_latency_ms: None,
            cloudflare_zone_id: None,
            cloudflare_api_key: None,
        }
    }
}

/// A duration string, or a whole number of seconds (as the seed's `CDN_CACHE_TTL=3600`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged, expecting = "a duration string like \"1h\", or a whole number of seconds")]
pub enum DurOrSecs {
    /// `"1h"`
    Dur(Dur),
    /// `3600`
    Secs(u64),
}

impl DurOrSecs {
    /// The duration.
    pub fn get(self) -> clipsim_engine::SimDuration {
        match self {
            DurOrSecs::Dur(d) => d.0,
            DurOrSecs::Secs(s) => clipsim_engine::SimDuration::from_secs(s),
        }
    }
}

/// A cache size in GB, or unlimited.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(untagged, expecting = "a size in GB (a number) or \"unlimited\"")]
pub enum Capacity {
    /// GB.
    Gb(f64),
    /// `"unlimited"`
    #[serde(deserialize_with = "unlimited")]
    Unlimited,
}

fn unlimited<'de, D: serde::Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    let s = String::deserialize(d)?;
    if s == "unlimited" {
        Ok(())
    } else {
        Err(serde::de::Error::custom(format!("\"{s}\" is not a capacity: expected a number of GB or \"unlimited\"")))
    }
}

/// `[mirror]`: the seed's `MIRROR_*` variables and policy options.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawMirror {
    /// `MIRROR_ENABLED` (seed default false).
    pub enabled: bool,
    /// `MIRROR_REGIONS` (default: every region).
    pub regions: Option<Vec<String>>,
    /// `MIRROR_REPLICATION_THRESHOLD`.
    pub replication_threshold: u64,
    /// `MIRROR_TTL_DAYS`.
    pub ttl_days: f64,
    /// `MIRROR_MAX_PER_CLIP`.
    pub max_per_clip: u32,
    /// `MIRROR_SYNC_INTERVAL_MINUTES`.
    pub sync_interval_minutes: f64,
    /// `MIRROR_MIN_HIT_RATE`, percent: the report flags a mirror hit rate below it.
    pub min_hit_rate: f64,
    /// How often expired mirrors are deleted.
    pub cleanup_interval: Dur,
    /// Score points per view.
    pub view_weight: u32,
    /// Score points per unit of vote score.
    pub vote_weight: u32,
    /// Halve view and vote counts every this long (default: never, as the seed's view count).
    pub score_half_life: Option<Dur>,
    /// Count only the views and votes of the last this long (default: every view since upload).
    pub score_window: Option<Dur>,
    /// Whether a sync that finds a clip still popular extends its mirrors' TTL.
    pub refresh_ttl_on_sync: bool,
    /// Adaptive lifetime: the shortest, days (with `ttl_max_days`).
    pub ttl_min_days: Option<f64>,
    /// Adaptive lifetime: the longest, days (with `ttl_min_days`).
    pub ttl_max_days: Option<f64>,
    /// Predictive mirroring: clips younger than this are judged by their view velocity.
    pub predict_age: Option<Dur>,
    /// Predictive mirroring: the span the velocity is projected over (default 30 days).
    pub predict_horizon: Option<Dur>,
    /// Cost-capped replication: no new copies while the cost alert is raised.
    pub cost_capped: bool,
    /// `"demand-ranked"` or `"demand-only"`.
    pub placement: String,
    /// `"seed-chain"` or `"latency-first"`.
    pub source_policy: String,
    /// Copy attempts before a pending mirror is given up.
    pub copy_attempts_max: u32,
    /// First retry delay of a failed copy (doubles per attempt).
    pub retry_backoff: Dur,
    /// Longest retry delay.
    pub retry_backoff_max: Dur,
}

impl Default for RawMirror {
    fn default() -> Self {
        use clipsim_engine::SimDuration as D;
        RawMirror {
            enabled: false,
            regions: None,
            replication_threshold: 1000,
            ttl_days: 7.0,
            max_per_clip: 3,
            sync_interval_minutes: 60.0,
            min_hit_rate: 60.0,
            cleanup_interval: Dur(D::from_days(1)),
            view_weight: 1,
            vote_weight: 1,
            score_half_life: None,
            score_window: None,
            refresh_ttl_on_sync: false,
            ttl_min_days: None,
            ttl_max_days: None,
            predict_age: None,
            predict_horizon: None,
            cost_capped: false,
            placement: "demand-ranked".into(),
            source_policy: "seed-chain".into(),
            copy_attempts_max: 5,
            retry_backoff: Dur(D::from_mins(1)),
            retry_backoff_max: Dur(D::from_hours(1)),
        }
    }
}

/// `[health]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawHealth {
    /// How often each region and the CDN are probed.
    pub probe_interval: Dur,
    /// Consecutive failed probes before a target is believed unhealthy.
    pub unhealthy_after_failures: u32,
    /// Consecutive good probes before it is believed healthy again.
    pub healthy_after_successes: u32,
    /// Smoothed probe latency above which a target is degraded, ms.
    pub degraded_latency_ms: f64,
    /// Multiple of a target's normal probe latency above which it is degraded (0: off).
    pub degraded_latency_factor: f64,
    /// What a request to a dead source costs before it fails over.
    pub request_timeout: Dur,
}

impl Default for RawHealth {
    fn default() -> Self {
        use clipsim_engine::SimDuration as D;
        RawHealth {
            probe_interval: Dur(D::from_secs(30)),
            unhealthy_after_failures: 3,
            healthy_after_successes: 3,
            degraded_latency_ms: 500.0,
            degraded_latency_factor: 2.0,
            request_timeout: Dur(D::from_secs(2)),
        }
    }
}

/// `[billing]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawBilling {
    /// The billing month; tiers reset at each boundary.
    pub month: Dur,
    /// Window of the cost alert.
    pub cost_alert_window: Dur,
    /// How often the cost alert is checked.
    pub cost_alert_check: Dur,
    /// `"cdn"` (CDN cost per CDN GB, the seed's check) or `"total"`.
    pub cost_alert_scope: String,
}

impl Default for RawBilling {
    fn default() -> Self {
        use clipsim_engine::SimDuration as D;
        RawBilling {
            month: Dur(D::from_days(30)),
            cost_alert_window: Dur(D::from_hours(24)),
            cost_alert_check: Dur(D::from_hours(1)),
            cost_alert_scope: "cdn".into(),
        }
    }
}

/// `[failures]`: background failures (off unless enabled).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawFailures {
    /// Whether regions and the CDN fail at random.
    pub enabled: bool,
    /// Mean time between a region's failures.
    pub region_mtbf: Dur,
    /// Mean time to repair a region.
    pub region_mttr: Dur,
    /// Mean time between the CDN's failures.
    pub cdn_mtbf: Dur,
    /// Mean time to repair the CDN.
    pub cdn_mttr: Dur,
}

impl Default for RawFailures {
    fn default() -> Self {
        use clipsim_engine::SimDuration as D;
        // Sources and reasoning: scenarios/README.md, `[failures]`.
        RawFailures {
            enabled: false,
            region_mtbf: Dur(D::from_days(365)),
            region_mttr: Dur(D::from_hours(4)),
            cdn_mtbf: Dur(D::from_days(365)),
            cdn_mttr: Dur(D::from_mins(60)),
        }
    }
}

/// `[[outages]]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutage {
    /// `region:NAME`, `cdn:PROVIDER`, `storage:PROVIDER`, `link:FROM->TO`.
    pub target: String,
    /// `down`, `degraded` or `lag`.
    pub kind: String,
    /// When it starts.
    pub start: Dur,
    /// How long it lasts.
    pub duration: Dur,
    /// For `degraded`: latency multiplier.
    #[serde(default)]
    pub latency_factor: Option<f64>,
    /// For `degraded`: share of attempts and probes that fail.
    #[serde(default)]
    pub error_rate: Option<f64>,
    /// For `lag`: database replication lag, which also delays copies to and from the region.
    #[serde(default)]
    pub lag: Option<Dur>,
}

/// Prices as written under `[providers.NAME]`, its zones and `[[price_changes]]`: price key
/// (`egress_per_gb`, ...) to its value. Keys and values are checked (against
/// [`crate::pricing::PriceKey`], as a [`RawPrice`]) when the scenario is validated, so that one
/// list of keys serves every place prices are written and an error names the key.
pub type RawPrices = IndexMap<String, toml::Value>;

/// A price: one number, or tiers.
#[derive(Clone, Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "a price in dollars, or a list of tiers like [{ from = 0, usd = 0.085 }, { from = 10240, usd = 0.08 }]"
)]
pub enum RawPrice {
    /// Flat.
    Flat(f64),
    /// Tiered; `from` in price units (GB, GB-month, 10k requests) used this month.
    Tiers(Vec<RawTier>),
}

/// One tier.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTier {
    /// Where the tier starts, in price units used this month.
    pub from: u64,
    /// Dollars per price unit.
    pub usd: f64,
}

/// `[providers.NAME]`. Besides the keys below, any price key (unknown keys are refused when
/// the scenario is validated, where the price keys are listed).
#[derive(Clone, Debug, Deserialize)]
pub struct RawProvider {
    /// `cdn` or `storage`: needed for a provider that is not built in.
    pub kind: Option<String>,
    /// Where these prices come from.
    pub source: Option<String>,
    /// What a CDN's flat-rate plan includes each month.
    pub plan_includes: Option<RawPlanIncludes>,
    /// Free allowances (price key to free price units a month, every zone together); replaces
    /// the built-in ones (`{}`: none).
    pub free_per_month: Option<RawPrices>,
    /// Prices for one zone (a geography for a CDN, a region for storage).
    #[serde(default)]
    pub zones: IndexMap<String, RawPrices>,
    /// Prices for every zone.
    #[serde(flatten)]
    pub prices: RawPrices,
}

/// `plan_includes = { egress_gb = N, requests = N }`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlanIncludes {
    /// Delivery included a month, GB.
    pub egress_gb: u64,
    /// Requests included a month.
    pub requests: u64,
}

/// `[[price_changes]]`: when, whose, and the new prices (price keys as under `[providers]`).
#[derive(Clone, Debug, Deserialize)]
pub struct RawPriceChange {
    /// When the new prices apply.
    pub at: Dur,
    /// Whose prices.
    pub provider: String,
    /// One zone only (default: every zone).
    pub zone: Option<String>,
    /// The new prices.
    #[serde(flatten)]
    pub prices: RawPrices,
}

/// `[targets]`: the seed's success metrics.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawTargets {
    /// P50 video load time, ms (seed: < 2000).
    pub p50_load_ms: Option<f64>,
    /// P95 video load time, ms.
    pub p95_load_ms: Option<f64>,
    /// Share of requests served (seed: 0.9999).
    pub availability: Option<f64>,
    /// Dollars per GB delivered (seed: < 0.10).
    pub cost_per_gb: Option<f64>,
    /// Mirror hit rate of the top 100 clips (seed: > 0.60).
    pub top100_mirror_hit_rate: Option<f64>,
    /// Set false to check no target at all.
    pub enabled: bool,
}

impl Default for RawTargets {
    fn default() -> Self {
        RawTargets {
            p50_load_ms: Some(2000.0),
            p95_load_ms: None,
            availability: Some(0.9999),
            cost_per_gb: Some(0.10),
            top100_mirror_hit_rate: Some(0.60),
            enabled: true,
        }
    }
}

/// `[expected]`: a monthly estimate (in dollars) to compare the simulated bill with.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpected {
    /// Where the estimate comes from.
    pub source: Option<String>,
    /// Storage.
    pub storage_usd: Option<f64>,
    /// CDN bandwidth.
    pub cdn_egress_usd: Option<f64>,
    /// Storage egress.
    pub origin_egress_usd: Option<f64>,
    /// Transfer between regions.
    pub inter_region_usd: Option<f64>,
    /// Requests.
    pub requests_usd: Option<f64>,
    /// The total.
    pub total_usd: Option<f64>,
    /// One line per expected figure explaining how it was derived, shown in the report.
    #[serde(default)]
    pub notes: Vec<String>,
}
