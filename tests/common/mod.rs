//! Helpers shared by the scenario-level tests.
#![allow(dead_code)]

use clipsim_sim::scenario::{self, Overrides, Scenario};
use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared folder beside the repository (read-only in CI).
pub fn shared() -> PathBuf {
    root().join("../shared")
}

/// Every scenario shipped in `scenarios/`, plus the planner's example from `shared/`.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v.push(shared().join("scenario-example.toml"));
    v
}

/// Loads a scenario with its traffic and catalog divided by `factor` (outages, prices and the
/// rest unchanged), so that every shipped scenario runs quickly in tests.
pub fn scaled(path: &Path, factor: f64) -> Scenario {
    let text = std::fs::read_to_string(path).expect("scenario readable");
    let mut doc: toml_edit::DocumentMut = text.parse().expect("valid TOML");
    if let Some(clips) = doc.get("catalog").and_then(|c| c.get("clips")).and_then(|v| v.as_integer()) {
        doc["catalog"]["clips"] = toml_edit::value(((clips as f64 / factor) as i64).max(100));
    }
    for key in ["views_per_month", "requests_per_second"] {
        let v =
            doc.get("traffic").and_then(|t| t.get(key)).and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)));
        if let Some(v) = v {
            doc["traffic"][key] = toml_edit::value(v / factor);
        }
    }
    if let Some(spikes) =
        doc.get_mut("traffic").and_then(|t| t.get_mut("spikes")).and_then(|s| s.as_array_of_tables_mut())
    {
        for s in spikes.iter_mut() {
            let vph = s["views_per_hour"].as_float().or(s["views_per_hour"].as_integer().map(|i| i as f64)).unwrap();
            s["views_per_hour"] = toml_edit::value(vph / factor);
            if let Some(rank) = s["clip"].as_str().and_then(|c| c.strip_prefix("rank:")) {
                let r: u64 = rank.parse().unwrap();
                s["clip"] = toml_edit::value(format!("rank:{}", (r as f64 / factor).max(1.0) as u64));
            }
        }
    }
    scenario::from_str(path, &doc.to_string(), &Overrides::default())
        .unwrap_or_else(|e| panic!("scaled {} does not validate: {e}", path.display()))
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
