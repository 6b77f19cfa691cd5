//! Gradual rollout (`[rollout]`): the design switched on for a growing share of the traffic in
//! stages (the seed's plan: 10 %, then 50 %, then all), with the rest of the traffic as the
//! control arm, served as the system was before (straight from the clip's primary, no CDN, no
//! mirror: [`clipsim_engine::Request::direct`]).
//!
//! Within one run the two arms see the same world at the same time, so their difference is the
//! design's effect, as a production experiment would measure it. Each stage reports the arms' P50,
//! P95 and availability and their differences with 95 % intervals, the cost of the stage against
//! a twin run on the same seed with the design off for everyone, and the statistical power: the
//! smallest P50 change the stage could detect ([`analysis`]).
//!
//! A request's arm: with `unit = "viewers"`, a draw from its own random stream (each view is a
//! viewer put in treatment with the stage's probability, as a traffic-percentage flag does); with
//! `unit = "clips"`, a fixed hash of the clip id and the seed below the stage's share (a clip, once
//! in treatment, stays there as the share grows).

pub mod analysis;
pub mod record;
pub mod report;

use crate::rng::splitmix64;
use clipsim_engine::{SimDuration, SimTime};

/// Parts per million: shares are kept as integers.
pub const PPM: u32 = 1_000_000;

/// What is randomized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Each view on its own (a traffic-percentage rollout).
    Viewers,
    /// Each clip (a clip-percentage rollout: all of a clip's views in one arm).
    Clips,
}

impl Unit {
    /// Its name in a scenario.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Viewers => "viewers",
            Unit::Clips => "clips",
        }
    }
}

/// One stage: from `start` to `end`, `share_ppm` of the unit in treatment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage {
    /// When it begins (the first at time 0).
    pub start: SimTime,
    /// When it ends (the next begins); the last lasts to the end of the run.
    pub end: SimTime,
    /// Share in treatment, parts per million.
    pub share_ppm: u32,
}

/// A checked `[rollout]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rollout {
    /// What is randomized.
    pub unit: Unit,
    /// The stages, in time order, back to back from time 0 to the run's end.
    pub stages: Vec<Stage>,
    /// Everything in the control arm: the twin run the stage costs are compared with.
    pub control_only: bool,
}

impl Rollout {
    /// The stage in force at `t` (the last one after its end).
    #[inline]
    pub fn stage_at(&self, t: SimTime) -> usize {
        self.stages.iter().position(|s| t < s.end).unwrap_or(self.stages.len() - 1)
    }

    /// Whether a request at `t` for `clip` is in treatment. `draw` is the request's uniform draw
    /// below [`PPM`] (used with `unit = "viewers"`), `seed` the run's seed.
    #[inline]
    pub fn treated(&self, stage: usize, clip: u32, draw: u32, seed: u64) -> bool {
        if self.control_only {
            return false;
        }
        let share = self.stages[stage].share_ppm;
        match self.unit {
            Unit::Viewers => draw < share,
            Unit::Clips => clip_bucket(clip, seed) < share,
        }
    }

    /// The twin of this rollout with every request in the control arm.
    pub fn control(&self) -> Rollout {
        Rollout { control_only: true, ..self.clone() }
    }

    /// The stages from raw `(share, length)` pairs; the last runs to `end`.
    pub fn from_stages(unit: Unit, stages: &[(u32, SimDuration)], end: SimTime) -> Rollout {
        let mut t = SimTime::ZERO;
        let n = stages.len();
        let stages = stages
            .iter()
            .enumerate()
            .map(|(i, &(share_ppm, length))| {
                let start = t;
                t = if i + 1 == n { end.max(start + length) } else { start + length };
                Stage { start, end: t, share_ppm }
            })
            .collect();
        Rollout { unit, stages, control_only: false }
    }
}

/// A clip's fixed place in `0..PPM` for `unit = "clips"`: treated while the share is above it.
pub fn clip_bucket(clip: u32, seed: u64) -> u32 {
    (splitmix64(seed ^ 0x0072_6f6c_6c6f_7574 ^ u64::from(clip).rotate_left(32)) % u64::from(PPM)) as u32
}

/// The bill to date at every report tick of a run: `(tick, nanodollars)`.
///
/// The first row is time 0, where nothing has been billed yet (the world's first row is at the
/// first report tick).
pub fn cost_rows(res: &crate::world::RunResult) -> Vec<(SimTime, i128)> {
    let rows = res.recorder.rows.iter().map(|r| (r.end, r.cost_to_date.iter().map(|c| i128::from(c.0)).sum::<i128>()));
    std::iter::once((SimTime::ZERO, 0)).chain(rows).collect()
}

/// With `[rollout]`: runs the twin of `res`'s scenario (the same seed, everyone in the control
/// arm, mirroring off: the system before the design, whose CDN is configured but never used) and
/// keeps its bill to date in `res.rollout_twin_costs`. Nothing without a rollout or when the run
/// was interrupted.
pub fn run_twin(
    res: &mut crate::world::RunResult,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<(), clipsim_engine::ConfigError> {
    let Some(r) = res.scenario.rollout.as_ref().filter(|r| !r.control_only) else { return Ok(()) };
    if res.interrupted {
        return Ok(());
    }
    let mut twin = res.scenario.clone();
    twin.rollout = Some(r.control());
    twin.engine.mirror.enabled = false;
    let twin = crate::world::World::new(twin)?.run(&mut (), stop);
    if !twin.interrupted {
        res.rollout_twin_costs = Some(cost_rows(&twin));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(unit: Unit) -> Rollout {
        let d = SimDuration::from_days;
        Rollout::from_stages(unit, &[(100_000, d(1)), (500_000, d(6)), (PPM, d(1))], SimTime::ZERO + d(30))
    }

    #[test]
    fn stages_run_back_to_back_and_the_last_to_the_end() {
        let r = rollout(Unit::Viewers);
        let day = |n| SimTime::ZERO + SimDuration::from_days(n);
        let spans: Vec<_> = r.stages.iter().map(|s| (s.start, s.end, s.share_ppm)).collect();
        assert_eq!(spans, [(day(0), day(1), 100_000), (day(1), day(7), 500_000), (day(7), day(30), PPM)]);
        assert_eq!(r.stage_at(day(0)), 0);
        assert_eq!(r.stage_at(day(1)), 1, "a stage begins at its start");
        assert_eq!(r.stage_at(day(29)), 2);
        assert_eq!(r.stage_at(day(40)), 2, "the last stage stays in force");
    }

    #[test]
    fn a_clip_in_treatment_stays_there_as_the_share_grows() {
        let r = rollout(Unit::Clips);
        let treated = |stage| (0..10_000u32).filter(|&c| r.treated(stage, c, 0, 7)).collect::<Vec<_>>();
        let (a, b, c) = (treated(0), treated(1), treated(2));
        assert!(a.iter().all(|x| b.contains(x)), "stage 1 keeps stage 0's clips");
        assert_eq!(c.len(), 10_000, "all at 100 %");
        // About the share: 10 % of 10,000 clips, within 4 standard deviations (30).
        assert!((880..=1120).contains(&a.len()), "{}", a.len());
        assert!((4880..=5120).contains(&b.len()), "{}", b.len());
        assert!(
            treated(0) != (0..10_000u32).filter(|&c| r.treated(0, c, 0, 8)).collect::<Vec<_>>(),
            "the seed decides"
        );
        assert!(!r.control().treated(2, 0, 0, 7), "the twin treats nobody");
    }

    #[test]
    fn a_viewer_is_treated_by_its_draw() {
        let r = rollout(Unit::Viewers);
        assert!(r.treated(0, 5, 99_999, 1));
        assert!(!r.treated(0, 5, 100_000, 1));
        assert!(r.treated(2, 5, PPM - 1, 1));
    }
}
