//! `[rollout]`: the arms change nothing but what they are meant to. With everyone in treatment
//! the run is the scenario without a rollout, view for view; with nobody, every view is served
//! directly from its primary and the twin's bill is the run's; in between, the arms split the
//! views by the stage's share.

mod common;

use clipsim_engine::ServedFrom;
use clipsim_sim::report::{self, summary::Summary};
use clipsim_sim::run_scenario;
use clipsim_sim::scenario::{self, Overrides};

/// `scenarios/rollout.toml` at a 20th of its traffic, with its `[rollout]` replaced by `rollout`
/// (TOML text; empty: none).
fn summary(rollout: &str) -> Summary {
    let path = common::root().join("scenarios/rollout.toml");
    let scaled = common::scaled(&path, 20.0);
    let text = scaled.text.split("\n[rollout]").next().unwrap().to_string() + rollout;
    let sc = scenario::from_str(&path, &text, &Overrides::default()).expect("valid");
    report::summarize(&run_scenario(sc).expect("runs"))
}

fn stages(shares: [f64; 2]) -> String {
    format!(
        "\n[rollout]\nstages = [{{ share = {}, length = \"2d\" }}, {{ share = {}, length = \"28d\" }}]\n",
        shares[0], shares[1]
    )
}

#[test]
fn everyone_in_treatment_is_the_run_without_a_rollout() {
    let plain = summary("");
    let all = summary(&stages([1.0, 1.0]));
    assert!(plain.rollout.is_none());
    assert_eq!(all.served_from, plain.served_from, "view for view");
    assert_eq!(all.cost_nanodollars, plain.cost_nanodollars);
    assert_eq!(all.latency_ms, plain.latency_ms, "the arms draw from their own stream");
    let r = all.rollout.expect("a rollout section");
    let treated: u64 = r.stages.iter().map(|s| s.treatment.requests).sum();
    assert_eq!(treated, plain.requests.total, "every measured view in treatment");
    assert!(r.stages.iter().all(|s| s.control.requests == 0 && s.p50_diff_ms.is_none()));
    // The stages' bills add up to the run's (no warm-up: every report interval is in a stage).
    let staged: f64 = r.stages.iter().map(|s| s.cost_usd.expect("a bill")).sum();
    let total = plain.cost_usd["total"];
    assert!((staged - total).abs() < 1e-6, "stages {staged} against the run's {total}");
    // The twin (everyone in control, no mirroring) is the system before the design: a different bill.
    let s = &r.stages[1];
    assert_ne!(s.cost_usd, s.cost_without_usd);
    assert_eq!(s.p50_detectable_ms, None, "no control arm, no comparison");
}

#[test]
fn nobody_in_treatment_is_served_as_before_and_costs_what_its_twin_does() {
    let none = summary(&stages([0.0, 0.0]));
    let direct = ServedFrom::PrimaryDirect.name();
    let failed = ServedFrom::Failed.name();
    for (from, n) in &none.served_from {
        assert!(from == direct || from == failed || *n == 0, "{n} views served from {from} in the control arm");
    }
    let r = none.rollout.expect("a rollout section");
    // The twin serves the same views the same way (directly) without mirroring: the difference
    // is what the run's mirrors cost, their copies (its inter-region bill) and their storage.
    let mut diff = 0.0;
    for s in &r.stages {
        assert_eq!(s.treatment.requests, 0);
        diff += s.cost_diff_usd.expect("both bills").mean;
        assert!(s.cost_usd >= s.cost_without_usd, "mirrors cost something");
    }
    let copies = none.cost_usd["inter_region"];
    assert!(copies > 0.0, "the control arm's views still make clips popular: {copies}");
    assert!(diff >= copies - 1e-9 && diff < copies + 0.01, "mirroring's cost {diff} against its copies' {copies}");
}

#[test]
fn the_arms_split_the_views_by_the_share_and_the_design_is_faster() {
    let r = summary(&stages([0.1, 0.5])).rollout.expect("a rollout section");
    for (s, share) in r.stages.iter().zip([0.1, 0.5]) {
        let n = (s.control.requests + s.treatment.requests) as f64;
        let expected = n * share;
        let sd = (n * share * (1.0 - share)).sqrt();
        let got = s.treatment.requests as f64;
        assert!((got - expected).abs() < 4.0 * sd, "share {share}: {got} of {n} views in treatment");
    }
    // At a 20th of the traffic the 10 % stage has too few treated views an hour for a batch; the
    // 50 % stage has many. The CDN and the mirrors make the median view faster (the report's
    // finding), and the interval says so.
    let s = &r.stages[1];
    assert!(s.batches >= 100, "{} batches", s.batches);
    let d = s.p50_diff_ms.expect("both arms");
    let [_, hi] = d.ci95.expect("several intervals");
    assert!(hi < 0.0, "P50 change {d:?}");
    assert!(s.p50_detectable_ms.expect("an interval") > 0.0);
}
