//! A scenario's prices: the built-in lists merged with its `[providers.NAME]` overrides, the rate
//! table of every line the engine meters, and its `[[price_changes]]` as engine inputs. Errors are
//! located in the scenario file like every other check.

use super::{builtin, meter_tables, Level, PriceKey, PriceList, PriceSet, ProviderKind, Tiers};
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
            format!("a price a {} provider charges (a CDN: egress_per_gb, requests_per_10k)", kind.name()),
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

/// Whether the storage of `list` sends to the scenario's CDN for free.
fn free_to_cdn(list: &PriceList, cdn: Option<&Cdn>) -> bool {
    cdn.is_some_and(|c| list.free_egress_to_cdn.contains(&c.name))
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
                    None if level == Level::ProviderWide => {
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
