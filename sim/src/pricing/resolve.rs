//! A scenario's prices: the built-in lists merged with its `[providers.NAME]` overrides, the rate
//! table of every line the engine meters, and its `[[price_changes]]` as engine inputs. Errors are
//! located in the scenario file like every other check.

use super::{
    allowance_meters, builtin, meter_tables, Level, PlanIncludes, PriceKey, PriceList, PriceSet, ProviderKind, Tiers,
};
use crate::scenario::model::Cdn;
use crate::scenario::raw::{RawPrice, RawPriceChange, RawPrices, RawRegion, RawScenario};
use crate::scenario::units::usd_to_nanos;
use crate::scenario::validate::{Ctx, EVENTS_MAX, R};
use clipsim_engine::{EngineConfig, Input, ProviderId, RateEntry, RateTable, SimDuration, SimTime, Tier};
use serde::Deserialize;

/// The names of the providers of `kind`, for messages.
pub(crate) fn names(lists: &[PriceList], kind: ProviderKind) -> String {
    lists.iter().filter(|l| l.kind == kind).map(|l| l.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// The built-in lists with the scenario's `[providers.NAME]` merged in (new providers added).
pub(crate) fn provider_lists(
    cx: &Ctx<'_>,
    raw: &RawScenario,
    regions: &[RawRegion],
    geos: &[String],
) -> R<Vec<PriceList>> {
    let mut lists: Vec<PriceList> = builtin::BUILTIN.iter().map(|n| builtin::builtin(n).expect("built-in")).collect();
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
                                builtin::BUILTIN.join(", ")
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
                    plan_includes: None,
                    free_per_month: vec![],
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
        merge(cx, &mut list.all, list.kind, &p.prices, &path)?;
        if let Some(inc) = &p.plan_includes {
            let path = format!("{path}.plan_includes");
            cx.check(list.kind == ProviderKind::Cdn, &path, "only for a CDN (a flat-rate plan's included delivery)")?;
            list.plan_includes = Some(PlanIncludes { egress_gb: inc.egress_gb, requests: inc.requests });
        }
        if let Some(free) = &p.free_per_month {
            list.free_per_month = allowances(cx, list.kind, free, &format!("{path}.free_per_month"))?;
        }
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
            merge(cx, set, list.kind, prices, &zpath)?;
            cx.check(
                set.plan_per_month.is_none(),
                format!("{zpath}.plan_per_month"),
                "no plan price in a zone: a plan covers every zone (set it on the provider)",
            )?;
        }
    }
    Ok(lists)
}

/// Converts written prices into tiers; each key written replaces the one in `set`. A key that
/// is not a [`PriceKey`] is refused, named with what is expected.
fn merge(cx: &Ctx<'_>, set: &mut PriceSet, kind: ProviderKind, prices: &RawPrices, path: &str) -> R<()> {
    for (name, price) in prices {
        let key = PriceKey::from_name(name).ok_or_else(|| {
            cx.err(
                format!("{path}.{name}"),
                format!("unknown price key `{name}`: expected one of {}", PriceKey::names()),
            )
        })?;
        cx.check(
            key.applies_to(kind),
            format!("{path}.{name}"),
            format!("a price a {} provider charges (a CDN: egress_per_gb, requests_per_10k, plan_per_month; storage: the others)", kind.name()),
        )?;
        let price = RawPrice::deserialize(price.clone()).map_err(|_| {
            cx.err(
                format!("{path}.{name}"),
                "a price in dollars, or a list of tiers like [{ from = 0, usd = 0.085 }, { from = 10240, usd = 0.08 }]",
            )
        })?;
        set.set(key, tiers_of(cx, &price, &format!("{path}.{name}"))?);
    }
    Ok(())
}

/// Reads `free_per_month`: price keys that take an allowance, each with a whole number of free
/// price units a month.
fn allowances(cx: &Ctx<'_>, kind: ProviderKind, free: &RawPrices, path: &str) -> R<Vec<(PriceKey, u64)>> {
    let keys = || {
        let keys = PriceKey::ALL.into_iter().filter(|k| k.can_be_free() && k.applies_to(kind));
        keys.map(PriceKey::name).collect::<Vec<_>>().join(", ")
    };
    let mut out = Vec::new();
    for (name, value) in free {
        let key = PriceKey::from_name(name).filter(|k| k.can_be_free() && k.applies_to(kind));
        let key = key.ok_or_else(|| {
            cx.err(
                format!("{path}.{name}"),
                format!("a key a {} provider grants free units of: {}", kind.name(), keys()),
            )
        })?;
        let units = value.as_integer().and_then(|n| u64::try_from(n).ok()).filter(|&n| n <= FREE_UNITS_MAX);
        let units = units.ok_or_else(|| {
            cx.err(
                format!("{path}.{name}"),
                format!("a whole number of price units (GB, GB-month, 10k requests) from 0 to {FREE_UNITS_MAX}"),
            )
        })?;
        out.push((key, units));
    }
    Ok(out)
}

/// The largest allowance accepted, in price units (a billion GB: far above any plan).
const FREE_UNITS_MAX: u64 = 1_000_000_000;

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

/// The zone id of a zone name of a `kind` provider: a geography of a CDN, a region of storage.
fn zone_id(cfg: &EngineConfig, kind: ProviderKind, zone: &str) -> Option<u32> {
    match kind {
        ProviderKind::Cdn => cfg.geo_id(zone).map(|g| g.0),
        ProviderKind::Storage => cfg.region_id(zone).map(|r| r.0),
    }
}

/// Whether the storage of `list` sends to the scenario's CDNs for free (to both of two: the
/// scenario's check refuses a storage that prices them apart).
fn free_to_cdn(list: &PriceList, cdn: Option<&Cdn>) -> bool {
    cdn.is_some_and(|c| c.names().all(|n| list.free_egress_to_cdn.iter().any(|f| f == n)))
}

/// Sets the rate table of every line the engine will meter: each provider's prices for every
/// zone, then its zones' own. A price a provider lacks for a meter it needs is refused.
pub(crate) fn set_rates(cx: &Ctx<'_>, cfg: &mut EngineConfig, lists: &[PriceList], cdn: Option<&Cdn>) -> R<()> {
    for (pid, pname) in cfg.providers.clone().iter().enumerate() {
        let pid = ProviderId(pid as u32);
        let list = lists.iter().find(|l| &l.name == pname).expect("providers come from the lists");
        let zone_sets = std::iter::once((None, &list.all)).chain(list.zones.iter().map(|(z, s)| (Some(z.as_str()), s)));
        for (zone_name, set) in zone_sets {
            let (zone, level) = match zone_name {
                None => (None, Level::ProviderWide),
                Some(z) => match zone_id(cfg, list.kind, z) {
                    Some(id) => (Some(id), Level::Override),
                    // A built-in zone this scenario does not use (declared ones were checked).
                    None => continue,
                },
            };
            for (meter, key, table) in meter_tables(list.kind, set, free_to_cdn(list, cdn), level) {
                match table {
                    Some(t) => cfg.billing.rates.push(RateEntry {
                        meter,
                        provider: pid,
                        zone,
                        table: RateTable::tiered(t).expect("checked when read"),
                    }),
                    None if level == Level::ProviderWide && !key.optional() => {
                        let key = key.name();
                        return Err(cx.err(
                            format!("providers.{pname}.{key}"),
                            format!("a price: `{pname}` has none for `{key}`"),
                        ));
                    }
                    None => {}
                }
            }
        }
        for &(key, units) in list.free_per_month.iter().filter(|(_, units)| *units > 0) {
            let meters = allowance_meters(list.kind, key, &list.all, free_to_cdn(list, cdn));
            let unit = meters.first().map_or(0, |m| m.units_per_price_unit());
            cfg.add_allowance(pid, &meters, u128::from(units) * unit);
        }
    }
    Ok(())
}

/// The scenario's price changes as engine inputs, in time order.
pub(crate) fn price_changes(
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
        cx.check(!c.prices.is_empty(), &p, format!("at least one price key ({})", PriceKey::names()))?;
        let mut set = PriceSet::default();
        merge(cx, &mut set, list.kind, &c.prices, &p)?;
        let Some(provider) = cfg.provider_id(&c.provider) else {
            // A provider this scenario does not use: nothing to reprice.
            continue;
        };
        let zone = match &c.zone {
            None => None,
            Some(z) => Some(zone_id(cfg, list.kind, z).ok_or_else(|| {
                cx.err(format!("{p}.zone"), "a geography (CDN) or region (storage) of this scenario")
            })?),
        };
        if set.plan_per_month.is_some() {
            let path = format!("{p}.plan_per_month");
            cx.check(zone.is_none(), &path, "no zone: a plan covers every zone")?;
            let has_plan = cfg.rate_for(clipsim_engine::Meter::CdnPlan, provider, 0).is_some();
            cx.check(has_plan, &path, format!("a CDN with a plan from the start (`{}` has none)", c.provider))?;
        }
        let at = SimTime::ZERO + c.at.0;
        for (meter, _, table) in meter_tables(list.kind, &set, free_to_cdn(list, cdn), Level::Override) {
            if let Some(t) = table {
                let table = RateTable::tiered(t).expect("checked when read");
                out.push((at, Input::PriceChange { meter, provider, zone, table }));
            }
        }
    }
    out.sort_by_key(|(t, _)| *t);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::scenario::{from_str, Scenario};
    use clipsim_engine::{Input, Meter};
    use std::path::Path;

    /// The default regions and geographies, a CDN, and `extra`.
    fn scenario(cdn: &str, extra: &str) -> Result<Scenario, String> {
        let text = format!(
            "[scenario]\nname = \"p\"\nduration = \"30d\"\n[catalog]\nclips = 100\n[traffic]\nviews_per_month = 1000\n\
             [cdn]\nenabled = true\nprovider = \"{cdn}\"\n{extra}"
        );
        from_str(Path::new("p.toml"), &text, &Default::default()).map_err(|e| e.to_string())
    }

    /// The first-tier rate, in nanodollars per price unit, of (`provider`, `meter`, `zone`).
    fn rate(sc: &Scenario, provider: &str, meter: Meter, zone: Option<&str>) -> Option<u64> {
        let pid = sc.engine.provider_id(provider)?;
        let zone = zone.map(|z| match meter.zone_is_geo() {
            true => sc.engine.geo_id(z).unwrap().0,
            false => sc.engine.region_id(z).unwrap().0,
        });
        let e = sc.engine.billing.rates.iter().find(|e| e.provider == pid && e.meter == meter && e.zone == zone)?;
        Some(e.table.tiers()[0].nanos_per_unit)
    }

    #[test]
    fn overrides_reprice_their_provider_and_zone_only() {
        let base = scenario("cloudflare", "").unwrap();
        let sc = scenario(
            "cloudflare",
            "[providers.s3]\negress_per_gb = 0.5\n[providers.s3.zones.eu-west-1]\negress_per_gb = 0.7\n",
        )
        .unwrap();
        let s3_egress = |sc: &Scenario, z| rate(sc, "s3", Meter::OriginEgressDirect, z);
        assert_eq!(s3_egress(&sc, None), Some(500_000_000), "s3's provider-wide override");
        assert_eq!(s3_egress(&sc, Some("eu-west-1")), Some(700_000_000), "its zone's, as an override entry");
        assert_eq!(s3_egress(&base, Some("eu-west-1")), None, "no zone entry without a zone override");
        // Cloudflare keeps its built-in price; s3's egress to it follows its new egress price.
        assert_eq!(rate(&sc, "cloudflare", Meter::CdnEgress, None), rate(&base, "cloudflare", Meter::CdnEgress, None));
        assert_eq!(rate(&sc, "s3", Meter::OriginEgressToCdn, None), Some(500_000_000));
        // A zone that is not this scenario's is refused, naming the geographies for a CDN.
        let e = scenario("cloudflare", "[providers.cloudflare.zones.mars]\negress_per_gb = 0.1\n").unwrap_err();
        assert!(
            e.contains("`providers.cloudflare.zones.mars`")
                && e.contains("a geography of this scenario (na, eu, apac)"),
            "{e}"
        );
        let e = scenario("cloudflare", "[providers.s3.zones.na]\negress_per_gb = 0.1\n").unwrap_err();
        assert!(e.contains("a region of this scenario"), "{e}");
        // A zone the built-in list already prices (bunny's apac) takes the override; the others
        // keep theirs.
        let bunny = scenario("bunny", "[providers.bunny.zones.apac]\negress_per_gb = 0.5\n").unwrap();
        let built_in = scenario("bunny", "").unwrap();
        assert_eq!(rate(&built_in, "bunny", Meter::CdnEgress, Some("apac")), Some(30_000_000));
        assert_eq!(rate(&bunny, "bunny", Meter::CdnEgress, Some("apac")), Some(500_000_000));
        assert_eq!(rate(&bunny, "bunny", Meter::CdnEgress, None), Some(10_000_000));
        // A CDN's zone is a geography: its own rate there.
        let sc = scenario("cloudflare", "[providers.cloudflare.zones.apac]\negress_per_gb = 0.11\n").unwrap();
        assert_eq!(rate(&sc, "cloudflare", Meter::CdnEgress, Some("apac")), Some(110_000_000));
    }

    /// An unknown provider's message lists the providers of the kind wanted.
    #[test]
    fn unknown_providers_are_refused_with_the_known_ones_listed() {
        let e = scenario("akamai", "").unwrap_err();
        assert!(
            e.contains("a CDN provider: one of cloudflare, bunny, cloudfront, cloudfront-free, cloudfront-pro, cloudfront-business, cloudfront-premium, or one declared under [providers]"),
            "{e}"
        );
        let region =
            "[[regions]]\nname = \"r\"\nstorage = \"dropbox\"\nlatency_ms = { na = 20, eu = 90, apac = 180 }\n";
        let e = scenario("cloudflare", region).unwrap_err();
        assert!(
            e.contains("a storage provider: one of s3, r2, bunny-storage, or one declared under [providers]"),
            "{e}"
        );
        let e = scenario("fastly", "[providers.fastly]\nkind = \"cdn\"\negress_per_gb = 0.05\n[providers.nope]\nkind = \"cdn\"\negress_per_gb = 1.0\n");
        assert!(e.is_ok(), "declared providers are known: {e:?}");
        let e = scenario("akamai", "[providers.fastly]\nkind = \"cdn\"\negress_per_gb = 0.05\n").unwrap_err();
        assert!(e.contains("one of cloudflare, bunny, cloudfront, cloudfront-free, cloudfront-pro, cloudfront-business, cloudfront-premium, fastly, or one declared"), "{e}");
    }

    #[test]
    fn new_providers_are_added_and_kinds_must_match() {
        let sc = scenario("fastly", "[providers.fastly]\nkind = \"cdn\"\negress_per_gb = 0.05\n").unwrap();
        assert_eq!(rate(&sc, "fastly", Meter::CdnEgress, None), Some(50_000_000));
        assert_eq!(rate(&sc, "fastly", Meter::CdnRequests, None), Some(0), "requests are free unless priced");
        let e = scenario("cloudflare", "[providers.s3]\nkind = \"cdn\"\n").unwrap_err();
        assert!(e.contains("`providers.s3.kind`") && e.contains("\"storage\": `s3` is built in as one"), "{e}");
        let e = scenario("cloudflare", "[providers.s3]\nkind = \"storage\"\n");
        assert!(e.is_ok(), "the built-in kind, said again: {e:?}");
        let e = scenario("fastly", "[providers.fastly]\nkind = \"cdn\"\n").unwrap_err();
        assert!(e.contains("`providers.fastly.egress_per_gb`") && e.contains("has none for `egress_per_gb`"), "{e}");
    }

    #[test]
    fn storage_sends_to_its_own_cdn_for_free() {
        // s3 gives CloudFront free egress; not Cloudflare.
        let to_cloudfront = scenario("cloudfront", "").unwrap();
        let to_cloudflare = scenario("cloudflare", "").unwrap();
        assert_eq!(rate(&to_cloudfront, "s3", Meter::OriginEgressToCdn, None), Some(0));
        assert!(rate(&to_cloudflare, "s3", Meter::OriginEgressToCdn, None).unwrap() > 0);
    }

    /// The free allowances of `provider`: (meters, free base units a month).
    fn allowances(sc: &Scenario, provider: &str) -> Vec<(Vec<Meter>, u128)> {
        let pid = sc.engine.provider_id(provider).unwrap();
        let list = sc.engine.billing.allowances.iter().filter(|a| a.provider == pid);
        list.map(|a| (a.meters.clone(), a.units_per_month)).collect()
    }

    /// Built-in allowances become engine allowances in base units; storage egress to a CDN it
    /// pays for shares the internet egress allowance, to a CDN it feeds for free not; a
    /// scenario replaces them or refuses a key that takes none.
    #[test]
    fn free_allowances_cover_the_meters_their_key_prices() {
        const GB: u128 = 1_000_000_000;
        let cf = scenario("cloudfront", "").unwrap();
        assert_eq!(
            allowances(&cf, "cloudfront"),
            [(vec![Meter::CdnEgress], 1_024 * GB), (vec![Meter::CdnRequests], 10_000_000)]
        );
        assert_eq!(allowances(&cf, "s3"), [(vec![Meter::OriginEgressDirect], 100 * GB)]);
        let flare = scenario("cloudflare", "").unwrap();
        assert_eq!(allowances(&flare, "s3"), [(vec![Meter::OriginEgressDirect, Meter::OriginEgressToCdn], 100 * GB)]);
        assert!(allowances(&flare, "cloudflare").is_empty());
        let r2 = "[[regions]]\nname = \"r\"\nstorage = \"r2\"\nlatency_ms = { na = 20, eu = 90, apac = 180 }\n";
        let r2 = scenario("cloudflare", r2).unwrap();
        let month = clipsim_engine::billing::BYTE_MICROS_PER_GB_MONTH;
        assert_eq!(
            allowances(&r2, "r2"),
            [(vec![Meter::StorageByteTime], 10 * month), (vec![Meter::OriginRequests], 10_000_000)]
        );
        let none = scenario("cloudfront", "[providers.cloudfront]\nfree_per_month = {}\n").unwrap();
        assert!(allowances(&none, "cloudfront").is_empty());
        let mine =
            scenario("cloudfront", "[providers.cloudfront]\nfree_per_month = { requests_per_10k = 3 }\n").unwrap();
        assert_eq!(allowances(&mine, "cloudfront"), [(vec![Meter::CdnRequests], 30_000)]);
        let e = scenario("cloudfront", "[providers.cloudfront]\nfree_per_month = { storage_per_gb_month = 3 }\n");
        let e = e.unwrap_err();
        assert!(
            e.contains("`providers.cloudfront.free_per_month.storage_per_gb_month`")
                && e.contains("a key a cdn provider grants free units of: egress_per_gb, requests_per_10k"),
            "{e}"
        );
        let e = scenario("cloudfront", "[providers.s3]\nfree_per_month = { egress_per_gb = -1 }\n").unwrap_err();
        assert!(e.contains("a whole number of price units") && e.contains("= -1"), "{e}");
    }

    /// A flat-rate plan is a monthly price on its own meter, with what it includes; S3 feeds every
    /// CloudFront plan for free; a CDN without a plan has no plan rate; a storage provider can
    /// have no plan.
    #[test]
    fn flat_rate_plans_price_the_month_and_say_what_they_include() {
        let pro = scenario("cloudfront-pro", "").unwrap();
        assert_eq!(rate(&pro, "cloudfront-pro", Meter::CdnPlan, None), Some(15_000_000_000));
        assert_eq!(rate(&pro, "cloudfront-pro", Meter::CdnEgress, None), Some(0));
        assert_eq!(rate(&pro, "s3", Meter::OriginEgressToCdn, None), Some(0));
        let info = pro.providers.iter().find(|p| p.name == "cloudfront-pro").unwrap();
        assert_eq!(info.plan_includes, Some(crate::pricing::PlanIncludes { egress_gb: 51_200, requests: 10_000_000 }));
        assert_eq!(rate(&scenario("cloudflare", "").unwrap(), "cloudflare", Meter::CdnPlan, None), None);
        let own_text = "[providers.edgy]\nkind = \"cdn\"\negress_per_gb = 0\nplan_per_month = 20\n\
                        plan_includes = { egress_gb = 1000, requests = 5000 }\n";
        let own = scenario("edgy", own_text).unwrap();
        assert_eq!(rate(&own, "edgy", Meter::CdnPlan, None), Some(20_000_000_000));
        let info = own.providers.iter().find(|p| p.name == "edgy").unwrap();
        assert_eq!(info.plan_includes, Some(crate::pricing::PlanIncludes { egress_gb: 1_000, requests: 5_000 }));
        let e = scenario("edgy", &format!("{own_text}[providers.edgy.zones.eu]\nplan_per_month = 5\n")).unwrap_err();
        assert!(
            e.contains("`providers.edgy.zones.eu.plan_per_month`") && e.contains("a plan covers every zone"),
            "{e}"
        );
        let change = |provider: &str, zone: &str| {
            format!("[[price_changes]]\nat = \"10d\"\nprovider = \"{provider}\"\nplan_per_month = 30\n{zone}")
        };
        let ok = scenario("cloudfront-pro", &change("cloudfront-pro", "")).unwrap();
        assert_eq!(ok.price_changes.len(), 1);
        let e = scenario("cloudfront-pro", &change("cloudfront-pro", "zone = \"eu\"\n")).unwrap_err();
        assert!(e.contains("`price_changes[0].plan_per_month`") && e.contains("no zone"), "{e}");
        let e = scenario("cloudfront", &change("cloudfront", "")).unwrap_err();
        assert!(e.contains("a CDN with a plan from the start (`cloudfront` has none)"), "{e}");
        let e = scenario("cloudflare", "[providers.s3]\nplan_per_month = 5\n").unwrap_err();
        assert!(e.contains("`providers.s3.plan_per_month`") && e.contains("a price a storage provider charges"), "{e}");
        let e =
            scenario("cloudflare", "[providers.s3]\nplan_includes = { egress_gb = 1, requests = 1 }\n").unwrap_err();
        assert!(e.contains("`providers.s3.plan_includes`") && e.contains("only for a CDN"), "{e}");
    }

    #[test]
    fn price_changes_are_inside_the_run_and_in_time_order() {
        let change = |at: &str, zone: &str| {
            format!("[[price_changes]]\nat = \"{at}\"\nprovider = \"cloudflare\"\negress_per_gb = 0.2\n{zone}")
        };
        let sc = scenario("cloudflare", &(change("20d", "") + &change("10d", "zone = \"eu\"\n"))).unwrap();
        let times: Vec<u64> = sc.price_changes.iter().map(|(t, _)| t.as_secs() / 86_400).collect();
        assert_eq!(times, [10, 20], "sorted by time");
        let Input::PriceChange { zone, .. } = &sc.price_changes[0].1 else { panic!("a price change") };
        assert_eq!(*zone, Some(sc.engine.geo_id("eu").unwrap().0));
        let e = scenario("cloudflare", &change("30d", "")).unwrap_err();
        assert!(e.contains("inside the run (before 30d)"), "at the end is outside: {e}");
        assert!(scenario("cloudflare", &change("29d", "")).is_ok());
    }
}
