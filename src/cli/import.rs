//! `clipsim trace import`: access logs into a trace, with a summary of what was read.

use super::stdout::Stdout;
use super::{install_stop_handler, report, EXIT_INTERRUPTED, STOP};
use anyhow::{anyhow, Result};
use clipsim_sim::report::format::count;
use clipsim_sim::trace::import::{clip_pattern, import, GeoTable, ImportOptions, BAD_SHOWN};
use clipsim_sim::trace::logs::LogFormat;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `trace import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The access logs (plain, gzip or zstd), read in order.
    #[arg(required = true)]
    pub logs: Vec<PathBuf>,
    /// Their format: cloudfront (standard logs), cloudflare (Logpush HTTP requests, NDJSON), nginx
    /// (combined) or csv (a header naming the columns: time, uri, bytes; optionally status,
    /// cache, country, edge).
    #[arg(long)]
    pub format: String,
    /// The trace to write (CSV; .zst to compress).
    #[arg(long)]
    pub out: PathBuf,
    /// A regular expression on the URI path whose first capture group is the clip (default: the
    /// whole path): `^/clips/([^/]+)/` makes every rendition and segment of a clip one object.
    /// Paths it does not match are counted and left out.
    #[arg(long, value_name = "REGEX")]
    pub clip_pattern: Option<String>,
    /// Countries and edge locations to geographies [default: the built-in table,
    /// sim/data/geo-table.toml].
    #[arg(long, value_name = "FILE")]
    pub geo_table: Option<PathBuf>,
    /// Fail when more lines than this are malformed [default: any number, each counted and
    /// skipped].
    #[arg(long, value_name = "N")]
    pub max_bad: Option<u64>,
    /// Replace an existing non-empty file.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `clipsim trace import`.
pub fn trace_import(args: ImportArgs) -> Result<ExitCode> {
    let format = LogFormat::parse(&args.format)
        .ok_or_else(|| anyhow!("--format {}: expected one of {}", args.format, LogFormat::NAMES.join(", ")))?;
    let clip_pattern = match &args.clip_pattern {
        None => None,
        Some(p) => Some(clip_pattern(p).map_err(|e| anyhow!("--clip-pattern {p:?}: expected {e}"))?),
    };
    let geo = geo_table(args.geo_table.as_deref())?;
    let opts = ImportOptions { format, clip_pattern, geo, max_bad: args.max_bad };
    let inputs: Vec<&Path> = args.logs.iter().map(PathBuf::as_path).collect();
    let mut staged = report::StagedFile::begin(&args.out, args.force, &inputs)?;
    install_stop_handler("removing the unfinished trace (Ctrl-C again to quit at once)");
    let stats = import(&args.logs, &mut staged, &opts, &STOP)?;
    if stats.interrupted {
        drop(staged);
        eprintln!("interrupted after {} lines: nothing written to {}", stats.lines, args.out.display());
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    staged.commit()?;
    if args.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    let mut o = Stdout::lock();
    let n = |x: u64| count(x);
    writeln!(
        o,
        "{}: {} requests for {} clips from {} lines ({} skipped as comments or headers, {} not clips, {} malformed)",
        args.out.display(),
        n(stats.requests),
        n(stats.clips),
        n(stats.lines),
        n(stats.skipped),
        n(stats.not_clips),
        n(stats.bad)
    )?;
    for b in &stats.bad_shown {
        writeln!(o, "  malformed: {}:{}: {}", b.file.display(), b.line, b.reason)?;
    }
    if stats.bad > BAD_SHOWN as u64 {
        writeln!(o, "  ... and {} more malformed lines", n(stats.bad - BAD_SHOWN as u64))?;
    }
    let list =
        |m: Vec<(String, u64)>| m.into_iter().map(|(k, v)| format!("{k} {}", n(v))).collect::<Vec<_>>().join(", ");
    let geo: Vec<(String, u64)> =
        stats.by_geo.iter().map(|(k, v)| (if k.is_empty() { "none".to_string() } else { k.clone() }, *v)).collect();
    writeln!(o, "  by geography: {}", list(geo))?;
    if !stats.unknown_codes.is_empty() {
        let mut codes: Vec<(String, u64)> = stats.unknown_codes.iter().map(|(k, v)| (k.clone(), *v)).collect();
        codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        codes.truncate(10);
        writeln!(o, "  codes not in the geography table (add them with --geo-table): {}", list(codes))?;
    }
    let cache: Vec<(String, u64)> = stats
        .by_cache
        .iter()
        .map(|(k, v)| (if k.is_empty() { "not logged".to_string() } else { k.to_string() }, *v))
        .collect();
    writeln!(o, "  CDN cache result: {}", list(cache))?;
    writeln!(o, "  HTTP status: {}", list(stats.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect()))?;
    Ok(ExitCode::SUCCESS)
}

/// The geography table at `path`, or the built-in one.
pub fn geo_table(path: Option<&Path>) -> Result<GeoTable> {
    Ok(match path {
        None => GeoTable::builtin(),
        Some(p) => GeoTable::parse(p, &clipsim_sim::scenario::read_text(p)?)?,
    })
}
