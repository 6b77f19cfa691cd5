//! Set-up shared by the engine benches (`benches/engine.rs`, wall-clock) and the instruction-count
//! gate (`benches/gate.rs`): one engine configuration, Zipf request lists, a warmed engine, and
//! the per-request decision loop the simulator runs. `.ci/bench-gate` copies this folder into the
//! base commit's worktree with `gate.rs`: it may only use APIs the base already has.

use clipsim_engine::{
    Bytes, ClipId, Engine, EngineConfig, GeoId, Input, Meter, Output, RateTable, RegionId, SimDuration, SimTime, Step,
};
use clipsim_sim::rng::{Purpose, Stream};
use clipsim_sim::workload::{zipf_weights, AliasTable};
use std::hint::black_box;

/// How many requests ahead the decision loop hints the engine, as the simulator does (see
/// `Engine::prefetch`).
pub const PREFETCH_AHEAD: usize = 8;

/// Three S3 regions, three geographies, optionally a CDN.
pub fn config(cdn: bool) -> EngineConfig {
    let mut cfg = EngineConfig::new();
    let s3 = cfg.add_provider("s3");
    let regions =
        [cfg.add_region("us-east-1", s3), cfg.add_region("eu-west-1", s3), cfg.add_region("ap-southeast-1", s3)];
    let geos = [cfg.add_geo("na"), cfg.add_geo("eu"), cfg.add_geo("apac")];
    let lat = [[25, 95, 190], [90, 20, 170], [180, 160, 30]];
    for (r, row) in regions.iter().zip(lat) {
        for (g, ms) in geos.iter().zip(row) {
            cfg.set_latency_ms(*r, *g, ms);
        }
    }
    let rate = |n| RateTable::flat(n).unwrap();
    for m in [
        Meter::StorageByteTime,
        Meter::OriginEgressDirect,
        Meter::OriginEgressToCdn,
        Meter::OriginRequests,
        Meter::InterRegion,
    ] {
        cfg.set_rate(m, s3, rate(20_000_000));
    }
    if cdn {
        let cf = cfg.add_provider("cloudflare");
        cfg.set_cdn(cf);
        cfg.set_rate(Meter::CdnEgress, cf, rate(60_000_000));
        cfg.set_rate(Meter::CdnRequests, cf, rate(0));
    }
    cfg
}

/// `n` requests under Zipf(0.8) over `clips` clips, geographies uniform.
pub fn zipf_requests(clips: u32, seed: u64, n: usize) -> Vec<(ClipId, GeoId)> {
    let table = AliasTable::new(&zipf_weights(clips as usize, 0.8));
    let mut rng = Stream::new(seed, Purpose::Clips);
    (0..n).map(|_| (ClipId(table.sample(&mut rng)), GeoId((rng.next_u64() % 3) as u32))).collect()
}

/// An engine with `clips` clips of `size(i)` bytes uploaded, warmed with `views` at 30 minutes
/// and one sync (its replications finished), so that popular clips have active mirrors.
pub fn warm_engine(
    cdn: bool,
    clips: u32,
    size: impl Fn(u32) -> u64,
    views: impl IntoIterator<Item = (ClipId, GeoId)>,
) -> Engine {
    let mut e = Engine::new(config(cdn)).unwrap();
    e.reserve_clips(clips as usize);
    for i in 0..clips {
        e.handle_input(
            SimTime::ZERO,
            Input::ClipUploaded { clip: ClipId(i), size: Bytes(size(i)), primary: RegionId(0) },
        )
        .unwrap();
    }
    let t = SimTime::ZERO + SimDuration::from_mins(30);
    for (clip, geo) in views {
        let req = e.begin_request(t, clip, geo).unwrap();
        let step = e.next_step(t, &req);
        e.finish(&req, step).unwrap();
    }
    let sync = e.poll_timeout();
    e.handle_timeout(sync).unwrap();
    let done = sync + SimDuration::from_secs(10);
    while let Some(o) = e.poll_output() {
        if let Output::Replicate { clip, to, .. } = o {
            e.handle_input(done, Input::ReplicationFinished { clip, region: to }).unwrap();
        }
    }
    e
}

/// The per-request decision for each of `ids` at `t`: `begin_request` + `next_step` (+ the edge
/// miss with a CDN) + `finish`, hinting the engine [`PREFETCH_AHEAD`] requests ahead.
#[inline(always)]
pub fn decide_all(e: &mut Engine, t: SimTime, ids: &[(ClipId, GeoId)]) {
    for (i, &(clip, geo)) in ids.iter().enumerate() {
        // The simulator knows its next arrivals; so does this loop.
        if let Some(&(ahead, _)) = ids.get(i + PREFETCH_AHEAD) {
            e.prefetch(ahead);
        }
        let mut req = e.begin_request(t, clip, geo).unwrap();
        let mut step = e.next_step(t, &req);
        if step == Step::Edge {
            req.edge_missed();
            step = e.next_step(t, &req);
        }
        black_box(e.finish(&req, step).unwrap());
    }
}
