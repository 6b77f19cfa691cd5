//! Engine benches: the per-request decision on a 1,000,000-clip catalog under Zipf(0.8) access,
//! a sync pass over 1,000,000 clips, and a TTL cleanup pass. Throughput is in elements
//! (requests or clips) per second.
//!
//! `cargo bench --bench engine`

use clipsim_engine::{
    Bytes, ClipId, Engine, EngineConfig, GeoId, Input, Meter, RateTable, RegionId, SimDuration, SimTime, Step,
};
use clipsim_sim::rng::{Purpose, Stream};
use clipsim_sim::workload::{zipf_weights, AliasTable};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const CLIPS: u32 = 1_000_000;
const BATCH: usize = 1 << 20;
/// How many requests ahead the loop hints the engine (see `Engine::prefetch`).
const PREFETCH_AHEAD: usize = 8;

fn config(cdn: bool) -> EngineConfig {
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

/// An engine with a 1 M-clip catalog, warmed with 2 M Zipf views and one sync so that popular
/// clips have active mirrors.
fn warm_engine(cdn: bool, ids: &[(ClipId, GeoId)]) -> Engine {
    let mut e = Engine::new(config(cdn)).unwrap();
    e.reserve_clips(CLIPS as usize);
    for i in 0..CLIPS {
        e.handle_input(
            SimTime::ZERO,
            Input::ClipUploaded { clip: ClipId(i), size: Bytes(10_000_000), primary: RegionId(0) },
        )
        .unwrap();
    }
    let t = SimTime::ZERO + SimDuration::from_mins(30);
    for &(clip, geo) in ids.iter().cycle().take(2_000_000) {
        let req = e.begin_request(t, clip, geo).unwrap();
        let step = e.next_step(t, &req);
        e.finish(&req, step).unwrap();
    }
    let sync = e.poll_timeout();
    e.handle_timeout(sync).unwrap();
    let done = sync + SimDuration::from_secs(10);
    while let Some(o) = e.poll_output() {
        if let clipsim_engine::Output::Replicate { clip, to, .. } = o {
            e.handle_input(done, Input::ReplicationFinished { clip, region: to }).unwrap();
        }
    }
    e
}

fn zipf_requests(n: usize) -> Vec<(ClipId, GeoId)> {
    let table = AliasTable::new(&zipf_weights(CLIPS as usize, 0.8));
    let mut rng = Stream::new(1, Purpose::Clips);
    (0..n).map(|_| (ClipId(table.sample(&mut rng)), GeoId((rng.next_u64() % 3) as u32))).collect()
}

fn per_request(c: &mut Criterion) {
    let ids = zipf_requests(BATCH);
    let mut g = c.benchmark_group("engine/request");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(20);
    for (name, cdn) in [("direct", false), ("cdn_edge_miss", true)] {
        let mut e = warm_engine(cdn, &ids);
        let mut t = SimTime::ZERO + SimDuration::from_hours(2);
        g.bench_function(format!("decision_1M_clips_zipf0.8/{name}"), |b| {
            b.iter(|| {
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
                t += SimDuration::from_secs(1);
            })
        });
        let m = e.counters();
        eprintln!(
            "  [{name}] mirror-served share of decisions: {:.3}",
            (m.served_from[1] + m.served_from[2]) as f64 / m.finished() as f64
        );
    }
    g.finish();
}

fn sync_and_cleanup(c: &mut Criterion) {
    let ids = zipf_requests(BATCH);
    let base = warm_engine(false, &ids);
    eprintln!("  engine state per clip: {} bytes", base.state_bytes_per_clip());
    let mut g = c.benchmark_group("engine/jobs");
    g.throughput(Throughput::Elements(u64::from(CLIPS)));
    g.sample_size(20);
    // One sync pass over 1 M clips: the next sync after warming finds the popular clips already
    // mirrored, so it measures the scan (the steady-state case).
    // The next timeout after warming is the 2 h sync (with the hourly cost-alert check).
    let at = base.poll_timeout();
    g.bench_function("sync_pass_1M_clips", |b| {
        b.iter_batched_ref(
            || base.clone(),
            |e| {
                e.handle_timeout(at).unwrap();
                while e.poll_output().is_some() {}
            },
            BatchSize::LargeInput,
        )
    });
    // TTL cleanup: 100,000 clips each with two active mirrors, all expired; one cleanup pass
    // deletes all 200,000 (and frees their storage).
    let mut expired = Engine::new({
        let mut cfg = config(false);
        cfg.mirror.replication_threshold = 1;
        cfg.mirror.ttl = SimDuration::from_hours(1);
        cfg.mirror.cleanup_interval = SimDuration::from_days(1);
        cfg
    })
    .unwrap();
    const MIRRORED: u32 = 100_000;
    for i in 0..MIRRORED {
        expired
            .handle_input(
                SimTime::ZERO,
                Input::ClipUploaded { clip: ClipId(i), size: Bytes(10_000_000), primary: RegionId(0) },
            )
            .unwrap();
        let req = expired.begin_request(SimTime::ZERO, ClipId(i), GeoId(1)).unwrap();
        let step = expired.next_step(SimTime::ZERO, &req);
        expired.finish(&req, step).unwrap();
    }
    let sync = SimTime::ZERO + SimDuration::from_hours(1);
    while expired.poll_timeout() <= sync {
        let t = expired.poll_timeout();
        expired.handle_timeout(t).unwrap();
    }
    let mut orders = Vec::new();
    while let Some(o) = expired.poll_output() {
        if let clipsim_engine::Output::Replicate { clip, to, .. } = o {
            orders.push((clip, to));
        }
    }
    for (clip, to) in orders {
        expired.handle_input(sync, Input::ReplicationFinished { clip, region: to }).unwrap();
    }
    let cleanup_at = SimTime::ZERO + SimDuration::from_days(1);
    let mut before = expired.clone();
    while before.poll_timeout() < cleanup_at {
        let t = before.poll_timeout();
        before.handle_timeout(t).unwrap();
        while before.poll_output().is_some() {}
    }
    let mirrors = before.all_mirrors().count() as u64;
    eprintln!("  mirrors before cleanup: {mirrors}");
    g.throughput(Throughput::Elements(mirrors));
    g.bench_function("cleanup_pass_expired_mirrors", |b| {
        b.iter_batched_ref(
            || before.clone(),
            |e| {
                e.handle_timeout(cleanup_at).unwrap();
                while e.poll_output().is_some() {}
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, per_request, sync_and_cleanup);
criterion_main!(benches);
