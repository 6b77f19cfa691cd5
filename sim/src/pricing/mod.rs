//! Prices: what each price key of a scenario is, which meter it prices for which kind of provider,
//! the built-in price tables ([`builtin`]) and how a scenario's providers, overrides and price
//! changes become the engine's rate tables ([`resolve`]).
//!
//! Every price is declared once, in [`PriceKey`]: its name in scenario files, its unit, and the
//! meters it prices ([`meter_tables`], which also holds the one free-egress rule). Scenario
//! parsing, validation, price changes and the docs all go through it, so a new kind of charge is
//! a new key here (and, if nothing meters it yet, a new meter in the engine).

pub mod builtin;
pub(crate) mod resolve;

use clipsim_engine::{Meter, Tier};

/// What a provider sells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// Delivers to viewers from edge caches.
    Cdn,
    /// Stores clips in regions.
    Storage,
}

impl ProviderKind {
    /// `cdn` or `storage`.
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Cdn => "cdn",
            ProviderKind::Storage => "storage",
        }
    }
}

/// A price key of `[providers.NAME]`, its zones and `[[price_changes]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PriceKey {
    /// Storage, $ per GB-month.
    StoragePerGbMonth,
    /// Egress to the internet (storage) or delivery to viewers (CDN), $ per GB.
    EgressPerGb,
    /// Storage egress to the CDN on an edge miss, $ per GB (default: `egress_per_gb`, or free
    /// where the storage provider sends to the scenario's CDN for free).
    EgressToCdnPerGb,
    /// Replication out of a region, $ per GB.
    InterRegionPerGb,
    /// $ per 10,000 requests (default: free).
    RequestsPer10k,
    /// A CDN's flat-rate plan, $ per 30-day month (default: no plan).
    PlanPerMonth,
    /// Storage in the infrequent-access class, $ per GB-month (default: none; needed with a
    /// `[lifecycle]` rule).
    InfrequentStoragePerGbMonth,
    /// Reading from the infrequent-access class, $ per GB retrieved.
    RetrievalPerGb,
    /// Requests answered from the infrequent-access class, $ per 10,000.
    InfrequentRequestsPer10k,
}

impl PriceKey {
    /// Every key, in the order files and docs list them.
    pub const ALL: [PriceKey; 9] = [
        PriceKey::StoragePerGbMonth,
        PriceKey::EgressPerGb,
        PriceKey::EgressToCdnPerGb,
        PriceKey::InterRegionPerGb,
        PriceKey::RequestsPer10k,
        PriceKey::PlanPerMonth,
        PriceKey::InfrequentStoragePerGbMonth,
        PriceKey::RetrievalPerGb,
        PriceKey::InfrequentRequestsPer10k,
    ];

    /// The prices of the infrequent-access class, which a `[lifecycle]` rule needs.
    pub const INFREQUENT: [PriceKey; 3] =
        [PriceKey::InfrequentStoragePerGbMonth, PriceKey::RetrievalPerGb, PriceKey::InfrequentRequestsPer10k];

    /// Its name in scenario files.
    pub const fn name(self) -> &'static str {
        match self {
            PriceKey::StoragePerGbMonth => "storage_per_gb_month",
            PriceKey::EgressPerGb => "egress_per_gb",
            PriceKey::EgressToCdnPerGb => "egress_to_cdn_per_gb",
            PriceKey::InterRegionPerGb => "inter_region_per_gb",
            PriceKey::RequestsPer10k => "requests_per_10k",
            PriceKey::PlanPerMonth => "plan_per_month",
            PriceKey::InfrequentStoragePerGbMonth => "infrequent_storage_per_gb_month",
            PriceKey::RetrievalPerGb => "retrieval_per_gb",
            PriceKey::InfrequentRequestsPer10k => "infrequent_requests_per_10k",
        }
    }

    /// The key with this name.
    pub fn from_name(name: &str) -> Option<PriceKey> {
        PriceKey::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Every key's name, for messages.
    pub fn names() -> String {
        PriceKey::ALL.map(PriceKey::name).join(", ")
    }

    /// Whether a provider may go without it (a flat-rate plan, the infrequent-access class): no
    /// price means no such charge, or no such class.
    pub const fn optional(self) -> bool {
        matches!(
            self,
            PriceKey::PlanPerMonth
                | PriceKey::InfrequentStoragePerGbMonth
                | PriceKey::RetrievalPerGb
                | PriceKey::InfrequentRequestsPer10k
        )
    }

    /// Whether a free allowance may be given in it: storage, egress and requests (the charges
    /// providers grant allowances on).
    pub const fn can_be_free(self) -> bool {
        matches!(self, PriceKey::StoragePerGbMonth | PriceKey::EgressPerGb | PriceKey::RequestsPer10k)
    }

    /// Whether a `kind` provider charges it: a CDN charges delivery and requests, storage all.
    pub const fn applies_to(self, kind: ProviderKind) -> bool {
        match kind {
            ProviderKind::Cdn => {
                matches!(self, PriceKey::EgressPerGb | PriceKey::RequestsPer10k | PriceKey::PlanPerMonth)
            }
            ProviderKind::Storage => !matches!(self, PriceKey::PlanPerMonth),
        }
    }
}

/// One price: tiers in price units and nanodollars per unit.
pub type Tiers = Vec<Tier>;

/// The prices of one zone (or of all zones).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PriceSet {
    /// Storage per GB-month.
    pub storage_per_gb_month: Option<Tiers>,
    /// Egress to viewers (storage: internet egress; CDN: delivery) per GB.
    pub egress_per_gb: Option<Tiers>,
    /// Storage egress to the CDN per GB, when it differs from `egress_per_gb`.
    pub egress_to_cdn_per_gb: Option<Tiers>,
    /// Replication out of a region per GB.
    pub inter_region_per_gb: Option<Tiers>,
    /// Per 10,000 requests.
    pub requests_per_10k: Option<Tiers>,
    /// A CDN's flat-rate plan per 30-day month.
    pub plan_per_month: Option<Tiers>,
    /// Storage in the infrequent-access class per GB-month.
    pub infrequent_storage_per_gb_month: Option<Tiers>,
    /// Retrieval from the infrequent-access class per GB.
    pub retrieval_per_gb: Option<Tiers>,
    /// Requests answered from the infrequent-access class per 10,000.
    pub infrequent_requests_per_10k: Option<Tiers>,
}

impl PriceSet {
    /// The price of `key`, if set.
    pub fn get(&self, key: PriceKey) -> Option<&Tiers> {
        match key {
            PriceKey::StoragePerGbMonth => self.storage_per_gb_month.as_ref(),
            PriceKey::EgressPerGb => self.egress_per_gb.as_ref(),
            PriceKey::EgressToCdnPerGb => self.egress_to_cdn_per_gb.as_ref(),
            PriceKey::InterRegionPerGb => self.inter_region_per_gb.as_ref(),
            PriceKey::RequestsPer10k => self.requests_per_10k.as_ref(),
            PriceKey::PlanPerMonth => self.plan_per_month.as_ref(),
            PriceKey::InfrequentStoragePerGbMonth => self.infrequent_storage_per_gb_month.as_ref(),
            PriceKey::RetrievalPerGb => self.retrieval_per_gb.as_ref(),
            PriceKey::InfrequentRequestsPer10k => self.infrequent_requests_per_10k.as_ref(),
        }
    }

    /// Sets the price of `key`.
    pub fn set(&mut self, key: PriceKey, tiers: Tiers) {
        let slot = match key {
            PriceKey::StoragePerGbMonth => &mut self.storage_per_gb_month,
            PriceKey::EgressPerGb => &mut self.egress_per_gb,
            PriceKey::EgressToCdnPerGb => &mut self.egress_to_cdn_per_gb,
            PriceKey::InterRegionPerGb => &mut self.inter_region_per_gb,
            PriceKey::RequestsPer10k => &mut self.requests_per_10k,
            PriceKey::PlanPerMonth => &mut self.plan_per_month,
            PriceKey::InfrequentStoragePerGbMonth => &mut self.infrequent_storage_per_gb_month,
            PriceKey::RetrievalPerGb => &mut self.retrieval_per_gb,
            PriceKey::InfrequentRequestsPer10k => &mut self.infrequent_requests_per_10k,
        };
        *slot = Some(tiers);
    }
}

/// A provider's full price list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceList {
    /// Its name.
    pub name: String,
    /// What it sells.
    pub kind: ProviderKind,
    /// Where the prices come from.
    pub source: String,
    /// Prices for every zone.
    pub all: PriceSet,
    /// Prices for named zones (geographies for a CDN, regions for storage), overriding `all`.
    pub zones: Vec<(String, PriceSet)>,
    /// CDNs this storage sends to for free (origin fetches on edge misses).
    pub free_egress_to_cdn: Vec<String>,
    /// What a flat-rate plan includes each month (beyond it the provider throttles or asks for a
    /// higher plan; nothing more is billed).
    pub plan_includes: Option<PlanIncludes>,
    /// Free allowances: price units of a key (GB, GB-month, 10k requests) free each billing
    /// month, over every zone together (keys for which [`PriceKey::can_be_free`]).
    pub free_per_month: Vec<(PriceKey, u64)>,
}

/// What a flat-rate plan includes each month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanIncludes {
    /// Delivery, GB.
    pub egress_gb: u64,
    /// Requests.
    pub requests: u64,
}

/// How a price set stands to the tables already in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// A provider's prices for every zone before the run: a key not given takes its default
    /// (requests are free; egress to a CDN that this storage feeds for free is free).
    ProviderWide,
    /// A zone's prices, or a price change: a key not given leaves the table in force.
    Override,
}

/// The meters a set of prices of a `kind` provider prices, each with the table it gets (`None`:
/// unchanged, or, provider-wide, missing) and the key it comes from. `free_to_cdn`: this storage
/// sends to the scenario's CDN for free. The one place that maps keys to meters.
pub fn meter_tables(
    kind: ProviderKind,
    set: &PriceSet,
    free_to_cdn: bool,
    level: Level,
) -> Vec<(Meter, PriceKey, Option<Tiers>)> {
    let zero = || vec![Tier { from_units: 0, nanos_per_unit: 0 }];
    let defaulted = |t: Option<&Tiers>| t.cloned().or((level == Level::ProviderWide).then(zero));
    let price = |k: PriceKey| set.get(k).cloned();
    match kind {
        ProviderKind::Cdn => vec![
            (Meter::CdnEgress, PriceKey::EgressPerGb, price(PriceKey::EgressPerGb)),
            (Meter::CdnRequests, PriceKey::RequestsPer10k, defaulted(set.get(PriceKey::RequestsPer10k))),
            (Meter::CdnPlan, PriceKey::PlanPerMonth, price(PriceKey::PlanPerMonth)),
        ],
        ProviderKind::Storage => {
            // Egress to the CDN: an explicit price wins; else free where this storage feeds the
            // CDN for free (an override then leaves that in force); else the egress price.
            let to_cdn = match (set.get(PriceKey::EgressToCdnPerGb), free_to_cdn) {
                (Some(explicit), _) => Some(explicit.clone()),
                (None, true) => (level == Level::ProviderWide).then(zero),
                (None, false) => price(PriceKey::EgressPerGb),
            };
            vec![
                (Meter::StorageByteTime, PriceKey::StoragePerGbMonth, price(PriceKey::StoragePerGbMonth)),
                (Meter::OriginEgressDirect, PriceKey::EgressPerGb, price(PriceKey::EgressPerGb)),
                (Meter::OriginEgressToCdn, PriceKey::EgressToCdnPerGb, to_cdn),
                (Meter::InterRegion, PriceKey::InterRegionPerGb, price(PriceKey::InterRegionPerGb)),
                (Meter::OriginRequests, PriceKey::RequestsPer10k, defaulted(set.get(PriceKey::RequestsPer10k))),
                (
                    Meter::StorageInfrequent,
                    PriceKey::InfrequentStoragePerGbMonth,
                    price(PriceKey::InfrequentStoragePerGbMonth),
                ),
                (Meter::Retrieval, PriceKey::RetrievalPerGb, price(PriceKey::RetrievalPerGb)),
                (
                    Meter::RequestsInfrequent,
                    PriceKey::InfrequentRequestsPer10k,
                    price(PriceKey::InfrequentRequestsPer10k),
                ),
            ]
        }
    }
}

/// The meters a free allowance in `key` of a `kind` provider covers: those `key` prices. Storage
/// egress to the CDN is internet egress (and shares its allowance) unless it has a price of its
/// own or is free. `free_to_cdn` as for [`meter_tables`].
pub fn allowance_meters(kind: ProviderKind, key: PriceKey, set: &PriceSet, free_to_cdn: bool) -> Vec<Meter> {
    match (kind, key) {
        (ProviderKind::Cdn, PriceKey::EgressPerGb) => vec![Meter::CdnEgress],
        (ProviderKind::Cdn, PriceKey::RequestsPer10k) => vec![Meter::CdnRequests],
        (ProviderKind::Storage, PriceKey::StoragePerGbMonth) => vec![Meter::StorageByteTime],
        (ProviderKind::Storage, PriceKey::EgressPerGb) if set.egress_to_cdn_per_gb.is_none() && !free_to_cdn => {
            vec![Meter::OriginEgressDirect, Meter::OriginEgressToCdn]
        }
        (ProviderKind::Storage, PriceKey::EgressPerGb) => vec![Meter::OriginEgressDirect],
        (ProviderKind::Storage, PriceKey::RequestsPer10k) => vec![Meter::OriginRequests],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages and docs quote these names; scenario files use them.
    #[test]
    fn names_and_which_kind_of_provider_charges_what() {
        assert_eq!((ProviderKind::Cdn.name(), ProviderKind::Storage.name()), ("cdn", "storage"));
        assert_eq!(
            PriceKey::names(),
            "storage_per_gb_month, egress_per_gb, egress_to_cdn_per_gb, inter_region_per_gb, requests_per_10k, \
             plan_per_month, infrequent_storage_per_gb_month, retrieval_per_gb, infrequent_requests_per_10k"
        );
        let cdn: Vec<PriceKey> = PriceKey::ALL.into_iter().filter(|k| k.applies_to(ProviderKind::Cdn)).collect();
        assert_eq!(cdn, [PriceKey::EgressPerGb, PriceKey::RequestsPer10k, PriceKey::PlanPerMonth]);
        let storage = PriceKey::ALL.into_iter().filter(|k| k.applies_to(ProviderKind::Storage));
        let mut all_but_plan = PriceKey::ALL.to_vec();
        all_but_plan.retain(|&k| k != PriceKey::PlanPerMonth);
        assert_eq!(storage.collect::<Vec<_>>(), all_but_plan);
        let optional: Vec<PriceKey> = PriceKey::ALL.into_iter().filter(|k| k.optional()).collect();
        assert_eq!(optional[0], PriceKey::PlanPerMonth);
        assert_eq!(optional[1..], PriceKey::INFREQUENT);
    }

    fn flat(nanos: u64) -> Tiers {
        vec![Tier { from_units: 0, nanos_per_unit: nanos }]
    }

    #[test]
    fn keys_round_trip_their_names() {
        for k in PriceKey::ALL {
            assert_eq!(PriceKey::from_name(k.name()), Some(k));
            let mut set = PriceSet::default();
            set.set(k, flat(7));
            assert_eq!(set.get(k), Some(&flat(7)));
            assert!(PriceKey::ALL.iter().filter(|&&o| o != k).all(|&o| set.get(o).is_none()), "{k:?} sets only itself");
        }
        assert_eq!(PriceKey::from_name("egress_per_tb"), None);
    }

    /// The free-egress rule: egress to a CDN this storage feeds for free costs nothing unless a
    /// price says otherwise; else it is the egress price; requests default to free provider-wide.
    #[test]
    fn egress_to_the_cdn_is_free_only_where_it_is_and_requests_default_to_free() {
        let set = PriceSet { egress_per_gb: Some(flat(90)), ..PriceSet::default() };
        let table = |kind, set: &PriceSet, free, level, meter| {
            meter_tables(kind, set, free, level).into_iter().find(|m| m.0 == meter).map(|m| m.2).expect("a meter")
        };
        use Level::*;
        use ProviderKind::Storage;
        assert_eq!(table(Storage, &set, true, ProviderWide, Meter::OriginEgressToCdn), Some(flat(0)));
        assert_eq!(table(Storage, &set, true, Override, Meter::OriginEgressToCdn), None, "stays free");
        assert_eq!(table(Storage, &set, false, ProviderWide, Meter::OriginEgressToCdn), Some(flat(90)));
        assert_eq!(table(Storage, &set, false, Override, Meter::OriginEgressToCdn), Some(flat(90)));
        let explicit = PriceSet { egress_to_cdn_per_gb: Some(flat(5)), ..set.clone() };
        assert_eq!(table(Storage, &explicit, true, Override, Meter::OriginEgressToCdn), Some(flat(5)));
        assert_eq!(table(Storage, &set, false, ProviderWide, Meter::OriginRequests), Some(flat(0)));
        assert_eq!(table(Storage, &set, false, Override, Meter::OriginRequests), None);
        assert_eq!(table(ProviderKind::Cdn, &set, false, ProviderWide, Meter::CdnRequests), Some(flat(0)));
        assert_eq!(table(ProviderKind::Cdn, &set, false, ProviderWide, Meter::CdnEgress), Some(flat(90)));
        assert_eq!(
            table(Storage, &set, false, ProviderWide, Meter::StorageByteTime),
            None,
            "missing: an error for the caller"
        );
    }
}
