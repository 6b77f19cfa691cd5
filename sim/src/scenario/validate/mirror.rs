//! The mirror policy: the seed's `MIRROR_*` settings and the engine's policies.

use super::{Ctx, R};
use crate::scenario::raw::*;
use clipsim_engine::config::MIRRORS_PER_CLIP_MAX;
use clipsim_engine::*;

pub(super) fn mirror(cx: &Ctx<'_>, m: &RawMirror, cfg: &mut EngineConfig) -> R<()> {
    let mut regions = Vec::new();
    if let Some(names) = &m.regions {
        for (i, name) in names.iter().enumerate() {
            let path = format!("mirror.regions[{i}]");
            let r = cx.region_id(cfg, name, &path)?;
            cx.check(!regions.contains(&r), &path, "each region once")?;
            regions.push(r);
        }
    } else {
        regions = (0..cfg.regions.len() as u32).map(RegionId).collect();
    }
    let ttl_days = cx.positive(m.ttl_days, 3650.0, "mirror.ttl_days", "days")?;
    cx.check(
        m.max_per_clip >= 1 && m.max_per_clip as usize <= MIRRORS_PER_CLIP_MAX,
        "mirror.max_per_clip",
        format!("1 to {MIRRORS_PER_CLIP_MAX}"),
    )?;
    let sync_min = cx.positive(m.sync_interval_minutes, 525_600.0, "mirror.sync_interval_minutes", "minutes")?;
    cx.check(
        m.view_weight > 0 || m.vote_weight > 0 || m.replication_threshold == 0,
        "mirror.replication_threshold",
        "a threshold that can be reached: view_weight and vote_weight are both 0",
    )?;
    cx.check(
        m.replication_threshold <= i64::MAX as u64,
        "mirror.replication_threshold",
        format!("at most {}", i64::MAX),
    )?;
    cx.check((1..=50).contains(&m.copy_attempts_max), "mirror.copy_attempts_max", "1 to 50")?;
    let backoff = cx.nonzero(m.retry_backoff.0, "mirror.retry_backoff")?;
    cx.check(
        m.retry_backoff_max.0 >= backoff,
        "mirror.retry_backoff_max",
        format!("at least mirror.retry_backoff ({backoff})"),
    )?;
    let half_life = m.score_half_life.map(|h| cx.nonzero(h.0, "mirror.score_half_life")).transpose()?;
    let window = m.score_window.map(|w| w.0);
    if let Some(w) = window {
        cx.check(
            w >= SimDuration::from_mins(1),
            "mirror.score_window",
            "a duration of at least 1m (the score counts the views of the last this long)",
        )?;
        cx.check(
            half_life.is_none(),
            "mirror.score_window",
            "unset when mirror.score_half_life is set: one or the other",
        )?;
    }
    let ttl_bounds = match (m.ttl_min_days, m.ttl_max_days) {
        (None, None) => None,
        (Some(_), None) => return Err(cx.err("mirror.ttl_max_days", "set with mirror.ttl_min_days (both or neither)")),
        (None, Some(_)) => return Err(cx.err("mirror.ttl_min_days", "set with mirror.ttl_max_days (both or neither)")),
        (Some(lo), Some(hi)) => {
            let min = cx.positive(lo, 3650.0, "mirror.ttl_min_days", "days")?;
            let max = cx.positive(hi, 3650.0, "mirror.ttl_max_days", "days")?;
            cx.check(max >= min, "mirror.ttl_max_days", format!("at least mirror.ttl_min_days ({min})"))?;
            Some(TtlBounds {
                min: cx.micros(min, 86_400e6, "mirror.ttl_min_days")?,
                max: cx.micros(max, 86_400e6, "mirror.ttl_max_days")?,
            })
        }
    };
    let predict = match (m.predict_age, m.predict_horizon) {
        (None, Some(_)) => return Err(cx.err("mirror.predict_horizon", "unset unless mirror.predict_age is set")),
        (None, None) => None,
        (Some(age), horizon) => Some(Predict {
            age: cx.nonzero(age.0, "mirror.predict_age")?,
            horizon: cx.nonzero(horizon.map_or(SimDuration::from_days(30), |h| h.0), "mirror.predict_horizon")?,
        }),
    };
    cfg.mirror = MirrorConfig {
        enabled: m.enabled,
        regions,
        replication_threshold: m.replication_threshold,
        view_weight: m.view_weight,
        vote_weight: m.vote_weight,
        score_half_life: half_life,
        score_window: window,
        ttl: cx.micros(ttl_days, 86_400e6, "mirror.ttl_days")?,
        refresh_ttl_on_sync: m.refresh_ttl_on_sync,
        max_per_clip: m.max_per_clip as u8,
        sync_interval: cx.micros(sync_min, 60e6, "mirror.sync_interval_minutes")?,
        cleanup_interval: cx.nonzero(m.cleanup_interval.0, "mirror.cleanup_interval")?,
        retry_backoff_base: backoff,
        retry_backoff_max: m.retry_backoff_max.0,
        copy_attempts_max: m.copy_attempts_max as u8,
        predict,
        ttl_bounds,
        cost_capped: m.cost_capped,
    };
    if let Some(w) = window {
        let two_syncs = cfg.mirror.sync_interval.saturating_mul(2);
        cx.check(
            w >= two_syncs,
            "mirror.score_window",
            format!("at least two sync intervals ({two_syncs}): the window's steps advance at syncs"),
        )?;
    }
    Ok(())
}

/// The source-selection and placement policies named by `mirror.source_policy` and
/// `mirror.placement`.
pub(super) fn policies(cx: &Ctx<'_>, m: &RawMirror) -> R<(SourcePolicy, PlacementPolicy)> {
    let source = match m.source_policy.as_str() {
        "seed-chain" => SourcePolicy::SeedChain,
        "latency-first" => SourcePolicy::LatencyFirst,
        _ => return Err(cx.err("mirror.source_policy", "\"seed-chain\" or \"latency-first\"")),
    };
    let placement = match m.placement.as_str() {
        "demand-ranked" => PlacementPolicy::DemandRanked,
        "demand-only" => PlacementPolicy::DemandOnly,
        _ => return Err(cx.err("mirror.placement", "\"demand-ranked\" or \"demand-only\"")),
    };
    Ok((source, placement))
}
