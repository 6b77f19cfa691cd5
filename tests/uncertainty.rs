//! How sure a verdict is: the intervals of replicated runs, and the flip points of
//! `clipsim sensitivity`, each held against runs made another way.

mod common;

use clipsim_sim::report::summary::{summarize, Summary};
use clipsim_sim::scenario::{self, Overrides, Scenario};
use clipsim_sim::sensitivity::{self, assumptions, Options};
use clipsim_sim::{replicas, run_scenario};
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// The seed baseline at a fiftieth of its catalog and traffic (2,000 clips, 20,000 views), with
/// `extra` TOML appended.
fn small(extra: &str) -> String {
    let text = std::fs::read_to_string(common::root().join("scenarios/seed-baseline.toml")).unwrap();
    let text = text
        .replace("clips = 100000 ", "clips = 2000 ")
        .replace("views_per_month = 1000000", "views_per_month = 20000")
        .replace("replication_threshold = 1000", "replication_threshold = 50");
    format!("{text}\n{extra}")
}

fn load(text: &str, seed: Option<u64>) -> Scenario {
    let o = Overrides { seed, ..Default::default() };
    scenario::from_str(Path::new("small.toml"), text, &o).unwrap()
}

fn single(text: &str, seed: u64) -> Summary {
    summarize(&run_scenario(load(text, Some(seed))).unwrap())
}

/// The replicated run's interval, `(low, high)`, of a figure of `summary.json`'s `replicas`.
fn interval(s: &Summary, figure: &str) -> (f64, f64) {
    let i = &s.replicas.as_ref().unwrap().figures[figure];
    let [lo, hi] = i.ci95.unwrap();
    (lo, hi)
}

/// The 95 % interval of a 10-replica run (seeds 610 to 619) holds the mean of 200 independent
/// single runs (seeds 5000 to 5199) of the same scenario, for the bill and for P50; and it is
/// narrow enough to mean something: the same 200 runs of a scenario with 10 % larger clips (for
/// the bill) or 10 % slower viewers (for P50) fall outside it. The seed sets were fixed before
/// the test was first run.
#[test]
fn a_replicated_runs_interval_holds_the_mean_of_200_single_runs() {
    let stop = AtomicBool::new(false);
    let base = small("");
    let r = replicas::run(load(&base, None), 10, 2, &mut (), &stop).unwrap();
    let s = summarize(&r);
    let mean_of = |text: &str, f: fn(&Summary) -> f64| -> f64 {
        (5000..5200).map(|seed| f(&single(text, seed))).sum::<f64>() / 200.0
    };
    let bill = |s: &Summary| s.cost_usd["total"];
    let p50 = |s: &Summary| s.latency_ms.p50.unwrap();
    for (figure, f, planted) in [
        ("bill_usd", bill as fn(&Summary) -> f64, base.replace("mean_mb = 10.0", "mean_mb = 11.0")),
        ("p50_ms", p50, small("[network]\nviewer_mbps = 22.5\n")),
    ] {
        let (lo, hi) = interval(&s, figure);
        let m = mean_of(&base, f);
        assert!(lo <= m && m <= hi, "{figure}: the mean of 200 single runs, {m}, is outside {lo} to {hi}");
        let shifted = mean_of(&planted, f);
        assert!(!(lo <= shifted && shifted <= hi), "{figure}: a 10 % change ({shifted}) is inside {lo} to {hi}");
    }
}

fn assumptions_file(body: &str) -> assumptions::Assumptions {
    assumptions::from_text(Path::new("a.toml"), body).unwrap()
}

const THROUGHPUT: &str = r#"
[[assumptions]]
name = "viewer throughput"
key = "network.viewer_mbps"
low = 2.0
high = 50.0
log = true
default = 25.0
source = "a test range"
measure = "player throughput"
"#;

/// Bisection narrows the viewer throughput at which P50 turns (the 2,000 ms target) to a bracket
/// whose ends, run again as plain single runs of scenario files with that throughput written in,
/// give the two verdicts it says: fail at the slow end, pass at the fast end.
#[test]
fn a_flip_point_sits_where_runs_on_either_side_disagree() {
    let stop = AtomicBool::new(false);
    let base = small("");
    let plan = sensitivity::Plan::new(load(&base, None), assumptions_file(THROUGHPUT)).unwrap();
    let opts = Options { replicas: 1, threads: 2, bisect_steps: 8, worlds: 0, sample_seed: 1 };
    let report = sensitivity::run(&plan, &opts, &(), &stop).unwrap();
    let p50: Vec<_> = report.flips.iter().filter(|f| f.target.key() == "p50_load_ms").collect();
    assert_eq!(p50.len(), 1, "{:?}", report.flips);
    let f = p50[0];
    assert_eq!(f.steps, 8);
    let [slow, fast] = f.between_values;
    assert!(2.0 < slow && slow < fast && fast < 25.0, "{slow} to {fast}");
    // Eight halvings of 2 to 25 Mbit/s (the base passes) in log space.
    assert!((fast / slow).ln() <= (25.0f64 / 2.0).ln() / 256.0 + 1e-9, "{slow} to {fast}");
    assert_eq!(f.pass_at, [false, true]);
    let verdict = |mbps: f64| {
        let s = single(&small(&format!("[network]\nviewer_mbps = {mbps}\n")), 610);
        s.targets.iter().find(|t| t.name.key() == "p50_load_ms").unwrap().pass
    };
    assert!(!verdict(slow), "P50 fails at {slow} Mbit/s");
    assert!(verdict(fast), "P50 passes at {fast} Mbit/s");
}

/// The one-at-a-time results put each end where a run of it puts it: the cost per GB at the low
/// end of the clip size equals a run of a scenario file with that size written in.
#[test]
fn each_end_is_the_run_of_that_value() {
    let stop = AtomicBool::new(false);
    let base = small("");
    let body = r#"
[[assumptions]]
name = "mean clip size"
key = "catalog.size.mean_mb"
low = 5.0
high = 20.0
source = "s"
measure = "m"
"#;
    let plan = sensitivity::Plan::new(load(&base, None), assumptions_file(body)).unwrap();
    let opts = Options { replicas: 2, threads: 2, bisect_steps: 0, worlds: 0, sample_seed: 1 };
    let report = sensitivity::run(&plan, &opts, &(), &stop).unwrap();
    let a = &report.assumptions[0];
    let cost = |targets: &[sensitivity::TargetAt]| {
        targets.iter().find(|t| t.target.key() == "cost_per_gb").unwrap().value.unwrap().mean
    };
    let by_hand = |mb: &str| {
        let text = base.replace("mean_mb = 10.0", &format!("mean_mb = {mb}"));
        (single(&text, 610).cost_per_gb_usd.unwrap() + single(&text, 611).cost_per_gb_usd.unwrap()) / 2.0
    };
    assert_eq!(cost(&a.at_low), by_hand("5.0"));
    assert_eq!(cost(&a.at_high), by_hand("20.0"));
    // The ends are not the base (the value reached the run).
    let (l, b, h) = (cost(&a.at_low), cost(&report.base), cost(&a.at_high));
    assert!(l != b && h != b, "{l} {b} {h}");
}

/// The global variant: every world's values lie within the ranges, one in each stratum per
/// assumption (a Latin hypercube), and the share of worlds passing counts the rows that pass.
#[test]
fn the_global_variant_samples_every_stratum_and_counts_the_passing_worlds() {
    let stop = AtomicBool::new(false);
    let body = format!(
        "{THROUGHPUT}\n{}",
        r#"
[[assumptions]]
name = "popularity"
key = "traffic.popularity.alpha"
low = 0.6
high = 1.1
source = "s"
measure = "m"
"#
    );
    let plan = sensitivity::Plan::new(load(&small(""), None), assumptions_file(&body)).unwrap();
    let opts = Options { replicas: 1, threads: 2, bisect_steps: 0, worlds: 8, sample_seed: 3 };
    let report = sensitivity::run(&plan, &opts, &(), &stop).unwrap();
    let g = report.global.as_ref().unwrap();
    assert_eq!(g.rows.len(), 8);
    let alphas: Vec<f64> = g.rows.iter().map(|r| r.values[1].parse().unwrap()).collect();
    let mut strata: Vec<usize> = alphas.iter().map(|a| ((a - 0.6) / 0.5 * 8.0) as usize).collect();
    strata.sort();
    assert_eq!(strata, (0..8).collect::<Vec<_>>(), "{alphas:?}");
    for (t, gt) in g.targets.iter().enumerate() {
        assert_eq!(gt.passing, g.rows.iter().filter(|r| r.pass[t]).count());
    }
    assert_eq!(g.all_pass, g.rows.iter().filter(|r| r.pass.iter().all(|p| *p)).count());
}
