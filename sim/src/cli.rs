//! The `clipsim` command line. Exit status: 0 success, 1 a target failed under `--check`,
//! 2 bad input or an error writing output (the message names the file and the problem).

use crate::report;
use crate::scenario::{self, Overrides};
use crate::world::{Progress, World};
use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand};
use clipsim_engine::SimTime;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

/// The scenario `cargo run --release` runs when given no arguments.
pub const DEFAULT_SCENARIO: &str = "scenarios/seed-baseline.toml";

/// clipsim: a deterministic simulator for clip mirroring and CDN delivery.
#[derive(Debug, Parser)]
#[command(name = "clipsim", version, about, long_about = None)]
pub struct Cli {
    /// What to do (default: `run` the default scenario).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write its report.
    Run(RunArgs),
    /// Check a scenario file without running it.
    Validate {
        /// The scenario file.
        scenario: PathBuf,
        /// A `.env` file whose CDN_* and MIRROR_* variables override the scenario.
        #[arg(long)]
        env: Option<PathBuf>,
    },
    /// Compare two runs side by side (their report directories).
    Compare {
        /// The baseline run's directory.
        run_a: PathBuf,
        /// The other run's directory.
        run_b: PathBuf,
    },
    /// Run a parameter sweep: a base scenario, axes of values, replicas (docs/sweeps.md).
    Sweep(crate::sweep::SweepArgs),
    /// Merge the output directories of a sharded sweep into the unsharded result.
    Merge(crate::sweep::MergeArgs),
}

/// Arguments of `run`.
#[derive(Debug, Default, clap::Args)]
pub struct RunArgs {
    /// The scenario file [default: scenarios/seed-baseline.toml].
    pub scenario: Option<PathBuf>,
    /// Where to write the report [default: reports/<scenario name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// A `.env` file whose CDN_* and MIRROR_* variables override the scenario.
    #[arg(long)]
    pub env: Option<PathBuf>,
    /// Exit with status 1 when a target is missed (for CI).
    #[arg(long)]
    pub check: bool,
    /// Replace the output directory even if clipsim did not make it.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs the command line; returns the process exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Run(args) => run(args),
        Command::Validate { scenario, env } => {
            let sc = scenario::load(&scenario, &Overrides { env_file: env, ..Default::default() })?;
            println!(
                "{}: ok: \"{}\", {} clips, {} regions, {} geographies, {} simulated, CDN {}, mirrors {}",
                scenario.display(),
                sc.name,
                sc.catalog.clips,
                sc.engine.regions.len(),
                sc.geos.len(),
                sc.duration,
                sc.cdn.as_ref().map_or("off".to_string(), |c| c.name.clone()),
                if sc.engine.mirror.enabled { "on" } else { "off" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare { run_a, run_b } => {
            print!("{}", crate::report::compare::compare_dirs(&run_a, &run_b)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Sweep(args) => crate::sweep::cli_sweep(args),
        Command::Merge(args) => crate::sweep::cli_merge(args),
    }
}

struct Bar(Option<indicatif::ProgressBar>);

impl Progress for Bar {
    fn at(&mut self, now: SimTime) {
        if let Some(b) = &self.0 {
            b.set_position(now.as_secs());
        }
    }
}

fn default_out(path: &Path) -> PathBuf {
    let stem = path.file_stem().map_or("run".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from("reports").join(stem)
}

fn run(args: RunArgs) -> Result<ExitCode> {
    let path = args.scenario.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_SCENARIO));
    let overrides = Overrides { seed: args.seed, env_file: args.env.clone(), note: None };
    let sc = scenario::load(&path, &overrides)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&path));
    let duration_s = sc.duration.as_secs();
    let name = sc.name.clone();
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(duration_s);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:40}] {percent}% of simulated time, ETA {eta}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        b.set_message(name.clone());
        b
    });
    let world = World::new(sc).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let stop = AtomicBool::new(false);
    let mut progress = Bar(bar);
    let result = world.run(&mut progress, &stop);
    if let Some(b) = &progress.0 {
        b.finish_and_clear();
    }
    let dir = report::write(&result, &out, args.force)
        .with_context(|| format!("writing the report of {}", path.display()))?;
    let summary = report::summarize(&result);
    if !args.quiet {
        println!("{}", headline(&summary, &dir));
    }
    let failed = summary.targets.iter().any(|t| !t.pass);
    Ok(if args.check && failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn headline(s: &report::Summary, dir: &Path) -> String {
    let mut out = format!(
        "{}: {} requests, availability {}, P50 {} ms, cost ${:.2} (${}/GB)\n",
        s.scenario.name,
        s.requests.total,
        s.availability.map_or("n/a".into(), |a| format!("{:.4} %", a * 100.0)),
        s.latency_ms.p50.map_or("n/a".into(), |v| format!("{v:.0}")),
        s.cost_usd["total"],
        s.cost_per_gb_usd.map_or("n/a".into(), |c| format!("{c:.4}")),
    );
    for t in &s.targets {
        out.push_str(&format!(
            "  {:<24} {} {:<12} actual {:<14} {}\n",
            t.name,
            t.direction,
            t.target,
            t.actual.map_or("n/a".into(), |a| format!("{a:.6}")),
            if t.pass { "pass" } else { "FAIL" }
        ));
    }
    out.push_str(&format!("report: {}", dir.join("report.md").display()));
    out
}
