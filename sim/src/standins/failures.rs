//! Background failures (`[failures]`): every region's storage and each CDN fail at random, each on
//! its own alternating renewal process: up for an exponential time of mean MTBF, down for an
//! exponential time of mean MTTR, and so on to the run's end. Over a long run a target is up a
//! share MTBF / (MTBF + MTTR) of the time. The failures become outages like the scripted ones
//! (`kind = "down"`), drawn from a stream of their own so that the traffic is unchanged.

use crate::rng::{Purpose, Stream};
use crate::scenario::{Outage, OutageKind, OutageTarget, Scenario};
use clipsim_engine::{RegionId, SimDuration, SimTime};

/// The background failures of `sc` over its duration (none unless enabled): each region's in
/// region order, then each CDN's (the first, then the second), each target's in time order.
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
    for (i, name) in sc.cdn.iter().flat_map(|c| c.names()).enumerate() {
        targets.push((OutageTarget::Cdn(i as u8), format!("cdn:{name} (background)"), f.cdn_mtbf, f.cdn_mttr));
    }
    for (target, label, mtbf, mttr) in targets {
        let mut t = SimTime::ZERO;
        loop {
            t = t.saturating_add(exp_duration(&mut rng, mtbf));
            if t >= end {
                break;
            }
            // At least a microsecond down, so that every failure is an outage of some length.
            let down = exp_duration(&mut rng, mttr).max(SimDuration::from_micros(1));
            let repaired = t.saturating_add(down).min(end);
            out.push(Outage { label: label.clone(), target, kind: OutageKind::Down, start: t, end: repaired });
            t = repaired;
        }
    }
    out
}

/// An exponential duration of mean `mean`, to the microsecond (`as` saturates a huge draw).
fn exp_duration(rng: &mut Stream, mean: SimDuration) -> SimDuration {
    SimDuration::from_micros((rng.exp1() * mean.as_micros() as f64).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Over ten years of a target failing daily for an hour on average, the outages have the
    /// exponential's shape: a mean of one hour, a standard deviation as large as the mean (a
    /// fixed repair time would have none), up-times likewise, and down a share MTTR / (MTBF +
    /// MTTR) of the time; each target's outages are in time order and do not overlap.
    #[test]
    fn failures_are_exponential_up_and_down_times() {
        let text = "[scenario]\nname = \"f\"\nduration = \"3650d\"\nreport_interval = \"30d\"\n\
                    [catalog]\nclips = 10\n[[regions]]\nname = \"us-east-1\"\nstorage = \"s3\"\n\
                    latency_ms = { na = 25, eu = 95, apac = 190 }\n[cdn]\nenabled = false\n\
                    [failures]\nenabled = true\nregion_mtbf = \"1d\"\nregion_mttr = \"1h\"\n";
        let sc = crate::scenario::from_str(Path::new("f.toml"), text, &Default::default()).expect("valid");
        let outages = draw(&sc);
        let hours: Vec<f64> =
            outages.iter().map(|o| (o.end.as_micros() - o.start.as_micros()) as f64 / 3.6e9).collect();
        let ups: Vec<f64> =
            outages.windows(2).map(|w| (w[1].start.as_micros() - w[0].end.as_micros()) as f64 / 3.6e9).collect();
        assert!(outages.len() > 3_000 && outages.len() < 4_000, "{} failures in ten years", outages.len());
        for (what, xs, mean) in [("down", &hours, 1.0), ("up", &ups, 24.0)] {
            let n = xs.len() as f64;
            let m = xs.iter().sum::<f64>() / n;
            let sd = (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            assert!((m - mean).abs() < 0.1 * mean, "{what}: mean {m:.3} h against {mean}");
            assert!((sd / m - 1.0).abs() < 0.1, "{what}: sd/mean {:.3}, an exponential's is 1", sd / m);
        }
        let down: f64 = hours.iter().sum::<f64>() / (3650.0 * 24.0);
        assert!((down - 1.0 / 25.0).abs() < 0.004, "down {down:.4} of the time against 1/25");
        assert!(outages.windows(2).all(|w| w[0].end < w[1].start), "in order, not overlapping");
        assert!(outages.iter().all(|o| o.start < o.end && o.target == OutageTarget::Region(RegionId(0))));
    }
}
