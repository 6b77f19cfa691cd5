//! Health of regions and of the CDN, as the engine believes it from probe results.
//!
//! Each target moves between [`Health::Healthy`], [`Health::Degraded`] and [`Health::Unhealthy`]
//! with hysteresis: `unhealthy_after_failures` consecutive failed probes make it unhealthy,
//! `healthy_after_successes` consecutive good probes bring it back. A reachable target whose
//! smoothed probe latency is above its degraded threshold is degraded: `degraded_latency`, or
//! `degraded_factor_pct` percent of the target's normal probe latency when that is known and
//! lower ([`crate::EngineConfig::set_probe_normal`]). The belief can be stale: a
//! region that went down a second ago is still believed healthy until enough probes fail.

use crate::units::SimDuration;

/// What the engine believes about a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Health {
    /// Answers probes in time.
    Healthy = 0,
    /// Answers probes, slowly.
    Degraded = 1,
    /// Failed enough probes in a row.
    Unhealthy = 2,
}

impl Health {
    /// The seed's `region_health_status` gauge value: 1 healthy, 0.5 degraded, 0 unhealthy,
    /// scaled by 2 to stay an integer (2, 1, 0).
    pub const fn status_gauge_x2(self) -> u8 {
        match self {
            Health::Healthy => 2,
            Health::Degraded => 1,
            Health::Unhealthy => 0,
        }
    }

    /// A stable lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Degraded => "degraded",
            Health::Unhealthy => "unhealthy",
        }
    }
}

/// Thresholds of the health state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthConfig {
    /// Consecutive failed probes that make a target unhealthy (seed runbook: 3).
    pub unhealthy_after_failures: u32,
    /// Consecutive good probes that make an unhealthy target usable again.
    pub healthy_after_successes: u32,
    /// Smoothed probe latency above which a reachable target is degraded.
    pub degraded_latency: SimDuration,
    /// Percent of a target's normal probe latency above which it is degraded, when its normal
    /// latency is known (0: only `degraded_latency`). 200: twice its usual round trip.
    pub degraded_factor_pct: u32,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            unhealthy_after_failures: 3,
            healthy_after_successes: 2,
            degraded_latency: SimDuration::from_millis(500),
            degraded_factor_pct: 0,
        }
    }
}

/// The state of one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetHealth {
    state: Health,
    failures_in_row: u32,
    successes_in_row: u32,
    /// Exponentially weighted moving average of probe latency (weight 1/8 per sample, as TCP's
    /// smoothed RTT), in microseconds; `None` before the first good probe.
    latency_avg_us: Option<u64>,
    /// Above this smoothed latency, microseconds, a reachable target is degraded.
    degraded_above_us: u64,
}

impl TargetHealth {
    /// A healthy target, degraded above `cfg.degraded_latency` or above `degraded_factor_pct`
    /// percent of `normal` (when known and not zero), whichever is lower.
    pub fn new(cfg: &HealthConfig, normal: Option<SimDuration>) -> Self {
        let absolute = cfg.degraded_latency.as_micros();
        let relative = normal
            .filter(|n| *n > SimDuration::ZERO && cfg.degraded_factor_pct > 0)
            .map(|n| n.as_micros().saturating_mul(u64::from(cfg.degraded_factor_pct)) / 100);
        TargetHealth {
            state: Health::Healthy,
            failures_in_row: 0,
            successes_in_row: 0,
            latency_avg_us: None,
            degraded_above_us: relative.map_or(absolute, |r| r.min(absolute)),
        }
    }

    /// The smoothed latency above which it is degraded.
    pub fn degraded_above(&self) -> SimDuration {
        SimDuration(self.degraded_above_us)
    }

    /// The believed state.
    pub fn state(&self) -> Health {
        self.state
    }

    /// The smoothed probe latency, if any probe succeeded yet.
    pub fn latency_avg(&self) -> Option<SimDuration> {
        self.latency_avg_us.map(SimDuration)
    }

    /// Applies one probe result; returns the previous state when the state changed.
    pub fn on_probe(&mut self, cfg: &HealthConfig, ok: bool, latency: SimDuration) -> Option<Health> {
        let before = self.state;
        if ok {
            self.failures_in_row = 0;
            self.successes_in_row = self.successes_in_row.saturating_add(1);
            let sample = latency.as_micros();
            self.latency_avg_us = Some(match self.latency_avg_us {
                None => sample,
                // avg + (sample - avg) / 8, in integers, rounding toward the old average.
                Some(avg) => {
                    if sample >= avg {
                        avg + (sample - avg) / 8
                    } else {
                        avg - (avg - sample) / 8
                    }
                }
            });
            let reachable = before != Health::Unhealthy || self.successes_in_row >= cfg.healthy_after_successes;
            if reachable {
                self.state = if self.latency_avg_us.unwrap_or(0) > self.degraded_above_us {
                    Health::Degraded
                } else {
                    Health::Healthy
                };
            }
        } else {
            self.successes_in_row = 0;
            self.failures_in_row = self.failures_in_row.saturating_add(1);
            if self.failures_in_row >= cfg.unhealthy_after_failures {
                self.state = Health::Unhealthy;
            }
        }
        (self.state != before).then_some(before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> SimDuration = SimDuration::from_millis;

    /// `region_health_status` is 1 / 0.5 / 0; doubled it is 2 / 1 / 0.
    #[test]
    fn status_gauge_is_twice_the_seed_value() {
        assert_eq!(Health::Healthy.status_gauge_x2(), 2);
        assert_eq!(Health::Degraded.status_gauge_x2(), 1);
        assert_eq!(Health::Unhealthy.status_gauge_x2(), 0);
    }

    /// Each good probe moves the average 1/8 of the way to the sample, rounding toward the old
    /// average: 100_000 + 80_007 / 8 = 110_000 up, then 110_000 - 89_997 / 8 = 98_751 down.
    #[test]
    fn latency_average_moves_an_eighth_of_the_way_rounding_toward_the_old_average() {
        let cfg = HealthConfig::default();
        let mut h = TargetHealth::new(&cfg, None);
        assert_eq!(h.latency_avg(), None);
        h.on_probe(&cfg, true, SimDuration(100_000));
        assert_eq!(h.latency_avg(), Some(SimDuration(100_000)));
        h.on_probe(&cfg, true, SimDuration(180_007));
        assert_eq!(h.latency_avg(), Some(SimDuration(110_000)));
        h.on_probe(&cfg, true, SimDuration(20_003));
        assert_eq!(h.latency_avg(), Some(SimDuration(98_751)));
    }

    /// With a factor and a normal latency, a target is degraded above the factor times its
    /// normal latency when that is below the absolute threshold (a region that answers in 30 ms
    /// is degraded at 61 ms, long before 500 ms); without a normal latency, or above, the
    /// absolute threshold holds.
    #[test]
    fn a_degraded_threshold_relative_to_normal_latency() {
        let cfg = HealthConfig { degraded_factor_pct: 200, ..HealthConfig::default() };
        assert_eq!(TargetHealth::new(&cfg, Some(MS(30))).degraded_above(), MS(60));
        assert_eq!(TargetHealth::new(&cfg, Some(MS(400))).degraded_above(), MS(500), "the lower of the two");
        assert_eq!(TargetHealth::new(&cfg, None).degraded_above(), MS(500));
        let off = HealthConfig::default();
        assert_eq!(TargetHealth::new(&off, Some(MS(30))).degraded_above(), MS(500), "no factor");
        let mut h = TargetHealth::new(&cfg, Some(MS(30)));
        h.on_probe(&cfg, true, MS(30));
        assert_eq!(h.state(), Health::Healthy);
        // Four times slower: the average passes 60 ms on the fourth slow probe.
        let states: Vec<Health> = (0..4)
            .map(|_| {
                h.on_probe(&cfg, true, MS(120));
                h.state()
            })
            .collect();
        assert_eq!(
            states,
            [Health::Healthy, Health::Healthy, Health::Healthy, Health::Degraded],
            "{:?}",
            h.latency_avg()
        );
    }

    #[test]
    fn states_have_lower_case_names() {
        assert_eq!(Health::Healthy.name(), "healthy");
        assert_eq!(Health::Degraded.name(), "degraded");
        assert_eq!(Health::Unhealthy.name(), "unhealthy");
    }

    #[test]
    fn needs_consecutive_failures_to_go_unhealthy() {
        let cfg = HealthConfig::default();
        let mut h = TargetHealth::new(&cfg, None);
        assert_eq!(h.on_probe(&cfg, false, MS(0)), None);
        assert_eq!(h.on_probe(&cfg, false, MS(0)), None);
        // A success in between resets the count.
        assert_eq!(h.on_probe(&cfg, true, MS(20)), None);
        h.on_probe(&cfg, false, MS(0));
        h.on_probe(&cfg, false, MS(0));
        assert_eq!(h.state(), Health::Healthy);
        assert_eq!(h.on_probe(&cfg, false, MS(0)), Some(Health::Healthy));
        assert_eq!(h.state(), Health::Unhealthy);
    }

    #[test]
    fn needs_consecutive_successes_to_come_back() {
        let cfg = HealthConfig::default();
        let mut h = TargetHealth::new(&cfg, None);
        for _ in 0..3 {
            h.on_probe(&cfg, false, MS(0));
        }
        assert_eq!(h.on_probe(&cfg, true, MS(20)), None);
        assert_eq!(h.state(), Health::Unhealthy);
        assert_eq!(h.on_probe(&cfg, true, MS(20)), Some(Health::Unhealthy));
        assert_eq!(h.state(), Health::Healthy);
    }

    #[test]
    fn slow_probes_degrade_and_fast_ones_recover() {
        let cfg = HealthConfig::default();
        let mut h = TargetHealth::new(&cfg, None);
        h.on_probe(&cfg, true, MS(100));
        // The average climbs by 1/8 of the gap per probe.
        let mut probes = 0;
        while h.state() == Health::Healthy {
            h.on_probe(&cfg, true, MS(2_000));
            probes += 1;
            assert!(probes < 20, "never degraded");
        }
        assert_eq!(h.state(), Health::Degraded);
        assert!(h.latency_avg().unwrap() > MS(500));
        probes = 0;
        while h.state() == Health::Degraded {
            h.on_probe(&cfg, true, MS(10));
            probes += 1;
            assert!(probes < 20, "never recovered");
        }
        assert_eq!(h.state(), Health::Healthy);
    }
}
