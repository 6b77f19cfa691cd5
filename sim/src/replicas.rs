//! Replicas of one run (`clipsim run --replicas N`, `scenario.replicas`): the scenario with seeds
//! `seed`, `seed + 1`, ..., `seed + N - 1`, as a sweep's replicas are (common random numbers: the
//! replicas of two scenarios that differ in one key see the same requests). Replica 0 is kept
//! whole for the report; the others leave their summaries, from which every headline figure, bill
//! category and target gets a mean and a 95 % interval ([`crate::sweep::aggregate`]). Replicas run
//! on up to `threads` threads; the results do not depend on how many.

use crate::report::summary::{summarize, Summary};
use crate::scenario::Scenario;
use crate::world::{steady, Progress, RunResult, World};
use clipsim_engine::ConfigError;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;

/// The scenario of replica `r`.
pub fn replica(sc: &Scenario, r: u32) -> Scenario {
    let mut sc = sc.clone();
    sc.seed = sc.seed.wrapping_add(u64::from(r));
    sc
}

/// Runs one replica to its end (after its steady-state pilot, if any).
/// With `[rollout]`, also its twin ([`crate::rollout::run_twin`]).
fn run_one(sc: Scenario, progress: &mut dyn Progress, stop: &AtomicBool) -> Result<RunResult, ConfigError> {
    let sc = steady::settle(sc, stop)?;
    let mut res = World::new(sc)?.run(progress, stop);
    crate::rollout::run_twin(&mut res, stop)?;
    Ok(res)
}

/// Runs `sc` once (after its steady-state pilot, if any) with `log` called for every request
/// served (see [`crate::world::RequestLog`]).
pub fn run_logged(
    sc: Scenario,
    log: crate::world::RequestLog,
    progress: &mut dyn Progress,
    stop: &AtomicBool,
) -> Result<RunResult, ConfigError> {
    let sc = steady::settle(sc, stop)?;
    let mut res = World::new(sc)?.with_request_log(log).run(progress, stop);
    crate::rollout::run_twin(&mut res, stop)?;
    Ok(res)
}

/// Runs `n` (at least 1) replicas of `sc` on up to `threads` threads, replica 0 on this one with
/// `progress` (then others, like the workers); returns replica 0 whole with every replica's
/// summary in [`RunResult::replicas`] (replica order). Stopped by `stop` like a run: no replica
/// starts after it, and a stopped set leaves no replicas (no interval from partial runs).
pub fn run(
    sc: Scenario,
    n: u32,
    threads: usize,
    progress: &mut dyn Progress,
    stop: &AtomicBool,
) -> Result<RunResult, ConfigError> {
    let n = n.max(1);
    let next = AtomicU32::new(1);
    let others: Mutex<Vec<Option<Result<Summary, ConfigError>>>> = Mutex::new((0..n).map(|_| None).collect());
    let work = || loop {
        let r = next.fetch_add(1, Ordering::Relaxed);
        if r >= n || stop.load(Ordering::Relaxed) {
            break;
        }
        {
            let summary = run_one(replica(&sc, r), &mut (), stop).map(|res| summarize(&res));
            others.lock().expect("no replica panics while holding the lock")[r as usize] = Some(summary);
        }
    };
    let workers = threads.clamp(1, n as usize) - 1;
    let whole = std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(work);
        }
        let whole = run_one(sc.clone(), progress, stop);
        // Then this thread takes replicas from the queue like the workers.
        work();
        whole
    });
    let mut whole = whole?;
    if n > 1 && !whole.interrupted {
        let mut summaries = vec![summarize(&whole)];
        for s in others.into_inner().expect("every replica finished").into_iter().skip(1) {
            match s {
                Some(summary) => summaries.push(summary?),
                // Not started: stopped before its turn.
                None => return Ok(whole),
            }
        }
        // Intervals only from whole runs: a stopped replica leaves none.
        if summaries.iter().all(|s| !s.interrupted) {
            whole.replicas = summaries;
        }
    }
    Ok(whole)
}
