//! Per stage: the arms side by side, their differences with 95 % intervals, the stage's cost
//! against the twin run without the design, and the power of the comparison.
//!
//! **Intervals.** Views are not independent (a popular clip's views share its copies and its
//! edge, the diurnal cycle moves every load time at once), so a percentile's interval is not taken
//! from the views as if they were. The estimate is the pooled difference (the treatment's P50 over
//! the stage minus the control's); its standard error comes from the stage's report intervals
//! (batches): in each, the treatment's P50 minus the control's is one observation, and the interval
//! is the estimate plus or minus Student's quantile times the standard error of those paired
//! differences (the batch-means method of simulation output analysis; the pairing removes what the
//! arms share, such as the hour of the day). A batch counts when each arm served at least
//! [`BATCH_MIN`] views in it. Hourly batches are not fully independent (a day's cycle links them),
//! so the interval is a little narrow rather than wide. Availability is a share of views: its
//! difference takes Newcombe's hybrid score interval, which treats views as independent (an outage
//! fails many at once, so with failures it is too narrow). With `unit = "clips"` every interval is
//! conditional on the one split of clips the seed drew. The cost difference is the sum of the
//! per-interval differences between the run and its twin (same seed, design off for everyone); its
//! interval describes how those differences vary from interval to interval, scaled to the stage,
//! not a sampling error (two seeds give two months: run `--seed` again for that).
//!
//! **Power.** The smallest P50 change the stage could detect, two-sided at 5 % with 80 % power:
//! `(t(0.975, B-1) + t(0.80, B-1)) x s / sqrt(B)` for `B` batches whose differences have standard
//! deviation `s`. An effect below it is likely to be missed; one above it, likely found.

use super::record::{RolloutRecorder, CONTROL, TREATMENT};
use super::PPM;
use crate::report::summary::Interval;
use crate::sweep::aggregate::{stat, t_975};
use clipsim_engine::SimTime;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A batch counts when each arm served at least this many views in it.
pub const BATCH_MIN: u64 = 20;

/// `t(0.80, df)`, one-sided, for `df = 1..=30`; above 30 the normal quantile.
const T_80: [f64; 30] = [
    1.3764, 1.0607, 0.9785, 0.9410, 0.9195, 0.9057, 0.8960, 0.8889, 0.8834, 0.8791, 0.8755, 0.8726, 0.8702, 0.8681,
    0.8662, 0.8647, 0.8633, 0.8620, 0.8610, 0.8600, 0.8591, 0.8583, 0.8575, 0.8569, 0.8562, 0.8557, 0.8551, 0.8546,
    0.8542, 0.8538,
];
const Z_80: f64 = 0.841_621;

fn t_80(df: usize) -> f64 {
    T_80.get(df.wrapping_sub(1)).copied().unwrap_or(Z_80)
}

/// One arm of one stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ArmSummary {
    /// Views (served or failed) after the warm-up.
    pub requests: u64,
    /// P50 load time of the served views, ms.
    pub p50_ms: Option<f64>,
    /// P95 load time, ms.
    pub p95_ms: Option<f64>,
    /// Served over requested.
    pub availability: Option<f64>,
}

/// One stage of the rollout.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StageSummary {
    /// Share of the unit in treatment.
    pub share: f64,
    /// Start, seconds from the run's start.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// The control arm (the system before: primary only, no CDN, no mirror).
    pub control: ArmSummary,
    /// The treatment arm (the scenario's design).
    pub treatment: ArmSummary,
    /// Report intervals in which both arms served at least `BATCH_MIN` views.
    pub batches: u32,
    /// Treatment P50 minus control P50 over the stage, ms, with the batch-means interval.
    pub p50_diff_ms: Option<Interval>,
    /// The same for P95.
    pub p95_diff_ms: Option<Interval>,
    /// Treatment availability minus control availability.
    pub availability_diff: Option<Interval>,
    /// The smallest P50 change this stage could detect (5 % two-sided, 80 % power), ms.
    pub p50_detectable_ms: Option<f64>,
    /// The stage's bill in this run, dollars (measured part of the stage).
    pub cost_usd: Option<f64>,
    /// The same period's bill in the twin run without the design.
    pub cost_without_usd: Option<f64>,
    /// This run's minus the twin's, with its interval.
    pub cost_diff_usd: Option<Interval>,
}

/// `[rollout]`'s results.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RolloutSummary {
    /// `viewers` or `clips`.
    pub unit: String,
    /// The stages in order.
    pub stages: Vec<StageSummary>,
}

/// The bill to date at every report tick: `(tick, nanodollars)`.
pub type CostRows = [(SimTime, i128)];

fn arm(t: &super::record::Tally) -> ArmSummary {
    let requests = t.served + t.failed;
    let q = |p: f64| (!t.latency.is_empty()).then(|| t.latency.value_at_quantile(p) as f64 / 1000.0);
    ArmSummary {
        requests,
        p50_ms: q(0.5),
        p95_ms: q(0.95),
        availability: (requests > 0).then(|| t.served as f64 / requests as f64),
    }
}

/// Mean and Student interval of `xs` (`None` when empty; no interval from one value).
fn interval(xs: &[f64]) -> Option<Interval> {
    (!xs.is_empty()).then(|| stat(xs).into())
}

/// The standard error of the mean of `xs` (at least two values).
fn standard_error(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (var / n).sqrt()
}

/// The pooled difference `estimate` with Student's interval from the batches' differences `d`
/// (their standard error; `None` without an estimate, no interval below two batches).
fn batch_interval(estimate: Option<f64>, d: &[f64]) -> Option<Interval> {
    let mean = estimate?;
    if d.len() < 2 {
        return Some(Interval { mean, ci95: None });
    }
    let half = t_975(d.len() - 1) * standard_error(d);
    Some(Interval { mean, ci95: Some([mean - half, mean + half]) })
}

/// The stages of `rec`; the costs when both runs' bills to date are given (`run`: this run's,
/// `twin`: the twin's, at the same ticks); `warmup`: when measuring began.
pub fn analyze(
    rec: &RolloutRecorder,
    warmup: SimTime,
    report_interval: clipsim_engine::SimDuration,
    costs: Option<(&CostRows, &CostRows)>,
) -> RolloutSummary {
    let secs = |t: SimTime| t.as_micros() as f64 / 1e6;
    let stages = rec
        .rollout
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let [control, treatment] = &rec.stages[i];
            let paired: Vec<_> = rec
                .batches
                .iter()
                .filter(|b| b.stage == i && b.served[CONTROL] >= BATCH_MIN && b.served[TREATMENT] >= BATCH_MIN)
                .collect();
            let diffs = |q: fn(&super::record::Batch) -> [Option<u64>; 2]| -> Vec<f64> {
                paired
                    .iter()
                    .filter_map(|b| match q(b) {
                        [Some(c), Some(t)] => Some((t as f64 - c as f64) / 1000.0),
                        _ => None,
                    })
                    .collect()
            };
            let d50 = diffs(|b| b.p50_us);
            let d95 = diffs(|b| b.p95_us);
            let (c, t) = (arm(control), arm(treatment));
            let pooled = |x: Option<f64>, y: Option<f64>| x.zip(y).map(|(c, t)| t - c);
            let p50_diff = batch_interval(pooled(c.p50_ms, t.p50_ms), &d50);
            let p95_diff = batch_interval(pooled(c.p95_ms, t.p95_ms), &d95);
            let detectable = (d50.len() >= 2).then(|| {
                let df = d50.len() - 1;
                (t_975(df) + t_80(df)) * standard_error(&d50)
            });
            let availability_diff = match (c.availability, t.availability) {
                (Some(pc), Some(pt)) => Some(newcombe(pc, c.requests, pt, t.requests)),
                _ => None,
            };
            let (cost, cost_without, cost_diff) = match costs {
                Some((run, twin)) => stage_costs(run, twin, s.start.max(warmup), s.end, report_interval),
                None => (None, None, None),
            };
            StageSummary {
                share: f64::from(s.share_ppm) / f64::from(PPM),
                start_s: secs(s.start),
                end_s: secs(s.end),
                control: c,
                treatment: t,
                batches: paired.len() as u32,
                p50_diff_ms: p50_diff,
                p95_diff_ms: p95_diff,
                availability_diff,
                p50_detectable_ms: detectable,
                cost_usd: cost,
                cost_without_usd: cost_without,
                cost_diff_usd: cost_diff,
            }
        })
        .collect();
    RolloutSummary { unit: rec.rollout.unit.name().into(), stages }
}

/// Wilson's 95 % score interval of a share `p` of `n` (`n > 0`).
fn wilson(p: f64, n: u64) -> (f64, f64) {
    let (z, n) = (1.959_964f64, n as f64);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// `p2 - p1` with Newcombe's hybrid score interval (from the arms' Wilson intervals): unlike the
/// normal approximation it has a width when neither arm failed (`p = 1`).
fn newcombe(p1: f64, n1: u64, p2: f64, n2: u64) -> Interval {
    let ((l1, u1), (l2, u2)) = (wilson(p1, n1), wilson(p2, n2));
    let d = p2 - p1;
    let low = d - ((p2 - l2).powi(2) + (u1 - p1).powi(2)).sqrt();
    let high = d + ((u2 - p2).powi(2) + (p1 - l1).powi(2)).sqrt();
    Interval { mean: d, ci95: Some([low, high]) }
}

/// The two runs' bills over the report intervals inside `from..to`, and their difference with
/// Student's interval over the intervals (scaled to the whole span).
fn stage_costs(
    run: &CostRows,
    twin: &CostRows,
    from: SimTime,
    to: SimTime,
    interval_len: clipsim_engine::SimDuration,
) -> (Option<f64>, Option<f64>, Option<Interval>) {
    let usd = |n: i128| n as f64 / 1e9;
    let increments = |rows: &CostRows| -> Vec<i128> {
        rows.windows(2)
            .filter(|w| w[1].0 <= to && w[1].0.saturating_since(w[0].0) == interval_len && w[0].0 >= from)
            .map(|w| w[1].1 - w[0].1)
            .collect()
    };
    let (a, b) = (increments(run), increments(twin));
    if a.is_empty() || a.len() != b.len() {
        return (None, None, None);
    }
    let diffs: Vec<f64> = a.iter().zip(&b).map(|(x, y)| usd(x - y)).collect();
    let n = diffs.len() as f64;
    let diff =
        interval(&diffs).map(|iv| Interval { mean: iv.mean * n, ci95: iv.ci95.map(|[lo, hi]| [lo * n, hi * n]) });
    (Some(usd(a.iter().sum())), Some(usd(b.iter().sum())), diff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollout::{record::RolloutRecorder, Rollout, Unit};
    use clipsim_engine::SimDuration;

    /// Two stages of four hourly batches; the treatment is exactly 100 ms faster in every batch
    /// except one (130 ms): the estimate is the pooled difference, its interval Student's from
    /// the batches' spread.
    #[test]
    fn the_difference_is_pooled_and_its_interval_from_paired_batches() {
        let h = SimDuration::from_hours(1);
        let r = Rollout::from_stages(
            Unit::Viewers,
            &[(100_000, h.saturating_mul(4)), (PPM, h)],
            SimTime::ZERO + h.saturating_mul(5),
        );
        let mut rec = RolloutRecorder::new(r, SimTime::ZERO);
        for hour in 0..4u64 {
            let t = SimTime::ZERO + h.saturating_mul(hour) + SimDuration::from_secs(1);
            let faster = if hour == 2 { 130_000 } else { 100_000 };
            for i in 0..20u64 {
                rec.request(t, 0, false, true, 10, 600_000 + i * 10);
                rec.request(t, 0, true, true, 10, 600_000 + i * 10 - faster);
            }
            rec.request(t, 0, true, false, 0, 0);
            rec.close_batch(SimTime::ZERO + h.saturating_mul(hour + 1));
        }
        let s = &analyze(&rec, SimTime::ZERO, h, None).stages[0];
        assert_eq!(s.batches, 4);
        let d = s.p50_diff_ms.unwrap();
        // Pooled: the treatment's median is a 100-ms-faster view (60 of its 80 views are).
        let pooled = s.treatment.p50_ms.unwrap() - s.control.p50_ms.unwrap();
        assert_eq!(d.mean, pooled);
        assert!((pooled - -100.0).abs() < 0.5, "{pooled}");
        // Batch differences -100, -100, -130, -100: s = 15 ms, standard error 7.5 ms.
        let [lo, hi] = d.ci95.unwrap();
        assert!((hi - d.mean - 3.1824 * 7.5).abs() < 0.5 && (d.mean - lo - 3.1824 * 7.5).abs() < 0.5, "{d:?}");
        let mde = s.p50_detectable_ms.unwrap();
        assert!((mde - (3.1824 + 0.9785) * 7.5).abs() < 0.5, "{mde}");
        assert_eq!((s.control.requests, s.treatment.requests), (80, 84));
        assert_eq!(s.treatment.availability, Some(80.0 / 84.0));
        let a = s.availability_diff.unwrap();
        let [lo, hi] = a.ci95.unwrap();
        assert!(a.mean < 0.0 && lo < a.mean && hi > a.mean);
        assert_eq!(analyze(&rec, SimTime::ZERO, h, None).stages[1].batches, 0, "nothing in stage 2");
    }

    /// Newcombe's example (Statistics in Medicine 17, 1998, table II, method 10): 56/70 against
    /// 48/80 gives 0.2000 with interval 0.0524 to 0.3339.
    #[test]
    fn newcombe_matches_the_published_example() {
        let d = newcombe(48.0 / 80.0, 80, 56.0 / 70.0, 70);
        let [lo, hi] = d.ci95.unwrap();
        assert!((d.mean - 0.2).abs() < 1e-12);
        assert!((lo - 0.0524).abs() < 5e-5 && (hi - 0.3339).abs() < 5e-5, "{lo} {hi}");
        let none_failed = newcombe(1.0, 30_000, 1.0, 3_000);
        let [lo, hi] = none_failed.ci95.unwrap();
        assert!(lo < 0.0 && hi > 0.0 && hi - lo < 0.002, "a width without failures: {lo} {hi}");
    }

    #[test]
    fn stage_costs_sum_whole_intervals_inside_the_stage() {
        let h = SimDuration::from_hours(1);
        let at = |n: u64| SimTime::ZERO + h.saturating_mul(n);
        let run: Vec<(SimTime, i128)> = (0..=4).map(|n| (at(n), i128::from(n as i32) * 3_000_000_000)).collect();
        let twin: Vec<(SimTime, i128)> = (0..=4).map(|n| (at(n), i128::from(n as i32) * 1_000_000_000)).collect();
        let (a, b, d) = stage_costs(&run, &twin, at(1), at(4), h);
        assert_eq!((a, b), (Some(9.0), Some(3.0)), "three hours: $3 and $1 an hour");
        let d = d.unwrap();
        assert_eq!((d.mean, d.ci95), (6.0, Some([6.0, 6.0])), "no spread, no width");
    }
}
