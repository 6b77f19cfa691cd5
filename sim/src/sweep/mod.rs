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
pub mod output;
pub mod pareto;
pub mod run;
pub mod spec;

use crate::scenario::InputError;
use anyhow::Result;
use design::Point;
use run::{RunOptions, Shard};
use spec::Spec;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status of a sweep stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

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

/// Arguments of `clipsim sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The sweep file (format: docs/sweeps.md).
    pub sweep: PathBuf,
    /// Where to write the points and results [default: reports/sweeps/NAME/, NAME being the sweep file name without .toml]. A rerun
    /// with the same directory resumes: finished points are kept.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads [default: the number of cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run only the points whose index is I modulo N (I from 0), such as 2/8; combine the shards
    /// with `clipsim merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Check every point and print the plan without running anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete another sweep's points in --out, or write into a directory that is not a sweep's.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `clipsim merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' output directories.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged sweep (may be one of the shard directories).
    #[arg(long)]
    pub out: PathBuf,
    /// Write into a directory that is not this sweep's.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Set by Ctrl-C / SIGTERM; a second signal exits at once (every finished point is on disk).
static STOP: AtomicBool = AtomicBool::new(false);

fn install_stop_handler() {
    let r = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        eprintln!("\nstopping: finished points are kept (Ctrl-C again to quit at once)");
    });
    if let Err(e) = r {
        eprintln!("warning: cannot catch Ctrl-C ({e}); a killed sweep still keeps its finished points");
    }
}

fn default_out(sweep: &Path) -> PathBuf {
    let stem = sweep.file_stem().map_or("sweep".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from("reports").join("sweeps").join(stem)
}

fn progress_bar(quiet: bool, name: &str) -> Option<indicatif::ProgressBar> {
    (!quiet && std::io::stderr().is_terminal()).then(|| {
        // Hidden until the runner knows how many points there are to run.
        let b = indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::hidden());
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:40}] {pos}/{len} points, {elapsed} elapsed, ETA {eta}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        b.set_message(name.to_string());
        b
    })
}

/// `clipsim sweep`.
pub fn cli_sweep(args: SweepArgs) -> Result<ExitCode> {
    let shard = args.shard.as_deref().map(Shard::parse).transpose().map_err(anyhow::Error::msg)?;
    let threads = match args.threads {
        Some(0) => anyhow::bail!("--threads 0: expected at least 1"),
        Some(n) => n.min(run::THREADS_MAX),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let spec = spec::load(&args.sweep)?;
    let points = design::points(&spec);
    run::validate_all(&spec, &points)?;
    let in_shard = points.iter().filter(|p| shard.is_none_or(|s| s.has(p.index))).count();
    if args.dry_run {
        println!(
            "{}: ok: {} points × {} replica{} = {} runs ({} design), seeds {}..={}{}",
            args.sweep.display(),
            points.len(),
            spec.replicas,
            if spec.replicas == 1 { "" } else { "s" },
            points.len() * spec.replicas as usize,
            spec.design.name(),
            spec.seed,
            spec.seed + u64::from(spec.replicas) - 1,
            shard.map_or(String::new(), |s| format!("; shard {}/{}: {in_shard} points", s.index, s.count)),
        );
        for p in points.iter().filter(|p| shard.is_none_or(|s| s.has(p.index))).take(10) {
            println!("  point {}: {}", p.index, p.assignment(&spec));
        }
        if in_shard > 10 {
            println!("  ... {} more", in_shard - 10);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.sweep));
    let tag = run::tmp_tag(shard);
    run::prepare_out(&out, &spec, points.len(), args.force, &tag)?;
    install_stop_handler();
    let bar = progress_bar(args.quiet, &spec.name);
    let started = std::time::Instant::now();
    let outcome =
        run::run(&spec, &points, &RunOptions { out: &out, threads, shard, stop: &STOP, progress: bar.as_ref() })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let secs = started.elapsed().as_secs_f64();
    let done = outcome.resumed + outcome.ran;
    if outcome.stopped {
        eprintln!(
            "interrupted: {done} of {} points done ({} this run, {} resumed), kept in {}; rerun the same command to resume",
            outcome.in_shard,
            outcome.ran,
            outcome.resumed,
            out.join(run::POINTS_DIR).display()
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    let head = format!(
        "{}: {} points × {} replica{}, {} run on {threads} thread{} in {secs:.1} s, {} resumed",
        spec.name,
        outcome.in_shard,
        spec.replicas,
        if spec.replicas == 1 { "" } else { "s" },
        outcome.ran,
        if threads == 1 { "" } else { "s" },
        outcome.resumed
    );
    if let Some(s) = shard {
        if !args.quiet {
            println!(
                "{head}\nshard {}/{} done: {}; combine the shards with `clipsim merge DIR... --out DIR`",
                s.index,
                s.count,
                out.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let stats = load_stats(&out, &spec, points.len())?;
    output::write_outputs(&out, &spec, &stats, &tag)?;
    warn_builds(&stats);
    if outcome.resumed > 0 {
        warn_other_build(&stats);
    }
    if !args.quiet {
        println!("{head}\n{}", verdict_line(&stats));
        println!("sweep: {}", out.join("sweep.md").display());
    }
    Ok(ExitCode::SUCCESS)
}

fn warn_builds(stats: &[aggregate::PointStats]) {
    let builds = output::builds(stats);
    if builds.len() > 1 {
        eprintln!(
            "warning: the point files come from {} different clipsim builds: {}",
            builds.len(),
            builds.join("; ")
        );
    }
}

/// This binary's build as the point files name it.
fn this_build() -> String {
    aggregate::build_label(env!("CARGO_PKG_VERSION"), env!("CLIPSIM_GIT_COMMIT"))
}

/// Warns when resumed points were simulated by another build than this one (a sweep resumed
/// after an upgrade would otherwise mix two simulators without a word).
fn warn_other_build(stats: &[aggregate::PointStats]) {
    let this = this_build();
    let other = stats.iter().filter(|p| p.build != this).count();
    if other > 0 {
        eprintln!(
            "warning: {other} of {} points were simulated by another build ({}), not by this one ({this}): \
             rerun into a fresh directory to compare like with like",
            stats.len(),
            output::builds(stats).into_iter().filter(|b| *b != this).collect::<Vec<_>>().join("; ")
        );
    }
}

fn verdict_line(stats: &[aggregate::PointStats]) -> String {
    match output::recommended(stats) {
        Some(i) => {
            let p = &stats[i];
            let set: Vec<String> = p.assignment.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            format!(
                "recommended: point {} ({}): bill {}, every target met",
                p.index,
                set.join(", "),
                crate::report::format::usd(p.bill.mean)
            )
        }
        None => format!("no point meets every target; {} nearly do", stats.iter().filter(|p| p.nearly).count()),
    }
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
    warn_builds(&stats);
    Ok((spec, stats))
}

/// `clipsim merge`.
pub fn cli_merge(args: MergeArgs) -> Result<ExitCode> {
    let (spec, stats) = merge(&args.dirs, &args.out, args.force)?;
    if !args.quiet {
        println!(
            "{}: merged {} points from {} director{}",
            spec.name,
            stats.len(),
            args.dirs.len(),
            if args.dirs.len() == 1 { "y" } else { "ies" }
        );
        println!("{}", verdict_line(&stats));
        println!("sweep: {}", args.out.join("sweep.md").display());
    }
    Ok(ExitCode::SUCCESS)
}
