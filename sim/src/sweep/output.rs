//! The sweep's results, made from the point files: `sweep.csv`, `pareto.csv`, `pareto.svg` and
//! `sweep.md` with the recommendation. The same point files give the same bytes, whichever run,
//! thread count or shard split wrote them. Numbers use fixed decimals; an empty cell means "no
//! value" (one replica has no interval; a figure with no data).

use super::aggregate::{PointStats, Stat, Verdict, NEARLY};
use super::pareto::{self, ChartInput};
use super::run::{write_atomic, MANIFEST, POINTS_DIR};
use super::spec::{value_plain, Domain, Spec};
use super::SweepError;
use crate::report::format::{fixed, usd};
use crate::report::target::Target;
use std::fmt::Write as _;
use std::path::Path;

/// The files made from the point files.
pub const OUTPUTS: [&str; 4] = ["sweep.csv", "pareto.csv", "pareto.svg", "sweep.md"];

/// A figure of every point: CSV column stem, decimals, accessor.
type Figure = (&'static str, usize, fn(&PointStats) -> Option<Stat>);

const FIGURES: [Figure; 8] = [
    ("bill_usd", 4, |p| Some(p.bill)),
    ("cost_per_gb_usd", 6, |p| p.cost_per_gb),
    ("p50_load_ms", 3, |p| p.p50),
    ("p95_load_ms", 3, |p| p.p95),
    ("availability", 8, |p| p.availability),
    ("cdn_hit_rate", 6, |p| p.cdn_hit),
    ("mirror_hit_rate", 6, |p| p.mirror_hit),
    ("top100_mirror_hit_rate", 6, |p| p.top100_hit),
];

/// Targets in the order they first appear.
fn target_names(points: &[PointStats]) -> Vec<Target> {
    let mut names: Vec<Target> = Vec::new();
    for v in points.iter().flat_map(|p| &p.verdicts) {
        if !names.contains(&v.name) {
            names.push(v.name);
        }
    }
    names
}

fn csv_bytes(rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r).expect("writing CSV to memory cannot fail");
    }
    w.into_inner().expect("writing CSV to memory cannot fail")
}

fn axis_keys(spec: &Spec) -> Vec<String> {
    spec.axes.iter().map(|a| a.key.clone()).collect()
}

fn plain(raw_toml: &str) -> String {
    raw_toml.parse::<toml_edit::Value>().map_or_else(|_| raw_toml.to_string(), |v| value_plain(&v))
}

fn yes(b: bool) -> String {
    (if b { "yes" } else { "no" }).to_string()
}

/// `sweep.csv`: one row per point.
pub fn sweep_csv(spec: &Spec, points: &[PointStats], on_front: &[bool]) -> Vec<u8> {
    let targets = target_names(points);
    let mut header = vec!["point".to_string()];
    header.extend(axis_keys(spec));
    header.push("replicas".into());
    for (stem, _, _) in FIGURES {
        header.extend([format!("{stem}_mean"), format!("{stem}_ci95_low"), format!("{stem}_ci95_high")]);
    }
    header.extend(targets.iter().map(|t| format!("target_{t}")));
    header.extend(["all_targets".into(), "nearly".into(), "pareto".into()]);
    let mut rows = vec![header];
    for (p, front) in points.iter().zip(on_front) {
        let mut row = vec![p.index.to_string()];
        row.extend(p.assignment.iter().map(|(_, v)| plain(v)));
        row.push(p.replicas.to_string());
        for (_, d, f) in FIGURES {
            match f(p) {
                Some(s) => {
                    row.push(fixed(s.mean, d));
                    let (lo, hi) = s.ci95.map_or((String::new(), String::new()), |(l, h)| (fixed(l, d), fixed(h, d)));
                    row.extend([lo, hi]);
                }
                None => row.extend([String::new(), String::new(), String::new()]),
            }
        }
        for t in &targets {
            row.push(p.verdicts.iter().find(|v| v.name == *t).map_or(String::new(), |v| pass_word(v.pass).into()));
        }
        row.extend([pass_word(p.all_pass).into(), yes(p.nearly), yes(*front)]);
        rows.push(row);
    }
    csv_bytes(rows)
}

fn pass_word(pass: bool) -> &'static str {
    if pass {
        "pass"
    } else {
        "fail"
    }
}

/// The front's points, cheapest first (ties by point index).
fn front_order(points: &[PointStats], on_front: &[bool]) -> Vec<usize> {
    let mut v: Vec<usize> = (0..points.len()).filter(|&i| on_front[i]).collect();
    v.sort_by(|&a, &b| {
        points[a].bill_sum_nanos.cmp(&points[b].bill_sum_nanos).then(points[a].index.cmp(&points[b].index))
    });
    v
}

/// `pareto.csv`: the front, cheapest first.
pub fn pareto_csv(spec: &Spec, points: &[PointStats], on_front: &[bool]) -> Vec<u8> {
    let mut header = vec!["point".to_string()];
    header.extend(axis_keys(spec));
    for stem in ["bill_usd", "p95_load_ms", "availability"] {
        header.extend([format!("{stem}_mean"), format!("{stem}_ci95_low"), format!("{stem}_ci95_high")]);
    }
    header.push("all_targets".into());
    let mut rows = vec![header];
    for i in front_order(points, on_front) {
        let p = &points[i];
        let mut row = vec![p.index.to_string()];
        row.extend(p.assignment.iter().map(|(_, v)| plain(v)));
        for (s, d) in [(Some(p.bill), 4), (p.p95, 3), (p.availability, 8)] {
            match s {
                Some(s) => {
                    row.push(fixed(s.mean, d));
                    let (lo, hi) = s.ci95.map_or((String::new(), String::new()), |(l, h)| (fixed(l, d), fixed(h, d)));
                    row.extend([lo, hi]);
                }
                None => row.extend([String::new(), String::new(), String::new()]),
            }
        }
        row.push(pass_word(p.all_pass).into());
        rows.push(row);
    }
    csv_bytes(rows)
}

fn show_stat(name: Target, s: Option<Stat>) -> String {
    match s {
        None => "n/a".into(),
        Some(Stat { mean, ci95: None }) => name.show(mean),
        Some(Stat { mean, ci95: Some((lo, hi)) }) => {
            format!("{} ({} to {})", name.show(mean), name.show(lo), name.show(hi))
        }
    }
}

fn show_margin(v: &Verdict) -> String {
    v.margin.map_or("n/a".into(), |m| format!("{}{} %", if m >= 0.0 { "+" } else { "" }, fixed(m * 100.0, 1)))
}

fn setting(p: &PointStats) -> String {
    if p.assignment.is_empty() {
        return "(the base scenario)".into();
    }
    p.assignment.iter().map(|(k, v)| format!("`{k} = {v}`")).collect::<Vec<_>>().join(", ")
}

fn bill_text(p: &PointStats) -> String {
    match p.bill.ci95 {
        Some((lo, hi)) => format!("{} ({} to {})", usd(p.bill.mean), usd(lo), usd(hi)),
        None => usd(p.bill.mean),
    }
}

fn domain_text(d: &Domain) -> String {
    match d {
        Domain::Values(vs) => vs.iter().map(super::spec::value_text).collect::<Vec<_>>().join(", "),
        Domain::Range { from, to, steps, log, integer } => {
            let n = |x: &f64| if *integer { format!("{}", *x as i64) } else { format!("{x}") };
            let spacing = if *log { "geometric" } else { "even" };
            match steps {
                Some(s) => format!("{} to {}, {s} values, {spacing} spacing", n(from), n(to)),
                None => format!("{} to {}, sampled ({})", n(from), n(to), if *log { "log-uniform" } else { "uniform" }),
            }
        }
    }
}

/// A sweep of at most this many points lists every point in `sweep.md`.
pub const EVERY_POINT_MAX: usize = 50;

/// The table of every point, cheapest first: bill, cost per GB, P50, P95, availability and the
/// top-100 mirror hit rate with their intervals, and the targets missed.
fn every_point(points: &[PointStats], rec: Option<usize>) -> String {
    let mut md = String::from(
        "\n## Every point, cheapest first\n\n| point | setting | bill | cost per GB | P50 load | P95 load | availability | \
         top-100 mirror hit | targets missed |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        points[a].bill_sum_nanos.cmp(&points[b].bill_sum_nanos).then(points[a].index.cmp(&points[b].index))
    });
    for i in order {
        let p = &points[i];
        let missed: Vec<String> = p.verdicts.iter().filter(|v| !v.pass).map(|v| format!("`{}`", v.name)).collect();
        let mark = if rec == Some(i) { " (recommended)" } else { "" };
        let _ = writeln!(
            md,
            "| {}{mark} | {} | {} | {} | {} | {} | {} | {} | {} |",
            p.index,
            setting(p),
            bill_text(p),
            show_stat(Target::CostPerGb, p.cost_per_gb),
            show_stat(Target::P50LoadMs, p.p50),
            show_stat(Target::P95LoadMs, p.p95),
            show_stat(Target::Availability, p.availability),
            show_stat(Target::Top100MirrorHitRate, p.top100_hit),
            if missed.is_empty() { "none".to_string() } else { missed.join(", ") }
        );
    }
    md
}

/// The recommended point: the cheapest (exact mean bill, then lowest index) meeting every target.
pub fn recommended(points: &[PointStats]) -> Option<usize> {
    (0..points.len()).filter(|&i| points[i].all_pass).min_by(|&a, &b| {
        points[a].bill_sum_nanos.cmp(&points[b].bill_sum_nanos).then(points[a].index.cmp(&points[b].index))
    })
}

/// The clipsim builds that simulated the points, in order of first appearance.
pub fn builds(points: &[PointStats]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in points {
        if !out.contains(&p.build) {
            out.push(p.build.clone());
        }
    }
    out
}

/// `sweep.md`.
pub fn sweep_md(spec: &Spec, points: &[PointStats], on_front: &[bool], has_chart: bool) -> String {
    let mut md = String::new();
    let k = spec.replicas;
    let _ = writeln!(md, "# Sweep `{}`\n", spec.name);
    if let Some(d) = &spec.description {
        let _ = writeln!(md, "{d}\n");
    }
    let seeds = if k == 1 {
        format!("seed {}", spec.seed)
    } else {
        format!("seeds {} to {}", spec.seed, spec.seed + u64::from(k) - 1)
    };
    let _ = writeln!(
        md,
        "Base scenario `{}` (\"{}\"); {} design, **{} points × {k} replica{}** ({seeds}). Replica r of every point \
         runs seed {} + r (common random numbers): every point sees the same requests, so differences between points \
         come from the parameters, not from sampling noise. Figures are means over the replicas{}. Sweep hash `{}`.\n",
        spec.base_path.display(),
        spec.base_name,
        spec.design.name(),
        points.len(),
        if k == 1 { "" } else { "s" },
        spec.seed,
        if k > 1 { " with Student 95 % confidence intervals in parentheses" } else { "" },
        &spec.hash[..16],
    );
    let builds = builds(points);
    if builds.len() > 1 {
        let _ = writeln!(
            md,
            "**Warning: the point files come from {} different builds** ({}): a sweep resumed or merged \
             across builds compares results of different simulators. Rerun it into a fresh directory.\n",
            builds.len(),
            builds.join("; ")
        );
    }
    md.push_str("| axis | values |\n| --- | --- |\n");
    for a in &spec.axes {
        let _ = writeln!(md, "| `{}` | {} |", a.key, domain_text(&a.domain));
    }
    if !spec.scale.is_empty() {
        let set: Vec<String> =
            spec.scale.iter().map(|(k, _, v)| format!("`{k} = {}`", super::spec::value_text(v))).collect();
        let _ = writeln!(md, "\nSet at every point (`[scale]`): {}.", set.join(", "));
    }

    md.push_str("\n## Recommendation\n\n");
    let rec = recommended(points);
    match rec {
        Some(i) => {
            let p = &points[i];
            let _ = writeln!(
                md,
                "**Point {}**: {}. Bill {} for the simulated period, cost per GB {}; every target met.\n",
                p.index,
                setting(p),
                bill_text(p),
                p.cost_per_gb.map_or("n/a".into(), |c| Target::CostPerGb.show(c.mean)),
            );
            md.push_str("| target | required | mean | margin | verdict |\n| --- | --- | --- | --- | --- |\n");
            for v in &p.verdicts {
                let _ = writeln!(
                    md,
                    "| `{}` | {} {} | {} | {} | {} |",
                    v.name,
                    v.name.direction(),
                    v.name.show(v.target),
                    show_stat(v.name, v.stat),
                    show_margin(v),
                    if v.within_noise { "pass, within noise" } else { "pass" }
                );
            }
            md.push_str(
                "\nMargin: how far the mean is from the target, as a share of the target (for availability, of the \
                 unavailability the target allows). \"Within noise\": the 95 % interval contains the target, so another \
                 set of seeds could give the other verdict.\n",
            );
        }
        None => md.push_str(
            "**No point meets every target.** The nearest points and the best value of each target are below.\n",
        ),
    }

    if points.len() <= EVERY_POINT_MAX {
        md.push_str(&every_point(points, rec));
    }

    md.push_str("\n## Points that nearly meet the targets\n\n");
    let _ = writeln!(
        md,
        "A point *nearly* meets the targets when it misses at least one target and misses each by less than {} % of \
         the target value (for availability: its unavailability, 1 − availability, is less than {} % of what the target \
         allows), judged on the means. \"Within noise\": the miss is inside the 95 % interval, so another set of \
         seeds could meet the target.\n",
        fixed(NEARLY * 100.0, 0),
        fixed((1.0 + NEARLY) * 100.0, 0)
    );
    let mut nearly: Vec<usize> = (0..points.len()).filter(|&i| points[i].nearly).collect();
    nearly.sort_by(|&a, &b| {
        points[a].bill_sum_nanos.cmp(&points[b].bill_sum_nanos).then(points[a].index.cmp(&points[b].index))
    });
    if nearly.is_empty() {
        md.push_str("None.\n");
    } else {
        md.push_str("| point | setting | bill | missed targets (mean, margin) |\n| --- | --- | --- | --- |\n");
        for &i in nearly.iter().take(NEARLY_SHOWN) {
            let p = &points[i];
            let missed: Vec<String> = p
                .verdicts
                .iter()
                .filter(|v| !v.pass)
                .map(|v| {
                    format!(
                        "`{}` {} {}: {}, {}{}",
                        v.name,
                        v.name.direction(),
                        v.name.show(v.target),
                        show_stat(v.name, v.stat.map(|s| Stat { ci95: None, ..s })),
                        show_margin(v),
                        if v.within_noise { " (within noise)" } else { "" }
                    )
                })
                .collect();
            let _ = writeln!(md, "| {} | {} | {} | {} |", p.index, setting(p), usd(p.bill.mean), missed.join("; "));
        }
        if nearly.len() > NEARLY_SHOWN {
            let _ = writeln!(md, "\n{} more in `sweep.csv` (column `nearly`).", nearly.len() - NEARLY_SHOWN);
        }
    }

    md.push_str("\n## Each target across the sweep\n\n");
    md.push_str("| target | required | points meeting it | best mean | at point |\n| --- | --- | --- | --- | --- |\n");
    for name in target_names(points) {
        let vs: Vec<(&PointStats, &Verdict)> =
            points.iter().filter_map(|p| p.verdicts.iter().find(|v| v.name == name).map(|v| (p, v))).collect();
        let Some((_, first)) = vs.first() else { continue };
        let best = vs.iter().filter_map(|(p, v)| v.stat.map(|s| (p.index, s.mean))).min_by(|a, b| {
            let ord = if name.at_most() { a.1.total_cmp(&b.1) } else { b.1.total_cmp(&a.1) };
            ord.then(a.0.cmp(&b.0))
        });
        let _ = writeln!(
            md,
            "| `{name}` | {} {} | {} of {} | {} | {} |",
            name.direction(),
            name.show(first.target),
            vs.iter().filter(|(_, v)| v.pass).count(),
            vs.len(),
            best.map_or("n/a".into(), |(_, m)| name.show(m)),
            best.map_or("n/a".into(), |(i, _)| i.to_string()),
        );
    }

    md.push_str("\n## Pareto front: bill against P95 load time\n\n");
    md.push_str(
        "Points for which no other point is both as cheap and as fast (mean bill and mean P95 load time, one of them \
         strictly better), cheapest first.\n\n",
    );
    if has_chart {
        md.push_str("![Bill against P95 load time](pareto.svg)\n\n");
    }
    md.push_str(
        "| point | setting | bill | P95 load | availability | every target |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for i in front_order(points, on_front) {
        let p = &points[i];
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            p.index,
            setting(p),
            usd(p.bill.mean),
            p.p95.map_or("n/a".into(), |s| Target::P95LoadMs.show(s.mean)),
            p.availability.map_or("n/a".into(), |s| Target::Availability.show(s.mean)),
            if p.all_pass { "yes" } else { "no" },
        );
    }

    md.push_str("\n## Files\n\n");
    md.push_str(
        "- `sweep.csv`: one row per point: its values, the mean and 95 % interval of the bill, cost per GB, P50/P95 \
         load time, availability and hit rates, pass/fail per target (on the mean), `nearly` and `pareto`.\n\
         - `pareto.csv`, `pareto.svg`: the front.\n\
         - `points/NNNNNN.json`: each point's replicas with their full `summary.json`; `sweep.json`: the sweep \
         and base scenario texts.\n",
    );
    let _ = writeln!(
        md,
        "\n## Reproduce\n\nSimulated by clipsim {}.\n\n```sh\nclipsim sweep {} --out DIR\n```",
        builds.join(", "),
        spec.path.display()
    );
    md
}

/// How many nearly-passing points `sweep.md` lists.
const NEARLY_SHOWN: usize = 15;

/// Writes the four result files into `out` (each atomically).
pub fn write_outputs(out: &Path, spec: &Spec, points: &[PointStats], tag: &str) -> Result<(), SweepError> {
    let on_front = pareto::front(points);
    let rec = recommended(points);
    let availability_target =
        points.iter().flat_map(|p| &p.verdicts).find(|v| v.name == Target::Availability).map(|v| v.target);
    let svg = pareto::chart(&ChartInput {
        name: &spec.name,
        points,
        on_front: &on_front,
        recommended: rec,
        availability_target,
    });
    write_atomic(&out.join("sweep.csv"), &sweep_csv(spec, points, &on_front), tag)?;
    write_atomic(&out.join("pareto.csv"), &pareto_csv(spec, points, &on_front), tag)?;
    match &svg {
        Some(s) => write_atomic(&out.join("pareto.svg"), s.as_bytes(), tag)?,
        None => {
            let p = out.join("pareto.svg");
            if p.exists() {
                std::fs::remove_file(&p).map_err(|error| SweepError::Io { path: p.clone(), error })?;
            }
        }
    }
    write_atomic(&out.join("sweep.md"), sweep_md(spec, points, &on_front, svg.is_some()).as_bytes(), tag)
}

/// Removes a sweep's files from `out` (for `--force` over another sweep): the manifest, the
/// point files and the results. Anything else is left alone.
pub fn remove_outputs(out: &Path) -> Result<(), SweepError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| SweepError::Io { path, error }
    };
    let pdir = out.join(POINTS_DIR);
    if pdir.exists() {
        std::fs::remove_dir_all(&pdir).map_err(io(&pdir))?;
    }
    for f in OUTPUTS.iter().chain(&[MANIFEST]) {
        let p = out.join(f);
        if p.exists() {
            std::fs::remove_file(&p).map_err(io(&p))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::{HitRates, Latency, Summary, TargetResult};
    use crate::sweep::aggregate::point_stats;
    use crate::sweep::run::{Assigned, PointFile, ReplicaRecord};
    use crate::sweep::spec;

    /// A point file with one replica per (bill in dollars, cost per GB, build commit).
    fn point(index: usize, threshold: &str, replicas: &[(i64, f64, &str)]) -> PointStats {
        let pf = PointFile::new(
            "h".into(),
            index,
            vec![Assigned { key: "mirror.replication_threshold".into(), value: threshold.into() }],
            replicas
                .iter()
                .enumerate()
                .map(|(r, &(bill, cpg, commit))| ReplicaRecord {
                    replica: r as u32,
                    seed: 610 + r as u64,
                    summary: Summary {
                        version: "0.1.0".into(),
                        git_commit: commit.into(),
                        cost_nanodollars: [("total".to_string(), bill * 1_000_000_000)].into(),
                        cost_per_gb_usd: Some(cpg),
                        latency_ms: Latency { p50: Some(500.0), p95: Some(1400.0 + bill as f64), ..Default::default() },
                        availability: Some(1.0),
                        hit_rates: HitRates { cdn_cache: Some(0.5), mirror: Some(0.1), mirror_top100: Some(0.7) },
                        targets: vec![TargetResult {
                            name: Target::CostPerGb,
                            target: 0.1,
                            actual: Some(cpg),
                            pass: cpg <= 0.1,
                            direction: "<=".into(),
                        }],
                        ..Default::default()
                    },
                })
                .collect(),
        );
        point_stats(&pf).unwrap()
    }

    #[test]
    fn the_report_recommends_the_cheapest_passing_point_and_lists_near_misses() {
        let sp = spec::from_texts(
            Path::new("s.toml"),
            "[sweep]\nname = \"t\"\nbase = \"b.toml\"\nreplicas = 2\n[[axes]]\nkey = \"mirror.replication_threshold\"\nvalues = [1, 2, 3]\n",
            Path::new("b.toml"),
            "[scenario]\nname = \"b\"\n",
        )
        .unwrap();
        let pts = vec![
            point(0, "1", &[(900, 0.104, "a"), (910, 0.106, "a")]), // cheapest, misses by 5 %: nearly
            point(1, "2", &[(1000, 0.095, "a"), (1010, 0.097, "a")]), // passes
            point(2, "3", &[(1100, 0.090, "b"), (1100, 0.091, "b")]), // passes, dearer; another build
        ];
        let front = pareto::front(&pts);
        assert_eq!(front, vec![true, false, false]);
        assert_eq!(recommended(&pts), Some(1));
        let md = sweep_md(&sp, &pts, &front, true);
        assert!(md.contains("**Point 1**: `mirror.replication_threshold = 2`. Bill $1,005.00 ("), "{md}");
        assert!(
            md.contains("| `cost_per_gb` | <= $0.1000 | $0.0960 ($0.0833 to $0.1087) | +4.0 % | pass, within noise |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| 0 | `mirror.replication_threshold = 1` | $905.00 | `cost_per_gb` <= $0.1000: $0.1050, -5.0 % (within noise) |"
            ),
            "{md}"
        );
        assert!(md.contains("**Warning: the point files come from 2 different builds**"), "{md}");
        let csv = String::from_utf8(sweep_csv(&sp, &pts, &front)).unwrap();
        let row1 = csv.lines().nth(2).unwrap();
        assert!(row1.starts_with("1,2,2,1005.0000,941.4690,1068.5310,0.096000,"), "{row1}");
        assert!(row1.ends_with(",pass,pass,no,no"), "{row1}");
    }

    #[test]
    fn money_and_fixed_formatting() {
        assert_eq!(usd(1234.567), "$1,234.57");
        assert_eq!(usd(12.0), "$12.00");
        assert_eq!(usd(1_000_000.0), "$1,000,000.00");
        assert_eq!(usd(-5.5), "-$5.50");
        assert_eq!(fixed(-0.00001, 3), "0.000");
        assert_eq!(plain("\"1h\""), "1h");
        assert_eq!(plain("500"), "500");
    }
}
