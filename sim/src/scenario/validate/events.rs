//! Outages, targets and the estimate to compare the bill with.

use super::{Ctx, EVENTS_MAX, R};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::units::usd_to_nanos;
use clipsim_engine::*;

pub(super) fn outages(
    cx: &Ctx<'_>,
    list: &[RawOutage],
    cfg: &EngineConfig,
    cdn: Option<&Cdn>,
    duration: SimDuration,
) -> R<Vec<Outage>> {
    cx.check(list.len() <= EVENTS_MAX, "outages", format!("at most {EVENTS_MAX} outages"))?;
    let mut out = Vec::new();
    for (i, o) in list.iter().enumerate() {
        let p = format!("outages[{i}]");
        let tp = format!("{p}.target");
        let (kind_word, name) = o
            .target
            .split_once(':')
            .ok_or_else(|| cx.err(&tp, "`region:NAME`, `cdn:PROVIDER`, `storage:PROVIDER` or `link:FROM->TO`"))?;
        let target = match kind_word {
            "region" => OutageTarget::Region(cx.region_id(cfg, name, &tp)?),
            "cdn" => {
                let c = cdn.ok_or_else(|| cx.err(&tp, "a CDN outage needs [cdn] enabled = true"))?;
                let which = c.names().position(|n| n == name).ok_or_else(|| {
                    let names: Vec<String> = c.names().map(|n| format!("`cdn:{n}`")).collect();
                    cx.err(&tp, format!("the scenario's CDN: {}", names.join(" or ")))
                })?;
                OutageTarget::Cdn(which as u8)
            }
            "storage" => {
                let mask = cfg
                    .regions
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| cfg.providers[r.storage_provider.index()] == name)
                    .fold(0u64, |m, (i, _)| m | 1 << i);
                cx.check(mask != 0, &tp, "a storage provider that stores at least one region")?;
                OutageTarget::Regions(mask)
            }
            "link" => {
                let (a, b) = name.split_once("->").ok_or_else(|| cx.err(&tp, "`link:FROM->TO`"))?;
                let (a, b) = (cx.region_id(cfg, a.trim(), &tp)?, cx.region_id(cfg, b.trim(), &tp)?);
                cx.check(a != b, &tp, "two different regions")?;
                OutageTarget::Link(a, b)
            }
            _ => return Err(cx.err(&tp, "`region:NAME`, `cdn:PROVIDER`, `storage:PROVIDER` or `link:FROM->TO`")),
        };
        let kind = match o.kind.as_str() {
            "down" => OutageKind::Down,
            "degraded" => {
                let f = o.latency_factor.unwrap_or(1.0);
                let f = cx.range(f, 1.0, 1000.0, &format!("{p}.latency_factor"), "a latency multiplier")?;
                let e = cx.range(o.error_rate.unwrap_or(0.0), 0.0, 1.0, &format!("{p}.error_rate"), "a share")?;
                cx.check(
                    f > 1.0 || e > 0.0,
                    format!("{p}.kind"),
                    "a degradation: latency_factor above 1 or error_rate above 0",
                )?;
                OutageKind::Degraded { latency_factor: f, error_rate: e }
            }
            "lag" => {
                let lag = o.lag.ok_or_else(|| cx.err(format!("{p}.lag"), "a lag duration for kind = \"lag\""))?;
                cx.check(
                    matches!(target, OutageTarget::Region(_)),
                    &tp,
                    "a region (`region:NAME`) for kind = \"lag\"",
                )?;
                OutageKind::Lag(cx.nonzero(lag.0, &format!("{p}.lag"))?)
            }
            _ => return Err(cx.err(format!("{p}.kind"), "\"down\", \"degraded\" or \"lag\"")),
        };
        if matches!(target, OutageTarget::Link(..)) {
            cx.check(
                kind == OutageKind::Down,
                format!("{p}.kind"),
                "\"down\" for a link (a link is either cut or not)",
            )?;
        }
        if !matches!(kind, OutageKind::Lag(_)) {
            cx.check(o.lag.is_none(), format!("{p}.lag"), "lag only with kind = \"lag\"")?;
        }
        if !matches!(kind, OutageKind::Degraded { .. }) {
            cx.check(
                o.latency_factor.is_none() && o.error_rate.is_none(),
                format!("{p}.latency_factor"),
                "latency_factor and error_rate only with kind = \"degraded\"",
            )?;
        }
        cx.check(o.start.0 < duration, format!("{p}.start"), format!("inside the run (before {duration})"))?;
        cx.nonzero(o.duration.0, &format!("{p}.duration"))?;
        let start = SimTime::ZERO + o.start.0;
        out.push(Outage { label: o.target.clone(), target, kind, start, end: start + o.duration.0 });
    }
    out.sort_by_key(|o| o.start);
    Ok(out)
}

pub(super) fn targets(cx: &Ctx<'_>, t: &RawTargets) -> R<Targets> {
    if !t.enabled {
        return Ok(Targets::default());
    }
    Ok(Targets {
        p50_load_ms: t
            .p50_load_ms
            .map(|v| cx.positive(v, 3_600_000.0, "targets.p50_load_ms", "milliseconds"))
            .transpose()?,
        p95_load_ms: t
            .p95_load_ms
            .map(|v| cx.positive(v, 3_600_000.0, "targets.p95_load_ms", "milliseconds"))
            .transpose()?,
        availability: t.availability.map(|v| cx.range(v, 0.0, 1.0, "targets.availability", "a share")).transpose()?,
        cost_per_gb_nanos: t
            .cost_per_gb
            .map(|v| usd_to_nanos(v).map_err(|e| cx.err("targets.cost_per_gb", e)))
            .transpose()?,
        top100_mirror_hit_rate: t
            .top100_mirror_hit_rate
            .map(|v| cx.range(v, 0.0, 1.0, "targets.top100_mirror_hit_rate", "a share"))
            .transpose()?,
    })
}

pub(super) fn expected(cx: &Ctx<'_>, e: &RawExpected) -> R<Expected> {
    let usd = |v: Option<f64>, key: &str| -> R<Option<u64>> {
        v.map(|x| {
            cx.check(x.is_finite() && (0.0..1e12).contains(&x), format!("expected.{key}"), "dollars, 0 or more")?;
            Ok((x * 1e9).round() as u64)
        })
        .transpose()
    };
    let mut categories = Vec::new();
    for (cat, v, key) in [
        (Category::Storage, e.storage_usd, "storage_usd"),
        (Category::CdnEgress, e.cdn_egress_usd, "cdn_egress_usd"),
        (Category::OriginEgress, e.origin_egress_usd, "origin_egress_usd"),
        (Category::InterRegion, e.inter_region_usd, "inter_region_usd"),
        (Category::Requests, e.requests_usd, "requests_usd"),
    ] {
        if let Some(n) = usd(v, key)? {
            categories.push((cat, n));
        }
    }
    Ok(Expected {
        source: e.source.clone(),
        categories,
        total_nanos: usd(e.total_usd, "total_usd")?,
        notes: e.notes.clone(),
    })
}

/// `[rollout]`: its stages back to back from time 0, each a whole number of report intervals.
pub(super) fn rollout(
    cx: &Ctx<'_>,
    r: &RawRollout,
    duration: SimDuration,
    report_interval: SimDuration,
    steady_state: bool,
) -> R<crate::rollout::Rollout> {
    use crate::rollout::{Rollout, Unit, PPM};
    let unit = match r.unit.as_str() {
        "viewers" => Unit::Viewers,
        "clips" => Unit::Clips,
        _ => return Err(cx.err("rollout.unit", "\"viewers\" or \"clips\"")),
    };
    cx.check(!steady_state, "rollout", "no [rollout] with scenario.steady_state = true (stages run from time 0)")?;
    cx.check(!r.stages.is_empty(), "rollout.stages", "at least one stage")?;
    let mut stages = Vec::new();
    for (i, s) in r.stages.iter().enumerate() {
        let share = cx.range(s.share, 0.0, 1.0, &format!("rollout.stages[{i}].share"), "a share")?;
        let path = format!("rollout.stages[{i}].length");
        let length = cx.nonzero(s.length.0, &path)?;
        cx.check(
            length.as_micros().is_multiple_of(report_interval.as_micros()),
            &path,
            format!("a whole multiple of scenario.report_interval ({report_interval}): a stage is measured in whole intervals"),
        )?;
        let start: u64 = stages.iter().map(|s: &(u32, SimDuration)| s.1.as_micros()).sum();
        cx.check(
            start < duration.as_micros(),
            format!("rollout.stages[{i}]"),
            format!("a stage that starts before the run ends ({duration}): this one would start after it"),
        )?;
        stages.push(((share * f64::from(PPM)).round() as u32, length));
    }
    Ok(Rollout::from_stages(unit, &stages, SimTime::ZERO + duration))
}
