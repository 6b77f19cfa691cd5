//! The engine's inputs, outputs, steps and configuration as the conformance vectors' JSON, and
//! inputs back (docs/conformance.md is the schema).

use clipsim_engine::billing::Tier;
use clipsim_engine::mirrors::Mirror;
use clipsim_engine::policy::SourceKind;
use clipsim_engine::{
    Bytes, ClipId, Counters, EngineConfig, GeoId, HealthTarget, Input, Meter, MonthBill, Output, ProviderId, RateTable,
    RegionId, ServedFrom, SimDuration, Step,
};
use serde_json::{json, Value};

fn us(d: SimDuration) -> u64 {
    d.as_micros()
}

fn region(cfg: &EngineConfig, r: RegionId) -> &str {
    &cfg.regions[r.index()].name
}

fn target(cfg: &EngineConfig, t: HealthTarget) -> String {
    match t {
        HealthTarget::Region(r) => format!("region:{}", region(cfg, r)),
        HealthTarget::Cdn => "cdn".to_string(),
        HealthTarget::SecondCdn => "second_cdn".to_string(),
    }
}

fn tiers(table: &RateTable) -> Value {
    table.tiers().iter().map(|t| json!({"from_units": t.from_units, "nanos_per_unit": t.nanos_per_unit})).collect()
}

/// The engine's configuration, every field by name (ids as names).
pub fn config(cfg: &EngineConfig, sc: &crate::scenario::Scenario) -> Value {
    let m = &cfg.mirror;
    let b = &cfg.billing;
    json!({
        "providers": cfg.providers,
        "regions": cfg.regions.iter().map(|r| json!({
            "name": r.name, "storage_provider": cfg.providers[r.storage_provider.index()],
        })).collect::<Vec<_>>(),
        "geos": cfg.geos,
        "latency_ms": cfg.latency_ms,
        "cdn_provider": cfg.cdn_provider.map(|p| &cfg.providers[p.index()]),
        "second_cdn": cfg.second_cdn.map(|s| match s.mode {
            clipsim_engine::MultiCdn::Failover => json!({"provider": cfg.providers[s.provider.index()], "mode": "failover"}),
            clipsim_engine::MultiCdn::CostSplit { min_share_pct } => json!({
                "provider": cfg.providers[s.provider.index()], "mode": "cost_split", "min_share_pct": min_share_pct,
            }),
        }),
        "mirror": {
            "enabled": m.enabled,
            "regions": m.regions.iter().map(|&r| region(cfg, r)).collect::<Vec<_>>(),
            "replication_threshold": m.replication_threshold,
            "view_weight": m.view_weight,
            "vote_weight": m.vote_weight,
            "score_half_life_us": m.score_half_life.map(us),
            "score_window_us": m.score_window.map(us),
            "ttl_us": us(m.ttl),
            "refresh_ttl_on_sync": m.refresh_ttl_on_sync,
            "max_per_clip": m.max_per_clip,
            "sync_interval_us": us(m.sync_interval),
            "cleanup_interval_us": us(m.cleanup_interval),
            "retry_backoff_base_us": us(m.retry_backoff_base),
            "retry_backoff_max_us": us(m.retry_backoff_max),
            "copy_attempts_max": m.copy_attempts_max,
            "predict": m.predict.map(|p| json!({"age_us": us(p.age), "horizon_us": us(p.horizon)})),
            "ttl_bounds": m.ttl_bounds.map(|b| json!({"min_us": us(b.min), "max_us": us(b.max)})),
            "cost_capped": m.cost_capped,
        },
        "health": {
            "unhealthy_after_failures": cfg.health.unhealthy_after_failures,
            "healthy_after_successes": cfg.health.healthy_after_successes,
            "degraded_latency_us": us(cfg.health.degraded_latency),
            "degraded_factor_pct": cfg.health.degraded_factor_pct,
        },
        "probe_normal_us": cfg.probe_normal.iter().map(|d| d.map(us)).collect::<Vec<_>>(),
        "billing": {
            "month_us": us(b.month),
            "rates": b.rates.iter().map(|r| json!({
                "meter": r.meter.name(),
                "provider": cfg.providers[r.provider.index()],
                "zone": r.zone,
                "tiers": tiers(&r.table),
            })).collect::<Vec<_>>(),
            "cost_alert": {
                "max_cost_per_gb_nanos": b.cost_alert.max_cost_per_gb_nanos,
                "window_us": us(b.cost_alert.window),
                "check_interval_us": us(b.cost_alert.check_interval),
                "scope": format!("{:?}", b.cost_alert.scope).to_lowercase(),
            },
            "allowances": b.allowances.iter().map(|a| json!({
                "provider": cfg.providers[a.provider.index()],
                "meters": a.meters.iter().map(|m| m.name()).collect::<Vec<_>>(),
                "units_per_month": a.units_per_month.to_string(),
            })).collect::<Vec<_>>(),
        },
        "lifecycle": cfg.lifecycle.map(|l| json!({
            "infrequent_after_us": us(l.infrequent_after), "catalog_age_us": us(l.catalog_age),
        })),
        "policies": {
            "source": format!("{:?}", sc.source_policy),
            "placement": format!("{:?}", sc.placement),
            "ttl": "from_activation",
        },
    })
}

/// An input.
pub fn input(cfg: &EngineConfig, i: &Input) -> Value {
    match i {
        Input::ClipUploaded { clip, size, primary } => {
            json!({"kind": "clip_uploaded", "clip": clip.0, "size_bytes": size.0, "primary": region(cfg, *primary)})
        }
        Input::PastViews { clip, geo, views } => {
            json!({"kind": "past_views", "clip": clip.0, "geo": cfg.geos[geo.index()], "views": views})
        }
        Input::Vote { clip, delta } => json!({"kind": "vote", "clip": clip.0, "delta": delta}),
        Input::Probe { target: t, ok, latency } => {
            json!({"kind": "probe", "target": target(cfg, *t), "ok": ok, "latency_us": us(*latency)})
        }
        Input::ReplicationFinished { clip, region: r } => {
            json!({"kind": "replication_finished", "clip": clip.0, "region": region(cfg, *r)})
        }
        Input::ReplicationFailed { clip, region: r, bytes_transferred } => json!({
            "kind": "replication_failed", "clip": clip.0, "region": region(cfg, *r),
            "bytes_transferred": bytes_transferred.0,
        }),
        Input::ReplicationLag { region: r, lag } => {
            json!({"kind": "replication_lag", "region": region(cfg, *r), "lag_us": us(*lag)})
        }
        Input::PriceChange { meter, provider, zone, table } => json!({
            "kind": "price_change", "meter": meter.name(), "provider": cfg.providers[provider.index()],
            "zone": zone, "tiers": tiers(table),
        }),
    }
}

/// An output.
pub fn output(cfg: &EngineConfig, o: &Output) -> Value {
    match o {
        Output::Replicate { clip, from, to, size } => json!({
            "kind": "replicate", "clip": clip.0, "from": region(cfg, *from), "to": region(cfg, *to),
            "size_bytes": size.0,
        }),
        Output::DeleteMirror { clip, region: r, size } => {
            json!({"kind": "delete_mirror", "clip": clip.0, "region": region(cfg, *r), "size_bytes": size.0})
        }
        Output::ReplicationAbandoned { clip, region: r } => {
            json!({"kind": "replication_abandoned", "clip": clip.0, "region": region(cfg, *r)})
        }
        Output::HealthChanged { target: t, from, to } => {
            json!({"kind": "health_changed", "target": target(cfg, *t), "from": from.name(), "to": to.name()})
        }
        Output::CostAlert { cost_per_gb_nanos, threshold_nanos } => json!({
            "kind": "cost_alert", "cost_per_gb_nanos": cost_per_gb_nanos, "threshold_nanos": threshold_nanos,
        }),
        Output::CostAlertCleared { cost_per_gb_nanos } => {
            json!({"kind": "cost_alert_cleared", "cost_per_gb_nanos": cost_per_gb_nanos})
        }
        Output::MonthClosed { month, total } => {
            json!({"kind": "month_closed", "month": month, "total_nanodollars": total.0})
        }
    }
}

/// A step the engine chose (without the caller's answer).
pub fn step(cfg: &EngineConfig, s: &Step) -> Value {
    match s {
        Step::Edge => json!({"step": "edge"}),
        Step::Origin { region: r, kind, via_cdn } => {
            let source = match kind {
                SourceKind::LocalMirror => "local_mirror",
                SourceKind::RemoteMirror => "remote_mirror",
                SourceKind::Primary => "primary",
            };
            json!({"step": "origin", "region": region(cfg, *r), "source": source, "via_cdn": via_cdn})
        }
        Step::Failed => json!({"step": "failed"}),
    }
}

/// The engine's counters.
pub fn counters(c: &Counters) -> Value {
    let by_outcome = |v: &[u64; 6]| -> Value {
        ServedFrom::ALL
            .iter()
            .map(|f| (f.name().to_string(), json!(v[*f as usize])))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    json!({
        "requests_total": c.requests_total,
        "served_from": by_outcome(&c.served_from),
        "bytes_from": by_outcome(&c.bytes_from),
        "failovers": c.failovers,
        "cdn_lookups": c.cdn_lookups,
        "revalidations": c.revalidations,
        "mirrors_created": c.mirrors_created,
        "mirrors_activated": c.mirrors_activated,
        "mirrors_deleted": c.mirrors_deleted,
        "mirrors_abandoned": c.mirrors_abandoned,
        "mirrors_predicted": c.mirrors_predicted,
        "copies_withheld": c.copies_withheld,
        "transitions_infrequent": c.transitions_infrequent,
        "copy_failures": c.copy_failures,
        "replication_bytes": c.replication_bytes,
        "cost_alerts": c.cost_alerts,
        "health_changes": c.health_changes,
    })
}

/// The closed months' totals.
pub fn bills(cfg: &EngineConfig, bills: &[MonthBill]) -> Value {
    bills
        .iter()
        .map(|b| {
            json!({
                "month": b.month,
                "total_nanodollars": b.total().0,
                "lines": b.lines.iter().filter(|l| l.cost.0 != 0 || l.usage != 0).map(|l| json!({
                    "meter": l.key.meter.name(),
                    "provider": cfg.providers[l.key.provider.index()],
                    "zone": l.key.zone,
                    "usage": l.usage.to_string(),
                    "cost_nanodollars": l.cost.0,
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// An instant in microseconds, or null for never (a pending mirror's activation and expiry).
fn known(t: clipsim_engine::SimTime) -> Option<u64> {
    (t != clipsim_engine::SimTime::NEVER).then(|| t.as_micros())
}

/// The mirrors held at the end, in the engine's order.
pub fn mirrors<'a>(cfg: &EngineConfig, m: impl Iterator<Item = &'a Mirror>) -> Value {
    m.map(|m| {
        json!({
            "clip": m.clip.0, "region": region(cfg, m.region), "state": format!("{:?}", m.state).to_lowercase(),
            "created_us": m.created_at.as_micros(), "active_us": known(m.active_at),
            "expires_us": known(m.expires_at),
        })
    })
    .collect()
}

/// What is wrong with a vector, for the error message.
pub type Bad = String;

fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, Bad> {
    v.get(key).ok_or_else(|| format!("no \"{key}\""))
}

fn uint(v: &Value, key: &str) -> Result<u64, Bad> {
    field(v, key)?.as_u64().ok_or_else(|| format!("\"{key}\": expected a whole number, found {}", v[key]))
}

fn small<T: TryFrom<u64>>(v: &Value, key: &str) -> Result<T, Bad> {
    T::try_from(uint(v, key)?).map_err(|_| format!("\"{key}\": {} is out of range", v[key]))
}

fn text<'a>(v: &'a Value, key: &str) -> Result<&'a str, Bad> {
    field(v, key)?.as_str().ok_or_else(|| format!("\"{key}\": expected a string, found {}", v[key]))
}

/// The id of `name` in `names`.
fn id(names: &[&str], v: &Value, key: &str) -> Result<u32, Bad> {
    let name = text(v, key)?;
    names
        .iter()
        .position(|n| *n == name)
        .map(|i| i as u32)
        .ok_or_else(|| format!("\"{key}\": {name:?} is not one of {}", names.join(", ")))
}

/// The clip of `v["clip"]`.
pub fn clip(v: &Value) -> Result<ClipId, Bad> {
    small(v, "clip").map(ClipId)
}

/// The region of `v[key]`.
pub fn region_id(cfg: &EngineConfig, v: &Value, key: &str) -> Result<RegionId, Bad> {
    let names: Vec<&str> = cfg.regions.iter().map(|r| r.name.as_str()).collect();
    id(&names, v, key).map(RegionId)
}

/// The geography of `v[key]`.
pub fn geo_id(cfg: &EngineConfig, v: &Value, key: &str) -> Result<GeoId, Bad> {
    let names: Vec<&str> = cfg.geos.iter().map(String::as_str).collect();
    id(&names, v, key).map(GeoId)
}

fn provider_id(cfg: &EngineConfig, v: &Value) -> Result<ProviderId, Bad> {
    let names: Vec<&str> = cfg.providers.iter().map(String::as_str).collect();
    id(&names, v, "provider").map(ProviderId)
}

/// The input a vector's `"input"` object describes.
pub fn parse_input(cfg: &EngineConfig, v: &Value) -> Result<Input, Bad> {
    let health_target = |v: &Value| -> Result<HealthTarget, Bad> {
        match text(v, "target")?.strip_prefix("region:") {
            None if v["target"] == "cdn" => Ok(HealthTarget::Cdn),
            None if v["target"] == "second_cdn" => Ok(HealthTarget::SecondCdn),
            None => {
                Err(format!("\"target\": expected \"cdn\", \"second_cdn\" or \"region:NAME\", found {}", v["target"]))
            }
            Some(name) => region_id(cfg, &json!({ "region": name }), "region").map(HealthTarget::Region),
        }
    };
    Ok(match text(v, "kind")? {
        "clip_uploaded" => Input::ClipUploaded {
            clip: clip(v)?,
            size: Bytes(uint(v, "size_bytes")?),
            primary: region_id(cfg, v, "primary")?,
        },
        "past_views" => Input::PastViews { clip: clip(v)?, geo: geo_id(cfg, v, "geo")?, views: small(v, "views")? },
        "vote" => Input::Vote {
            clip: clip(v)?,
            delta: field(v, "delta")?
                .as_i64()
                .and_then(|d| i32::try_from(d).ok())
                .ok_or_else(|| format!("\"delta\": expected a whole number, found {}", v["delta"]))?,
        },
        "probe" => Input::Probe {
            target: health_target(v)?,
            ok: field(v, "ok")?.as_bool().ok_or("\"ok\": expected true or false")?,
            latency: SimDuration::from_micros(uint(v, "latency_us")?),
        },
        "replication_finished" => Input::ReplicationFinished { clip: clip(v)?, region: region_id(cfg, v, "region")? },
        "replication_failed" => Input::ReplicationFailed {
            clip: clip(v)?,
            region: region_id(cfg, v, "region")?,
            bytes_transferred: Bytes(uint(v, "bytes_transferred")?),
        },
        "replication_lag" => Input::ReplicationLag {
            region: region_id(cfg, v, "region")?,
            lag: SimDuration::from_micros(uint(v, "lag_us")?),
        },
        "price_change" => {
            let meter_name = text(v, "meter")?;
            let meter = Meter::ALL
                .into_iter()
                .find(|m| m.name() == meter_name)
                .ok_or_else(|| format!("\"meter\": {meter_name:?} is not a meter"))?;
            let zone = match field(v, "zone")? {
                Value::Null => None,
                _ => Some(small(v, "zone")?),
            };
            let tiers = field(v, "tiers")?
                .as_array()
                .ok_or("\"tiers\": expected an array")?
                .iter()
                .map(|t| Ok(Tier { from_units: uint(t, "from_units")?, nanos_per_unit: uint(t, "nanos_per_unit")? }))
                .collect::<Result<Vec<_>, Bad>>()?;
            let table = RateTable::tiered(tiers).map_err(|e| format!("\"tiers\": {e}"))?;
            Input::PriceChange { meter, provider: provider_id(cfg, v)?, zone, table }
        }
        other => return Err(format!("\"kind\": {other:?} is not an input")),
    })
}
