//! `clipsim compare`: runs side by side, like `infracost diff`: the inputs they differ in (from
//! the `scenario.toml` each report keeps), every figure with its difference from the first run,
//! and the targets' verdicts; as Markdown or JSON.

use super::format;
use super::summary::Summary;
use super::target::Target;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A run that cannot be compared: its `summary.json` and why.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// It cannot be read.
    #[error("{}: cannot read (is it a report directory?): {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// It is not a summary this clipsim writes.
    #[error("{}: not a clipsim summary: {error}", path.display())]
    NotASummary {
        /// The file.
        path: PathBuf,
        /// Why.
        error: serde_json::Error,
    },
}

/// The largest `summary.json` or `scenario.toml` read (a real one is a few kilobytes; this
/// stops `/dev/zero` or a wrong file from filling memory).
pub const FILE_BYTES_MAX: u64 = 16 << 20;

/// Reads `path`, at most [`FILE_BYTES_MAX`] bytes.
fn read_capped(path: &Path) -> Result<String, CompareError> {
    use std::io::Read;
    let read = |error| CompareError::Read { path: path.to_path_buf(), error };
    let mut text = String::new();
    let file = std::fs::File::open(path).map_err(read)?;
    file.take(FILE_BYTES_MAX + 1).read_to_string(&mut text).map_err(read)?;
    if text.len() as u64 > FILE_BYTES_MAX {
        return Err(read(std::io::Error::other(format!("larger than {} bytes", format::count(FILE_BYTES_MAX)))));
    }
    Ok(text)
}

/// One run to compare: its summary and, when its report kept it, the scenario it read.
pub struct Run {
    /// `A`, `B`, ... in the order given.
    pub label: String,
    /// The report directory.
    pub dir: PathBuf,
    /// Its `summary.json`.
    pub summary: Summary,
    /// Its `scenario.toml` as `key = value` lines, flattened (absent from reports written before
    /// clipsim kept it).
    pub inputs: Option<BTreeMap<String, String>>,
}

fn load(label: String, dir: &Path) -> Result<Run, CompareError> {
    let path = dir.join("summary.json");
    let text = read_capped(&path)?;
    let summary = serde_json::from_str(&text).map_err(|error| CompareError::NotASummary { path, error })?;
    let inputs = read_capped(&dir.join("scenario.toml")).ok().and_then(|t| flatten(&t));
    Ok(Run { label, dir: dir.to_path_buf(), summary, inputs })
}

/// Every value of a TOML document under its dotted key path (`regions[1].latency_ms.eu`), as
/// written, with the run's seed under `scenario.seed` as the run used it.
fn flatten(text: &str) -> Option<BTreeMap<String, String>> {
    fn walk(prefix: &str, item: &toml_edit::Item, out: &mut BTreeMap<String, String>) {
        let join = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
        match item {
            toml_edit::Item::Table(t) => t.iter().for_each(|(k, v)| walk(&join(k), v, out)),
            toml_edit::Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    t.iter().for_each(|(k, v)| walk(&format!("{prefix}[{i}].{k}"), v, out));
                }
            }
            toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => {
                t.iter().for_each(|(k, v)| walk(&join(k), &toml_edit::Item::Value(v.clone()), out))
            }
            toml_edit::Item::Value(v) => {
                out.insert(prefix.to_string(), v.clone().decorated("", "").to_string());
            }
            toml_edit::Item::None => {}
        }
    }
    let doc: toml_edit::DocumentMut = text.parse().ok()?;
    let mut out = BTreeMap::new();
    walk("", doc.as_item(), &mut out);
    Some(out)
}

/// One input that differs between run A and another run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputChange {
    /// The other run's label.
    pub run: String,
    /// The key path.
    pub key: String,
    /// A's value as written (`None`: A does not set it).
    pub a: Option<String>,
    /// The other run's.
    pub b: Option<String>,
}

/// What `run` differs from `a` in: its scenario's keys, and its seed.
fn input_changes(a: &Run, run: &Run) -> Option<Vec<InputChange>> {
    let (mut x, mut y) = (a.inputs.clone()?, run.inputs.clone()?);
    // The seed as run (`--seed` overrides the file's).
    x.insert("scenario.seed".into(), a.summary.seed.to_string());
    y.insert("scenario.seed".into(), run.summary.seed.to_string());
    let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
    Some(
        keys.into_iter()
            .filter(|k| x.get(*k) != y.get(*k))
            .map(|k| InputChange { run: run.label.clone(), key: k.clone(), a: x.get(k).cloned(), b: y.get(k).cloned() })
            .collect(),
    )
}

type Figure = fn(&Summary) -> Option<f64>;

/// The figures compared, in order: label, how to read it from a summary, how to show it.
const ROWS: [(&str, Figure, Kind); 20] = [
    ("cost: total", |s| s.cost_usd.get("total").copied(), Kind::Usd),
    ("cost: storage", |s| s.cost_usd.get("storage").copied(), Kind::Usd),
    ("cost: CDN egress", |s| s.cost_usd.get("cdn_egress").copied(), Kind::Usd),
    ("cost: origin egress", |s| s.cost_usd.get("origin_egress").copied(), Kind::Usd),
    ("cost: inter-region", |s| s.cost_usd.get("inter_region").copied(), Kind::Usd),
    ("cost: requests", |s| s.cost_usd.get("requests").copied(), Kind::Usd),
    ("cost per GB", |s| s.cost_per_gb_usd, Kind::UsdPerUnit),
    ("load P50 (ms)", |s| s.latency_ms.p50, Kind::Num),
    ("load P95 (ms)", |s| s.latency_ms.p95, Kind::Num),
    ("load P99 (ms)", |s| s.latency_ms.p99, Kind::Num),
    ("availability", |s| s.availability, Kind::Pct4),
    ("CDN edge hit rate", |s| s.hit_rates.cdn_cache, Kind::Pct),
    ("mirror hit rate", |s| s.hit_rates.mirror, Kind::Pct),
    ("mirror hit rate, top 100", |s| s.hit_rates.mirror_top100, Kind::Pct),
    ("requests", |s| Some(s.requests.total as f64), Kind::Int),
    ("failed requests", |s| Some(s.requests.failed as f64), Kind::Int),
    ("failovers", |s| Some(s.failovers as f64), Kind::Int),
    ("mirrors created", |s| Some(s.mirrors.created as f64), Kind::Int),
    ("mirrors at peak", |s| Some(s.mirrors.active_peak as f64), Kind::Int),
    ("bytes served", |s| Some(s.bytes_served as f64), Kind::Bytes),
];

/// Loads the runs in `dirs` (two or more report directories), labelled A, B, C, ...
pub fn load_runs(dirs: &[PathBuf]) -> Result<Vec<Run>, CompareError> {
    dirs.iter().enumerate().map(|(i, d)| load(label(i), d)).collect()
}

fn label(i: usize) -> String {
    match u8::try_from(i).ok().filter(|&n| n < 26) {
        Some(n) => char::from(b'A' + n).to_string(),
        None => format!("R{}", i + 1),
    }
}

/// The comparison as Markdown: the runs, the inputs they differ in, every figure with each run's
/// difference from A, the targets' verdicts.
pub fn compare_md(runs: &[Run]) -> String {
    let a = &runs[0];
    let mut o = String::new();
    let names: Vec<&str> = runs.iter().map(|r| r.summary.scenario.name.as_str()).collect();
    let _ = writeln!(o, "# {}\n", names.join(" vs "));
    for r in runs {
        let _ = writeln!(o, "{}: {} (seed {})  ", r.label, r.dir.display(), r.summary.seed);
    }
    let _ = writeln!(o, "\n## Inputs that differ from A\n");
    for r in &runs[1..] {
        match input_changes(a, r) {
            None => {
                let _ = writeln!(
                    o,
                    "- {}: not known (a report without `scenario.toml`, written by an older clipsim)",
                    r.label
                );
            }
            Some(changes) if changes.is_empty() && r.summary.scenario.sha256 == a.summary.scenario.sha256 => {
                let _ = writeln!(o, "- {}: none (the same scenario, overrides and seed)", r.label);
            }
            Some(changes) if changes.is_empty() => {
                let _ = writeln!(
                    o,
                    "- {}: none in the scenario file or seed; an `--env` file set something else (see the head of each `scenario.toml`)",
                    r.label
                );
            }
            Some(changes) => {
                for c in changes {
                    let show = |v: &Option<String>| {
                        v.as_deref().map_or("(not set)".to_string(), |v| format!("`{}`", short(v)))
                    };
                    let _ = writeln!(o, "- {}: `{}`: {} → {}", r.label, c.key, show(&c.a), show(&c.b));
                }
            }
        }
    }
    // Each other run: its value, `X - A` in the figure's unit (rates in percentage points), and
    // the change relative to A.
    let _ = write!(o, "\n## Figures\n\n| metric | A |");
    let mut rule = String::from("| --- | ---: |");
    for r in &runs[1..] {
        let _ = write!(o, " {l} | {l} - A | change |", l = r.label);
        rule.push_str(" ---: | ---: | ---: |");
    }
    let _ = writeln!(o, "\n{rule}");
    for (name, figure, kind) in ROWS {
        let x = figure(&a.summary);
        let fmt = |v: Option<f64>| format::or_na(v, |v| kind.fmt(v));
        let _ = write!(o, "| {name} | {} |", fmt(x));
        for r in &runs[1..] {
            let y = figure(&r.summary);
            let delta = match (x, y) {
                (Some(x), Some(y)) => kind.fmt_delta(y - x),
                _ => String::new(),
            };
            let change = match (x, y) {
                (Some(x), Some(y)) if x != 0.0 => format!("{:+.1} %", (y - x) / x.abs() * 100.0),
                _ => String::new(),
            };
            let _ = write!(o, " {} | {delta} | {change} |", fmt(y));
        }
        let _ = writeln!(o);
    }
    let _ = write!(o, "\n## Targets\n\n| target |");
    for r in runs {
        let _ = write!(o, " {} |", r.label);
    }
    let _ = writeln!(o, "\n| --- |{}", " --- |".repeat(runs.len()));
    for n in target_names(runs) {
        let _ = write!(o, "| {n} |");
        for r in runs {
            let _ = write!(o, " {} |", verdict(&r.summary, n));
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(
        o,
        "\nA single run has no interval: a difference smaller than the spread between seeds may be noise. \
         A sweep with replicas gives each figure's interval (`clipsim sweep`)."
    );
    o
}

/// A value on one line, at most 60 characters (free text and long lists are cut with `…`).
fn short(v: &str) -> String {
    let one_line = v.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(59) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

fn target_names(runs: &[Run]) -> Vec<Target> {
    let mut names: Vec<Target> = runs.iter().flat_map(|r| r.summary.targets.iter().map(|t| t.name)).collect();
    names.sort();
    names.dedup();
    names
}

fn verdict(s: &Summary, name: Target) -> &'static str {
    s.targets.iter().find(|t| t.name == name).map_or("-", |t| if t.pass { "pass" } else { "FAIL" })
}

/// The comparison as one JSON object: the runs, the inputs that differ from A (`null` when a
/// report kept no scenario), every figure's values (`null`: not applicable) and the verdicts.
pub fn compare_json(runs: &[Run]) -> serde_json::Value {
    use serde_json::json;
    let a = &runs[0];
    json!({
        "format_version": 1,
        "runs": runs.iter().map(|r| json!({
            "label": r.label,
            "dir": r.dir.display().to_string(),
            "scenario": r.summary.scenario.name,
            "sha256": r.summary.scenario.sha256,
            "seed": r.summary.seed,
        })).collect::<Vec<_>>(),
        "inputs_changed": runs[1..].iter().map(|r| (r.label.clone(), input_changes(a, r))).collect::<BTreeMap<_, _>>(),
        "figures": ROWS.iter().map(|(name, figure, _)| json!({
            "name": name,
            "values": runs.iter().map(|r| figure(&r.summary)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "targets": target_names(runs).into_iter().map(|n| json!({
            "name": n.to_string(),
            "verdicts": runs.iter().map(|r| verdict(&r.summary, n)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

#[derive(Clone, Copy)]
enum Kind {
    Usd,
    UsdPerUnit,
    Num,
    Pct,
    Pct4,
    Int,
    Bytes,
}

impl Kind {
    fn fmt(self, v: f64) -> String {
        match self {
            Kind::Usd => format::usd(v),
            Kind::UsdPerUnit => format::usd_per_unit(v),
            Kind::Num => format::fixed(v, 0),
            Kind::Pct => format::percent(v, 2),
            Kind::Pct4 => format::percent(v, 4),
            Kind::Int => format::count(v.round() as u64),
            Kind::Bytes => format::bytes(v),
        }
    }
    /// A difference: of rates in percentage points (`+6.17 pp`, not `+6.17 %`, which would read
    /// as relative).
    fn fmt_delta(self, d: f64) -> String {
        let s = match self {
            Kind::Pct => format!("{} pp", format::fixed(d.abs() * 100.0, 2)),
            Kind::Pct4 => format!("{} pp", format::fixed(d.abs() * 100.0, 4)),
            _ => self.fmt(d.abs()),
        };
        if d < 0.0 {
            format!("-{s}")
        } else {
            format!("+{s}")
        }
    }
}
