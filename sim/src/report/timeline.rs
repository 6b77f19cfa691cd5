//! The timeline in words: each recorded event (`record::timeline`) as a line of the report.

use crate::record::timeline::{Event, InForce};
use crate::scenario::Scenario;
use clipsim_engine::{HealthTarget, Input, MoneyNanos, RegionId};

fn region(sc: &Scenario, r: RegionId) -> &str {
    &sc.engine.regions[r.index()].name
}

/// One event, as the report's timeline says it.
pub fn describe(sc: &Scenario, event: &Event) -> String {
    match *event {
        Event::OutageStarts(i) | Event::OutageEnds(i) => {
            let o = &sc.outages[i];
            let what = if matches!(event, Event::OutageStarts(_)) { "starts" } else { "ends" };
            format!("outage {} ({}) {what}", o.label, o.kind)
        }
        Event::PriceChange(i) => match &sc.price_changes[i].1 {
            Input::PriceChange { meter, provider, zone, table } => {
                let where_ = zone.map_or("every zone".to_string(), |z| sc.engine.zone_name(*meter, z).to_string());
                let first = table.tiers()[0].nanos_per_unit;
                format!(
                    "price change: {} {} in {where_} now {} per {}{}",
                    sc.engine.providers[provider.index()],
                    meter.name(),
                    MoneyNanos(first as i64),
                    meter.price_unit(),
                    if table.tiers().len() > 1 { " (first tier)" } else { "" }
                )
            }
            other => unreachable!("a scenario's price changes are price-change inputs, not {other:?}"),
        },
        Event::SpikeStartsOnNewClip { clip } => format!("viral spike starts on new clip {}", clip.0),
        Event::SpikeStartsOnCatalogClip { rank } => {
            format!("viral spike starts on catalog clip {rank} (popularity rank {})", rank + 1)
        }
        Event::SpikeEnds { clip } => format!("viral spike on clip {} ends", clip.0),
        Event::SpikeMirror { clip, region: r, step, since_spike } => {
            let s = since_spike.as_secs();
            format!(
                "mirror of spike clip {} in {} {}, {}h {:02}m {:02}s after the spike began",
                clip.0,
                region(sc, r),
                step.name(),
                s / 3600,
                s % 3600 / 60,
                s % 60
            )
        }
        Event::HealthChanged { target, from, to } => {
            // With two CDNs each is named; with one it is "cdn".
            let cdn = |i: usize| match sc.cdn.as_ref().filter(|c| c.second.is_some()) {
                Some(c) => format!("cdn {}", c.names().nth(i).unwrap_or("?")),
                None => "cdn".to_string(),
            };
            let name = match target {
                HealthTarget::Region(r) => region(sc, r).to_string(),
                HealthTarget::Cdn => cdn(0),
                HealthTarget::SecondCdn => cdn(1),
            };
            format!("{name} believed {} (was {})", to.name(), from.name())
        }
        Event::CostAlert { per_gb_nanos, threshold_nanos } => format!(
            "cost alert: {} per GB over the window, above {}",
            MoneyNanos(per_gb_nanos as i64),
            MoneyNanos(threshold_nanos as i64)
        ),
        Event::CostAlertCleared { per_gb_nanos } => {
            format!("cost alert cleared: {} per GB", MoneyNanos(per_gb_nanos as i64))
        }
        Event::CopyAbandoned { clip, region: r } => format!("copy of clip {} to {} abandoned", clip.0, region(sc, r)),
    }
}

/// What was still in force at the end, as the report says it (before "at the end").
pub fn describe_in_force(sc: &Scenario, what: InForce) -> String {
    match what {
        InForce::Outage(i) => format!("outage {} ({}) still in force", sc.outages[i].label, sc.outages[i].kind),
        InForce::CostAlert => "cost alert still raised".into(),
    }
}
