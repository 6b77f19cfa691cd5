//! The scenarios shipped in `scenarios/`, built into the binary, so that an installed `clipsim`
//! runs them from any directory (`clipsim run seed-baseline`) and `clipsim init DIR` can start a
//! planner off with one.
//!
//! A scenario argument names a file when one is there; otherwise a bare name (`seed-baseline`,
//! or `seed-baseline.toml`) names the built-in scenario of that name. Inside the checkout the file
//! and the built-in text are the same, so both give the same outputs.

use std::path::{Path, PathBuf};

/// Name and text of every built-in scenario, in the order `clipsim init --list` shows them.
pub const SCENARIOS: [(&str, &str); 11] = [
    ("seed-baseline", include_str!("../../scenarios/seed-baseline.toml")),
    ("seed-no-cdn", include_str!("../../scenarios/seed-no-cdn.toml")),
    ("region-outage", include_str!("../../scenarios/region-outage.toml")),
    ("cdn-outage", include_str!("../../scenarios/cdn-outage.toml")),
    ("cdn-failover", include_str!("../../scenarios/cdn-failover.toml")),
    ("viral-spike", include_str!("../../scenarios/viral-spike.toml")),
    ("price-shift", include_str!("../../scenarios/price-shift.toml")),
    ("before-single-region", include_str!("../../scenarios/before-single-region.toml")),
    ("after-mirrored", include_str!("../../scenarios/after-mirrored.toml")),
    ("rollout", include_str!("../../scenarios/rollout.toml")),
    ("multi-cdn-split", include_str!("../../scenarios/multi-cdn-split.toml")),
];

/// Where a scenario comes from.
pub enum Source {
    /// A file.
    File(PathBuf),
    /// A built-in scenario: its name (which is also its path in messages and in the report's
    /// Reproduce command) and text.
    Builtin { path: PathBuf, text: &'static str },
}

/// The built-in scenario named `name` (`seed-baseline` or `seed-baseline.toml`).
pub fn find(name: &str) -> Option<(&'static str, &'static str)> {
    let name = name.strip_suffix(".toml").unwrap_or(name);
    SCENARIOS.into_iter().find(|(n, _)| *n == name)
}

/// The names, for messages.
pub fn names() -> String {
    SCENARIOS.map(|(n, _)| n).join(", ")
}

/// What a scenario argument names: the file if there is one; else, for a bare name, the
/// built-in scenario of that name; else the file (whose absence the loader reports).
pub fn resolve(arg: &Path) -> Source {
    let bare = arg.parent().is_none_or(|p| p.as_os_str().is_empty());
    match arg.to_str().and_then(find) {
        Some((name, text)) if bare && !arg.exists() => Source::Builtin { path: PathBuf::from(name), text },
        _ => Source::File(arg.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in `scenarios/` is built in, with the same text, and nothing else is.
    #[test]
    fn every_shipped_scenario_is_built_in() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
            .collect();
        files.sort();
        let mut built: Vec<(String, String)> = SCENARIOS.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        built.sort();
        assert_eq!(files, built);
    }

    #[test]
    fn a_bare_name_without_a_file_is_the_built_in_one() {
        assert!(matches!(resolve(Path::new("viral-spike")), Source::Builtin { .. }));
        assert!(matches!(resolve(Path::new("viral-spike.toml")), Source::Builtin { .. }));
        assert!(matches!(resolve(Path::new("somewhere/viral-spike.toml")), Source::File(_)));
        assert!(matches!(resolve(Path::new("no-such-scenario")), Source::File(_)));
        assert_eq!(find("price-shift").map(|(n, _)| n), Some("price-shift"));
    }
}
