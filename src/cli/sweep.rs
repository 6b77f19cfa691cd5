//! `clipsim sweep` and `clipsim merge`: the command line around the library's sweeps, with the
//! progress bar and the Ctrl-C handling a terminal user expects.

use super::stdout::Stdout;
use super::EXIT_INTERRUPTED;
use anyhow::Result;
use clipsim_sim::sweep::run::{self, RunOptions, Shard, SweepProgress};
use clipsim_sim::sweep::{self, aggregate, design, load_stats, output, spec};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// Exit with status 1 when no point meets every target (for CI; results are written first).
    #[arg(long)]
    pub check: bool,
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
    /// Exit with status 1 when no point meets every target (for CI; results are written first).
    #[arg(long)]
    pub check: bool,
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

/// The sweep's progress bar on stderr.
struct SweepBar(indicatif::ProgressBar);

impl SweepProgress for SweepBar {
    fn started(&self, points: usize) {
        self.0.set_length(points as u64);
        self.0.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        self.0.enable_steady_tick(std::time::Duration::from_millis(200));
    }

    fn point_done(&self) {
        self.0.inc(1);
    }
}

fn progress_bar(quiet: bool, name: &str) -> Option<SweepBar> {
    // Hidden until the runner knows how many points there are to run.
    super::progress_bar(quiet, name, "{pos}/{len} points, {elapsed} elapsed, ETA {eta}", None).map(SweepBar)
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
    let (largest, largest_index) = run::validate_all(&spec, &points)?;
    let in_shard = points.iter().filter(|p| shard.is_none_or(|s| s.has(p.index))).count();
    // Before anything runs: the points that run at once must fit together.
    super::memory::check_at_once(
        &args.sweep,
        largest,
        super::memory::AtOnce::Points(largest_index),
        threads.min(in_shard),
    )?;
    if args.dry_run {
        let mut stdout = Stdout::lock();
        writeln!(
            stdout,
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
        )?;
        for p in points.iter().filter(|p| shard.is_none_or(|s| s.has(p.index))).take(10) {
            writeln!(stdout, "  point {}: {}", p.index, p.assignment(&spec))?;
        }
        if in_shard > 10 {
            writeln!(stdout, "  ... {} more", in_shard - 10)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.sweep));
    let tag = run::tmp_tag(shard);
    run::prepare_out(&out, &spec, points.len(), args.force, &tag)?;
    install_stop_handler();
    let bar = progress_bar(args.quiet, &spec.name);
    let started = std::time::Instant::now();
    let outcome = run::run(
        &spec,
        &points,
        &RunOptions { out: &out, threads, shard, stop: &STOP, progress: bar.as_ref().map(|b| b as &dyn SweepProgress) },
    )?;
    if let Some(b) = &bar {
        b.0.finish_and_clear();
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
            writeln!(
                Stdout::lock(),
                "{head}\nshard {}/{} done: {}; combine the shards with `clipsim merge DIR... --out DIR`",
                s.index,
                s.count,
                out.display()
            )?;
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
        let mut stdout = Stdout::lock();
        writeln!(stdout, "{head}\n{}", verdict_line(&stats))?;
        writeln!(stdout, "sweep: {}", out.join("sweep.md").display())?;
    }
    Ok(check_status(args.check, &stats))
}

/// Exit status 1 under `--check` when no point meets every target, else success.
fn check_status(check: bool, stats: &[aggregate::PointStats]) -> ExitCode {
    if check && output::recommended(stats).is_none() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
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

/// Warns when resumed points were simulated by another build than this one (a sweep resumed
/// after an upgrade would otherwise mix two simulators without a word).
fn warn_other_build(stats: &[aggregate::PointStats]) {
    let this = sweep::this_build();
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
                clipsim_sim::report::format::usd(p.bill.mean)
            )
        }
        None => format!("no point meets every target; {} nearly do", stats.iter().filter(|p| p.nearly).count()),
    }
}

/// `clipsim merge`.
pub fn cli_merge(args: MergeArgs) -> Result<ExitCode> {
    let (spec, stats) = sweep::merge(&args.dirs, &args.out, args.force)?;
    warn_builds(&stats);
    if !args.quiet {
        let mut stdout = Stdout::lock();
        writeln!(
            stdout,
            "{}: merged {} points from {} director{}",
            spec.name,
            stats.len(),
            args.dirs.len(),
            if args.dirs.len() == 1 { "y" } else { "ies" }
        )?;
        writeln!(stdout, "{}", verdict_line(&stats))?;
        writeln!(stdout, "sweep: {}", args.out.join("sweep.md").display())?;
    }
    Ok(check_status(args.check, &stats))
}
