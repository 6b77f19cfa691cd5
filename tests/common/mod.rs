//! Helpers shared by the scenario-level tests.
#![allow(dead_code)]

use clipsim_sim::scenario::{self, Overrides, Scenario};
use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Test data kept in the repository (`tests/data/README.md` says where each file comes from).
pub fn data() -> PathBuf {
    root().join("tests/data")
}

/// A small scenario file in `dir` (the seed baseline scaled down: 2,000 clips, 3 days, 30,000
/// views a month) with `extra` appended; returns its path (`dir/small.toml`).
pub fn small_scenario(dir: &Path, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("scenarios/seed-baseline.toml"))
        .expect("the shipped scenario")
        .replace("clips = 100000 ", "clips = 2000 ")
        .replace("views_per_month = 1000000", "views_per_month = 30000")
        .replace("duration = \"30d\"", "duration = \"3d\"");
    let path = dir.join("small.toml");
    std::fs::write(&path, format!("{text}\n{extra}")).expect("a writable directory");
    path
}

/// Every scenario shipped in `scenarios/`, plus the planner's example (`tests/data/`).
pub fn shipped_scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v.push(data().join("scenario-example.toml"));
    v
}

/// Loads a scenario with its traffic and catalog divided by `factor` (outages, prices and the
/// rest unchanged), so that every shipped scenario runs quickly in tests.
pub fn scaled(path: &Path, factor: f64) -> Scenario {
    scenario::from_str(path, &scaled_text(path, factor), &Overrides::default())
        .unwrap_or_else(|e| panic!("scaled {} does not validate: {e}", path.display()))
}

/// The text of [`scaled`]'s scenario, to edit further.
pub fn scaled_text(path: &Path, factor: f64) -> String {
    let text = std::fs::read_to_string(path).expect("scenario readable");
    let mut doc: toml_edit::DocumentMut = text.parse().expect("valid TOML");
    if let Some(clips) = doc.get("catalog").and_then(|c| c.get("clips")).and_then(|v| v.as_integer()) {
        doc["catalog"]["clips"] = toml_edit::value(((clips as f64 / factor) as i64).max(100));
    }
    for key in ["views_per_month", "requests_per_second"] {
        let v =
            doc.get("traffic").and_then(|t| t.get(key)).and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)));
        if let Some(v) = v {
            doc["traffic"][key] = toml_edit::value(v / factor);
        }
    }
    if let Some(spikes) =
        doc.get_mut("traffic").and_then(|t| t.get_mut("spikes")).and_then(|s| s.as_array_of_tables_mut())
    {
        for s in spikes.iter_mut() {
            let vph = s["views_per_hour"].as_float().or(s["views_per_hour"].as_integer().map(|i| i as f64)).unwrap();
            s["views_per_hour"] = toml_edit::value(vph / factor);
            if let Some(rank) = s["clip"].as_str().and_then(|c| c.strip_prefix("rank:")) {
                let r: u64 = rank.parse().unwrap();
                s["clip"] = toml_edit::value(format!("rank:{}", (r as f64 / factor).max(1.0) as u64));
            }
        }
    }
    doc.to_string()
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Checks a finished run's numbers against each other, each pair counted by two different paths:
///
/// * arrivals: the world's loop and the engine's `begin_request`; served and failed requests: the
///   engine's outcomes and the recorder's own per-request records (views per clip, load times);
/// * every line of the bill against what the stand-ins metered themselves (gets, bytes out and
///   bytes stored over time per region, hits and fills per edge, bytes copied out of each
///   region), and each meter's total against a recount from the engine's outcomes;
/// * the time series: its intervals add up to the engine's final counters;
/// * `summary.json`: against the recorder, the engine's counters and the bill, summed here.
///
/// No figure is compared with itself.
pub fn cross_check(r: &clipsim_sim::world::RunResult) {
    use clipsim_engine::{Category, Meter, ServedFrom};
    let name = &r.scenario.name;
    let c = r.engine.counters();
    let rec = &r.recorder;
    let edge = ServedFrom::Edge as usize;
    let failed = ServedFrom::Failed as usize;
    assert_eq!(c.requests_total, r.arrivals, "{name}: requests the engine began = arrivals the loop served");
    assert_eq!(c.served_from.iter().sum::<u64>(), r.arrivals, "{name}: served + failed = arrivals");
    assert_eq!(c.bytes_from[failed], 0, "{name}: a failed request delivers nothing");
    // The recorder's own records of the measured period (after the warm-up).
    let t = &rec.total;
    let views: u64 = rec.clips.iter().map(|s| u64::from(s.views)).sum();
    assert_eq!(views, t.requests, "{name}: views recorded per clip = requests the engine counted");
    assert_eq!(rec.latency.len(), t.requests - t.served_from[failed], "{name}: a load time per served request");
    let origin_fetches: u64 = rec.clips.iter().map(|s| u64::from(s.origin_fetches)).sum();
    assert_eq!(origin_fetches, t.requests - t.served_from[edge], "{name}: origin fetches per clip");
    let mirror_served: u64 = rec.clips.iter().map(|s| u64::from(s.mirror_served)).sum();
    let mirror = t.served_from[ServedFrom::LocalMirror as usize] + t.served_from[ServedFrom::RemoteMirror as usize];
    assert_eq!(mirror_served, mirror, "{name}: mirror-served views per clip");
    // The time series' intervals cover every request once.
    let mut rows = clipsim_sim::record::Counts::default();
    for row in &rec.rows {
        let k = &row.counts;
        rows.requests += k.requests;
        for i in 0..k.served_from.len() {
            rows.served_from[i] += k.served_from[i];
            rows.bytes_from[i] += k.bytes_from[i];
        }
        rows.failovers += k.failovers;
        rows.cdn_lookups += k.cdn_lookups;
        rows.revalidations += k.revalidations;
    }
    assert_eq!(rows, clipsim_sim::record::Counts::between(&Default::default(), c), "{name}: intervals add up");

    // Each meter's total, recounted from the engine's outcomes.
    let bills = r.engine.bills();
    let usage = |m: Meter, zone: Option<u32>| -> u128 {
        bills
            .iter()
            .flat_map(|b| &b.lines)
            .filter(|l| l.key.meter == m && zone.is_none_or(|z| z == l.key.zone))
            .map(|l| l.usage)
            .sum()
    };
    let bytes: u64 = c.bytes_from.iter().sum();
    // A revalidated request is served by its origin's answer and the edge's bytes.
    let origin_bytes = bytes - c.bytes_from[edge] - c.revalidated_bytes;
    assert_eq!(usage(Meter::CdnEgress, None) + usage(Meter::OriginEgressDirect, None), u128::from(bytes), "{name}");
    assert_eq!(
        usage(Meter::OriginEgressToCdn, None) + usage(Meter::OriginEgressDirect, None),
        u128::from(origin_bytes),
        "{name}: origin bytes"
    );
    let origin_gets = c.finished() - c.served_from[edge] - c.served_from[failed];
    // A request is a standard one or, from a copy in the infrequent-access class, an infrequent one.
    let gets = |zone| usage(Meter::OriginRequests, zone) + usage(Meter::RequestsInfrequent, zone);
    assert_eq!(gets(None), u128::from(origin_gets), "{name}: origin requests");
    let no_warmup = r.scenario.warmup.as_micros() == 0;
    if no_warmup {
        for (zone, &(requests, bytes)) in (0u32..).zip(&rec.region_served) {
            assert_eq!(gets(Some(zone)), u128::from(requests), "{name}: GETs in region {zone}");
            let egress = usage(Meter::OriginEgressDirect, Some(zone)) + usage(Meter::OriginEgressToCdn, Some(zone));
            assert_eq!(egress, u128::from(bytes), "{name}: egress of region {zone}");
        }
    }

    // The bill, line by line, against what the stand-ins metered themselves.
    let m = &r.meters;
    for (zone, s) in (0u32..).zip(&m.storage) {
        assert_eq!(gets(Some(zone)), u128::from(s.gets), "{name}: gets of region {zone}");
        assert_eq!(
            usage(Meter::OriginEgressDirect, Some(zone)),
            u128::from(s.bytes_to_viewers),
            "{name}: region {zone}"
        );
        assert_eq!(usage(Meter::OriginEgressToCdn, Some(zone)), u128::from(s.bytes_to_cdn), "{name}: region {zone}");
        assert_eq!(
            usage(Meter::StorageByteTime, Some(zone)) + usage(Meter::StorageInfrequent, Some(zone)),
            s.byte_us,
            "{name}: bytes stored over time in region {zone} (both classes)"
        );
        let copied = u128::from(m.copied_out_bytes[zone as usize]);
        assert_eq!(usage(Meter::InterRegion, Some(zone)), copied, "{name}: bytes copied out of region {zone}");
    }
    // Each CDN's edges (the first's geographies, then the second's) against its own lines.
    let cdns: Vec<_> = r
        .scenario
        .cdn
        .iter()
        .flat_map(|c| std::iter::once(c.provider).chain(c.second.as_ref().map(|s| s.provider)))
        .collect();
    assert_eq!(m.edges.len(), cdns.len() * r.scenario.geos.len(), "{name}: an edge per CDN and geography");
    let cdn_usage = |m: Meter, provider, zone: usize| -> u128 {
        let lines = bills.iter().flat_map(|b| &b.lines);
        lines.filter(|l| (l.key.meter, l.key.provider, l.key.zone) == (m, provider, zone as u32)).map(|l| l.usage).sum()
    };
    for (i, e) in m.edges.iter().enumerate() {
        let (provider, zone) = (cdns[i / r.scenario.geos.len()], i % r.scenario.geos.len());
        let bytes = e.hit_bytes + e.fill_bytes + e.revalidated_bytes + e.shield_hit_bytes;
        assert_eq!(cdn_usage(Meter::CdnEgress, provider, zone), u128::from(bytes), "{name}: edge {i}");
        let requests = e.hits + e.fills + e.revalidations + e.shield_hits;
        assert_eq!(cdn_usage(Meter::CdnRequests, provider, zone), u128::from(requests), "{name}: edge {i}");
    }
    if r.scenario.cdn.as_ref().is_none_or(|c| c.shield.is_none()) {
        assert_eq!(m.edges.iter().map(|e| e.shield_hits).sum::<u64>(), 0, "{name}: no shield, no shield hits");
    }
    let revalidated: u64 = m.edges.iter().map(|e| e.revalidations).sum();
    assert_eq!(revalidated, c.revalidations, "{name}: revalidations, edges against the engine");
    assert_eq!(
        m.edges.iter().map(|e| e.revalidated_bytes).sum::<u64>(),
        c.revalidated_bytes,
        "{name}: revalidated bytes"
    );
    let conditional: u64 = m.storage.iter().map(|s| s.conditional_gets).sum();
    assert_eq!(conditional, c.revalidations, "{name}: conditional gets at the origins = revalidations");
    if r.scenario.cdn.as_ref().is_some_and(|c| !c.revalidate) {
        assert_eq!(c.revalidations, 0, "{name}: no revalidation when the CDN refetches");
    }
    let edge_answered: u64 = m.edges.iter().map(|e| e.hits + e.shield_hits).sum();
    assert_eq!(edge_answered, c.served_from[edge], "{name}: edge and shield hits");
    assert_eq!(m.edges.is_empty(), r.scenario.cdn.is_none(), "{name}: edges exactly with a CDN");

    // summary.json against the recorder, the engine and the bill.
    let s = clipsim_sim::report::summarize(r);
    assert_eq!(s.requests.simulated, r.arrivals, "{name}");
    assert_eq!((s.requests.total, s.requests.failed), (rec.total.requests, rec.total.failed()), "{name}");
    if no_warmup {
        assert_eq!(s.requests.total, c.requests_total, "{name}: summary requests = engine's");
        for f in ServedFrom::ALL {
            assert_eq!(s.served_from[f.name()], c.served_from[f as usize], "{name}: served_from.{}", f.name());
        }
        assert_eq!(s.bytes_served, c.bytes_from.iter().sum::<u64>(), "{name}: bytes served = engine's");
        assert_eq!(s.failovers, c.failovers, "{name}: failovers = engine's");
        let served = c.requests_total - c.served_from[failed];
        let availability = (c.requests_total > 0).then(|| served as f64 / c.requests_total as f64);
        assert_eq!(s.availability, availability, "{name}: availability = served / requests, from the engine");
    }
    let mut total = 0i64;
    for cat in Category::ALL {
        let sum: i64 =
            bills.iter().flat_map(|b| &b.lines).filter(|l| l.key.meter.category() == cat).map(|l| l.cost.0).sum();
        assert_eq!(s.cost_nanodollars[cat.name()], sum, "{name}: cost of {} = its bill lines", cat.name());
        assert_eq!(s.cost_usd[cat.name()], sum as f64 / 1e9, "{name}: cost_usd.{}", cat.name());
        total += sum;
    }
    assert_eq!(s.cost_nanodollars["total"], total, "{name}: the summary's total is the bill's");

    // timeseries.csv, read back as CSV text: its columns summed against the engine's counters,
    // its running totals at the last row against the counters and the bill.
    let text = clipsim_sim::report::timeseries::timeseries_csv(r).expect("timeseries.csv");
    let mut reader = csv::Reader::from_reader(text.as_slice());
    let head = reader.headers().expect("a header").clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    assert_eq!(rows.len(), rec.rows.len(), "{name}: a CSV row per interval");
    let col = |n: &str| head.iter().position(|h| h == n).unwrap_or_else(|| panic!("{name}: no column {n}"));
    let sum = |n: &str| rows.iter().map(|row| row[col(n)].parse::<u64>().expect("a count")).sum::<u64>();
    let last = |n: &str| rows.last().map_or("", |row| &row[col(n)]).to_string();
    assert_eq!(sum("requests"), r.arrivals, "{name}: timeseries.csv requests");
    assert_eq!(sum("failed"), c.served_from[failed], "{name}: timeseries.csv failed");
    for (column, f) in [
        ("served_edge", ServedFrom::Edge),
        ("served_local_mirror", ServedFrom::LocalMirror),
        ("served_remote_mirror", ServedFrom::RemoteMirror),
        ("served_primary_via_cdn", ServedFrom::PrimaryViaCdn),
        ("served_primary_direct", ServedFrom::PrimaryDirect),
    ] {
        assert_eq!(sum(column), c.served_from[f as usize], "{name}: timeseries.csv {column}");
    }
    assert_eq!(sum("bytes_served"), c.bytes_from.iter().sum::<u64>(), "{name}: timeseries.csv bytes_served");
    assert_eq!(sum("cdn_requests"), c.cdn_lookups, "{name}: timeseries.csv cdn_requests");
    assert_eq!(sum("cdn_revalidations"), c.revalidations, "{name}: timeseries.csv cdn_revalidations");
    assert_eq!(last("cdn_requests_total"), c.cdn_lookups.to_string(), "{name}: cdn_requests_total at the end");
    assert_eq!(last("mirror_failover_total"), c.failovers.to_string(), "{name}: mirror_failover_total at the end");
    let exact = |nanos: i64| {
        format!(
            "{}{}.{:09}",
            if nanos < 0 { "-" } else { "" },
            nanos.abs() / 1_000_000_000,
            nanos.abs() % 1_000_000_000
        )
    };
    // The cost columns at the last row: the bill's categories to the nanodollar.
    for (column, cat) in [
        "cost_storage_usd",
        "cost_cdn_egress_usd",
        "cost_origin_egress_usd",
        "cost_inter_region_usd",
        "cost_requests_usd",
    ]
    .into_iter()
    .zip(Category::ALL)
    {
        let sum: i64 =
            bills.iter().flat_map(|b| &b.lines).filter(|l| l.key.meter.category() == cat).map(|l| l.cost.0).sum();
        assert_eq!(last(column), exact(sum), "{name}: {column} at the end = the bill's {}", cat.name());
    }
    // Each interval's rates against its own counts (empty when there is nothing to divide by).
    let share = |num: u64, den: u64| if den == 0 { String::new() } else { format!("{:.6}", num as f64 / den as f64) };
    for row in &rows {
        let n = |c: &str| row[col(c)].parse::<u64>().unwrap();
        assert_eq!(row[col("availability")], share(n("requests") - n("failed"), n("requests")), "{name}: availability");
        assert_eq!(row[col("cdn_cache_hit_rate")], share(n("served_edge"), n("cdn_requests")), "{name}: edge hit rate");
    }
    // An interval has load times exactly when it served a request; P50 <= P95 <= P99.
    for row in &rows {
        let served = row[col("requests")].parse::<u64>().unwrap() - row[col("failed")].parse::<u64>().unwrap();
        let p: Vec<&str> = ["load_p50_ms", "load_p95_ms", "load_p99_ms"].iter().map(|n| &row[col(n)]).collect();
        assert_eq!(p[0].is_empty(), served == 0, "{name}: at {}: {served} served, P50 {:?}", &row[col("time_s")], p[0]);
        if served > 0 {
            let v: Vec<f64> = p.iter().map(|x| x.parse().expect("a load time")).collect();
            assert!(v[0] <= v[1] && v[1] <= v[2], "{name}: at {}: {v:?}", &row[col("time_s")]);
        }
    }
    assert_eq!(last("cost_total_usd"), exact(total), "{name}: cost_total_usd at the end = the bill");
}
