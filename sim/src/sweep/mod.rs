//! Parameter sweeps: a base scenario, axes of values, replicas with common random numbers, and a
//! recommendation.
//!
//! A sweep file ([`spec`], format in `docs/sweeps.md`) names a base scenario and the scenario
//! keys to vary. [`design`] numbers the points `0..P` (a grid, random samples or a Latin
//! hypercube). [`run`] sets each point's values into the base scenario's text, checks every
//! point, then runs each point's `K` replicas on all cores; replica `r` of every point uses seed
//! `seed + r`, so points differ by their parameters, not by noise. Each finished point is one
//! file written atomically (`points/NNNNNN.json`), so a sweep resumes where it stopped and a
//! killed process loses no finished point. [`aggregate`] turns point files into means and
//! confidence intervals, [`pareto`] finds the front of bill against P95 load time, and
//! [`output`] writes `sweep.csv`, `pareto.csv`, `pareto.svg` and `sweep.md`.
//!
//! `--shard I/N` runs the points with `index % N == I`; [`merge`] combines shards' point files
//! into exactly the files an unsharded run writes.

pub mod aggregate;
pub mod design;
pub mod keypath;
pub mod output;
pub mod pareto;
pub mod run;
pub mod spec;

use crate::scenario::InputError;
use design::Point;
use spec::Spec;
use std::path::{Path, PathBuf};

/// This build as the point files name it (`version` and `git_commit` of its summaries).
pub fn this_build() -> String {
    aggregate::build_label(env!("CARGO_PKG_VERSION"), env!("CLIPSIM_GIT_COMMIT"))
}

/// What can go wrong in a sweep. Every message names the file and, for a point, its values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// A bad sweep file or base scenario.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A point's values make an invalid scenario.
    #[error("point {index} of {} ({assignment}): {error}", sweep.display())]
    Point {
        /// The sweep file.
        sweep: PathBuf,
        /// The point.
        index: usize,
        /// Its values.
        assignment: String,
        /// The scenario's error (located in the sweep file when an axis value is at fault).
        error: InputError,
    },
    /// A point's key cannot be set in the base scenario.
    #[error("point {index} of {} ({assignment}): {message}", sweep.display())]
    Setting {
        /// The sweep file.
        sweep: PathBuf,
        /// The point.
        index: usize,
        /// Its values.
        assignment: String,
        /// What is wrong.
        message: String,
    },
    /// The engine refused a point's configuration.
    #[error("point {index} of {} ({assignment}), seed {seed}: {message}", sweep.display())]
    Run {
        /// The sweep file.
        sweep: PathBuf,
        /// The point.
        index: usize,
        /// Its values.
        assignment: String,
        /// The replica's seed.
        seed: u64,
        /// The engine's message.
        message: String,
    },
    /// An I/O error.
    #[error("{}: {error}", path.display())]
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        error: std::io::Error,
    },
    /// A file in an output directory is not what it should be.
    #[error("{}: {message}", path.display())]
    Data {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The output directory holds another sweep's points.
    #[error("{}: holds points of another sweep (\"{found}\", hash {}); use a fresh --out, or --force to delete them", dir.display(), &hash[..hash.len().min(16)])]
    OtherSweep {
        /// The directory.
        dir: PathBuf,
        /// That sweep's name.
        found: String,
        /// That sweep's hash.
        hash: String,
    },
    /// The output directory is not empty and is not a sweep's.
    #[error("{}: refusing to write into a non-empty directory that is not a sweep's (no sweep.json); use --force to write into it anyway", .0.display())]
    Refused(PathBuf),
    /// Shard outputs that cannot be merged.
    #[error("merge: {0}")]
    Merge(String),
}

/// The error of a point whose scenario is invalid: located in the sweep file when the scenario
/// refuses a value the sweep set (an axis value, or a `[scale]` entry), else in the base scenario.
pub fn point_error(spec: &Spec, point: &Point, e: InputError) -> SweepError {
    let covers = |key: &str| {
        e.key_path == key || e.key_path.starts_with(&format!("{key}.")) || e.key_path.starts_with(&format!("{key}["))
    };
    let loc = crate::scenario::error::Locator::new(&spec.path, &spec.text);
    let relocate = |at: &str, key: &str, value: String| {
        let mut s =
            loc.error(at, format!("{} (the base scenario {} refuses it)", e.expected, spec.base_path.display()));
        s.key_path = key.to_string();
        s.value = e.value.clone().or(Some(value));
        s
    };
    let error = if let Some((i, a)) = spec.axes.iter().enumerate().find(|(_, a)| covers(&a.key)) {
        let at = match &a.domain {
            spec::Domain::Values(vs) => {
                let j = vs.iter().position(|v| spec::value_text(v) == spec::value_text(&point.values[i]));
                j.map_or(format!("axes[{i}]"), |j| format!("axes[{i}].values[{j}]"))
            }
            spec::Domain::Range { .. } => format!("axes[{i}].range"),
        };
        relocate(&at, &a.key, spec::value_text(&point.values[i]))
    } else if let Some((key, _, v)) = spec.scale.iter().find(|(k, _, _)| covers(k)) {
        relocate(&format!("scale.{key}"), key, spec::value_text(v))
    } else {
        e
    };
    SweepError::Point { sweep: spec.path.clone(), index: point.index, assignment: point.assignment(spec), error }
}

/// Reads every point file of `dir` (all `total` must be there) and computes their statistics.
pub fn load_stats(dir: &Path, spec: &Spec, total: usize) -> Result<Vec<aggregate::PointStats>, SweepError> {
    let found = run::point_files(dir, total)?;
    let missing: Vec<usize> = (0..total).filter(|i| !found.contains_key(i)).collect();
    if !missing.is_empty() {
        return Err(SweepError::Merge(format!("{} of {total} points missing: {}", missing.len(), list(&missing))));
    }
    found
        .iter()
        .map(|(&i, path)| {
            let pf = run::read_point(path, &spec.hash, i)?;
            aggregate::point_stats(&pf).map_err(|message| SweepError::Data { path: path.clone(), message })
        })
        .collect()
}

fn list(ix: &[usize]) -> String {
    let shown: Vec<String> = ix.iter().take(20).map(usize::to_string).collect();
    format!("{}{}", shown.join(", "), if ix.len() > 20 { ", ..." } else { "" })
}

/// Merges shard directories into `out`: checks that they belong to one sweep and cover every
/// point, copies the point files, and writes the same results an unsharded run writes.
pub fn merge(dirs: &[PathBuf], out: &Path, force: bool) -> Result<(Spec, Vec<aggregate::PointStats>), SweepError> {
    let mut manifests = Vec::new();
    for d in dirs {
        let m = run::read_manifest(d)?.ok_or_else(|| {
            SweepError::Merge(format!("{}: no {} (not a sweep's output directory)", d.display(), run::MANIFEST))
        })?;
        manifests.push(m);
    }
    let first = &manifests[0];
    for (d, m) in dirs.iter().zip(&manifests) {
        if m.sweep_sha256 != first.sweep_sha256 {
            return Err(SweepError::Merge(format!(
                "{} holds sweep \"{}\" (hash {}), {} holds \"{}\" (hash {}): not shards of one sweep",
                dirs[0].display(),
                first.name,
                &first.sweep_sha256[..16],
                d.display(),
                m.name,
                &m.sweep_sha256[..16]
            )));
        }
    }
    let spec = spec::from_texts(
        Path::new(&first.sweep_file),
        &first.sweep_text,
        Path::new(&first.base_file),
        &first.base_text,
    )?;
    if spec.hash != first.sweep_sha256 {
        return Err(SweepError::Data {
            path: dirs[0].join(run::MANIFEST),
            message: "its texts do not match its hash".into(),
        });
    }
    let total = design::points(&spec).len();
    if total != first.points {
        return Err(SweepError::Data {
            path: dirs[0].join(run::MANIFEST),
            message: format!("says {} points, the sweep has {total}", first.points),
        });
    }
    // Every point file of every shard, checked; the same point twice must be the same bytes.
    let mut chosen: std::collections::BTreeMap<usize, (PathBuf, Vec<u8>)> = std::collections::BTreeMap::new();
    for d in dirs {
        for (i, path) in run::finished_points(d, &spec.hash, total)? {
            let bytes = std::fs::read(&path).map_err(|error| SweepError::Io { path: path.clone(), error })?;
            match chosen.get(&i) {
                Some((p0, b0)) if *b0 != bytes => {
                    return Err(SweepError::Merge(format!(
                        "point {i} differs between {} and {} (different clipsim versions?)",
                        p0.display(),
                        path.display()
                    )));
                }
                Some(_) => {}
                None => {
                    chosen.insert(i, (path, bytes));
                }
            }
        }
    }
    let missing: Vec<usize> = (0..total).filter(|i| !chosen.contains_key(i)).collect();
    if !missing.is_empty() {
        return Err(SweepError::Merge(format!(
            "{} of {total} points are in none of the directories: {} (run the shards that hold them, or rerun them)",
            missing.len(),
            list(&missing)
        )));
    }
    let tag = run::tmp_tag(None);
    run::prepare_out(out, &spec, total, force, &tag)?;
    for (i, (_, bytes)) in &chosen {
        let dest = run::point_path(out, *i);
        let same = std::fs::read(&dest).is_ok_and(|b| b == *bytes);
        if !same {
            run::write_atomic(&dest, bytes, &tag)?;
        }
    }
    let stats = load_stats(out, &spec, total)?;
    output::write_outputs(out, &spec, &stats, &tag)?;
    Ok((spec, stats))
}
