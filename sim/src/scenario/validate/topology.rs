//! Regions, viewer geographies and the CDN: the topology the engine is built on.

use super::{Ctx, R};
use crate::cache::{Admission, Policy};
use crate::pricing::{resolve, PriceList, ProviderKind};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use clipsim_engine::config::{GEOS_MAX, REGIONS_MAX};
use clipsim_engine::*;

/// The defaults when a file names no regions or geographies: the seed's three regions.
pub(super) fn default_regions() -> Vec<RawRegion> {
    let region = |name: &str, na: f64, eu: f64, apac: f64| RawRegion {
        name: name.into(),
        storage: "s3".into(),
        latency_ms: [("na".to_string(), na), ("eu".to_string(), eu), ("apac".to_string(), apac)].into_iter().collect(),
    };
    vec![
        region("us-east-1", 25.0, 95.0, 190.0),
        region("eu-west-1", 90.0, 20.0, 170.0),
        region("ap-southeast-1", 180.0, 160.0, 30.0),
    ]
}

pub(super) fn geos(cx: &Ctx<'_>, t: &RawTraffic, regions: &[RawRegion]) -> R<Vec<String>> {
    let geos: Vec<String> = if t.geos.is_empty() {
        regions.first().map(|r| r.latency_ms.keys().cloned().collect()).unwrap_or_default()
    } else {
        t.geos.keys().cloned().collect()
    };
    cx.check(!geos.is_empty(), "traffic.geos", "at least one viewer geography")?;
    cx.check(geos.len() <= GEOS_MAX, "traffic.geos", format!("at most {GEOS_MAX} geographies"))?;
    for g in &geos {
        cx.check(!g.trim().is_empty(), "traffic.geos", "non-empty geography names")?;
    }
    Ok(geos)
}

/// The engine configuration's regions, geographies and CDN, the providers they use (in engine
/// id order) and the CDN's settings.
pub(super) fn regions_and_cdn(
    cx: &Ctx<'_>,
    raw: &RawScenario,
    regions_raw: &[RawRegion],
    geos: &[String],
    lists: &[PriceList],
) -> R<(EngineConfig, Vec<ProviderInfo>, Option<Cdn>)> {
    let geo_id = |name: &str| geos.iter().position(|g| g == name).map(|i| GeoId(i as u32));
    let find_list = |name: &str| lists.iter().find(|l| l.name == name);

    // Regions.
    cx.check(regions_raw.len() <= REGIONS_MAX, "regions", format!("at most {REGIONS_MAX} regions"))?;
    let mut cfg = EngineConfig::new();
    for g in geos {
        cfg.add_geo(g);
    }
    let mut providers: Vec<ProviderInfo> = Vec::new();
    let mut provider_id = |cfg: &mut EngineConfig, list: &PriceList| -> ProviderId {
        if let Some(id) = cfg.provider_id(&list.name) {
            return id;
        }
        providers.push(ProviderInfo {
            name: list.name.clone(),
            kind: list.kind,
            source: list.source.clone(),
            free_per_month: list.free_per_month.clone(),
            plan_includes: list.plan_includes,
        });
        cfg.add_provider(&list.name)
    };
    for (i, r) in regions_raw.iter().enumerate() {
        let p = format!("regions[{i}]");
        cx.check(!r.name.trim().is_empty(), format!("{p}.name"), "a non-empty region name")?;
        cx.check(cfg.region_id(&r.name).is_none(), format!("{p}.name"), "a region name used only once")?;
        let list = find_list(&r.storage).ok_or_else(|| {
            cx.err(
                format!("{p}.storage"),
                format!(
                    "a storage provider: one of {}, or one declared under [providers]",
                    resolve::names(lists, ProviderKind::Storage)
                ),
            )
        })?;
        cx.check(
            list.kind == ProviderKind::Storage,
            format!("{p}.storage"),
            format!("a storage provider, but `{}` is a CDN", list.name),
        )?;
        let pid = provider_id(&mut cfg, list);
        let rid = cfg.add_region(&r.name, pid);
        for (g, name) in geos.iter().enumerate() {
            let ms = r.latency_ms.get(name).copied().ok_or_else(|| {
                cx.err(format!("{p}.latency_ms"), format!("a latency for every geography: `{name}` is missing"))
            })?;
            let ms = cx.positive(ms, 60_000.0, &format!("{p}.latency_ms.{name}"), "milliseconds")?;
            cfg.set_latency_ms(rid, GeoId(g as u32), ms.round() as u32);
        }
        for key in r.latency_ms.keys() {
            cx.check(
                geo_id(key).is_some(),
                format!("{p}.latency_ms.{key}"),
                format!("a geography of [traffic.geos] ({})", geos.join(", ")),
            )?;
        }
    }
    // CDN.
    let cdn = if raw.cdn.enabled {
        let c = &raw.cdn;
        let list = find_list(&c.provider).ok_or_else(|| {
            cx.err(
                "cdn.provider",
                format!(
                    "a CDN provider: one of {}, or one declared under [providers]",
                    resolve::names(lists, ProviderKind::Cdn)
                ),
            )
        })?;
        cx.check(
            list.kind == ProviderKind::Cdn,
            "cdn.provider",
            format!("a CDN, but `{}` is a storage provider", list.name),
        )?;
        let pid = provider_id(&mut cfg, list);
        cfg.set_cdn(pid);
        let cache_ttl = cx.nonzero(c.cache_ttl.get(), "cdn.cache_ttl")?;
        let edge_capacity_bytes = capacity_bytes(cx, c.edge_capacity_gb, "cdn.edge_capacity_gb")?;
        let online: Vec<&str> = Policy::ALL.iter().filter(|p| !p.is_offline()).map(|p| p.name()).collect();
        let eviction = Policy::parse(&c.eviction).filter(|p| !p.is_offline()).ok_or_else(|| {
            cx.err(
                "cdn.eviction",
                format!("one of {} (belady needs the future: replay and mrc only)", online.join(", ")),
            )
        })?;
        let window = match c.admission_window {
            Some(w) => Some(cx.nonzero(w.get(), "cdn.admission_window")?),
            None => None,
        };
        let admission = match Admission::parse(&c.admission, window) {
            Some(Admission::Always) if window.is_some() => {
                return Err(
                    cx.err("cdn.admission_window", "no window with admission = \"always\" (it remembers no miss)")
                )
            }
            Some(a) => a,
            None => {
                return Err(cx.err(
                    "cdn.admission",
                    "always (every miss is cached) or second-hit (a clip is cached from its second miss on)",
                ))
            }
        };
        let revalidate = match c.on_expiry.as_str() {
            "revalidate" => true,
            "refetch" => false,
            _ => return Err(cx.err("cdn.on_expiry", "revalidate (a conditional request, no body) or refetch")),
        };
        let shield = if c.shield {
            let capacity_bytes = capacity_bytes(cx, c.shield_capacity_gb, "cdn.shield_capacity_gb")?;
            let ms = cx.positive(c.shield_latency_ms, 60_000.0, "cdn.shield_latency_ms", "milliseconds")?;
            Some(Shield { capacity_bytes, rtt: SimDuration::from_micros((ms * 1000.0).round() as u64) })
        } else {
            None
        };
        let edge_ms = cx.positive(c.edge_latency_ms, 60_000.0, "cdn.edge_latency_ms", "milliseconds")?;
        let second = match &c.second_provider {
            Some(name) => {
                let names = resolve::names(lists, ProviderKind::Cdn);
                let mut id = |l: &PriceList| provider_id(&mut cfg, l);
                Some(second_cdn(cx, c, name, &names, list, &find_list, regions_raw, edge_ms, &mut id)?)
            }
            None => {
                let alone = "a `second_provider` beside it";
                cx.check(c.multi_cdn.is_none(), "cdn.multi_cdn", alone)?;
                cx.check(c.min_share_pct.is_none(), "cdn.min_share_pct", alone)?;
                cx.check(c.second_edge_latency_ms.is_none(), "cdn.second_edge_latency_ms", alone)?;
                None
            }
        };
        if let Some(s) = &second {
            cfg.set_second_cdn(s.provider, s.mode);
        }
        Some(Cdn {
            provider: pid,
            name: list.name.clone(),
            cache_ttl,
            edge_capacity_bytes,
            eviction,
            admission,
            revalidate,
            shield,
            edge_rtt: SimDuration::from_micros((edge_ms * 1000.0).round() as u64),
            second,
        })
    } else {
        None
    };
    Ok((cfg, providers, cdn))
}

/// `[cdn] second_provider`: a CDN other than the first, priced alike by every storage the
/// regions use (a storage that sends to one of them for free and not to the other is not
/// modelled), with `multi_cdn` and its minimum share.
#[allow(clippy::too_many_arguments)]
fn second_cdn<'l>(
    cx: &Ctx<'_>,
    c: &RawCdn,
    name: &str,
    cdn_names: &str,
    first: &PriceList,
    find_list: &dyn Fn(&str) -> Option<&'l PriceList>,
    regions_raw: &[RawRegion],
    edge_ms: f64,
    provider_id: &mut dyn FnMut(&PriceList) -> ProviderId,
) -> R<SecondCdnSpec> {
    let key = "cdn.second_provider";
    let list = find_list(name)
        .ok_or_else(|| cx.err(key, format!("a CDN provider: one of {cdn_names}, or one declared under [providers]")))?;
    cx.check(list.kind == ProviderKind::Cdn, key, format!("a CDN, but `{}` is a storage provider", list.name))?;
    cx.check(list.name != first.name, key, format!("a CDN other than the first, `{}`", first.name))?;
    for r in regions_raw {
        if let Some(storage) = find_list(&r.storage) {
            let free = |cdn: &str| storage.free_egress_to_cdn.iter().any(|n| n == cdn);
            cx.check(
                free(&first.name) == free(&list.name),
                key,
                format!(
                    "a CDN that `{}` prices like `{}`: it sends to {} for free and not to {} (two CDNs with \
                     different origin egress prices are not modelled)",
                    storage.name,
                    first.name,
                    if free(&first.name) { &first.name } else { &list.name },
                    if free(&first.name) { &list.name } else { &first.name },
                ),
            )?;
        }
    }
    let mode = match c.multi_cdn.as_deref().unwrap_or("failover") {
        "failover" => {
            cx.check(
                c.min_share_pct.is_none(),
                "cdn.min_share_pct",
                "no minimum share with failover (multi_cdn = \"cost-split\" has one)",
            )?;
            MultiCdn::Failover
        }
        "cost-split" => {
            let min_share_pct = c.min_share_pct.unwrap_or(10);
            cx.check(min_share_pct <= 50, "cdn.min_share_pct", "0 to 50 percent")?;
            MultiCdn::CostSplit { min_share_pct }
        }
        _ => {
            return Err(cx.err(
                "cdn.multi_cdn",
                "failover (the second only while the first is believed down) or cost-split (both active, \
                 the cheaper one per geography takes the most)",
            ))
        }
    };
    let ms = match c.second_edge_latency_ms {
        Some(ms) => cx.positive(ms, 60_000.0, "cdn.second_edge_latency_ms", "milliseconds")?,
        None => edge_ms,
    };
    Ok(SecondCdnSpec {
        provider: provider_id(list),
        name: list.name.clone(),
        mode,
        edge_rtt: SimDuration::from_micros((ms * 1000.0).round() as u64),
    })
}

/// A cache size in bytes at `path` (`None`: unlimited), from GB above 0 and at most 10^9.
fn capacity_bytes(cx: &Ctx<'_>, capacity: Capacity, path: &str) -> R<Option<u64>> {
    match capacity {
        Capacity::Unlimited => Ok(None),
        Capacity::Gb(gb) => Ok(Some((cx.positive(gb, 1e9, path, "a size in GB")? * 1e9).round() as u64)),
    }
}

/// `[lifecycle]`: the rule, with the catalog as old as its history. Every region's storage must
/// price the infrequent-access class (a provider without one cannot take the rule).
pub(super) fn lifecycle(cx: &Ctx<'_>, l: &RawLifecycle, cfg: &EngineConfig, history: SimDuration) -> R<Lifecycle> {
    let max = crate::scenario::units::DURATION_MAX;
    let after = l.infrequent_after.0;
    cx.check(after <= max, "lifecycle.infrequent_after", format!("a duration of at most {max}"))?;
    let keys = crate::pricing::PriceKey::INFREQUENT;
    for (r, region) in cfg.regions.iter().enumerate() {
        let provider = &cfg.providers[region.storage_provider.index()];
        let meters = [Meter::StorageInfrequent, Meter::Retrieval, Meter::RequestsInfrequent];
        if let Some((_, key)) =
            meters.iter().zip(keys).find(|(m, _)| cfg.rate_for(**m, region.storage_provider, r as u32).is_none())
        {
            return Err(cx.err(
                "lifecycle.infrequent_after",
                format!(
                    "storage with an infrequent-access class: region `{}` is stored by `{provider}`, which has no \
                     `{}` (set {} in [providers.{provider}], or drop [lifecycle])",
                    region.name,
                    key.name(),
                    keys.map(|k| k.name()).join(", ")
                ),
            ));
        }
    }
    Ok(Lifecycle { infrequent_after: after, catalog_age: history })
}
