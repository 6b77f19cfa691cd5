//! Golden outputs: a net under every change that could move a number a planner reads.
//!
//! * Every scenario file in `scenarios/` (the `bench/` ones included; `sweeps/` holds sweep files and `sensitivity/` assumptions files,
//!   whose golden is the quick sweep's in `tests/sweep_runs.rs`) and the planner's example in
//!   `tests/data/`, at a reduced scale (about 25,000 requests each): `tests/golden/scaled/` holds
//!   each run's `NAME.summary.json` and `NAME.bill.json` (every month and every line with its usage
//!   and cost in nanodollars).
//! * `seed-baseline` at full scale: `tests/golden/seed-baseline.summary.json`.
//!
//! They are compared field by field: a failure names the first field that differs (its JSON key
//! path) with both values, and how many fields differ in all. `version` and `git_commit` are left
//! out (they change with every release and commit). When a change is meant to move numbers,
//! regenerate every golden and commit them with the change, so that review sees the numbers move:
//!
//! ```sh
//! CLIPSIM_BLESS=1 cargo test --test golden
//! ```

mod common;

use clipsim_sim::world::RunResult;
use clipsim_sim::{report, run_scenario, scenario};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// About how many requests a reduced-scale golden run serves.
const REQUESTS_TARGET: f64 = 25_000.0;

fn blessing() -> bool {
    std::env::var_os("CLIPSIM_BLESS").is_some()
}

/// The scenario files with a reduced-scale golden: (golden name, path).
fn cases() -> Vec<(String, PathBuf)> {
    let root = common::root().join("scenarios");
    let mut cases: Vec<(String, PathBuf)> = common::walk(&root)
        .into_iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "toml")
                && !p.starts_with(root.join("sweeps"))
                && !p.starts_with(root.join("sensitivity"))
        })
        .map(|p| {
            let rel = p.strip_prefix(&root).expect("under scenarios/").with_extension("");
            (rel.to_string_lossy().replace('/', "-"), p)
        })
        .collect();
    cases.push(("example-scenario-example".into(), common::data().join("scenario-example.toml")));
    cases.sort();
    cases
}

/// `summary.json` of a run, as written, without the fields that change with every commit.
fn summary_text(r: &RunResult) -> String {
    report::summary_json(&report::summarize(r))
        .lines()
        .filter(|l| !l.starts_with("  \"version\":") && !l.starts_with("  \"git_commit\":"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A run's bill: every month, every line.
fn bill_text(r: &RunResult) -> String {
    let cfg = &r.scenario.engine;
    let bill: Vec<Value> = r
        .engine
        .bills()
        .iter()
        .map(|b| {
            let lines: Vec<Value> = b
                .lines
                .iter()
                .map(|l| {
                    json!({
                        "meter": l.key.meter.name(),
                        "provider": cfg.providers[l.key.provider.index()],
                        "zone": cfg.zone_name(l.key.meter, l.key.zone),
                        // Byte-microseconds of storage do not fit a JSON number's safe range.
                        "usage": l.usage.to_string(),
                        "free": l.free.to_string(),
                        "cost_nanodollars": l.cost.0,
                    })
                })
                .collect();
            json!({
                "month": b.month,
                "start_us": b.start.as_micros(),
                "end_us": b.end.as_micros(),
                "total_nanodollars": b.total().0,
                "lines": lines,
            })
        })
        .collect();
    serde_json::to_string_pretty(&bill).expect("serialisable") + "\n"
}

/// Every leaf that differs between `expected` and `actual`: (key path, expected, actual).
fn differences(path: &str, expected: &Value, actual: &Value, out: &mut Vec<(String, String, String)>) {
    match (expected, actual) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(vb) => differences(&p, va, vb, out),
                    None => out.push((p, va.to_string(), "(missing)".into())),
                }
            }
            for (k, vb) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                out.push((format!("{path}.{k}"), "(missing)".into(), vb.to_string()));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let p = format!("{path}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(va), Some(vb)) => differences(&p, va, vb, out),
                    (va, vb) => out.push((
                        p,
                        va.map_or("(missing)".into(), Value::to_string),
                        vb.map_or("(missing)".into(), Value::to_string),
                    )),
                }
            }
        }
        _ if expected != actual => out.push((path.to_string(), expected.to_string(), actual.to_string())),
        _ => {}
    }
}

/// Compares `text` (JSON) with the golden file field by field, or writes it when blessing; the
/// error names the first differing field.
fn check(golden: &Path, text: &str) -> Result<(), String> {
    if blessing() {
        std::fs::create_dir_all(golden.parent().expect("a parent")).unwrap();
        std::fs::write(golden, text).unwrap();
        return Ok(());
    }
    let actual: Value = serde_json::from_str(text).expect("the run's output is JSON");
    let expected = std::fs::read_to_string(golden)
        .map_err(|e| format!("{}: {e}; create it with CLIPSIM_BLESS=1 cargo test --test golden", golden.display()))?;
    let expected: Value = serde_json::from_str(&expected).map_err(|e| format!("{}: {e}", golden.display()))?;
    let mut diffs = Vec::new();
    differences("", &expected, &actual, &mut diffs);
    match diffs.first() {
        None => Ok(()),
        Some((path, want, got)) => Err(format!(
            "{}: `{}` is {got}, the golden says {want} ({} field(s) differ in all; if the change is meant, \
             CLIPSIM_BLESS=1 cargo test --test golden)",
            golden.display(),
            path.trim_start_matches('.'),
            diffs.len()
        )),
    }
}

/// The scale factor that brings a scenario to about [`REQUESTS_TARGET`] requests.
fn factor_for(path: &Path) -> f64 {
    let sc = scenario::load(path, &Default::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spikes: f64 =
        sc.traffic.spikes.iter().map(|s| s.views_per_hour * (s.end - s.start).as_secs_f64() / 3600.0).sum();
    let requests = sc.traffic.views_per_sec * sc.duration.as_secs_f64() + spikes;
    (requests / REQUESTS_TARGET).max(1.0)
}

#[test]
fn every_scenario_file_matches_its_reduced_scale_golden() {
    let dir = common::root().join("tests/golden/scaled");
    let mut failures = Vec::new();
    for (name, path) in cases() {
        let r = run_scenario(common::scaled(&path, factor_for(&path))).expect("runs");
        common::cross_check(&r);
        for (kind, text) in [("summary", summary_text(&r)), ("bill", bill_text(&r))] {
            if let Err(e) = check(&dir.join(format!("{name}.{kind}.json")), &text) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{} golden(s) differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_golden_file_belongs_to_a_scenario() {
    let names: Vec<String> =
        cases().into_iter().flat_map(|(n, _)| [format!("{n}.summary.json"), format!("{n}.bill.json")]).collect();
    let dir = common::root().join("tests/golden/scaled");
    let orphans: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|f| !names.contains(f))
        .collect();
    assert!(orphans.is_empty(), "goldens in {} with no scenario (delete them): {orphans:?}", dir.display());
}

/// `seed-baseline` at full scale matches its golden summary, and what `cargo run --release`
/// prints for it is the README's console block, byte for byte.
#[test]
fn seed_baseline_summary_matches_its_full_scale_golden_and_the_readme() {
    let golden = common::root().join("tests/golden/seed-baseline.summary.json");
    let sc = scenario::load(&common::root().join("scenarios/seed-baseline.toml"), &Default::default())
        .expect("seed-baseline validates");
    let r = run_scenario(sc).expect("runs");
    check(&golden, &summary_text(&r)).unwrap_or_else(|e| panic!("{e}"));

    let printed = report::headline(&report::summarize(&r), Path::new("reports/seed-baseline"));
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let after = readme.split_once("`cargo run --release` prints").expect("the README shows the console").1;
    let block = after.split_once("```text\n").and_then(|(_, b)| b.split_once("\n```")).expect("a text block").0;
    assert!(
        block == printed,
        "README.md's console block is not what `cargo run --release` prints; update it to:\n{printed}"
    );
}

/// The comparison finds a changed number, an added and a missing field, and names the first.
#[test]
fn the_comparison_names_the_first_differing_field() {
    let expected = json!({"a": {"b": [1, 2, {"c": 3.5}]}, "d": "x"});
    let actual = json!({"a": {"b": [1, 2, {"c": 3.25}]}, "e": true});
    let mut diffs = Vec::new();
    differences("", &expected, &actual, &mut diffs);
    let paths: Vec<&str> = diffs.iter().map(|d| d.0.as_str()).collect();
    assert_eq!(paths, [".a.b[2].c", ".d", ".e"]);
    assert_eq!((diffs[0].1.as_str(), diffs[0].2.as_str()), ("3.5", "3.25"));
    let mut none = Vec::new();
    differences("", &expected, &expected.clone(), &mut none);
    assert!(none.is_empty());
}

/// Removes every `version` and `git_commit` field, at any depth.
fn strip_build_fields(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("version");
            m.remove("git_commit");
            m.values_mut().for_each(strip_build_fields);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_build_fields),
        _ => {}
    }
}

/// Every sweep file in `scenarios/sweeps/` with the shard of it that its golden holds (`None`:
/// the whole sweep, whose `sweep.csv` is the golden). Shards keep the big sweeps to two points.
const SWEEPS: [(&str, Option<&str>); 7] = [
    ("cdn-layout", Some("0/5")),
    ("designs", Some("14/15")),
    ("edge-policies", Some("0/12")),
    ("provider-matrix", Some("1/6")),
    ("quick", None),
    ("seed-thresholds", Some("0/90")),
    ("speedup16", Some("0/8")),
];

#[test]
fn every_sweep_file_matches_its_golden() {
    let dir = common::root().join("scenarios/sweeps");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut known: Vec<&str> = SWEEPS.iter().map(|s| s.0).collect();
    known.sort();
    assert_eq!(files, known, "every sweep file in scenarios/sweeps/ needs an entry in SWEEPS");
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, shard) in SWEEPS {
        let out = tmp.path().join(name);
        let sweep = dir.join(format!("{name}.toml"));
        let mut args = vec!["sweep", sweep.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_clipsim")).args(&args).output().unwrap();
        assert!(run.status.success(), "{name}: {}", String::from_utf8_lossy(&run.stderr));
        let golden = common::root().join("tests/golden/sweeps").join(format!("{name}.json"));
        let value = if shard.is_none() {
            // sweep.csv as rows of {column: cell}: a difference names the point and the column.
            let mut reader = csv::Reader::from_path(out.join("sweep.csv")).unwrap();
            let header = reader.headers().unwrap().clone();
            let rows: Vec<Value> = reader
                .records()
                .map(|r| {
                    let r = r.unwrap();
                    Value::Object(header.iter().zip(r.iter()).map(|(h, c)| (h.to_string(), json!(c))).collect())
                })
                .collect();
            json!({ "sweep.csv": rows })
        } else {
            let mut points = serde_json::Map::new();
            for p in common::walk(&out.join("points")) {
                let mut v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                // The checksum covers the build's commit, which the goldens leave out; the point
                // files' own test (tests/sweep_runs.rs) checks it.
                assert!(v.as_object_mut().unwrap().remove("content_sha256").is_some(), "{}", p.display());
                strip_build_fields(&mut v);
                points.insert(p.file_name().unwrap().to_string_lossy().into_owned(), v);
            }
            Value::Object(points)
        };
        let text = serde_json::to_string_pretty(&value).unwrap() + "\n";
        if let Err(e) = check(&golden, &text) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{} sweep golden(s) differ:\n{}", failures.len(), failures.join("\n"));
}

/// `docs/summary.schema.json` is the schema the types generate (re-blessed like the goldens), and
/// every golden summary has the keys it lists (but the build fields, which goldens leave out): all
/// of its required ones and no other.
#[test]
fn the_summary_schema_in_docs_is_the_generated_one_and_fits_the_summaries() {
    let path = common::root().join("docs/summary.schema.json");
    let text = report::summary::json_schema();
    if blessing() {
        std::fs::write(&path, &text).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "{} is not the schema the types generate; regenerate it with CLIPSIM_BLESS=1 cargo test --test golden",
        path.display()
    );
    let schema: Value = serde_json::from_str(&text).unwrap();
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let properties = keys(&schema["properties"]);
    let required: Vec<&str> = schema["required"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    let summaries: Vec<PathBuf> = common::walk(&common::root().join("tests/golden"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".summary.json"))
        .collect();
    assert!(summaries.len() >= 8, "the golden summaries: {summaries:?}");
    for p in summaries {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let mut have = keys(&v);
        have.sort();
        let mut want: Vec<String> =
            // `sensitivity` is written only when a run found an analysis, `trace` only for a
            // trace-driven run, `calibration` only for one with the CDN's results (none in the
            // goldens), `rollout` only for a scenario with `[rollout]` (scenarios/rollout.toml),
            // `cdns` only with two CDNs (cdn-failover, multi-cdn-split).
            properties
                .iter()
                .filter(|k| {
                    !["version", "git_commit", "sensitivity", "trace", "calibration", "rollout", "cdns"]
                        .contains(&k.as_str())
                })
                .cloned()
                .collect();
        if p.file_name().is_some_and(|n| n == "rollout.summary.json") {
            want.push("rollout".into());
        }
        if p.file_name().is_some_and(|n| {
            ["cdn-failover.summary.json", "multi-cdn-split.summary.json"].contains(&n.to_str().unwrap_or(""))
        }) {
            want.push("cdns".into());
        }
        want.sort();
        assert_eq!(have, want, "{}: its keys against the schema's properties", p.display());
        assert!(required.iter().all(|k| have.iter().any(|h| h == k) || ["version", "git_commit"].contains(k)));
        assert_eq!(v["format_version"], report::summary::FORMAT_VERSION, "{}", p.display());
    }
}
