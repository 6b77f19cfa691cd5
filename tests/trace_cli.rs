//! The trace commands end to end: `clipsim replay`, `clipsim mrc`, `clipsim trace generate`,
//! their output, and their refusal of bad input (exit status 2, a message with the file, the
//! record number, the byte offset and what was expected; or a count with --skip-bad-records).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A sample trace in `tests/data/traces/` (its README says where it comes from).
fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/traces").join(name)
}

fn clipsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clipsim")).args(args).output().expect("clipsim runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "exit {:?}: {}", o.status.code(), stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

#[test]
fn replay_prints_the_counts_and_json_has_the_keys() {
    let bin = sample("cloudPhysicsIO.oracleGeneral.bin");
    let o = clipsim(&["replay", s(&bin), "--policy", "lru", "--size", "10%", "--json"]);
    let v = json(&o);
    for key in ["requests", "hits", "miss_ratio", "byte_miss_ratio"] {
        assert!(v.get(key).is_some(), "{key} missing from {v}");
    }
    assert_eq!(v["requests"], 113_872);
    assert_eq!(v["cache_size"], 202_976_972);
    assert_eq!((v["miss_ratio"].as_f64().unwrap() * 1e4).round() / 1e4, 0.8097);
    let o = clipsim(&["replay", s(&bin), "--policy", "fifo", "--size", "608930918"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("requests         113,872") && text.contains("miss ratio       0.7359"), "{text}");
    assert!(text.contains("byte miss ratio"), "{text}");
}

#[test]
fn csv_replay_by_column_numbers_and_names() {
    let csv = sample("cloudPhysicsIO.csv");
    let by_number = json(&clipsim(&[
        "replay",
        s(&csv),
        "--size",
        "202976972",
        "--time-col",
        "2",
        "--id-col",
        "5",
        "--size-col",
        "4",
        "--json",
    ]));
    let by_name = json(&clipsim(&["replay", s(&csv), "--size", "202976972", "--id-col", "lbn", "--json"]));
    assert_eq!(by_number, by_name);
    assert_eq!((by_name["miss_ratio"].as_f64().unwrap() * 1e4).round() / 1e4, 0.8038);
    // Without the id column the header does not say which column holds ids.
    let o = clipsim(&["replay", s(&csv), "--size", "10%"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--id-col") && stderr(&o).contains("version,time,op,size,lbn"), "{}", stderr(&o));
}

#[test]
fn a_compressed_trace_replays_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let bin = sample("cloudPhysicsIO.oracleGeneral.bin");
    let zst = dir.path().join("cloudPhysicsIO.oracleGeneral.bin.zst");
    let raw = std::fs::read(&bin).unwrap();
    std::fs::write(&zst, zstd::encode_all(&raw[..], 3).unwrap()).unwrap();
    let a = json(&clipsim(&["replay", s(&bin), "--policy", "s3fifo", "--size", "1%", "--json"]));
    let b = json(&clipsim(&["replay", s(&zst), "--policy", "s3fifo", "--size", "1%", "--json"]));
    assert_eq!(a, b);
    // Compression is recognised by content, whatever the name.
    let odd = dir.path().join("renamed.bin");
    std::fs::copy(&zst, &odd).unwrap();
    assert_eq!(json(&clipsim(&["replay", s(&odd), "--policy", "s3fifo", "--size", "1%", "--json"])), a);
}

#[test]
fn a_truncated_binary_record_stops_with_its_number_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read(sample("cloudPhysicsIO.oracleGeneral.bin")).unwrap();
    let cut = dir.path().join("cut.oracleGeneral.bin");
    std::fs::write(&cut, &raw[..100 * 24 + 10]).unwrap();
    let o = clipsim(&["replay", s(&cut), "--size", "1GB"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("cut.oracleGeneral.bin: record 101, byte offset 2400"), "{err}");
    assert!(err.contains("24-byte") && err.contains("found only 10 bytes"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let v = json(&clipsim(&["replay", s(&cut), "--size", "1GB", "--skip-bad-records", "--json"]));
    assert_eq!(
        (v["requests"].as_u64(), v["records"].as_u64(), v["bad_records"].as_u64()),
        (Some(100), Some(101), Some(1))
    );
}

#[test]
fn a_malformed_csv_row_stops_with_its_number_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "time,obj_id,size\n1,a,100\n2,b,100\n3,a,1x0\n4,a,100\n5,c\n6,b,100\n").unwrap();
    let o = clipsim(&["replay", s(&csv), "--size", "1000"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("bad.csv: record 3, line 4, byte offset 33"), "{err}");
    assert!(err.contains("column 3 (size): a whole number of bytes, found \"1x0\""), "{err}");
    let v = json(&clipsim(&["replay", s(&csv), "--size", "1000", "--skip-bad-records", "--json"]));
    assert_eq!((v["requests"].as_u64(), v["bad_records"].as_u64(), v["hits"].as_u64()), (Some(4), Some(2), Some(2)));
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let bin = sample("cloudPhysicsIO.oracleGeneral.bin");
    let cases: [(&[&str], &str); 7] = [
        (&["replay", s(&bin), "--policy", "clock-pro", "--size", "1GB"], "expected one of lru, fifo, sieve"),
        (&["replay", s(&bin), "--size", "ten gigs"], "is not a cache size"),
        (&["replay", s(&bin)], "--size is required"),
        (&["replay", s(&bin), "--policy", "ttl"], "--ttl is required"),
        (&["replay", s(&bin), "--policy", "ttl", "--ttl", "5 fortnights"], "is not a duration"),
        (&["replay", "/nonexistent/trace.csv", "--size", "1GB"], "/nonexistent/trace.csv: a readable file"),
        (&["replay", s(&bin), "--size", "1GB", "--format", "parquet"], "expected one of csv, oracle-general"),
    ];
    for (args, want) in cases {
        let o = clipsim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
    let dir = tempfile::tempdir().unwrap();
    let unknown = dir.path().join("trace.dat");
    std::fs::write(&unknown, "x").unwrap();
    let o = clipsim(&["replay", s(&unknown), "--size", "1GB"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--format csv|oracle-general"), "{}", stderr(&o));
}

#[test]
fn several_sizes_print_one_line_each_with_libcachesim_fractions() {
    let bin = sample("cloudPhysicsIO.oracleGeneral.bin");
    let o = clipsim(&["replay", s(&bin), "--policy", "s3fifo", "--size", "0.01,0.1,0.3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // libCacheSim's published S3-FIFO miss ratios at 1 %, 10 % and 30 % of the unique bytes
    // (tests/data/traces/README.md), at its 4 decimals.
    let lines: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    let want = [("20,297,697", "0.8229"), ("202,976,972", "0.7356"), ("608,930,918", "0.6648")];
    assert_eq!(lines.len(), want.len(), "{lines:?}");
    for (line, (bytes, miss)) in lines.iter().zip(want) {
        let head = format!("cloudPhysicsIO.oracleGeneral.bin s3fifo cache size {bytes} bytes, 113,872 req, miss ratio {miss}, byte miss ratio 0.");
        assert!(line.starts_with(&head), "{line}\nwanted {head}");
    }
    // One size with --oneline is one such line; with --json, one object per line.
    let one = clipsim(&["replay", s(&bin), "--size", "1%", "--oneline"]);
    assert_eq!(stdout(&one).lines().count(), 1);
    assert!(
        stdout(&one).contains("lru cache size 20,297,697 bytes, 113,872 req, miss ratio 0.8339"),
        "{}",
        stdout(&one)
    );
    let j = clipsim(&["replay", s(&bin), "--size", "0.01,1%", "--json"]);
    let objs: Vec<serde_json::Value> = stdout(&j).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(objs.len(), 2);
    assert_eq!(objs[0], objs[1], "0.01 and 1% are the same size");
    assert_eq!(objs[0]["cache_size"].as_u64(), Some(20_297_697));
}

#[test]
fn ttl_replays() {
    let bin = sample("cloudPhysicsIO.oracleGeneral.bin");
    let on_miss = json(&clipsim(&["replay", s(&bin), "--policy", "ttl", "--ttl", "10m", "--json"]));
    let reset = json(&clipsim(&["replay", s(&bin), "--policy", "ttl-reset", "--ttl", "10m", "--json"]));
    let forever = json(&clipsim(&["replay", s(&bin), "--policy", "lru", "--size", "100%", "--json"]));
    let h = |v: &serde_json::Value| v["hits"].as_u64().unwrap();
    assert!(h(&on_miss) <= h(&reset) && h(&reset) <= h(&forever), "{on_miss} {reset} {forever}");
    assert_eq!(forever["cache_size"], 2_029_769_728u64);
    // Every request of an object after its first hits in a cache that holds everything.
    assert_eq!(h(&forever), 113_872 - 48_974);
}

#[test]
fn mrc_writes_csv_and_svg_and_lru_comes_from_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let bin = sample("cloudPhysicsIO.oracleGeneral.bin");
    let o = clipsim(&[
        "mrc",
        s(&bin),
        "--policy",
        "lru,fifo,sieve,s3fifo",
        "--sizes",
        "1%,10%,30%,202976972",
        "--out",
        s(dir.path()),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(dir.path().join("mrc.csv")).unwrap();
    let svg = std::fs::read_to_string(dir.path().join("mrc.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Miss ratio by cache size") && svg.contains("s3fifo"));
    // One set of x labels: the sizes simulated, where their points are; the trace's size readable.
    assert!(svg.contains("2,029,769,728 unique bytes, 2.03 GB"), "{svg}");
    assert!(svg.contains("\n1%\n</text>") && svg.contains("\n30%\n</text>"), "{svg}");
    assert!(!svg.contains("\n1.0%\n</text>"), "no tick labels beside the marks: {svg}");
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    // 10% and 202976972 bytes are the same size: one row each per policy, Belady's bound added.
    assert_eq!(rows.len(), 5 * 3, "{csv}");
    assert!(svg.contains("belady (optimal bound)"), "{svg}");
    let want = [
        ("lru", "20297697", "0.833884", "stack"),
        ("lru", "202976972", "0.809681", "stack"),
        ("lru", "608930918", "0.713160", "stack"),
        ("fifo", "608930918", "0.735958", "replay"),
        ("sieve", "202976972", "0.790300", "replay"),
        ("s3fifo", "20297697", "0.822906", "replay"),
        ("belady", "20297697", "0.800478", "replay"),
        ("belady", "608930918", "0.531658", "replay"),
    ];
    for (policy, bytes, miss, method) in want {
        assert!(
            rows.iter().any(|r| r[0] == policy && r[2] == bytes && r[6] == miss && r[8] == method),
            "{policy} {bytes} {miss} {method} not in\n{csv}"
        );
    }
    // Without -q, standard output is exactly mrc.csv (data), the note of where it went is on stderr.
    let out = dir.path().join("again");
    let o = clipsim(&["mrc", s(&bin), "--sizes", "1%,10%", "--policy", "lru,fifo", "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), std::fs::read_to_string(out.join("mrc.csv")).unwrap());
    assert!(stderr(&o).contains("wrote ") && stderr(&o).contains("mrc.svg"), "{}", stderr(&o));
}

/// `--admission second-hit` filters every policy's caches but Belady's (the bound of eviction
/// alone), names the curves with it, and replays LRU instead of the one-pass stack (which has no
/// filter); `--no-belady` leaves the bound out.
#[test]
fn mrc_admission_and_the_belady_bound() {
    let dir = tempfile::tempdir().unwrap();
    let bin = sample("cloudPhysicsIO.oracleGeneral.bin");
    let out = dir.path().join("a");
    let o = clipsim(&[
        "mrc",
        s(&bin),
        "--policy",
        "lru,gdsf",
        "--sizes",
        "1%,30%",
        "--admission",
        "second-hit",
        "--out",
        s(&out),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("mrc.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let names: Vec<(&str, &str)> = rows.iter().map(|r| (r[0], r[8])).collect();
    assert_eq!(
        names,
        [
            ("lru+second-hit", "replay"),
            ("lru+second-hit", "replay"),
            ("gdsf+second-hit", "replay"),
            ("gdsf+second-hit", "replay"),
            ("belady", "replay"),
            ("belady", "replay"),
        ],
        "{csv}"
    );
    // The filtered LRU is `replay --admission second-hit`'s; the bound is unfiltered Belady's.
    let lru = json(&clipsim(&["replay", s(&bin), "--size", "1%", "--admission", "second-hit", "--json"]));
    assert_eq!(rows[0][5].parse::<u64>().unwrap(), lru["hits"].as_u64().unwrap());
    let bound = json(&clipsim(&["replay", s(&bin), "--policy", "belady", "--size", "1%", "--json"]));
    assert_eq!(rows[4][5].parse::<u64>().unwrap(), bound["hits"].as_u64().unwrap());
    let svg = std::fs::read_to_string(out.join("mrc.svg")).unwrap();
    assert!(svg.contains("gdsf+second-hit") && svg.contains("belady (optimal bound)"), "{svg}");
    let out = dir.path().join("b");
    let o = clipsim(&["mrc", s(&bin), "--policy", "lru", "--sizes", "1%", "--no-belady", "--out", s(&out), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("mrc.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    // A window needs the filter that remembers misses.
    let o = clipsim(&["replay", s(&bin), "--size", "1%", "--admission-window", "1h"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--admission-window is for --admission second-hit"), "{}", stderr(&o));
    let o = clipsim(&["replay", s(&bin), "--size", "1%", "--admission", "tinylfu"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("expected one of always, second-hit"), "{}", stderr(&o));
}

#[test]
fn generated_traces_replay_the_same_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/seed-baseline.toml");
    let mut outs = Vec::new();
    for name in ["t.csv", "t.oracleGeneral.bin", "t.oracleGeneral.bin.zst", "t.csv.zst"] {
        let out = dir.path().join(name);
        let o = clipsim(&["trace", "generate", s(&scenario), "--out", s(&out), "--max-requests", "20000", "-q"]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        outs.push(out);
    }
    let results: Vec<serde_json::Value> =
        outs.iter().map(|p| json(&clipsim(&["replay", s(p), "--policy", "sieve", "--size", "5%", "--json"]))).collect();
    for r in &results[1..] {
        assert_eq!(r, &results[0]);
    }
    assert_eq!(results[0]["requests"], 20_000);
    // The CSV carries the geography: one geography's requests replay alone.
    let na = json(&clipsim(&["replay", s(&outs[0]), "--size", "5%", "--geo", "na", "--json"]));
    let skipped = na["other_geo_skipped"].as_u64().unwrap();
    assert!(skipped > 0 && na["requests"].as_u64().unwrap() + skipped == 20_000, "{na}");
    // Same scenario, same seed: the same bytes.
    let again = dir.path().join("again.oracleGeneral.bin");
    assert!(clipsim(&["trace", "generate", s(&scenario), "--out", s(&again), "--max-requests", "20000", "-q"])
        .status
        .success());
    assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&outs[1]).unwrap());
}

/// Column numbers above `COLS_MAX` (10,000) are refused with the flag, the value and what is
/// expected (exit 2), before anything is read or allocated: `--id-col 18446744073709551615`
/// used to panic with "capacity overflow" and `--time-col 99999999999` to abort allocating a
/// table with an entry per column. The limit itself is accepted.
#[test]
fn column_numbers_out_of_range_are_refused_with_a_message() {
    let csv = sample("cloudPhysicsIO.csv");
    let cases: [(&[&str], &str); 4] = [
        (&["replay", s(&csv), "--size", "10%", "--id-col", "18446744073709551615"], "--id-col 18446744073709551615"),
        (&["mrc", s(&csv), "--time-col", "18446744073709551615", "-q"], "--time-col 18446744073709551615"),
        (&["mrc", s(&csv), "--time-col", "99999999999", "-q"], "--time-col 99999999999"),
        (&["replay", s(&csv), "--size", "10%", "--size-col", "10001"], "--size-col 10001"),
    ];
    for (args, flag) in cases {
        let o = clipsim(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&format!("{flag}: expected a column number from 1 to 10000")), "{args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("memory allocation"), "{args:?}: {err}");
    }
    // Column 10,000 is a column number: the trace's rows are too short for it.
    let o = clipsim(&["replay", s(&csv), "--size", "10%", "--id-col", "10000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("at least 10000 columns (column 10000 holds the object id)"), "{}", stderr(&o));
}

#[test]
fn byte_counts_that_would_pass_64_bits_and_a_share_that_rounds_to_nothing_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Three objects of 9 EB each: 27 EB requested, more than a u64 holds.
    let huge = dir.path().join("huge.csv");
    std::fs::write(&huge, "time,id,size\n1,1,9000000000000000000\n2,2,9000000000000000000\n3,3,9000000000000000000\n")
        .unwrap();
    for size in ["10GB", "50%"] {
        let o = clipsim(&["replay", s(&huge), "--size", size]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "--size {size}: {err}\n{}", stdout(&o));
        assert!(err.contains("sizes that add up to at most 18,446,744,073,709,551,615 bytes"), "{err}");
    }
    // Two records of 9 EB fit: the counts are exact, not wrapped.
    std::fs::write(&huge, "time,id,size\n1,1,9000000000000000000\n2,1,9000000000000000000\n").unwrap();
    let j = json(&clipsim(&["replay", s(&huge), "--size", "100%", "--json"]));
    assert_eq!(j["bytes_requested"].as_u64(), Some(18_000_000_000_000_000_000), "{j}");
    assert_eq!(j["bytes_hit"].as_u64(), Some(9_000_000_000_000_000_000), "{j}");
    // 1 % of 50 bytes rounds down to a 0-byte cache, refused as `--size 0` is.
    let small = dir.path().join("small.csv");
    std::fs::write(&small, "time,id,size\n1,1,20\n2,2,30\n").unwrap();
    let o = clipsim(&["replay", s(&small), "--size", "1%"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("the trace's 50 unique bytes, which rounds down to 0"), "{}", stderr(&o));
    assert_eq!(clipsim(&["replay", s(&small), "--size", "2%"]).status.code(), Some(0), "2 % of 50 is one byte");
}

/// The seed baseline with 2,000 clips and each `(from, to)` of `replace` replaced, written as
/// `NAME.toml` in `dir`.
fn scenario_in(dir: &Path, name: &str, replace: &[(&str, &str)]) -> PathBuf {
    let mut text =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/seed-baseline.toml"))
            .unwrap()
            .replace("clips = 100000 ", "clips = 2000 ");
    for (from, to) in replace {
        assert!(text.contains(from), "the seed baseline no longer has {from:?}");
        text = text.replace(from, to);
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Files in `dir` whose name says they are clipsim's temporary files.
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.ends_with(".partial"))
        .collect()
}

/// `trace generate` never writes over its own scenario or `.env` file, however the path is
/// spelt (another spelling, a symbolic link, a hard link), even with `--force`; it replaces an
/// existing file only with `--force`.
#[test]
fn trace_generate_never_writes_over_its_inputs_nor_an_existing_file_unforced() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sc = scenario_in(d, "sc", &[]);
    let text = std::fs::read(&sc).unwrap();
    std::fs::write(d.join("prod.env"), "MIRROR_TTL_DAYS=2\n").unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink(&sc, d.join("link.csv")).unwrap();
    std::fs::hard_link(&sc, d.join("hard.csv")).unwrap();
    let spellings = [
        s(&sc).to_string(),
        format!("{}/sub/../sc.toml", s(d)),
        s(&d.join("link.csv")).into(),
        s(&d.join("hard.csv")).into(),
    ];
    for out in &spellings {
        for force in [false, true] {
            let mut args = vec!["trace", "generate", s(&sc), "--out", out, "--format", "csv", "--max-requests", "100"];
            args.extend(force.then_some("--force"));
            let o = clipsim(&args);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).contains("an input of this command"), "{args:?}: {}", stderr(&o));
            assert_eq!(std::fs::read(&sc).unwrap(), text, "{args:?}: the scenario was overwritten");
        }
    }
    let env = d.join("prod.env");
    let o = clipsim(&["trace", "generate", s(&sc), "--env", s(&env), "--out", s(&env), "--format", "csv", "--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&env).unwrap(), "MIRROR_TTL_DAYS=2\n");
    // Someone else's file: kept without --force, replaced with it.
    let mine = d.join("mine.csv");
    std::fs::write(&mine, "keep me\n").unwrap();
    let args = ["trace", "generate", s(&sc), "--out", s(&mine), "--max-requests", "100", "-q"];
    let o = clipsim(&args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("refusing to replace an existing file (use --force"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "keep me\n");
    let o = clipsim(&[&args[..], &["--force"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&mine).unwrap().lines().count(), 101, "a header and 100 requests");
    assert!(temporaries(d).is_empty(), "{:?}", temporaries(d));
}

/// A write that fails half-way (a 5 GB clip does not fit oracleGeneral's u32 size field, in
/// plain and compressed files) leaves the earlier file as it was and no temporary file: the
/// trace is written beside it and renamed into place only when complete.
#[test]
fn a_failed_trace_write_leaves_the_earlier_file_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let big = scenario_in(
        d,
        "big",
        &[("size = { dist = \"lognormal\", mean_mb = 10.0, sigma = 0.5 }", "size = { dist = \"fixed\", mb = 5000 }")],
    );
    for name in ["old.oracleGeneral.bin", "old.oracleGeneral.bin.zst"] {
        let old = d.join(name);
        std::fs::write(&old, b"the earlier trace").unwrap();
        let o = clipsim(&["trace", "generate", s(&big), "--out", s(&old), "--max-requests", "1000", "--force", "-q"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains("the u32 size field, not 5000000000"), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(name) && !stderr(&o).contains(".tmp-"), "names the destination: {}", stderr(&o));
        assert_eq!(std::fs::read(&old).unwrap(), b"the earlier trace", "{name}: the earlier file was touched");
        assert!(temporaries(d).is_empty(), "{name}: {:?}", temporaries(d));
    }
}

/// A device or a pipe is written directly (there is nothing to rename over): `/dev/stdout` into
/// a pipe gets the trace, `/dev/null` takes it, `/dev/full` is an error with status 2; in both
/// formats, oracleGeneral through a scratch file in `TMPDIR` that is removed.
#[test]
fn trace_generate_writes_devices_and_pipes_directly() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario_in(dir.path(), "sc", &[]);
    let scratch = dir.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let generate = |out: &str, format: &str, requests: &str| {
        Command::new(env!("CARGO_BIN_EXE_clipsim"))
            .args(["trace", "generate", s(&sc), "--out", out, "--format", format, "--max-requests", requests, "-q"])
            .env("TMPDIR", &scratch)
            .output()
            .expect("clipsim runs")
    };
    let o = generate("/dev/stdout", "csv", "10");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("time,obj_id,size,geo\n") && text.lines().count() == 11, "{text}");
    for format in ["csv", "oracle-general"] {
        let o = generate("/dev/null", format, "1000");
        assert_eq!(o.status.code(), Some(0), "{format}: {}", stderr(&o));
        let o = generate("/dev/full", format, "100000");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{format}: {err}");
        assert!(err.contains("/dev/full") && err.contains("No space left on device"), "{format}: {err}");
        assert!(!err.contains("panicked"), "{format}: {err}");
    }
    assert_eq!(std::fs::read_dir(&scratch).unwrap().count(), 0, "a scratch file was left behind");
}

/// Ctrl-C (or SIGTERM) while a trace is generated leaves the earlier file as it was and no
/// temporary file, with exit status 130 (it used to leave a torn file).
#[test]
fn a_signal_during_trace_generate_leaves_the_earlier_file() {
    for signal in ["-INT", "-TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let long = scenario_in(d, "long", &[("views_per_month = 1000000", "views_per_month = 100000000")]);
        let old = d.join("t.csv");
        std::fs::write(&old, "the earlier trace\n").unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_clipsim"))
            .args(["trace", "generate", s(&long), "--out", s(&old), "--force", "-q"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while temporaries(d).is_empty() {
            assert!(t0.elapsed().as_secs() < 60, "the trace never started");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // The handler is in place before the temporary file exists; the whole trace takes
        // seconds, so the signal comes in the middle of it.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let sent = std::time::Instant::now();
        assert!(Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap().success());
        let out = child.wait_with_output().unwrap();
        let took = sent.elapsed();
        assert!(took.as_millis() < 1_000, "{signal}: took {took:?} to stop");
        assert_eq!(out.status.code(), Some(130), "{signal}: {}", stderr(&out));
        assert!(stderr(&out).contains("nothing written to"), "{signal}: {}", stderr(&out));
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "the earlier trace\n", "{signal}");
        assert!(temporaries(d).is_empty(), "{signal}: {:?}", temporaries(d));
    }
}

/// `mrc --out DIR` replaces the directory whole, as a report's: never one it did not make unless
/// `--force`, and never one that holds the trace, even with `--force`. Its own is replaced
/// without asking.
#[test]
fn mrc_never_replaces_a_directory_it_did_not_make_or_that_holds_its_trace() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bin = sample("cloudPhysicsIO.oracleGeneral.bin");
    let mrc = |trace: &Path, out: &Path, force: bool| {
        let mut args = vec!["mrc", s(trace), "--policy", "lru", "--sizes", "10%", "--out", s(out), "-q"];
        args.extend(force.then_some("--force"));
        clipsim(&args)
    };
    let mine = d.join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("mrc.csv"), "my own notes\n").unwrap();
    let o = mrc(&bin, &mine, false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("refusing to write into a non-empty directory"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(mine.join("mrc.csv")).unwrap(), "my own notes\n");
    // Its own directory, twice; then the user's, forced.
    let curves = d.join("curves");
    for _ in 0..2 {
        let o = mrc(&bin, &curves, false);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(std::fs::read_to_string(curves.join("mrc.csv")).unwrap().starts_with("policy,size,"));
    }
    assert_eq!(mrc(&bin, &mine, true).status.code(), Some(0));
    assert!(std::fs::read_to_string(mine.join("mrc.csv")).unwrap().starts_with("policy,size,"));
    // A directory holding the trace.
    let data = d.join("data");
    std::fs::create_dir(&data).unwrap();
    let trace = data.join("t.oracleGeneral.bin");
    std::fs::copy(&bin, &trace).unwrap();
    for force in [false, true] {
        let o = mrc(&trace, &data, force);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("an input of this command"), "{}", stderr(&o));
        assert_eq!(std::fs::read(&trace).unwrap(), std::fs::read(&bin).unwrap());
    }
    assert!(temporaries(d).is_empty(), "{:?}", temporaries(d));
}

/// `replay` and `mrc` on a trace that takes seconds: SIGINT or SIGTERM ends them within a
/// second with status 130 (they have nothing half-done to save: `mrc` writes only at the end),
/// leaving no output and no temporary file, even when the parent ignores SIGINT (a shell's
/// background job does, and the child inherits it: the handler is installed, not left to chance).
#[test]
fn a_signal_stops_replay_and_mrc_within_a_second_leaving_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let big = scenario_in(d, "big", &[("views_per_month = 1000000", "views_per_month = 30000000")]);
    let trace = d.join("big.oracleGeneral.bin");
    let o = clipsim(&["trace", "generate", s(&big), "--out", s(&trace), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = d.join("curves");
    let commands: [&[&str]; 2] = [
        &["replay", s(&trace), "--policy", "s3fifo", "--size", "10%,20%,30%,40%"],
        &["mrc", s(&trace), "--sizes", "1%,2%,5%,10%,20%,30%,50%", "--lru-replay", "--threads", "1", "--out", s(&out)],
    ];
    for args in commands {
        for (signal, ignored) in [("-INT", false), ("-TERM", false), ("-INT", true)] {
            // `trap '' INT` makes the child start with SIGINT ignored, as in a background job.
            let trap = if ignored { "trap '' INT; " } else { "" };
            let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
            let script = format!("{trap}exec '{}' {}", env!("CARGO_BIN_EXE_clipsim"), quoted.join(" "));
            let child = Command::new("bash")
                .args(["-c", &script])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
            let sent = std::time::Instant::now();
            assert!(Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap().success());
            let done = child.wait_with_output().unwrap();
            let took = sent.elapsed();
            assert!(took.as_millis() < 1_000, "{} {signal}: took {took:?}", args[0]);
            assert_eq!(done.status.code(), Some(130), "{} {signal}: {:?} {}", args[0], done.status, stderr(&done));
            assert!(!out.exists(), "{} {signal}: no output directory", args[0]);
            let left: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.'))
                .collect();
            assert!(left.is_empty(), "{} {signal}: {left:?}", args[0]);
        }
    }
}
