//! `clipsim sensitivity`: which assumption decides each verdict, with a progress bar and Ctrl-C
//! handling (a stopped analysis writes nothing: its results would be partial).

use super::stdout::Stdout;
use super::{load_scenario, EXIT_INTERRUPTED};
use anyhow::{anyhow, Result};
use clipsim_sim::scenario::Overrides;
use clipsim_sim::sensitivity::{self, assumptions, Options, SensitivityError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// The shipped assumptions file, built in for use outside the checkout.
const ASSUMPTIONS: &str = include_str!("../../scenarios/sensitivity/assumptions.toml");
/// Where the shipped file is in the checkout.
const ASSUMPTIONS_FILE: &str = "scenarios/sensitivity/assumptions.toml";

/// Arguments of `clipsim sensitivity`.
#[derive(Debug, clap::Args)]
pub struct SensitivityArgs {
    /// The scenario file, or a built-in scenario's name.
    pub scenario: PathBuf,
    /// The assumptions to vary and their ranges [default: scenarios/sensitivity/assumptions.toml, or the
    /// built-in copy of it outside the checkout].
    #[arg(long)]
    pub assumptions: Option<PathBuf>,
    /// Where to write the results [default: reports/sensitivity/NAME/, NAME being the scenario
    /// file name without .toml; `clipsim run` of the scenario reads them from there].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replicas (seeds) of every setting.
    #[arg(long, default_value_t = 5)]
    pub replicas: u32,
    /// Halvings of the bracket around each value at which a verdict turns (0: no bisection).
    #[arg(long, default_value_t = 6)]
    pub bisect_steps: u32,
    /// Worlds of the global variant: every assumption drawn at once (a Latin hypercube); 0 for none.
    #[arg(long, default_value_t = 40)]
    pub worlds: u32,
    /// Seed of the global variant's Latin hypercube.
    #[arg(long, default_value_t = 1)]
    pub sample_seed: u64,
    /// Threads [default: the number of cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

static STOP: AtomicBool = AtomicBool::new(false);

struct Bar(Option<indicatif::ProgressBar>);

impl sensitivity::Progress for Bar {
    fn planned(&self, runs: u64) {
        if let Some(b) = &self.0 {
            b.inc_length(runs);
        }
    }
    fn done(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }
}

/// The default output directory of a scenario's sensitivity analysis.
pub fn default_out(scenario: &Path) -> PathBuf {
    let stem = scenario.file_stem().map_or("run".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from("reports").join("sensitivity").join(stem)
}

/// `clipsim sensitivity`.
pub fn cli_sensitivity(args: SensitivityArgs) -> Result<ExitCode> {
    let max = clipsim_sim::scenario::REPLICAS_MAX;
    anyhow::ensure!((1..=max).contains(&args.replicas), "--replicas {}: expected 1 to {max}", args.replicas);
    anyhow::ensure!(args.bisect_steps <= 30, "--bisect-steps {}: expected 0 to 30", args.bisect_steps);
    anyhow::ensure!(args.worlds <= 10_000, "--worlds {}: expected 0 to 10000", args.worlds);
    let threads = match args.threads {
        Some(0) => anyhow::bail!("--threads 0: expected at least 1"),
        Some(t) => t,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let (sc, _) = load_scenario(&args.scenario, &Overrides::default())?;
    let list = match &args.assumptions {
        Some(p) => assumptions::load(p)?,
        None if Path::new(ASSUMPTIONS_FILE).exists() => assumptions::load(Path::new(ASSUMPTIONS_FILE))?,
        None => assumptions::from_text(Path::new("assumptions.toml (built in)"), ASSUMPTIONS)?,
    };
    let need = super::memory::check(&args.scenario, &sc)?;
    if threads > 1 {
        super::memory::check_at_once(&args.scenario, need, super::memory::AtOnce::Replicas, threads)?;
    }
    let name = sc.name.clone();
    let plan = sensitivity::Plan::new(sc, list)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.scenario));
    let opts = Options {
        replicas: args.replicas,
        threads,
        bisect_steps: args.bisect_steps,
        worlds: args.worlds,
        sample_seed: args.sample_seed,
    };
    if !args.quiet {
        let active = plan.active().len();
        eprintln!(
            "{name}: {active} assumptions × 2 ends × {} replicas, then bisection{}",
            args.replicas,
            if args.worlds > 0 {
                format!(", then {} worlds × {} replicas", args.worlds, args.replicas)
            } else {
                String::new()
            }
        );
    }
    let r = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        eprintln!("\nstopping: nothing is written (a partial analysis would mislead)");
    });
    if let Err(e) = r {
        eprintln!("warning: cannot catch Ctrl-C ({e})");
    }
    let bar = Bar(super::progress_bar(args.quiet, &name, "{pos}/{len} runs, {elapsed} elapsed, ETA {eta}", Some(0)));
    let report = match sensitivity::run(&plan, &opts, &bar, &STOP) {
        Ok(r) => r,
        Err(SensitivityError::Stopped) => return Ok(ExitCode::from(EXIT_INTERRUPTED)),
        Err(SensitivityError::Input(e)) => return Err(e.into()),
        Err(e) => return Err(anyhow!("{}: {e}", args.scenario.display())),
    };
    if let Some(b) = &bar.0 {
        b.finish_and_clear();
    }
    sensitivity::output::write(&out, &report)?;
    if !args.quiet {
        let mut o = Stdout::lock();
        for t in &report.base {
            let flips: Vec<String> = report
                .flips
                .iter()
                .filter(|f| f.target == t.target)
                .map(|f| format!("{} at about {}", f.assumption, f.at))
                .collect();
            let verdict = if t.pass { "pass" } else { "FAIL" };
            let turned = if flips.is_empty() {
                "no assumption turns it".to_string()
            } else {
                format!("turned by {}", flips.join("; "))
            };
            writeln!(o, "  {:<24} {verdict:<5} {turned}", t.target.key())?;
        }
        if let Some(g) = &report.global {
            writeln!(
                o,
                "  every target met in {} of {} plausible worlds ({:.0} %)",
                g.all_pass,
                g.worlds,
                100.0 * g.all_pass_probability.mean
            )?;
        }
        writeln!(o, "report: {}", out.join("sensitivity.md").display())?;
    }
    Ok(ExitCode::SUCCESS)
}
