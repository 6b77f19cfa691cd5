//! Bad sweep files and output directories: exit status 2, a message naming the file, line,
//! column and key (and the point's values when a point is at fault), and nothing run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn clipsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clipsim")).args(args).current_dir(common::root()).output().expect("runs")
}

/// Writes a sweep file whose `BASE` is the shipped seed baseline; returns its path.
fn sweep_file(dir: &Path, body: &str) -> PathBuf {
    let base = common::root().join("scenarios/seed-baseline.toml");
    let path = dir.join("s.toml");
    std::fs::write(&path, body.replace("BASE", &base.display().to_string())).unwrap();
    path
}

const HEAD: &str = "[sweep]\nname = \"t\"\nbase = \"BASE\"\n";

/// Runs `sweep --dry-run` on `body` and returns stderr, asserting exit status 2.
fn refused(body: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = sweep_file(dir.path(), body);
    let out = clipsim(&["sweep", path.to_str().unwrap(), "--dry-run"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{body}\nstdout: {}\nstderr: {err}", String::from_utf8_lossy(&out.stdout));
    assert!(!err.contains("panicked"), "{err}");
    err.replace(&format!("{}/", dir.path().display()), "")
}

#[test]
fn an_axis_value_the_scenario_refuses_is_located_in_the_sweep_file_with_the_point() {
    let err = refused(&format!("{HEAD}[[axes]]\nkey = \"mirror.ttl_days\"\nvalues = [7, -1]\n"));
    assert!(err.contains("point 1 of"), "{err}");
    assert!(err.contains("(mirror.ttl_days = -1)"), "{err}");
    assert!(err.contains("s.toml:6:14: `mirror.ttl_days` = -1:"), "{err}");
    assert!(err.contains("seed-baseline.toml refuses it"), "{err}");
}

#[test]
fn a_misspelt_axis_key_is_refused() {
    let err = refused(&format!("{HEAD}[[axes]]\nkey = \"mirror.replication_treshold\"\nvalues = [1]\n"));
    assert!(err.contains("replication_treshold") && err.contains("unknown field"), "{err}");
    assert!(err.contains("s.toml:"), "located in the sweep file: {err}");
}

#[test]
fn a_secret_is_never_swept_so_its_values_reach_no_output_or_message() {
    let err = refused(&format!(
        "{HEAD}[[axes]]\nkey = \"cdn.cloudflare_api_key\"\nvalues = [\"sk_live_q7Xz9\", \"sk_test_q7Xz9\"]\n"
    ));
    assert!(err.contains("s.toml:5:7: `axes[0].key`"), "located at the key: {err}");
    assert!(err.contains("a key that is not a secret"), "{err}");
    assert!(!err.contains("q7Xz9"), "no secret value shown: {err}");
}

#[test]
fn sweep_file_shape_errors_are_located() {
    let cases: [(&str, &str); 9] = [
        ("[sweep]\nname = \"t\"\nbase = \"BASE\"\nreplica = 3\n", "s.toml:4:1"),
        (&format!("{HEAD}replicas = 0\n"), "s.toml:4:12: `sweep.replicas` = 0"),
        (&format!("{HEAD}design = \"sobol\"\n"), "`sweep.design` = \"sobol\": one of"),
        (&format!("{HEAD}design = \"random\"\n"), "`points = N`"),
        (&format!("{HEAD}[[axes]]\nkey = \"mirror.ttl_days\"\nrange = {{ from = 1, to = 14 }}\n"), "`steps = N`"),
        (&format!("{HEAD}[[axes]]\nkey = \"mirror.ttl_days\"\n"), "either `values = [...]` or `range"),
        (&format!("{HEAD}[[axes]]\nkey = \"regions[7].name\"\nvalues = [\"x\"]\n"), "index 7 is out of range"),
        (&format!("{HEAD}[[axes]]\nkey = \"scenario.seed\"\nvalues = [1, 2]\n"), "seeds come from [sweep] seed"),
        (
            &format!("{HEAD}[[axes]]\nkey = \"cdn.cache_ttl\"\nvalues = [\"1h\"]\n[scale]\ncdn.cache_ttl = \"2h\"\n"),
            "a key that no axis sweeps",
        ),
    ];
    for (body, want) in cases {
        let err = refused(body);
        assert!(err.contains(want), "want {want:?} in: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, "[sweep]\nname = \"t\"\nbase = \"nowhere.toml\"\n").unwrap();
    let out = clipsim(&["sweep", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(":3:8: `sweep.base` = \"nowhere.toml\": the base scenario: cannot read the file"), "{err}");
}

#[test]
fn bad_options_are_refused() {
    let quick = common::root().join("scenarios/sweeps/quick.toml");
    for args in [["--shard", "3/3"], ["--shard", "x"], ["--threads", "0"]] {
        let out = clipsim(&["sweep", quick.to_str().unwrap(), "--dry-run", args[0], args[1]]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = clipsim(&["sweep", quick.to_str().unwrap(), "--dry-run", "--shard", "1/3"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("4 points × 2 replicas = 8 runs") && text.contains("shard 1/3: 1 points"), "{text}");
}

#[test]
fn output_directories_of_another_sweep_or_not_a_sweep_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let quick = common::root().join("scenarios/sweeps/quick.toml");
    let out = dir.path().join("out");
    assert_eq!(
        clipsim(&["sweep", quick.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).status.code(),
        Some(0)
    );
    // The same directory for a different sweep.
    let other = sweep_file(
        dir.path(),
        &format!("{HEAD}[[axes]]\nkey = \"mirror.ttl_days\"\nvalues = [3]\n[scale]\ncatalog.clips = 500\ntraffic.views_per_month = 5000\nscenario.duration = \"1d\"\nscenario.warmup = \"0s\"\n"),
    );
    let r = clipsim(&["sweep", other.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("holds points of another sweep (\"quick\""));
    let r = clipsim(&["sweep", other.to_str().unwrap(), "--out", out.to_str().unwrap(), "--force", "-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(std::fs::read_dir(out.join("points")).unwrap().count(), 1, "--force replaced the other sweep's points");
    // A damaged point file is named, not silently rerun or used.
    std::fs::write(out.join("points/000000.json"), "{ half").unwrap();
    let r = clipsim(&["sweep", other.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("000000.json: not a point file") && err.contains("delete the file"), "{err}");
    // A directory clipsim did not make.
    let foreign = dir.path().join("mine");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "keep").unwrap();
    let r = clipsim(&["sweep", quick.to_str().unwrap(), "--out", foreign.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("refusing to write into a non-empty directory"));
}

#[test]
fn a_scale_value_the_scenario_refuses_is_located_in_the_sweep_file() {
    let err = refused(&format!("{HEAD}[scale]\ncatalog.clips = -5\n"));
    assert!(err.contains("s.toml:5:17: `catalog.clips` = -5:"), "{err}");
    assert!(err.contains("point 0 of") && err.contains("(no axes)"), "{err}");
}
