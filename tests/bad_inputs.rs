//! The corpus of malformed scenario files in `tests/bad/`: each must be refused by
//! `clipsim validate` (and `clipsim run`) with exit status 2 and a message that names the file,
//! the line and column, and contains the fragment on the file's first line (`# expect: ...`),
//! but not the one on an optional second line (`# never: ...`, a secret that must not be shown).
//! None may panic.

use std::path::PathBuf;
use std::process::Command;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/bad exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

fn expectation(path: &PathBuf) -> String {
    let bytes = std::fs::read(path).unwrap();
    let first = String::from_utf8_lossy(&bytes).lines().next().unwrap_or_default().to_string();
    first
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("{}: first line must be `# expect: ...`", path.display()))
        .to_string()
}

/// The text of the optional `# never: ...` second line.
fn never(path: &PathBuf) -> Option<String> {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    text.lines().nth(1).and_then(|l| l.strip_prefix("# never: ")).map(str::to_string)
}

#[test]
fn the_corpus_is_large_enough() {
    assert!(corpus().len() >= 60, "the corpus has {} files; the reliability bar is 60", corpus().len());
}

#[test]
fn every_malformed_scenario_is_refused_with_a_located_message() {
    let bin = env!("CARGO_BIN_EXE_clipsim");
    let mut failures = Vec::new();
    for path in corpus() {
        let expect = expectation(&path);
        let never = never(&path);
        for sub in ["validate", "run"] {
            let mut cmd = Command::new(bin);
            cmd.arg(sub).arg(&path);
            if sub == "run" {
                cmd.arg("--out").arg(std::env::temp_dir().join("clipsim-bad-never-written"));
            }
            let out = cmd.output().expect("runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let located = stderr.contains(&format!("{name}:")) && {
                let after = &stderr[stderr.find(&format!("{name}:")).unwrap() + name.len() + 1..];
                let mut parts = after.splitn(3, ':');
                parts.next().is_some_and(|l| l.parse::<u32>().is_ok())
                    && parts.next().is_some_and(|c| c.parse::<u32>().is_ok())
            };
            let shown = never.as_ref().is_some_and(|n| stderr.contains(n.as_str()));
            let ok = out.status.code() == Some(2)
                && stderr.contains(&expect)
                && located
                && !shown
                && !stderr.contains("panicked");
            if !ok {
                failures.push(format!(
                    "{name} ({sub}): status {:?}, expected `{expect}`, got: {}",
                    out.status.code(),
                    stderr.trim()
                ));
            }
        }
    }
    assert!(std::env::temp_dir().join("clipsim-bad-never-written").metadata().is_err(), "a refused run wrote output");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
