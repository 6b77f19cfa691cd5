//! `summary.json`: the run's figures under stable keys (defined in `scenarios/README.md`).

use super::target::Target;
use crate::sweep::aggregate::{stat, Stat};
use crate::world::RunResult;
use clipsim_engine::units::BYTES_PER_GB;
use clipsim_engine::{Category, Meter, MoneyNanos, ServedFrom};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of `summary.json`'s format: raised when a key is removed, renamed or changes its
/// meaning (a new key does not raise it).
pub const FORMAT_VERSION: u32 = 1;

/// `summary.json`: every figure of one run of a scenario, under stable keys. Shares are numbers
/// from 0 to 1; `null` means there was nothing to measure (no request served, say). Field order is
/// the JSON key order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "clipsim summary.json")]
pub struct Summary {
    /// The version of this format ([`FORMAT_VERSION`]); 0 in files written before it was
    /// versioned.
    #[serde(default)]
    pub format_version: u32,
    /// Scenario identity.
    pub scenario: ScenarioId,
    /// The master seed.
    pub seed: u64,
    /// The tool's version.
    pub version: String,
    /// The git commit the tool was built from ("unknown" outside a checkout).
    pub git_commit: String,
    /// Simulated seconds (the scenario's duration, or less when interrupted).
    pub duration_s: f64,
    /// Seconds of warm-up excluded from the statistics (a steady-state pre-run included).
    pub warmup_s: f64,
    /// The steady-state pre-run (`scenario.steady_state`; `null` without one). The costs then
    /// cover only the months after it.
    #[serde(default)]
    pub steady_state: Option<SteadyStateSummary>,
    /// Whether the run was interrupted before its end.
    pub interrupted: bool,
    /// Request counts (after warm-up).
    pub requests: Requests,
    /// Requests (after warm-up) by where they were served from: `edge`, `local_mirror`,
    /// `remote_mirror`, `primary_via_cdn`, `primary_direct`, `failed`.
    pub served_from: BTreeMap<String, u64>,
    /// Bytes delivered to viewers (after warm-up).
    pub bytes_served: u64,
    /// Hit rates.
    pub hit_rates: HitRates,
    /// Load-time percentiles over every served request, ms.
    pub latency_ms: Latency,
    /// Load-time percentiles per viewer geography, ms.
    pub latency_ms_by_geo: BTreeMap<String, Latency>,
    /// Share of requests (after warm-up) served.
    pub availability: Option<f64>,
    /// Failed attempts that moved to another source (after warm-up).
    pub failovers: u64,
    /// Mirror life cycle counts (whole run).
    pub mirrors: Mirrors,
    /// The bill for the whole simulated period by category (`storage`, `cdn_egress`,
    /// `origin_egress`, `inter_region`, `requests`) and `total`, in dollars (for display).
    pub cost_usd: BTreeMap<String, f64>,
    /// The same bill by category and `total`, exact, in nanodollars.
    pub cost_nanodollars: BTreeMap<String, i64>,
    /// Total cost / GB delivered over the whole run (warm-up included), dollars.
    pub cost_per_gb_usd: Option<f64>,
    /// Cost alerts raised over the whole run.
    pub cost_alerts: u64,
    /// Each target the scenario sets, with its simulated value and verdict, in the order
    /// `p50_load_ms`, `p95_load_ms`, `availability`, `cost_per_gb`, `top100_mirror_hit_rate`.
    pub targets: Vec<TargetResult>,
    /// Over the run's replicas (`clipsim run --replicas N`, N at least 2): means with 95 %
    /// intervals. `null` for a single run, whose figures above have no interval.
    #[serde(default)]
    pub replicas: Option<ReplicasSummary>,
    /// What the last sensitivity analysis of this scenario (`clipsim sensitivity`) found, when
    /// `clipsim run` found one (absent otherwise, so that the summaries of sweep point files
    /// written before it read back to the same bytes and checksums).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<crate::sensitivity::Note>,
    /// The trace whose requests the run served (`[traffic] trace`, `run --trace`); absent for a
    /// synthetic workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceSummary>,
    /// With a trace that carries the CDN's own cache results: observed beside simulated (absent
    /// otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationSummary>,
    /// With `[rollout]`: each stage's arms, their differences with 95 % intervals, its cost
    /// against the twin run without the design, and the smallest P50 change it could detect
    /// (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<crate::rollout::analysis::RolloutSummary>,
    /// With two CDNs (`[cdn] second_provider`): each one's share of the whole run, the first
    /// first (absent with one CDN or none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cdns: Option<Vec<CdnShare>>,
}

/// One of two CDNs over the whole run (warm-up included), from its own bill lines.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CdnShare {
    /// The provider.
    pub provider: String,
    /// Requests it answered (its `cdn_requests` lines).
    pub requests: u64,
    /// Bytes it delivered (its `cdn_egress` lines).
    pub bytes: u64,
    /// Its bill (egress, requests and plan), exact, in nanodollars.
    pub cost_nanodollars: i64,
}

/// [`Summary::cdns`] of a run.
fn cdn_shares(r: &RunResult) -> Option<Vec<CdnShare>> {
    let cdn = r.scenario.cdn.as_ref().filter(|c| c.second.is_some())?;
    let providers = std::iter::once(cdn.provider).chain(cdn.second.as_ref().map(|s| s.provider));
    let shares = providers
        .zip(cdn.names())
        .map(|(p, name)| {
            let lines = || r.engine.bills().iter().flat_map(|b| &b.lines).filter(move |l| l.key.provider == p);
            let usage = |m: Meter| {
                let sum: u128 = lines().filter(|l| l.key.meter == m).map(|l| l.usage).sum();
                u64::try_from(sum).unwrap_or(u64::MAX)
            };
            CdnShare {
                provider: name.to_string(),
                requests: usage(Meter::CdnRequests),
                bytes: usage(Meter::CdnEgress),
                cost_nanodollars: lines().map(|l| l.cost.0).sum(),
            }
        })
        .collect();
    Some(shares)
}

/// A figure over replicas: its mean and Student 95 % interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Interval {
    /// The mean.
    pub mean: f64,
    /// `[low, high]`, cut to the values the figure can take.
    pub ci95: Option<[f64; 2]>,
}

impl From<Stat> for Interval {
    fn from(s: Stat) -> Self {
        Interval { mean: s.mean, ci95: s.ci95.map(|(lo, hi)| [lo, hi]) }
    }
}

/// A target over replicas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReplicaTarget {
    /// Which target.
    pub name: Target,
    /// The required value.
    pub target: f64,
    /// The replicas' mean and interval (`null` when a replica had no value).
    pub value: Option<Interval>,
    /// How far the mean is on the right side of the target, as a share of it (of the allowed
    /// unavailability for `availability`); negative when it misses.
    pub margin: Option<f64>,
    /// `pass` or `fail` (judged on the mean), or `within noise` when the interval contains the
    /// target: another set of seeds could give the other verdict.
    pub verdict: String,
    /// The replicas that meet the target on their own: with a 30-day scenario, the months (of
    /// independent traffic and failures) that would pass the target, as an SLO is judged.
    pub replicas_meeting: usize,
    /// The probability that a replica (a month) meets the target: `replicas_meeting / count`
    /// with its Wilson 95 % interval.
    pub probability: Interval,
}

/// The Wilson 95 % interval of a proportion of `k` in `n` (`n` at least 1).
pub fn wilson(k: usize, n: usize) -> Interval {
    const Z: f64 = 1.959_964;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let d = 1.0 + Z * Z / n;
    let centre = (p + Z * Z / (2.0 * n)) / d;
    let half = Z * (p * (1.0 - p) / n + Z * Z / (4.0 * n * n)).sqrt() / d;
    Interval { mean: p, ci95: Some([(centre - half).max(0.0), (centre + half).min(1.0)]) }
}

/// What the replicas of one run say together.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReplicasSummary {
    /// Replicas run.
    pub count: usize,
    /// Their seeds, first and last (`seed` to `seed + count - 1`).
    pub seeds: [u64; 2],
    /// `bill_usd`, `cost_per_gb_usd`, `p50_ms`, `p95_ms`, `availability`, `cdn_hit_rate`,
    /// `mirror_hit_rate`, `mirror_top100_hit_rate`.
    pub figures: BTreeMap<String, Interval>,
    /// The bill by category, dollars.
    pub cost_usd: BTreeMap<String, Interval>,
    /// Every target, in the order of `targets`.
    pub targets: Vec<ReplicaTarget>,
    /// How the replicas' availability is spread (`null` when a replica has none): with a
    /// one-month scenario, the distribution of monthly availability.
    #[serde(default)]
    pub availability_spread: Option<Spread>,
}

/// The spread of one figure over replicas: nearest-rank percentiles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Spread {
    /// The lowest.
    pub min: f64,
    /// The 1st percentile.
    pub p01: f64,
    /// The 5th percentile.
    pub p05: f64,
    /// The 25th percentile.
    pub p25: f64,
    /// The median.
    pub p50: f64,
    /// The highest.
    pub max: f64,
}

impl Spread {
    /// The spread of `xs` (not empty): the value at rank `ceil(q * n)` of the sorted values.
    pub fn of(xs: &[f64]) -> Spread {
        let mut v = xs.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let at = |q: f64| v[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        Spread { min: v[0], p01: at(0.01), p05: at(0.05), p25: at(0.25), p50: at(0.5), max: v[n - 1] }
    }
}

/// The replicas' statistics, when there are at least two.
fn replicas_summary(r: &RunResult) -> Option<ReplicasSummary> {
    if r.replicas.len() < 2 {
        return None;
    }
    let sums: Vec<&Summary> = r.replicas.iter().collect();
    let p = crate::sweep::aggregate::summary_stats(0, Vec::new(), &sums).ok()?;
    let mut figures = BTreeMap::new();
    figures.insert("bill_usd".to_string(), Interval::from(p.bill));
    let named = [
        ("cost_per_gb_usd", p.cost_per_gb),
        ("p50_ms", p.p50),
        ("p95_ms", p.p95),
        ("availability", p.availability),
        ("cdn_hit_rate", p.cdn_hit),
        ("mirror_hit_rate", p.mirror_hit),
        ("mirror_top100_hit_rate", p.top100_hit),
    ];
    for (name, stat) in named {
        if let Some(s) = stat {
            figures.insert(name.to_string(), Interval::from(s));
        }
    }
    let cost_usd = Category::ALL
        .iter()
        .map(|c| {
            let xs: Vec<f64> = sums.iter().map(|s| s.cost_usd.get(c.name()).copied().unwrap_or(0.0)).collect();
            (c.name().to_string(), Interval::from(stat(&xs).within(0.0, f64::INFINITY)))
        })
        .collect();
    let targets = p
        .verdicts
        .iter()
        .enumerate()
        .map(|(ti, v)| (v, sums.iter().filter(|s| s.targets.get(ti).is_some_and(|t| t.pass)).count()))
        .map(|(v, meeting)| ReplicaTarget {
            replicas_meeting: meeting,
            probability: wilson(meeting, sums.len()),
            name: v.name,
            target: v.target,
            value: v.stat.map(Interval::from),
            margin: v.margin,
            verdict: match (v.within_noise, v.pass) {
                (true, _) => "within noise",
                (false, true) => "pass",
                (false, false) => "fail",
            }
            .to_string(),
        })
        .collect();
    let seed = r.scenario.seed;
    let availability: Option<Vec<f64>> = sums.iter().map(|s| s.availability).collect();
    Some(ReplicasSummary {
        count: sums.len(),
        seeds: [seed, seed.wrapping_add(sums.len() as u64 - 1)],
        figures,
        cost_usd,
        targets,
        availability_spread: availability.map(|a| Spread::of(&a)),
    })
}

/// Which scenario was run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioId {
    /// Its name (`[scenario] name`).
    pub name: String,
    /// SHA-256 of its text and the overrides applied to it, in hex.
    pub sha256: String,
}

/// Request counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Requests {
    /// Requests after the warm-up.
    pub total: u64,
    /// Of those, not served by any source.
    pub failed: u64,
    /// Requests simulated in all, warm-up included.
    pub simulated: u64,
    /// Requests after the warm-up whose expired edge copy the CDN revalidated with an origin (a
    /// conditional request: the origin's request fee, no body).
    pub cdn_revalidated: u64,
}

/// Hit rates (shares, after warm-up).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HitRates {
    /// Edge hits / requests that reached the CDN.
    pub cdn_cache: Option<f64>,
    /// Mirror-served / requests that needed an origin fetch.
    pub mirror: Option<f64>,
    /// Mirror-served / origin fetches of the 100 clips with the most views (after warm-up).
    pub mirror_top100: Option<f64>,
}

/// Load-time percentiles of served requests, in milliseconds (`null` when none was served).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Latency {
    /// Median, ms.
    pub p50: Option<f64>,
    /// 95th percentile, ms.
    pub p95: Option<f64>,
    /// 99th percentile, ms.
    pub p99: Option<f64>,
    /// Mean, ms.
    pub mean: Option<f64>,
}

/// Observed beside simulated for one geography (or all), over the requests whose real result
/// was a hit or a miss, after the warm-up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CalibrationRow {
    /// The geography, or `all`.
    pub geo: String,
    /// Requests compared.
    pub requests: u64,
    /// The CDN's edge hit rate, as its log says.
    pub observed_hit_rate: Option<f64>,
    /// The simulated edge's hit rate on the same requests.
    pub simulated_hit_rate: Option<f64>,
    /// Simulated minus observed.
    pub difference: Option<f64>,
    /// A 95 % interval of the difference: Student's over the days' differences (`null` with
    /// fewer than two days of requests).
    pub difference_ci95: Option<(f64, f64)>,
    /// Byte hit rates (each request weighs its clip's size), observed and simulated.
    pub observed_byte_hit_rate: Option<f64>,
    /// See `observed_byte_hit_rate`.
    pub simulated_byte_hit_rate: Option<f64>,
    /// Bytes not served from the edge's cache (what went past it to the origin), observed and
    /// simulated.
    pub observed_bytes_past_edge: u64,
    /// See `observed_bytes_past_edge`.
    pub simulated_bytes_past_edge: u64,
}

/// Observed beside simulated (see `clipsim_sim::world::calibration`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CalibrationSummary {
    /// Per geography, then `all`.
    pub by_geo: Vec<CalibrationRow>,
    /// Per day of the run (all geographies; days without compared requests left out), `geo`
    /// holding the day (`day 3`).
    pub by_day: Vec<CalibrationRow>,
}

/// Observed beside simulated from the run's tallies.
pub fn calibration_summary(c: &crate::world::calibration::Calibration, geos: &[String]) -> CalibrationSummary {
    use crate::world::calibration::Cell;
    let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
    let row = |name: String, cells: &[Cell]| {
        let mut t = Cell::default();
        cells.iter().for_each(|c| t.add(c));
        let diffs: Vec<f64> = cells
            .iter()
            .filter(|c| c.requests > 0)
            .map(|c| (c.simulated_hits as f64 - c.observed_hits as f64) / c.requests as f64)
            .collect();
        let (obs, sim) = (ratio(t.observed_hits, t.requests), ratio(t.simulated_hits, t.requests));
        CalibrationRow {
            geo: name,
            requests: t.requests,
            observed_hit_rate: obs,
            simulated_hit_rate: sim,
            difference: obs.zip(sim).map(|(o, s)| s - o),
            difference_ci95: if diffs.len() >= 2 { crate::sweep::aggregate::stat(&diffs).ci95 } else { None },
            observed_byte_hit_rate: ratio(t.observed_hit_bytes, t.bytes),
            simulated_byte_hit_rate: ratio(t.simulated_hit_bytes, t.bytes),
            observed_bytes_past_edge: t.bytes - t.observed_hit_bytes,
            simulated_bytes_past_edge: t.bytes - t.simulated_hit_bytes,
        }
    };
    let days = c.days();
    let day_total = |d: usize| {
        let mut t = Cell::default();
        (0..c.geos()).for_each(|g| t.add(&c.cell(d, g)));
        t
    };
    let mut by_geo: Vec<CalibrationRow> = (0..c.geos())
        .map(|g| row(geos[g].clone(), &(0..days).map(|d| c.cell(d, g)).collect::<Vec<_>>()))
        .filter(|r| r.requests > 0)
        .collect();
    let totals: Vec<Cell> = (0..days).map(day_total).collect();
    by_geo.push(row("all".into(), &totals));
    let by_day = (0..days)
        .filter(|&d| totals[d].requests > 0)
        .map(|d| row(format!("day {}", d + 1), std::slice::from_ref(&totals[d])))
        .collect();
    CalibrationSummary { by_geo, by_day }
}

/// The trace a run served (see `clipsim_sim::workload::trace`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TraceSummary {
    /// Its file name (without the directory, so that the same trace gives the same summary
    /// wherever it is).
    pub file: String,
    /// `csv` or `oracle-general`.
    pub format: String,
    /// Requests in it.
    pub requests: u64,
    /// Requests served (warm-up included): those before the run's end.
    pub served: u64,
    /// Distinct clips in it.
    pub clips: u64,
    /// When its clips were uploaded: `first-view` or `start`.
    pub uploads: String,
    /// The trace time (seconds; Unix seconds for an imported log) of the run's time 0.
    pub origin_s: u64,
    /// The first and last request's trace time, seconds.
    pub first_s: u64,
    /// See `first_s`.
    pub last_s: u64,
    /// Requests earlier than the one before them, served at that one's time.
    pub out_of_order: u64,
}

/// What the steady-state pilot found (see `clipsim_sim::world::steady`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SteadyStateSummary {
    /// Seconds simulated before the measured period (whole billing months).
    pub pre_run_s: f64,
    /// Seconds after which the mirrors and edges held still, or `null` when they did not within
    /// `steady_state_max`.
    pub steady_after_s: Option<f64>,
    /// Mean active mirrors (at the end of each day) of the deciding (or last) week of the pilot,
    /// and of the week before.
    pub active_mirrors: [f64; 2],
    /// Edge hit rate of the deciding (or last) week of the pilot, and of the week before.
    pub edge_hit_rate: [Option<f64>; 2],
}

/// Mirror life cycle counts over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Mirrors {
    /// Copies ordered.
    pub created: u64,
    /// Copies completed.
    pub activated: u64,
    /// Mirrors whose TTL passed (deleted, or awaiting cleanup at the end).
    pub expired: u64,
    /// Deleted by cleanup.
    pub deleted: u64,
    /// Given up after failed copies.
    pub abandoned: u64,
    /// Most mirrors holding storage at once.
    pub active_peak: u64,
    /// Serveable at the end.
    pub active_at_end: u64,
    /// Of `created`, copies predictive mirroring ordered for a clip still below the threshold
    /// (`mirror.predict_age`); 0 in files written before it was counted.
    #[serde(default)]
    pub predicted: u64,
    /// Copies a sync would have ordered but withheld because the cost alert was raised
    /// (`mirror.cost_capped`), once per clip and sync; 0 in files written before it was counted.
    #[serde(default)]
    pub withheld: u64,
}

/// One target and its verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetResult {
    /// Which target.
    pub name: Target,
    /// The required value, in the target's unit (ms, a share, dollars per GB).
    pub target: f64,
    /// The simulated value (`null` when there is none, which fails).
    pub actual: Option<f64>,
    /// Whether it is met.
    pub pass: bool,
    /// `<=` or `>=` (as [`Target::direction`] says; kept for readers of the JSON).
    pub direction: String,
}

/// `summary.json`'s JSON Schema (draft 2020-12), generated from [`Summary`], as pretty JSON with a
/// trailing newline: the text of `docs/summary.schema.json`.
pub fn json_schema() -> String {
    let mut text = serde_json::to_string_pretty(&schemars::schema_for!(Summary)).expect("a schema serialises");
    text.push('\n');
    text
}

fn latency(h: &hdrhistogram::Histogram<u64>) -> Latency {
    let q = |x: f64| (!h.is_empty()).then(|| h.value_at_quantile(x) as f64 / 1000.0);
    Latency { p50: q(0.5), p95: q(0.95), p99: q(0.99), mean: (!h.is_empty()).then(|| h.mean() / 1000.0) }
}

/// The whole run's bill by category, exact.
pub fn cost_by_category(r: &RunResult) -> [MoneyNanos; 5] {
    let mut out = [MoneyNanos::ZERO; 5];
    for bill in r.measured_bills() {
        for (i, c) in Category::ALL.iter().enumerate() {
            out[i] += bill.category_total(*c);
        }
    }
    out
}

/// Builds the summary of a run.
pub fn summarize(r: &RunResult) -> Summary {
    let rec = &r.recorder;
    let t = &rec.total;
    let sc = &r.scenario;
    let top100 = rec.top100_mirror_hit_rate();
    let costs = cost_by_category(r);
    let total: MoneyNanos = costs.iter().fold(MoneyNanos::ZERO, |a, &b| a + b);
    let mut cost_usd = BTreeMap::new();
    let mut cost_nanos = BTreeMap::new();
    for (i, c) in Category::ALL.iter().enumerate() {
        cost_usd.insert(c.name().to_string(), costs[i].as_usd_f64());
        cost_nanos.insert(c.name().to_string(), costs[i].0);
    }
    cost_usd.insert("total".into(), total.as_usd_f64());
    cost_nanos.insert("total".into(), total.0);
    // The bytes of the billed period: the whole run, or what followed a steady-state pre-run.
    let billed_bytes: u64 = match (sc.pre_run() > clipsim_engine::SimDuration::ZERO, &rec.at_pre_run) {
        (false, _) => r.engine.counters().bytes_served().0,
        (true, Some(at)) => r.engine.counters().bytes_served().0 - at.bytes_served().0,
        (true, None) => 0,
    };
    let cost_per_gb = (billed_bytes > 0).then(|| total.as_usd_f64() / (billed_bytes as f64 / BYTES_PER_GB as f64));
    let c = r.engine.counters();
    let metrics = r.engine.metrics(r.end);
    let lat = latency(&rec.latency);
    let targets = Target::ALL
        .into_iter()
        .filter_map(|name| {
            let target = sc.targets.get(name)?;
            let actual = match name {
                Target::P50LoadMs => lat.p50,
                Target::P95LoadMs => lat.p95,
                Target::Availability => t.availability(),
                Target::CostPerGb => cost_per_gb,
                Target::Top100MirrorHitRate => top100,
            };
            // With no value at all the top-100 target holds (those clips needed no origin fetch,
            // so no mirror had anything to serve); any other target fails without a value.
            let vacuous = name == Target::Top100MirrorHitRate;
            let pass = actual.map_or(vacuous, |a| name.met(a, target));
            Some(TargetResult { name, target, actual, pass, direction: name.direction().into() })
        })
        .collect();
    Summary {
        format_version: FORMAT_VERSION,
        scenario: ScenarioId { name: sc.name.clone(), sha256: sc.sha256.clone() },
        seed: sc.seed,
        version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: env!("CLIPSIM_GIT_COMMIT").to_string(),
        duration_s: r.end.as_secs_f64(),
        warmup_s: sc.warmup.as_secs_f64(),
        steady_state: sc.steady_state.as_ref().and_then(|s| s.settled.as_ref()).map(|s| SteadyStateSummary {
            pre_run_s: s.pre_run.as_secs_f64(),
            steady_after_s: s.steady_after.map(|d| d.as_secs_f64()),
            active_mirrors: [s.mirrors.0, s.mirrors.1],
            edge_hit_rate: [s.edge_hit.0, s.edge_hit.1],
        }),
        trace: sc.traffic.trace.as_ref().map(|t| {
            let tally = r.trace_tally.unwrap_or_default();
            TraceSummary {
                file: t.path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                format: t.format.name().to_string(),
                requests: tally.requests,
                served: r.arrivals,
                clips: tally.clips,
                uploads: t.uploads.name().to_string(),
                origin_s: t.origin_s,
                first_s: t.first_s,
                last_s: tally.last_s,
                out_of_order: tally.out_of_order,
            }
        }),
        calibration: r
            .calibration
            .as_ref()
            .map(|c| calibration_summary(c, &sc.geos))
            .filter(|c| c.by_geo.last().is_some_and(|all| all.requests > 0)),
        rollout: r.rollout.as_ref().map(|rec| {
            let run = crate::rollout::cost_rows(r);
            let twin = r.rollout_twin_costs.as_deref();
            let warmup = clipsim_engine::SimTime::ZERO + sc.warmup;
            crate::rollout::analysis::analyze(rec, warmup, sc.report_interval, twin.map(|t| (&run[..], t)))
        }),
        interrupted: r.interrupted,
        requests: Requests {
            total: t.requests,
            failed: t.failed(),
            simulated: r.arrivals,
            cdn_revalidated: t.revalidations,
        },
        served_from: ServedFrom::ALL.iter().map(|f| (f.name().to_string(), t.served(*f))).collect(),
        bytes_served: t.bytes(),
        hit_rates: HitRates { cdn_cache: t.cdn_hit_rate(), mirror: t.mirror_hit_rate(), mirror_top100: top100 },
        latency_ms: lat,
        latency_ms_by_geo: sc.geos.iter().zip(&rec.latency_geo).map(|(g, h)| (g.clone(), latency(h))).collect(),
        availability: t.availability(),
        failovers: t.failovers,
        mirrors: Mirrors {
            created: c.mirrors_created,
            activated: c.mirrors_activated,
            expired: c.mirrors_deleted + metrics.expired_awaiting_cleanup,
            deleted: c.mirrors_deleted,
            abandoned: c.mirrors_abandoned,
            active_peak: c.active_mirrors_peak,
            active_at_end: metrics.total_active_mirrors,
            predicted: c.mirrors_predicted,
            withheld: c.copies_withheld,
        },
        cost_usd,
        cost_nanodollars: cost_nanos,
        cost_per_gb_usd: cost_per_gb,
        cost_alerts: c.cost_alerts,
        targets,
        replicas: replicas_summary(r),
        sensitivity: None,
        cdns: cdn_shares(r),
    }
}

#[cfg(test)]
mod tests {

    /// Nearest-rank percentiles by hand: of 1 to 100, the q-th percentile is q; of three
    /// values, the median is the middle one and the 1st percentile the lowest.
    #[test]
    fn spread_is_nearest_rank() {
        let xs: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = Spread::of(&xs);
        assert_eq!((s.min, s.p01, s.p05, s.p25, s.p50, s.max), (1.0, 1.0, 5.0, 25.0, 50.0, 100.0));
        let s = Spread::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.min, s.p01, s.p50, s.max), (1.0, 1.0, 2.0, 3.0));
    }

    use super::*;

    /// An interval keeps the statistic's mean and bounds, and has none without them.
    #[test]
    fn an_interval_is_the_statistic_as_written() {
        let i = Interval::from(Stat { mean: 2.0, ci95: Some((1.5, 2.5)) });
        assert_eq!((i.mean, i.ci95), (2.0, Some([1.5, 2.5])));
        assert_eq!(Interval::from(Stat { mean: 3.0, ci95: None }).ci95, None);
    }
}
