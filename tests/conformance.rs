//! Conformance vectors (docs/conformance.md): the shipped vectors conform to this engine and are
//! what their scenario records, a recording replays to the run's own outcomes, a planted
//! difference is reported with its line, and the documentation's Python replayer runs on them.

mod common;

use clipsim_sim::conformance;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::AtomicBool;

fn clipsim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clipsim")).args(args).current_dir(cwd).output().expect("runs")
}

fn dir() -> PathBuf {
    common::data().join("conformance")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The engine of this clipsim answers every shipped vector as recorded.
#[test]
fn the_shipped_vectors_conform() {
    let out = clipsim(&["conformance", "--check", "vectors.jsonl"], &dir());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines = std::fs::read_to_string(dir().join("vectors.jsonl")).unwrap().lines().count() as u64;
    let want = format!("conforms: {} lines", clipsim_sim::report::format::count(lines));
    assert!(stdout.contains(&want), "{stdout}");
}

/// The shipped vectors are exactly what `clipsim conformance` writes for their scenario
/// (regenerate with `CLIPSIM_BLESS=1 cargo test --test conformance`, or the command in
/// tests/data/conformance/small.toml).
#[test]
fn the_shipped_vectors_are_what_their_scenario_records() {
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("v.jsonl");
    let out = clipsim(
        &["conformance", dir().join("small.toml").to_str().unwrap(), "--out", fresh.to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let fresh = std::fs::read(&fresh).unwrap();
    let shipped = dir().join("vectors.jsonl");
    if std::env::var_os("CLIPSIM_BLESS").is_some() {
        std::fs::write(&shipped, &fresh).unwrap();
    }
    assert!(fresh == std::fs::read(&shipped).unwrap(), "vectors.jsonl is stale: regenerate it (CLIPSIM_BLESS=1)");
}

/// A recorded run, replayed through a fresh engine, ends where the run's engine ended: the same
/// counters (outcomes, bytes, mirrors, failovers) and bills. A call left out of the recording
/// (a vote, a probe, a timeout) would change them.
#[test]
fn a_recording_replays_to_the_runs_own_outcomes() {
    let sc = clipsim_sim::scenario::load(&dir().join("small.toml"), &Default::default()).unwrap();
    let stop = AtomicBool::new(false);
    let run = clipsim_sim::world::World::new_recorded(sc).unwrap().run(&mut (), &stop);
    let mut text = Vec::new();
    let tally = conformance::write(&run.scenario, run.conformance.as_deref().unwrap(), &mut text).unwrap();
    let c = run.engine.counters();
    assert_eq!(tally.requests, c.requests_total);
    assert_eq!(tally.served_from, c.served_from, "outcomes by source");
    assert!(c.failovers > 0 && c.served_from[5] > 0 && c.mirrors_deleted > 0, "the scenario exercises them: {c:?}");
    let last: serde_json::Value =
        serde_json::from_str(std::str::from_utf8(&text).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!(last["counters"], conformance::json::counters(c), "the replay's counters are the run's");
    assert_eq!(last["bills"], conformance::json::bills(run.engine.config(), run.engine.bills()));
    // And the check of what was written passes, over the same number of requests.
    assert_eq!(conformance::check(std::str::from_utf8(&text).unwrap()).unwrap().requests, tally.requests);
}

/// Planted differences: the check names the line and what differs, exit status 1; a malformed
/// file is an input error, exit status 2.
#[test]
fn a_planted_difference_is_reported_with_its_line() {
    let text = std::fs::read_to_string(dir().join("vectors.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let tmp = tempfile::tempdir().unwrap();
    let plant = |name: &str, at: usize, from: &str, to: &str| -> Output {
        let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        assert!(l[at].contains(from), "line {}: {}", at + 1, l[at]);
        l[at] = l[at].replacen(from, to, 1);
        l.retain(|line| !line.is_empty());
        std::fs::write(tmp.path().join(name), l.join("\n") + "\n").unwrap();
        clipsim(&["conformance", "--check", name], tmp.path())
    };
    let find = |needle: &str| lines.iter().position(|l| l.contains(needle)).expect(needle);

    // A request the engine serves from the primary through the CDN, said to come from a mirror.
    let at = find("\"served\":\"primary_via_cdn\"");
    let out = plant("served.jsonl", at, "\"served\":\"primary_via_cdn\"", "\"served\":\"local_mirror\"");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("line {}: the engine differs: served", at + 1)), "{}", stderr(&out));

    // A copy ordered to another region.
    let at = find("\"kind\":\"replicate\"");
    let line = lines[at];
    let to = &line[line.find("\"to\":\"").unwrap()..];
    let to = &to[..to[6..].find('"').unwrap() + 7];
    let other = if to.contains("eu-west-1") { "\"to\":\"ap-southeast-1\"" } else { "\"to\":\"eu-west-1\"" };
    let out = plant("outputs.jsonl", at, to, other);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("line {}: the engine differs: outputs[", at + 1)), "{}", stderr(&out));

    // A copy that never finished: the engine serves later requests otherwise.
    let at = find("\"kind\":\"replication_finished\"");
    let out = plant("copy.jsonl", at, lines[at], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // Cut short: without its end line, or with a line after it.
    let last = lines.len() - 1;
    let out = plant("cut.jsonl", last, lines[last], "");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no end line"), "{}", stderr(&out));
    let out = plant("after.jsonl", last, lines[last], &format!("{}\n{}", lines[last], lines[last - 1]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("a line after the end line"), "{}", stderr(&out));

    // Not vectors.
    let out = plant("bad.jsonl", 3, "{", "{oops");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("line 4: not JSON"), "{}", stderr(&out));
}

/// docs/conformance.md's Python replayer (the system python3) runs over the shipped vectors.
#[test]
fn the_documented_python_replayer_runs() {
    let doc = std::fs::read_to_string(common::root().join("docs/conformance.md")).unwrap();
    let start = doc.find("```python\n").expect("a Python example") + "```python\n".len();
    let code = &doc[start..start + doc[start..].find("```").unwrap()];
    assert!(code.lines().count() <= 45, "the example stays short: {} lines", code.lines().count());
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("replay.py");
    std::fs::write(&script, code).unwrap();
    let run = |vectors: &Path| Command::new("python3").arg(&script).arg(vectors).output().expect("python3 runs");
    let out = run(&dir().join("vectors.jsonl"));
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1,990 requests"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // It fails on a request served by a mirror its registry does not hold.
    let text = std::fs::read_to_string(dir().join("vectors.jsonl")).unwrap();
    let bad = tmp.path().join("bad.jsonl");
    let first_copy = text.find("\"kind\":\"replication_finished\"").unwrap();
    let line_start = text[..first_copy].rfind('\n').unwrap() + 1;
    let line_end = first_copy + text[first_copy..].find('\n').unwrap() + 1;
    std::fs::write(&bad, format!("{}{}", &text[..line_start], &text[line_end..])).unwrap();
    let out = run(&bad);
    assert!(!out.status.success(), "a mirror never finished copying served a request unnoticed");
}
