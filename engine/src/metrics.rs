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
    /// Mirrors ordered (pending records created).
    pub mirrors_created: u64,
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
