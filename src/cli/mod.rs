//! The `clipsim` command line. Exit status: 0 success, 1 a target failed under `--check`,
//! 2 bad input or an error writing output, standard output included (the message names the file
//! and the problem), 130 interrupted by Ctrl-C or SIGTERM, 141 standard output's reader gone.

mod builtin;
mod conformance;
mod import;
mod memory;
mod request_log;
mod sensitivity;
mod stdout;
mod sweep;

use anyhow::{anyhow, Context, Result};
use clap::{CommandFactory, Parser, Subcommand};
use clipsim_engine::SimTime;
use clipsim_sim::report;
use clipsim_sim::scenario::{self, Overrides};
use clipsim_sim::world::Progress;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use stdout::Stdout;

/// Exit status of a run or sweep stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

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
    #[command(after_help = "Examples:\n  clipsim run scenarios/region-outage.toml\n  \
                            clipsim run scenarios/seed-baseline.toml --env prod.env --out reports/prod --check")]
    Run(RunArgs),
    /// Check a scenario file without running it.
    #[command(after_help = "Example:\n  clipsim validate scenarios/seed-baseline.toml --env prod.env")]
    Validate {
        /// The scenario file, or a built-in scenario's name.
        scenario: PathBuf,
        /// A `.env` file whose CDN_* and MIRROR_* variables override the scenario.
        #[arg(long)]
        env: Option<PathBuf>,
    },
    /// Compare runs side by side (their report directories): the inputs they differ in, every
    /// figure's difference from the first, the verdicts.
    #[command(after_help = "Examples:\n  clipsim compare reports/seed-baseline reports/seed-no-cdn\n  \
                            clipsim compare reports/a reports/b reports/c --format json")]
    Compare {
        /// The report directories: the first is the baseline (A), the others B, C, ...
        #[arg(required = true, num_args = 2..)]
        runs: Vec<PathBuf>,
        /// md (Markdown tables) or json.
        #[arg(long, default_value = "md", value_parser = ["md", "json"])]
        format: String,
    },
    /// Replay a trace through one cache and print its miss ratios.
    #[command(
        after_help = "Examples:\n  clipsim replay tests/data/traces/cloudPhysicsIO.oracleGeneral.bin --policy s3fifo --size 10%\n  \
                            clipsim replay TRACE.csv --id-col lbn --size 0.01,0.1,0.3"
    )]
    Replay(ReplayArgs),
    /// Miss-ratio curves of a trace: CSV and an SVG chart, for several policies and sizes.
    #[command(
        after_help = "Example:\n  clipsim mrc tests/data/traces/cloudPhysicsIO.oracleGeneral.bin --sizes 1%,10%,30% --out reports/mrc"
    )]
    Mrc(MrcArgs),
    /// Trace tools.
    #[command(
        after_help = "Example:\n  clipsim trace generate scenarios/viral-spike.toml --out spike.oracleGeneral.bin.zst"
    )]
    Trace {
        /// What to do.
        #[command(subcommand)]
        command: TraceCommand,
    },
    /// Run a parameter sweep: a base scenario, axes of values, replicas (docs/sweeps.md).
    #[command(after_help = "Examples:\n  clipsim sweep scenarios/sweeps/quick.toml\n  \
                            clipsim sweep scenarios/sweeps/seed-thresholds.toml --shard 0/4 --out shard0")]
    Sweep(sweep::SweepArgs),
    /// What-if: vary each uncertain assumption between its plausible ends and find which ones turn
    /// each target's verdict, and where (docs/uncertainty.md).
    #[command(after_help = "Examples:\n  clipsim sensitivity scenarios/seed-baseline.toml\n  \
                            clipsim sensitivity scenarios/seed-baseline.toml --assumptions my-ranges.toml --replicas 10")]
    Sensitivity(sensitivity::SensitivityArgs),
    /// Write the engine's inputs and outputs of a run as versioned JSON Lines vectors for another
    /// implementation to replay, or replay vectors through this engine (docs/conformance.md).
    #[command(
        after_help = "Examples:\n  clipsim conformance tests/data/conformance/small.toml --out vectors.jsonl\n  \
                            clipsim conformance --check vectors.jsonl"
    )]
    Conformance(conformance::ConformanceArgs),
    /// Merge the output directories of a sharded sweep into the unsharded result.
    #[command(after_help = "Example:\n  clipsim merge shard0 shard1 shard2 --out reports/sweeps/seed-thresholds")]
    Merge(sweep::MergeArgs),
    /// Write a built-in scenario into a directory to start from (DIR/scenario.toml).
    #[command(after_help = "Examples:\n  clipsim init my-plan && clipsim run my-plan/scenario.toml\n  \
                            clipsim init my-plan --from region-outage\n  clipsim init --list")]
    Init {
        /// The directory (made if missing) [default: the current directory].
        dir: Option<PathBuf>,
        /// The built-in scenario to start from.
        #[arg(long, default_value = "seed-baseline")]
        from: String,
        /// List the built-in scenarios and stop.
        #[arg(long)]
        list: bool,
        /// Replace an existing DIR/scenario.toml.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Examples:\n  clipsim completions bash > ~/.local/share/bash-completion/completions/clipsim\n  \
                            clipsim completions zsh > ~/.zfunc/_clipsim\n  \
                            clipsim completions fish > ~/.config/fish/completions/clipsim.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff): clipsim's, or a subcommand's (clipsim-run, ...).
    #[command(after_help = "Examples:\n  clipsim man | man -l -\n  clipsim man sweep | man -l -\n  \
                            clipsim man > ~/.local/share/man/man1/clipsim.1")]
    Man {
        /// The subcommand whose page to print [default: clipsim's own page].
        subcommand: Option<String>,
    },
}

/// Arguments of `run`.
#[derive(Debug, Default, clap::Args)]
pub struct RunArgs {
    /// The scenario file, or a built-in scenario's name (`clipsim init --list`) [default:
    /// scenarios/seed-baseline.toml, or the built-in seed-baseline outside the checkout].
    pub scenario: Option<PathBuf>,
    /// Where to write the report [default: reports/NAME/, NAME being the scenario file name without .toml].
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
    /// Seeds to run, `seed` to `seed + N - 1`, for a mean and 95 % interval of every figure; the
    /// report is replica 0's with a "How sure is this?" section [default: the scenario's
    /// `replicas`, 1].
    #[arg(long)]
    pub replicas: Option<u32>,
    /// Independent billing months to simulate (the scenario must run one month): replicas whose
    /// spread of monthly availability and share of months meeting each target the report gives,
    /// the way an SLO is judged. The same runs as --replicas N.
    #[arg(long, value_name = "N", conflicts_with = "replicas")]
    pub months: Option<u32>,
    /// Serve this trace's requests instead of the synthetic workload (as `[traffic] trace`; a
    /// trace of `clipsim trace import` or `trace generate`, CSV or oracleGeneral, optionally
    /// .zst): clips uploaded at their first views, geographies from its `geo` column (or drawn
    /// by the scenario's shares), run time 0 the UTC midnight before its first request.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Threads the replicas run on [default: the number of cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also write every request served and the simulated edge's result, as a trace with the
    /// CDN's results (`time,obj_id,size,geo,cache`, as `trace import` writes): the log the
    /// simulated CDN would have kept, for `--trace` runs to calibrate against. One replica.
    #[arg(long, value_name = "FILE")]
    pub request_log: Option<PathBuf>,
    /// Also write the seed's metrics over simulated time in the OpenMetrics text format (one
    /// sample per report interval, timestamps from the scenario's `start` date), for `promtool
    /// tsdb create-blocks-from openmetrics` to backfill into Prometheus (docs/integrations.md).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// Where the scenario's sensitivity analysis is, for the report's "How sure is this?" section
    /// [default: sensitivity/NAME/ beside the report directory (reports/sensitivity/NAME/ for the
    /// default reports/NAME/), where `clipsim sensitivity` writes it, if it is there].
    #[arg(long, value_name = "DIR")]
    pub sensitivity: Option<PathBuf>,
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
    match dispatch(cli).and_then(|code| stdout::flush().map(|()| code)) {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<stdout::BrokenPipe>().is_some() => ExitCode::from(stdout::EXIT_BROKEN_PIPE),
        Err(e) => {
            // Not eprintln!, which panics when standard error cannot be written either.
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Run(args) => run(args),
        Command::Validate { scenario, env } => {
            let overrides = Overrides { env_file: env, whole_trace: true, ..Default::default() };
            let (sc, _) = load_scenario(&scenario, &overrides)?;
            // `validate` refuses what `run` could not hold.
            let need = memory::check(&scenario, &sc)?;
            let mut stdout = Stdout::lock();
            writeln!(
                stdout,
                "{}: ok: \"{}\", {} clips, {} regions, {} geographies, {} simulated, CDN {}, mirrors {}; up to {} of memory",
                scenario.display(),
                sc.name,
                clipsim_sim::report::format::count(u64::from(sc.catalog.clips)),
                sc.engine.regions.len(),
                sc.geos.len(),
                sc.duration,
                sc.cdn.as_ref().map_or("off".to_string(), |c| match &c.second {
                    None => c.name.clone(),
                    Some(s) => format!(
                        "{} and {} ({})",
                        c.name,
                        s.name,
                        match s.mode {
                            clipsim_engine::MultiCdn::Failover => "failover".to_string(),
                            clipsim_engine::MultiCdn::CostSplit { min_share_pct } =>
                                format!("cost-split, the pricier keeping {min_share_pct} %"),
                        }
                    ),
                }),
                match (sc.engine.mirror.enabled, sc.engine.mirror.regions.is_empty()) {
                    (false, _) => "off",
                    (true, true) => "on, but in no region (mirror.regions is empty)",
                    (true, false) => "on",
                },
                memory::mb(need)
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare { runs, format } => {
            use clipsim_sim::report::compare;
            let runs = compare::load_runs(&runs)?;
            let text = match format.as_str() {
                "json" => format!("{:#}\n", compare::compare_json(&runs)),
                _ => compare::compare_md(&runs),
            };
            write!(Stdout::lock(), "{text}")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay(args) => replay(args),
        Command::Mrc(args) => mrc(args),
        Command::Trace { command: TraceCommand::Generate(args) } => trace_generate(args),
        Command::Trace { command: TraceCommand::Import(args) } => import::trace_import(args),
        Command::Trace { command: TraceCommand::Fit(args) } => trace_fit(args),
        Command::Sweep(args) => sweep::cli_sweep(args),
        Command::Merge(args) => sweep::cli_merge(args),
        Command::Conformance(args) => conformance::cli_conformance(args),
        Command::Sensitivity(args) => sensitivity::cli_sensitivity(args),
        Command::Init { dir, from, list, force } => init(dir, &from, list, force),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "clipsim", &mut out);
            Stdout::lock().write_all(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { subcommand } => {
            let mut out = Vec::new();
            man_page(subcommand.as_deref(), &mut out)?;
            Stdout::lock().write_all(&out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `clipsim init`: a built-in scenario written to DIR/scenario.toml, atomically, never over an
/// existing file unless `force`.
fn init(dir: Option<PathBuf>, from: &str, list: bool, force: bool) -> Result<ExitCode> {
    if list {
        let mut stdout = Stdout::lock();
        for (name, text) in builtin::SCENARIOS {
            let raw = scenario::parse_raw(Path::new(name), text)?;
            writeln!(stdout, "{name:<14} {}", raw.scenario.description.unwrap_or_default())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (_, text) = builtin::find(from)
        .ok_or_else(|| anyhow!("--from {from}: expected a built-in scenario: one of {}", builtin::names()))?;
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir).with_context(|| format!("making {}", dir.display()))?;
    let dest = dir.join("scenario.toml");
    let staged = report::StagedFile::begin(&dest, force, &[])?;
    std::fs::write(staged.path(), text).with_context(|| format!("writing {}", dest.display()))?;
    staged.commit()?;
    writeln!(
        Stdout::lock(),
        "wrote {} (the built-in {from} scenario): edit it, then `clipsim run {}`",
        dest.display(),
        dest.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The man page of clipsim or of one of its subcommands, as `clipsim-NAME(1)`.
fn man_page(subcommand: Option<&str>, out: &mut Vec<u8>) -> Result<()> {
    let cmd = Cli::command();
    let page = match subcommand {
        None => cmd,
        Some(name) => {
            let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
            let sub = cmd
                .find_subcommand(name)
                .ok_or_else(|| anyhow!("man {name}: expected a subcommand: one of {}", names.join(", ")))?;
            let full = format!("clipsim-{name}");
            sub.clone().name(full.clone()).display_name(full).bin_name(format!("clipsim {name}"))
        }
    };
    clap_mangen::Man::new(page).render(out)?;
    Ok(())
}

/// A progress bar on stderr when it is a terminal and not `--quiet`: `{spinner} NAME [bar] what`,
/// `what` an indicatif template; with no `len`, hidden until the length is known.
fn progress_bar(quiet: bool, name: &str, what: &str, len: Option<u64>) -> Option<indicatif::ProgressBar> {
    (!quiet && std::io::stderr().is_terminal()).then(|| {
        let b = match len {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::hidden()),
        };
        b.set_style(
            indicatif::ProgressStyle::with_template(&format!("{{spinner}} {{msg}} [{{bar:40}}] {what}"))
                .expect("a valid template")
                .progress_chars("=> "),
        );
        b.set_message(name.to_string());
        b
    })
}

struct Bar(Option<indicatif::ProgressBar>);

impl Progress for Bar {
    fn at(&mut self, now: SimTime) {
        if let Some(b) = &self.0 {
            b.set_position(now.as_secs());
        }
    }
}

/// Loads the scenario `arg` names: a file, or a built-in scenario ([`builtin`]). Returns it with
/// the scenario files it read (none for a built-in one), which no output may replace.
fn load_scenario(arg: &Path, overrides: &Overrides) -> Result<(scenario::Scenario, Option<PathBuf>)> {
    match builtin::resolve(arg) {
        builtin::Source::File(path) => {
            let sc = scenario::load(&path, overrides).map_err(|e| {
                let missing = e.expected.starts_with("cannot read the file") && !path.exists();
                let hint = if missing { format!(" (built-in scenarios: {})", builtin::names()) } else { String::new() };
                anyhow!("{e}{hint}")
            })?;
            Ok((sc, Some(path)))
        }
        builtin::Source::Builtin { path, text } => Ok((scenario::from_str(&path, text, overrides)?, None)),
    }
}

fn default_out(path: &Path) -> PathBuf {
    let stem = path.file_stem().map_or("run".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from("reports").join(stem)
}

fn run(args: RunArgs) -> Result<ExitCode> {
    // Outside the checkout, the default scenario is the built-in one of the same name.
    let path = args.scenario.clone().unwrap_or_else(|| match Path::new(DEFAULT_SCENARIO).exists() {
        true => PathBuf::from(DEFAULT_SCENARIO),
        false => PathBuf::from("seed-baseline"),
    });
    let trace = args.trace.as_deref().map(std::path::absolute).transpose()?;
    let overrides = Overrides { seed: args.seed, env_file: args.env.clone(), trace, ..Default::default() };
    let (sc, file) = load_scenario(&path, &overrides)?;
    if let Some(m) = args.months {
        let month = sc.engine.billing.month;
        anyhow::ensure!(
            sc.duration == month,
            "--months {m}: simulates independent billing months, but {} runs {} and its billing month is {}; \
             set scenario.duration to {} (or use --replicas {m} for {m} runs of it as it is)",
            path.display(),
            sc.duration,
            month,
            month
        );
    }
    let replicas = args.months.or(args.replicas).unwrap_or(sc.replicas);
    let max = clipsim_sim::scenario::REPLICAS_MAX;
    anyhow::ensure!((1..=max).contains(&replicas), "--replicas (or --months) {replicas}: expected 1 to {max}");
    let threads = match args.threads {
        Some(0) => anyhow::bail!("--threads 0: expected at least 1"),
        Some(t) => t,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    // Before anything is allocated: a run this process cannot hold is refused, not aborted.
    let need = memory::check(&path, &sc)?;
    let at_once = threads.min(replicas as usize);
    if at_once > 1 {
        memory::check_at_once(&path, need, memory::AtOnce::Replicas, at_once)?;
    }
    let out = args.out.clone().unwrap_or_else(|| default_out(&path));
    // By default beside the report directory, where `clipsim sensitivity` writes it when the
    // report is in its default place (reports/NAME/ and reports/sensitivity/NAME/).
    let beside = || {
        out.parent()
            .unwrap_or(Path::new(""))
            .join(sensitivity::default_out(&path).strip_prefix("reports").unwrap_or(Path::new("")))
    };
    let analysis = args.sensitivity.clone().unwrap_or_else(beside).join("sensitivity.json");
    if args.sensitivity.is_some() && !analysis.exists() {
        anyhow::bail!("--sensitivity: {} does not exist (run clipsim sensitivity first)", analysis.display());
    }
    let name = sc.name.clone();
    // Check the destination before simulating, so that a refused directory costs no work. The
    // handler is in place before the staging directory exists: a signal from then on stops the
    // run at its first check and leaves a partial report, never a staging directory.
    install_stop_handler("writing a partial report (Ctrl-C again to quit without one)");
    let staging = report::Staging::begin(&out, args.force, &inputs(file.as_deref(), &args.env))?;
    let metrics = match &args.metrics {
        Some(p) => Some(report::StagedFile::begin(p, args.force, &inputs(file.as_deref(), &args.env))?),
        None => None,
    };
    if let (Some(s), false) = (&sc.steady_state, args.quiet) {
        eprintln!("{name}: settling (a pilot run of up to {} until the mirrors and edges hold still)", s.max);
    }
    // The bar follows replica 0 (after its steady-state pilot, which can lengthen the run).
    let pre_run = sc.steady_state.as_ref().map_or(0, |s| s.max.as_secs());
    let bar = progress_bar(
        args.quiet,
        &name,
        "{percent}% of simulated time, ETA {eta}",
        Some(sc.duration.as_secs() + pre_run),
    );
    let mut progress = Bar(bar);
    let result = match &args.request_log {
        None => clipsim_sim::replicas::run(sc, replicas, threads, &mut progress, &STOP),
        Some(log_path) => {
            anyhow::ensure!(replicas == 1, "--request-log: one replica only (not --replicas {replicas})");
            let log = request_log::RequestLog::begin(log_path, args.force, &sc, &inputs(file.as_deref(), &args.env))?;
            let r = clipsim_sim::replicas::run_logged(sc, log.sink(), &mut progress, &STOP);
            if r.as_ref().is_ok_and(|r| !r.interrupted) {
                log.commit()?;
            }
            r
        }
    }
    .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    if let Some(e) = &result.trace_error {
        anyhow::bail!("{e} (found in the run: nothing written)");
    }
    if let Some(b) = &progress.0 {
        b.finish_and_clear();
    }
    let mut summary = report::summarize(&result);
    if analysis.exists() {
        match clipsim_sim::sensitivity::read_report(&analysis) {
            Ok(r) => {
                let sha = clipsim_sim::sensitivity::text_sha256(&result.scenario.text);
                summary.sensitivity = Some(clipsim_sim::sensitivity::Note::of(&r, &analysis, &sha));
            }
            Err(e) => eprintln!("warning: the sensitivity analysis is left out of the report: {e}"),
        }
    }
    let dir = report::write_into(&result, &summary, staging)
        .with_context(|| format!("writing the report of {}", path.display()))?;
    if result.interrupted {
        eprintln!(
            "interrupted at simulated time {}: a partial report, marked as interrupted, is in {}",
            report::format::time(result.end),
            dir.display()
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    if let Some(staged) = metrics {
        let text = report::openmetrics::openmetrics(&result);
        std::fs::write(staged.path(), text).with_context(|| format!("writing {}", staged.dest().display()))?;
        staged.commit()?;
    }
    if !args.quiet {
        writeln!(Stdout::lock(), "{}", report::headline(&summary, &dir))?;
    }
    let failed = summary.targets.iter().any(|t| !t.pass);
    Ok(if args.check && failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Set by Ctrl-C / SIGTERM during `run` (the loop stops at the next event boundary and a partial
/// report is written) and `trace generate` (the unfinished trace is removed). A second signal
/// exits at once.
static STOP: AtomicBool = AtomicBool::new(false);

/// Catches Ctrl-C and SIGTERM into [`STOP`], saying what happens now (`then`).
fn install_stop_handler(then: &'static str) {
    let r = ctrlc::set_handler(move || {
        if STOP.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        let _ = writeln!(std::io::stderr(), "\nstopping: {then}");
    });
    if let Err(e) = r {
        let _ = writeln!(std::io::stderr(), "warning: cannot catch Ctrl-C ({e})");
    }
}

/// Held while a command with nothing half-done to keep writes its output: Ctrl-C waits for it.
static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// For `replay` and `mrc`, which keep nothing of an unfinished pass: Ctrl-C and SIGTERM end the
/// command at once with [`EXIT_INTERRUPTED`], after any output being written (while [`WRITING`]
/// is held) is complete. Installed rather than left to the default action, so that a signal
/// ignored by the parent (a shell's background job ignores SIGINT) still stops it.
fn install_quit_handler() {
    let r = ctrlc::set_handler(|| {
        let _writing = WRITING.lock();
        let _ = writeln!(std::io::stderr(), "\ninterrupted");
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
    if let Err(e) = r {
        let _ = writeln!(std::io::stderr(), "warning: cannot catch Ctrl-C ({e})");
    }
}

/// The files a command reads (a scenario file, if it is not built in, and a `.env` file), which
/// no output may replace.
fn inputs<'a>(scenario: Option<&'a Path>, env: &'a Option<PathBuf>) -> Vec<&'a Path> {
    scenario.into_iter().chain(env.as_deref()).collect()
}

/// Trace subcommands.
#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Write a scenario's synthetic requests as a trace (CSV or oracleGeneral, .zst to compress).
    Generate(GenerateArgs),
    /// Read CDN or web-server access logs (CloudFront, Cloudflare Logpush, nginx) into a trace.
    #[command(
        after_help = "Examples:\n  clipsim trace import logs/*.gz --format cloudfront --out month.csv.zst --clip-pattern '^/clips/([^/]+)'\n  \
                      clipsim trace import http_requests.ndjson --format cloudflare --out month.csv --max-bad 100"
    )]
    Import(import::ImportArgs),
    /// Estimate the synthetic workload's parameters from a trace: a scenario fragment with the
    /// fit's quality, and a rank-frequency chart of trace and fit.
    #[command(after_help = "Examples:\n  clipsim trace fit month.csv --out fitted.toml\n  \
                            clipsim trace fit cloudPhysicsIO.oracleGeneral.bin --out cp.toml --replicates 200")]
    Fit(FitArgs),
}

/// Arguments of `trace fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// The trace.
    pub trace: PathBuf,
    /// The scenario fragment to write (TOML); the chart goes beside it (NAME.svg).
    #[arg(long)]
    pub out: PathBuf,
    /// Bootstrap traces behind the exponent's bias correction and interval.
    #[arg(long, default_value_t = 100)]
    pub replicates: usize,
    /// The bootstrap's seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub input: TraceInputArgs,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// How to read a trace (shared by `replay` and `mrc`).
#[derive(Debug, Default, clap::Args)]
pub struct TraceInputArgs {
    /// The trace format [default: from the file name: *.csv, *.bin, *oracleGeneral*, each
    /// optionally .zst]. One of: csv, oracle-general.
    #[arg(long)]
    pub format: Option<String>,
    /// Count bad records (a truncated binary record, a malformed CSV row) and go on, instead of
    /// stopping at the first.
    #[arg(long)]
    pub skip_bad_records: bool,
    /// Count objects instead of bytes: every object has size 1 and sizes are numbers of objects.
    #[arg(long)]
    pub ignore_obj_size: bool,
    /// Only requests from this geography (CSV with a geography column).
    #[arg(long)]
    pub geo: Option<String>,
    /// CSV: the time column (seconds), a number from 1 or a header name.
    #[arg(long)]
    pub time_col: Option<String>,
    /// CSV: the object id column, a number from 1 or a header name.
    #[arg(long)]
    pub id_col: Option<String>,
    /// CSV: the size column (bytes), a number from 1 or a header name.
    #[arg(long)]
    pub size_col: Option<String>,
    /// CSV: the geography column, a number from 1 or a header name.
    #[arg(long)]
    pub geo_col: Option<String>,
    /// CSV: the CDN's cache result column (hit, miss, ...; `trace import` writes `cache`), a
    /// number from 1 or a header name.
    #[arg(long)]
    pub cache_col: Option<String>,
    /// CSV: the field delimiter (one character; `tab` for a tab).
    #[arg(long)]
    pub delimiter: Option<String>,
    /// CSV: the first line is a header [default: detected].
    #[arg(long, conflicts_with = "no_header")]
    pub header: bool,
    /// CSV: there is no header line.
    #[arg(long)]
    pub no_header: bool,
}

impl TraceInputArgs {
    fn read_options(&self) -> Result<clipsim_sim::trace::ReadOptions> {
        use clipsim_sim::trace::{Col, CsvSpec, Format, HeaderMode, ReadOptions};
        let format = match &self.format {
            None => None,
            Some(f) => Some(
                Format::parse(f)
                    .ok_or_else(|| anyhow!("--format {f}: expected one of {}", Format::NAMES.join(", ")))?,
            ),
        };
        let delimiter = match self.delimiter.as_deref() {
            None => b',',
            Some("tab") | Some("\\t") => b'\t',
            Some(d) if d.len() == 1 && d.as_bytes()[0] != b'\n' && d.as_bytes()[0] != b'"' => d.as_bytes()[0],
            Some(d) => return Err(anyhow!("--delimiter {d:?}: expected one ASCII character (or `tab`)")),
        };
        let col = |flag: &str, c: &Option<String>| {
            c.as_deref().map(|s| Col::parse(s).map_err(|e| anyhow!("{flag} {s}: expected {e}"))).transpose()
        };
        let csv = CsvSpec {
            time: col("--time-col", &self.time_col)?,
            id: col("--id-col", &self.id_col)?,
            size: col("--size-col", &self.size_col)?,
            geo: col("--geo-col", &self.geo_col)?,
            cache: col("--cache-col", &self.cache_col)?,
            delimiter,
            header: if self.header {
                HeaderMode::Yes
            } else if self.no_header {
                HeaderMode::No
            } else {
                HeaderMode::Auto
            },
        };
        Ok(ReadOptions { format, csv, skip_bad: self.skip_bad_records })
    }
}

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The trace file.
    pub trace: PathBuf,
    /// The eviction policy: lru, fifo, sieve, s3fifo, lfu, ttl, ttl-reset, random.
    #[arg(long, default_value = "lru")]
    pub policy: String,
    /// The cache size: bytes with a unit (10GB, 512MiB, 20297697) or a share of the trace's
    /// unique bytes (10%, or 0.1 as libCacheSim takes it). Several, comma-separated, print one
    /// line per size (--oneline). Optional for the TTL-only policies (unlimited).
    #[arg(long)]
    pub size: Option<String>,
    /// One line per result, as libCacheSim's cachesim prints them (the default for several sizes).
    #[arg(long)]
    pub oneline: bool,
    /// A TTL for every object (90s, 1h, 7d); required by the ttl and ttl-reset policies.
    #[arg(long)]
    pub ttl: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Also print the analytical estimate: the trace's request frequencies as an independent
    /// reference model, with Che's approximation (LRU), lambda T/(1+lambda T) (FIFO, RANDOM) or the
    /// TTL formulas (one more pass over the trace).
    #[arg(long)]
    pub model: bool,
    /// Seed of RANDOM's evictions.
    #[arg(long, default_value_t = clipsim_sim::cache::RANDOM_DEFAULT_SEED)]
    pub seed: u64,
    /// Which misses are cached.
    #[command(flatten)]
    pub admission: AdmissionArgs,
    /// How to read the trace.
    #[command(flatten)]
    pub input: TraceInputArgs,
}

/// The admission filter of `replay` and `mrc`.
#[derive(Debug, clap::Args)]
pub struct AdmissionArgs {
    /// Admission filter: `always` (every miss is cached) or `second-hit` (an object is cached
    /// from its second miss on, as libCacheSim's `-a bloom-filter`).
    #[arg(long, default_value = "always")]
    pub admission: String,
    /// With `--admission second-hit`: the earlier miss counts only if at most this long ago
    /// (90s, 1h, 7d) [default: any time].
    #[arg(long, value_name = "DURATION")]
    pub admission_window: Option<String>,
}

impl AdmissionArgs {
    fn parse(&self) -> Result<clipsim_sim::cache::Admission> {
        use clipsim_sim::cache::Admission;
        let window = match &self.admission_window {
            None => None,
            Some(w) => match clipsim_sim::scenario::units::parse_duration(w) {
                Ok(d) if d.as_micros() > 0 => Some(d),
                Ok(_) => return Err(anyhow!("--admission-window {w}: expected a duration above zero")),
                Err(e) => return Err(anyhow!("--admission-window: {e}")),
            },
        };
        match Admission::parse(&self.admission, window) {
            Some(Admission::Always) if window.is_some() => {
                Err(anyhow!("--admission-window is for --admission second-hit (the filter that remembers misses)"))
            }
            Some(a) => Ok(a),
            None => Err(anyhow!("--admission {}: expected one of {}", self.admission, Admission::NAMES.join(", "))),
        }
    }
}

/// Arguments of `mrc`.
#[derive(Debug, clap::Args)]
pub struct MrcArgs {
    /// The trace file.
    pub trace: PathBuf,
    /// Policies, comma-separated (LRU's curve comes from one stack-distance pass). Belady's
    /// optimal bound is drawn beside them unless --no-belady.
    #[arg(long, default_value = "lru,fifo,sieve,s3fifo")]
    pub policy: String,
    /// Leave out Belady's curve, the optimal bound drawn on every chart by default (it needs a
    /// first pass over the trace and 4 bytes of memory per request).
    #[arg(long)]
    pub no_belady: bool,
    /// Cache sizes, comma-separated: shares of the unique bytes (1%) or bytes with a unit (1GB).
    #[arg(long, default_value = "1%,5%,10%,20%,50%")]
    pub sizes: String,
    /// A TTL for every object (required by the ttl and ttl-reset policies; turns off the
    /// one-pass LRU stack, which has no expiry).
    #[arg(long)]
    pub ttl: Option<String>,
    /// Threads replaying the non-LRU caches [default: one per core]; results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Replay LRU at each size instead of the one-pass stack (exact even when objects change
    /// size between requests; slower with many sizes).
    #[arg(long)]
    pub lru_replay: bool,
    /// Where to write mrc.csv and mrc.svg [default: `reports/mrc-TRACE/`, TRACE the file name up to its first dot].
    /// The directory is replaced whole, like a report's.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where the scenario's sensitivity analysis is, for the report's "How sure is this?" section
    /// [default: sensitivity/NAME/ beside the report directory (reports/sensitivity/NAME/ for the
    /// default reports/NAME/), where `clipsim sensitivity` writes it, if it is there].
    #[arg(long, value_name = "DIR")]
    pub sensitivity: Option<PathBuf>,
    /// Replace the output directory even if clipsim did not make it.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Seed of RANDOM's evictions.
    #[arg(long, default_value_t = clipsim_sim::cache::RANDOM_DEFAULT_SEED)]
    pub seed: u64,
    /// Which misses are cached.
    #[command(flatten)]
    pub admission: AdmissionArgs,
    /// How to read the trace.
    #[command(flatten)]
    pub input: TraceInputArgs,
}

/// Arguments of `trace generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The trace to write (*.csv or *.oracleGeneral.bin / *.bin, optionally .zst), or a device
    /// or pipe such as /dev/stdout.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace an existing non-empty file.
    #[arg(long)]
    pub force: bool,
    /// The format [default: from the file name]. One of: csv, oracle-general, or cloudfront (a
    /// CloudFront standard log of the same requests, for `trace import`).
    #[arg(long)]
    pub format: Option<String>,
    /// With --format cloudfront: the geography table whose edge locations the log names (as
    /// `trace import --geo-table`) [default: the built-in table].
    #[arg(long, value_name = "FILE")]
    pub geo_table: Option<PathBuf>,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// A `.env` file whose CDN_* and MIRROR_* variables override the scenario.
    #[arg(long)]
    pub env: Option<PathBuf>,
    /// Stop after this many requests.
    #[arg(long)]
    pub max_requests: Option<u64>,
    /// Write object ids as 64-bit hashes of the clip ids (scattered, as real traces' ids are)
    /// instead of the dense clip ids.
    #[arg(long)]
    pub hash_ids: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_policy(name: &str) -> Result<clipsim_sim::cache::Policy> {
    clipsim_sim::cache::Policy::parse(name)
        .ok_or_else(|| anyhow!("--policy {name}: expected one of {}", clipsim_sim::cache::Policy::NAMES.join(", ")))
}

fn parse_ttl(ttl: &Option<String>) -> Result<Option<clipsim_engine::SimDuration>> {
    match ttl {
        None => Ok(None),
        Some(t) => match clipsim_sim::scenario::units::parse_duration(t) {
            Ok(d) if d.as_micros() > 0 => Ok(Some(d)),
            Ok(_) => Err(anyhow!("--ttl {t}: expected a duration above zero")),
            Err(e) => Err(anyhow!("--ttl: {e}")),
        },
    }
}

/// One replay on one line, in the order libCacheSim's `cachesim` prints its results: the trace,
/// the policy, the cache size, requests, miss ratio and byte miss ratio (4 decimals).
fn oneline(trace: &std::path::Path, r: &clipsim_sim::trace::replay::ReplayReport) -> String {
    use clipsim_sim::report::format::count;
    let unit = if r.ignore_obj_size { "objects" } else { "bytes" };
    let ratio = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.4}"));
    format!(
        "{} {} cache size {}, {} req, miss ratio {}, byte miss ratio {}",
        trace.file_name().map_or_else(|| trace.display().to_string(), |n| n.to_string_lossy().into_owned()),
        r.policy,
        r.cache_size.map_or("unlimited".to_string(), |c| format!("{} {unit}", count(c))),
        count(r.requests),
        ratio(r.miss_ratio),
        ratio(r.byte_miss_ratio)
    )
}

fn replay(args: ReplayArgs) -> Result<ExitCode> {
    use clipsim_sim::trace::replay::{replay as run_replay, ReplayOptions};
    install_quit_handler();
    let policy = parse_policy(&args.policy)?;
    let sizes: Vec<Option<_>> = match &args.size {
        Some(list) => list
            .split(',')
            .map(|s| clipsim_sim::trace::parse_cache_size(s).map(Some).map_err(|e| anyhow!("--size: {e}")))
            .collect::<Result<_>>()?,
        None if policy.is_ttl_only() => vec![None],
        None => {
            return Err(anyhow!("--size is required for the {} policy (like --size 10GB or --size 10%)", policy.name()))
        }
    };
    let ttl = parse_ttl(&args.ttl)?;
    if policy.is_ttl_only() && ttl.is_none() {
        return Err(anyhow!("--ttl is required for the {} policy (like --ttl 1h)", policy.name()));
    }
    let read = args.input.read_options()?;
    let admission = args.admission.parse()?;
    let opts = |size| ReplayOptions {
        policy,
        size,
        ttl,
        ignore_obj_size: args.input.ignore_obj_size,
        geo: args.input.geo.clone(),
        read: read.clone(),
        seed: args.seed,
        model: args.model,
        admission,
    };
    if args.oneline || sizes.len() > 1 {
        // Each result printed as soon as it is known, one line each (JSON lines with --json).
        for size in sizes {
            let r = run_replay(&args.trace, &opts(size))?;
            let line = if args.json {
                serde_json::to_string(&r).context("encoding the report")?
            } else {
                oneline(&args.trace, &r)
            };
            writeln!(Stdout::lock(), "{line}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let r = run_replay(&args.trace, &opts(sizes[0]))?;
    let mut stdout = Stdout::lock();
    if args.json {
        writeln!(stdout, "{}", serde_json::to_string(&r).context("encoding the report")?)?;
        return Ok(ExitCode::SUCCESS);
    }
    // Counts with separators, as every report shows them; ratios to 6 decimals.
    use clipsim_sim::report::format::count;
    let unit = if r.ignore_obj_size { "objects" } else { "bytes" };
    let ratio = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.6}"));
    writeln!(stdout, "trace            {}", args.trace.display())?;
    writeln!(
        stdout,
        "cache            {} {}",
        r.policy,
        r.cache_size.map_or("unlimited".to_string(), |c| format!("{} {unit}", count(c)))
    )?;
    if let Some(t) = ttl {
        writeln!(stdout, "ttl              {t}")?;
    }
    writeln!(stdout, "requests         {}", count(r.requests))?;
    writeln!(stdout, "hits             {}", count(r.hits))?;
    writeln!(stdout, "miss ratio       {}", ratio(r.miss_ratio))?;
    writeln!(stdout, "byte miss ratio  {}", ratio(r.byte_miss_ratio))?;
    if let Some(m) = &r.model {
        writeln!(stdout, "model ({})", m.model)?;
        writeln!(stdout, "  miss ratio     {:.6}", m.miss_ratio)?;
        writeln!(stdout, "  byte miss      {:.6}", m.byte_miss_ratio)?;
    } else if args.model {
        writeln!(stdout, "model            none for {}", r.policy)?;
    }
    writeln!(stdout, "unique objects   {} ({} unique {unit})", count(r.unique_objects), count(r.unique_bytes))?;
    if r.bad_records > 0 {
        writeln!(stdout, "bad records      {} skipped of {} records", count(r.bad_records), count(r.records))?;
    }
    if r.zero_size_skipped > 0 {
        writeln!(stdout, "size-0 requests  {} skipped", count(r.zero_size_skipped))?;
    }
    if r.other_geo_skipped > 0 {
        writeln!(stdout, "other geography  {} skipped", count(r.other_geo_skipped))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn mrc(args: MrcArgs) -> Result<ExitCode> {
    use clipsim_sim::mrc::{curves, to_csv, write_dir, MrcOptions};
    install_quit_handler();
    let mut policies = Vec::new();
    for name in args.policy.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let p = parse_policy(name)?;
        if !policies.contains(&p) {
            policies.push(p);
        }
    }
    if policies.is_empty() {
        return Err(anyhow!("--policy: expected at least one policy"));
    }
    let belady = clipsim_sim::cache::Policy::Belady;
    if !args.no_belady && !policies.contains(&belady) {
        policies.push(belady);
    }
    let labels: Vec<String> = args.sizes.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if labels.is_empty() || labels.len() > 200 {
        return Err(anyhow!("--sizes: expected 1 to 200 sizes, comma-separated"));
    }
    let sizes = labels
        .iter()
        .map(|s| clipsim_sim::trace::parse_cache_size(s).map_err(|e| anyhow!("--sizes: {e}")))
        .collect::<Result<Vec<_>>>()?;
    let ttl = parse_ttl(&args.ttl)?;
    let opts = MrcOptions {
        policies,
        sizes,
        ttl,
        ignore_obj_size: args.input.ignore_obj_size,
        geo: args.input.geo.clone(),
        read: args.input.read_options()?,
        seed: args.seed,
        threads: args.threads,
        lru_by_replay: args.lru_replay,
        admission: args.admission.parse()?,
    };
    let name = args.trace.file_name().map_or("trace".into(), |s| s.to_string_lossy().into_owned());
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = name.split('.').next().unwrap_or("trace").to_string();
        PathBuf::from("reports").join(format!("mrc-{stem}"))
    });
    // Refuse the destination before reading the trace; the directory is made only at the end,
    // so that a killed run leaves nothing.
    let inputs = [args.trace.as_path()];
    report::Staging::check(&out, args.force, &inputs)?;
    let c = curves(&args.trace, &opts, &labels)?;
    if c.size_changes > 0 {
        eprintln!(
            "note: {} requests changed their object's size; LRU's one-pass curve weighs each object by its latest size, while a replayed cache keeps the size it cached, so LRU points may differ slightly from `clipsim replay` (--lru-replay replays LRU at each size instead)",
            c.size_changes
        );
    }
    let writing = WRITING.lock();
    let staging = report::Staging::begin(&out, args.force, &inputs)?;
    let dir = write_dir(&c, &format!("Miss ratio by cache size: {name}"), staging)?;
    drop(writing);
    if !args.quiet {
        // The curve (data) to standard output, as mrc.csv holds it, so `clipsim mrc T > curve.csv`
        // is that CSV; where the files went (a message) to standard error.
        write!(Stdout::lock(), "{}", to_csv(&c))?;
        eprintln!("wrote {} and {}", dir.join("mrc.csv").display(), dir.join("mrc.svg").display());
    }
    Ok(ExitCode::SUCCESS)
}

fn trace_fit(args: FitArgs) -> Result<ExitCode> {
    use clipsim_sim::trace::fit;
    anyhow::ensure!((1..=10_000).contains(&args.replicates), "--replicates {}: expected 1 to 10000", args.replicates);
    let opts = args.input.read_options()?;
    let svg_path = args.out.with_extension("svg");
    let inputs = [args.trace.as_path()];
    let toml_out = report::StagedFile::begin(&args.out, args.force, &inputs)?;
    let svg_out = report::StagedFile::begin(&svg_path, args.force, &inputs)?;
    let mut stats = fit::TraceStats::read(&args.trace, &opts)?;
    stats.read_ages(&args.trace, &opts)?;
    let f = fit::fit(&stats, args.replicates, args.seed);
    let name = args.trace.file_name().map_or_else(|| args.trace.display().to_string(), |n| n.to_string_lossy().into());
    let text = f.to_toml(&format!("`{name}`"), &stats);
    let svg = fit::chart(&f, &format!("Rank-frequency of {name}: trace and fitted Zipf"))
        .map_err(|e| anyhow!("{}: drawing the chart: {e}", svg_path.display()))?;
    std::io::Write::write_all(&mut toml_out.create()?, text.as_bytes())?;
    std::io::Write::write_all(&mut svg_out.create()?, svg.as_bytes())?;
    let toml_path = toml_out.commit()?;
    svg_out.commit()?;
    if !args.quiet {
        let mut stdout = Stdout::lock();
        writeln!(
            stdout,
            "{}: Zipf alpha {:.4} (95 % interval {:.4} to {:.4}), {} clips ({} seen), KS {:.4}; sizes lognormal \
             mean {:.2} MB sigma {:.3} (KS {:.4}); {:.0} views/month; chart {}",
            toml_path.display(),
            f.zipf.alpha,
            f.alpha_interval.0,
            f.alpha_interval.1,
            f.zipf.clips,
            f.clips_seen,
            f.ks_popularity,
            (f.size_mu + f.size_sigma * f.size_sigma / 2.0).exp() / 1e6,
            f.size_sigma,
            f.ks_size,
            f.views_per_month,
            svg_path.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn trace_generate(args: GenerateArgs) -> Result<ExitCode> {
    use clipsim_sim::trace::generate::{write_trace, GenerateOptions, Output};
    use clipsim_sim::trace::Format;
    let format = match args.format.as_deref() {
        Some("cloudfront") => Output::CloudFrontLog,
        Some(f) => Output::Trace(Format::parse(f).ok_or_else(|| {
            anyhow!("--format {f}: expected one of {}, cloudfront", Format::NAMES.join(", "))
        })?),
        None => Output::Trace(Format::infer(&args.out).ok_or_else(|| {
            anyhow!(
                "{}: cannot tell the format from the name: end it in .csv or .oracleGeneral.bin (optionally .zst), or give --format",
                args.out.display()
            )
        })?),
    };
    let geo_table = import::geo_table(args.geo_table.as_deref())?;
    let overrides = Overrides { seed: args.seed, env_file: args.env.clone(), ..Default::default() };
    let (sc, file) = load_scenario(&args.scenario, &overrides)?;
    anyhow::ensure!(
        sc.traffic.trace.is_none(),
        "{}: its views come from a trace (traffic.trace); trace generate writes a synthetic workload",
        args.scenario.display()
    );
    // The workload's tables are part of a run's: a trace the run could not hold is refused too.
    memory::check(&args.scenario, &sc)?;
    let mut staged = report::StagedFile::begin(&args.out, args.force, &inputs(file.as_deref(), &args.env))?;
    install_stop_handler("removing the unfinished trace (Ctrl-C again to quit at once)");
    let opts = GenerateOptions { format, max_requests: args.max_requests, hash_ids: args.hash_ids };
    let w = write_trace(&sc, &mut staged, &opts, &geo_table, &STOP)?;
    if w.interrupted {
        let what = if staged.is_direct() { "an incomplete trace went to" } else { "nothing written to" };
        drop(staged);
        let _ = writeln!(std::io::stderr(), "interrupted after {} requests: {what} {}", w.requests, args.out.display());
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    staged.commit()?;
    if !args.quiet {
        writeln!(
            Stdout::lock(),
            "{}: {} requests for {} clips from \"{}\" ({})",
            args.out.display(),
            w.requests,
            w.clips,
            sc.name,
            format.name()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
