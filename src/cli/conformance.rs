//! `clipsim conformance`: the engine's inputs and outputs of a run as vectors for another
//! implementation to replay, and `--check` to replay vectors through this engine
//! (docs/conformance.md).

use super::stdout::Stdout;
use super::{load_scenario, memory};
use anyhow::{anyhow, Context, Result};
use clipsim_sim::conformance::{self, VectorError};
use clipsim_sim::report::{self, format::count};
use clipsim_sim::scenario::Overrides;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `clipsim conformance`.
#[derive(Debug, clap::Args)]
pub struct ConformanceArgs {
    /// The scenario to run and record (a small one: every request is a line), or with --check the
    /// vectors file to replay.
    pub file: PathBuf,
    /// Where to write the vectors (JSON Lines).
    #[arg(long, required_unless_present = "check", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replay FILE's vectors through this clipsim's engine and report the first difference
    /// (exit status 1).
    #[arg(long, conflicts_with_all = ["out", "seed"])]
    pub check: bool,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replace the output file even if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Runs `clipsim conformance`.
pub fn cli_conformance(args: ConformanceArgs) -> Result<ExitCode> {
    if args.check {
        let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
        return match conformance::check(&text) {
            Ok(t) => {
                writeln!(
                    Stdout::lock(),
                    "{}: conforms: {} lines, {} inputs, {} timeouts, {} requests, {} outputs, all as this engine answers",
                    args.file.display(),
                    count(t.lines as u64),
                    count(t.inputs),
                    count(t.timeouts),
                    count(t.requests),
                    count(t.outputs)
                )?;
                Ok(ExitCode::SUCCESS)
            }
            Err(e @ VectorError::Differs(..)) => {
                writeln!(std::io::stderr(), "{}: {e}", args.file.display())?;
                Ok(ExitCode::from(1))
            }
            Err(e) => Err(anyhow!("{}: {e}", args.file.display())),
        };
    }
    let out = args.out.expect("clap requires --out without --check");
    let (sc, file) = load_scenario(&args.file, &Overrides { seed: args.seed, ..Default::default() })?;
    memory::check(&args.file, &sc)?;
    if sc.rollout.is_some() {
        anyhow::bail!(
            "{}: a scenario with [rollout] cannot be recorded as conformance vectors (a control-arm request's \
             `Request::direct` is not in the vector format); remove the [rollout] section",
            args.file.display()
        );
    }
    let inputs: Vec<&std::path::Path> = file.as_deref().into_iter().collect();
    let staged = report::StagedFile::begin(&out, args.force, &inputs)?;
    let settled = clipsim_sim::world::steady::settle(sc, &std::sync::atomic::AtomicBool::new(false))
        .map_err(|e| anyhow!("{}: {e}", args.file.display()))?;
    let result = clipsim_sim::world::World::new_recorded(settled)
        .map_err(|e| anyhow!("{}: {e}", args.file.display()))?
        .run(&mut (), &std::sync::atomic::AtomicBool::new(false));
    if let Some(e) = &result.trace_error {
        anyhow::bail!("{e} (found in the run: nothing written)");
    }
    let rec = result.conformance.as_deref().expect("a recorded world records");
    let mut w = std::io::BufWriter::new(staged.create().with_context(|| format!("creating {}", out.display()))?);
    let tally = conformance::write(&result.scenario, rec, &mut w).map_err(|e| anyhow!("{}: {e}", out.display()))?;
    w.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("writing {}", out.display()))?;
    staged.commit()?;
    writeln!(
        Stdout::lock(),
        "wrote {}: {} lines ({} inputs, {} timeouts, {} requests, {} outputs); check with `clipsim conformance --check {}`",
        out.display(),
        count(tally.lines as u64),
        count(tally.inputs),
        count(tally.timeouts),
        count(tally.requests),
        count(tally.outputs),
        out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}
