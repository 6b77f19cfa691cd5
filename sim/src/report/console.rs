//! The lines `clipsim run` prints when it is done: the headline figures and each target's
//! verdict, in the report's units (the exact values are in `summary.json`).

use super::format;
use super::summary::Summary;
use super::target::Target;
use clipsim_engine::MoneyNanos;
use std::path::Path;

/// The run's headline, its targets and where the report is.
pub fn headline(s: &Summary, dir: &Path) -> String {
    let mut out = format!(
        "{}: {} requests, availability {}, P50 {}, cost {} ({})\n",
        s.scenario.name,
        format::count(s.requests.total),
        Target::Availability.show_opt(s.availability),
        Target::P50LoadMs.show_opt(s.latency_ms.p50),
        format::money(MoneyNanos(s.cost_nanodollars["total"])),
        s.cost_per_gb_usd.map_or("nothing delivered".into(), |c| format!("{}/GB", Target::CostPerGb.show(c))),
    );
    for t in &s.targets {
        out.push_str(&format!(
            "  {:<24} {} {:<12} actual {:<12} {}\n",
            t.name,
            t.direction,
            t.name.show(t.target),
            t.name.show_opt(t.actual),
            if t.pass { "pass" } else { "FAIL" }
        ));
    }
    out.push_str(&super::robust::console(s));
    out.push_str(&format!("report: {}", dir.join("report.md").display()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::{Interval, ReplicaTarget, ReplicasSummary, Summary, TargetResult};

    /// The headline names the run, its figures and every target's verdict, then the replicas'
    /// lines when there are replicas, then where the report is.
    #[test]
    fn the_headline_has_the_figures_the_verdicts_and_the_replicas() {
        let mut s = Summary::default();
        s.scenario.name = "demo".into();
        s.requests.total = 1_234;
        s.cost_nanodollars.insert("total".into(), 982_809_761_058);
        s.cost_per_gb_usd = Some(0.1003);
        s.targets.push(TargetResult {
            name: Target::CostPerGb,
            target: 0.1,
            actual: Some(0.1003),
            pass: false,
            direction: "<=".into(),
        });
        let dir = Path::new("out");
        let one = headline(&s, dir);
        assert!(
            one.starts_with("demo: 1,234 requests, availability n/a, P50 n/a, cost $982.81 ($0.1003/GB)\n"),
            "{one}"
        );
        assert!(one.contains("cost_per_gb              <= $0.1000      actual $0.1003      FAIL\n"), "{one}");
        assert!(one.ends_with("report: out/report.md") && !one.contains("seeds"), "{one}");
        s.replicas = Some(ReplicasSummary {
            count: 3,
            seeds: [610, 612],
            targets: vec![ReplicaTarget {
                name: Target::CostPerGb,
                target: 0.1,
                value: Some(Interval { mean: 0.0995, ci95: Some([0.0989, 0.1001]) }),
                margin: Some(0.005),
                verdict: "within noise".into(),
                replicas_meeting: 2,
                probability: crate::report::summary::wilson(2, 3),
            }],
            ..Default::default()
        });
        let many = headline(&s, dir);
        assert!(many.contains("over 3 seeds (610 to 612), mean (95 % interval):\n"), "{many}");
        assert!(many.contains("mean $0.0995 ($0.0989 to $0.1001)  WITHIN NOISE (+0.5 %), met by 2 of 3\n"), "{many}");
    }
}
