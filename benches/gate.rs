//! The instruction-count regression gate: small deterministic benches of the hot paths, counted
//! by Callgrind through gungraun (one run each, under valgrind). `.ci/bench-gate` runs them for
//! the merge-base and for HEAD and fails on more than 5 % more instructions in any of them.
//!
//! `cargo bench --bench gate` (needs valgrind and `gungraun-runner` 0.20.0; see
//! docs/benchmarks.md, "Instruction-count gate (CI)").
//!
//! Every input is built in a setup function (not counted); only the body of each bench function
//! is. A bench returns what it worked on, so that dropping it is not counted either. Each bench is
//! a few million instructions, so the whole gate runs in about a minute under valgrind.
//!
//! The gate copies this file into the base commit's worktree: it may only use APIs the base
//! already has. Its inputs live here (not in `scenarios/`), so editing a shipped scenario does
//! not move the gate.

#[path = "common/mod.rs"]
mod common;

use clipsim_engine::{ClipId, Engine, GeoId, SimDuration, SimTime};
use clipsim_sim::cache::{AnyCache, EdgeCache, Policy};
use clipsim_sim::rng::{Purpose, Stream};
use clipsim_sim::scenario::{self, Overrides, Scenario};
use clipsim_sim::trace::{OracleWriter, ReadOptions, Request as TraceRequest, TraceReader};
use clipsim_sim::workload::{zipf_weights, AliasTable};
use gungraun::{library_benchmark, library_benchmark_group, main};
use std::hint::black_box;
use std::path::Path;

/// Catalog size of the engine benches.
const CLIPS: u32 = 100_000;
/// Requests measured by the decision bench.
const DECISIONS: usize = 20_000;
/// Views that warm the engine before a sync (popular clips get mirrors).
const WARM_VIEWS: usize = 200_000;
/// Objects of the cache benches.
const OBJECTS: usize = 100_000;
/// Lookups measured by each cache bench (after as many that warm the cache up).
const LOOKUPS: usize = 50_000;
/// Records of the trace-parsing bench.
const TRACE_RECORDS: u64 = 20_000;

// ---------------------------------------------------------------------------------------------
// Engine

/// `n` requests under Zipf(0.8) over the catalog, geographies uniform.
fn zipf_requests(seed: u64, n: usize) -> Vec<(ClipId, GeoId)> {
    common::zipf_requests(CLIPS, seed, n)
}

/// An engine with the catalog uploaded, warmed with Zipf views and one sync, so that popular
/// clips have active mirrors.
fn warm_engine(cdn: bool) -> Engine {
    common::warm_engine(cdn, CLIPS, |i| 5_000_000 + u64::from(i % 7) * 1_000_000, zipf_requests(2, WARM_VIEWS))
}

fn setup_decisions(cdn: bool) -> (Engine, Vec<(ClipId, GeoId)>) {
    (warm_engine(cdn), zipf_requests(1, DECISIONS))
}

// The per-request decision: `begin_request` + `next_step` (+ the edge miss with a CDN) +
// `finish`, for 20,000 Zipf requests over 100,000 clips.
#[library_benchmark]
#[bench::direct(args = (false), setup = setup_decisions)]
#[bench::cdn_edge_miss(args = (true), setup = setup_decisions)]
fn engine_decisions(input: (Engine, Vec<(ClipId, GeoId)>)) -> (Engine, Vec<(ClipId, GeoId)>) {
    let (mut e, ids) = input;
    common::decide_all(&mut e, SimTime::ZERO + SimDuration::from_hours(2), &ids);
    (e, ids)
}

fn setup_sync() -> (Engine, SimTime) {
    let e = warm_engine(false);
    // The next timeout after warming: the 2 h sync (with the hourly cost-alert check).
    let at = e.poll_timeout();
    (e, at)
}

// One sync pass over 100,000 clips, popular ones already mirrored (the steady state).
#[library_benchmark]
#[bench::pass_100k_clips(setup = setup_sync)]
fn engine_sync(input: (Engine, SimTime)) -> Engine {
    let (mut e, at) = input;
    e.handle_timeout(at).unwrap();
    while let Some(o) = e.poll_output() {
        black_box(o);
    }
    e
}

// ---------------------------------------------------------------------------------------------
// Edge caches

/// (key, size) requests under Zipf(0.8) over 100,000 objects of fixed sizes, and the unique bytes.
fn cache_workload() -> (Vec<(u32, u64)>, u64) {
    let table = AliasTable::new(&zipf_weights(OBJECTS, 0.8));
    let mut rng = Stream::new(7, Purpose::Clips);
    let mut sizes = Stream::new(7, Purpose::Catalog);
    let size_of: Vec<u64> = (0..OBJECTS).map(|_| 1_000 + sizes.below(100_000)).collect();
    let reqs = (0..2 * LOOKUPS)
        .map(|_| {
            let k = table.sample(&mut rng);
            (k, size_of[k as usize])
        })
        .collect();
    (reqs, size_of.iter().sum())
}

/// Looks each request up and inserts it on a miss; returns the hits.
fn serve(cache: &mut AnyCache, reqs: &[(u32, u64)], t0: u64) -> u64 {
    let mut hits = 0;
    for (i, &(k, s)) in reqs.iter().enumerate() {
        let now = SimTime((t0 + i as u64) * 1_000);
        if cache.get(k, now) {
            hits += 1;
        } else {
            cache.insert(k, s, SimTime(now.0 + 60_000_000));
        }
    }
    hits
}

/// A cache at 10 % of the unique bytes, warmed with 50,000 requests; the next 50,000.
fn setup_cache(policy: Policy) -> (AnyCache, Vec<(u32, u64)>) {
    let (reqs, unique) = cache_workload();
    let mut cache = AnyCache::new(policy, unique / 10);
    serve(&mut cache, &reqs[..LOOKUPS], 0);
    (cache, reqs[LOOKUPS..].to_vec())
}

// 50,000 lookups (and inserts on misses) in a warm edge cache.
#[library_benchmark]
#[bench::lru(args = (Policy::Lru), setup = setup_cache)]
#[bench::sieve(args = (Policy::Sieve), setup = setup_cache)]
#[bench::s3fifo(args = (Policy::S3Fifo), setup = setup_cache)]
fn cache_lookups(input: (AnyCache, Vec<(u32, u64)>)) -> (AnyCache, Vec<(u32, u64)>, u64) {
    let (mut cache, reqs) = input;
    let hits = serve(&mut cache, &reqs, LOOKUPS as u64);
    (cache, reqs, hits)
}

// ---------------------------------------------------------------------------------------------
// Trace parsing

/// A 20,000-record oracleGeneral file in a temporary directory, opened.
fn setup_trace() -> (TraceReader, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gate.oracleGeneral.bin");
    let mut w = OracleWriter::create(&path).unwrap();
    let mut rng = Stream::new(3, Purpose::Clips);
    for i in 0..TRACE_RECORDS {
        w.write(i / 10, rng.below(5_000), 1_000 + rng.below(1_000_000)).unwrap();
    }
    w.finish().unwrap();
    let reader = TraceReader::open(&path, &ReadOptions::default()).unwrap();
    (reader, dir)
}

// Reads the 20,000 records in batches (one read of the file, then record decoding).
#[library_benchmark]
#[bench::oracle_20k(setup = setup_trace)]
fn trace_parse(input: (TraceReader, tempfile::TempDir)) -> (TraceReader, tempfile::TempDir, u64) {
    let (mut reader, dir) = input;
    let mut batch: Vec<TraceRequest> = Vec::with_capacity(clipsim_sim::trace::BATCH);
    let mut sum = 0u64;
    while reader.next_batch(&mut batch).unwrap() {
        for r in &batch {
            sum = sum.wrapping_add(r.id ^ r.size ^ r.time);
        }
    }
    assert_eq!(reader.stats().records, TRACE_RECORDS);
    (reader, dir, sum)
}

// ---------------------------------------------------------------------------------------------
// The simulator

/// `scenarios/seed-baseline.toml` scaled down to a 2,000-clip catalog and ~3,500 requests over
/// one day (a 1 h warm-up), with a replication threshold that mirrors clips within the day. Kept
/// here, not read from `scenarios/`, so that the base and HEAD builds run the same input.
const TINY_SCENARIO: &str = r#"
[scenario]
name = "gate-tiny"
seed = 610
duration = "6h"
warmup = "30m"
report_interval = "3h"

[catalog]
clips = 2000
size = { dist = "lognormal", mean_mb = 10.0, sigma = 0.5 }
primary_region = "us-east-1"
uploads_per_day = 0

[traffic]
views_per_month = 500000
popularity = { dist = "zipf", alpha = 0.8 }
diurnal = true
votes_per_view = 0.05

[traffic.geos]
na = 0.45
eu = 0.35
apac = 0.20

[[regions]]
name = "us-east-1"
storage = "s3"
latency_ms = { na = 25, eu = 95, apac = 190 }

[[regions]]
name = "eu-west-1"
storage = "s3"
latency_ms = { na = 90, eu = 20, apac = 170 }

[[regions]]
name = "ap-southeast-1"
storage = "s3"
latency_ms = { na = 180, eu = 160, apac = 30 }

[cdn]
enabled = true
provider = "cloudflare"
cache_ttl = "1h"
max_cost_per_gb = 0.10
edge_capacity_gb = 2
eviction = "lru"

[mirror]
enabled = true
regions = ["us-east-1", "eu-west-1", "ap-southeast-1"]
replication_threshold = 20
ttl_days = 7
max_per_clip = 3
sync_interval_minutes = 60
min_hit_rate = 60.0

[targets]
p50_load_ms = 2000
availability = 0.9999
cost_per_gb = 0.10
top100_mirror_hit_rate = 0.60
"#;

fn setup_scenario() -> Scenario {
    scenario::from_str(Path::new("gate-tiny.toml"), TINY_SCENARIO, &Overrides::default()).unwrap()
}

// The whole simulator on the tiny scenario through `run_scenario` (building the world: catalog,
// workload tables, engine; then the event loop). No report is written.
#[library_benchmark]
#[bench::tiny_scenario(setup = setup_scenario)]
fn sim_run(sc: Scenario) -> clipsim_sim::world::RunResult {
    clipsim_sim::run_scenario(sc).unwrap()
}

library_benchmark_group!(name = engine; benchmarks = engine_decisions, engine_sync);
library_benchmark_group!(name = caches; benchmarks = cache_lookups);
library_benchmark_group!(name = trace; benchmarks = trace_parse);
library_benchmark_group!(name = sim; benchmarks = sim_run);

main!(library_benchmark_groups = engine, caches, trace, sim);
