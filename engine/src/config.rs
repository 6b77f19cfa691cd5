//! The engine's configuration: topology, mirror policy, health thresholds and prices.
//!
//! Everything is checked by [`EngineConfig::validate`] (called by [`crate::Engine::new`]);
//! a [`ConfigError`] names the field and the bad value.

use crate::billing::{Meter, RateTable};
use crate::health::HealthConfig;
use crate::ids::{GeoId, ProviderId, RegionId};
use crate::units::{SimDuration, SimTime, NANOS_PER_USD};
use core::fmt;

/// The most regions an engine handles (a region set is a `u64` bit mask).
pub const REGIONS_MAX: usize = 64;
/// The most viewer geographies.
pub const GEOS_MAX: usize = 32;
/// The most mirrors one clip may have (the seed uses 2-3).
pub const MIRRORS_PER_CLIP_MAX: usize = 8;
/// The most providers.
pub const PROVIDERS_MAX: usize = 64;

/// A storage region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionConfig {
    /// Its name, e.g. `us-east-1`.
    pub name: String,
    /// Who stores its bytes and bills storage, egress, GETs and inter-region transfer.
    pub storage_provider: ProviderId,
}

/// The seed's `MIRROR_*` settings and the policy options around them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorConfig {
    /// `MIRROR_ENABLED`: when false, no sync job runs and no mirror is made.
    pub enabled: bool,
    /// `MIRROR_REGIONS`: where mirrors may be placed (a clip's primary region is always skipped).
    pub regions: Vec<RegionId>,
    /// `MIRROR_REPLICATION_THRESHOLD`: a clip whose popularity score reaches this is mirrored.
    pub replication_threshold: u64,
    /// Score points per view (default 1).
    pub view_weight: u32,
    /// Score points per unit of vote score (default 1): score = views x view_weight + votes x vote_weight.
    pub vote_weight: u32,
    /// When set, view and vote counts halve every `score_half_life` (applied at each sync), so
    /// the score tracks recent popularity. `None` (default) counts every view since upload, as the
    /// seed's `view_count` does.
    pub score_half_life: Option<SimDuration>,
    /// When set, the score counts only the views and votes of the last `score_window` (see
    /// [`crate::window`]): a sliding window, in [`crate::window::STEPS`] steps. Exclusive with
    /// `score_half_life`.
    pub score_window: Option<SimDuration>,
    /// `MIRROR_TTL_DAYS`: a mirror expires this long after it became active.
    pub ttl: SimDuration,
    /// Whether a sync that still finds a clip popular pushes its active mirrors' expiry to
    /// `now + ttl`. Default `false`: the seed sets expiry once, at creation.
    pub refresh_ttl_on_sync: bool,
    /// `MIRROR_MAX_PER_CLIP`: the most mirror records (pending, active or expired awaiting
    /// cleanup) a clip may have.
    pub max_per_clip: u8,
    /// `MIRROR_SYNC_INTERVAL_MINUTES`: how often the sync job runs.
    pub sync_interval: SimDuration,
    /// How often the cleanup job deletes expired mirrors (seed: daily).
    pub cleanup_interval: SimDuration,
    /// Delay before the first retry of a failed copy; doubles per attempt.
    pub retry_backoff_base: SimDuration,
    /// The longest delay between retries.
    pub retry_backoff_max: SimDuration,
    /// Copy attempts before a pending mirror is abandoned.
    pub copy_attempts_max: u8,
    /// Demand-predictive mirroring of fresh uploads: when set, a sync also mirrors a clip younger
    /// than [`Predict::age`] whose score, projected at its view velocity so far over
    /// [`Predict::horizon`], reaches the threshold. `None` (default): the seed's threshold only.
    pub predict: Option<Predict>,
    /// Adaptive mirror lifetime: when set, a mirror lives `ttl x score / threshold`, within
    /// these bounds (see [`crate::policy::TtlPolicy`]). `None` (default): the seed's fixed `ttl`.
    pub ttl_bounds: Option<TtlBounds>,
    /// Cost-capped replication: while the cost alert is raised (cost per GB over
    /// `COST_ALERT_THRESHOLD` in its window), a sync orders no new copies; refreshes of existing
    /// mirrors go on. Default `false`: the seed's alert only reports.
    pub cost_capped: bool,
}

/// Demand-predictive mirroring of fresh uploads ([`MirrorConfig::predict`]).
///
/// At a sync at time `t`, a clip uploaded at `u` with `0 < t - u < age` and score `s` qualifies
/// when `s x horizon >= threshold x (t - u)`: at the view velocity it has shown since upload it
/// would reach the threshold within `horizon` of its upload. The seed's rule (score at least the
/// threshold) still applies to every clip. A clip with past views ([`crate::Input::PastViews`], a
/// catalog's history), and any clip uploaded before it, is not a fresh upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Predict {
    /// How long after its upload a clip is fresh (judged by its velocity).
    pub age: SimDuration,
    /// The span the velocity is projected over.
    pub horizon: SimDuration,
}

/// The bounds of an adaptive mirror lifetime ([`MirrorConfig::ttl_bounds`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TtlBounds {
    /// The shortest lifetime (a clip at or below no score).
    pub min: SimDuration,
    /// The longest lifetime.
    pub max: SimDuration,
}

impl MirrorConfig {
    /// The seed's defaults: threshold 1000, TTL 7 days, 3 mirrors per clip, hourly sync, daily
    /// cleanup; mirrors allowed in `regions`.
    pub fn seed_defaults(regions: Vec<RegionId>) -> Self {
        MirrorConfig {
            enabled: true,
            regions,
            replication_threshold: 1000,
            view_weight: 1,
            vote_weight: 1,
            score_half_life: None,
            score_window: None,
            ttl: SimDuration::from_days(7),
            refresh_ttl_on_sync: false,
            max_per_clip: 3,
            sync_interval: SimDuration::from_mins(60),
            cleanup_interval: SimDuration::from_days(1),
            retry_backoff_base: SimDuration::from_mins(1),
            retry_backoff_max: SimDuration::from_hours(1),
            copy_attempts_max: 5,
            predict: None,
            ttl_bounds: None,
            cost_capped: false,
        }
    }
}

/// Which costs the passive cost alert watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertScope {
    /// CDN cost per GB the CDN delivered (the seed's `CDN_MAX_COST_PER_GB`, checked by its CDN
    /// service). Default.
    Cdn,
    /// Total cost per GB delivered to viewers by any path.
    Total,
}

/// The passive cost alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CostAlertConfig {
    /// `CDN_MAX_COST_PER_GB` in nanodollars per GB (seed: $0.10).
    pub max_cost_per_gb_nanos: u64,
    /// The sliding window the ratio is taken over.
    pub window: SimDuration,
    /// How often the window is evaluated; `window` must be a whole multiple of it.
    pub check_interval: SimDuration,
    /// Which costs are watched.
    pub scope: AlertScope,
}

impl Default for CostAlertConfig {
    fn default() -> Self {
        CostAlertConfig {
            max_cost_per_gb_nanos: NANOS_PER_USD as u64 / 10,
            window: SimDuration::from_hours(24),
            check_interval: SimDuration::from_hours(1),
            scope: AlertScope::Cdn,
        }
    }
}

/// A second CDN beside the first ([`EngineConfig::set_second_cdn`]). Each request uses at most
/// one of them: it is chosen when the request begins ([`crate::Request::cdn_index`]), among the
/// CDNs not believed unhealthy, and an edge that fails during a request sends it to the origin
/// directly, as with one CDN. Both CDNs fetch misses from the same origins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondCdn {
    /// Who it is (its CDN meters are billed to this provider).
    pub provider: ProviderId,
    /// How requests are shared between the two.
    pub mode: MultiCdn,
}

/// How requests are shared between two CDNs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MultiCdn {
    /// Standby: every request uses the first CDN while it is not believed unhealthy, else the
    /// second (automatic provider failover, driven by the health probes).
    Failover,
    /// Active-active with a cost-aware split: in each geography the CDN whose egress is cheaper
    /// there now (the marginal rate of its current tier, free while an allowance lasts; the
    /// request fee breaks a tie) takes all but `min_share_pct` percent of the requests, which
    /// keep the other one's caches warm; equal prices split evenly. The shares are recomputed
    /// at every cost-alert check, price change and month close; within a share, requests
    /// alternate exactly (a running remainder, no random draw). A CDN believed unhealthy gets
    /// none: its requests go to the other.
    CostSplit {
        /// The share the pricier CDN keeps in each geography, 0 to 50 percent.
        min_share_pct: u32,
    },
}

/// A rate table for the lines of one meter and provider, in one zone or in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateEntry {
    /// The meter.
    pub meter: Meter,
    /// The provider.
    pub provider: ProviderId,
    /// A region id or geography id (see [`Meter::zone_is_geo`]); `None` for every zone. A
    /// zone-specific entry wins over a `None` entry.
    pub zone: Option<u32>,
    /// The rates.
    pub table: RateTable,
}

/// A free allowance: `units_per_month` base units (bytes, byte-microseconds or requests) of the
/// lines of `meters` billed by `provider`, in every zone together, cost nothing each billing month,
/// as CloudFront's always-free 1 TB and 10 M requests or R2's free operations do. See
/// [`crate::billing`] for the order in which lines draw on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowance {
    /// Who grants it.
    pub provider: ProviderId,
    /// The meters that draw on it (all metered in the same base unit).
    pub meters: Vec<Meter>,
    /// Free base units per billing month.
    pub units_per_month: u128,
}

/// Billing settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillingConfig {
    /// The billing month (30 days by default); tiers reset at each month boundary.
    pub month: SimDuration,
    /// Rate tables; every line the topology uses needs one (see [`ConfigError::MissingRate`]).
    pub rates: Vec<RateEntry>,
    /// The passive cost alert.
    pub cost_alert: CostAlertConfig,
    /// Free allowances; a line draws on at most one.
    pub allowances: Vec<Allowance>,
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// Provider names, indexed by [`ProviderId`].
    pub providers: Vec<String>,
    /// Regions, indexed by [`RegionId`].
    pub regions: Vec<RegionConfig>,
    /// Viewer geographies, indexed by [`GeoId`].
    pub geos: Vec<String>,
    /// Round-trip latency from each region to each geography in milliseconds: `latency_ms[region][geo]`.
    pub latency_ms: Vec<Vec<u32>>,
    /// The CDN provider, or `None` when `CDN_ENABLED=false`.
    pub cdn_provider: Option<ProviderId>,
    /// A second CDN beside the first, and how requests are shared between them ([`SecondCdn`]).
    pub second_cdn: Option<SecondCdn>,
    /// Mirror policy.
    pub mirror: MirrorConfig,
    /// Health thresholds.
    pub health: HealthConfig,
    /// Each region's (by [`RegionId`]) then the CDN's normal probe latency, when known (see
    /// [`HealthConfig::degraded_factor_pct`]); missing entries are unknown.
    pub probe_normal: Vec<Option<SimDuration>>,
    /// Prices and alerts.
    pub billing: BillingConfig,
    /// A storage lifecycle rule moving primary copies to the infrequent-access class, or `None`
    /// (every copy stays in the standard class).
    pub lifecycle: Option<Lifecycle>,
}

/// A storage lifecycle rule (an S3 lifecycle transition to Standard-IA, R2's to Infrequent
/// Access): a clip's primary copy moves to its region's infrequent-access class once it is
/// `infrequent_after` old, and stays there. From then on its storage is metered on
/// [`crate::Meter::StorageInfrequent`]; each request it answers (directly or through the CDN)
/// on [`crate::Meter::RequestsInfrequent`] instead of `OriginRequests`, and the bytes it sends
/// on [`crate::Meter::Retrieval`] (a CDN's revalidation sends none); and a copy to a mirror that
/// reads it pays the retrieval of the bytes it moves (judged when the copy is ordered or
/// retried; copies bill no request fee, as without a rule). Mirrors always stay in the standard
/// class. With a rule, every storage provider needs rates for those three meters.
///
/// Not modelled: the class's minimum storage duration (30 days at S3 and R2: primaries are never
/// deleted) and minimum billable size (128 KB at S3: a smaller clip is billed for its own size
/// here), S3's refusal of transitions to Standard-IA before 30 days (a shorter age models
/// uploading into the class), and the transition
/// requests' fee (S3: $0.01 per 1,000 objects, once per clip).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifecycle {
    /// The age at which a primary copy moves to the infrequent-access class.
    pub infrequent_after: SimDuration,
    /// How old the clips uploaded at time 0 (the catalog) are when the run starts: they move
    /// `infrequent_after - catalog_age` into the run, or at once.
    pub catalog_age: SimDuration,
}

impl Lifecycle {
    /// When a primary copy uploaded at `uploaded_at` moves to the infrequent-access class.
    pub fn transition_at(&self, uploaded_at: SimTime) -> SimTime {
        if uploaded_at == SimTime::ZERO {
            SimTime::ZERO
                + SimDuration::from_micros(
                    self.infrequent_after.as_micros().saturating_sub(self.catalog_age.as_micros()),
                )
        } else {
            uploaded_at + self.infrequent_after
        }
    }
}

/// A configuration the engine cannot run with.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A field's value is out of range.
    Invalid {
        /// The field, e.g. `mirror.max_per_clip`.
        field: &'static str,
        /// The value as given.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// A reference to a region, geography or provider that does not exist.
    UnknownId {
        /// The field holding the reference.
        field: &'static str,
        /// The id given.
        id: u32,
        /// How many exist.
        count: usize,
    },
    /// A line the topology uses has no rate table.
    MissingRate {
        /// The meter.
        meter: &'static str,
        /// The provider's name.
        provider: String,
        /// The zone's name.
        zone: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Invalid { field, value, expected } => {
                write!(f, "`{field}` = {value} is invalid: expected {expected}")
            }
            ConfigError::UnknownId { field, id, count } => {
                write!(f, "`{field}` refers to id {id}, but only {count} exist (ids 0..{count})")
            }
            ConfigError::MissingRate { meter, provider, zone } => {
                write!(f, "no rate for meter `{meter}` of provider `{provider}` in `{zone}`")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

fn invalid(field: &'static str, value: impl fmt::Display, expected: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { field, value: value.to_string(), expected: expected.into() }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl EngineConfig {
    /// An empty topology with the seed's defaults: add providers, regions and geographies, set
    /// latencies and rates, then hand it to [`crate::Engine::new`]. Regions added are also
    /// allowed to hold mirrors (`MIRROR_REGIONS`), and the first provider added with
    /// [`EngineConfig::set_cdn`] becomes the CDN.
    pub fn new() -> Self {
        EngineConfig {
            providers: Vec::new(),
            regions: Vec::new(),
            geos: Vec::new(),
            latency_ms: Vec::new(),
            cdn_provider: None,
            second_cdn: None,
            mirror: MirrorConfig::seed_defaults(Vec::new()),
            health: HealthConfig::default(),
            probe_normal: Vec::new(),
            billing: BillingConfig {
                month: SimDuration::from_days(30),
                rates: Vec::new(),
                cost_alert: CostAlertConfig::default(),
                allowances: Vec::new(),
            },
            lifecycle: None,
        }
    }

    /// Adds a provider.
    pub fn add_provider(&mut self, name: &str) -> ProviderId {
        self.providers.push(name.to_string());
        ProviderId(self.providers.len() as u32 - 1)
    }

    /// Adds a region stored by `provider`, allowed to hold mirrors.
    pub fn add_region(&mut self, name: &str, provider: ProviderId) -> RegionId {
        self.regions.push(RegionConfig { name: name.to_string(), storage_provider: provider });
        self.latency_ms.push(vec![0; self.geos.len()]);
        let id = RegionId(self.regions.len() as u32 - 1);
        self.mirror.regions.push(id);
        id
    }

    /// Adds a viewer geography.
    pub fn add_geo(&mut self, name: &str) -> GeoId {
        self.geos.push(name.to_string());
        for row in &mut self.latency_ms {
            row.push(0);
        }
        GeoId(self.geos.len() as u32 - 1)
    }

    /// Sets the round-trip latency between a region and a geography (both must exist).
    pub fn set_latency_ms(&mut self, region: RegionId, geo: GeoId, ms: u32) {
        self.latency_ms[region.index()][geo.index()] = ms;
    }

    /// Sets the normal probe latency of a region or a CDN (what a healthy target answers in),
    /// against which [`HealthConfig::degraded_factor_pct`] judges it.
    pub fn set_probe_normal(&mut self, target: crate::HealthTarget, latency: SimDuration) {
        let i = match target {
            crate::HealthTarget::Region(r) => r.index(),
            crate::HealthTarget::Cdn => self.regions.len(),
            crate::HealthTarget::SecondCdn => self.regions.len() + 1,
        };
        if self.probe_normal.len() <= i {
            self.probe_normal.resize(i + 1, None);
        }
        self.probe_normal[i] = Some(latency);
    }

    /// Makes `provider` the CDN.
    pub fn set_cdn(&mut self, provider: ProviderId) {
        self.cdn_provider = Some(provider);
    }

    /// Adds `provider` as a second CDN beside the one of [`EngineConfig::set_cdn`], shared as
    /// `mode` says.
    pub fn set_second_cdn(&mut self, provider: ProviderId, mode: MultiCdn) {
        self.second_cdn = Some(SecondCdn { provider, mode });
    }

    /// Sets the rate table of `meter` for every zone of `provider`.
    pub fn set_rate(&mut self, meter: Meter, provider: ProviderId, table: RateTable) {
        self.billing.rates.retain(|e| !(e.meter == meter && e.provider == provider && e.zone.is_none()));
        self.billing.rates.push(RateEntry { meter, provider, zone: None, table });
    }

    /// Grants `units_per_month` free base units a month on the lines of `meters` of `provider`.
    pub fn add_allowance(&mut self, provider: ProviderId, meters: &[Meter], units_per_month: u128) {
        self.billing.allowances.push(Allowance { provider, meters: meters.to_vec(), units_per_month });
    }

    /// Checks every field; the first problem found is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_topology()?;
        self.validate_mirror()?;
        self.validate_health_and_billing()
    }

    fn validate_topology(&self) -> Result<(), ConfigError> {
        if self.providers.is_empty() || self.providers.len() > PROVIDERS_MAX {
            return Err(invalid("providers", self.providers.len(), format!("1 to {PROVIDERS_MAX} providers")));
        }
        if self.regions.is_empty() || self.regions.len() > REGIONS_MAX {
            return Err(invalid("regions", self.regions.len(), format!("1 to {REGIONS_MAX} regions")));
        }
        if self.geos.is_empty() || self.geos.len() > GEOS_MAX {
            return Err(invalid("geos", self.geos.len(), format!("1 to {GEOS_MAX} geographies")));
        }
        for r in &self.regions {
            self.check_provider("regions.storage_provider", r.storage_provider)?;
        }
        if let Some(p) = self.cdn_provider {
            self.check_provider("cdn_provider", p)?;
        }
        if let Some(second) = self.second_cdn {
            self.check_provider("second_cdn.provider", second.provider)?;
            match self.cdn_provider {
                None => return Err(invalid("second_cdn", "set", "a first CDN (set_cdn) beside it")),
                Some(first) if first == second.provider => {
                    return Err(invalid(
                        "second_cdn.provider",
                        &self.providers[first.index()],
                        "a provider other than the first CDN",
                    ))
                }
                Some(_) => {}
            }
            if let MultiCdn::CostSplit { min_share_pct } = second.mode {
                if min_share_pct > 50 {
                    return Err(invalid("second_cdn.min_share_pct", min_share_pct, "0 to 50 percent"));
                }
            }
        }
        if self.latency_ms.len() != self.regions.len() {
            return Err(invalid(
                "latency_ms",
                format!("{} rows", self.latency_ms.len()),
                format!("one row per region ({})", self.regions.len()),
            ));
        }
        for row in &self.latency_ms {
            if row.len() != self.geos.len() {
                return Err(invalid(
                    "latency_ms",
                    format!("a row of {} entries", row.len()),
                    format!("one entry per geography ({})", self.geos.len()),
                ));
            }
        }
        Ok(())
    }

    fn validate_mirror(&self) -> Result<(), ConfigError> {
        let m = &self.mirror;
        if m.max_per_clip == 0 || m.max_per_clip as usize > MIRRORS_PER_CLIP_MAX {
            return Err(invalid("mirror.max_per_clip", m.max_per_clip, format!("1 to {MIRRORS_PER_CLIP_MAX}")));
        }
        if m.ttl == SimDuration::ZERO {
            return Err(invalid("mirror.ttl", m.ttl, "a positive duration"));
        }
        for (field, d) in [
            ("mirror.sync_interval", m.sync_interval),
            ("mirror.cleanup_interval", m.cleanup_interval),
            ("mirror.retry_backoff_base", m.retry_backoff_base),
        ] {
            if d == SimDuration::ZERO {
                return Err(invalid(field, d, "a positive duration"));
            }
        }
        if m.retry_backoff_max < m.retry_backoff_base {
            return Err(invalid(
                "mirror.retry_backoff_max",
                m.retry_backoff_max,
                format!("at least retry_backoff_base ({})", m.retry_backoff_base),
            ));
        }
        if m.copy_attempts_max == 0 {
            return Err(invalid("mirror.copy_attempts_max", 0, "at least 1"));
        }
        if let Some(h) = m.score_half_life {
            if h == SimDuration::ZERO {
                return Err(invalid("mirror.score_half_life", h, "a positive duration, or none"));
            }
        }
        if let Some(w) = m.score_window {
            if w.as_micros() < crate::window::STEPS as u64 {
                let expected = format!("at least {}us (one per step), or none", crate::window::STEPS);
                return Err(invalid("mirror.score_window", w, expected));
            }
            if m.score_half_life.is_some() {
                return Err(invalid("mirror.score_window", w, "none when score_half_life is set (one or the other)"));
            }
            if w.as_micros() < m.sync_interval.as_micros().saturating_mul(2) {
                let expected = format!("at least two sync intervals ({}): its steps advance at syncs", m.sync_interval);
                return Err(invalid("mirror.score_window", w, expected));
            }
        }
        if let Some(p) = m.predict {
            if p.age == SimDuration::ZERO {
                return Err(invalid("mirror.predict.age", p.age, "a positive duration"));
            }
            if p.horizon == SimDuration::ZERO {
                return Err(invalid("mirror.predict.horizon", p.horizon, "a positive duration"));
            }
        }
        if let Some(b) = m.ttl_bounds {
            if b.min == SimDuration::ZERO {
                return Err(invalid("mirror.ttl_bounds.min", b.min, "a positive duration"));
            }
            if b.max < b.min {
                return Err(invalid("mirror.ttl_bounds.max", b.max, format!("at least ttl_bounds.min ({})", b.min)));
            }
        }
        let mut seen = 0u64;
        for r in &m.regions {
            if r.index() >= self.regions.len() {
                return Err(ConfigError::UnknownId { field: "mirror.regions", id: r.0, count: self.regions.len() });
            }
            if seen & (1 << r.0) != 0 {
                return Err(invalid("mirror.regions", &self.regions[r.index()].name, "each region at most once"));
            }
            seen |= 1 << r.0;
        }
        if m.enabled {
            if m.view_weight == 0 && m.vote_weight == 0 && m.replication_threshold > 0 {
                return Err(invalid(
                    "mirror.replication_threshold",
                    m.replication_threshold,
                    "a threshold that can be reached: view_weight and vote_weight are both 0",
                ));
            }
            if m.replication_threshold > i64::MAX as u64 {
                return Err(invalid(
                    "mirror.replication_threshold",
                    m.replication_threshold,
                    format!("at most {}", i64::MAX),
                ));
            }
        }
        Ok(())
    }

    fn validate_health_and_billing(&self) -> Result<(), ConfigError> {
        let h = &self.health;
        if h.unhealthy_after_failures == 0 {
            return Err(invalid("health.unhealthy_after_failures", 0, "at least 1"));
        }
        if h.healthy_after_successes == 0 {
            return Err(invalid("health.healthy_after_successes", 0, "at least 1"));
        }
        let b = &self.billing;
        if b.month < SimDuration::from_hours(1) {
            return Err(invalid("billing.month", b.month, "at least 1h"));
        }
        let a = &b.cost_alert;
        if a.check_interval == SimDuration::ZERO {
            return Err(invalid("billing.cost_alert.check_interval", a.check_interval, "a positive duration"));
        }
        if a.window < a.check_interval || !a.window.as_micros().is_multiple_of(a.check_interval.as_micros()) {
            return Err(invalid(
                "billing.cost_alert.window",
                a.window,
                format!("a whole multiple of check_interval ({})", a.check_interval),
            ));
        }
        if a.window.as_micros() / a.check_interval.as_micros() > 10_000 {
            return Err(invalid("billing.cost_alert.window", a.window, "at most 10000 check intervals"));
        }
        for e in &b.rates {
            self.check_provider("billing.rates.provider", e.provider)?;
            if let Some(z) = e.zone {
                let count = if e.meter.zone_is_geo() { self.geos.len() } else { self.regions.len() };
                if z as usize >= count {
                    return Err(ConfigError::UnknownId { field: "billing.rates.zone", id: z, count });
                }
            }
        }
        for (i, a) in b.allowances.iter().enumerate() {
            self.check_provider("billing.allowances.provider", a.provider)?;
            let Some(first) = a.meters.first() else {
                return Err(invalid("billing.allowances.meters", "[]", "at least one meter"));
            };
            if let Some(m) = a.meters.iter().find(|m| m.units_per_price_unit() != first.units_per_price_unit()) {
                let expected = format!("meters metered in the same unit as {}", first.name());
                return Err(invalid("billing.allowances.meters", m.name(), expected));
            }
            let taken = |m: &Meter| {
                b.allowances[..i].iter().any(|o| o.provider == a.provider && o.meters.contains(m))
                    || a.meters.iter().filter(|&o| o == m).count() > 1
            };
            if let Some(m) = a.meters.iter().find(|m| taken(m)) {
                return Err(invalid("billing.allowances.meters", m.name(), "each meter in at most one allowance"));
            }
        }
        Ok(())
    }

    fn check_provider(&self, field: &'static str, p: ProviderId) -> Result<(), ConfigError> {
        if p.index() >= self.providers.len() {
            return Err(ConfigError::UnknownId { field, id: p.0, count: self.providers.len() });
        }
        Ok(())
    }

    /// The rate table for a line: a zone-specific entry if there is one, else the provider-wide
    /// entry for the meter.
    pub fn rate_for(&self, meter: Meter, provider: ProviderId, zone: u32) -> Option<&RateTable> {
        let matching = |exact: bool| {
            self.billing.rates.iter().find(|e| {
                e.meter == meter
                    && e.provider == provider
                    && if exact { e.zone == Some(zone) } else { e.zone.is_none() }
            })
        };
        matching(true).or_else(|| matching(false)).map(|e| &e.table)
    }

    /// The name of a zone of `meter`, for messages.
    pub fn zone_name(&self, meter: Meter, zone: u32) -> &str {
        if meter.per_provider() {
            "every zone"
        } else if meter.zone_is_geo() {
            &self.geos[zone as usize]
        } else {
            &self.regions[zone as usize].name
        }
    }

    /// The region with this name.
    pub fn region_id(&self, name: &str) -> Option<RegionId> {
        self.regions.iter().position(|r| r.name == name).map(|i| RegionId(i as u32))
    }

    /// The geography with this name.
    pub fn geo_id(&self, name: &str) -> Option<GeoId> {
        self.geos.iter().position(|g| g == name).map(|i| GeoId(i as u32))
    }

    /// The provider with this name.
    pub fn provider_id(&self, name: &str) -> Option<ProviderId> {
        self.providers.iter().position(|p| p == name).map(|i| ProviderId(i as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> EngineConfig {
        let mut cfg = EngineConfig::new();
        let s3 = cfg.add_provider("s3");
        let us = cfg.add_region("us-east-1", s3);
        let na = cfg.add_geo("na");
        cfg.set_latency_ms(us, na, 20);
        cfg
    }

    fn field_of(e: ConfigError) -> (&'static str, String) {
        match e {
            ConfigError::Invalid { field, value, .. } => (field, value),
            ConfigError::UnknownId { field, id, .. } => (field, id.to_string()),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field_and_the_value() {
        let mut c = small();
        c.mirror.max_per_clip = 0;
        assert_eq!(field_of(c.validate().unwrap_err()), ("mirror.max_per_clip", "0".into()));
        let mut c = small();
        c.mirror.ttl = SimDuration::ZERO;
        assert_eq!(field_of(c.validate().unwrap_err()), ("mirror.ttl", "0s".into()));
        let mut c = small();
        c.mirror.regions.push(RegionId(7));
        assert_eq!(field_of(c.validate().unwrap_err()), ("mirror.regions", "7".into()));
        let mut c = small();
        c.mirror.view_weight = 0;
        c.mirror.vote_weight = 0;
        let e = c.validate().unwrap_err();
        assert!(
            e.to_string().contains("`mirror.replication_threshold` = 1000") && e.to_string().contains("can be reached"),
            "{e}"
        );
        let mut c = small();
        c.billing.cost_alert.window = SimDuration::from_mins(90);
        assert_eq!(field_of(c.validate().unwrap_err()).0, "billing.cost_alert.window");
    }

    /// A configuration with `providers`, `regions` and `geos` of each (regions stored by the
    /// first provider, every latency set).
    fn sized(providers: usize, regions: usize, geos: usize) -> EngineConfig {
        let mut c = EngineConfig::new();
        for p in 0..providers {
            c.add_provider(&format!("p{p}"));
        }
        for r in 0..regions {
            c.add_region(&format!("r{r}"), ProviderId(0));
        }
        for g in 0..geos {
            c.add_geo(&format!("g{g}"));
        }
        for r in 0..regions {
            for g in 0..geos {
                c.set_latency_ms(RegionId(r as u32), GeoId(g as u32), 10);
            }
        }
        c
    }

    /// Every limit accepts its bound and refuses the first value past it, naming the field.
    #[test]
    fn every_limit_accepts_its_bound_and_refuses_one_past_it() {
        let ok = |c: &EngineConfig| c.validate().unwrap_or_else(|e| panic!("refused: {e}"));
        let field = |c: &EngineConfig| field_of(c.validate().expect_err("must be refused")).0;
        // Topology.
        ok(&sized(PROVIDERS_MAX, REGIONS_MAX, GEOS_MAX));
        ok(&sized(1, 1, 1));
        assert_eq!(field(&sized(PROVIDERS_MAX + 1, 1, 1)), "providers");
        assert_eq!(field(&sized(1, REGIONS_MAX + 1, 1)), "regions");
        assert_eq!(field(&sized(1, 1, GEOS_MAX + 1)), "geos");
        assert_eq!(field(&sized(1, 0, 1)), "regions");
        assert_eq!(field(&sized(1, 1, 0)), "geos");
        let mut c = EngineConfig::new();
        c.add_region("r", ProviderId(0));
        c.add_geo("g");
        assert_eq!(field(&c), "providers");
        let mut c = sized(1, 2, 1);
        c.regions[1].storage_provider = ProviderId(1);
        assert_eq!(field_of(c.validate().unwrap_err()), ("regions.storage_provider", "1".into()));
        let mut c = sized(2, 1, 1);
        c.set_cdn(ProviderId(1));
        ok(&c);
        c.cdn_provider = Some(ProviderId(2));
        assert_eq!(field(&c), "cdn_provider");
        let mut c = sized(1, 2, 2);
        c.latency_ms.pop();
        assert_eq!(field(&c), "latency_ms");
        let mut c = sized(1, 2, 2);
        c.latency_ms[1].pop();
        assert_eq!(field(&c), "latency_ms");
        // Mirrors.
        let mirror = |f: &dyn Fn(&mut MirrorConfig)| {
            let mut c = sized(1, REGIONS_MAX, 1);
            f(&mut c.mirror);
            c
        };
        ok(&mirror(&|m| m.max_per_clip = MIRRORS_PER_CLIP_MAX as u8));
        assert_eq!(field(&mirror(&|m| m.max_per_clip = MIRRORS_PER_CLIP_MAX as u8 + 1)), "mirror.max_per_clip");
        assert_eq!(field(&mirror(&|m| m.sync_interval = SimDuration::ZERO)), "mirror.sync_interval");
        assert_eq!(field(&mirror(&|m| m.cleanup_interval = SimDuration::ZERO)), "mirror.cleanup_interval");
        assert_eq!(
            field(&mirror(&|m| {
                m.retry_backoff_base = SimDuration::ZERO;
                m.retry_backoff_max = SimDuration::ZERO;
            })),
            "mirror.retry_backoff_base"
        );
        ok(&mirror(&|m| m.retry_backoff_max = m.retry_backoff_base));
        assert_eq!(
            field(&mirror(&|m| m.retry_backoff_max = SimDuration(m.retry_backoff_base.as_micros() - 1))),
            "mirror.retry_backoff_max"
        );
        ok(&mirror(&|m| m.copy_attempts_max = 1));
        assert_eq!(field(&mirror(&|m| m.copy_attempts_max = 0)), "mirror.copy_attempts_max");
        ok(&mirror(&|m| m.score_half_life = Some(SimDuration(1))));
        assert_eq!(field(&mirror(&|m| m.score_half_life = Some(SimDuration::ZERO))), "mirror.score_half_life");
        let tiny = |w: u64| {
            move |m: &mut MirrorConfig| {
                m.sync_interval = SimDuration(4);
                m.score_window = Some(SimDuration(w));
            }
        };
        ok(&mirror(&tiny(crate::window::STEPS as u64)));
        assert_eq!(field(&mirror(&tiny(crate::window::STEPS as u64 - 1))), "mirror.score_window");
        let two_syncs = |m: &mut MirrorConfig| m.score_window = Some(m.sync_interval.saturating_mul(2));
        ok(&mirror(&two_syncs));
        let short = |m: &mut MirrorConfig| {
            m.score_window = Some(SimDuration(m.sync_interval.saturating_mul(2).as_micros() - 1));
        };
        assert_eq!(field(&mirror(&short)), "mirror.score_window", "the steps advance at syncs");
        let both = |m: &mut MirrorConfig| {
            m.score_window = Some(SimDuration::from_days(7));
            m.score_half_life = Some(SimDuration::from_days(7));
        };
        assert_eq!(field(&mirror(&both)), "mirror.score_window");
        // Each region at most once, the highest ids included; distinct regions are fine.
        ok(&mirror(&|m| m.regions = (0..REGIONS_MAX as u32).map(RegionId).collect()));
        for r in [0, 1, 33, REGIONS_MAX as u32 - 1] {
            assert_eq!(field(&mirror(&|m| m.regions = vec![RegionId(r), RegionId(r)])), "mirror.regions", "region {r}");
        }
        // A threshold that cannot be reached is refused only when mirroring is on and it is above 0.
        let unreachable = |enabled: bool, threshold: u64| {
            mirror(&|m| {
                m.enabled = enabled;
                m.view_weight = 0;
                m.vote_weight = 0;
                m.replication_threshold = threshold;
            })
        };
        assert_eq!(field(&unreachable(true, 1)), "mirror.replication_threshold");
        ok(&unreachable(true, 0));
        ok(&unreachable(false, 1));
        ok(&mirror(&|m| m.vote_weight = 0));
        ok(&mirror(&|m| m.view_weight = 0));
        ok(&mirror(&|m| m.replication_threshold = i64::MAX as u64));
        assert_eq!(field(&mirror(&|m| m.replication_threshold = i64::MAX as u64 + 1)), "mirror.replication_threshold");
        ok(&mirror(&|m| {
            m.enabled = false;
            m.replication_threshold = u64::MAX;
        }));
        // Health and billing.
        let other = |f: &dyn Fn(&mut EngineConfig)| {
            let mut c = sized(2, 2, 2);
            f(&mut c);
            c
        };
        assert_eq!(field(&other(&|c| c.health.unhealthy_after_failures = 0)), "health.unhealthy_after_failures");
        assert_eq!(field(&other(&|c| c.health.healthy_after_successes = 0)), "health.healthy_after_successes");
        ok(&other(&|c| {
            c.health.unhealthy_after_failures = 1;
            c.health.healthy_after_successes = 1;
        }));
        ok(&other(&|c| c.billing.month = SimDuration::from_hours(1)));
        assert_eq!(
            field(&other(&|c| c.billing.month = SimDuration(SimDuration::from_hours(1).as_micros() - 1))),
            "billing.month"
        );
        let alert = |check: SimDuration, window: SimDuration| {
            other(&|c| {
                c.billing.cost_alert.check_interval = check;
                c.billing.cost_alert.window = window;
            })
        };
        let min = SimDuration::from_mins(1);
        assert_eq!(field(&alert(SimDuration::ZERO, min)), "billing.cost_alert.check_interval");
        ok(&alert(min, min));
        ok(&alert(min, min.saturating_mul(10_000)));
        ok(&alert(SimDuration(7), SimDuration(7 * 10_000)));
        assert_eq!(field(&alert(min, min.saturating_mul(10_001))), "billing.cost_alert.window");
        assert_eq!(field(&alert(min, SimDuration(min.as_micros() - 1))), "billing.cost_alert.window");
        assert_eq!(field(&alert(min, SimDuration(min.as_micros() * 3 / 2))), "billing.cost_alert.window");
        // Rates name known providers and zones.
        let rate = |provider: u32, meter: Meter, zone: Option<u32>| {
            other(&|c| {
                c.billing.rates.push(RateEntry {
                    meter,
                    provider: ProviderId(provider),
                    zone,
                    table: RateTable::flat(1).unwrap(),
                })
            })
        };
        ok(&rate(1, Meter::InterRegion, Some(1)));
        ok(&rate(1, Meter::CdnEgress, Some(1)));
        assert_eq!(field(&rate(2, Meter::InterRegion, None)), "billing.rates.provider");
        assert_eq!(
            field_of(rate(1, Meter::InterRegion, Some(2)).validate().unwrap_err()),
            ("billing.rates.zone", "2".into())
        );
        assert_eq!(field(&rate(1, Meter::CdnEgress, Some(2))), "billing.rates.zone");
    }

    /// An allowance names a known provider and one or more meters of one unit, each meter in at
    /// most one allowance of that provider.
    #[test]
    fn allowances_are_checked() {
        let with = |allowances: &[(u32, &[Meter])]| {
            let mut c = sized(2, 2, 2);
            for &(p, meters) in allowances {
                c.add_allowance(ProviderId(p), meters, 1);
            }
            c.validate().err().map(field_of)
        };
        use Meter::*;
        assert_eq!(with(&[(0, &[CdnEgress, OriginEgressDirect]), (1, &[CdnEgress]), (0, &[CdnRequests])]), None);
        assert_eq!(with(&[(2, &[CdnEgress])]), Some(("billing.allowances.provider", "2".into())));
        assert_eq!(with(&[(0, &[])]), Some(("billing.allowances.meters", "[]".into())));
        let mixed = with(&[(0, &[CdnEgress, CdnRequests])]);
        assert_eq!(mixed, Some(("billing.allowances.meters", "cdn_requests".into())));
        let twice = with(&[(0, &[CdnEgress]), (0, &[OriginEgressDirect, CdnEgress])]);
        assert_eq!(twice, Some(("billing.allowances.meters", "cdn_egress".into())));
        let repeated = with(&[(1, &[InterRegion, InterRegion])]);
        assert_eq!(repeated, Some(("billing.allowances.meters", "inter_region".into())));
    }

    #[test]
    fn names_map_to_their_ids() {
        let mut c = sized(2, 3, 2);
        c.geos[1] = "eu".into();
        assert_eq!(c.region_id("r2"), Some(RegionId(2)));
        assert_eq!(c.region_id("r0"), Some(RegionId(0)));
        assert_eq!(c.region_id("nowhere"), None);
        assert_eq!(c.geo_id("eu"), Some(GeoId(1)));
        assert_eq!(c.geo_id("g0"), Some(GeoId(0)));
        assert_eq!(c.geo_id("mars"), None);
        assert_eq!(c.provider_id("p1"), Some(ProviderId(1)));
        assert_eq!(c.provider_id("p0"), Some(ProviderId(0)));
        assert_eq!(c.provider_id("acme"), None);
        assert_eq!(c.zone_name(Meter::CdnEgress, 1), "eu");
        assert_eq!(c.zone_name(Meter::InterRegion, 1), "r1");
    }

    #[test]
    fn every_used_line_needs_a_rate() {
        let c = small();
        let err = crate::Engine::new(c).unwrap_err();
        assert_eq!(err, ConfigError::MissingRate { meter: "storage", provider: "s3".into(), zone: "us-east-1".into() });
    }

    #[test]
    fn a_zone_rate_wins_over_the_provider_rate() {
        let mut c = small();
        let s3 = ProviderId(0);
        c.set_rate(Meter::InterRegion, s3, RateTable::flat(1).unwrap());
        c.billing.rates.push(RateEntry {
            meter: Meter::InterRegion,
            provider: s3,
            zone: Some(0),
            table: RateTable::flat(2).unwrap(),
        });
        assert_eq!(c.rate_for(Meter::InterRegion, s3, 0), Some(&RateTable::flat(2).unwrap()));
        assert_eq!(c.rate_for(Meter::InterRegion, s3, 1), Some(&RateTable::flat(1).unwrap()));
        assert_eq!(c.rate_for(Meter::CdnEgress, s3, 0), None);
    }
}
