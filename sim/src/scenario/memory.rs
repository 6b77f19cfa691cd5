//! An upper bound on the memory a run needs, known before anything is allocated, so that
//! `validate` and `run` refuse a scenario this machine cannot hold instead of aborting mid-run.
//!
//! What grows with a scenario: per clip (the catalog and the uploads expected, with 10 % to spare)
//! the engine's clip record and popularity counters, the recorder's per-clip counts, the Zipf
//! alias table and the weights it is built from; per CDN edge (one per geography) its index and
//! one node per cached object, at most every clip and at most every view; per report row its
//! counts and health. The constants are upper bounds measured on this simulator's release build:
//! under `ulimit -v`, 1 M catalog clips ran in less than 100 MB of address space, 4 M in less
//! than 500 MB and 16 M in less than 1 GB, where the estimate says 208 MB, 544 MB and 1.9 GB.

use super::model::Scenario;
use clipsim_engine::SimDuration;

/// The program itself, its threads and allocator arenas, and the fixed tables (histograms).
pub const BASE_BYTES: u64 = 96 << 20;
/// Per clip, all per-clip tables together (measured: 60 to 110 bytes).
pub const PER_CLIP_BYTES: u64 = 112;
/// Per clip with a sliding score window (`mirror.score_window`): a view count and a vote sum for
/// each of its steps (exact: `clipsim_engine::window`), with room for the vector to double.
pub const PER_CLIP_WINDOW_BYTES: u64 = 2 * 8 * clipsim_engine::window::STEPS as u64;
/// Per object an edge holds: its node and its share of the index at most a quarter full.
pub const PER_CACHED_OBJECT_BYTES: u64 = 64;
/// An edge's index while it is a direct array: at most 16 MiB (`cache::index`).
pub const EDGE_INDEX_BYTES: u64 = 16 << 20;
/// Per time-series row, plus per region in it.
pub const PER_ROW_BYTES: u64 = 256;
/// See [`PER_ROW_BYTES`].
pub const PER_ROW_REGION_BYTES: u64 = 64;

/// The estimate for `sc`, in bytes (an upper bound, not a prediction).
pub fn estimate_bytes(sc: &Scenario) -> u64 {
    // A steady-state pre-run lasts at most its maximum rounded up to a billing month.
    let pre_run = sc.steady_state.as_ref().map_or(SimDuration::ZERO, |s| s.max + sc.engine.billing.month);
    let run = sc.duration + pre_run;
    let secs = run.as_secs_f64();
    let clips = match &sc.traffic.trace {
        Some(_) => sc.clips_expected(),
        None => sc.catalog.clips_expected(run).saturating_add(sc.traffic.spikes.len() as u64 + 64),
    };
    let spike_views: f64 = sc
        .traffic
        .spikes
        .iter()
        .map(|s| s.views_per_hour * (s.end.as_micros().saturating_sub(s.start.as_micros())) as f64 / 3.6e9)
        .sum();
    // Twice the mean rate covers the daily curve's peak; an edge holds at most what was viewed.
    let views = (2.0 * sc.traffic.views_per_sec * secs + spike_views).min(u64::MAX as f64) as u64;
    // An edge per geography for each CDN.
    let cdns = sc.cdn.as_ref().map_or(0, |c| c.names().count() as u64);
    let edges = cdns * sc.geos.len() as u64;
    let cached = edges.saturating_mul(clips.min(views)).saturating_mul(PER_CACHED_OBJECT_BYTES);
    let rows = run.as_micros() / sc.report_interval.as_micros().max(1) + 2;
    let row_bytes = PER_ROW_BYTES + PER_ROW_REGION_BYTES * sc.engine.regions.len() as u64;
    let per_clip = PER_CLIP_BYTES
        + if sc.engine.mirror.score_window.is_some() { PER_CLIP_WINDOW_BYTES } else { 0 }
        // Predictive mirroring and a lifecycle rule keep each clip's upload time (and the rule
        // a bit of storage class, rounded up to a byte).
        + if sc.engine.mirror.predict.is_some() || sc.engine.lifecycle.is_some() { 8 } else { 0 }
        + if sc.engine.lifecycle.is_some() { 1 } else { 0 };
    BASE_BYTES
        .saturating_add(clips.saturating_mul(per_clip))
        .saturating_add(cached)
        .saturating_add(edges * EDGE_INDEX_BYTES)
        .saturating_add(rows.saturating_mul(row_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(clips: u32, uploads: f64, cdn: bool) -> Scenario {
        let text = format!(
            "[scenario]\nname = \"m\"\nduration = \"30d\"\n[catalog]\nclips = {clips}\nuploads_per_day = {uploads}\n\
             [traffic]\nviews_per_month = 1000000\n[cdn]\nenabled = {cdn}\n"
        );
        super::super::from_str(std::path::Path::new("m.toml"), &text, &Default::default()).unwrap()
    }

    #[test]
    fn the_estimate_grows_with_clips_uploads_and_edges_by_its_constants() {
        let a = estimate_bytes(&scenario(1_000_000, 0.0, false));
        let b = estimate_bytes(&scenario(2_000_000, 0.0, false));
        assert_eq!(b - a, 1_000_000 * PER_CLIP_BYTES, "a clip more costs its bytes");
        // 1,000 uploads a day for 30 days, 10 % to spare: 33,000 clips more.
        let c = estimate_bytes(&scenario(1_000_000, 1_000.0, false));
        assert_eq!(c - a, 33_000 * PER_CLIP_BYTES);
        // A CDN: three edges (the default geographies), each its index and at most every clip.
        let d = estimate_bytes(&scenario(1_000_000, 0.0, true));
        assert_eq!(d - a, 3 * (EDGE_INDEX_BYTES + (1_000_000 + 64) * PER_CACHED_OBJECT_BYTES));
        // Two CDNs: three edges each.
        let mut two = scenario(1_000_000, 0.0, true);
        two.cdn.as_mut().unwrap().second = Some(crate::scenario::model::SecondCdnSpec {
            provider: clipsim_engine::ProviderId(9),
            name: "bunny".into(),
            mode: clipsim_engine::MultiCdn::Failover,
            edge_rtt: clipsim_engine::SimDuration::ZERO,
        });
        assert_eq!(estimate_bytes(&two) - a, 2 * (d - a));
        assert!(a > BASE_BYTES + 1_000_000 * PER_CLIP_BYTES, "rows count too");
    }
}
