//! Cache and trace benches: every eviction policy on a Zipf(0.8) workload over 100,000 objects
//! (lognormal-ish sizes, cache at 10 % of the unique bytes), the one-pass LRU stack at five
//! sizes, and trace parsing (oracleGeneral binary and CSV, 1,000,000 requests each) with and
//! without the replay through LRU. Throughput is in requests per second.
//!
//! `cargo bench --bench caches`

use clipsim_engine::SimTime;
use clipsim_sim::cache::{AnyCache, EdgeCache, Policy};
use clipsim_sim::mrc::LruStack;
use clipsim_sim::rng::{Purpose, Stream};
use clipsim_sim::trace::replay::{replay, ReplayOptions};
use clipsim_sim::trace::{CacheSize, CsvWriter, OracleWriter, ReadOptions, TraceReader};
use clipsim_sim::workload::{zipf_weights, AliasTable};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;

const OBJECTS: usize = 100_000;
const REQUESTS: usize = 1_000_000;

/// (key, size) requests under IRM with Zipf(0.8) popularity; sizes fixed per object.
fn workload() -> (Vec<(u32, u64)>, u64) {
    let table = AliasTable::new(&zipf_weights(OBJECTS, 0.8));
    let mut rng = Stream::new(7, Purpose::Clips);
    let mut sizes = Stream::new(7, Purpose::Catalog);
    let size_of: Vec<u64> = (0..OBJECTS).map(|_| 1_000 + sizes.below(100_000)).collect();
    let reqs: Vec<(u32, u64)> = (0..REQUESTS)
        .map(|_| {
            let k = table.sample(&mut rng);
            (k, size_of[k as usize])
        })
        .collect();
    let unique = size_of.iter().sum();
    (reqs, unique)
}

fn policies(c: &mut Criterion) {
    let (reqs, unique) = workload();
    let mut g = c.benchmark_group("policy");
    g.throughput(Throughput::Elements(REQUESTS as u64));
    g.sample_size(20);
    for policy in Policy::ALL {
        g.bench_function(policy.name(), |b| {
            b.iter(|| {
                let mut cache = AnyCache::new(policy, unique / 10);
                let mut hits = 0u64;
                for (i, &(k, s)) in reqs.iter().enumerate() {
                    let now = SimTime(i as u64 * 1_000);
                    if cache.get(k, now) {
                        hits += 1;
                    } else {
                        cache.insert(k, s, SimTime(now.0 + 60_000_000));
                    }
                }
                black_box(hits)
            })
        });
    }
    g.bench_function("lru-stack-5-sizes", |b| {
        let caps: Vec<u64> = [1, 5, 10, 20, 50].iter().map(|p| unique * p / 100).collect();
        b.iter(|| {
            let mut s = LruStack::new(&caps);
            for &(k, sz) in &reqs {
                s.access(k, sz);
            }
            black_box(s.tally())
        })
    });
    g.finish();
}

fn write_traces(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (reqs, _) = workload();
    let bin = dir.join("bench.oracleGeneral.bin");
    let csv = dir.join("bench.csv");
    let mut w = OracleWriter::create(&bin).expect("temp file");
    let mut c = CsvWriter::create(&csv, true).expect("temp file");
    let geos = ["na", "eu", "apac"];
    for (i, &(k, s)) in reqs.iter().enumerate() {
        // Object ids as a real trace has them: scattered 64-bit numbers.
        let id = clipsim_sim::rng::splitmix64(u64::from(k));
        w.write(i as u64 / 100, id, s).expect("write");
        c.write(i as u64 / 100, id, s, Some(geos[i % 3])).expect("write");
    }
    w.finish().expect("finish");
    c.finish().expect("finish");
    (bin, csv)
}

fn traces(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (bin, csv) = write_traces(dir.path());
    let mut g = c.benchmark_group("trace");
    g.throughput(Throughput::Elements(REQUESTS as u64));
    g.sample_size(20);
    for (name, path) in [("parse-oracle-general", &bin), ("parse-csv", &csv)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut r = TraceReader::open(path, &ReadOptions::default()).expect("opens");
                let mut batch = Vec::new();
                let mut n = 0u64;
                while r.next_batch(&mut batch).expect("reads") {
                    n += batch.len() as u64;
                }
                black_box(n)
            })
        });
    }
    for (name, path) in [("replay-lru-oracle-general", &bin), ("replay-lru-csv", &csv)] {
        g.bench_function(name, |b| {
            let opts = ReplayOptions::new(Policy::Lru, Some(CacheSize::Absolute(1_000_000_000)));
            b.iter(|| black_box(replay(path, &opts).expect("replays").hits))
        });
    }
    g.finish();
}

criterion_group!(benches, policies, traces);
criterion_main!(benches);
