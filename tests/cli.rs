//! The `clipsim` command line end to end: exit statuses, outputs, overrides, secrets.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn clipsim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clipsim")).args(args).current_dir(cwd).output().expect("runs")
}

#[test]
fn run_writes_a_report_and_check_fails_on_missed_targets() {
    let dir = tempfile::tempdir().unwrap();
    let sc = common::small_scenario(dir.path(), "");
    let out = clipsim(&["run", sc.to_str().unwrap(), "--out", "r1"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r1/summary.json")).unwrap()).unwrap();
    // The console's headline reads like the report: separators, units, cents.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let total = summary["requests"]["total"].as_u64().unwrap();
    assert!(total >= 1000, "the check below needs a separator");
    let grouped = format!("{},{:03} requests", total / 1000, total % 1000);
    assert!(stdout.contains(&grouped), "{grouped:?} in:\n{stdout}");
    let cost = summary["cost_usd"]["total"].as_f64().unwrap();
    assert!(stdout.contains(&format!("cost ${cost:.2} (")), "cost to the cent in:\n{stdout}");
    assert!(stdout.contains("p50_load_ms              <= 2000 ms      actual "), "{stdout}");
    assert!(stdout.contains("availability             >= 99.9900 %"), "{stdout}");
    for key in [
        "scenario",
        "seed",
        "version",
        "duration_s",
        "requests",
        "served_from",
        "bytes_served",
        "hit_rates",
        "latency_ms",
        "availability",
        "failovers",
        "mirrors",
        "cost_usd",
        "cost_per_gb_usd",
        "targets",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    for key in ["edge", "local_mirror", "remote_mirror", "primary_via_cdn", "primary_direct", "failed"] {
        assert!(summary["served_from"].get(key).is_some(), "served_from lacks {key}");
    }
    // The seed's cost target fails for this setup (origin egress to the CDN): --check says so.
    let any_failed = summary["targets"].as_array().unwrap().iter().any(|t| t["pass"] == false);
    let out = clipsim(&["run", sc.to_str().unwrap(), "--out", "r1", "--check", "--quiet"], dir.path());
    assert_eq!(out.status.code(), Some(if any_failed { 1 } else { 0 }));
    assert!(out.stdout.is_empty(), "--quiet prints nothing");
}

/// `--replicas N` prints each target over the N seeds and writes the replicas block and the
/// "How sure is this?" section; `--replicas 0`, `--threads 0` and a scenario's `replicas = 0`
/// are refused with exit status 2 before anything runs.
#[test]
fn replicas_print_intervals_and_bad_counts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sc = common::small_scenario(dir.path(), "");
    let out = clipsim(&["run", sc.to_str().unwrap(), "--out", "r3", "--replicas", "3", "--threads", "2"], dir.path());
    assert_eq!(out.status.code().map(|c| c < 2), Some(true), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("over 3 seeds") && text.contains("mean ("), "{text}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r3/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["replicas"]["count"], 3);
    let report = std::fs::read_to_string(dir.path().join("r3/report.md")).unwrap();
    assert!(report.contains("## How sure is this?") && report.contains("Over **3 replicas**"));
    for args in [["--replicas", "0"], ["--threads", "0"], ["--replicas", "1001"]] {
        let out = clipsim(&["run", sc.to_str().unwrap(), "--out", "bad", args[0], args[1], "-q"], dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!dir.path().join("bad").exists(), "{args:?}: nothing written");
    }
    let zero = common::small_scenario(dir.path(), "");
    let text = std::fs::read_to_string(&zero).unwrap().replacen("[scenario]\n", "[scenario]\nreplicas = 0\n", 1);
    std::fs::write(&zero, text).unwrap();
    let out = clipsim(&["run", zero.to_str().unwrap(), "--out", "bad", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`scenario.replicas` = 0: 1 to 1000 seeds"));
}

#[test]
fn refuses_to_overwrite_a_directory_it_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let sc = common::small_scenario(dir.path(), "");
    std::fs::create_dir(dir.path().join("mine")).unwrap();
    std::fs::write(dir.path().join("mine/notes.txt"), "keep me").unwrap();
    let out = clipsim(&["run", sc.to_str().unwrap(), "--out", "mine", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to write into a non-empty directory"));
    assert_eq!(std::fs::read_to_string(dir.path().join("mine/notes.txt")).unwrap(), "keep me");
    let out = clipsim(&["run", sc.to_str().unwrap(), "--out", "mine", "-q", "--force"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(dir.path().join("mine/summary.json").exists());
}

#[test]
fn env_file_overrides_and_secrets_never_leak() {
    let dir = tempfile::tempdir().unwrap();
    let sc = common::small_scenario(dir.path(), "");
    std::fs::write(
        dir.path().join("prod.env"),
        "DATABASE_URL=postgres://prod\nCDN_ENABLED=false\nMIRROR_TTL_DAYS=2\nCDN_CLOUDFLARE_API_KEY=sk_live_TOPSECRET\n",
    )
    .unwrap();
    let out = clipsim(&["run", sc.to_str().unwrap(), "--env", "prod.env", "--out", "r"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["served_from"]["edge"], 0, "CDN_ENABLED=false took effect");
    for entry in std::fs::read_dir(dir.path().join("r")).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            assert!(
                !String::from_utf8_lossy(&std::fs::read(&p).unwrap()).contains("TOPSECRET"),
                "{} leaks the key",
                p.display()
            );
        }
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains("TOPSECRET"));
    // The report says what was overridden, and how to reproduce the run.
    let report = std::fs::read_to_string(dir.path().join("r/report.md")).unwrap();
    assert!(
        report.contains(
            "Overrides from `prod.env`: `CDN_ENABLED=false`, `MIRROR_TTL_DAYS=2`, `CDN_CLOUDFLARE_API_KEY=<redacted>`."
        ),
        "{report}"
    );
    assert!(report.contains(" --env prod.env --seed "), "{report}");
    // A value the .env file sets that the scenario's checks refuse is blamed on the .env line,
    // with the .env's value, not on the scenario file's (valid) value of that key.
    // `validate` with a .env file of `text`: its stderr, after checking it refused with status 2.
    let refused = |text: &str| {
        std::fs::write(dir.path().join("odd.env"), text).unwrap();
        let out = clipsim(&["validate", sc.to_str().unwrap(), "--env", "odd.env"], dir.path());
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let err = refused("# prod\nMIRROR_MAX_PER_CLIP=0\nCDN_PROVIDER=akamai\n");
    assert!(err.contains("odd.env:3:14: `CDN_PROVIDER` = \"akamai\": a CDN provider: one of"), "{err}");
    let err = refused("# prod\nMIRROR_MAX_PER_CLIP=0\n");
    assert!(err.contains("odd.env:2:21: `MIRROR_MAX_PER_CLIP` = \"0\": 1 to 8 (`mirror.max_per_clip`)"), "{err}");
    // A bad value in the .env file is located in the .env file.
    let err = refused("CDN_API_KEY=x\nMIRROR_TTL_DAYS=seven\n");
    assert!(err.contains("odd.env:1:1: `CDN_API_KEY`: a known variable"), "{err}");
}

#[test]
fn compare_shows_deltas() {
    let dir = tempfile::tempdir().unwrap();
    let sc = common::small_scenario(dir.path(), "");
    assert_eq!(clipsim(&["run", sc.to_str().unwrap(), "--out", "a", "-q"], dir.path()).status.code(), Some(0));
    assert_eq!(
        clipsim(&["run", sc.to_str().unwrap(), "--out", "b", "-q", "--seed", "9"], dir.path()).status.code(),
        Some(0)
    );
    let out = clipsim(&["compare", "a", "b"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("| cost: total |") && text.contains("| load P50 (ms) |") && text.contains("| availability |"),
        "{text}"
    );
    // A rate's difference is in percentage points, its change relative.
    let row = text.lines().find(|l| l.starts_with("| CDN edge hit rate |")).expect("a hit-rate row");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert!(cells[2].ends_with(" %") && cells[4].ends_with(" pp") && cells[5].ends_with(" %"), "{row}");
    let out = clipsim(&["compare", "a", "nowhere"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere/summary.json"));
    // Three runs: C differs from A in one key of its scenario (written here, not by clipsim).
    let other = common::small_scenario(dir.path(), "").with_file_name("other.toml");
    let text = std::fs::read_to_string(&sc).unwrap();
    assert!(text.contains("\nttl_days = 7\n"), "{text}");
    std::fs::write(&other, text.replace("\nttl_days = 7\n", "\nttl_days = 2.5\n")).unwrap();
    let c = clipsim(&["run", other.to_str().unwrap(), "--out", "c", "-q"], dir.path());
    assert_eq!(c.status.code(), Some(0), "{}", String::from_utf8_lossy(&c.stderr));
    let out = clipsim(&["compare", "a", "b", "c"], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("- B: `scenario.seed`: `") && text.contains("` → `9`"), "{text}");
    assert!(text.contains("- C: `mirror.ttl_days`: `7` → `2.5`"), "{text}");
    assert!(text.contains("| metric | A | B | B - A | change | C | C - A | change |"), "{text}");
    // The same as JSON: the inputs changed and each figure's values, one per run.
    let out = clipsim(&["compare", "a", "b", "c", "--format", "json"], dir.path());
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["runs"].as_array().unwrap().len(), 3);
    assert_eq!(j["inputs_changed"]["C"][0]["key"], "mirror.ttl_days");
    let total = j["figures"].as_array().unwrap().iter().find(|f| f["name"] == "cost: total").unwrap();
    let a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("a/summary.json")).unwrap()).unwrap();
    assert_eq!(total["values"][0], a["cost_usd"]["total"], "A's figure is its summary's");
    // A summary.json that never ends (/dev/zero) is refused, not read into memory.
    let zero = dir.path().join("zero");
    std::fs::create_dir(&zero).unwrap();
    std::os::unix::fs::symlink("/dev/zero", zero.join("summary.json")).unwrap();
    let out = clipsim(&["compare", "a", "zero"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("larger than 16,777,216 bytes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn validate_accepts_the_planners_example_as_written() {
    let out = clipsim(&["validate", common::data().join("scenario-example.toml").to_str().unwrap()], &common::root());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Mounts a small tmpfs at `dir` (as root, as CI runs); `false` when this machine does not allow it.
fn mount_tmpfs(dir: &Path, size: &str, read_only: bool) -> bool {
    let opts = format!("size={size}{}", if read_only { ",ro" } else { "" });
    Command::new("mount").args(["-t", "tmpfs", "-o", &opts, "tmpfs"]).arg(dir).status().is_ok_and(|s| s.success())
}

fn unmount(dir: &Path) {
    let _ = Command::new("umount").arg(dir).status();
}

/// A run onto a full and onto a read-only file system (tmpfs mounts of its own). Where this
/// machine does not allow mounting, the test is ignored and says why (`build.rs` decides); the
/// report writer's unit test `a_full_disk_is_a_clear_error_and_leaves_nothing` meets a real
/// ENOSPC from /dev/full as any user.
#[test]
#[cfg_attr(
    not(clipsim_can_mount),
    ignore = "needs mount rights (root with CAP_SYS_ADMIN) for a full and a read-only tmpfs"
)]
fn disk_full_and_read_only_outputs_are_clear_errors_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sc = common::small_scenario(dir.path(), "");
    let full = dir.path().join("full");
    let ro = dir.path().join("ro");
    std::fs::create_dir(&full).unwrap();
    std::fs::create_dir(&ro).unwrap();
    assert!(mount_tmpfs(&full, "16k", false), "mounting a tmpfs failed although build.rs found CAP_SYS_ADMIN");
    if !mount_tmpfs(&ro, "1m", true) {
        unmount(&full);
        panic!("mounting a read-only tmpfs failed although build.rs found CAP_SYS_ADMIN");
    }
    let disk_full =
        clipsim(&["run", sc.to_str().unwrap(), "--out", full.join("report").to_str().unwrap(), "-q"], dir.path());
    let read_only =
        clipsim(&["run", sc.to_str().unwrap(), "--out", ro.join("report").to_str().unwrap(), "-q"], dir.path());
    let full_left: Vec<_> = std::fs::read_dir(&full).unwrap().map(|e| e.unwrap().file_name()).collect();
    unmount(&full);
    unmount(&ro);
    let err = String::from_utf8_lossy(&disk_full.stderr);
    assert_eq!(disk_full.status.code(), Some(2), "{err}");
    assert!(err.contains("No space left on device") && err.contains("full/"), "{err}");
    assert!(full_left.is_empty(), "a failed run left {full_left:?} behind");
    let err = String::from_utf8_lossy(&read_only.stderr);
    assert_eq!(read_only.status.code(), Some(2), "{err}");
    assert!(err.contains("Read-only file system") && err.contains("ro"), "{err}");
}

#[test]
fn ctrl_c_stops_a_run_at_an_event_boundary_with_a_partial_report() {
    let dir = tempfile::tempdir().unwrap();
    // A long run: 100 M views over 30 days.
    let text = std::fs::read_to_string(common::root().join("scenarios/seed-baseline.toml"))
        .unwrap()
        .replace("views_per_month = 1000000", "views_per_month = 100000000");
    let sc = dir.path().join("long.toml");
    std::fs::write(&sc, text).unwrap();
    let child = spawn_run_until_staged(dir.path(), &sc, "long");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = std::time::Instant::now();
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(took.as_millis() < 1_000, "took {took:?} to stop, partial report included: {err}");
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted at simulated time"), "{err}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("long/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["interrupted"], true);
    assert!(summary["duration_s"].as_f64().unwrap() < 30.0 * 86_400.0);
    let report = std::fs::read_to_string(dir.path().join("long/report.md")).unwrap();
    assert!(
        report.contains("**Interrupted** at simulated time ") && report.contains(" of the planned 30d"),
        "{report}"
    );
    // The report's figures are for the simulated part, not the planned 30 days.
    assert!(!report.contains("Simulated 30d") && !report.contains("bill for the simulated 30d"), "{report}");
    assert!(!staged(dir.path(), "long"), "the staging directory was renamed into place");
}

/// Starts `clipsim run SCENARIO --out OUT -q` in `dir`, stderr piped, and returns once its
/// staging directory is there: the simulation starts after it, the signal handler before it.
fn spawn_run_until_staged(dir: &Path, scenario: &Path, out: &str) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_clipsim"))
        .args(["run", scenario.to_str().unwrap(), "--out", out, "-q"])
        .current_dir(dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while !staged(dir, out) {
        assert!(t0.elapsed().as_secs() < 60, "the run never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

/// Whether `dir` holds the staging directory of the report `out`.
fn staged(dir: &Path, out: &str) -> bool {
    std::fs::read_dir(dir)
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().starts_with(&format!(".{out}.tmp-")))
}

/// Waits up to `secs` for `child` to exit; kills it and returns `None` when it does not.
fn wait_at_most(child: &mut std::process::Child, secs: u64) -> Option<std::process::ExitStatus> {
    let t0 = std::time::Instant::now();
    while t0.elapsed().as_secs() < secs {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Ctrl-C and SIGTERM stop a run made of events rather than views: a probe every 100 µs for 30
/// days (26 billion probes, hours of work) and 10 views. The loop used to check its stop flag
/// only every 65,536 arrivals, so such a run ignored the signal and ran to the end; now it also
/// checks every few thousand events.
#[test]
fn a_signal_stops_a_run_of_many_events_and_few_views_with_a_partial_report() {
    for signal in ["-INT", "-TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let sc = common::small_scenario(dir.path(), "[health]\nprobe_interval = \"100us\"\n");
        let text = std::fs::read_to_string(&sc).unwrap().replace("views_per_month = 30000", "views_per_month = 10");
        std::fs::write(&sc, text.replace("duration = \"3d\"", "duration = \"30d\"")).unwrap();
        let mut child = spawn_run_until_staged(dir.path(), &sc, "probes");
        // Well into the probes.
        std::thread::sleep(std::time::Duration::from_millis(1000));
        let sent = std::time::Instant::now();
        assert!(Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap().success());
        let status = wait_at_most(&mut child, 10);
        let took = sent.elapsed();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        let status = status.unwrap_or_else(|| panic!("{signal}: still running 10 s after the signal (killed)"));
        assert!(took.as_millis() < 1_000, "{signal}: took {took:?} to stop, partial report included: {err}");
        assert_eq!(status.code(), Some(130), "{signal}: {err}");
        assert!(err.contains("interrupted at simulated time"), "{signal}: {err}");
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("probes/summary.json")).unwrap()).unwrap();
        assert_eq!(summary["interrupted"], true, "{signal}");
        assert!(summary["duration_s"].as_f64().unwrap() < 30.0 * 86_400.0, "{signal}");
        assert!(!staged(dir.path(), "probes"), "{signal}: the staging directory was left behind");
    }
}

/// Runs clipsim with its standard output on `/dev/full`, where every write fails (ENOSPC).
fn clipsim_into_full_disk(args: &[&str], cwd: &Path) -> Output {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    Command::new(env!("CARGO_BIN_EXE_clipsim")).args(args).current_dir(cwd).stdout(full).output().expect("runs")
}

/// Runs clipsim with its standard output a pipe whose reader is closed before clipsim starts
/// (`clipsim ... | true`): every write fails with EPIPE.
fn clipsim_into_closed_pipe(args: &[&str], cwd: &Path) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_clipsim")).args(args).current_dir(cwd).stdout(writer).output().expect("runs")
}

/// A failed write to standard output (a full disk) is an error on standard error naming
/// standard output and the OS's reason, with exit status 2, in every command that prints
/// (`println!` used to panic: status 101).
#[test]
fn a_full_standard_output_is_a_clear_error_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let sc = common::small_scenario(dir.path(), "");
    let trace = common::data().join("traces/cloudPhysicsIO.oracleGeneral.bin");
    assert_eq!(clipsim(&["run", sc.to_str().unwrap(), "--out", "a", "-q"], dir.path()).status.code(), Some(0));
    let cases: [&[&str]; 4] = [
        &["validate", sc.to_str().unwrap()],
        &["run", sc.to_str().unwrap(), "--out", "b"],
        &["replay", trace.to_str().unwrap(), "--size", "10%"],
        &["compare", "a", "a"],
    ];
    for args in cases {
        let out = clipsim_into_full_disk(args, dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("error: writing to standard output: No space left on device"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// Standard output's reader gone (`clipsim compare A B | head -1`): the command ends quietly
/// with status 141 (128 + SIGPIPE, as a shell reports a command a closed pipe stopped), not
/// with a panic message (status 101).
#[test]
fn a_closed_standard_output_pipe_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let sc = common::small_scenario(dir.path(), "");
    let trace = common::data().join("traces/cloudPhysicsIO.oracleGeneral.bin");
    assert_eq!(clipsim(&["run", sc.to_str().unwrap(), "--out", "a", "-q"], dir.path()).status.code(), Some(0));
    let cases: [&[&str]; 3] = [
        &["compare", "a", "a"],
        &["validate", sc.to_str().unwrap()],
        &["replay", trace.to_str().unwrap(), "--size", "10%", "--json"],
    ];
    for args in cases {
        let out = clipsim_into_closed_pipe(args, dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: quiet, but said: {err}");
    }
}

/// A report directory that holds the scenario (or its `.env` file) is never replaced, even with
/// `--force`: replacing it would delete what the run read.
#[test]
fn a_run_never_replaces_a_directory_holding_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("work")).unwrap();
    let sc = common::small_scenario(&dir.path().join("work"), "");
    let text = std::fs::read_to_string(&sc).unwrap();
    std::fs::write(dir.path().join("prod.env"), "MIRROR_TTL_DAYS=2\n").unwrap();
    let cases: [&[&str]; 3] = [
        &["run", "work/small.toml", "--out", "work", "-q", "--force"],
        &["run", "work/small.toml", "--out", ".", "-q", "--force", "--env", "prod.env"],
        &["run", "work/small.toml", "--out", "work/../work", "-q", "--force"],
    ];
    for args in cases {
        let out = clipsim(args, dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("an input of this command"), "{args:?}: {err}");
        assert_eq!(std::fs::read_to_string(&sc).unwrap(), text, "{args:?}: the scenario was touched");
        assert!(dir.path().join("prod.env").exists());
    }
}

/// The bash completion script loads in a real bash and completes subcommands and flags.
#[test]
fn bash_completion_completes_subcommands_and_flags() {
    let root = common::root();
    let script = clipsim(&["completions", "bash"], &root);
    assert!(script.status.success(), "{}", String::from_utf8_lossy(&script.stderr));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clipsim.bash");
    std::fs::write(&path, &script.stdout).unwrap();
    // What bash offers after `clipsim sw` and after `clipsim sweep x --dr`.
    let complete = |words: &str, cword: usize| {
        let cmd = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; \
             _clipsim clipsim \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; echo \"${{COMPREPLY[@]}}\"",
            path.display()
        );
        let o = Command::new("bash").args(["--norc", "-c", &cmd]).output().expect("bash runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(complete("clipsim sw", 1), "sweep");
    assert_eq!(complete("clipsim sweep x --dr", 3), "--dry-run");
    let all = complete("clipsim ''", 1);
    for sub in ["run", "validate", "compare", "replay", "mrc", "trace", "sweep", "merge", "completions", "man"] {
        assert!(all.split(' ').any(|w| w == sub), "{sub} not offered: {all}");
    }
    for (shell, mark) in [("zsh", "#compdef clipsim"), ("fish", "complete -c clipsim")] {
        let o = clipsim(&["completions", shell], &root);
        assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains(mark), "{shell}");
    }
    let o = clipsim(&["completions", "tcsh"], &root);
    assert_eq!(o.status.code(), Some(2), "an unknown shell is a usage error");
}

/// Every man page (clipsim's and each subcommand's) is roff that groff formats without a warning,
/// with the subcommand's options and its example.
#[test]
#[cfg_attr(not(clipsim_has_groff), ignore = "needs groff on PATH (Debian: apt-get install groff; .ci/run installs it)")]
fn man_pages_format_without_warnings_and_show_the_examples() {
    let root = common::root();
    for (sub, wants) in [
        (None, &["clipsim - ", "SUBCOMMANDS", "clipsim-sweep(1)"][..]),
        (Some("run"), &["clipsim-run - Run a scenario", "--check", "clipsim run scenarios/region-outage.toml"][..]),
        (Some("sweep"), &["--dry-run", "clipsim sweep scenarios/sweeps/quick.toml"][..]),
        (Some("replay"), &["--oneline", "--size 0.01,0.1,0.3"][..]),
    ] {
        let mut args = vec!["man"];
        args.extend(sub);
        let page = clipsim(&args, &root);
        assert!(page.status.success(), "{}", String::from_utf8_lossy(&page.stderr));
        let mut groff = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-rLL=200n"])
            .env("GROFF_NO_SGR", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("groff runs");
        use std::io::Write;
        groff.stdin.take().unwrap().write_all(&page.stdout).unwrap();
        let o = groff.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success() && err.trim().is_empty(), "{sub:?}: groff warns: {err}");
        // groff's terminal output emboldens by overstriking; read it as plain text.
        let text: String = String::from_utf8_lossy(&o.stdout).replace("\u{2010}", "-");
        let plain = strip_overstrike(&text);
        for want in wants {
            assert!(plain.contains(want), "{sub:?}: {want:?} not in\n{plain}");
        }
    }
    let bad = clipsim(&["man", "rnu"], &root);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("man rnu: expected a subcommand: one of run, validate"));
}

/// `c\bc` (bold) and `_\bc` (underline) as `c`.
fn strip_overstrike(s: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    for c in s.chars() {
        if c == '\u{8}' {
            out.pop();
            continue;
        }
        out.push(c);
    }
    // After a backspace the next character replaces the one removed: `c\bc` → `c`.
    out.into_iter().collect()
}

/// Outside the checkout (as after `cargo install`), the shipped scenarios are built in: the
/// default run and `clipsim run NAME` give the summary the file gives, `init` writes the file's
/// text, and a missing name lists them.
#[test]
fn built_in_scenarios_run_anywhere_and_init_writes_one() {
    let root = common::root();
    let away = tempfile::tempdir().unwrap();
    let a = clipsim(&["run", "-q", "--out", "a"], away.path());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let b = clipsim(&["run", "region-outage.toml", "-q", "--out", "b"], away.path());
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    for (dir, file) in [("a", "seed-baseline"), ("b", "region-outage")] {
        let here = away.path().join(format!("{dir}-checkout"));
        let o = clipsim(&["run", &format!("scenarios/{file}.toml"), "-q", "--out", here.to_str().unwrap()], &root);
        assert!(o.status.success());
        let built_in = std::fs::read(away.path().join(dir).join("summary.json")).unwrap();
        assert_eq!(built_in, std::fs::read(here.join("summary.json")).unwrap(), "{file}");
        let md = std::fs::read_to_string(away.path().join(dir).join("report.md")).unwrap();
        assert!(md.contains(&format!("clipsim run {file} --seed")), "reproducible from anywhere");
    }
    let o = clipsim(&["init", "plan", "--from", "price-shift"], away.path());
    assert!(o.status.success());
    assert_eq!(
        std::fs::read(away.path().join("plan/scenario.toml")).unwrap(),
        std::fs::read(root.join("scenarios/price-shift.toml")).unwrap()
    );
    let again = clipsim(&["init", "plan"], away.path());
    assert_eq!(again.status.code(), Some(2), "an existing scenario.toml is not replaced without --force");
    assert!(clipsim(&["init", "plan", "--force"], away.path()).status.success());
    assert!(clipsim(&["validate", "plan/scenario.toml"], away.path()).status.success());
    let list = clipsim(&["init", "--list"], away.path());
    // A line per shipped scenario (the planner's example is not one).
    assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), common::shipped_scenarios().len() - 1);
    let missing = clipsim(&["validate", "seed-baselin"], away.path());
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("cannot read the file") && err.contains("built-in scenarios: seed-baseline, seed-no-cdn"),
        "{err}"
    );
}

/// Under a 2 GB address-space limit (`ulimit -v 2000000`), every scenario `validate` accepts
/// either runs, or `run` refuses it with exit 2 before allocating, naming what it needs: none
/// aborts. Scenarios: every shipped one, a catalog of 12 M clips (it fits), 100 M clips and ten
/// years of 10,000 uploads a day (they do not).
#[test]
fn under_a_memory_limit_a_run_fits_or_is_refused_never_aborted() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(common::root().join("scenarios/seed-baseline.toml")).unwrap();
    let variant = |name: &str, from: &str, to: &str| {
        assert!(base.contains(from), "{from}");
        let path = dir.path().join(format!("{name}.toml"));
        let short =
            base.replace("duration = \"30d\"", "duration = \"2h\"").replace("warmup = \"1d\"", "warmup = \"1h\"");
        std::fs::write(&path, short.replace(from, to)).unwrap();
        path
    };
    let mut cases: Vec<(std::path::PathBuf, bool)> =
        common::shipped_scenarios().into_iter().map(|p| (p, true)).collect();
    cases.push((variant("twelve-million", "clips = 100000 ", "clips = 12000000 "), true));
    cases.push((variant("hundred-million", "clips = 100000 ", "clips = 100000000 "), false));
    let uploads = dir.path().join("uploads.toml");
    std::fs::write(
        &uploads,
        base.replace("clips = 100000 ", "clips = 1000 ")
            .replace("uploads_per_day = 0", "uploads_per_day = 10000")
            .replace("duration = \"30d\"", "duration = \"3650d\""),
    )
    .unwrap();
    cases.push((uploads, false));
    let limited = |args: &str| {
        let cmd = format!("ulimit -v 2000000 && exec {} {args}", env!("CARGO_BIN_EXE_clipsim"));
        Command::new("bash").args(["-c", &cmd]).current_dir(dir.path()).output().expect("bash runs")
    };
    for (i, (path, fits)) in cases.iter().enumerate() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let out = format!("out{i}");
        let validate = limited(&format!("validate {}", path.display()));
        let run = limited(&format!("run {} --out {out} -q", path.display()));
        let err = String::from_utf8_lossy(&run.stderr);
        if *fits {
            assert_eq!(validate.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&validate.stderr));
            assert_eq!(run.status.code(), Some(0), "{name}: {err}");
        } else {
            for o in [&validate, &run] {
                let e = String::from_utf8_lossy(&o.stderr);
                assert_eq!(o.status.code(), Some(2), "{name}: {e}");
                assert!(
                    e.contains("this run needs up to") && e.contains("the address-space limit (ulimit -v), 2,048 MB"),
                    "{name}: {e}"
                );
            }
            assert!(!dir.path().join(&out).exists(), "{name}: nothing written");
            let trace = format!("{out}.csv");
            let generate = limited(&format!("trace generate {} --out {trace} -q", path.display()));
            let e = String::from_utf8_lossy(&generate.stderr);
            assert_eq!(generate.status.code(), Some(2), "{name}: trace generate: {e}");
            assert!(e.contains("this run needs up to"), "{name}: trace generate: {e}");
            assert!(!dir.path().join(&trace).exists(), "{name}: no trace written");
        }
    }
    // A sweep runs several points at once: the twelve-million-clip point fits alone, eight at
    // once do not, and the refusal says how many threads would fit (before any point runs).
    std::fs::write(
        dir.path().join("twelve.sweep.toml"),
        "[sweep]\nname = \"twelve\"\nbase = \"twelve-million.toml\"\nreplicas = 1\ndesign = \"grid\"\n\
         [[axes]]\nkey = \"mirror.replication_threshold\"\nvalues = [5, 50, 500, 5000, 6, 60, 600, 6000]\n",
    )
    .unwrap();
    let eight = limited("sweep twelve.sweep.toml --threads 8 --dry-run --out sw");
    let e = String::from_utf8_lossy(&eight.stderr);
    assert_eq!(eight.status.code(), Some(2), "{e}");
    assert!(e.contains("8 points at once need up to") && e.contains("--threads "), "{e}");
    // So do a run's replicas: eight at once are refused before any runs, naming replicas.
    let replicas = limited("run twelve-million.toml --replicas 8 --threads 8 --out rr -q");
    let e = String::from_utf8_lossy(&replicas.stderr);
    assert_eq!(replicas.status.code(), Some(2), "{e}");
    assert!(
        e.contains("8 replicas at once need up to") && e.contains("(each, up to") && e.contains("--threads "),
        "{e}"
    );
    assert!(!dir.path().join("rr").exists(), "replicas refused: nothing written");
    let one = limited("sweep twelve.sweep.toml --threads 1 --dry-run --out sw");
    assert_eq!(one.status.code(), Some(0), "{}", String::from_utf8_lossy(&one.stderr));
    assert!(!dir.path().join("sw").exists(), "a dry run writes nothing");
}

/// `clipsim sensitivity` writes its analysis (Markdown, JSON, a tornado chart per target, the
/// global variant's rows); a run of the same scenario finds it beside its report and lists what
/// could turn each verdict; after the scenario changes, the report says the analysis is of
/// another version; a bad assumptions file is a located error with status 2.
#[test]
fn sensitivity_writes_its_analysis_and_the_run_report_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    common::small_scenario(dir.path(), "");
    let a = dir.path().join("a.toml");
    std::fs::write(
        &a,
        "[[assumptions]]\nname = \"viewer throughput\"\nkey = \"network.viewer_mbps\"\nlow = 2.0\nhigh = 50.0\n\
         log = true\ndefault = 25.0\nsource = \"a test range\"\nmeasure = \"player throughput\"\n",
    )
    .unwrap();
    let args = ["sensitivity", "small.toml", "--assumptions", "a.toml", "--replicas", "2", "--bisect-steps", "3"];
    let o = clipsim(&[&args[..], &["--worlds", "4", "--out", "reports/sensitivity/small"]].concat(), dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("p50_load_ms") && stdout.contains("turned by viewer throughput at about"), "{stdout}");
    let out = dir.path().join("reports/sensitivity/small");
    for f in ["sensitivity.md", "sensitivity.json", "global.csv", "tornado-p50_load_ms.svg", "tornado-cost_per_gb.svg"]
    {
        assert!(out.join(f).exists(), "{f}");
    }
    let md = std::fs::read_to_string(out.join("sensitivity.md")).unwrap();
    assert!(md.contains("| viewer throughput (`network.viewer_mbps`) | about "), "{md}");
    assert_eq!(std::fs::read_to_string(out.join("global.csv")).unwrap().lines().count(), 5);
    // The run's default report directory is reports/small/: the analysis is beside it.
    let o = clipsim(&["run", "small.toml", "-q"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let report = std::fs::read_to_string(dir.path().join("reports/small/report.md")).unwrap();
    assert!(
        report.contains("From the sensitivity analysis in `reports/sensitivity/small/sensitivity.json`"),
        "{report}"
    );
    assert!(report.contains("| `p50_load_ms` | viewer throughput (`network.viewer_mbps`) | "), "{report}");
    assert!(report.contains("player throughput"), "what to measure: {report}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("reports/small/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["sensitivity"]["current"], true);
    // Another version of the scenario: the analysis is named but not used.
    common::small_scenario(dir.path(), "[network]\nviewer_mbps = 20.0\n");
    let o = clipsim(&["run", "small.toml", "-q", "--force"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let report = std::fs::read_to_string(dir.path().join("reports/small/report.md")).unwrap();
    assert!(report.contains("is of another version of this scenario's file"), "{report}");
    // Without one: how to run it.
    let o = clipsim(&["run", "small.toml", "-q", "--out", "elsewhere/r"], dir.path());
    assert_eq!(o.status.code(), Some(0));
    let report = std::fs::read_to_string(dir.path().join("elsewhere/r/report.md")).unwrap();
    assert!(report.contains("No sensitivity analysis of this scenario was found"), "{report}");
    // A bad file: where and what.
    std::fs::write(&a, "[[assumptions]]\nname = \"x\"\nkey = \"network.viewer_mbps\"\nlow = 5\nhigh = 2\nsource = \"s\"\nmeasure = \"m\"\n").unwrap();
    let o = clipsim(&args, dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("a.toml:5:8: `assumptions[0].high` = 2: a number above `low` (5)"), "{err}");
}
