//! Trace-driven runs (`[traffic] trace`, `clipsim run --trace`): the round trip from a synthetic
//! run through a CloudFront log and back, what a trace run does with uploads, time, geographies
//! and the run's end, and the errors a bad trace gives.

mod common;

use clipsim_sim::scenario::{self, Overrides, Scenario};
use clipsim_sim::world::{RunResult, World};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::AtomicBool;

fn clipsim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clipsim")).args(args).current_dir(cwd).output().expect("runs")
}

fn ok(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

fn summary(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A summary without what names its inputs: the scenario's hash covers the trace's path, the
/// trace's file name differs between the two traces compared, and so do its clock's times (a
/// log's are Unix times from 2026-01-01, a generated trace's seconds from 0: the run's times
/// are the same).
fn without_names(mut s: serde_json::Value) -> serde_json::Value {
    s["scenario"]["sha256"] = serde_json::Value::Null;
    for key in ["file", "first_s", "last_s", "origin_s"] {
        s["trace"][key] = serde_json::Value::Null;
    }
    s
}

/// A scenario `text` (in `dir`, so that a relative trace path is resolved there) loaded.
fn load(dir: &Path, text: &str) -> Result<Scenario, Box<scenario::InputError>> {
    let path = dir.join("t.toml");
    std::fs::write(&path, text).unwrap();
    scenario::load(&path, &Overrides::default()).map_err(Box::new)
}

fn run(sc: Scenario) -> RunResult {
    World::new(sc).expect("valid").run(&mut (), &AtomicBool::new(false))
}

/// A one-region, one-geography scenario without a CDN or mirrors, reading `trace.csv`.
fn bare(extra_traffic: &str) -> String {
    format!(
        "[scenario]\nname = \"t\"\nduration = \"1d\"\nwarmup = \"0s\"\nreport_interval = \"1h\"\n\
         [catalog]\nclips = 1\nprimary_region = \"r\"\n\
         [traffic]\ntrace = \"trace.csv\"\n{extra_traffic}\n[traffic.geos]\nna = 0.5\neu = 0.5\n\
         [[regions]]\nname = \"r\"\nstorage = \"s3\"\nlatency_ms = {{ na = 20, eu = 80 }}\n\
         [cdn]\nenabled = false\n[mirror]\nenabled = false\n"
    )
}

/// The round trip of the issue: a synthetic run's requests, written as a CloudFront standard
/// log, imported and run as a trace, give byte for byte the summary of the same requests run
/// from the native trace `trace generate` writes; and that run gives the synthetic run's request
/// count and verdicts, its latency figures within 0.1 %, its edge hit rate within 0.1 point and
/// its bill apart from storage within 1 %. What the log cannot carry makes the rest (see docs/traces.md): times in
/// whole seconds, the clips never viewed (their storage), each clip's upload before its first
/// view.
#[test]
fn a_cloudfront_log_of_a_synthetic_run_runs_as_the_run_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sc = common::small_scenario(d, "");
    let sc = sc.to_str().unwrap();
    ok(&clipsim(&["trace", "generate", sc, "--out", "native.csv"], d));
    ok(&clipsim(&["trace", "generate", sc, "--format", "cloudfront", "--out", "cf.log"], d));
    ok(&clipsim(&["trace", "import", "cf.log", "--format", "cloudfront", "--out", "imported.csv", "-q"], d));
    ok(&clipsim(&["run", sc, "--out", "syn", "-q"], d));
    ok(&clipsim(&["run", sc, "--trace", "native.csv", "--out", "native", "-q"], d));
    ok(&clipsim(&["run", sc, "--trace", "imported.csv", "--out", "imported", "-q"], d));
    let native = summary(&d.join("native/summary.json"));
    let imported = summary(&d.join("imported/summary.json"));
    assert_eq!(imported["trace"]["file"], "imported.csv");
    assert_eq!(without_names(native.clone()), without_names(imported), "log round trip");

    let syn = summary(&d.join("syn/summary.json"));
    assert_eq!(native["requests"], syn["requests"], "the same requests");
    let verdicts =
        |s: &serde_json::Value| s["targets"].as_array().unwrap().iter().map(|t| t["pass"].clone()).collect::<Vec<_>>();
    assert_eq!(verdicts(&native), verdicts(&syn));
    let close = |key: &[&str], rel: f64| {
        let get = |s: &serde_json::Value| key.iter().fold(s, |v, k| &v[*k]).as_f64().unwrap();
        let (a, b) = (get(&native), get(&syn));
        assert!((a - b).abs() <= rel * b.abs(), "{key:?}: trace {a} against synthetic {b}");
    };
    close(&["latency_ms", "p50"], 0.001);
    close(&["latency_ms", "mean"], 0.001);
    // The bill apart from storage (the trace's clips are the viewed ones, stored from their
    // first views: less storage, below).
    let delivery =
        |s: &serde_json::Value| s["cost_usd"]["total"].as_f64().unwrap() - s["cost_usd"]["storage"].as_f64().unwrap();
    let (a, b) = (delivery(&native), delivery(&syn));
    assert!((a - b).abs() <= 0.01 * b, "the bill without storage: trace {a} against synthetic {b}");
    let edge = |s: &serde_json::Value| s["hit_rates"]["cdn_cache"].as_f64().unwrap();
    assert!((edge(&native) - edge(&syn)).abs() < 0.001, "{} against {}", edge(&native), edge(&syn));
    // The trace's clips are the viewed ones: fewer than the catalog, stored from first view.
    let clips = native["trace"]["clips"].as_u64().unwrap();
    assert!(clips > 1000 && clips < 2000, "{clips}");
    assert!(native["cost_usd"]["storage"].as_f64().unwrap() < syn["cost_usd"]["storage"].as_f64().unwrap());
    // The report says where the requests came from and how to run them again.
    let report = std::fs::read_to_string(d.join("imported/report.md")).unwrap();
    assert!(report.contains("Serves the trace `imported.csv` (csv)"), "{report}");
    assert!(report.contains("--trace "), "{report}");
}

/// A clip is uploaded at its first view (stored from then to the end, in its primary region),
/// or at time 0 with `trace_uploads = "start"`: the storage meter's byte-microseconds against
/// the sum worked out from the trace by hand.
#[test]
fn clips_are_stored_from_their_first_view_or_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Clip 7 first at 100 s (1,000 bytes), clip 9 at 3,600 s (50 bytes; its later request says
    // 999 bytes, which does not change its size), clip 7 again.
    std::fs::write(
        d.join("trace.csv"),
        "time,obj_id,size,geo\n100,7,1000,na\n3600,9,50,eu\n7200,7,1000,eu\n7300,9,999,na\n",
    )
    .unwrap();
    let end_us: u128 = 86_400_000_000;
    let first_view = run(load(d, &bare("")).unwrap());
    let want = 1000 * (end_us - 100_000_000) + 50 * (end_us - 3_600_000_000);
    assert_eq!(first_view.meters.storage[0].byte_us, want);
    assert_eq!(first_view.engine.clip_count(), 2);
    assert_eq!(first_view.arrivals, 4);
    let start = run(load(d, &bare("trace_uploads = \"start\"")).unwrap());
    assert_eq!(start.meters.storage[0].byte_us, 1050 * end_us);
    // Every request is served from the primary (no CDN, no mirror): four gets.
    assert_eq!(first_view.meters.storage[0].gets, 4);
}

/// Geography labels name the scenario's geographies; a trace without them has its requests'
/// geographies drawn by the scenario's shares (here 0.5 each: 10,000 requests within 4 standard
/// deviations of 5,000 each), the same on every run of one seed and different with another.
#[test]
fn geographies_come_from_the_trace_or_from_the_shares() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("trace.csv"), "time,obj_id,size,geo\n1,1,10,eu\n2,1,10,eu\n3,2,10,NA\n").unwrap();
    let r = run(load(d, &bare("")).unwrap());
    assert_eq!(r.recorder.latency_geo[1].len(), 2, "two requests from eu");
    assert_eq!(r.recorder.latency_geo[0].len(), 1, "one from na (labels match without case)");

    let mut text = String::from("time,obj_id,size\n");
    for i in 0..10_000u64 {
        text.push_str(&format!("{},{},100\n", i, i % 37));
    }
    std::fs::write(d.join("trace.csv"), text).unwrap();
    let na = |seed: u64| {
        let mut sc = load(d, &bare("")).unwrap();
        sc.seed = seed;
        run(sc).recorder.latency_geo[0].len()
    };
    let (a, b, c) = (na(1), na(1), na(2));
    assert_eq!(a, b, "one seed, one draw");
    assert_ne!(a, c, "another seed, other draws");
    assert!((a as f64 - 5000.0).abs() < 4.0 * 50.0, "{a} of 10,000 from na");
}

/// A request earlier than the one before it is served at that one's time (time never goes
/// back) and counted; requests past the run's end are not served, and the summary says how
/// many were.
#[test]
fn out_of_order_and_late_requests() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The run is one day: the last request, at 100,000 s, is past it.
    std::fs::write(d.join("trace.csv"), "time,obj_id,size\n10,1,5\n20,2,5\n15,1,5\n30,1,5\n100000,2,5\n").unwrap();
    let sc = load(d, &bare("")).unwrap();
    let info = sc.traffic.trace.clone().unwrap();
    assert_eq!((info.requests, info.clips, info.out_of_order), (5, 2, 1));
    assert_eq!((info.first_s, info.last_s, info.origin_s), (10, 100_000, 0));
    let r = run(sc);
    assert_eq!(r.arrivals, 4, "the request past the end is not served");
    let s = clipsim_sim::report::summarize(&r);
    let t = s.trace.expect("a trace run says so");
    assert_eq!((t.requests, t.served, t.out_of_order), (5, 4, 1));
    // A trace of Unix times starts at the midnight before its first request.
    std::fs::write(d.join("trace.csv"), "time,obj_id,size\n1767225601,1,5\n1767229200,1,5\n").unwrap();
    let info = load(d, &bare("")).unwrap().traffic.trace.clone().unwrap();
    assert_eq!(info.origin_s, 1_767_225_600);
    assert_eq!(info.sim_time(1_767_229_200).as_micros(), 3_600_000_000);
}

/// A bad trace is an error when the scenario is loaded, at the key that names it, with what is
/// wrong: a geography the scenario does not have, a missing file, a malformed record, and keys
/// that make no sense with a trace.
#[test]
fn a_bad_trace_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("trace.csv"), "time,obj_id,size,geo\n1,1,10,mars\n").unwrap();
    let e = load(d, &bare("")).unwrap_err();
    assert_eq!(e.key_path, "traffic.trace");
    assert!(e.expected.contains("`mars` is not one") && e.expected.contains("na, eu"), "{}", e.expected);
    assert_eq!(e.line, Some(10), "the line of `trace =`");

    std::fs::remove_file(d.join("trace.csv")).unwrap();
    let e = load(d, &bare("")).unwrap_err();
    assert!(e.expected.contains("trace.csv") && e.expected.contains("a readable file"), "{}", e.expected);

    std::fs::write(d.join("trace.csv"), "time,obj_id,size\n1,1,10\n2,x\n").unwrap();
    let e = load(d, &bare("")).unwrap_err();
    assert!(e.expected.contains("record 2"), "{}", e.expected);

    std::fs::write(d.join("trace.csv"), "time,obj_id,size\n1,1,10\n").unwrap();
    let e = load(d, &bare("trace_uploads = \"later\"")).unwrap_err();
    assert_eq!(e.key_path, "traffic.trace_uploads");
    let e = load(d, &bare("").replace("name = \"t\"\n", "name = \"t\"\nsteady_state = true\n")).unwrap_err();
    assert_eq!(e.key_path, "scenario.steady_state");
    let e = load(d, &bare("").replace("trace = \"trace.csv\"\n", "trace_format = \"csv\"\n")).unwrap_err();
    assert_eq!(e.key_path, "traffic.trace_format");

    // Past the first batch, a bad record or geography is found by the run (exit 2, nothing
    // written) or by `clipsim validate`, which reads the whole trace.
    let sc = common::small_scenario(d, "");
    for (bad, what) in [("5000,1,x,na", "record 5000"), ("5000,1,10,mars", "`mars` is not one")] {
        let mut text = String::from("time,obj_id,size,geo\n");
        for i in 1..6000 {
            text.push_str(&if i == 5000 { format!("{bad}\n") } else { format!("{i},{},10,na\n", i % 7) });
        }
        std::fs::write(d.join("long.csv"), text).unwrap();
        let out = clipsim(&["run", sc.to_str().unwrap(), "--trace", "long.csv", "--out", "r"], d);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(what) && err.contains("nothing written"), "{err}");
        assert!(!d.join("r").exists());
        let with =
            std::fs::read_to_string(sc.as_path()).unwrap().replace("[traffic]\n", "[traffic]\ntrace = \"long.csv\"\n");
        std::fs::write(d.join("with.toml"), with).unwrap();
        let out = clipsim(&["validate", "with.toml"], d);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(what) && err.contains("traffic.trace"), "{err}");
    }

    // On the command line: exit status 2 and the message, nothing written.
    let out = clipsim(&["run", sc.to_str().unwrap(), "--trace", "missing.csv", "--out", "r"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.csv"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!d.join("r").exists());
}

/// Observed beside simulated, worked out by hand. One clip, a CDN with a one-hour TTL: day 1 at
/// 10, 20, 30, 40 s the simulated edge misses then hits three times, while the log says miss,
/// hit, hit, miss; day 2 at 10 and 20 s past midnight it revalidates (not a hit) then hits, while
/// the log says hit, hit. A `bypass` and an unlogged request are left out.
#[test]
fn observed_beside_simulated_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("trace.csv"),
        "time,obj_id,size,geo,cache\n10,1,1000,na,miss\n20,1,1000,na,hit\n25,1,1000,na,bypass\n30,1,1000,na,Hit\n\
         40,1,1000,na,miss\n50,1,1000,na,\n86410,1,1000,na,hit\n86420,1,1000,na,hit\n",
    )
    .unwrap();
    let text = bare("")
        .replace("duration = \"1d\"", "duration = \"2d\"")
        .replace("[cdn]\nenabled = false\n", "[cdn]\nenabled = true\nprovider = \"cloudflare\"\ncache_ttl = \"1h\"\n");
    let sc = load(d, &text).unwrap();
    assert_eq!(sc.traffic.trace.as_ref().unwrap().observed, 6, "hits and misses logged");
    let r = run(sc);
    let c = clipsim_sim::report::summarize(&r).calibration.expect("the trace has cache results");
    let text = std::fs::read_to_string(d.join("t.toml")).unwrap();
    let all = c.by_geo.last().unwrap();
    assert_eq!((all.geo.as_str(), all.requests), ("all", 6));
    assert_eq!(all.observed_hit_rate, Some(4.0 / 6.0));
    assert_eq!(all.simulated_hit_rate, Some(4.0 / 6.0));
    assert_eq!(all.observed_bytes_past_edge, 2000);
    assert_eq!(all.simulated_bytes_past_edge, 2000);
    let days: Vec<(u64, f64)> = c.by_day.iter().map(|r| (r.requests, r.difference.unwrap())).collect();
    assert_eq!(days, vec![(4, 0.25), (2, -0.5)]);
    // Student's interval over the two days' differences: mean -0.125, standard error 0.375,
    // t(0.975, 1 degree of freedom) = 12.706.
    let (lo, hi) = all.difference_ci95.unwrap();
    assert!(
        (lo - (-0.125 - 12.706 * 0.375)).abs() < 1e-3 && (hi - (-0.125 + 12.706 * 0.375)).abs() < 1e-3,
        "{lo} {hi}"
    );
    let na = &c.by_geo[0];
    assert_eq!((na.geo.as_str(), na.requests), ("na", 6));
    // The report puts them side by side.
    let out = clipsim(&["run", "t.toml", "--out", "rep", "-q"], d);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let md = std::fs::read_to_string(d.join("rep/report.md")).unwrap();
    assert!(md.contains("## Observed beside simulated") && md.contains("| all | 6 | 66.67 % | 66.67 % |"), "{md}");
    // After a one-day warm-up only day 2 is compared (the real CDN was warm, the simulated one
    // starts cold).
    let warm = run(load(d, &text.replace("warmup = \"0s\"", "warmup = \"1d\"")).unwrap());
    let c = clipsim_sim::report::summarize(&warm).calibration.unwrap();
    let all = c.by_geo.last().unwrap();
    assert_eq!((all.requests, all.observed_hit_rate, all.simulated_hit_rate), (2, Some(1.0), Some(0.5)));
    assert_eq!(all.difference_ci95, None, "one day: no interval");
}

/// A simulated CDN's own log (`run --request-log`) calibrates exactly: run on it with the same
/// settings, the simulated edge makes the very same hits (a difference of exactly 0 in every
/// geography and on every day); with a shorter TTL it is colder, its interval below 0.
#[test]
fn a_simulated_cdn_log_calibrates_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sc = common::small_scenario(d, "");
    let sc = sc.to_str().unwrap();
    let text = std::fs::read_to_string(sc).unwrap();
    std::fs::write(d.join("real.toml"), text.replace("cache_ttl = \"1h\"", "cache_ttl = \"12h\"")).unwrap();
    ok(&clipsim(&["trace", "generate", sc, "--out", "t.csv"], d));
    ok(&clipsim(&["run", "real.toml", "--trace", "t.csv", "--request-log", "real.csv", "--out", "real", "-q"], d));
    let head = std::fs::read_to_string(d.join("real.csv")).unwrap();
    assert!(head.starts_with("time,obj_id,size,geo,cache\n"), "{}", &head[..80]);
    ok(&clipsim(&["run", "real.toml", "--trace", "real.csv", "--out", "same", "-q"], d));
    ok(&clipsim(&["run", sc, "--trace", "real.csv", "--out", "colder", "-q"], d));
    let same = summary(&d.join("same/summary.json"));
    let cal = &same["calibration"];
    for row in cal["by_geo"].as_array().unwrap().iter().chain(cal["by_day"].as_array().unwrap()) {
        assert_eq!(row["difference"], 0.0, "{row}");
        assert_eq!(row["observed_hit_rate"], row["simulated_hit_rate"], "{row}");
        assert_eq!(row["observed_bytes_past_edge"], row["simulated_bytes_past_edge"], "{row}");
    }
    // The run on the log is the run that wrote it.
    let real = summary(&d.join("real/summary.json"));
    assert_eq!(real["served_from"], same["served_from"]);
    assert_eq!(real["cost_nanodollars"], same["cost_nanodollars"]);
    let colder = summary(&d.join("colder/summary.json"));
    let all = colder["calibration"]["by_geo"].as_array().unwrap().last().unwrap().clone();
    let hi = all["difference_ci95"][1].as_f64().unwrap();
    assert!(hi < 0.0, "a 1-hour TTL against a 12-hour one is colder: {all}");
    let report = std::fs::read_to_string(d.join("colder/report.md")).unwrap();
    assert!(report.contains("**The simulated edge is colder than the real one**"), "{report}");
}
