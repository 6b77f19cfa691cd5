//! "How sure is this?": what the replicas of a run (`clipsim run --replicas N`) say about its
//! figures and verdicts, for `report.md` and the console; and, for a single run, that its
//! figures have no interval.

use super::format;
use super::summary::{Interval, ReplicasSummary, Summary};
use super::target::Target;

/// `i` shown by `show`: `mean (low to high)`.
fn interval(i: &Interval, show: impl Fn(f64) -> String) -> String {
    match i.ci95 {
        Some([lo, hi]) => format!("{} ({} to {})", show(i.mean), show(lo), show(hi)),
        None => show(i.mean),
    }
}

/// A probability as a percentage: whole percents, or two decimals within 1 % of 0 or 100 % (the
/// Wilson interval of 0 of 1,000 months is 0 % to 0.38 %, not "0 % to 0 %").
fn share(x: f64) -> String {
    let p = 100.0 * x;
    if (p > 0.0 && p < 1.0) || (p > 99.0 && p < 100.0) {
        format!("{p:.2} %")
    } else {
        format!("{p:.0} %")
    }
}

/// How a figure of `figures` reads (its unit).
fn show_figure(name: &str, v: f64) -> String {
    match name {
        "bill_usd" => format::usd(v),
        "cost_per_gb_usd" => Target::CostPerGb.show(v),
        "p50_ms" | "p95_ms" => Target::P50LoadMs.show(v),
        "availability" => Target::Availability.show(v),
        _ => format!("{:.2} %", 100.0 * v),
    }
}

/// The figures in report order, with their labels.
const FIGURES: [(&str, &str); 8] = [
    ("bill_usd", "bill"),
    ("cost_per_gb_usd", "cost per GB"),
    ("p50_ms", "P50 load time"),
    ("p95_ms", "P95 load time"),
    ("availability", "availability"),
    ("cdn_hit_rate", "edge hit rate"),
    ("mirror_hit_rate", "mirror hit rate"),
    ("mirror_top100_hit_rate", "top-100 mirror hit rate"),
];

/// A target's verdict with its margin: `pass (+72.1 %)`, `**within noise** (-0.3 %)`.
fn verdict(v: &super::summary::ReplicaTarget, bold: bool) -> String {
    let margin = v.margin.map_or(String::new(), |m| format!(" ({:+.1} %)", 100.0 * m));
    let word = match v.verdict.as_str() {
        "pass" => "pass".to_string(),
        other if bold => format!("**{other}**"),
        other => other.to_uppercase(),
    };
    format!("{word}{margin}")
}

/// The section of `report.md`.
pub fn section(s: &Summary) -> String {
    let mut o = String::from("## How sure is this?\n\n");
    match &s.replicas {
        None => o.push_str(
            "These figures come from one seed and have **no interval**: another seed gives other requests and \
             other figures, and a verdict near its target can turn. Run `clipsim run SCENARIO --replicas 5` (or set `scenario.replicas`) for a mean and 95 % interval of every \
             figure and a verdict per target that says when it is within noise.\n\n",
        ),
        Some(r) => o.push_str(&replicas_part(r)),
    }
    o.push_str(&assumptions_part(s));
    o
}

/// What the last sensitivity analysis found: the assumptions that could turn each verdict and
/// what to measure in production to pin them down; or how to run one.
fn assumptions_part(s: &Summary) -> String {
    let Some(n) = &s.sensitivity else {
        return "**Which assumptions could turn a verdict?** No sensitivity analysis of this scenario was found. \
                `clipsim sensitivity SCENARIO` varies each uncertain input (popularity, catalog size, viewer \
                throughput, edge cache size, prices, ...) between plausible ends (`scenarios/sensitivity/assumptions.toml`, \
                editable), finds the value at which each verdict turns and what to measure in production to pin \
                it down; this section then lists them (`docs/uncertainty.md`).\n\n"
            .to_string();
    };
    if !n.current {
        return format!(
            "**Which assumptions could turn a verdict?** The sensitivity analysis in `{}` is of another version of \
             this scenario's file; rerun `clipsim sensitivity` for this one.\n\n",
            n.file
        );
    }
    let mut o = format!(
        "**Which assumptions could turn a verdict?** From the sensitivity analysis in `{}` ({} assumptions, each \
         between its plausible ends, {} replicas per setting{}):\n\n",
        n.file,
        n.assumptions,
        n.replicas,
        n.all_pass.map_or(String::new(), |p| format!(
            "; every target is met in {} of plausible worlds drawn at once",
            interval(&p, share)
        ))
    );
    let turned: Vec<Target> =
        s.targets.iter().map(|t| t.name).filter(|t| n.flips.iter().any(|f| f.target == *t)).collect();
    if turned.is_empty() {
        o.push_str("No assumption turns any verdict within its plausible range.\n\n");
        return o;
    }
    o.push_str("| target | turned by | at about | to pin it down, measure |\n| --- | --- | --- | --- |\n");
    for f in &n.flips {
        o.push_str(&format!("| `{}` | {} (`{}`) | {} | {} |\n", f.target, f.assumption, f.key, f.at, f.measure));
    }
    let steady: Vec<String> =
        s.targets.iter().filter(|t| !turned.contains(&t.name)).map(|t| format!("`{}`", t.name)).collect();
    if !steady.is_empty() {
        o.push_str(&format!("\nNo assumption turns {} within its range.\n", steady.join(", ")));
    }
    o.push('\n');
    o
}

/// The replicas' part of the section.
fn replicas_part(r: &ReplicasSummary) -> String {
    let mut o = String::new();
    o.push_str(&intro(r));
    o.push_str(
        "| target | required | mean (95 % interval) | verdict (margin) | replicas meeting it: probability (95 % interval) |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for v in &r.targets {
        let value = v.value.as_ref().map_or("n/a".to_string(), |i| interval(i, |x| v.name.show(x)));
        let required =
            format!("{} {}", v.name.direction().replace("<=", "≤").replace(">=", "≥"), v.name.show(v.target));
        let share = interval(&v.probability, share);
        o.push_str(&format!(
            "| `{}` | {required} | {value} | {} | {} of {}: {share} |\n",
            v.name,
            verdict(v, true),
            v.replicas_meeting,
            r.count
        ));
    }
    o.push_str(
        "\n\"Within noise\": the interval contains the target, so another set of seeds could give the other \
         verdict; run more replicas before acting on it. Margins are the mean's distance from the target as a share \
         of it (for availability, of the unavailability it allows). The last column counts the replicas that meet \
         the target on their own, with a Wilson interval: for a one-month scenario, the chance that a month meets it, \
         the way an SLO is judged (with `[failures]` on, each replica is a month of independent failures).\n\n",
    );
    if let Some(a) = &r.availability_spread {
        let show = |x: f64| Target::Availability.show(x);
        o.push_str(&format!(
            "Availability over the {} replicas (for a one-month scenario, `clipsim run --months {}`: that many \
             independent months): worst {}, 1st percentile {}, 5th percentile {}, 25th percentile {}, median {}, \
             best {}.\n\n",
            r.count,
            r.count,
            show(a.min),
            show(a.p01),
            show(a.p05),
            show(a.p25),
            show(a.p50),
            show(a.max)
        ));
    }
    o.push_str("| figure | mean (95 % interval) |\n| --- | --- |\n");
    for (key, label) in FIGURES {
        if let Some(i) = r.figures.get(key) {
            o.push_str(&format!("| {label} | {} |\n", interval(i, |x| show_figure(key, x))));
        }
    }
    for (category, i) in &r.cost_usd {
        o.push_str(&format!("| bill: `{category}` | {} |\n", interval(i, format::usd)));
    }
    o.push('\n');
    o
}

fn intro(r: &ReplicasSummary) -> String {
    format!(
        "Over **{} replicas** (seeds {} to {}, common random numbers: replica r of any scenario runs seed + r), the \
         means and Student 95 % intervals of every figure, and each target judged on the mean. The rest of this \
         report is replica 0's (seed {}).\n\n",
        r.count, r.seeds[0], r.seeds[1], r.seeds[0]
    )
}

/// The console's lines for the replicas (empty for a single run).
pub fn console(s: &Summary) -> String {
    let Some(r) = &s.replicas else { return String::new() };
    let mut out = format!("over {} seeds ({} to {}), mean (95 % interval):\n", r.count, r.seeds[0], r.seeds[1]);
    for key in ["bill_usd", "cost_per_gb_usd"] {
        if let Some(i) = r.figures.get(key) {
            out.push_str(&format!("  {:<24} {}\n", key, interval(i, |x| show_figure(key, x))));
        }
    }
    for v in &r.targets {
        let value = v.value.as_ref().map_or("n/a".to_string(), |i| interval(i, |x| v.name.show(x)));
        out.push_str(&format!(
            "  {:<24} {} {:<12} mean {value}  {}, met by {} of {}\n",
            v.name,
            v.name.direction(),
            v.name.show(v.target),
            verdict(v, false),
            v.replicas_meeting,
            r.count
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A single run says it has no interval and how to get one; with replicas every target gets
    /// its verdict with the margin, "within noise" set apart.
    #[test]
    fn a_single_run_says_it_has_no_interval() {
        let single = section(&Summary::default());
        assert!(single.contains("no interval") && single.contains("--replicas 5"), "{single}");
        assert_eq!(console(&Summary::default()), "");
        let target = |verdict: &str, margin: f64| super::super::summary::ReplicaTarget {
            name: Target::CostPerGb,
            target: 0.1,
            value: Some(Interval { mean: 0.0995, ci95: Some([0.0989, 0.1001]) }),
            margin: Some(margin),
            verdict: verdict.into(),
            replicas_meeting: 2,
            probability: super::super::summary::wilson(2, 5),
        };
        let s = Summary {
            replicas: Some(ReplicasSummary {
                count: 5,
                seeds: [610, 614],
                targets: vec![target("within noise", 0.005), target("fail", -0.462)],
                ..Default::default()
            }),
            ..Default::default()
        };
        let text = section(&s);
        assert!(text.contains("Over **5 replicas** (seeds 610 to 614"), "{text}");
        assert!(text.contains("| $0.0995 ($0.0989 to $0.1001) | **within noise** (+0.5 %) |"), "{text}");
        assert!(text.contains("**fail** (-46.2 %) | 2 of 5: 40 % (12 % to 77 %) |"), "{text}");
        assert!(console(&s).contains("WITHIN NOISE (+0.5 %)"), "{}", console(&s));
    }
}

#[cfg(test)]
mod wilson_tests {
    use super::super::summary::wilson;

    /// The Wilson interval against published values (Newcombe 1998, and by hand): 0 of 10 is 0
    /// to 27.75 %, 5 of 10 is 23.66 to 76.34 %, 10 of 10 is 72.25 to 100 %.
    #[test]
    fn wilson_intervals_match_published_values() {
        let near = |k, n, lo: f64, hi: f64| {
            let [a, b] = wilson(k, n).ci95.unwrap();
            assert!((a - lo).abs() < 5e-5 && (b - hi).abs() < 5e-5, "{k} of {n}: {a} to {b}");
        };
        near(0, 10, 0.0, 0.2775);
        near(5, 10, 0.2366, 0.7634);
        near(10, 10, 0.7225, 1.0);
        assert_eq!(wilson(3, 4).mean, 0.75);
    }
}
