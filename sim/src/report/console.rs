//! The lines `clipsim run` prints when it is done: the headline figures and each target's
//! verdict, in the report's units (the exact values are in `summary.json`).

use super::markdown::target_value;
use super::summary::Summary;
use super::Thousands;
use std::path::Path;

/// The run's headline, its targets and where the report is.
pub fn headline(s: &Summary, dir: &Path) -> String {
    let mut out = format!(
        "{}: {} requests, availability {}, P50 {}, cost {} ({})\n",
        s.scenario.name,
        s.requests.total.thousands(),
        target_value("availability", s.availability),
        target_value("p50_load_ms", s.latency_ms.p50),
        cents(s.cost_usd["total"]),
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

/// Dollars to the cent with thousands separators: `$1,391.66`.
fn cents(usd: f64) -> String {
    let c = (usd.abs() * 100.0).round() as u64;
    let sign = if usd < 0.0 && c > 0 { "-" } else { "" };
    format!("{sign}${}.{:02}", (c / 100).thousands(), c % 100)
}

#[cfg(test)]
mod tests {
    use super::cents;

    #[test]
    fn cents_have_separators_and_two_decimals() {
        assert_eq!(cents(1391.664), "$1,391.66");
        assert_eq!(cents(0.006), "$0.01");
        assert_eq!(cents(0.0), "$0.00");
        assert_eq!(cents(1_234_567.891), "$1,234,567.89");
        assert_eq!(cents(-12.5), "-$12.50");
        assert_eq!(cents(-0.001), "$0.00");
    }
}
