//! `clipsim compare`: two runs side by side, like `infracost diff`.

use super::format;
use super::summary::Summary;
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

fn load(dir: &Path) -> Result<Summary, CompareError> {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).map_err(|error| CompareError::Read { path: path.clone(), error })?;
    serde_json::from_str(&text).map_err(|error| CompareError::NotASummary { path, error })
}

type Figure = fn(&Summary) -> Option<f64>;

/// The comparison as a Markdown table.
pub fn compare_dirs(a: &Path, b: &Path) -> Result<String, CompareError> {
    let (sa, sb) = (load(a)?, load(b)?);
    let mut o = String::new();
    let _ = writeln!(o, "# {} vs {}\n", sa.scenario.name, sb.scenario.name);
    let _ = writeln!(o, "A: {}  \nB: {}\n", a.display(), b.display());
    // `B - A` in the metric's unit (rates in percentage points); `change` relative to A.
    let _ = writeln!(o, "| metric | A | B | B - A | change |\n| --- | ---: | ---: | ---: | ---: |");
    let rows: [(&str, Figure, Kind); 20] = [
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
    for (label, figure, kind) in rows {
        let (x, y) = (figure(&sa), figure(&sb));
        let fmt = |v: Option<f64>| format::or_na(v, |v| kind.fmt(v));
        let delta = match (x, y) {
            (Some(x), Some(y)) => kind.fmt_delta(y - x),
            _ => String::new(),
        };
        let change = match (x, y) {
            (Some(x), Some(y)) if x != 0.0 => format!("{:+.1} %", (y - x) / x.abs() * 100.0),
            _ => String::new(),
        };
        let _ = writeln!(o, "| {label} | {} | {} | {delta} | {change} |", fmt(x), fmt(y));
    }
    let _ = writeln!(o, "\n| target | A | B |\n| --- | --- | --- |");
    let mut names: Vec<_> = sa.targets.iter().chain(&sb.targets).map(|t| t.name).collect();
    names.sort();
    names.dedup();
    for n in names {
        let verdict =
            |s: &Summary| s.targets.iter().find(|t| t.name == n).map_or("-", |t| if t.pass { "pass" } else { "FAIL" });
        let _ = writeln!(o, "| {n} | {} | {} |", verdict(&sa), verdict(&sb));
    }
    Ok(o)
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
