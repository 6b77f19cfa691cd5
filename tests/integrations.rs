//! clipsim in the stack a platform team runs, each against the real component started here from
//! Debian's packages (docs/integrations.md): the OpenMetrics export backfilled by `promtool` and
//! queried in a `prometheus` on localhost, the seed's tables loaded into a throwaway PostgreSQL,
//! the sharded sweep run as a Slurm job array on a one-node cluster, the Kubernetes manifests
//! checked against the Job API's schema, and the Grafana dashboard's queries against the export.
//!
//! A test whose component is not installed is skipped with the reason printed, unless
//! `CLIPSIM_REQUIRE_INTEGRATIONS` is set (`.ci/run` sets it after installing them): then it fails.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn clipsim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clipsim")).args(args).current_dir(cwd).output().expect("runs")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn script(name: &str) -> PathBuf {
    common::root().join("deploy/ci").join(name)
}

/// Whether `program` is installed; when it is not, says so (and fails if integrations are required).
fn installed(program: &str, package: &str) -> bool {
    let found =
        Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success())
            || Path::new(program).exists();
    if !found {
        assert!(
            std::env::var_os("CLIPSIM_REQUIRE_INTEGRATIONS").is_none(),
            "{program} is not installed (Debian package {package}) and CLIPSIM_REQUIRE_INTEGRATIONS is set"
        );
        eprintln!("skipped: {program} is not installed (apt-get install {package})");
    }
    found
}

fn summary(report: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(report.join("summary.json")).expect("summary.json")).expect("JSON")
}

/// A run of the small scenario (2,000 clips, 3 days, warm-up 1 day) in `dir/r`, with `args`.
fn small_run(dir: &Path, args: &[&str]) -> (PathBuf, Value) {
    let sc = common::small_scenario(dir, "");
    let mut all = vec!["run", sc.to_str().unwrap(), "--out", "r", "--quiet"];
    all.extend_from_slice(args);
    ok(&clipsim(&all, dir), "clipsim run");
    let report = dir.join("r");
    let s = summary(&report);
    (report, s)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-12)
}

/// Stops a background server when the test ends, however it ends.
struct Stop(Vec<String>);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = Command::new("bash").args(&self.0).output();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("bound").port()
}

/// The export, backfilled by promtool into a Prometheus on localhost: PromQL over the simulated
/// series gives summary.json's totals, hit ratio and cost, and timeseries.csv's last hour.
#[test]
fn openmetrics_backfilled_by_promtool_answers_promql_like_the_summary() {
    if !installed("promtool", "prometheus") || !installed("prometheus", "prometheus") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (report, s) = small_run(dir.path(), &["--metrics", "metrics.om"]);
    let tsdb = dir.path().join("tsdb");
    let sh = script("prometheus-check.sh");
    let (sh, tsdb_s) = (sh.to_str().unwrap(), tsdb.to_str().unwrap());
    let om = dir.path().join("metrics.om");
    ok(
        &Command::new("bash").args([sh, "backfill", om.to_str().unwrap(), tsdb_s]).output().unwrap(),
        "promtool tsdb create-blocks-from openmetrics",
    );
    let port = free_port().to_string();
    let _stop = Stop(vec![sh.to_string(), "stop".into(), tsdb_s.to_string()]);
    ok(&Command::new("bash").args([sh, "start", tsdb_s, &port]).output().unwrap(), "prometheus");

    let start = 1_767_225_600u64; // 2026-01-01, the scenario's default start
    let end = start + s["duration_s"].as_f64().unwrap() as u64;
    let measured = (s["duration_s"].as_f64().unwrap() - s["warmup_s"].as_f64().unwrap()) as u64;
    let value = |q: &str| -> f64 {
        let out = Command::new("bash").args([sh, "value", &port, q, &end.to_string()]).output().unwrap();
        let v = ok(&out, q).trim().parse().unwrap_or_else(|e| panic!("{q}: {e}"));
        eprintln!("promql @{end}: {q} = {v}");
        v
    };
    // Over the measured period: the value at the end less the value at the warm-up's end.
    let measured_of = |series: &str| format!("(sum({series}) - sum({series} offset {measured}s))");

    let simulated = s["requests"]["simulated"].as_f64().unwrap();
    assert_eq!(value("sum(clip_requests_total)"), simulated, "every request of the run");
    let total = s["requests"]["total"].as_f64().unwrap();
    assert_eq!(value(&measured_of("clip_requests_total")), total, "the measured requests");
    let edge = s["served_from"]["edge"].as_f64().unwrap();
    assert_eq!(value(&measured_of("clip_requests_total{outcome=\"edge\"}")), edge);
    let hit = value(&format!(
        "{} / {}",
        measured_of("clip_requests_total{outcome=\"edge\"}"),
        measured_of("cdn_requests_total")
    ));
    let want = s["hit_rates"]["cdn_cache"].as_f64().unwrap();
    assert!(close(hit, want, 1e-12), "edge hit ratio {hit} vs summary {want}");
    let cost = value("sum(cost_dollars_total)");
    let want = s["cost_usd"]["total"].as_f64().unwrap();
    assert!(close(cost, want, 1e-12), "cost {cost} vs summary {want}");
    let bytes = value(&measured_of("clip_delivered_bytes_total"));
    assert_eq!(bytes, s["bytes_served"].as_f64().unwrap(), "bytes delivered");

    // rate() over the last hour: the last row of timeseries.csv, per second.
    let csv = std::fs::read_to_string(report.join("timeseries.csv")).unwrap();
    let last: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
    let last_hour: f64 = last[1].parse().unwrap();
    let r = value("sum(rate(clip_requests_total[1h]))");
    assert!(close(r, last_hour / 3600.0, 1e-9), "rate over the last hour {r} vs {last_hour} requests");
}

/// Runs `psql` with the throwaway server's environment.
fn psql(env: &[(String, String)], cwd: &Path, args: &[&str]) -> String {
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"])
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(cwd)
        .output()
        .expect("psql runs");
    ok(&out, &format!("psql {args:?}"))
}

/// The seed's tables: `schema.sql` loads into PostgreSQL, each report's `tables/*.csv` into it
/// with `\copy`, and aggregates over the rows give summary.json's figures.
#[test]
fn tables_load_into_postgresql_and_add_up_to_the_summary() {
    if !installed("psql", "postgresql-client") || !installed("/usr/lib/postgresql", "postgresql") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (report, s) = small_run(dir.path(), &[]);
    let pg = dir.path().join("pg");
    let sh = script("postgres-throwaway.sh");
    let (sh, pg_s) = (sh.to_str().unwrap(), pg.to_str().unwrap());
    let _stop = Stop(vec![sh.to_string(), "stop".into(), pg_s.to_string()]);
    let line = ok(&Command::new("bash").args([sh, "start", pg_s]).output().unwrap(), "PostgreSQL");
    // `export PGHOST=... PGPORT=...`
    let env: Vec<(String, String)> = line
        .trim()
        .trim_start_matches("export ")
        .split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("NAME=value");
            (k.to_string(), v.to_string())
        })
        .collect();
    let schema = common::root().join("deploy/postgres/schema.sql");
    psql(&env, &report, &["-f", schema.to_str().unwrap()]);
    // cdn_metrics refers to cdn_configurations: load in the schema's order.
    for table in clipsim_sim::report::tables::TABLES {
        psql(
            &env,
            &report,
            &["-c", &format!("\\copy {table} from 'tables/{table}.csv' with (format csv, header true)")],
        );
    }
    let q = |sql: &str| -> String {
        let out = psql(&env, &report, &["-c", sql]).trim().to_string();
        eprintln!("psql: {sql} -> {out}");
        out
    };
    let n = |key: &[&str]| -> String {
        key.iter().fold(&s, |v, k| &v[k]).as_u64().unwrap_or_else(|| panic!("{key:?} in summary.json")).to_string()
    };

    let rows = std::fs::read_to_string(report.join("timeseries.csv")).unwrap().lines().count() - 1;
    assert_eq!(q("select count(*) from mirror_metrics"), rows.to_string(), "a row per report interval");
    assert_eq!(q("select sum(requests) from mirror_metrics"), n(&["requests", "simulated"]));
    assert_eq!(q("select sum(requests) from mirror_metrics where not in_warmup"), n(&["requests", "total"]));
    assert_eq!(q("select sum(failovers) from mirror_metrics where not in_warmup"), n(&["failovers"]));
    let mirror_served =
        s["served_from"]["local_mirror"].as_u64().unwrap() + s["served_from"]["remote_mirror"].as_u64().unwrap();
    assert_eq!(q("select sum(mirror_served) from mirror_metrics where not in_warmup"), mirror_served.to_string());
    assert_eq!(q("select sum(total_cost_nanodollars) from mirror_metrics"), n(&["cost_nanodollars", "total"]));
    assert_eq!(q("select sum(storage_cost_nanodollars) from mirror_metrics"), n(&["cost_nanodollars", "storage"]));
    assert_eq!(q("select sum(cache_hits) from cdn_metrics where not in_warmup"), n(&["served_from", "edge"]));
    let hit: f64 =
        q("select sum(cache_hits)::float8 / sum(requests) from cdn_metrics where not in_warmup").parse().unwrap();
    let want = s["hit_rates"]["cdn_cache"].as_f64().unwrap();
    assert!(close(hit, want, 1e-12), "edge hit ratio {hit} vs {want}");
    assert_eq!(q("select count(*) from clip_mirrors where status = 'active'"), n(&["mirrors", "active_at_end"]));
    let awaiting = s["mirrors"]["expired"].as_u64().unwrap() - s["mirrors"]["deleted"].as_u64().unwrap();
    assert_eq!(q("select count(*) from clip_mirrors where status = 'expired'"), awaiting.to_string());
    assert_eq!(q("select provider || ' ' || cache_ttl_seconds from cdn_configurations"), "cloudflare 3600");
    // A production row sits beside the simulated ones (the schema's default source).
    q("insert into cdn_configurations (provider, enabled, priority, cache_ttl_seconds, eviction, revalidate, \
       shield, edge_rtt_ms, max_cost_per_gb_nanodollars) values ('cloudflare', true, 1, 3600, 'lru', true, false, 20, \
       100000000)");
    assert_eq!(q("select string_agg(source, ',' order by source) from cdn_configurations"), {
        let mut v =
            [format!("clipsim:{}:seed={}", s["scenario"]["name"].as_str().unwrap(), s["seed"]), "production".into()];
        v.sort();
        v.join(",")
    });
}

/// The Kubernetes manifests against the Job API's JSON Schema (kubernetes-validate, strict), and
/// their shard arguments against each other and the Slurm script's.
#[test]
fn kubernetes_manifests_are_valid_jobs_with_matching_shards() {
    let deploy = common::root().join("deploy");
    let indexed = std::fs::read_to_string(deploy.join("k8s-indexed-job.yaml")).unwrap();
    let merge = std::fs::read_to_string(deploy.join("k8s-merge-job.yaml")).unwrap();
    let field = |text: &str, key: &str| -> u32 {
        let line = text.lines().find(|l| l.trim_start().starts_with(&format!("{key}:"))).expect(key);
        line.split(':').nth(1).unwrap().split('#').next().unwrap().trim().parse().expect("a number")
    };
    let (completions, parallelism) = (field(&indexed, "completions"), field(&indexed, "parallelism"));
    assert_eq!(completions, parallelism, "one pod per shard");
    assert!(indexed.contains(&format!("--shard ${{JOB_COMPLETION_INDEX}}/{completions}")), "--shard I/{completions}");
    let sweep = "scenarios/sweeps/seed-thresholds.toml";
    assert!(common::root().join(sweep).exists());
    assert!(indexed.contains(sweep) && merge.contains("/results/seed-thresholds/shard-"));
    let slurm = std::fs::read_to_string(deploy.join("slurm-array.sh")).unwrap();
    assert!(slurm.contains(&format!("--array=0-{}", completions - 1)), "Slurm runs as many shards as the Job");
    assert!(slurm.contains(&format!("sweep=${{SWEEP:-{sweep}}}")));

    // kubernetes-validate comes from PyPI into a cached venv (the first run needs the registry).
    let venv = Command::new("python3").args(["-m", "venv", "--help"]).output().is_ok_and(|o| o.status.success());
    if !installed("python3", "python3") || !venv {
        assert!(std::env::var_os("CLIPSIM_REQUIRE_INTEGRATIONS").is_none(), "python3 -m venv is not available");
        eprintln!("skipped: python3 -m venv is not available (apt-get install python3-venv)");
        return;
    }
    let sh = script("k8s-validate.sh");
    let files = [deploy.join("k8s-indexed-job.yaml"), deploy.join("k8s-merge-job.yaml")];
    let out = Command::new("bash").arg(&sh).args(&files).output().unwrap();
    let text = ok(&out, "k8s-validate.sh");
    eprint!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.matches("passed for resource").count(), 3, "{text}");
    // A planted error is caught.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, indexed.replace("parallelism: 8", "paralelism: 8")).unwrap();
    let out = Command::new("bash").arg(&sh).arg(&bad).output().unwrap();
    assert!(!out.status.success(), "a misspelt field passes: {}", String::from_utf8_lossy(&out.stdout));
}

/// The names of the series a PromQL expression reads (functions, keywords, label names and
/// strings left out).
fn series_in(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let b: Vec<char> = expr.chars().collect();
    let (mut i, mut skip_parens) = (0, false);
    while i < b.len() {
        let c = b[i];
        if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '{' || c == '[' {
            let close = if c == '{' { '}' } else { ']' };
            while i < b.len() && b[i] != close {
                i += 1;
            }
            i += 1;
        } else if c.is_ascii_digit() {
            // A number or a duration: 1e9, 0.5, 1d.
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '_' || b[i] == ':') {
                i += 1;
            }
            let word: String = b[start..i].iter().collect();
            let next = b[i..].iter().find(|c| !c.is_whitespace());
            let aggregation = matches!(
                word.as_str(),
                "sum"
                    | "min"
                    | "max"
                    | "avg"
                    | "count"
                    | "group"
                    | "stddev"
                    | "stdvar"
                    | "topk"
                    | "bottomk"
                    | "quantile"
            );
            if matches!(word.as_str(), "by" | "without" | "on" | "ignoring" | "group_left" | "group_right") {
                skip_parens = true;
            } else if !(aggregation
                || matches!(word.as_str(), "offset" | "bool" | "and" | "or" | "unless")
                || next == Some(&'('))
            {
                names.push(word);
            }
        } else if c == '(' && skip_parens {
            while i < b.len() && b[i] != ')' {
                i += 1;
            }
            skip_parens = false;
            i += 1;
        } else {
            i += 1;
        }
    }
    names
}

/// The Grafana dashboard parses, reads only series the export writes, and draws the seed's four
/// targets (as the baseline scenario states them) as thresholds.
#[test]
fn grafana_dashboard_reads_only_exported_series_and_shows_the_targets() {
    use clipsim_sim::report::openmetrics::{Kind, FAMILIES};
    let path = common::root().join("deploy/grafana/clipsim-dashboard.json");
    let dash: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).expect("the dashboard is JSON");
    let dir = tempfile::tempdir().unwrap();
    ok(
        &clipsim(
            &[
                "run",
                common::small_scenario(dir.path(), "").to_str().unwrap(),
                "--out",
                "r",
                "--quiet",
                "--metrics",
                "m.om",
            ],
            dir.path(),
        ),
        "run",
    );
    let om = std::fs::read_to_string(dir.path().join("m.om")).unwrap();
    let exported: Vec<String> = FAMILIES
        .iter()
        .map(|f| if f.kind == Kind::Counter { format!("{}_total", f.name) } else { f.name.to_string() })
        .collect();
    let panels = dash["panels"].as_array().expect("panels");
    let mut read = Vec::new();
    for p in panels {
        for t in p["targets"].as_array().expect("targets") {
            let expr = t["expr"].as_str().expect("expr");
            for name in series_in(expr) {
                assert!(exported.contains(&name), "panel {:?} reads {name}, which clipsim does not export", p["title"]);
                assert!(om.lines().any(|l| l.starts_with(&format!("{name}{{"))), "{name} has no sample in the export");
                read.push(name);
            }
        }
    }
    assert!(read.len() >= 10, "the dashboard reads {read:?}");
    // The four targets as thresholds, from the shipped baseline scenario.
    let sc =
        clipsim_sim::scenario::load(&common::root().join("scenarios/seed-baseline.toml"), &Default::default()).unwrap();
    let t = &sc.targets;
    let want = [
        ("P50", t.p50_load_ms.unwrap() / 1000.0),
        ("Availability", t.availability.unwrap()),
        ("Cost per GB", t.cost_per_gb_nanos.unwrap() as f64 / 1e9),
        ("Top-100", t.top100_mirror_hit_rate.unwrap()),
    ];
    for (title, value) in want {
        let p = panels.iter().find(|p| p["title"].as_str().unwrap().starts_with(title)).expect(title);
        let steps = p["fieldConfig"]["defaults"]["thresholds"]["steps"].as_array().unwrap();
        assert!(steps.iter().any(|s| s["value"].as_f64() == Some(value)), "{title}: no threshold at {value}");
    }
}

#[test]
fn series_in_finds_the_series_of_an_expression() {
    let e = "sum by (outcome) (rate(clip_requests_total{scenario=\"$s\",outcome=\"edge\"}[1h])) / \
             sum(cdn_requests_total offset 1d) - last_over_time(x_y[4d]) and on (region) up";
    assert_eq!(series_in(e), ["clip_requests_total", "cdn_requests_total", "x_y", "up"]);
}

/// Every file under `dir`, by relative path, sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// deploy/slurm-array.sh as it stands, submitted as a job array to a one-node Slurm cluster
/// (munge, slurmctld, slurmd on localhost), then the README's dependent merge job: the merged
/// sweep is byte-identical to the unsharded one.
#[test]
fn the_slurm_array_job_merges_to_the_unsharded_sweep() {
    for (program, package) in [("sbatch", "slurm-client"), ("slurmctld", "slurmctld"), ("slurmd", "slurmd")] {
        if !installed(program, package) {
            return;
        }
    }
    if !installed("munged", "munge") {
        return;
    }
    // The daemons run as root (slurm-cluster.sh refuses otherwise).
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root {
        assert!(std::env::var_os("CLIPSIM_REQUIRE_INTEGRATIONS").is_none(), "the Slurm cluster needs root");
        eprintln!("skipped: the one-node Slurm cluster needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("slurm");
    let sh = script("slurm-cluster.sh");
    let _stop = Stop(vec![sh.to_str().unwrap().to_string(), "stop".into(), cluster.to_str().unwrap().to_string()]);
    let line = ok(&Command::new("bash").arg(&sh).arg("start").arg(&cluster).output().unwrap(), "Slurm");
    let conf = line.trim().strip_prefix("export SLURM_CONF=").expect("export SLURM_CONF=...").to_string();
    let work = dir.path().join("work");
    std::fs::create_dir_all(work.join("logs")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_clipsim")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let sweep = common::root().join("scenarios/sweeps/quick.toml");
    let sbatch = |args: &[&str]| -> String {
        let out = Command::new("sbatch")
            .args(args)
            .current_dir(&work)
            .env("SLURM_CONF", &conf)
            .env("PATH", &path)
            .env("SWEEP", &sweep)
            .env("OUT", "results/quick")
            .output()
            .unwrap();
        let id = ok(&out, &format!("sbatch {args:?}")).trim().to_string();
        eprintln!("sbatch {args:?} -> job {id}");
        id
    };
    let array = common::root().join("deploy/slurm-array.sh");
    // Four shards of the quick sweep's four points (the script's default is 8 tasks).
    let job = sbatch(&["--parsable", "--wait", "--array=0-3", array.to_str().unwrap()]);
    let merge = sbatch(&[
        "--parsable",
        "--wait",
        &format!("--dependency=afterok:{job}"),
        "--output=logs/merge-%j.out",
        "--wrap",
        "clipsim merge results/quick/shard-* --out results/quick/merged",
    ]);
    for id in [&job, &merge] {
        let state = Command::new("scontrol").args(["show", "job", id]).env("SLURM_CONF", &conf).output().unwrap();
        let state = ok(&state, "scontrol show job");
        assert!(state.contains("JobState=COMPLETED"), "job {id}: {state}");
        eprintln!("job {id}: JobState=COMPLETED");
    }
    for i in 0..4 {
        assert!(work.join(format!("results/quick/shard-{i}/points")).is_dir(), "shard {i} ran");
    }
    let full = dir.path().join("full");
    ok(&clipsim(&["sweep", sweep.to_str().unwrap(), "--out", full.to_str().unwrap(), "-q"], &work), "unsharded sweep");
    let (merged, whole) = (tree(&work.join("results/quick/merged")), tree(&full));
    assert_eq!(merged.iter().map(|f| &f.0).collect::<Vec<_>>(), whole.iter().map(|f| &f.0).collect::<Vec<_>>());
    for ((name, a), (_, b)) in merged.iter().zip(&whole) {
        assert!(a == b, "{name} differs between the Slurm-merged and the unsharded sweep");
    }
    assert!(merged.len() >= 5, "{:?}", merged.iter().map(|f| &f.0).collect::<Vec<_>>());
    eprintln!("the Slurm-merged sweep and the unsharded one: {} files, byte-identical", merged.len());
}
