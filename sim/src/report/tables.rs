//! The seed's four tables (`clip_mirrors`, `mirror_metrics`, `cdn_configurations`,
//! `cdn_metrics`) as CSV rows for `deploy/postgres/schema.sql`, written into every report's
//! `tables/` directory: `COPY table FROM 'tables/table.csv' WITH (FORMAT csv, HEADER true)`.
//!
//! Each row's `source` names the run (`clipsim:SCENARIO:seed=N`), so that simulated rows load
//! beside production ones (whose `source` is the schema's default, `production`). Times are UTC
//! RFC 3339 instants from the scenario's `start` date; money is integer nanodollars; an empty
//! field is SQL NULL. The metrics tables have one row per report interval, with counts and costs
//! *of that interval* (so that `sum()` over any span is its total) and `in_warmup` marking the
//! rows before the measured period.

use crate::record::Row;
use crate::world::RunResult;
use clipsim_engine::mirrors::MirrorState;
use clipsim_engine::{MoneyNanos, ServedFrom, SimTime};

/// The tables in the order `schema.sql` creates them, and the file each is written to.
pub const TABLES: [&str; 4] = ["clip_mirrors", "mirror_metrics", "cdn_configurations", "cdn_metrics"];

/// An instant as RFC 3339 UTC: `2026-01-01T01:00:00Z` (microseconds when it has them).
pub fn rfc3339(start_unix_s: u64, t: SimTime) -> String {
    let us = t.as_micros();
    let s = start_unix_s + us / 1_000_000;
    let (days, secs) = (s / 86_400, s % 86_400);
    let frac = match us % 1_000_000 {
        0 => String::new(),
        f => format!(".{f:06}"),
    };
    format!("{}T{:02}:{:02}:{:02}{frac}Z", super::format::civil_date(days), secs / 3600, secs / 60 % 60, secs % 60)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

fn ratio(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x:.6}"))
}

fn sum(costs: &[i64]) -> i64 {
    costs.iter().sum()
}

/// The rows of one table as CSV, header first.
fn csv(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for row in rows {
        w.write_record(&row)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// Each table's name and CSV text, in [`TABLES`] order.
pub fn tables_csv(r: &RunResult) -> Result<Vec<(&'static str, Vec<u8>)>, csv::Error> {
    let sc = &r.scenario;
    let source = format!("clipsim:{}:seed={}", sc.name, sc.seed);
    let at = |t: SimTime| rfc3339(sc.start_unix_s, t);
    let regions: Vec<&str> = sc.engine.regions.iter().map(|x| x.name.as_str()).collect();
    let warmup_end = SimTime::ZERO + sc.warmup;
    let in_warmup = |row: &Row| (row.end <= warmup_end && sc.warmup > clipsim_engine::SimDuration::ZERO).to_string();
    // Each interval's start and its cost by category: differences of the costs to date.
    let mut starts = Vec::with_capacity(r.recorder.rows.len());
    let mut costs = Vec::with_capacity(r.recorder.rows.len());
    let (mut before, mut cdn_before, mut start) = ([MoneyNanos::ZERO; 5], MoneyNanos::ZERO, SimTime::ZERO);
    for row in &r.recorder.rows {
        let interval: [i64; 5] = std::array::from_fn(|i| row.cost_to_date[i].0 - before[i].0);
        costs.push((interval, row.cdn_cost_to_date.0 - cdn_before.0));
        starts.push(start);
        (before, cdn_before, start) = (row.cost_to_date, row.cdn_cost_to_date, row.end);
    }

    let clip_mirrors = {
        let header = [
            "source",
            "clip_id",
            "region",
            "copied_from",
            "status",
            "size_bytes",
            "created_at",
            "active_at",
            "expires_at",
            "failed_attempts",
            "clip_views",
            "clip_origin_fetches",
            "clip_mirror_served",
        ];
        let engine = &r.engine;
        let rows = engine.all_mirrors().map(|m| {
            let status = match m.state {
                MirrorState::Pending => "pending",
                MirrorState::Active if m.expires_at <= r.end => "expired",
                MirrorState::Active => "active",
            };
            let known = |t: SimTime| (t != SimTime::NEVER).then(|| at(t));
            let stat = r.recorder.clips.get(m.clip.index()).copied().unwrap_or_default();
            vec![
                source.clone(),
                m.clip.index().to_string(),
                regions[m.region.index()].to_string(),
                regions[m.source.index()].to_string(),
                status.to_string(),
                engine.clip_size(m.clip).map_or(0, |b| b.0).to_string(),
                at(m.created_at),
                opt(known(m.active_at)),
                opt(known(m.expires_at)),
                m.failed_attempts.to_string(),
                stat.views.to_string(),
                stat.origin_fetches.to_string(),
                stat.mirror_served.to_string(),
            ]
        });
        csv(&header, rows)?
    };

    let mirror_metrics = {
        let header = [
            "source",
            "interval_start",
            "interval_end",
            "in_warmup",
            "requests",
            "origin_fetches",
            "mirror_served",
            "mirror_hit_rate",
            "failovers",
            "mirror_bandwidth_bytes",
            "active_mirrors",
            "pending_mirrors",
            "storage_cost_nanodollars",
            "inter_region_cost_nanodollars",
            "total_cost_nanodollars",
        ];
        let rows = r.recorder.rows.iter().zip(&starts).zip(&costs).map(|((row, &start), (cost, _))| {
            let c = &row.counts;
            vec![
                source.clone(),
                at(start),
                at(row.end),
                in_warmup(row),
                c.requests.to_string(),
                c.origin_fetches().to_string(),
                c.mirror_served().to_string(),
                ratio(c.mirror_hit_rate()),
                c.failovers.to_string(),
                c.mirror_bytes().to_string(),
                row.active_mirrors.to_string(),
                row.pending_mirrors.to_string(),
                cost[0].to_string(),
                cost[3].to_string(),
                sum(cost).to_string(),
            ]
        });
        csv(&header, rows)?
    };

    let cdn_configurations = {
        let header = [
            "source",
            "provider",
            "enabled",
            "priority",
            "cache_ttl_seconds",
            "edge_capacity_bytes",
            "eviction",
            "revalidate",
            "shield",
            "edge_rtt_ms",
            "max_cost_per_gb_nanodollars",
        ];
        let alert = sc.engine.billing.cost_alert.max_cost_per_gb_nanos;
        let rows = sc.cdn.iter().map(|cdn| {
            vec![
                source.clone(),
                cdn.name.clone(),
                "true".to_string(),
                "1".to_string(),
                cdn.cache_ttl.as_secs().to_string(),
                opt(cdn.edge_capacity_bytes),
                cdn.eviction.name().to_string(),
                cdn.revalidate.to_string(),
                cdn.shield.is_some().to_string(),
                (cdn.edge_rtt.as_micros() / 1000).to_string(),
                alert.to_string(),
            ]
        });
        csv(&header, rows)?
    };

    let cdn_metrics = {
        let header = [
            "source",
            "provider",
            "interval_start",
            "interval_end",
            "in_warmup",
            "requests",
            "cache_hits",
            "revalidations",
            "cache_hit_rate",
            "hit_bytes",
            "latency_avg_ms",
            "health_status",
            "cost_nanodollars",
        ];
        let provider = sc.cdn.as_ref().map(|c| c.name.clone());
        let rows = r.recorder.rows.iter().zip(&starts).zip(&costs).filter_map(|((row, &start), (_, cdn_cost))| {
            let c = &row.counts;
            Some(vec![
                source.clone(),
                provider.clone()?,
                at(start),
                at(row.end),
                in_warmup(row),
                c.cdn_lookups.to_string(),
                c.served(ServedFrom::Edge).to_string(),
                c.revalidations.to_string(),
                ratio(c.cdn_hit_rate()),
                c.bytes_from[ServedFrom::Edge as usize].to_string(),
                opt(row.cdn_latency_us.map(|us| format!("{}.{:03}", us / 1000, us % 1000))),
                opt(row.cdn_health.map(|h| h.name())),
                cdn_cost.to_string(),
            ])
        });
        csv(&header, rows)?
    };

    Ok(vec![
        (TABLES[0], clip_mirrors),
        (TABLES[1], mirror_metrics),
        (TABLES[2], cdn_configurations),
        (TABLES[3], cdn_metrics),
    ])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small run: the baseline at 2,000 clips, 3 days (1 of warm-up), 30,000 views a month.
    pub(crate) fn small_run() -> RunResult {
        small(false)
    }

    /// [`small_run`], recording every engine call (`RunResult::conformance`).
    pub(crate) fn small_run_recorded() -> RunResult {
        small(true)
    }

    fn small(record: bool) -> RunResult {
        let text = include_str!("../../../scenarios/seed-baseline.toml")
            .replace("clips = 100000 ", "clips = 2000 ")
            .replace("views_per_month = 1000000", "views_per_month = 30000")
            .replace("duration = \"30d\"", "duration = \"3d\"");
        let sc = crate::scenario::from_str(std::path::Path::new("small.toml"), &text, &Default::default()).unwrap();
        let world = if record { crate::world::World::new_recorded(sc) } else { crate::world::World::new(sc) };
        world.unwrap().run(&mut (), &std::sync::atomic::AtomicBool::new(false))
    }

    fn rows(text: &[u8]) -> Vec<csv::StringRecord> {
        csv::Reader::from_reader(text).records().map(|r| r.unwrap()).collect()
    }

    fn sum(rows: &[csv::StringRecord], col: usize, measured_only: bool, warmup_col: usize) -> i64 {
        rows.iter()
            .filter(|r| !measured_only || &r[warmup_col] == "false")
            .map(|r| r[col].parse::<i64>().unwrap())
            .sum()
    }

    #[test]
    fn instants_are_rfc3339_from_the_start_date() {
        let start = 20_454 * 86_400; // 2026-01-01
        assert_eq!(rfc3339(start, SimTime::ZERO), "2026-01-01T00:00:00Z");
        let t = SimTime::ZERO
            + clipsim_engine::SimDuration::from_micros(((31 * 24 + 13) * 3600 + 5 * 60 + 7) * 1_000_000 + 42);
        assert_eq!(rfc3339(start, t), "2026-02-01T13:05:07.000042Z");
    }

    /// Sums over the rows give the summary's figures, computed apart from the tables.
    #[test]
    fn the_tables_add_up_to_the_summary() {
        let r = small_run();
        let s = crate::report::summarize(&r);
        let tables = tables_csv(&r).unwrap();
        assert_eq!(tables.iter().map(|t| t.0).collect::<Vec<_>>(), TABLES);
        let mm = rows(&tables[1].1);
        assert_eq!(mm.len(), r.recorder.rows.len());
        assert_eq!(sum(&mm, 4, false, 3) as u64, s.requests.simulated, "requests, warm-up included");
        assert_eq!(sum(&mm, 4, true, 3) as u64, s.requests.total, "measured requests");
        assert!(mm.iter().filter(|r| &r[3] == "true").count() == 24, "a day of warm-up in hours");
        let mirror_served = s.served_from["local_mirror"] + s.served_from["remote_mirror"];
        assert_eq!(sum(&mm, 6, true, 3) as u64, mirror_served);
        assert_eq!(sum(&mm, 8, true, 3) as u64, s.failovers);
        assert_eq!(sum(&mm, 12, false, 3), s.cost_nanodollars["storage"]);
        assert_eq!(sum(&mm, 13, false, 3), s.cost_nanodollars["inter_region"]);
        assert_eq!(sum(&mm, 14, false, 3), s.cost_nanodollars["total"]);
        for w in mm.windows(2) {
            assert_eq!(w[0][2], w[1][1], "intervals follow each other");
        }
        let cdn = rows(&tables[3].1);
        assert_eq!(sum(&cdn, 6, true, 4) as u64, s.served_from["edge"]);
        assert_eq!(sum(&cdn, 5, true, 4) as u64, r.recorder.total.cdn_lookups);
        assert_eq!(
            sum(&cdn, 12, false, 4),
            s.cost_nanodollars["cdn_egress"] + s.cost_nanodollars["requests"] - {
                // The CDN's request fees are part of `requests` with the origin's: take the origin's out.
                let origin_requests: i64 = r
                    .engine
                    .bills()
                    .iter()
                    .flat_map(|b| &b.lines)
                    .filter(|l| l.key.meter == clipsim_engine::Meter::OriginRequests)
                    .map(|l| l.cost.0)
                    .sum();
                origin_requests
            }
        );
        let mirrors = rows(&tables[0].1);
        let active = mirrors.iter().filter(|m| &m[4] == "active").count() as u64;
        let expired = mirrors.iter().filter(|m| &m[4] == "expired").count() as u64;
        assert_eq!(active, s.mirrors.active_at_end);
        assert_eq!(expired, s.mirrors.expired - s.mirrors.deleted);
        let config = rows(&tables[2].1);
        assert_eq!((&config[0][1], &config[0][4]), ("cloudflare", "3600"));
    }
}
