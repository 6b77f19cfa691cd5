//! Statistics of a point over its replicas: means, 95 % confidence intervals, target verdicts.
//!
//! A point's replicas differ only in their seed (`seed + r`), and replica `r` has the same seed at
//! every point: common random numbers. The interval is Student's: `mean ± t(0.975, K−1) · s / √K`
//! with the sample standard deviation `s`; with one replica there is none. Targets are judged on
//! the mean. The bill is averaged from the exact integer nanodollars of each replica.

use super::run::PointFile;
use crate::report::summary::Summary;
use crate::report::target::Target;

/// A point nearly meets the targets when it misses at least one and misses each by less than
/// this share of the target (for availability: of the unavailability the target allows).
pub const NEARLY: f64 = 0.10;

/// `t(0.975, df)` for `df = 1..=30`; above 30 the normal quantile [`Z_975`] is used.
const T_975: [f64; 30] = [
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788, 2.1604, 2.1448,
    2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484,
    2.0452, 2.0423,
];
/// The normal distribution's 97.5 % quantile.
const Z_975: f64 = 1.959_964;

/// The two-sided 95 % Student quantile for `df` degrees of freedom (`df >= 1`).
pub fn t_975(df: usize) -> f64 {
    T_975.get(df.wrapping_sub(1)).copied().unwrap_or(Z_975)
}

/// A mean and its 95 % confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    /// The mean.
    pub mean: f64,
    /// `(low, high)`; `None` with a single replica.
    pub ci95: Option<(f64, f64)>,
}

/// Mean and interval of `xs` (not empty), summed in order.
pub fn stat(xs: &[f64]) -> Stat {
    let k = xs.len();
    let mean = xs.iter().sum::<f64>() / k as f64;
    if k < 2 {
        return Stat { mean, ci95: None };
    }
    // Each deviation once, squared (`d * d`: the same bits as `(x - mean) * (x - mean)`).
    let var = xs
        .iter()
        .map(|x| {
            let d = x - mean;
            d * d
        })
        .sum::<f64>()
        / (k - 1) as f64;
    let half = t_975(k - 1) * (var / k as f64).sqrt();
    Stat { mean, ci95: Some((mean - half, mean + half)) }
}

impl Stat {
    /// The interval cut to the range the value can take (`lo..=hi`): a rate's interval can
    /// reach past 100 % when the replicas are near it, which no replica can.
    pub fn within(self, lo: f64, hi: f64) -> Stat {
        Stat { mean: self.mean, ci95: self.ci95.map(|(a, b)| (a.clamp(lo, hi), b.clamp(lo, hi))) }
    }
}

/// The range a figure or target can take: shares (rates) from 0 to 1, everything else (money,
/// load times) 0 or more.
fn range(share: bool) -> (f64, f64) {
    if share {
        (0.0, 1.0)
    } else {
        (0.0, f64::INFINITY)
    }
}

/// The same over values that may be missing: `None` unless every replica has one.
pub fn stat_opt(xs: &[Option<f64>]) -> Option<Stat> {
    let all: Option<Vec<f64>> = xs.iter().copied().collect();
    all.filter(|v| !v.is_empty()).map(|v| stat(&v))
}

/// [`stat_opt`] with the interval cut to the range of the figure (a share or not, [`range`]).
fn stat_in(xs: &[Option<f64>], share: bool) -> Option<Stat> {
    let (lo, hi) = range(share);
    stat_opt(xs).map(|s| s.within(lo, hi))
}

/// A target's verdict at one point.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// Which target.
    pub name: Target,
    /// The value required.
    pub target: f64,
    /// The mean over replicas and its interval (`None` when a replica had no value).
    pub stat: Option<Stat>,
    /// The mean meets the target.
    pub pass: bool,
    /// How far the mean is on the right side of the target, as a share of the target (of the
    /// allowed unavailability for `availability`); negative when it fails.
    pub margin: Option<f64>,
    /// The confidence interval contains the target: the verdict could go either way.
    pub within_noise: bool,
}

/// How point files and warnings name a clipsim build: `version (commit HASH)`.
pub fn build_label(version: &str, commit: &str) -> String {
    format!("{version} (commit {commit})")
}

/// Everything the outputs need about one point.
#[derive(Clone, Debug)]
pub struct PointStats {
    /// `0..P`.
    pub index: usize,
    /// `(key, value as TOML)` per axis.
    pub assignment: Vec<(String, String)>,
    /// Replicas averaged.
    pub replicas: usize,
    /// The replicas' bills summed, exact nanodollars (orders points by mean bill exactly).
    pub bill_sum_nanos: i128,
    /// The bill, dollars.
    pub bill: Stat,
    /// Cost per GB delivered, dollars.
    pub cost_per_gb: Option<Stat>,
    /// P50 load time, ms.
    pub p50: Option<Stat>,
    /// P95 load time, ms.
    pub p95: Option<Stat>,
    /// Availability.
    pub availability: Option<Stat>,
    /// CDN edge hit rate.
    pub cdn_hit: Option<Stat>,
    /// Mirror hit rate of origin fetches.
    pub mirror_hit: Option<Stat>,
    /// Mirror hit rate of the top 100 clips.
    pub top100_hit: Option<Stat>,
    /// One per target of the scenario, in its order.
    pub verdicts: Vec<Verdict>,
    /// Every target met.
    pub all_pass: bool,
    /// Misses at least one target, each by less than [`NEARLY`].
    pub nearly: bool,
    /// The clipsim build that simulated it: `version (commit)` from its summaries.
    pub build: String,
}

/// Margin of `mean` against a target (see [`Verdict::margin`]).
pub fn margin(name: Target, target: f64, mean: f64) -> Option<f64> {
    let (diff, scale) = match name {
        Target::Availability => (mean - target, 1.0 - target),
        _ if name.at_most() => (target - mean, target.abs()),
        _ => (mean - target, target.abs()),
    };
    (scale > 0.0).then(|| diff / scale)
}

/// The statistics of one point file. Errors name what is missing.
pub fn point_stats(pf: &PointFile) -> Result<PointStats, String> {
    let sums: Vec<&Summary> = pf.replicas.iter().map(|r| &r.summary).collect();
    let assignment = pf.assignment.iter().map(|a| (a.key.clone(), a.value.clone())).collect();
    summary_stats(pf.point, assignment, &sums)
}

/// The statistics of the replicas' summaries `sums` of point `index` (set by `assignment`): a
/// sweep's point, or the replicas of one `clipsim run`. Errors name what is missing.
pub fn summary_stats(index: usize, assignment: Vec<(String, String)>, sums: &[&Summary]) -> Result<PointStats, String> {
    if sums.is_empty() {
        return Err("no replicas".into());
    }
    let mut bills = Vec::with_capacity(sums.len());
    for s in sums {
        bills.push(*s.cost_nanodollars.get("total").ok_or("a summary without cost_nanodollars.total")?);
    }
    let col = |f: fn(&Summary) -> Option<f64>| -> Vec<Option<f64>> { sums.iter().map(|s| f(s)).collect() };
    let bill_sum_nanos: i128 = bills.iter().map(|&b| i128::from(b)).sum();
    let bill = stat(&bills.iter().map(|&b| b as f64 / 1e9).collect::<Vec<_>>()).within(0.0, f64::INFINITY);
    let mut verdicts = Vec::new();
    for (ti, t) in sums[0].targets.iter().enumerate() {
        let (name, target) = (t.name, t.target);
        let actuals: Vec<Option<f64>> = sums
            .iter()
            .map(|s| s.targets.get(ti).filter(|u| u.name == name).ok_or("replicas with different targets"))
            .map(|u| u.map(|u| u.actual))
            .collect::<Result<_, _>>()?;
        let st = stat_in(&actuals, name.is_share());
        let pass = st.is_some_and(|s| name.met(s.mean, target));
        verdicts.push(Verdict {
            margin: st.and_then(|s| margin(name, target, s.mean)),
            within_noise: st.and_then(|s| s.ci95).is_some_and(|(lo, hi)| lo <= target && target <= hi),
            name,
            target,
            stat: st,
            pass,
        });
    }
    let all_pass = verdicts.iter().all(|v| v.pass);
    let build = build_label(&sums[0].version, &sums[0].git_commit);
    let nearly = !all_pass && verdicts.iter().filter(|v| !v.pass).all(|v| v.margin.is_some_and(|m| m > -NEARLY));
    Ok(PointStats {
        index,
        assignment,
        replicas: sums.len(),
        bill_sum_nanos,
        bill,
        cost_per_gb: stat_in(&col(|s| s.cost_per_gb_usd), false),
        p50: stat_in(&col(|s| s.latency_ms.p50), false),
        p95: stat_in(&col(|s| s.latency_ms.p95), false),
        availability: stat_in(&col(|s| s.availability), true),
        cdn_hit: stat_in(&col(|s| s.hit_rates.cdn_cache), true),
        mirror_hit: stat_in(&col(|s| s.hit_rates.mirror), true),
        top100_hit: stat_in(&col(|s| s.hit_rates.mirror_top100), true),
        verdicts,
        all_pass,
        nearly,
        build,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_interval_matches_hand_arithmetic() {
        let s = stat(&[1.0, 2.0, 3.0]);
        assert_eq!(s.mean, 2.0);
        // s = 1, t(0.975, 2) = 4.3027, half-width 4.3027 / sqrt(3).
        let (lo, hi) = s.ci95.unwrap();
        assert!((hi - 2.0 - 4.3027 / 3f64.sqrt()).abs() < 1e-12 && (2.0 - lo - (hi - 2.0)).abs() < 1e-12);
        assert_eq!(stat(&[5.0]).ci95, None, "one replica: no interval");
        // Rates near 100 %: the interval stops at 100 %, a rate near 0 at 0.
        let near_one = stat(&[1.0, 0.99, 1.0]).within(0.0, 1.0);
        assert_eq!(near_one.ci95.unwrap().1, 1.0);
        assert!(near_one.ci95.unwrap().0 < 0.99);
        let near_zero = stat_in(&[Some(0.0), Some(0.01), Some(0.0)], true).unwrap();
        assert_eq!(near_zero.ci95.unwrap().0, 0.0);
        let big = stat_in(&[Some(100.0), Some(900.0)], false).unwrap();
        assert!(big.ci95.unwrap().1 > 900.0 && big.ci95.unwrap().0 == 0.0, "{big:?}");
        assert_eq!(t_975(31), Z_975);
        assert_eq!(stat_opt(&[Some(1.0), None]), None);
    }

    /// A point whose replicas have these costs per GB, against a $0.10 target.
    fn point(cost_per_gb: &[f64]) -> PointStats {
        point_against(cost_per_gb, 0.10)
    }

    /// A point whose replicas have these costs per GB, against `target`.
    fn point_against(cost_per_gb: &[f64], target: f64) -> PointStats {
        use crate::report::summary::{Summary, TargetResult};
        use crate::sweep::run::{PointFile, ReplicaRecord};
        let replicas = cost_per_gb
            .iter()
            .enumerate()
            .map(|(r, &cpg)| ReplicaRecord {
                replica: r as u32,
                seed: r as u64,
                summary: Summary {
                    cost_nanodollars: [("total".to_string(), 1_000_000_000)].into(),
                    cost_per_gb_usd: Some(cpg),
                    targets: vec![TargetResult {
                        name: Target::CostPerGb,
                        target,
                        actual: Some(cpg),
                        pass: cpg <= target,
                        direction: "<=".into(),
                    }],
                    ..Default::default()
                },
            })
            .collect();
        point_stats(&PointFile::new("h".into(), 0, vec![], replicas)).unwrap()
    }

    /// "Within noise": the target inside the mean's 95 % interval, and only then.
    #[test]
    fn a_verdict_is_within_noise_only_when_the_interval_holds_the_target() {
        // Mean 0.11, half-width 4.3027 x 0.01 / sqrt(3) = 0.0248: the interval holds 0.10.
        let close = &point(&[0.10, 0.11, 0.12]).verdicts[0];
        assert!(!close.pass && close.within_noise);
        // Mean 0.21: the interval (0.185, 0.235) lies above the target.
        let far = &point(&[0.20, 0.21, 0.22]).verdicts[0];
        assert!(!far.pass && !far.within_noise);
        // And one below it: a pass, not within noise either.
        let cheap = &point(&[0.02, 0.03, 0.04]).verdicts[0];
        assert!(cheap.pass && !cheap.within_noise);
    }

    /// "Nearly": every missed target missed by less than 10 % of it; 10 % exactly is not nearly.
    #[test]
    fn nearly_means_each_miss_under_ten_percent() {
        // $11 against $10 misses by exactly -1/10, the very double -NEARLY.
        assert_eq!(margin(Target::CostPerGb, 10.0, 11.0), Some(-NEARLY));
        assert!(!point_against(&[11.0], 10.0).nearly, "a 10 % miss is not nearly");
        assert!(point_against(&[10.9], 10.0).nearly, "a 9 % miss is");
        assert!(!point_against(&[9.0], 10.0).nearly, "a pass is not a near miss");
    }

    #[test]
    fn margins_are_relative_and_availability_uses_its_budget() {
        assert!((margin(Target::CostPerGb, 0.10, 0.105).unwrap() + 0.05).abs() < 1e-12);
        assert!((margin(Target::Top100MirrorHitRate, 0.6, 0.66).unwrap() - 0.1).abs() < 1e-12);
        // 99.99 % allows 0.01 % unavailability; 99.989 % uses 110 % of it.
        assert!((margin(Target::Availability, 0.9999, 0.99989).unwrap() + 0.1).abs() < 1e-9);
        assert_eq!(margin(Target::Availability, 1.0, 1.0), None);
    }
}
