//! From the file as written to a [`Scenario`]: every cross-field check, with the key path and
//! the place in the file.

use super::error::{InputError, Locator};
use super::model::*;
use super::raw::*;
use super::units::usd_to_nanos;
use crate::cache::Policy;
use crate::prices::{self, PriceList, PriceSet, ProviderKind, Tiers};
use clipsim_engine::config::{GEOS_MAX, MIRRORS_PER_CLIP_MAX, REGIONS_MAX};
use clipsim_engine::*;

/// The most clips a catalog may start with.
pub const CLIPS_MAX: u64 = 100_000_000;
/// The most report intervals in a run (time-series rows).
pub const REPORT_ROWS_MAX: u64 = 200_000;
/// The highest mean request rate.
pub const VIEWS_PER_SEC_MAX: f64 = 10_000_000.0;
/// The most outages, price changes or spikes.
pub const EVENTS_MAX: usize = 10_000;

type R<T> = Result<T, InputError>;

/// The defaults when a file names no regions or geographies: the seed's three regions.
fn default_regions() -> Vec<RawRegion> {
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

struct Ctx<'a> {
    loc: &'a Locator<'a>,
}

impl Ctx<'_> {
    fn err(&self, path: impl AsRef<str>, expected: impl Into<String>) -> InputError {
        self.loc.error(path.as_ref(), expected)
    }

    fn check(&self, ok: bool, path: impl AsRef<str>, expected: impl Into<String>) -> R<()> {
        if ok {
            Ok(())
        } else {
            Err(self.err(path, expected))
        }
    }

    fn range(&self, v: f64, lo: f64, hi: f64, path: &str, what: &str) -> R<f64> {
        self.check(v.is_finite() && v >= lo && v <= hi, path, format!("{what} from {lo} to {hi}"))?;
        Ok(v)
    }

    fn positive(&self, v: f64, hi: f64, path: &str, what: &str) -> R<f64> {
        self.check(v.is_finite() && v > 0.0 && v <= hi, path, format!("{what} above 0 and at most {hi}"))?;
        Ok(v)
    }

    fn nonzero(&self, d: SimDuration, path: &str) -> R<SimDuration> {
        self.check(d > SimDuration::ZERO, path, "a positive duration")?;
        Ok(d)
    }
}

/// Checks `raw` and builds the scenario. `loc` finds key paths in the file for messages.
pub fn validate(raw: RawScenario, loc: &Locator<'_>, path: std::path::PathBuf, sha256: String) -> R<Scenario> {
    let cx = Ctx { loc };
    let meta = &raw.scenario;
    cx.check(!meta.name.trim().is_empty(), "scenario.name", "a non-empty name")?;
    let duration = cx.nonzero(meta.duration.0, "scenario.duration")?;
    cx.check(meta.warmup.0 < duration, "scenario.warmup", format!("shorter than scenario.duration ({duration})"))?;
    let report_interval = cx.nonzero(meta.report_interval.0, "scenario.report_interval")?;
    cx.check(
        report_interval <= duration,
        "scenario.report_interval",
        format!("at most scenario.duration ({duration})"),
    )?;
    cx.check(
        duration.as_micros() / report_interval.as_micros() <= REPORT_ROWS_MAX,
        "scenario.report_interval",
        format!("at most {REPORT_ROWS_MAX} intervals in the run: a longer interval"),
    )?;

    let regions_raw = if raw.regions.is_empty() { default_regions() } else { raw.regions.clone() };
    let geos = geos(&cx, &raw.traffic, &regions_raw)?;
    let geo_id = |name: &str| geos.iter().position(|g| g == name).map(|i| GeoId(i as u32));

    // Providers: built-in lists merged with [providers] overrides.
    let lists = provider_lists(&cx, &raw, &regions_raw, &geos)?;
    let find_list = |name: &str| lists.iter().find(|l| l.name == name);

    // Regions.
    cx.check(regions_raw.len() <= REGIONS_MAX, "regions", format!("at most {REGIONS_MAX} regions"))?;
    let mut cfg = EngineConfig::new();
    for g in &geos {
        cfg.add_geo(g);
    }
    let mut providers: Vec<ProviderInfo> = Vec::new();
    let mut provider_id = |cfg: &mut EngineConfig, list: &PriceList| -> ProviderId {
        if let Some(id) = cfg.provider_id(&list.name) {
            return id;
        }
        providers.push(ProviderInfo { name: list.name.clone(), kind: list.kind, source: list.source.clone() });
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
                    names(&lists, ProviderKind::Storage)
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
    let region_id = |cfg: &EngineConfig, name: &str, path: &str| -> R<RegionId> {
        cfg.region_id(name).ok_or_else(|| {
            cx.err(
                path,
                format!(
                    "a region: one of {}",
                    cfg.regions.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        })
    };

    // CDN.
    let cdn = if raw.cdn.enabled {
        let c = &raw.cdn;
        let list = find_list(&c.provider).ok_or_else(|| {
            cx.err(
                "cdn.provider",
                format!(
                    "a CDN provider: one of {}, or one declared under [providers]",
                    names(&lists, ProviderKind::Cdn)
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
        let edge_capacity_bytes = match c.edge_capacity_gb {
            Capacity::Unlimited => None,
            Capacity::Gb(gb) => {
                let gb = cx.positive(gb, 1e9, "cdn.edge_capacity_gb", "a size in GB")?;
                Some((gb * 1e9).round() as u64)
            }
        };
        let eviction = Policy::parse(&c.eviction)
            .ok_or_else(|| cx.err("cdn.eviction", format!("one of {}", Policy::NAMES.join(", "))))?;
        let edge_ms = cx.positive(c.edge_latency_ms, 60_000.0, "cdn.edge_latency_ms", "milliseconds")?;
        Some(Cdn {
            provider: pid,
            name: list.name.clone(),
            cache_ttl,
            edge_capacity_bytes,
            eviction,
            edge_rtt: SimDuration::from_micros((edge_ms * 1000.0).round() as u64),
        })
    } else {
        None
    };
    let max_cost = usd_to_nanos(raw.cdn.max_cost_per_gb).map_err(|e| cx.err("cdn.max_cost_per_gb", e))?;

    // Rates for every line the engine will meter.
    set_rates(&cx, &mut cfg, &lists, cdn.as_ref())?;

    let catalog = catalog(&cx, &raw.catalog, &cfg)?;
    let traffic = traffic(&cx, &raw.traffic, &geos, catalog.clips, duration)?;
    let network = network(&cx, &raw.network)?;
    mirror(&cx, &raw.mirror, &mut cfg, &region_id)?;
    let source_policy = match raw.mirror.source_policy.as_str() {
        "seed-chain" => SourcePolicy::SeedChain,
        "latency-first" => SourcePolicy::LatencyFirst,
        _ => return Err(cx.err("mirror.source_policy", "\"seed-chain\" or \"latency-first\"")),
    };
    let placement = match raw.mirror.placement.as_str() {
        "demand-ranked" => PlacementPolicy::DemandRanked,
        "demand-only" => PlacementPolicy::DemandOnly,
        _ => return Err(cx.err("mirror.placement", "\"demand-ranked\" or \"demand-only\"")),
    };

    // Health.
    let h = &raw.health;
    let probe_interval = cx.nonzero(h.probe_interval.0, "health.probe_interval")?;
    cx.check(h.unhealthy_after_failures >= 1, "health.unhealthy_after_failures", "at least 1")?;
    cx.check(h.healthy_after_successes >= 1, "health.healthy_after_successes", "at least 1")?;
    let degraded = cx.positive(h.degraded_latency_ms, 600_000.0, "health.degraded_latency_ms", "milliseconds")?;
    let request_timeout = cx.nonzero(h.request_timeout.0, "health.request_timeout")?;
    cfg.health = HealthConfig {
        unhealthy_after_failures: h.unhealthy_after_failures,
        healthy_after_successes: h.healthy_after_successes,
        degraded_latency: SimDuration::from_micros((degraded * 1000.0).round() as u64),
    };

    // Billing.
    let b = &raw.billing;
    cx.check(b.month.0 >= SimDuration::from_hours(1), "billing.month", "at least \"1h\"")?;
    cfg.billing.month = b.month.0;
    let check = cx.nonzero(b.cost_alert_check.0, "billing.cost_alert_check")?;
    cx.check(
        b.cost_alert_window.0 >= check && b.cost_alert_window.0.as_micros().is_multiple_of(check.as_micros()),
        "billing.cost_alert_window",
        format!("a whole multiple of billing.cost_alert_check ({check})"),
    )?;
    cfg.billing.cost_alert = CostAlertConfig {
        max_cost_per_gb_nanos: max_cost,
        window: b.cost_alert_window.0,
        check_interval: check,
        scope: match b.cost_alert_scope.as_str() {
            "cdn" => AlertScope::Cdn,
            "total" => AlertScope::Total,
            _ => return Err(cx.err("billing.cost_alert_scope", "\"cdn\" or \"total\"")),
        },
    };

    let outages = outages(&cx, &raw.outages, &cfg, cdn.as_ref(), duration, &region_id)?;
    let price_changes = price_changes(&cx, &raw.price_changes, &cfg, &lists, cdn.as_ref(), duration)?;
    let targets = targets(&cx, &raw.targets)?;
    let expected = raw.expected.as_ref().map(|e| expected(&cx, e)).transpose()?;
    let min_hit = cx.range(raw.mirror.min_hit_rate, 0.0, 100.0, "mirror.min_hit_rate", "a percentage")?;

    cfg.validate().map_err(|e| cx.err("", format!("the engine refuses this configuration: {e}")))?;
    Ok(Scenario {
        name: meta.name.clone(),
        description: meta.description.clone(),
        seed: meta.seed,
        duration,
        warmup: meta.warmup.0,
        report_interval,
        sha256,
        path,
        env: None,
        geos,
        catalog,
        traffic,
        network,
        cdn,
        probe_interval,
        request_timeout,
        outages,
        price_changes,
        targets,
        mirror_min_hit_rate: min_hit / 100.0,
        expected,
        providers,
        engine: cfg,
        source_policy,
        placement,
    })
}

fn names(lists: &[PriceList], kind: ProviderKind) -> String {
    lists.iter().filter(|l| l.kind == kind).map(|l| l.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn geos(cx: &Ctx<'_>, t: &RawTraffic, regions: &[RawRegion]) -> R<Vec<String>> {
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

fn provider_lists(cx: &Ctx<'_>, raw: &RawScenario, regions: &[RawRegion], geos: &[String]) -> R<Vec<PriceList>> {
    let mut lists: Vec<PriceList> = prices::BUILTIN.iter().map(|n| prices::builtin(n).expect("built-in")).collect();
    for (name, p) in &raw.providers {
        let path = format!("providers.{name}");
        let idx = match lists.iter().position(|l| &l.name == name) {
            Some(i) => i,
            None => {
                let kind = match p.kind.as_deref() {
                    Some("cdn") => ProviderKind::Cdn,
                    Some("storage") => ProviderKind::Storage,
                    Some(_) => return Err(cx.err(format!("{path}.kind"), "\"cdn\" or \"storage\"")),
                    None => {
                        return Err(cx.err(
                            format!("{path}.kind"),
                            format!(
                                "`{name}` is not a built-in provider ({}): say kind = \"cdn\" or \"storage\"",
                                prices::BUILTIN.join(", ")
                            ),
                        ))
                    }
                };
                lists.push(PriceList {
                    name: name.clone(),
                    kind,
                    source: String::new(),
                    all: PriceSet::default(),
                    zones: vec![],
                    free_egress_to_cdn: vec![],
                });
                lists.len() - 1
            }
        };
        let list = &mut lists[idx];
        if let Some(k) = &p.kind {
            cx.check(
                k == list.kind.name(),
                format!("{path}.kind"),
                format!("\"{}\": `{name}` is built in as one", list.kind.name()),
            )?;
        }
        list.source = p.source.clone().unwrap_or_else(|| format!("scenario [providers.{name}]"));
        merge(cx, &mut list.all, &p.prices(), &path)?;
        for (zone, prices) in &p.zones {
            let zpath = format!("{path}.zones.{zone}");
            let known = match list.kind {
                ProviderKind::Cdn => geos.contains(zone),
                ProviderKind::Storage => regions.iter().any(|r| &r.name == zone),
            };
            cx.check(
                known,
                &zpath,
                match list.kind {
                    ProviderKind::Cdn => format!("a geography of this scenario ({})", geos.join(", ")),
                    ProviderKind::Storage => "a region of this scenario".to_string(),
                },
            )?;
            let set = match list.zones.iter_mut().find(|(z, _)| z == zone) {
                Some((_, s)) => s,
                None => {
                    list.zones.push((zone.clone(), PriceSet::default()));
                    &mut list.zones.last_mut().expect("just pushed").1
                }
            };
            merge(cx, set, prices, &zpath)?;
        }
    }
    Ok(lists)
}

/// Converts written prices into tiers; each key present replaces the one in `set`.
fn merge(cx: &Ctx<'_>, set: &mut PriceSet, p: &RawPrices, path: &str) -> R<()> {
    let conv = |v: &Option<RawPrice>, key: &str| -> R<Option<Tiers>> {
        v.as_ref().map(|price| tiers_of(cx, price, &format!("{path}.{key}"))).transpose()
    };
    if let Some(t) = conv(&p.storage_per_gb_month, "storage_per_gb_month")? {
        set.storage_per_gb_month = Some(t);
    }
    if let Some(t) = conv(&p.egress_per_gb, "egress_per_gb")? {
        set.egress_per_gb = Some(t);
    }
    if let Some(t) = conv(&p.egress_to_cdn_per_gb, "egress_to_cdn_per_gb")? {
        set.egress_to_cdn_per_gb = Some(t);
    }
    if let Some(t) = conv(&p.inter_region_per_gb, "inter_region_per_gb")? {
        set.inter_region_per_gb = Some(t);
    }
    if let Some(t) = conv(&p.requests_per_10k, "requests_per_10k")? {
        set.requests_per_10k = Some(t);
    }
    Ok(())
}

fn tiers_of(cx: &Ctx<'_>, p: &RawPrice, path: &str) -> R<Tiers> {
    let tiers = match p {
        RawPrice::Flat(usd) => {
            vec![Tier { from_units: 0, nanos_per_unit: usd_to_nanos(*usd).map_err(|e| cx.err(path, e))? }]
        }
        RawPrice::Tiers(list) => {
            let mut out = Vec::with_capacity(list.len());
            for (i, t) in list.iter().enumerate() {
                let nanos = usd_to_nanos(t.usd).map_err(|e| cx.err(format!("{path}[{i}].usd"), e))?;
                out.push(Tier { from_units: t.from, nanos_per_unit: nanos });
            }
            out
        }
    };
    RateTable::tiered(tiers.clone()).map_err(|e| cx.err(path, format!("valid tiers: {e}")))?;
    Ok(tiers)
}

fn set_rates(cx: &Ctx<'_>, cfg: &mut EngineConfig, lists: &[PriceList], cdn: Option<&Cdn>) -> R<()> {
    let zero = vec![Tier { from_units: 0, nanos_per_unit: 0 }];
    for (pid, pname) in cfg.providers.clone().iter().enumerate() {
        let pid = ProviderId(pid as u32);
        let list = lists.iter().find(|l| &l.name == pname).expect("providers come from the lists");
        let path = format!("providers.{pname}");
        let zone_sets = std::iter::once((None, &list.all)).chain(list.zones.iter().map(|(z, s)| (Some(z.as_str()), s)));
        for (zone_name, set) in zone_sets {
            let zone = match zone_name {
                None => None,
                Some(z) => {
                    let id = match list.kind {
                        ProviderKind::Cdn => cfg.geo_id(z).map(|g| g.0),
                        ProviderKind::Storage => cfg.region_id(z).map(|r| r.0),
                    };
                    match id {
                        Some(id) => Some(id),
                        // A built-in zone this scenario does not use (declared ones were checked).
                        None => continue,
                    }
                }
            };
            let mut put = |meter: Meter, t: &Option<Tiers>, required: bool, key: &str| -> R<()> {
                match t {
                    Some(t) => cfg.billing.rates.push(RateEntry {
                        meter,
                        provider: pid,
                        zone,
                        table: RateTable::tiered(t.clone()).expect("checked when read"),
                    }),
                    None if required && zone.is_none() => {
                        return Err(cx.err(format!("{path}.{key}"), format!("a price: `{pname}` has none for `{key}`")));
                    }
                    None => {}
                }
                Ok(())
            };
            match list.kind {
                ProviderKind::Cdn => {
                    put(Meter::CdnEgress, &set.egress_per_gb, true, "egress_per_gb")?;
                    let req = set.requests_per_10k.clone().or((zone.is_none()).then(|| zero.clone()));
                    put(Meter::CdnRequests, &req, true, "requests_per_10k")?;
                }
                ProviderKind::Storage => {
                    put(Meter::StorageByteTime, &set.storage_per_gb_month, true, "storage_per_gb_month")?;
                    put(Meter::OriginEgressDirect, &set.egress_per_gb, true, "egress_per_gb")?;
                    // Egress to the CDN: an explicit price wins; else free where the provider sends
                    // to this CDN for free (a zone then inherits the provider-wide zero); else the
                    // egress price.
                    let free = cdn.is_some_and(|c| list.free_egress_to_cdn.contains(&c.name));
                    let to_cdn = match (&set.egress_to_cdn_per_gb, free, zone) {
                        (Some(explicit), _, _) => Some(explicit.clone()),
                        (None, true, None) => Some(zero.clone()),
                        (None, true, Some(_)) => None,
                        (None, false, _) => set.egress_per_gb.clone(),
                    };
                    put(Meter::OriginEgressToCdn, &to_cdn, true, "egress_to_cdn_per_gb")?;
                    put(Meter::InterRegion, &set.inter_region_per_gb, true, "inter_region_per_gb")?;
                    let req = set.requests_per_10k.clone().or((zone.is_none()).then(|| zero.clone()));
                    put(Meter::OriginRequests, &req, true, "requests_per_10k")?;
                }
            }
        }
    }
    Ok(())
}

fn catalog(cx: &Ctx<'_>, c: &RawCatalog, cfg: &EngineConfig) -> R<Catalog> {
    cx.check(c.clips >= 1 && c.clips <= CLIPS_MAX, "catalog.clips", format!("1 to {CLIPS_MAX} clips"))?;
    let size = match c.size {
        RawSize::Fixed { mb } => {
            let mb = cx.positive(mb, 100_000.0, "catalog.size.mb", "megabytes")?;
            SizeDist::Fixed(((mb * 1e6).round() as u64).max(1))
        }
        RawSize::Lognormal { mean_mb, sigma } => {
            let mean = cx.positive(mean_mb, 100_000.0, "catalog.size.mean_mb", "megabytes")?;
            let sigma = cx.range(sigma, 0.0, 4.0, "catalog.size.sigma", "a shape")?;
            // mean = exp(mu + sigma^2 / 2)
            SizeDist::Lognormal { mu: libm::log(mean * 1e6) - sigma * sigma / 2.0, sigma }
        }
    };
    let region = |name: &str, path: &str| {
        cfg.region_id(name).ok_or_else(|| {
            cx.err(
                path,
                format!(
                    "a region: one of {}",
                    cfg.regions.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        })
    };
    let primary_shares = match (&c.primary_region, &c.primary_regions) {
        (Some(_), Some(_)) => {
            return Err(cx.err("catalog.primary_regions", "either primary_region or primary_regions, not both"))
        }
        (Some(name), None) => vec![(region(name, "catalog.primary_region")?, 1.0)],
        (None, Some(shares)) => {
            let mut out = Vec::new();
            for (name, &share) in shares {
                let path = format!("catalog.primary_regions.{name}");
                out.push((region(name, &path)?, cx.range(share, 0.0, 1.0, &path, "a share")?));
            }
            let sum: f64 = out.iter().map(|(_, s)| s).sum();
            cx.check(
                (sum - 1.0).abs() < 1e-6,
                "catalog.primary_regions",
                format!("shares that sum to 1 (they sum to {sum:.6})"),
            )?;
            out
        }
        (None, None) => vec![(RegionId(0), 1.0)],
    };
    let uploads = cx.range(c.uploads_per_day, 0.0, 10_000_000.0, "catalog.uploads_per_day", "a rate")?;
    Ok(Catalog { clips: c.clips as u32, size, primary_shares, uploads_per_day: uploads })
}

fn traffic(cx: &Ctx<'_>, t: &RawTraffic, geos: &[String], clips: u32, duration: SimDuration) -> R<Traffic> {
    let views_per_sec = match (t.views_per_month, t.requests_per_second) {
        (Some(_), Some(_)) => {
            return Err(cx.err("traffic.requests_per_second", "either views_per_month or requests_per_second, not both"))
        }
        (Some(v), None) => {
            cx.positive(v, VIEWS_PER_SEC_MAX * 2_592_000.0, "traffic.views_per_month", "views")? / 2_592_000.0
        }
        (None, Some(r)) => cx.positive(r, VIEWS_PER_SEC_MAX, "traffic.requests_per_second", "requests per second")?,
        (None, None) => 1_000_000.0 / 2_592_000.0,
    };
    let popularity = match t.popularity {
        RawPopularity::Zipf { alpha } => {
            Popularity::Zipf(cx.range(alpha, 0.0, 5.0, "traffic.popularity.alpha", "an exponent")?)
        }
        RawPopularity::Uniform {} => Popularity::Uniform,
    };
    let decay_days = cx.positive(t.new_clip_decay_days, 3650.0, "traffic.new_clip_decay_days", "days")?;
    let new_clip_share = cx.range(t.new_clip_share, 0.0, 1.0, "traffic.new_clip_share", "a share")?;
    let amplitude = cx.range(t.diurnal_amplitude, 0.0, 0.95, "traffic.diurnal_amplitude", "an amplitude")?;
    let votes = cx.range(t.votes_per_view, 0.0, 1.0, "traffic.votes_per_view", "votes per view")?;
    let up = cx.range(t.upvote_share, 0.0, 1.0, "traffic.upvote_share", "a share")?;
    let geo_shares: Vec<f64> = if t.geos.is_empty() {
        vec![1.0 / geos.len() as f64; geos.len()]
    } else {
        let mut shares = Vec::new();
        for (name, &s) in &t.geos {
            shares.push(cx.range(s, 0.0, 1.0, &format!("traffic.geos.{name}"), "a share")?);
        }
        let sum: f64 = shares.iter().sum();
        cx.check((sum - 1.0).abs() < 1e-6, "traffic.geos", format!("shares that sum to 1 (they sum to {sum:.6})"))?;
        shares
    };
    for key in t.utc_offset_hours.keys() {
        cx.check(
            geos.contains(key),
            format!("traffic.utc_offset_hours.{key}"),
            format!("a geography ({})", geos.join(", ")),
        )?;
    }
    let mut utc_offset_min = Vec::new();
    for g in geos {
        let hours = match t.utc_offset_hours.get(g) {
            Some(&h) => cx.range(h, -12.0, 14.0, &format!("traffic.utc_offset_hours.{g}"), "hours")?,
            None => default_utc_offset(g),
        };
        utc_offset_min.push((hours * 60.0).round() as i32);
    }
    cx.check(t.spikes.len() <= EVENTS_MAX, "traffic.spikes", format!("at most {EVENTS_MAX} spikes"))?;
    let mut spikes = Vec::new();
    for (i, s) in t.spikes.iter().enumerate() {
        let p = format!("traffic.spikes[{i}]");
        let clip = if s.clip == "new" {
            SpikeClip::New
        } else {
            let rank = s.clip.strip_prefix("rank:").and_then(|r| r.parse::<u64>().ok());
            match rank {
                Some(r) if r >= 1 && r <= u64::from(clips) => SpikeClip::Rank(r as u32 - 1),
                _ => return Err(cx.err(format!("{p}.clip"), format!("\"new\" or \"rank:N\" with N from 1 to {clips}"))),
            }
        };
        cx.check(s.start.0 < duration, format!("{p}.start"), format!("inside the run (before {duration})"))?;
        cx.nonzero(s.duration.0, &format!("{p}.duration"))?;
        let vph = cx.positive(
            s.views_per_hour,
            VIEWS_PER_SEC_MAX * 3600.0,
            &format!("{p}.views_per_hour"),
            "views per hour",
        )?;
        let geo = match &s.geo {
            None => None,
            Some(g) => Some(GeoId(
                geos.iter()
                    .position(|x| x == g)
                    .ok_or_else(|| cx.err(format!("{p}.geo"), format!("a geography ({})", geos.join(", "))))?
                    as u32,
            )),
        };
        let start = SimTime::ZERO + s.start.0;
        spikes.push(Spike { clip, start, end: start + s.duration.0, views_per_hour: vph, geo });
    }
    Ok(Traffic {
        views_per_sec,
        popularity,
        new_clip_decay: (new_clip_share > 0.0)
            .then(|| SimDuration::from_micros((decay_days * 86_400e6).round() as u64)),
        new_clip_share,
        diurnal_amplitude: if t.diurnal { amplitude } else { 0.0 },
        votes_per_view: votes,
        upvote_share: up,
        geo_shares,
        utc_offset_min,
        spikes,
    })
}

/// Typical UTC offsets of the usual geography names (hours).
pub fn default_utc_offset(geo: &str) -> f64 {
    match geo {
        "na" | "us" => -5.0,
        "sa" => -3.0,
        "eu" => 1.0,
        "af" => 2.0,
        "me" => 3.0,
        "in" => 5.5,
        "apac" | "asia" => 8.0,
        "jp" => 9.0,
        "oc" | "au" => 10.0,
        _ => 0.0,
    }
}

fn network(cx: &Ctx<'_>, n: &RawNetwork) -> R<Network> {
    let gbps = cx.positive(n.inter_region_gbps, 10_000.0, "network.inter_region_gbps", "Gbit/s")?;
    let rtt = cx.range(n.inter_region_rtt_ms, 0.0, 60_000.0, "network.inter_region_rtt_ms", "milliseconds")?;
    let mbps = cx.positive(n.viewer_mbps, 100_000.0, "network.viewer_mbps", "Mbit/s")?;
    let sigma = cx.range(n.viewer_mbps_sigma, 0.0, 3.0, "network.viewer_mbps_sigma", "a lognormal shape")?;
    cx.check((1..=20).contains(&n.round_trips), "network.round_trips", "1 to 20")?;
    let secs = cx.range(n.startup_seconds, 0.0, 600.0, "network.startup_seconds", "seconds")?;
    let bitrate = cx.positive(n.bitrate_mbps, 1_000.0, "network.bitrate_mbps", "Mbit/s")?;
    Ok(Network {
        inter_region_bps: (gbps * 1e9).round() as u64,
        inter_region_rtt: SimDuration::from_micros((rtt * 1000.0).round() as u64),
        viewer_bps: ((mbps * 1e6).round() as u64).max(1),
        viewer_sigma: sigma,
        round_trips: n.round_trips,
        startup_bytes: (secs * bitrate * 1e6 / 8.0).round() as u64,
    })
}

fn mirror(
    cx: &Ctx<'_>,
    m: &RawMirror,
    cfg: &mut EngineConfig,
    region_id: &dyn Fn(&EngineConfig, &str, &str) -> R<RegionId>,
) -> R<()> {
    let mut regions = Vec::new();
    if let Some(names) = &m.regions {
        for (i, name) in names.iter().enumerate() {
            let path = format!("mirror.regions[{i}]");
            let r = region_id(cfg, name, &path)?;
            cx.check(!regions.contains(&r), &path, "each region once")?;
            regions.push(r);
        }
    } else {
        regions = (0..cfg.regions.len() as u32).map(RegionId).collect();
    }
    let ttl_days = cx.positive(m.ttl_days, 3650.0, "mirror.ttl_days", "days")?;
    cx.check(
        m.max_per_clip >= 1 && m.max_per_clip as usize <= MIRRORS_PER_CLIP_MAX,
        "mirror.max_per_clip",
        format!("1 to {MIRRORS_PER_CLIP_MAX}"),
    )?;
    let sync_min = cx.positive(m.sync_interval_minutes, 525_600.0, "mirror.sync_interval_minutes", "minutes")?;
    cx.check(
        m.view_weight > 0 || m.vote_weight > 0 || m.replication_threshold == 0,
        "mirror.replication_threshold",
        "a threshold that can be reached: view_weight and vote_weight are both 0",
    )?;
    cx.check(
        m.replication_threshold <= i64::MAX as u64,
        "mirror.replication_threshold",
        format!("at most {}", i64::MAX),
    )?;
    cx.check((1..=50).contains(&m.copy_attempts_max), "mirror.copy_attempts_max", "1 to 50")?;
    let backoff = cx.nonzero(m.retry_backoff.0, "mirror.retry_backoff")?;
    cx.check(
        m.retry_backoff_max.0 >= backoff,
        "mirror.retry_backoff_max",
        format!("at least mirror.retry_backoff ({backoff})"),
    )?;
    let half_life = m.score_half_life.map(|h| cx.nonzero(h.0, "mirror.score_half_life")).transpose()?;
    cfg.mirror = MirrorConfig {
        enabled: m.enabled,
        regions,
        replication_threshold: m.replication_threshold,
        view_weight: m.view_weight,
        vote_weight: m.vote_weight,
        score_half_life: half_life,
        ttl: SimDuration::from_micros((ttl_days * 86_400e6).round() as u64),
        refresh_ttl_on_sync: m.refresh_ttl_on_sync,
        max_per_clip: m.max_per_clip as u8,
        sync_interval: SimDuration::from_micros((sync_min * 60e6).round() as u64),
        cleanup_interval: cx.nonzero(m.cleanup_interval.0, "mirror.cleanup_interval")?,
        retry_backoff_base: backoff,
        retry_backoff_max: m.retry_backoff_max.0,
        copy_attempts_max: m.copy_attempts_max as u8,
    };
    Ok(())
}

fn outages(
    cx: &Ctx<'_>,
    list: &[RawOutage],
    cfg: &EngineConfig,
    cdn: Option<&Cdn>,
    duration: SimDuration,
    region_id: &dyn Fn(&EngineConfig, &str, &str) -> R<RegionId>,
) -> R<Vec<Outage>> {
    cx.check(list.len() <= EVENTS_MAX, "outages", format!("at most {EVENTS_MAX} outages"))?;
    let mut out = Vec::new();
    for (i, o) in list.iter().enumerate() {
        let p = format!("outages[{i}]");
        let tp = format!("{p}.target");
        let (kind_word, name) = o
            .target
            .split_once(':')
            .ok_or_else(|| cx.err(&tp, "`region:NAME`, `cdn:PROVIDER`, `storage:PROVIDER` or `link:FROM->TO`"))?;
        let target = match kind_word {
            "region" => OutageTarget::Region(region_id(cfg, name, &tp)?),
            "cdn" => {
                let c = cdn.ok_or_else(|| cx.err(&tp, "a CDN outage needs [cdn] enabled = true"))?;
                cx.check(c.name == name, &tp, format!("the scenario's CDN, `cdn:{}`", c.name))?;
                OutageTarget::Cdn
            }
            "storage" => {
                let mask = cfg
                    .regions
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| cfg.providers[r.storage_provider.index()] == name)
                    .fold(0u64, |m, (i, _)| m | 1 << i);
                cx.check(mask != 0, &tp, "a storage provider that stores at least one region")?;
                OutageTarget::Regions(mask)
            }
            "link" => {
                let (a, b) = name.split_once("->").ok_or_else(|| cx.err(&tp, "`link:FROM->TO`"))?;
                let (a, b) = (region_id(cfg, a.trim(), &tp)?, region_id(cfg, b.trim(), &tp)?);
                cx.check(a != b, &tp, "two different regions")?;
                OutageTarget::Link(a, b)
            }
            _ => return Err(cx.err(&tp, "`region:NAME`, `cdn:PROVIDER`, `storage:PROVIDER` or `link:FROM->TO`")),
        };
        let kind = match o.kind.as_str() {
            "down" => OutageKind::Down,
            "degraded" => {
                let f = o.latency_factor.unwrap_or(1.0);
                let f = cx.range(f, 1.0, 1000.0, &format!("{p}.latency_factor"), "a latency multiplier")?;
                let e = cx.range(o.error_rate.unwrap_or(0.0), 0.0, 1.0, &format!("{p}.error_rate"), "a share")?;
                cx.check(
                    f > 1.0 || e > 0.0,
                    format!("{p}.kind"),
                    "a degradation: latency_factor above 1 or error_rate above 0",
                )?;
                OutageKind::Degraded { latency_factor: f, error_rate: e }
            }
            "lag" => {
                let lag = o.lag.ok_or_else(|| cx.err(format!("{p}.lag"), "a lag duration for kind = \"lag\""))?;
                cx.check(
                    matches!(target, OutageTarget::Region(_)),
                    &tp,
                    "a region (`region:NAME`) for kind = \"lag\"",
                )?;
                OutageKind::Lag(cx.nonzero(lag.0, &format!("{p}.lag"))?)
            }
            _ => return Err(cx.err(format!("{p}.kind"), "\"down\", \"degraded\" or \"lag\"")),
        };
        if matches!(target, OutageTarget::Link(..)) {
            cx.check(
                kind == OutageKind::Down,
                format!("{p}.kind"),
                "\"down\" for a link (a link is either cut or not)",
            )?;
        }
        if !matches!(kind, OutageKind::Lag(_)) {
            cx.check(o.lag.is_none(), format!("{p}.lag"), "lag only with kind = \"lag\"")?;
        }
        if !matches!(kind, OutageKind::Degraded { .. }) {
            cx.check(
                o.latency_factor.is_none() && o.error_rate.is_none(),
                format!("{p}.latency_factor"),
                "latency_factor and error_rate only with kind = \"degraded\"",
            )?;
        }
        cx.check(o.start.0 < duration, format!("{p}.start"), format!("inside the run (before {duration})"))?;
        cx.nonzero(o.duration.0, &format!("{p}.duration"))?;
        let start = SimTime::ZERO + o.start.0;
        out.push(Outage { label: o.target.clone(), target, kind, start, end: start + o.duration.0 });
    }
    out.sort_by_key(|o| o.start);
    Ok(out)
}

fn price_changes(
    cx: &Ctx<'_>,
    list: &[RawPriceChange],
    cfg: &EngineConfig,
    lists: &[PriceList],
    cdn: Option<&Cdn>,
    duration: SimDuration,
) -> R<Vec<(SimTime, Input)>> {
    cx.check(list.len() <= EVENTS_MAX, "price_changes", format!("at most {EVENTS_MAX} price changes"))?;
    let mut out = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let p = format!("price_changes[{i}]");
        cx.check(c.at.0 < duration, format!("{p}.at"), format!("inside the run (before {duration})"))?;
        let list = lists
            .iter()
            .find(|l| l.name == c.provider)
            .ok_or_else(|| cx.err(format!("{p}.provider"), "a known provider"))?;
        let Some(provider) = cfg.provider_id(&c.provider) else {
            // A provider this scenario does not use: nothing to reprice.
            continue;
        };
        let zone = match &c.zone {
            None => None,
            Some(z) => Some(
                match list.kind {
                    ProviderKind::Cdn => cfg.geo_id(z).map(|g| g.0),
                    ProviderKind::Storage => cfg.region_id(z).map(|r| r.0),
                }
                .ok_or_else(|| cx.err(format!("{p}.zone"), "a geography (CDN) or region (storage) of this scenario"))?,
            ),
        };
        let mut set = PriceSet::default();
        merge(cx, &mut set, &c.prices(), &p)?;
        let at = SimTime::ZERO + c.at.0;
        let before = out.len();
        let mut push = |meter: Meter, t: &Option<Tiers>| {
            if let Some(t) = t {
                out.push((
                    at,
                    Input::PriceChange { meter, provider, zone, table: RateTable::tiered(t.clone()).expect("checked") },
                ));
            }
        };
        match list.kind {
            ProviderKind::Cdn => {
                push(Meter::CdnEgress, &set.egress_per_gb);
                push(Meter::CdnRequests, &set.requests_per_10k);
            }
            ProviderKind::Storage => {
                push(Meter::StorageByteTime, &set.storage_per_gb_month);
                push(Meter::OriginEgressDirect, &set.egress_per_gb);
                let free = cdn.is_some_and(|x| list.free_egress_to_cdn.contains(&x.name));
                let to_cdn = set.egress_to_cdn_per_gb.clone().or(if free { None } else { set.egress_per_gb.clone() });
                push(Meter::OriginEgressToCdn, &to_cdn);
                push(Meter::InterRegion, &set.inter_region_per_gb);
                push(Meter::OriginRequests, &set.requests_per_10k);
            }
        }
        cx.check(
            out.len() > before || c.egress_to_cdn_per_gb.is_some(),
            &p,
            "at least one price key (egress_per_gb, storage_per_gb_month, ...)",
        )?;
    }
    out.sort_by_key(|(t, _)| *t);
    Ok(out)
}

fn targets(cx: &Ctx<'_>, t: &RawTargets) -> R<Targets> {
    if !t.enabled {
        return Ok(Targets::default());
    }
    Ok(Targets {
        p50_load_ms: t
            .p50_load_ms
            .map(|v| cx.positive(v, 3_600_000.0, "targets.p50_load_ms", "milliseconds"))
            .transpose()?,
        p95_load_ms: t
            .p95_load_ms
            .map(|v| cx.positive(v, 3_600_000.0, "targets.p95_load_ms", "milliseconds"))
            .transpose()?,
        availability: t.availability.map(|v| cx.range(v, 0.0, 1.0, "targets.availability", "a share")).transpose()?,
        cost_per_gb_nanos: t
            .cost_per_gb
            .map(|v| usd_to_nanos(v).map_err(|e| cx.err("targets.cost_per_gb", e)))
            .transpose()?,
        top100_mirror_hit_rate: t
            .top100_mirror_hit_rate
            .map(|v| cx.range(v, 0.0, 1.0, "targets.top100_mirror_hit_rate", "a share"))
            .transpose()?,
    })
}

fn expected(cx: &Ctx<'_>, e: &RawExpected) -> R<Expected> {
    let usd = |v: Option<f64>, key: &str| -> R<Option<u64>> {
        v.map(|x| {
            cx.check(x.is_finite() && (0.0..1e12).contains(&x), format!("expected.{key}"), "dollars, 0 or more")?;
            Ok((x * 1e9).round() as u64)
        })
        .transpose()
    };
    let mut categories = Vec::new();
    for (cat, v, key) in [
        (Category::Storage, e.storage_usd, "storage_usd"),
        (Category::CdnEgress, e.cdn_egress_usd, "cdn_egress_usd"),
        (Category::OriginEgress, e.origin_egress_usd, "origin_egress_usd"),
        (Category::InterRegion, e.inter_region_usd, "inter_region_usd"),
        (Category::Requests, e.requests_usd, "requests_usd"),
    ] {
        if let Some(n) = usd(v, key)? {
            categories.push((cat, n));
        }
    }
    Ok(Expected {
        source: e.source.clone(),
        categories,
        total_nanos: usd(e.total_usd, "total_usd")?,
        notes: e.notes.clone(),
    })
}
