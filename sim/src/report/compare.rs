//! `clipsim compare`: two runs side by side, like `infracost diff`.

use anyhow::{Context, Result};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

fn load(dir: &Path) -> Result<Value> {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read (is it a report directory?)", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a clipsim summary", path.display()))
}

fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

/// The comparison as a Markdown table.
pub fn compare_dirs(a: &Path, b: &Path) -> Result<String> {
    let (va, vb) = (load(a)?, load(b)?);
    let name = |v: &Value| get(v, "scenario.name").and_then(Value::as_str).unwrap_or("?").to_string();
    let mut o = String::new();
    let _ = writeln!(o, "# {} vs {}\n", name(&va), name(&vb));
    let _ = writeln!(o, "A: {}  \nB: {}\n", a.display(), b.display());
    // `B - A` in the metric's unit (rates in percentage points); `change` relative to A.
    let _ = writeln!(o, "| metric | A | B | B - A | change |\n| --- | ---: | ---: | ---: | ---: |");
    let rows: [(&str, &str, Kind); 20] = [
        ("cost: total", "cost_usd.total", Kind::Usd),
        ("cost: storage", "cost_usd.storage", Kind::Usd),
        ("cost: CDN egress", "cost_usd.cdn_egress", Kind::Usd),
        ("cost: origin egress", "cost_usd.origin_egress", Kind::Usd),
        ("cost: inter-region", "cost_usd.inter_region", Kind::Usd),
        ("cost: requests", "cost_usd.requests", Kind::Usd),
        ("cost per GB", "cost_per_gb_usd", Kind::Usd4),
        ("load P50 (ms)", "latency_ms.p50", Kind::Num),
        ("load P95 (ms)", "latency_ms.p95", Kind::Num),
        ("load P99 (ms)", "latency_ms.p99", Kind::Num),
        ("availability", "availability", Kind::Pct4),
        ("CDN edge hit rate", "hit_rates.cdn_cache", Kind::Pct),
        ("mirror hit rate", "hit_rates.mirror", Kind::Pct),
        ("mirror hit rate, top 100", "hit_rates.mirror_top100", Kind::Pct),
        ("requests", "requests.total", Kind::Int),
        ("failed requests", "requests.failed", Kind::Int),
        ("failovers", "failovers", Kind::Int),
        ("mirrors created", "mirrors.created", Kind::Int),
        ("mirrors at peak", "mirrors.active_peak", Kind::Int),
        ("bytes served (GB)", "bytes_served", Kind::Gb),
    ];
    for (label, path, kind) in rows {
        let x = get(&va, path).and_then(Value::as_f64);
        let y = get(&vb, path).and_then(Value::as_f64);
        let fmt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| kind.fmt(v));
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
    let targets = |v: &Value| -> Vec<(String, bool)> {
        v.get("targets")
            .and_then(Value::as_array)
            .map(|ts| {
                ts.iter()
                    .map(|t| (t["name"].as_str().unwrap_or("?").to_string(), t["pass"].as_bool().unwrap_or(false)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (ta, tb) = (targets(&va), targets(&vb));
    let mut names: Vec<&String> = ta.iter().chain(tb.iter()).map(|(n, _)| n).collect();
    names.dedup();
    let mut seen = Vec::new();
    for n in names {
        if seen.contains(&n) {
            continue;
        }
        seen.push(n);
        let verdict = |ts: &[(String, bool)]| {
            ts.iter().find(|(m, _)| m == n).map_or("-", |(_, p)| if *p { "pass" } else { "FAIL" })
        };
        let _ = writeln!(o, "| {n} | {} | {} |", verdict(&ta), verdict(&tb));
    }
    Ok(o)
}

#[derive(Clone, Copy)]
enum Kind {
    Usd,
    Usd4,
    Num,
    Pct,
    Pct4,
    Int,
    Gb,
}

impl Kind {
    fn fmt(self, v: f64) -> String {
        match self {
            Kind::Usd => format!("${v:.2}"),
            Kind::Usd4 => format!("${v:.4}"),
            Kind::Num => format!("{v:.0}"),
            Kind::Pct => format!("{:.2} %", v * 100.0),
            Kind::Pct4 => format!("{:.4} %", v * 100.0),
            Kind::Int => format!("{v:.0}"),
            Kind::Gb => format!("{:.1}", v / 1e9),
        }
    }
    /// A difference: of rates in percentage points (`+6.17 pp`, not `+6.17 %`, which would read
    /// as relative).
    fn fmt_delta(self, d: f64) -> String {
        let s = match self {
            Kind::Pct => format!("{:.2} pp", d.abs() * 100.0),
            Kind::Pct4 => format!("{:.4} pp", d.abs() * 100.0),
            _ => self.fmt(d.abs()),
        };
        if d < 0.0 {
            format!("-{s}")
        } else {
            format!("+{s}")
        }
    }
}
