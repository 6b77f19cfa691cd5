//! From the file as written to a [`Scenario`]: every cross-field check, with the key path and
//! the place in the file.

mod events;
mod mirror;
mod topology;
mod workload;

pub use workload::default_utc_offset;

use super::error::{InputError, Locator};
use super::model::*;
use super::raw::*;
use super::units::usd_to_nanos;
use crate::pricing::resolve;
use crate::report::format::count;
use clipsim_engine::*;

/// The most clips a catalog may start with.
pub const CLIPS_MAX: u64 = 100_000_000;
/// The most report intervals in a run (time-series rows).
pub const REPORT_ROWS_MAX: u64 = 200_000;

/// The most billing months a run may span: 100 years of 28-day months, and then some. Each month
/// is a bill kept in memory and a block of `report.md` (`billing.month = "1h"` over 100 years
/// would be 876,000 of them).
pub const BILLING_MONTHS_MAX: u64 = 1_500;
/// The highest mean request rate.
pub const VIEWS_PER_SEC_MAX: f64 = 10_000_000.0;
/// The most outages, price changes or spikes.
pub const EVENTS_MAX: usize = 10_000;

pub(crate) type R<T> = Result<T, InputError>;

/// Where a check is: every error it makes is located in the scenario file.
pub(crate) struct Ctx<'a> {
    loc: &'a Locator<'a>,
}

impl Ctx<'_> {
    pub(crate) fn err(&self, path: impl AsRef<str>, expected: impl Into<String>) -> InputError {
        self.loc.error(path.as_ref(), expected)
    }

    pub(crate) fn check(&self, ok: bool, path: impl AsRef<str>, expected: impl Into<String>) -> R<()> {
        if ok {
            Ok(())
        } else {
            Err(self.err(path, expected))
        }
    }

    pub(crate) fn range(&self, v: f64, lo: f64, hi: f64, path: &str, what: &str) -> R<f64> {
        self.check(v.is_finite() && v >= lo && v <= hi, path, format!("{what} from {lo} to {hi}"))?;
        Ok(v)
    }

    pub(crate) fn positive(&self, v: f64, hi: f64, path: &str, what: &str) -> R<f64> {
        self.check(v.is_finite() && v > 0.0 && v <= hi, path, format!("{what} above 0 and at most {hi}"))?;
        Ok(v)
    }

    pub(crate) fn nonzero(&self, d: SimDuration, path: &str) -> R<SimDuration> {
        // A whole number of seconds (`cache_ttl = 3600`) has no unit to parse, so the limit on
        // durations written with one is checked here too.
        let max = crate::scenario::units::DURATION_MAX;
        self.check(d > SimDuration::ZERO && d <= max, path, format!("a positive duration of at most {max}"))?;
        Ok(d)
    }

    /// `v` units of `unit_us` microseconds each, rounded to the microsecond, which must leave a
    /// positive duration (`1e-300` minutes is refused here, at its key, not later as `0s`).
    pub(crate) fn micros(&self, v: f64, unit_us: f64, path: &str) -> R<SimDuration> {
        let us = (v * unit_us).round();
        self.check(us >= 1.0, path, "at least one microsecond")?;
        Ok(SimDuration::from_micros(us as u64))
    }

    /// The region named `name` at `path`, or an error listing the regions.
    pub(crate) fn region_id(&self, cfg: &EngineConfig, name: &str, path: &str) -> R<RegionId> {
        cfg.region_id(name).ok_or_else(|| {
            let names: Vec<&str> = cfg.regions.iter().map(|r| r.name.as_str()).collect();
            self.err(path, format!("a region: one of {}", names.join(", ")))
        })
    }
}

/// The most replicas a run may have (`scenario.replicas`, `clipsim run --replicas`).
pub const REPLICAS_MAX: u32 = 1_000;

/// Checks `raw` and builds the scenario. `loc` finds key paths in the file for messages.
pub fn validate(
    raw: RawScenario,
    loc: &Locator<'_>,
    path: std::path::PathBuf,
    sha256: String,
    whole_trace: bool,
) -> R<Scenario> {
    let cx = Ctx { loc };
    let meta = &raw.scenario;
    cx.check(!meta.name.trim().is_empty(), "scenario.name", "a non-empty name")?;
    let duration = cx.nonzero(meta.duration.0, "scenario.duration")?;
    cx.check(meta.warmup.0 < duration, "scenario.warmup", format!("shorter than scenario.duration ({duration})"))?;
    let report_interval = cx.nonzero(meta.report_interval.0, "scenario.report_interval")?;
    let start_days = crate::report::format::days_from_civil(&meta.start).ok_or_else(|| {
        cx.err("scenario.start", format!("a date from 1970-01-01 to 9999-12-31 as YYYY-MM-DD, found {:?}", meta.start))
    })?;
    let steady_max = meta.steady_state_max.0;
    cx.check(
        (SimDuration::from_days(14)..=SimDuration::from_days(3650)).contains(&steady_max),
        "scenario.steady_state_max",
        "14d to 3650d (two weeks at least: the criterion compares one week with the next)",
    )?;
    cx.check((1..=REPLICAS_MAX).contains(&meta.replicas), "scenario.replicas", format!("1 to {REPLICAS_MAX} seeds"))?;
    let steady_state =
        meta.steady_state.then_some(crate::scenario::model::SteadyState { max: steady_max, settled: None });
    cx.check(
        report_interval <= duration,
        "scenario.report_interval",
        format!("at most scenario.duration ({duration})"),
    )?;
    cx.check(
        duration.as_micros() / report_interval.as_micros() <= REPORT_ROWS_MAX,
        "scenario.report_interval",
        format!("at most {REPORT_ROWS_MAX} intervals in the run: a longer interval"),
    )?;

    let regions_raw = if raw.regions.is_empty() { topology::default_regions() } else { raw.regions.clone() };
    let geos = topology::geos(&cx, &raw.traffic, &regions_raw)?;
    // Providers: built-in lists merged with [providers] overrides.
    let lists = resolve::provider_lists(&cx, &raw, &regions_raw, &geos)?;
    let (mut cfg, providers, cdn) = topology::regions_and_cdn(&cx, &raw, &regions_raw, &geos, &lists)?;
    let max_cost = usd_to_nanos(raw.cdn.max_cost_per_gb).map_err(|e| cx.err("cdn.max_cost_per_gb", e))?;

    // Rates for every line the engine will meter.
    resolve::set_rates(&cx, &mut cfg, &lists, cdn.as_ref())?;

    let catalog = workload::catalog(&cx, &raw.catalog, &cfg)?;
    // Uploaded clips count too: the engine and the recorder hold every clip of the run.
    let clips_expected = catalog.clips_expected(duration);
    cx.check(
        clips_expected <= CLIPS_MAX,
        "catalog.uploads_per_day",
        format!(
            "at most {} clips in the run, counting uploads: {} in the catalog and about {} uploaded in {duration} \
             (with 10 % to spare); fewer uploads per day or a shorter scenario.duration",
            count(CLIPS_MAX),
            count(u64::from(catalog.clips)),
            count(clips_expected - u64::from(catalog.clips))
        ),
    )?;
    let mut traffic = workload::traffic(&cx, &raw.traffic, &geos, catalog.clips, duration)?;
    let mut catalog = catalog;
    if let Some(info) = workload::trace(&cx, &raw.traffic, &path, &geos, whole_trace)? {
        // The trace's views replace the synthetic ones: its clips are the catalog, uploaded at
        // their first views; there is no history, upload schedule or spike.
        cx.check(
            !meta.steady_state,
            "scenario.steady_state",
            "false with traffic.trace (a trace is one run of real time, not a model to settle)",
        )?;
        catalog.history = SimDuration::ZERO;
        catalog.uploads_per_day = 0.0;
        traffic.spikes.clear();
        traffic.trace = Some(std::sync::Arc::new(info));
    }
    let network = workload::network(&cx, &raw.network)?;
    mirror::mirror(&cx, &raw.mirror, &mut cfg)?;
    if let Some(l) = &raw.lifecycle {
        cfg.lifecycle = Some(topology::lifecycle(&cx, l, &cfg, catalog.history)?);
    }
    let (source_policy, placement) = mirror::policies(&cx, &raw.mirror)?;

    // Health.
    let h = &raw.health;
    let probe_interval = cx.nonzero(h.probe_interval.0, "health.probe_interval")?;
    cx.check(h.unhealthy_after_failures >= 1, "health.unhealthy_after_failures", "at least 1")?;
    cx.check(h.healthy_after_successes >= 1, "health.healthy_after_successes", "at least 1")?;
    let degraded = cx.positive(h.degraded_latency_ms, 600_000.0, "health.degraded_latency_ms", "milliseconds")?;
    let request_timeout = cx.nonzero(h.request_timeout.0, "health.request_timeout")?;
    let factor = h.degraded_latency_factor;
    cx.check(
        factor == 0.0 || (1.0..=1000.0).contains(&factor),
        "health.degraded_latency_factor",
        "a multiple from 1 to 1000, or 0 for none",
    )?;
    cfg.health = HealthConfig {
        unhealthy_after_failures: h.unhealthy_after_failures,
        healthy_after_successes: h.healthy_after_successes,
        degraded_latency: SimDuration::from_micros((degraded * 1000.0).round() as u64),
        degraded_factor_pct: (factor * 100.0).round() as u32,
    };
    // What each target answers a probe in when healthy, as the stand-ins do.
    for r in 0..cfg.regions.len() {
        let normal = crate::standins::storage::normal_probe_latency(&cfg.latency_ms[r]);
        cfg.set_probe_normal(HealthTarget::Region(RegionId(r as u32)), normal);
    }
    if let Some(c) = &cdn {
        cfg.set_probe_normal(HealthTarget::Cdn, c.edge_rtt);
        if let Some(s) = &c.second {
            cfg.set_probe_normal(HealthTarget::SecondCdn, s.edge_rtt);
        }
    }

    // Billing.
    let b = &raw.billing;
    cx.check(b.month.0 >= SimDuration::from_hours(1), "billing.month", "at least \"1h\"")?;
    cx.check(
        duration.as_micros().div_ceil(b.month.0.as_micros()) <= BILLING_MONTHS_MAX,
        "billing.month",
        format!(
            "at most {BILLING_MONTHS_MAX} billing months in the run ({duration}): a longer month or a shorter scenario.duration"
        ),
    )?;
    cfg.billing.month = b.month.0;
    let check = cx.nonzero(b.cost_alert_check.0, "billing.cost_alert_check")?;
    cx.check(
        b.cost_alert_window.0 >= check && b.cost_alert_window.0.as_micros().is_multiple_of(check.as_micros()),
        "billing.cost_alert_window",
        format!("a whole multiple of billing.cost_alert_check ({check})"),
    )?;
    cfg.billing.cost_alert = CostAlertConfig {
        max_cost_per_gb_nanos: max_cost,
        window: b.cost_alert_window.0,
        check_interval: check,
        scope: match b.cost_alert_scope.as_str() {
            "cdn" => AlertScope::Cdn,
            "total" => AlertScope::Total,
            _ => return Err(cx.err("billing.cost_alert_scope", "\"cdn\" or \"total\"")),
        },
    };

    let outages = events::outages(&cx, &raw.outages, &cfg, cdn.as_ref(), duration)?;
    let f = &raw.failures;
    let failures = if f.enabled {
        Some(Failures {
            region_mtbf: cx.nonzero(f.region_mtbf.0, "failures.region_mtbf")?,
            region_mttr: cx.nonzero(f.region_mttr.0, "failures.region_mttr")?,
            cdn_mtbf: cx.nonzero(f.cdn_mtbf.0, "failures.cdn_mtbf")?,
            cdn_mttr: cx.nonzero(f.cdn_mttr.0, "failures.cdn_mttr")?,
        })
    } else {
        None
    };
    let price_changes = resolve::price_changes(&cx, &raw.price_changes, &cfg, &lists, cdn.as_ref(), duration)?;
    let targets = events::targets(&cx, &raw.targets)?;
    let expected = raw.expected.as_ref().map(|e| events::expected(&cx, e)).transpose()?;
    let min_hit = cx.range(raw.mirror.min_hit_rate, 0.0, 100.0, "mirror.min_hit_rate", "a percentage")?;
    let rollout = raw
        .rollout
        .as_ref()
        .map(|r| events::rollout(&cx, r, duration, report_interval, meta.steady_state))
        .transpose()?;

    cfg.validate().map_err(|e| cx.err("", format!("the engine refuses this configuration: {e}")))?;
    Ok(Scenario {
        name: meta.name.clone(),
        description: meta.description.clone(),
        seed: meta.seed,
        duration,
        warmup: meta.warmup.0,
        report_interval,
        start_unix_s: start_days * 86_400,
        steady_state,
        replicas: meta.replicas,
        sha256,
        path,
        text: String::new(),
        env: None,
        geos,
        catalog,
        traffic,
        network,
        cdn,
        probe_interval,
        request_timeout,
        outages,
        failures,
        price_changes,
        targets,
        mirror_min_hit_rate: min_hit / 100.0,
        expected,
        providers,
        engine: cfg,
        source_policy,
        placement,
        rollout,
    })
}
