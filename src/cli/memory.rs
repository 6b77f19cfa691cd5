//! Whether this machine and process can hold a run: its memory estimate
//! ([`clipsim_sim::scenario::memory`]) against the address space the process may use
//! (`ulimit -v`) and the memory the machine has available, checked by `validate` and before
//! `run` allocates anything, so that a run too large is a clear error, never an abort halfway.

use anyhow::{anyhow, Result};
use clipsim_sim::report::format::count;
use clipsim_sim::scenario::{memory, Scenario};
use std::path::Path;

/// The most memory a run of this process may use, in bytes, and what limits it; `None` when
/// nothing is known (not Linux).
pub fn limit() -> Option<(u64, &'static str)> {
    let address_space = address_space_limit().map(|b| (b, "the address-space limit (ulimit -v)"));
    let available = mem_available().map(|b| (b, "the memory this machine has available (MemAvailable)"));
    match (address_space, available) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

#[cfg(target_os = "linux")]
fn address_space_limit() -> Option<u64> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit through a valid pointer.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut r) } == 0;
    (ok && r.rlim_cur != libc::RLIM_INFINITY).then_some(r.rlim_cur)
}

#[cfg(not(target_os = "linux"))]
fn address_space_limit() -> Option<u64> {
    None
}

fn mem_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.saturating_mul(1024))
}

/// The limit and what sets it, when `need` bytes are more than this process may use.
pub fn over_limit(need: u64) -> Option<(u64, &'static str)> {
    limit().filter(|&(limit, _)| need > limit)
}

/// What runs at once: a sweep's points (the largest named), or one scenario's replicas.
#[derive(Clone, Copy)]
pub enum AtOnce {
    /// Sweep points; the index of the largest.
    Points(usize),
    /// Replicas of one run, all the same size.
    Replicas,
}

/// `threads` runs at once, the largest needing `largest` bytes: the bytes they may need together,
/// or an error when that is more than this process may use.
pub fn check_at_once(path: &Path, largest: u64, runs: AtOnce, threads: usize) -> Result<u64> {
    let need = largest.saturating_mul(threads.max(1) as u64);
    if let Some((limit, what)) = over_limit(need) {
        let fewer = if largest <= limit {
            match (limit / largest.max(1)).max(1) {
                1 => "--threads 1".to_string(),
                n => format!("--threads {n} or fewer"),
            }
        } else {
            let which = match runs {
                AtOnce::Points(i) => format!("point {i}"),
                AtOnce::Replicas => "scenario".to_string(),
            };
            format!("a smaller {which} (catalog.clips, catalog.uploads_per_day, scenario.duration)")
        };
        let (noun, each) = match runs {
            AtOnce::Points(i) => ("point", format!("point {i}, the largest")),
            AtOnce::Replicas => ("replica", "each".to_string()),
        };
        return Err(anyhow!(
            "{}: {threads} {noun}{} at once need{} up to {} of memory ({each}, up to {}), \
             more than {what}, {}: {fewer}, or a larger machine",
            path.display(),
            if threads == 1 { "" } else { "s" },
            if threads == 1 { "s" } else { "" },
            mb(need),
            mb(largest),
            mb(limit)
        ));
    }
    Ok(need)
}

/// Megabytes, for messages.
pub fn mb(bytes: u64) -> String {
    format!("{} MB", count(bytes.div_ceil(1_000_000)))
}

/// `sc`'s estimate, or an error when it is more than this process may use.
pub fn check(path: &Path, sc: &Scenario) -> Result<u64> {
    let need = memory::estimate_bytes(sc);
    if let Some((limit, what)) = over_limit(need) {
        return Err(anyhow!(
            "{}: this run needs up to {} of memory ({} clips with the uploads expected, and the CDN's edges), \
             more than {what}, {}: fewer clips (catalog.clips, catalog.uploads_per_day), a shorter \
             scenario.duration, or a larger machine",
            path.display(),
            mb(need),
            count(sc.catalog.clips_expected(sc.duration)),
            mb(limit)
        ));
    }
    Ok(need)
}
