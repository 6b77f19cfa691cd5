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
