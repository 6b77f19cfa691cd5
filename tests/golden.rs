//! The golden `summary.json` of `scenarios/seed-baseline.toml`, at full scale.
//!
//! Any change to the engine's decisions, the workload, the stand-ins or the bill changes this
//! file. When the change is intended, regenerate it and commit it with the change:
//!
//! ```sh
//! CLIPSIM_BLESS=1 cargo test --test golden
//! ```
//!
//! `version` and `git_commit` are left out of the comparison (they change with every release and
//! commit); every other byte must match.

mod common;

use clipsim_sim::{report, run_scenario, scenario};

fn golden_text() -> String {
    let path = common::root().join("scenarios/seed-baseline.toml");
    let sc = scenario::load(&path, &Default::default()).expect("seed-baseline validates");
    let r = run_scenario(sc).expect("runs");
    let json = report::summary_json(&report::summarize(&r));
    json.lines()
        .filter(|l| !l.starts_with("  \"version\":") && !l.starts_with("  \"git_commit\":"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn seed_baseline_summary_matches_the_golden_file() {
    let golden = common::root().join("tests/golden/seed-baseline.summary.json");
    let actual = golden_text();
    if std::env::var_os("CLIPSIM_BLESS").is_some() {
        std::fs::write(&golden, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_else(|e| {
        panic!("{}: {e}; create it with CLIPSIM_BLESS=1 cargo test --test golden", golden.display())
    });
    if actual != expected {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .filter(|(a, b)| a != b)
            .take(20)
            .map(|(a, b)| format!("- {a}\n+ {b}"))
            .collect();
        panic!(
            "summary.json of seed-baseline differs from {} (if intended: CLIPSIM_BLESS=1 cargo test --test golden):\n{}",
            golden.display(),
            diff.join("\n")
        );
    }
}
