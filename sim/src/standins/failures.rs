//! Background failures (`[failures]`): every region's storage and the CDN fail at random, each on
//! its own alternating renewal process: up for an exponential time of mean MTBF, down for an
//! exponential time of mean MTTR, and so on to the run's end. Over a long run a target is up a
//! share MTBF / (MTBF + MTTR) of the time. The failures become outages like the scripted ones
//! (`kind = "down"`), drawn from a stream of their own so that the traffic is unchanged.

use crate::rng::{Purpose, Stream};
use crate::scenario::{Outage, OutageKind, OutageTarget, Scenario};
use clipsim_engine::{RegionId, SimDuration, SimTime};

/// The background failures of `sc` over its duration (none unless enabled): each region's in
/// region order, then the CDN's (with a CDN), each target's in time order.
pub fn draw(sc: &Scenario) -> Vec<Outage> {
    let Some(f) = sc.failures else { return Vec::new() };
    let end = SimTime::ZERO + sc.duration;
    let mut rng = Stream::new(sc.seed, Purpose::Failures);
    let mut out = Vec::new();
    let mut targets: Vec<(OutageTarget, String, SimDuration, SimDuration)> = sc
        .engine
        .regions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                OutageTarget::Region(RegionId(i as u32)),
                format!("region:{} (background)", r.name),
                f.region_mtbf,
                f.region_mttr,
            )
        })
        .collect();
    if let Some(cdn) = &sc.cdn {
        targets.push((OutageTarget::Cdn, format!("cdn:{} (background)", cdn.name), f.cdn_mtbf, f.cdn_mttr));
    }
    for (target, label, mtbf, mttr) in targets {
        let mut t = SimTime::ZERO;
        loop {
            t = t.saturating_add(exp_duration(&mut rng, mtbf));
            if t >= end {
                break;
            }
            let repaired = t.saturating_add(exp_duration(&mut rng, mttr)).min(end);
            if repaired > t {
                out.push(Outage { label: label.clone(), target, kind: OutageKind::Down, start: t, end: repaired });
            }
            t = repaired;
        }
    }
    out
}

/// An exponential duration of mean `mean`, to the microsecond.
fn exp_duration(rng: &mut Stream, mean: SimDuration) -> SimDuration {
    let us = rng.exp1() * mean.as_micros() as f64;
    SimDuration::from_micros(us.min(u64::MAX as f64 / 2.0).round() as u64)
}
