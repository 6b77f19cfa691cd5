//! `scenario.steady_state`: run the world until its mirror set and its edges stop changing, then
//! measure.
//!
//! A *pilot* run finds how long that takes: the scenario with its scripted events (outages,
//! spikes, price changes) and background failures removed runs for up to `steady_state_max`, and at the end of each day
//! from day [`FIRST_CHECK_DAY`] on, the last week is compared with the week before it. The world
//! is steady on the first day where both
//! - the week's mean of the active mirrors (at the end of each day) differs from the week
//!   before's by at most [`MIRRORS_CHANGE_MAX`] (relative; or by at most
//!   [`MIRRORS_CHANGE_SLACK`] mirrors), and
//! - the week's edge hit rate differs from the week before's by at most [`EDGE_HIT_CHANGE_MAX`]
//!   (absolute).
//!
//! The measured run then starts with a *pre-run* of that many days rounded up to whole billing
//! months (so that the bill of the measured period is the bill of whole months, exactly), or of
//! `steady_state_max` rounded up likewise when the pilot never settled (which the report says):
//! every scripted event and the end move later by the pre-run, the warm-up grows by it, and the
//! figures and the bill cover only what follows. The pilot and the pre-run see the same traffic
//! (the same seed and streams, no scripted event before the pre-run ends), so the pre-run is as
//! settled as the pilot was; background failures, which the pilot leaves out, do reach the
//! pre-run (they are drawn over the whole run).

use super::World;
use crate::record::Row;
use crate::scenario::Scenario;
use clipsim_engine::{ServedFrom, SimDuration, SimTime};
use std::sync::atomic::AtomicBool;

/// The first day whose week is compared with the week before.
pub const FIRST_CHECK_DAY: u64 = 14;
/// The largest relative change of the mean active mirrors, week over week. A set that grows
/// without end (a lifetime score) grows by 3 to 15 % a week over the seed's first half year.
pub const MIRRORS_CHANGE_MAX: f64 = 0.02;
/// A change of this many mirrors or fewer counts as none (small sets move by single mirrors).
pub const MIRRORS_CHANGE_SLACK: f64 = 2.0;
/// The largest change of the edge hit rate, week over week (1 percentage point).
pub const EDGE_HIT_CHANGE_MAX: f64 = 0.01;

/// What the pilot found, as the report states it.
#[derive(Clone, Debug, PartialEq)]
pub struct Settled {
    /// The day the criterion first held, or `None` when it did not within the pilot.
    pub steady_after: Option<SimDuration>,
    /// The pre-run before the measured period: `steady_after` (or the pilot's length) rounded
    /// up to whole billing months.
    pub pre_run: SimDuration,
    /// Mean active mirrors of the deciding (or last) week and of the week before.
    pub mirrors: (f64, f64),
    /// Edge hit rates of the deciding (or last) week and the week before (`None` without a CDN).
    pub edge_hit: (Option<f64>, Option<f64>),
}

/// One day of the pilot: active mirrors at its end, edge hits and CDN lookups during it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Day {
    mirrors: u64,
    edge_hits: u64,
    lookups: u64,
}

/// The scenario the pilot runs: no scripted events, no steady state of its own, daily rows.
fn pilot_scenario(sc: &Scenario, max: SimDuration) -> Scenario {
    let mut pilot = sc.clone();
    pilot.steady_state = None;
    pilot.failures = None;
    pilot.outages.clear();
    pilot.traffic.spikes.clear();
    pilot.price_changes.clear();
    pilot.duration = max;
    pilot.warmup = SimDuration::ZERO;
    pilot.report_interval = SimDuration::from_days(1);
    pilot
}

/// Days from daily rows (the last one may be partial and is left out).
fn days(rows: &[Row]) -> Vec<Day> {
    let day = SimDuration::from_days(1).as_micros();
    rows.iter()
        .filter(|r| r.end.as_micros().is_multiple_of(day))
        .map(|r| Day {
            mirrors: r.active_mirrors,
            edge_hits: r.counts.served(ServedFrom::Edge),
            lookups: r.counts.cdn_lookups,
        })
        .collect()
}

/// The edge hit rate over `days`.
fn hit_rate(days: &[Day]) -> Option<f64> {
    let lookups: u64 = days.iter().map(|d| d.lookups).sum();
    (lookups > 0).then(|| days.iter().map(|d| d.edge_hits).sum::<u64>() as f64 / lookups as f64)
}

/// Whether a week with (`mirrors`, `hit`) is steady against the week before.
fn steady(mirrors: (f64, f64), hit: (Option<f64>, Option<f64>)) -> bool {
    let change = (mirrors.0 - mirrors.1).abs();
    let mirrors_ok = change <= MIRRORS_CHANGE_SLACK || change <= MIRRORS_CHANGE_MAX * mirrors.1;
    let hit_ok = match hit {
        (Some(a), Some(b)) => (a - b).abs() <= EDGE_HIT_CHANGE_MAX,
        (None, None) => true,
        _ => false,
    };
    mirrors_ok && hit_ok
}

/// The day found (if any), the two weeks' mean active mirrors and their edge hit rates.
type Found = (Option<u64>, (f64, f64), (Option<f64>, Option<f64>));

/// The first day on which the criterion holds, with the two weeks compared; or the last two
/// weeks when it never does. `None` when the pilot is shorter than two weeks.
fn first_steady_day(days: &[Day]) -> Option<Found> {
    let mean = |week: &[Day]| week.iter().map(|d| d.mirrors).sum::<u64>() as f64 / week.len() as f64;
    let weeks = |end: usize| {
        let (this, last) = (&days[end - 7..end], &days[end - 14..end - 7]);
        ((mean(this), mean(last)), (hit_rate(this), hit_rate(last)))
    };
    let first = (FIRST_CHECK_DAY as usize).max(14);
    if days.len() < first {
        return None;
    }
    for end in first..=days.len() {
        let (mirrors, hit) = weeks(end);
        if steady(mirrors, hit) {
            return Some((Some(end as u64), mirrors, hit));
        }
    }
    let (mirrors, hit) = weeks(days.len());
    Some((None, mirrors, hit))
}

/// Runs the pilot of `sc` (which has `steady_state` set) and returns the scenario to measure:
/// `sc` moved later by the pre-run, with what the pilot found. Stopped by `stop` like a run (the
/// pre-run is then the pilot's length so far).
pub fn settle(sc: Scenario, stop: &AtomicBool) -> Result<Scenario, clipsim_engine::ConfigError> {
    let Some(max) = sc.steady_state.as_ref().map(|s| s.max) else { return Ok(sc) };
    let pilot = World::new(pilot_scenario(&sc, max))?.run(&mut (), stop);
    let days = days(&pilot.recorder.rows);
    let month = sc.engine.billing.month.as_micros();
    let (steady_after, mirrors, edge_hit) = match first_steady_day(&days) {
        Some((day, mirrors, hit)) => (day.map(SimDuration::from_days), mirrors, hit),
        None => (None, (0.0, 0.0), (None, None)),
    };
    let wait = steady_after.unwrap_or(pilot.end - SimTime::ZERO).as_micros().max(1);
    let pre_run = SimDuration(wait.div_ceil(month) * month);
    let settled = Settled { steady_after, pre_run, mirrors, edge_hit };
    Ok(shifted(sc, settled))
}

/// `sc` with every scripted time moved later by the pre-run, the warm-up and the run longer by
/// it, and what the pilot found recorded.
fn shifted(mut sc: Scenario, settled: Settled) -> Scenario {
    let by = settled.pre_run;
    sc.duration = sc.duration + by;
    sc.warmup = sc.warmup + by;
    for o in &mut sc.outages {
        o.start += by;
        o.end += by;
    }
    for s in &mut sc.traffic.spikes {
        s.start += by;
        s.end += by;
    }
    for (at, _) in &mut sc.price_changes {
        *at += by;
    }
    if let Some(s) = &mut sc.steady_state {
        s.settled = Some(settled);
    }
    sc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(mirrors: u64, hits: u64) -> Day {
        Day { mirrors, edge_hits: hits, lookups: 100 }
    }

    /// The criterion: both the mirror set (2 %, or 2 mirrors, on weekly means) and the edge hit
    /// rate (1 point) must hold still week over week; a CDN that appears or vanishes is a change.
    #[test]
    fn steady_needs_both_the_mirrors_and_the_edges_to_hold_still() {
        assert!(steady((200.0, 197.0), (Some(0.30), Some(0.305))));
        assert!(!steady((200.0, 195.0), (Some(0.30), Some(0.305))), "5 of 195 is over 2 %");
        assert!(steady((5.0, 3.0), (None, None)), "2 mirrors is slack");
        assert!(!steady((6.0, 3.5), (None, None)));
        assert!(!steady((100.0, 100.0), (Some(0.30), Some(0.289))), "1.1 points");
        assert!(steady((100.0, 100.0), (Some(0.30), Some(0.295))));
        assert!(!steady((100.0, 100.0), (Some(0.30), None)));
    }

    /// The first day whose week is steady against the week before: a mirror set growing by 10
    /// a day until day 20, then level, and a steady edge, settle on day 32 (the week before,
    /// days 19 to 25, averages 198.6: within 2 mirrors); growing forever never settles, and the
    /// last weeks are given.
    #[test]
    fn the_first_steady_day_is_the_first_whose_week_matches_the_week_before() {
        let growing_until = |until: u64, n: u64| -> Vec<Day> { (1..=n).map(|d| day(10 * d.min(until), 30)).collect() };
        let (day_found, mirrors, hit) = first_steady_day(&growing_until(20, 40)).unwrap();
        assert_eq!(day_found, Some(32));
        assert_eq!(mirrors, (200.0, 1_390.0 / 7.0));
        assert_eq!(hit, (Some(0.3), Some(0.3)));
        let (never, mirrors, _) = first_steady_day(&growing_until(100, 40)).unwrap();
        assert_eq!((never, mirrors), (None, (370.0, 300.0)));
        assert_eq!(first_steady_day(&growing_until(0, 13)), None, "two weeks are needed");
    }
}
