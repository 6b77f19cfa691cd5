//! Trace readers and generators in process: garbage never panics; a generated trace holds
//! exactly the requests the simulator serves; the one-pass LRU curve equals per-size replays.

use clipsim_sim::cache::Policy;
use clipsim_sim::mrc::{curves, MrcOptions};
use clipsim_sim::scenario::{self, Overrides};
use clipsim_sim::trace::generate::Generator;
use clipsim_sim::trace::replay::{replay, ReplayOptions};
use clipsim_sim::trace::{parse_cache_size, CacheSize, Format, ReadOptions, TraceReader};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// A sample trace in `tests/data/traces/` (its README says where it comes from).
fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/traces").join(name)
}

/// Reads a whole file; the result or the error, never a panic.
fn read_all(path: &Path, format: Format, skip_bad: bool) -> Result<u64, String> {
    let opts = ReadOptions { format: Some(format), skip_bad, ..Default::default() };
    let mut r = TraceReader::open(path, &opts).map_err(|e| e.to_string())?;
    let mut b = Vec::new();
    let mut n = 0;
    while r.next_batch(&mut b).map_err(|e| e.to_string())? {
        n += b.len() as u64;
    }
    Ok(n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600), zst in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("garbage");
        let data = if zst { zstd::encode_all(&bytes[..], 1).unwrap() } else { bytes.clone() };
        std::fs::write(&path, &data).unwrap();
        for format in [Format::Csv, Format::OracleGeneral] {
            let strict = read_all(&path, format, false);
            let lenient = read_all(&path, format, true);
            if let Err(e) = &strict {
                prop_assert!(e.contains("garbage"), "{}", e);
            }
            if format == Format::OracleGeneral {
                prop_assert_eq!(lenient, Ok(bytes.len() as u64 / 24));
            }
            let mut opts = ReplayOptions::new(Policy::S3Fifo, Some(parse_cache_size("10%").unwrap()));
            opts.read = ReadOptions { format: Some(format), skip_bad: true, ..Default::default() };
            let _ = replay(&path, &opts);
        }
    }

    #[test]
    fn csv_like_text_never_panics(lines in prop::collection::vec("[0-9a-z,\"\\. \r]{0,30}", 0..40)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, lines.join("\n")).unwrap();
        let strict = read_all(&path, Format::Csv, false);
        let lenient = read_all(&path, Format::Csv, true);
        if strict.is_ok() {
            prop_assert_eq!(&strict, &lenient);
        }
        if let Err(e) = strict {
            prop_assert!(e.contains("t.csv"), "{}", e);
        }
    }
}

const SMALL: &str = r#"
[scenario]
name = "trace-check"
seed = 99
duration = "2d"
warmup = "1h"
report_interval = "6h"

[catalog]
clips = 2000
size = { dist = "lognormal", mean_mb = 5.0, sigma = 0.5 }
primary_region = "us-east-1"
uploads_per_day = 300

[traffic]
views_per_month = 600000
popularity = { dist = "zipf", alpha = 0.9 }
new_clip_share = 0.2

[[traffic.spikes]]
clip = "new"
start = "20h"
duration = "6h"
views_per_hour = 3000
geo = "eu"

[[traffic.spikes]]
clip = "rank:7"
start = "30h"
duration = "2h"
views_per_hour = 1000

[traffic.geos]
na = 0.5
eu = 0.5

[[regions]]
name = "us-east-1"
storage = "s3"
latency_ms = { na = 25, eu = 95 }

[cdn]
enabled = true
provider = "cloudflare"
cache_ttl = "1h"
edge_capacity_gb = 5
eviction = "s3fifo"
"#;

#[test]
fn a_generated_trace_holds_the_requests_the_simulator_serves() {
    let sc = scenario::from_str(Path::new("trace-check.toml"), SMALL, &Overrides::default()).expect("valid scenario");
    let trace: Vec<_> = Generator::new(&sc).collect();
    let run = clipsim_sim::run_scenario(sc.clone()).expect("runs");
    assert_eq!(trace.len() as u64, run.arrivals, "one trace record per simulated arrival");
    assert!(trace.windows(2).all(|w| w[0].time <= w[1].time));
    // Uploads and the new spike's clip appear, with ids after the catalog's.
    let clips = run.engine.clip_count() as u32;
    assert!(clips > 2000 + 300, "{clips} clips");
    assert!(trace.iter().any(|r| r.clip >= 2000));
    assert!(trace.iter().all(|r| r.clip < clips && r.size > 0 && r.geo < 2));
    // Clip by clip, the views after the warm-up are the simulator's.
    let warmup = clipsim_engine::SimTime::ZERO + sc.warmup;
    let mut views = vec![0u32; clips as usize];
    for r in trace.iter().filter(|r| r.time >= warmup) {
        views[r.clip as usize] += 1;
    }
    let simulated: Vec<u32> = run.recorder.clips.iter().map(|c| c.views).collect();
    assert_eq!(views, simulated);
    // The same scenario gives the same trace.
    let again: Vec<_> = Generator::new(&sc).collect();
    assert_eq!(trace, again);
}

#[test]
fn the_one_pass_lru_curve_equals_replays_at_each_size() {
    let bin = sample("cloudPhysicsIO.oracleGeneral.bin");
    let labels: Vec<String> =
        ["0.1%", "1%", "2%", "5%", "10%", "20%", "30%", "50%", "100%", "60000"].iter().map(|s| s.to_string()).collect();
    for ignore_obj_size in [false, true] {
        let opts = MrcOptions {
            policies: vec![Policy::Lru],
            sizes: labels.iter().map(|l| parse_cache_size(l).unwrap()).collect(),
            ttl: None,
            ignore_obj_size,
            geo: None,
            read: ReadOptions::default(),
            seed: 1,
            threads: 1,
            lru_by_replay: false,
            admission: clipsim_sim::cache::Admission::Always,
        };
        let c = curves(&bin, &opts, &labels).unwrap();
        assert_eq!(c.points.len(), labels.len());
        for p in &c.points {
            assert_eq!(p.method, "stack");
            let mut r = ReplayOptions::new(Policy::Lru, Some(CacheSize::Absolute(p.cache_size)));
            r.ignore_obj_size = ignore_obj_size;
            let want = replay(&bin, &r).unwrap();
            assert_eq!(p.hits, want.hits, "{} ({} {})", p.size_label, p.cache_size, ignore_obj_size);
            assert_eq!(p.byte_miss_ratio, want.byte_miss_ratio.unwrap());
        }
    }
}

#[test]
fn curves_do_not_depend_on_the_number_of_threads() {
    let bin = sample("cloudPhysicsIO.oracleGeneral.bin");
    let labels: Vec<String> = ["1%", "10%", "30%"].iter().map(|s| s.to_string()).collect();
    let run = |threads| {
        let opts = MrcOptions {
            policies: vec![Policy::Lru, Policy::Fifo, Policy::Sieve, Policy::S3Fifo, Policy::Lfu, Policy::Random],
            sizes: labels.iter().map(|l| parse_cache_size(l).unwrap()).collect(),
            ttl: None,
            ignore_obj_size: false,
            geo: None,
            read: ReadOptions::default(),
            seed: 5,
            threads,
            lru_by_replay: false,
            admission: clipsim_sim::cache::Admission::Always,
        };
        curves(&bin, &opts, &labels).unwrap().points
    };
    let one = run(1);
    assert_eq!(one.len(), 18);
    assert_eq!(one, run(2));
    assert_eq!(one, run(7));
    // Each point is the single-cache replay's.
    for p in one.iter().filter(|p| p.policy == Policy::Sieve) {
        let want = replay(&bin, &ReplayOptions::new(Policy::Sieve, Some(CacheSize::Absolute(p.cache_size)))).unwrap();
        assert_eq!(p.hits, want.hits);
    }
}

#[test]
fn lru_by_replay_is_exact_when_sizes_change() {
    // cloudPhysicsIO.csv: 16,469 requests change their object's size.
    let csv = sample("cloudPhysicsIO.csv");
    let labels = vec!["202976972".to_string()];
    let read = ReadOptions {
        csv: clipsim_sim::trace::CsvSpec {
            id: Some(clipsim_sim::trace::Col::parse("lbn").unwrap()),
            ..Default::default()
        },
        ..Default::default()
    };
    let run = |lru_by_replay| {
        let opts = MrcOptions {
            policies: vec![Policy::Lru],
            sizes: vec![CacheSize::Absolute(202_976_972)],
            ttl: None,
            ignore_obj_size: false,
            geo: None,
            read: read.clone(),
            seed: 1,
            threads: 1,
            lru_by_replay,
            admission: clipsim_sim::cache::Admission::Always,
        };
        curves(&csv, &opts, &labels).unwrap()
    };
    let stack = run(false);
    assert_eq!(stack.size_changes, 16_469);
    assert_eq!(stack.points[0].method, "stack");
    let replayed = run(true);
    assert_eq!((replayed.points[0].method, replayed.size_changes), ("replay", 0));
    let mut r = ReplayOptions::new(Policy::Lru, Some(CacheSize::Absolute(202_976_972)));
    r.read = read.clone();
    let want = replay(&csv, &r).unwrap();
    assert_eq!(replayed.points[0].hits, want.hits);
    // The stack's figure is close but not the replay's (it uses each object's latest size).
    assert!((stack.points[0].miss_ratio - want.miss_ratio.unwrap()).abs() < 0.005);
}
