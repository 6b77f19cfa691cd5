//! Cache and trace benches: every eviction policy (and LRU behind the second-hit admission
//! filter) on a Zipf(0.8) workload over 100,000 objects (uniform sizes of 1 to 101 kB, cache at
//! 10 % of the unique bytes), the one-pass LRU stack at five
//! sizes, and trace parsing (oracleGeneral binary and CSV, 1,000,000 requests each) with and
//! without the replay through LRU, and `trace import` of a 200,000-line CloudFront log.
//! Throughput is in requests (log lines) per second.
//!
//! `cargo bench --bench caches`

use clipsim_engine::SimTime;
use clipsim_sim::cache::{Admission, AnyCache, EdgeCache, Policy};
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
    // Belady's future: the next request of each request (computed once, outside the timing).
    let keys: Vec<u32> = reqs.iter().map(|r| r.0).collect();
    let future = std::sync::Arc::new(clipsim_sim::cache::next_requests(&keys));
    for policy in Policy::ALL {
        g.bench_function(policy.name(), |b| {
            b.iter(|| {
                let mut cache = AnyCache::for_trace(policy, unique / 10, 1, Some(&future));
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
    // The second-hit admission filter in front of LRU (libCacheSim's `lru -a bloom-filter`).
    g.bench_function("lru+second-hit", |b| {
        b.iter(|| {
            let mut cache = AnyCache::new(Policy::Lru, unique / 10);
            let mut admit = Admission::SecondHit { window: None }.filter();
            let mut hits = 0u64;
            for (i, &(k, s)) in reqs.iter().enumerate() {
                let now = SimTime(i as u64 * 1_000);
                if cache.get(k, now) {
                    hits += 1;
                } else if admit.admits(k, now) {
                    cache.insert(k, s, SimTime(now.0 + 60_000_000));
                }
            }
            black_box(hits)
        })
    });
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

/// A CloudFront standard log of `lines` requests (the published field list, one clip of
/// 100,000 per line under Zipf(0.8), a second apart).
fn cloudfront_log(path: &Path, lines: usize) {
    use std::io::Write;
    let table = AliasTable::new(&zipf_weights(OBJECTS, 0.8));
    let mut rng = Stream::new(9, Purpose::Clips);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("log"));
    writeln!(f, "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end").expect("write");
    for i in 0..lines {
        let s = i % 86_400;
        writeln!(
            f,
            "2024-12-03\t{:02}:{:02}:{:02}\tIAD89-C1\t10485760\t192.0.2.10\tGET\td111111abcdef8.cloudfront.net\t/clips/{}/video.mp4\t200\t-\tMozilla/5.0%20(X11)\t-\t-\tMiss\treq{i}\tmedia.example.com\thttps\t120\t0.250\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tMiss\tHTTP/2.0\t-\t-\t51234\t0.050\tMiss\tvideo/mp4\t10485760\t-\t-",
            s / 3600,
            (s / 60) % 60,
            s % 60,
            table.sample(&mut rng)
        )
        .expect("write");
    }
}

/// `trace import` of a CloudFront log (lines per second; one core).
fn import(c: &mut Criterion) {
    use clipsim_sim::trace::import::{clip_pattern, import, GeoTable, ImportOptions};
    use clipsim_sim::trace::logs::LogFormat;
    const LINES: usize = 200_000;
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("cf.log");
    cloudfront_log(&log, LINES);
    let opts = ImportOptions {
        format: LogFormat::CloudFront,
        clip_pattern: Some(clip_pattern("^/clips/([^/]+)/").expect("pattern")),
        geo: GeoTable::builtin(),
        max_bad: None,
    };
    let mut g = c.benchmark_group("import");
    g.throughput(Throughput::Elements(LINES as u64 + 2));
    g.sample_size(10);
    g.bench_function("cloudfront", |b| {
        b.iter(|| {
            let out = dir.path().join("t.csv");
            let mut staged = clipsim_sim::report::StagedFile::begin(&out, true, &[]).expect("staged");
            let stats =
                import(std::slice::from_ref(&log), &mut staged, &opts, &std::sync::atomic::AtomicBool::new(false));
            // Not committed: the rename and its fsync are the disk's time, not the import's.
            drop(staged);
            black_box(stats.expect("imports").requests)
        })
    });
}

criterion_group!(benches, policies, traces, import);
criterion_main!(benches);
