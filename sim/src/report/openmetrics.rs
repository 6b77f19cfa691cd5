//! `clipsim run --metrics FILE`: the seed's metrics over simulated time in the OpenMetrics text
//! format, as `promtool tsdb create-blocks-from openmetrics` backfills them into Prometheus.
//!
//! One sample per report interval, at the interval's end, timestamped in Unix seconds from the
//! scenario's `start` date. Every series carries `scenario="NAME"`, so that simulated series sit
//! beside a production service's without colliding. Names follow the seed's metrics in base units
//! (`mirror_bandwidth_gb` becomes `mirror_bandwidth_bytes_total`, `region_latency_ms`
//! `region_latency_seconds`); counters count from the start of the run, warm-up included, so the
//! value at the end equals the run's `requests.simulated` and `cost_usd.total` (with a steady-state
//! pre-run, the cost counters include the pre-run's months, which `cost_usd` leaves out), and a
//! difference from the warm-up's end equals the measured totals (when the warm-up is a whole
//! number of report intervals: there is a sample at its end). Families are written one after another,
//! each series' samples together and in time order, then `# EOF`. The families are listed in
//! [`FAMILIES`] (the Grafana dashboard in `deploy/grafana/` uses only these).

use super::timeseries::usd;
use crate::world::RunResult;
use clipsim_engine::{ServedFrom, SimTime};
use std::fmt::Write;

/// What a family is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only grows; its samples are named `NAME_total`.
    Counter,
    /// A value at a time.
    Gauge,
}

/// A metric family: name, type, unit (empty for none) and help.
#[derive(Clone, Copy, Debug)]
pub struct Family {
    /// The family's name (a counter's samples add `_total`).
    pub name: &'static str,
    /// Counter or gauge.
    pub kind: Kind,
    /// The unit, which the name ends with, or "".
    pub unit: &'static str,
    /// The `# HELP` text.
    pub help: &'static str,
}

const fn family(name: &'static str, kind: Kind, unit: &'static str, help: &'static str) -> Family {
    Family { name, kind, unit, help }
}

/// Every family the export writes, in order.
pub const FAMILIES: [Family; 18] = [
    family("clip_requests", Kind::Counter, "", "Requests by where they were served from (failed: not served)."),
    family("clip_delivered_bytes", Kind::Counter, "bytes", "Bytes delivered to viewers by where they came from."),
    family(
        "cdn_requests",
        Kind::Counter,
        "",
        "Requests that reached the CDN edge, hit or miss (the seed's cdn_requests_total).",
    ),
    family("cdn_revalidations", Kind::Counter, "", "Edge requests whose expired copy was revalidated with an origin."),
    family(
        "mirror_failover",
        Kind::Counter,
        "",
        "Failed attempts that moved on to another source (the seed's mirror_failover_total).",
    ),
    family(
        "mirror_bandwidth_bytes",
        Kind::Counter,
        "bytes",
        "Bytes served from mirrors (the seed's mirror_bandwidth_gb).",
    ),
    family("cost_dollars", Kind::Counter, "dollars", "Cost so far by category, US dollars (exact to the nanodollar)."),
    family(
        "cdn_cost_dollars",
        Kind::Counter,
        "dollars",
        "CDN fees so far: delivery, requests and any flat plan fee (the seed's cdn_cost_total).",
    ),
    family("clip_load_p50_seconds", Kind::Gauge, "seconds", "Median load time of the interval's served requests."),
    family(
        "clip_load_p95_seconds",
        Kind::Gauge,
        "seconds",
        "95th percentile load time of the interval's served requests.",
    ),
    family("total_active_mirrors", Kind::Gauge, "", "Mirrors serving at the interval's end."),
    family("pending_mirrors", Kind::Gauge, "", "Mirrors being copied at the interval's end."),
    family(
        "region_health_status",
        Kind::Gauge,
        "",
        "Believed health per region: 1 healthy, 0.5 degraded, 0 unhealthy.",
    ),
    family(
        "region_latency_seconds",
        Kind::Gauge,
        "seconds",
        "Smoothed probe latency per region (the seed's region_latency_ms).",
    ),
    family("pg_replication_lag_seconds", Kind::Gauge, "seconds", "Database replication lag per region, as reported."),
    family("cdn_latency_seconds", Kind::Gauge, "seconds", "Smoothed CDN probe latency (the seed's cdn_latency_avg)."),
    family(
        "outage_active",
        Kind::Gauge,
        "",
        "1 when a scenario outage overlapped the interval (ground truth), else 0.",
    ),
    family(
        "mirror_top100_hit_ratio",
        Kind::Gauge,
        "ratio",
        "Mirror hit rate of the 100 most viewed clips over the measured period (one sample, at the end).",
    ),
];

/// The label value of each cost category, in `Row::cost_to_date` order.
pub const COST_CATEGORIES: [&str; 5] = ["storage", "cdn_egress", "origin_egress", "inter_region", "requests"];

/// `s` as an OpenMetrics label value (backslash, double quote and newline escaped).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Unix seconds of a simulated instant: whole, or with microseconds when it has them.
fn timestamp(start_unix_s: u64, t: SimTime) -> String {
    let us = t.as_micros();
    let s = start_unix_s + us / 1_000_000;
    match us % 1_000_000 {
        0 => s.to_string(),
        frac => format!("{s}.{frac:06}"),
    }
}

fn seconds(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

/// One series: its labels after `scenario`, and its value at each row (`None`: no sample).
type Series = (String, Vec<Option<String>>);

/// The series of family `f`.
fn series(r: &RunResult, f: &Family) -> Vec<Series> {
    let rows = &r.recorder.rows;
    let regions: Vec<&str> = r.scenario.engine.regions.iter().map(|x| x.name.as_str()).collect();
    let cumulative = |value: &dyn Fn(&crate::record::Row) -> u64| -> Vec<Option<String>> {
        let mut sum = 0u64;
        rows.iter()
            .map(|row| {
                sum += value(row);
                Some(sum.to_string())
            })
            .collect()
    };
    let unlabelled = |values: Vec<Option<String>>| vec![(String::new(), values)];
    let per_region = |value: &dyn Fn(&crate::record::Row, usize) -> Option<String>| -> Vec<Series> {
        (0..regions.len())
            .map(|i| (format!(",region=\"{}\"", escape(regions[i])), rows.iter().map(|row| value(row, i)).collect()))
            .collect()
    };
    let percentile = |k: usize| unlabelled(rows.iter().map(|row| row.latency_us.map(|l| seconds(l[k]))).collect());
    match f.name {
        "clip_requests" | "clip_delivered_bytes" => ServedFrom::ALL
            .iter()
            .map(|&from| {
                let (bytes, i) = (f.name == "clip_delivered_bytes", from as usize);
                let values =
                    cumulative(&|row| if bytes { row.counts.bytes_from[i] } else { row.counts.served_from[i] });
                (format!(",outcome=\"{}\"", from.name()), values)
            })
            .collect(),
        "cdn_requests" => unlabelled(cumulative(&|row| row.counts.cdn_lookups)),
        "cdn_revalidations" => unlabelled(cumulative(&|row| row.counts.revalidations)),
        "mirror_failover" => unlabelled(cumulative(&|row| row.counts.failovers)),
        "mirror_bandwidth_bytes" => unlabelled(cumulative(&|row| row.counts.mirror_bytes())),
        "cost_dollars" => COST_CATEGORIES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                (format!(",category=\"{name}\""), rows.iter().map(|row| Some(usd(row.cost_to_date[i]))).collect())
            })
            .collect(),
        "cdn_cost_dollars" => unlabelled(rows.iter().map(|row| Some(usd(row.cdn_cost_to_date))).collect()),
        "clip_load_p50_seconds" => percentile(0),
        "clip_load_p95_seconds" => percentile(1),
        "total_active_mirrors" => unlabelled(rows.iter().map(|row| Some(row.active_mirrors.to_string())).collect()),
        "pending_mirrors" => unlabelled(rows.iter().map(|row| Some(row.pending_mirrors.to_string())).collect()),
        "region_health_status" => {
            per_region(&|row, i| Some(format!("{}", f64::from(row.region_health[i].status_gauge_x2()) / 2.0)))
        }
        "region_latency_seconds" => per_region(&|row, i| row.region_latency_us[i].map(seconds)),
        "pg_replication_lag_seconds" => per_region(&|row, i| row.region_lag_us[i].map(seconds)),
        "cdn_latency_seconds" => unlabelled(rows.iter().map(|row| row.cdn_latency_us.map(seconds)).collect()),
        "outage_active" => unlabelled(rows.iter().map(|row| Some(u8::from(row.outage_active).to_string())).collect()),
        "mirror_top100_hit_ratio" => {
            let mut values = vec![None; rows.len()];
            if let Some(last) = values.last_mut() {
                *last = r.recorder.top100_mirror_hit_rate().map(|x| format!("{x}"));
            }
            unlabelled(values)
        }
        other => unreachable!("FAMILIES lists {other} without its series"),
    }
}

/// The OpenMetrics text of a run.
pub fn openmetrics(r: &RunResult) -> String {
    let start = r.scenario.start_unix_s;
    let scenario = escape(&r.scenario.name);
    let times: Vec<String> = r.recorder.rows.iter().map(|row| timestamp(start, row.end)).collect();
    let mut out = String::new();
    for f in &FAMILIES {
        let kind = match f.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let sample = match f.kind {
            Kind::Counter => format!("{}_total", f.name),
            Kind::Gauge => f.name.to_string(),
        };
        let _ = writeln!(out, "# TYPE {} {kind}", f.name);
        if !f.unit.is_empty() {
            let _ = writeln!(out, "# UNIT {} {}", f.name, f.unit);
        }
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        for (labels, values) in series(r, f) {
            for (value, time) in values.iter().zip(&times) {
                if let Some(v) = value {
                    let _ = writeln!(out, "{sample}{{scenario=\"{scenario}\"{labels}}} {v} {time}");
                }
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (series, value, timestamp) of every sample line.
    fn samples(text: &str) -> Vec<(&str, f64, f64)> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let mut parts = l.rsplitn(3, ' ');
                let (t, v, series) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
                (series, v.parse().unwrap(), t.parse().unwrap())
            })
            .collect()
    }

    /// What promtool's parser requires (units as name suffixes, `# EOF` last), what the
    /// backfill needs (each series' samples together and in time order), counters that never
    /// fall, and last values equal to the summary's totals.
    #[test]
    fn the_export_is_well_formed_and_ends_at_the_totals() {
        let r = crate::report::tables::tests::small_run();
        let s = crate::report::summarize(&r);
        let text = openmetrics(&r);
        assert!(text.ends_with("\n# EOF\n") && text.matches("# EOF").count() == 1);
        for l in text.lines().filter(|l| l.starts_with("# UNIT ")) {
            let (name, unit) = l[7..].split_once(' ').unwrap();
            assert!(name.ends_with(&format!("_{unit}")), "{l}");
        }
        let all = samples(&text);
        let mut done: Vec<&str> = Vec::new();
        for w in all.windows(2) {
            let ((a, va, ta), (b, vb, tb)) = (w[0], w[1]);
            if a == b {
                assert!(tb > ta, "{a}: time goes back at {tb}");
                if a.contains("_total{") {
                    assert!(vb >= va, "counter {a} falls at {tb}");
                }
            } else {
                assert!(!done.contains(&b), "{b}'s samples are not together");
                done.push(a);
            }
        }
        let start = r.scenario.start_unix_s as f64;
        assert_eq!(all[0].2, start + 3600.0, "the first interval's end, from 2026-01-01");
        let last = |prefix: &str| -> f64 {
            let mut by_series: Vec<(&str, f64)> = Vec::new();
            for &(series, v, _) in all.iter().filter(|x| x.0.starts_with(prefix)) {
                match by_series.iter_mut().find(|x| x.0 == series) {
                    Some(x) => x.1 = v,
                    None => by_series.push((series, v)),
                }
            }
            by_series.iter().map(|x| x.1).sum()
        };
        assert_eq!(last("clip_requests_total{") as u64, s.requests.simulated);
        assert_eq!(last("clip_requests_total{scenario=\"seed-baseline\",outcome=\"edge\"}") as u64, {
            r.engine.counters().served_from[0]
        });
        let cost = last("cost_dollars_total{");
        assert!((cost - s.cost_nanodollars["total"] as f64 / 1e9).abs() < 1e-6, "{cost}");
        assert_eq!(last("mirror_failover_total{") as u64, r.engine.counters().failovers);
        assert_eq!(last("cdn_requests_total{") as u64, r.engine.counters().cdn_lookups);
        let top = all.iter().filter(|x| x.0.starts_with("mirror_top100_hit_ratio")).collect::<Vec<_>>();
        assert_eq!(top.len(), 1);
        assert_eq!(Some(top[0].1), s.hit_rates.mirror_top100);
        let regions = r.scenario.engine.regions.len();
        let health = all.iter().filter(|x| x.0.starts_with("region_health_status{")).count();
        assert_eq!(health, regions * r.recorder.rows.len());
    }
}
