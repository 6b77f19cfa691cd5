//! Counters and gauges under the seed's metric names.

use crate::health::Health;
use crate::units::{Bytes, SimDuration};
use core::fmt::Write as _;

/// Where a request was finally served from: exactly one per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServedFrom {
    /// A CDN edge cache hit.
    Edge = 0,
    /// A mirror in the viewer's nearest region (directly or as the CDN's origin).
    LocalMirror = 1,
    /// A mirror in another region (directly or as the CDN's origin).
    RemoteMirror = 2,
    /// The primary copy, fetched by the CDN on an edge miss.
    PrimaryViaCdn = 3,
    /// The primary copy, served to the viewer without the CDN.
    PrimaryDirect = 4,
    /// No source could serve the request.
    Failed = 5,
}

impl ServedFrom {
    /// Every outcome, in report order.
    pub const ALL: [ServedFrom; 6] = [
        ServedFrom::Edge,
        ServedFrom::LocalMirror,
        ServedFrom::RemoteMirror,
        ServedFrom::PrimaryViaCdn,
        ServedFrom::PrimaryDirect,
        ServedFrom::Failed,
    ];

    /// The `served_from.*` key in `summary.json`.
    pub const fn name(self) -> &'static str {
        match self {
            ServedFrom::Edge => "edge",
            ServedFrom::LocalMirror => "local_mirror",
            ServedFrom::RemoteMirror => "remote_mirror",
            ServedFrom::PrimaryViaCdn => "primary_via_cdn",
            ServedFrom::PrimaryDirect => "primary_direct",
            ServedFrom::Failed => "failed",
        }
    }

    /// Whether a mirror served it.
    pub const fn is_mirror(self) -> bool {
        matches!(self, ServedFrom::LocalMirror | ServedFrom::RemoteMirror)
    }
}

/// Monotonic counters since the engine started. All integer; ratios are derived for display.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Requests begun.
    pub requests_total: u64,
    /// Requests finished, by outcome (index: [`ServedFrom`] as usize).
    pub served_from: [u64; 6],
    /// Bytes delivered to viewers, by outcome (failed requests deliver 0).
    pub bytes_from: [u64; 6],
    /// `mirror_failover_total`: attempts that failed and moved on to the next source.
    pub failovers: u64,
    /// CDN edge lookups (requests that reached the CDN).
    pub cdn_lookups: u64,
    /// Requests whose expired edge copy was revalidated with an origin (a conditional request
    /// answered "not modified": the origin's request fee, no bytes); counted by the copy that
    /// answered, like a fetch through the CDN.
    pub revalidations: u64,
    /// Bytes delivered by those (from the edge's copy).
    pub revalidated_bytes: u64,
    /// Mirrors ordered (pending records created).
    pub mirrors_created: u64,
    /// Of those, mirrors ordered for a clip below the threshold because predictive mirroring
    /// judged it on course to reach it ([`crate::config::Predict`]).
    pub mirrors_predicted: u64,
    /// Clips a sync would have given new copies but did not, because the cost alert was raised
    /// and replication is cost-capped ([`crate::config::MirrorConfig::cost_capped`]); once per
    /// clip and sync.
    pub copies_withheld: u64,
    /// Mirrors whose copy completed.
    pub mirrors_activated: u64,
    /// Mirrors deleted by cleanup after they expired.
    pub mirrors_deleted: u64,
    /// Pending mirrors given up after too many failed copies.
    pub mirrors_abandoned: u64,
    /// Copy attempts that failed.
    pub copy_failures: u64,
    /// Bytes moved between regions by replication (including failed partial copies).
    pub replication_bytes: u64,
    /// Sync passes run.
    pub sync_passes: u64,
    /// Cleanup passes run.
    pub cleanup_passes: u64,
    /// Cost alerts raised.
    pub cost_alerts: u64,
    /// Health state changes.
    pub health_changes: u64,
    /// Most mirror records in the active state at once (they hold storage, expired or not).
    pub active_mirrors_peak: u64,
    /// Primary copies moved to the infrequent-access class by the lifecycle rule
    /// ([`crate::Lifecycle`]).
    pub transitions_infrequent: u64,
}

impl Counters {
    /// Requests that finished (served or failed).
    pub fn finished(&self) -> u64 {
        self.served_from.iter().sum()
    }

    /// Requests served by `from`.
    pub fn served(&self, from: ServedFrom) -> u64 {
        self.served_from[from as usize]
    }

    /// Bytes delivered to viewers by every source.
    pub fn bytes_served(&self) -> Bytes {
        Bytes(self.bytes_from.iter().sum())
    }

    /// Requests that needed an origin fetch: served by anything but the edge, or failed.
    pub fn origin_fetches(&self) -> u64 {
        self.finished() - self.served(ServedFrom::Edge)
    }

    /// `mirror_hit_rate`: of the requests that needed an origin fetch, the share a mirror served.
    pub fn mirror_hit_rate(&self) -> Option<f64> {
        let mirror = self.served(ServedFrom::LocalMirror) + self.served(ServedFrom::RemoteMirror);
        ratio(mirror, self.origin_fetches())
    }

    /// `cdn_cache_hit_rate`: of the requests that reached the CDN, the share the edge served.
    pub fn cdn_cache_hit_rate(&self) -> Option<f64> {
        ratio(self.served(ServedFrom::Edge), self.cdn_lookups)
    }

    /// Of the finished requests, the share served.
    pub fn availability(&self) -> Option<f64> {
        ratio(self.finished() - self.served(ServedFrom::Failed), self.finished())
    }
}

/// `a / b` for display, `None` when `b` is 0.
pub fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// A point-in-time view of the engine's metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsSnapshot {
    /// The counters.
    pub counters: Counters,
    /// `total_active_mirrors`: mirrors serveable now (active and unexpired).
    pub total_active_mirrors: u64,
    /// Mirrors expired but not yet deleted by cleanup (still costing storage).
    pub expired_awaiting_cleanup: u64,
    /// Mirrors whose copy is in flight.
    pub pending_mirrors: u64,
    /// `cdn_bandwidth_total` in bytes.
    pub cdn_bandwidth_bytes: u64,
    /// `cdn_latency_avg`: the CDN's smoothed probe latency.
    pub cdn_latency_avg: Option<SimDuration>,
    /// Per region: name, `region_health_status`, `region_latency_ms` (smoothed probe latency),
    /// `pg_replication_lag_seconds` as last reported.
    pub regions: Vec<RegionGauges>,
}

/// Gauges of one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionGauges {
    /// The region's name.
    pub name: String,
    /// Believed health.
    pub health: Health,
    /// Smoothed probe latency.
    pub latency: Option<SimDuration>,
    /// Database replication lag as last reported.
    pub replication_lag: Option<SimDuration>,
    /// Bytes stored now (primaries and mirrors).
    pub stored_bytes: u64,
}

impl MetricsSnapshot {
    /// The metrics in Prometheus text exposition format, under the seed's names. Cost is added by
    /// the caller (`cdn_cost_total` needs the bill).
    pub fn to_prometheus(&self) -> String {
        let c = &self.counters;
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}\n{name} {value}");
        };
        let opt = |v: Option<f64>| v.map_or("NaN".to_string(), |x| format!("{x}"));
        gauge("mirror_hit_rate", "Share of origin fetches served by a mirror.", opt(c.mirror_hit_rate()));
        gauge("total_active_mirrors", "Mirrors serveable now.", self.total_active_mirrors.to_string());
        gauge("mirror_failover_total", "Failed attempts that moved to the next source.", c.failovers.to_string());
        let mirror_bytes =
            c.bytes_from[ServedFrom::LocalMirror as usize] + c.bytes_from[ServedFrom::RemoteMirror as usize];
        gauge("mirror_bandwidth_gb", "GB served from mirrors.", format!("{}", Bytes(mirror_bytes).as_gb_f64()));
        gauge("cdn_cache_hit_rate", "Share of CDN requests served by the edge.", opt(c.cdn_cache_hit_rate()));
        gauge("cdn_bandwidth_total", "Bytes delivered by the CDN.", self.cdn_bandwidth_bytes.to_string());
        gauge("cdn_requests_total", "Requests that reached the CDN.", c.cdn_lookups.to_string());
        gauge(
            "cdn_latency_avg",
            "Smoothed CDN probe latency, ms.",
            opt(self.cdn_latency_avg.map(|d| d.as_micros() as f64 / 1000.0)),
        );
        let _ = writeln!(out, "# HELP region_health_status 1 healthy, 0.5 degraded, 0 unhealthy.");
        for r in &self.regions {
            let v = f64::from(r.health.status_gauge_x2()) / 2.0;
            let _ = writeln!(out, "region_health_status{{region=\"{}\"}} {v}", r.name);
        }
        let _ = writeln!(out, "# HELP region_latency_ms Smoothed probe latency per region.");
        for r in &self.regions {
            let v = opt(r.latency.map(|d| d.as_micros() as f64 / 1000.0));
            let _ = writeln!(out, "region_latency_ms{{region=\"{}\"}} {v}", r.name);
        }
        let _ = writeln!(out, "# HELP pg_replication_lag_seconds Database replication lag as reported.");
        for r in &self.regions {
            if let Some(lag) = r.replication_lag {
                let _ = writeln!(out, "pg_replication_lag_seconds{{region=\"{}\"}} {}", r.name, lag.as_secs_f64());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counters of 16 finished requests: 6 edge, 3 local mirror, 1 remote mirror, 2 primary via
    /// the CDN, 0 primary direct, 4 failed; 12 CDN lookups.
    fn sixteen_requests() -> Counters {
        Counters { served_from: [6, 3, 1, 2, 0, 4], cdn_lookups: 12, ..Counters::default() }
    }

    #[test]
    fn outcomes_have_their_summary_json_names() {
        let names: Vec<&str> = ServedFrom::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names, ["edge", "local_mirror", "remote_mirror", "primary_via_cdn", "primary_direct", "failed"]);
    }

    #[test]
    fn only_local_and_remote_mirrors_are_mirrors() {
        let mirrors: Vec<ServedFrom> = ServedFrom::ALL.into_iter().filter(|s| s.is_mirror()).collect();
        assert_eq!(mirrors, [ServedFrom::LocalMirror, ServedFrom::RemoteMirror]);
    }

    #[test]
    fn served_counts_one_outcome() {
        let c = sixteen_requests();
        assert_eq!(c.served(ServedFrom::Edge), 6);
        assert_eq!(c.served(ServedFrom::LocalMirror), 3);
        assert_eq!(c.served(ServedFrom::Failed), 4);
    }

    /// Everything but the 6 edge hits needed an origin fetch: 16 - 6.
    #[test]
    fn origin_fetches_are_finished_requests_minus_edge_hits() {
        assert_eq!(sixteen_requests().origin_fetches(), 10);
    }

    /// (3 local + 1 remote) mirror serves of 10 origin fetches.
    #[test]
    fn mirror_hit_rate_is_mirror_serves_over_origin_fetches() {
        assert_eq!(sixteen_requests().mirror_hit_rate(), Some(0.4));
    }

    /// 6 edge hits of 12 CDN lookups.
    #[test]
    fn cdn_cache_hit_rate_is_edge_hits_over_cdn_lookups() {
        assert_eq!(sixteen_requests().cdn_cache_hit_rate(), Some(0.5));
    }

    /// 16 - 4 failed = 12 served of 16 finished.
    #[test]
    fn availability_is_the_share_of_finished_requests_not_failed() {
        assert_eq!(sixteen_requests().availability(), Some(0.75));
    }

    #[test]
    fn rates_are_undefined_before_any_request() {
        let c = Counters::default();
        assert_eq!(c.mirror_hit_rate(), None);
        assert_eq!(c.cdn_cache_hit_rate(), None);
        assert_eq!(c.availability(), None);
    }

    #[test]
    fn ratio_divides_and_is_none_for_a_zero_denominator() {
        assert_eq!(ratio(3, 4), Some(0.75));
        assert_eq!(ratio(0, 4), Some(0.0));
        assert_eq!(ratio(5, 0), None);
        assert_eq!(ratio(0, 0), None);
    }

    /// 1.2 GB local + 0.3 GB remote mirror bytes; three regions, one per health state.
    fn snapshot() -> MetricsSnapshot {
        let mut counters = sixteen_requests();
        counters.failovers = 5;
        counters.bytes_from = [600, 1_200_000_000, 300_000_000, 900, 0, 0];
        let region = |name: &str, health, latency_us: Option<u64>, lag_us: Option<u64>| RegionGauges {
            name: name.to_string(),
            health,
            latency: latency_us.map(SimDuration),
            replication_lag: lag_us.map(SimDuration),
            stored_bytes: 1_000,
        };
        MetricsSnapshot {
            counters,
            total_active_mirrors: 7,
            expired_awaiting_cleanup: 2,
            pending_mirrors: 1,
            cdn_bandwidth_bytes: 123_456,
            cdn_latency_avg: Some(SimDuration(42_500)),
            regions: vec![
                region("us-east-1", Health::Healthy, Some(12_250), Some(1_500_000)),
                region("eu-west-1", Health::Degraded, None, None),
                region("ap-south-1", Health::Unhealthy, Some(80_000), Some(250_000)),
            ],
        }
    }

    /// The seed's metric names, `{region="..."}` labels, ratios and display units (GB, ms,
    /// seconds, 1 / 0.5 / 0 health); a region without a lag report has no lag line.
    #[test]
    fn prometheus_text_has_the_seed_names_labels_and_values() {
        let text = snapshot().to_prometheus();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "# HELP mirror_hit_rate Share of origin fetches served by a mirror.",
                "mirror_hit_rate 0.4",
                "# HELP total_active_mirrors Mirrors serveable now.",
                "total_active_mirrors 7",
                "# HELP mirror_failover_total Failed attempts that moved to the next source.",
                "mirror_failover_total 5",
                "# HELP mirror_bandwidth_gb GB served from mirrors.",
                "mirror_bandwidth_gb 1.5",
                "# HELP cdn_cache_hit_rate Share of CDN requests served by the edge.",
                "cdn_cache_hit_rate 0.5",
                "# HELP cdn_bandwidth_total Bytes delivered by the CDN.",
                "cdn_bandwidth_total 123456",
                "# HELP cdn_requests_total Requests that reached the CDN.",
                "cdn_requests_total 12",
                "# HELP cdn_latency_avg Smoothed CDN probe latency, ms.",
                "cdn_latency_avg 42.5",
                "# HELP region_health_status 1 healthy, 0.5 degraded, 0 unhealthy.",
                "region_health_status{region=\"us-east-1\"} 1",
                "region_health_status{region=\"eu-west-1\"} 0.5",
                "region_health_status{region=\"ap-south-1\"} 0",
                "# HELP region_latency_ms Smoothed probe latency per region.",
                "region_latency_ms{region=\"us-east-1\"} 12.25",
                "region_latency_ms{region=\"eu-west-1\"} NaN",
                "region_latency_ms{region=\"ap-south-1\"} 80",
                "# HELP pg_replication_lag_seconds Database replication lag as reported.",
                "pg_replication_lag_seconds{region=\"us-east-1\"} 1.5",
                "pg_replication_lag_seconds{region=\"ap-south-1\"} 0.25",
            ]
        );
        assert!(text.ends_with('\n'), "every line is terminated");
    }

    /// Undefined ratios and an unknown CDN latency are `NaN`; no region means only the HELP lines.
    #[test]
    fn prometheus_text_of_an_idle_engine_has_nan_ratios() {
        let snapshot = MetricsSnapshot {
            counters: Counters::default(),
            total_active_mirrors: 0,
            expired_awaiting_cleanup: 0,
            pending_mirrors: 0,
            cdn_bandwidth_bytes: 0,
            cdn_latency_avg: None,
            regions: Vec::new(),
        };
        let text = snapshot.to_prometheus();
        let values: Vec<&str> = text.lines().filter(|l| !l.starts_with("# HELP")).collect();
        assert_eq!(
            values,
            [
                "mirror_hit_rate NaN",
                "total_active_mirrors 0",
                "mirror_failover_total 0",
                "mirror_bandwidth_gb 0",
                "cdn_cache_hit_rate NaN",
                "cdn_bandwidth_total 0",
                "cdn_requests_total 0",
                "cdn_latency_avg NaN",
            ]
        );
        assert_eq!(text.lines().filter(|l| l.starts_with("# HELP")).count(), 11);
    }
}
