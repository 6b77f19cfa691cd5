//! The catalog, the traffic and the network.

use super::{Ctx, CLIPS_MAX, EVENTS_MAX, R, VIEWS_PER_SEC_MAX};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use clipsim_engine::*;

pub(super) fn catalog(cx: &Ctx<'_>, c: &RawCatalog, cfg: &EngineConfig) -> R<Catalog> {
    cx.check(c.clips >= 1 && c.clips <= CLIPS_MAX, "catalog.clips", format!("1 to {CLIPS_MAX} clips"))?;
    let size = match c.size {
        RawSize::Fixed { mb } => {
            let mb = cx.positive(mb, 100_000.0, "catalog.size.mb", "megabytes")?;
            SizeDist::Fixed(((mb * 1e6).round() as u64).max(1))
        }
        RawSize::Lognormal { mean_mb, sigma } => {
            let mean = cx.positive(mean_mb, 100_000.0, "catalog.size.mean_mb", "megabytes")?;
            let sigma = cx.range(sigma, 0.0, 4.0, "catalog.size.sigma", "a shape")?;
            // mean = exp(mu + sigma^2 / 2)
            SizeDist::Lognormal { mu: libm::log(mean * 1e6) - sigma * sigma / 2.0, sigma }
        }
    };
    let region = |name: &str, path: &str| {
        cfg.region_id(name).ok_or_else(|| {
            cx.err(
                path,
                format!(
                    "a region: one of {}",
                    cfg.regions.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        })
    };
    let primary_shares = match (&c.primary_region, &c.primary_regions) {
        (Some(_), Some(_)) => {
            return Err(cx.err("catalog.primary_regions", "either primary_region or primary_regions, not both"))
        }
        (Some(name), None) => vec![(region(name, "catalog.primary_region")?, 1.0)],
        (None, Some(shares)) => {
            let mut out = Vec::new();
            for (name, &share) in shares {
                let path = format!("catalog.primary_regions.{name}");
                out.push((region(name, &path)?, cx.range(share, 0.0, 1.0, &path, "a share")?));
            }
            let sum: f64 = out.iter().map(|(_, s)| s).sum();
            cx.check(
                (sum - 1.0).abs() < 1e-6,
                "catalog.primary_regions",
                format!("shares that sum to 1 (they sum to {sum:.6})"),
            )?;
            out
        }
        (None, None) => vec![(RegionId(0), 1.0)],
    };
    let uploads = cx.range(c.uploads_per_day, 0.0, 10_000_000.0, "catalog.uploads_per_day", "a rate")?;
    let history = c.history.0;
    cx.check(history <= SimDuration::from_days(36_500), "catalog.history", "at most 36500d (100 years)")?;
    Ok(Catalog { clips: c.clips as u32, size, primary_shares, uploads_per_day: uploads, history })
}

pub(super) fn traffic(cx: &Ctx<'_>, t: &RawTraffic, geos: &[String], clips: u32, duration: SimDuration) -> R<Traffic> {
    let views_per_sec = match (t.views_per_month, t.requests_per_second) {
        (Some(_), Some(_)) => {
            return Err(cx.err("traffic.requests_per_second", "either views_per_month or requests_per_second, not both"))
        }
        (Some(v), None) => {
            cx.positive(v, VIEWS_PER_SEC_MAX * 2_592_000.0, "traffic.views_per_month", "views")? / 2_592_000.0
        }
        (None, Some(r)) => cx.positive(r, VIEWS_PER_SEC_MAX, "traffic.requests_per_second", "requests per second")?,
        (None, None) => 1_000_000.0 / 2_592_000.0,
    };
    let popularity = match t.popularity {
        RawPopularity::Zipf { alpha } => {
            Popularity::Zipf(cx.range(alpha, 0.0, 5.0, "traffic.popularity.alpha", "an exponent")?)
        }
        RawPopularity::Uniform {} => Popularity::Uniform,
    };
    let decay_days = cx.positive(t.new_clip_decay_days, 3650.0, "traffic.new_clip_decay_days", "days")?;
    let new_clip_share = cx.range(t.new_clip_share, 0.0, 1.0, "traffic.new_clip_share", "a share")?;
    let amplitude = cx.range(t.diurnal_amplitude, 0.0, 0.95, "traffic.diurnal_amplitude", "an amplitude")?;
    let votes = cx.range(t.votes_per_view, 0.0, 1.0, "traffic.votes_per_view", "votes per view")?;
    let up = cx.range(t.upvote_share, 0.0, 1.0, "traffic.upvote_share", "a share")?;
    let geo_shares: Vec<f64> = if t.geos.is_empty() {
        vec![1.0 / geos.len() as f64; geos.len()]
    } else {
        let mut shares = Vec::new();
        for (name, &s) in &t.geos {
            shares.push(cx.range(s, 0.0, 1.0, &format!("traffic.geos.{name}"), "a share")?);
        }
        let sum: f64 = shares.iter().sum();
        cx.check((sum - 1.0).abs() < 1e-6, "traffic.geos", format!("shares that sum to 1 (they sum to {sum:.6})"))?;
        shares
    };
    for key in t.utc_offset_hours.keys() {
        cx.check(
            geos.contains(key),
            format!("traffic.utc_offset_hours.{key}"),
            format!("a geography ({})", geos.join(", ")),
        )?;
    }
    let mut utc_offset_min = Vec::new();
    for g in geos {
        let hours = match t.utc_offset_hours.get(g) {
            Some(&h) => cx.range(h, -12.0, 14.0, &format!("traffic.utc_offset_hours.{g}"), "hours")?,
            None => default_utc_offset(g),
        };
        utc_offset_min.push((hours * 60.0).round() as i32);
    }
    cx.check(t.spikes.len() <= EVENTS_MAX, "traffic.spikes", format!("at most {EVENTS_MAX} spikes"))?;
    let mut spikes = Vec::new();
    for (i, s) in t.spikes.iter().enumerate() {
        let p = format!("traffic.spikes[{i}]");
        let clip = if s.clip == "new" {
            SpikeClip::New
        } else {
            let rank = s.clip.strip_prefix("rank:").and_then(|r| r.parse::<u64>().ok());
            match rank {
                Some(r) if r >= 1 && r <= u64::from(clips) => SpikeClip::Rank(r as u32 - 1),
                _ => return Err(cx.err(format!("{p}.clip"), format!("\"new\" or \"rank:N\" with N from 1 to {clips}"))),
            }
        };
        cx.check(s.start.0 < duration, format!("{p}.start"), format!("inside the run (before {duration})"))?;
        cx.nonzero(s.duration.0, &format!("{p}.duration"))?;
        let vph = cx.positive(
            s.views_per_hour,
            VIEWS_PER_SEC_MAX * 3600.0,
            &format!("{p}.views_per_hour"),
            "views per hour",
        )?;
        let geo = match &s.geo {
            None => None,
            Some(g) => Some(GeoId(
                geos.iter()
                    .position(|x| x == g)
                    .ok_or_else(|| cx.err(format!("{p}.geo"), format!("a geography ({})", geos.join(", "))))?
                    as u32,
            )),
        };
        let start = SimTime::ZERO + s.start.0;
        spikes.push(Spike { clip, start, end: start + s.duration.0, views_per_hour: vph, geo });
    }
    Ok(Traffic {
        views_per_sec,
        popularity,
        new_clip_decay: (new_clip_share > 0.0)
            .then(|| cx.micros(decay_days, 86_400e6, "traffic.new_clip_decay_days"))
            .transpose()?,
        new_clip_share,
        diurnal_amplitude: if t.diurnal { amplitude } else { 0.0 },
        votes_per_view: votes,
        upvote_share: up,
        geo_shares,
        utc_offset_min,
        spikes,
        trace: None,
    })
}

/// `[traffic] trace` (and `trace_format`): the trace, resolved against the scenario file's
/// directory and scanned (its first batch, or with `whole` every record, read and checked, its
/// geographies matched).
pub(super) fn trace(
    cx: &Ctx<'_>,
    t: &RawTraffic,
    scenario_path: &std::path::Path,
    geos: &[String],
    whole: bool,
) -> R<Option<crate::workload::trace::TraceInfo>> {
    use crate::workload::trace::{TraceInfo, TraceUploads};
    let Some(file) = &t.trace else {
        cx.check(t.trace_format.is_none(), "traffic.trace_format", "traffic.trace with it (the trace to read)")?;
        cx.check(t.trace_uploads.is_none(), "traffic.trace_uploads", "traffic.trace with it (the trace to read)")?;
        return Ok(None);
    };
    let uploads = match t.trace_uploads.as_deref() {
        None => TraceUploads::FirstView,
        Some(name) => TraceUploads::parse(name)
            .ok_or_else(|| cx.err("traffic.trace_uploads", format!("one of {}", TraceUploads::NAMES.join(", "))))?,
    };
    let format = match &t.trace_format {
        None => None,
        Some(name) => Some(crate::trace::Format::parse(name).ok_or_else(|| {
            cx.err("traffic.trace_format", format!("one of {}", crate::trace::Format::NAMES.join(", ")))
        })?),
    };
    let path = scenario_path.parent().unwrap_or(std::path::Path::new("")).join(file);
    TraceInfo::scan(&path, format, geos, uploads, whole).map(Some).map_err(|e| cx.err("traffic.trace", e.to_string()))
}

/// Typical UTC offsets of the usual geography names (hours).
pub fn default_utc_offset(geo: &str) -> f64 {
    match geo {
        "na" | "us" => -5.0,
        "sa" => -3.0,
        "eu" => 1.0,
        "af" => 2.0,
        "me" => 3.0,
        "in" => 5.5,
        "apac" | "asia" => 8.0,
        "jp" => 9.0,
        "oc" | "au" => 10.0,
        _ => 0.0,
    }
}

pub(super) fn network(cx: &Ctx<'_>, n: &RawNetwork) -> R<Network> {
    let gbps = cx.positive(n.inter_region_gbps, 10_000.0, "network.inter_region_gbps", "Gbit/s")?;
    let rtt = cx.range(n.inter_region_rtt_ms, 0.0, 60_000.0, "network.inter_region_rtt_ms", "milliseconds")?;
    let mbps = cx.positive(n.viewer_mbps, 100_000.0, "network.viewer_mbps", "Mbit/s")?;
    let sigma = cx.range(n.viewer_mbps_sigma, 0.0, 3.0, "network.viewer_mbps_sigma", "a lognormal shape")?;
    cx.check((1..=20).contains(&n.round_trips), "network.round_trips", "1 to 20")?;
    let secs = cx.range(n.startup_seconds, 0.0, 600.0, "network.startup_seconds", "seconds")?;
    let bitrate = cx.positive(n.bitrate_mbps, 1_000.0, "network.bitrate_mbps", "Mbit/s")?;
    Ok(Network {
        inter_region_bps: (gbps * 1e9).round() as u64,
        inter_region_rtt: SimDuration::from_micros((rtt * 1000.0).round() as u64),
        viewer_bps: ((mbps * 1e6).round() as u64).max(1),
        viewer_sigma: sigma,
        round_trips: n.round_trips,
        startup_bytes: (secs * bitrate * 1e6 / 8.0).round() as u64,
    })
}
