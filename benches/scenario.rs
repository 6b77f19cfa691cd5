//! The whole simulator on `scenarios/bench/full-10m.toml`: 10 million requests over a
//! 1,000,000-clip catalog, 3 regions, 3 geographies, CDN edges, mirrors, health checks, an outage,
//! the bill and the histograms (report writing excluded). Throughput is in requests per second.
//!
//! `cargo bench --bench scenario`

use clipsim_sim::{run_scenario, scenario};

// The binary's allocator (large tables on huge pages), so that the bench measures what
// `clipsim run` does.
#[path = "../src/alloc.rs"]
mod alloc;

#[global_allocator]
static ALLOC: alloc::HugePages = alloc::HugePages;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;

fn full_scenario(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench/full-10m.toml");
    let sc = scenario::load(&path, &Default::default()).expect("the bench scenario validates");
    let requests = {
        let r = run_scenario(sc.clone()).expect("runs");
        r.arrivals
    };
    let mut g = c.benchmark_group("scenario");
    g.throughput(Throughput::Elements(requests));
    g.sample_size(10);
    g.bench_function("full_10m_requests", |b| b.iter(|| black_box(run_scenario(sc.clone()).expect("runs").arrivals)));
    g.finish();
}

criterion_group!(benches, full_scenario);
criterion_main!(benches);
