//! Reports: `summary.json`, `timeseries.csv`, SVG charts, `report.md` and `report.html` (the same
//! report as one self-contained page), written atomically into one directory.

pub(crate) mod charts;
pub mod compare;
mod console;
pub mod format;
mod html;
mod markdown;
pub mod openmetrics;
pub mod output;
pub mod robust;
pub mod summary;
pub mod tables;
pub mod target;
pub mod timeline;
pub mod timeseries;

pub use console::headline;
pub use output::{OutputError, StagedFile, Staging};
pub use summary::{summarize, Summary};

use crate::world::RunResult;
use std::path::{Path, PathBuf};

/// The summary as pretty JSON (stable key order), with a trailing newline.
pub fn summary_json(s: &Summary) -> String {
    let mut text = serde_json::to_string_pretty(s).expect("a summary always serialises");
    text.push('\n');
    text
}

/// Writes every report file for `r` into `dest` atomically. Returns the directory.
pub fn write(r: &RunResult, dest: &Path, force: bool) -> Result<PathBuf, OutputError> {
    write_into(r, &summarize(r), Staging::begin(dest, force, &[])?)
}

/// The scenario as the run read it (secrets redacted), headed by what overrode it on the command
/// line: what `clipsim compare` diffs, and what a reader needs to rerun the run.
fn scenario_copy(sc: &crate::scenario::Scenario) -> String {
    let mut head = String::from("# The scenario this run read (secret values redacted), kept with its report.\n");
    head.push_str(&format!("# Run with seed {}", sc.seed));
    if let Some(env) = &sc.env {
        let set: Vec<String> = env.applied.iter().map(|(k, v)| format!("{k}={v}")).collect();
        head.push_str(&format!("; --env {} set {}", env.file.display(), set.join(", ")));
    }
    head.push_str(".\n\n");
    head + &sc.text
}

/// Writes every report file for `r`, whose summary is `summary`, into a staging directory begun
/// earlier, then moves it into place. Returns the directory. (The caller passes the summary so
/// that it is built once: at a large catalog, ranking the top clips is not free.)
pub fn write_into(r: &RunResult, summary: &Summary, staging: Staging) -> Result<PathBuf, OutputError> {
    staging.write("summary.json", summary_json(summary).as_bytes())?;
    let csv = timeseries::timeseries_csv(r).map_err(|e| OutputError::Io {
        path: staging.dir().join("timeseries.csv"),
        err: std::io::Error::other(e.to_string()),
    })?;
    staging.write("timeseries.csv", &csv)?;
    let tables = tables::tables_csv(r).map_err(|e| OutputError::Io {
        path: staging.dir().join("tables"),
        err: std::io::Error::other(e.to_string()),
    })?;
    for (name, text) in &tables {
        staging.write(&format!("tables/{name}.csv"), text)?;
    }
    let charts = charts::all(r);
    for c in &charts {
        staging.write(&c.file, c.svg.as_bytes())?;
    }
    let md = markdown::report_md(r, summary, &charts);
    staging.write("report.md", md.as_bytes())?;
    staging.write("report.html", html::report_html(&md, summary, &charts).as_bytes())?;
    staging.write("scenario.toml", scenario_copy(&r.scenario).as_bytes())?;
    staging.commit()
}
