//! `timeseries.csv`: one row per report interval, columns named after the seed's metrics.

use crate::world::RunResult;
use clipsim_engine::{MoneyNanos, ServedFrom};

/// Exact decimal dollars, signed: `12.345000000`, `-0.500000000`.
pub fn usd(m: MoneyNanos) -> String {
    let sign = if m.0 < 0 { "-" } else { "" };
    let a = m.0.unsigned_abs();
    format!("{sign}{}.{:09}", a / 1_000_000_000, a % 1_000_000_000)
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x:.6}"))
}

fn ms(us: Option<u64>) -> String {
    us.map_or(String::new(), |u| format!("{:.3}", u as f64 / 1000.0))
}

/// The CSV text.
pub fn timeseries_csv(r: &RunResult) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let regions: Vec<&str> = r.scenario.engine.regions.iter().map(|x| x.name.as_str()).collect();
    let mut header: Vec<String> = [
        "time_s",
        "requests",
        "failed",
        "availability",
        "cdn_requests",
        "cdn_requests_total",
        "cdn_cache_hit_rate",
        "cdn_revalidations",
        "mirror_hit_rate",
        "mirror_bandwidth_gb",
        "bytes_served",
        "served_edge",
        "served_local_mirror",
        "served_remote_mirror",
        "served_primary_via_cdn",
        "served_primary_direct",
        "mirror_failover_total",
        "load_p50_ms",
        "load_p95_ms",
        "load_p99_ms",
        "total_active_mirrors",
        "pending_mirrors",
        "cost_storage_usd",
        "cost_cdn_egress_usd",
        "cost_origin_egress_usd",
        "cost_inter_region_usd",
        "cost_requests_usd",
        "cdn_cost_total",
        "cost_total_usd",
        "cdn_health_status",
        "cdn_latency_avg",
        "outage_active",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for name in &regions {
        header.push(format!("region_health_status{{{name}}}"));
        header.push(format!("region_latency_ms{{{name}}}"));
        header.push(format!("pg_replication_lag_seconds{{{name}}}"));
    }
    w.write_record(&header)?;
    let (mut failovers_total, mut cdn_requests_total) = (0u64, 0u64);
    for row in &r.recorder.rows {
        let c = &row.counts;
        failovers_total += c.failovers;
        cdn_requests_total += c.cdn_lookups;
        let total: MoneyNanos = row.cost_to_date.iter().fold(MoneyNanos::ZERO, |a, &b| a + b);
        let lat = row.latency_us;
        let mut rec: Vec<String> = vec![
            row.end.as_secs().to_string(),
            c.requests.to_string(),
            c.failed().to_string(),
            opt(c.availability()),
            c.cdn_lookups.to_string(),
            cdn_requests_total.to_string(),
            opt(c.cdn_hit_rate()),
            c.revalidations.to_string(),
            opt(c.mirror_hit_rate()),
            format!("{:.6}", c.mirror_bytes() as f64 / 1e9),
            c.bytes().to_string(),
            c.served(ServedFrom::Edge).to_string(),
            c.served(ServedFrom::LocalMirror).to_string(),
            c.served(ServedFrom::RemoteMirror).to_string(),
            c.served(ServedFrom::PrimaryViaCdn).to_string(),
            c.served(ServedFrom::PrimaryDirect).to_string(),
            failovers_total.to_string(),
            ms(lat.map(|l| l[0])),
            ms(lat.map(|l| l[1])),
            ms(lat.map(|l| l[2])),
            row.active_mirrors.to_string(),
            row.pending_mirrors.to_string(),
        ];
        rec.extend(row.cost_to_date.iter().map(|&m| usd(m)));
        rec.push(usd(row.cdn_cost_to_date));
        rec.push(usd(total));
        rec.push(row.cdn_health.map_or(String::new(), |h| format!("{}", f64::from(h.status_gauge_x2()) / 2.0)));
        rec.push(ms(row.cdn_latency_us));
        rec.push(u8::from(row.outage_active).to_string());
        for i in 0..regions.len() {
            rec.push(format!("{}", f64::from(row.region_health[i].status_gauge_x2()) / 2.0));
            rec.push(ms(row.region_latency_us[i]));
            rec.push(row.region_lag_us[i].map_or(String::new(), |u| format!("{:.3}", u as f64 / 1e6)));
        }
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
