//! The lines `clipsim run` prints when it is done: the headline figures and each target's
//! verdict, in the report's units (the exact values are in `summary.json`).

use super::markdown::target_value;
use super::summary::Summary;
use super::Thousands;
use crate::sweep::output::usd;
use std::path::Path;

/// The run's headline, its targets and where the report is.
pub fn headline(s: &Summary, dir: &Path) -> String {
    let mut out = format!(
        "{}: {} requests, availability {}, P50 {}, cost {} ({})\n",
        s.scenario.name,
        s.requests.total.thousands(),
        target_value("availability", s.availability),
        target_value("p50_load_ms", s.latency_ms.p50),
        usd(s.cost_usd["total"]),
        s.cost_per_gb_usd
            .map_or("nothing delivered".into(), |c| format!("{}/GB", target_value("cost_per_gb", Some(c)))),
    );
    for t in &s.targets {
        out.push_str(&format!(
            "  {:<24} {} {:<12} actual {:<12} {}\n",
            t.name,
            t.direction,
            target_value(t.name, Some(t.target)),
            target_value(t.name, t.actual),
            if t.pass { "pass" } else { "FAIL" }
        ));
    }
    out.push_str(&format!("report: {}", dir.join("report.md").display()));
    out
}
