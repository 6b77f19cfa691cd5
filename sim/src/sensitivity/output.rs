//! The files of a sensitivity analysis: `sensitivity.json` (everything, for `clipsim run`'s "How
//! sure is this?" and for scripts), `sensitivity.md` (for the planner), one tornado chart per
//! target and, with the global variant, `global.csv` (one row per world). Each is written
//! atomically.

use super::{tornado, Report, TargetAt};
use crate::report::summary::Interval;
use crate::sweep::run::{tmp_tag, write_atomic};
use crate::sweep::SweepError;
use std::path::Path;

fn interval(i: &Interval, show: impl Fn(f64) -> String) -> String {
    match i.ci95 {
        Some([lo, hi]) => format!("{} ({} to {})", show(i.mean), show(lo), show(hi)),
        None => show(i.mean),
    }
}

fn value(t: &TargetAt) -> String {
    t.value.as_ref().map_or("n/a".into(), |v| interval(v, |x| t.target.show(x)))
}

fn mean(t: &TargetAt) -> String {
    t.value.as_ref().map_or("n/a".into(), |v| t.target.show(v.mean))
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "pass"
    } else {
        "**fail**"
    }
}

/// `sensitivity.md`.
pub fn markdown(r: &Report) -> String {
    let mut o = format!("# Sensitivity of {}\n\n", r.scenario);
    o.push_str(&format!(
        "Scenario `{}`, assumptions `{}`. Every setting ran **{} replicas** (seeds {} to {}, common random numbers: \
         every setting sees the same requests), each target judged on their mean; {} runs in all. Method: \
         `docs/uncertainty.md`.\n\n",
        r.scenario_file, r.assumptions_file, r.replicas, r.seeds[0], r.seeds[1], r.runs
    ));
    o.push_str("## The scenario as written\n\n| target | required | mean (95 % interval) | verdict |\n| --- | --- | --- | --- |\n");
    for t in &r.base {
        o.push_str(&format!(
            "| `{}` | {} {} | {} | {} |\n",
            t.target,
            t.target.direction().replace("<=", "≤").replace(">=", "≥"),
            t.target.show(t.required),
            value(t),
            verdict(t.pass)
        ));
    }
    o.push_str("\n## What could turn each verdict\n\n");
    for (ti, t) in r.base.iter().enumerate() {
        let flips: Vec<_> = r.flips.iter().filter(|f| f.target == t.target).collect();
        o.push_str(&format!("**`{}`** ({} at the scenario as written): ", t.target, verdict(t.pass).replace("**", "")));
        if flips.is_empty() {
            o.push_str("no assumption turns it anywhere in its plausible range");
            if let Some(a) = widest(r, ti).filter(|a| swing(a, ti) > 0.0) {
                o.push_str(&format!(
                    "; the widest effect is {}'s, {} to {}",
                    a.name,
                    mean(&a.at_low[ti]),
                    mean(&a.at_high[ti])
                ));
            }
            o.push_str(if r.assumptions.iter().any(|a| swing(a, ti) > 0.0) {
                ".\n\n"
            } else {
                " (none moves it at all).\n\n"
            });
            continue;
        }
        o.push_str(&format!("turned by {} of the {} assumptions.\n\n", flips.len(), r.assumptions.len()));
        o.push_str(
            "| assumption | verdict turns at | passes | what to measure in production |\n| --- | --- | --- | --- |\n",
        );
        for f in flips {
            let side = match f.pass_at {
                [true, false] => format!("at {} and below", f.between[0]),
                [false, true] => format!("at {} and above", f.between[1]),
                _ => "-".into(),
            };
            o.push_str(&format!(
                "| {} (`{}`) | about {} (between {} and {}) | {side} | {} |\n",
                f.assumption, f.key, f.at, f.between[0], f.between[1], f.measure
            ));
        }
        o.push('\n');
    }
    o.push_str(&format!(
        "A turning point is found by bisection between two settings with different verdicts ({} halvings, each a \
         {}-replica run), so it is known to within the last bracket shown; near it the verdict is within noise.\n\n",
        r.bisect_steps, r.replicas
    ));
    o.push_str("## Tornado charts\n\n");
    for t in &r.base {
        if t.value.is_some() {
            o.push_str(&format!(
                "![What moves {0}](tornado-{0}.svg)\n\n*{0}: each bar is one assumption from its low end (blue) to its \
                 high end (orange), everything else as written; the dashed line is the target. A bar across it can \
                 turn the verdict.*\n\n",
                t.target
            ));
        }
    }
    o.push_str("## One at a time: every target at each end\n\n");
    o.push_str("| assumption | low | as written | high |");
    for t in &r.base {
        o.push_str(&format!(" `{}` low → high |", t.target));
    }
    o.push_str("\n| --- | --- | --- | --- |");
    o.push_str(&" --- |".repeat(r.base.len()));
    o.push('\n');
    for a in &r.assumptions {
        o.push_str(&format!("| {} | {} | {} | {} |", a.name, a.low, a.base.as_deref().unwrap_or("default"), a.high));
        for (l, h) in a.at_low.iter().zip(&a.at_high) {
            let mark = |t: &TargetAt| if t.pass { mean(t) } else { format!("{} ✗", mean(t)) };
            o.push_str(&format!(" {} → {} |", mark(l), mark(h)));
        }
        o.push('\n');
    }
    o.push_str("\n✗: the target is missed at that end.\n\n");
    if let Some(g) = &r.global {
        o.push_str(&format!(
            "## Across plausible worlds\n\n{} worlds, each with every assumption drawn at once from its range (a Latin \
             hypercube, sample seed {}; log-spaced assumptions drawn geometrically), {} replicas each. The share of \
             worlds in which each target passes, with a Wilson 95 % interval, and the assumptions that move it most \
             (Spearman rank correlation of the assumption's value with the target's mean across worlds, only \
             where it is significant at 5 %: |rho| above 1.96 / sqrt(worlds - 1)). Rows: `global.csv`.\n\n| target | worlds passing | share (95 % interval) | moved most by |\n| --- | --- | --- | --- |\n",
            g.worlds, g.sample_seed, r.replicas
        ));
        for t in &g.targets {
            let drivers: Vec<String> = t.drivers.iter().map(|(n, rho)| format!("{n} ({rho:+.2})")).collect();
            o.push_str(&format!(
                "| `{}` | {} of {} | {} | {} |\n",
                t.target,
                t.passing,
                g.worlds,
                interval(&t.probability, |x| format!("{:.0} %", 100.0 * x)),
                drivers.join(", ")
            ));
        }
        o.push_str(&format!(
            "| every target | {} of {} | {} | |\n\n",
            g.all_pass,
            g.worlds,
            interval(&g.all_pass_probability, |x| format!("{:.0} %", 100.0 * x))
        ));
    }
    if !r.skipped.is_empty() {
        o.push_str("## Not varied\n\n");
        for s in &r.skipped {
            o.push_str(&format!("- {} (`{}`): {}.\n", s.name, s.key, s.reason));
        }
        o.push('\n');
    }
    o.push_str("## The assumptions and their sources\n\n| assumption | key | low | high | source | to pin it down, measure |\n| --- | --- | --- | --- | --- | --- |\n");
    for a in &r.assumptions {
        o.push_str(&format!("| {} | `{}` | {} | {} | {} | {} |\n", a.name, a.key, a.low, a.high, a.source, a.measure));
    }
    o
}

/// The assumption with the widest effect on target `t`.
fn widest(r: &Report, t: usize) -> Option<&super::AssumptionResult> {
    r.assumptions.iter().max_by(|a, b| swing(a, t).total_cmp(&swing(b, t)))
}

/// How far apart an assumption's two ends put target `t`'s mean.
fn swing(a: &super::AssumptionResult, t: usize) -> f64 {
    match (a.at_low[t].value.as_ref(), a.at_high[t].value.as_ref()) {
        (Some(l), Some(h)) => (h.mean - l.mean).abs(),
        _ => 0.0,
    }
}

/// `global.csv`: one row per world, each varied assumption's value, each target's mean and
/// whether it passes.
pub fn global_csv(r: &Report) -> Option<Vec<u8>> {
    let g = r.global.as_ref()?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = vec!["world".into()];
    head.extend(r.varied.iter().cloned());
    for t in &r.base {
        head.push(t.target.key().to_string());
        head.push(format!("{}_pass", t.target.key()));
    }
    w.write_record(&head).ok()?;
    for (i, row) in g.rows.iter().enumerate() {
        let mut rec = vec![i.to_string()];
        rec.extend(row.values.iter().cloned());
        for (m, p) in row.means.iter().zip(&row.pass) {
            rec.push(m.map_or(String::new(), |m| format!("{m}")));
            rec.push(p.to_string());
        }
        w.write_record(&rec).ok()?;
    }
    w.into_inner().ok()
}

/// Writes every file into `out` (created if needed).
pub fn write(out: &Path, r: &Report) -> Result<(), SweepError> {
    std::fs::create_dir_all(out).map_err(|error| SweepError::Io { path: out.to_path_buf(), error })?;
    let tag = tmp_tag(None);
    let json = serde_json::to_string_pretty(r).expect("a report serializes") + "\n";
    write_atomic(&out.join("sensitivity.json"), json.as_bytes(), &tag)?;
    for (i, t) in r.base.iter().enumerate() {
        if let Some(svg) = tornado::chart(r, i) {
            write_atomic(&out.join(tornado::file_name(t.target)), svg.as_bytes(), &tag)?;
        }
    }
    if let Some(csv) = global_csv(r) {
        write_atomic(&out.join("global.csv"), &csv, &tag)?;
    }
    write_atomic(&out.join("sensitivity.md"), markdown(r).as_bytes(), &tag)?;
    Ok(())
}
