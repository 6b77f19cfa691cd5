//! Engine benches: the per-request decision on a 1,000,000-clip catalog under Zipf(0.8) access,
//! a sync pass over 1,000,000 clips, and a TTL cleanup pass. Throughput is in elements
//! (requests or clips) per second.
//!
//! `cargo bench --bench engine`

mod common;

use clipsim_engine::{Bytes, ClipId, Engine, GeoId, Input, RegionId, SimDuration, SimTime};
use common::{config, decide_all};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const CLIPS: u32 = 1_000_000;
const BATCH: usize = 1 << 20;

/// An engine with a 1 M-clip catalog of 10 MB clips, warmed with 2 M Zipf views (`ids` repeated)
/// and one sync so that popular clips have active mirrors.
fn warm_engine(cdn: bool, ids: &[(ClipId, GeoId)]) -> Engine {
    common::warm_engine(cdn, CLIPS, |_| 10_000_000, ids.iter().copied().cycle().take(2_000_000))
}

fn zipf_requests(n: usize) -> Vec<(ClipId, GeoId)> {
    common::zipf_requests(CLIPS, 1, n)
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
                decide_all(&mut e, t, &ids);
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
