//! The built-in price tables of the seed's providers, each with its source and the date it was
//! read.
//!
//! Prices are list prices in US dollars, converted exactly to integer nanodollars per price unit
//! (GB, GB-month, 10,000 requests; GB = 10^9 bytes, and a tier boundary of "10 TB" is written as
//! AWS bills it, 10,240 GB). Free allowances (AWS's 100 GB/month of egress, CloudFront's 1 TB,
//! R2's 10 GB) are not modelled: they matter only for tiny deployments. Every table can be
//! overridden per scenario under `[providers.NAME]`.

use super::{PriceList, PriceSet, ProviderKind, Tiers};
use clipsim_engine::Tier;

fn flat(nanodollars: u64) -> Option<Tiers> {
    Some(vec![Tier { from_units: 0, nanos_per_unit: nanodollars }])
}

fn tiers(list: &[(u64, u64)]) -> Option<Tiers> {
    Some(list.iter().map(|&(from_units, nanos_per_unit)| Tier { from_units, nanos_per_unit }).collect())
}

/// CloudFront's volume tiers, in GB per month: 10 TB, 50 TB, 150 TB, 500 TB, 1 PB, 5 PB.
const CF_TIERS_GB: [u64; 7] = [0, 10_240, 51_200, 153_600, 512_000, 1_048_576, 5_242_880];

fn cloudfront(rates_nanos: [u64; 7]) -> Option<Tiers> {
    tiers(&CF_TIERS_GB.iter().copied().zip(rates_nanos).collect::<Vec<_>>())
}

/// The built-in price list of `name`, if there is one.
pub fn builtin(name: &str) -> Option<PriceList> {
    let list = match name {
        // The seed's estimate: "CDN: Cloudflare ($0.06/GB)", its range "~$0.04-0.08/GB".
        // Cloudflare's self-serve plans do not meter bandwidth; $0.06 is the seed's planning rate.
        "cloudflare" => PriceList {
            name: name.into(),
            kind: ProviderKind::Cdn,
            source: "seed document's planning rate ($0.06/GB, range $0.04-0.08), 2024-12".into(),
            all: PriceSet { egress_per_gb: flat(60_000_000), requests_per_10k: flat(0), ..PriceSet::default() },
            zones: vec![],
            free_egress_to_cdn: vec![],
        },
        // bunny.net CDN pricing page, Standard network, read 2024-12: NA/EU $0.01, Asia and
        // Oceania $0.03, South America $0.045, Middle East and Africa $0.06 per GB; no request fees.
        "bunny" => PriceList {
            name: name.into(),
            kind: ProviderKind::Cdn,
            source: "bunny.net/pricing (Standard network), read 2024-12".into(),
            all: PriceSet { egress_per_gb: flat(10_000_000), requests_per_10k: flat(0), ..PriceSet::default() },
            zones: vec![
                ("apac".into(), PriceSet { egress_per_gb: flat(30_000_000), ..PriceSet::default() }),
                ("oc".into(), PriceSet { egress_per_gb: flat(30_000_000), ..PriceSet::default() }),
                ("sa".into(), PriceSet { egress_per_gb: flat(45_000_000), ..PriceSet::default() }),
                ("me".into(), PriceSet { egress_per_gb: flat(60_000_000), ..PriceSet::default() }),
                ("af".into(), PriceSet { egress_per_gb: flat(60_000_000), ..PriceSet::default() }),
            ],
            free_egress_to_cdn: vec![],
        },
        // aws.amazon.com/cloudfront/pricing, on-demand data transfer out to the internet and
        // HTTPS requests, read 2024-12. NA and EU share one table; APAC is the Hong Kong /
        // Singapore / Korea / Taiwan group; SA is South America.
        "cloudfront" => PriceList {
            name: name.into(),
            kind: ProviderKind::Cdn,
            source: "aws.amazon.com/cloudfront/pricing (on-demand), read 2024-12".into(),
            all: PriceSet {
                egress_per_gb: cloudfront([
                    85_000_000, 80_000_000, 60_000_000, 40_000_000, 30_000_000, 25_000_000, 20_000_000,
                ]),
                requests_per_10k: flat(10_000_000),
                ..PriceSet::default()
            },
            zones: vec![
                (
                    "apac".into(),
                    PriceSet {
                        egress_per_gb: cloudfront([
                            120_000_000,
                            100_000_000,
                            80_000_000,
                            60_000_000,
                            50_000_000,
                            40_000_000,
                            35_000_000,
                        ]),
                        requests_per_10k: flat(12_000_000),
                        ..PriceSet::default()
                    },
                ),
                (
                    "sa".into(),
                    PriceSet {
                        egress_per_gb: cloudfront([
                            110_000_000,
                            105_000_000,
                            90_000_000,
                            80_000_000,
                            60_000_000,
                            50_000_000,
                            45_000_000,
                        ]),
                        requests_per_10k: flat(22_000_000),
                        ..PriceSet::default()
                    },
                ),
            ],
            free_egress_to_cdn: vec![],
        },
        // aws.amazon.com/s3/pricing, S3 Standard in us-east-1, read 2024-12: storage $0.023 /
        // $0.022 / $0.021 per GB-month (first 50 TB, next 450 TB, over 500 TB); internet egress
        // $0.09 / $0.085 / $0.07 / $0.05 per GB (first 10 TB, next 40 TB, next 100 TB, over
        // 150 TB); inter-region transfer $0.02 per GB; GET $0.0004 per 1,000. Transfer from S3 to
        // CloudFront is free.
        "s3" => PriceList {
            name: name.into(),
            kind: ProviderKind::Storage,
            source: "aws.amazon.com/s3/pricing (S3 Standard, us-east-1), read 2024-12".into(),
            all: PriceSet {
                storage_per_gb_month: tiers(&[(0, 23_000_000), (51_200, 22_000_000), (512_000, 21_000_000)]),
                egress_per_gb: tiers(&[
                    (0, 90_000_000),
                    (10_240, 85_000_000),
                    (51_200, 70_000_000),
                    (153_600, 50_000_000),
                ]),
                egress_to_cdn_per_gb: None,
                inter_region_per_gb: flat(20_000_000),
                requests_per_10k: flat(4_000_000),
            },
            zones: vec![],
            free_egress_to_cdn: vec!["cloudfront".into()],
        },
        // developers.cloudflare.com/r2/pricing, read 2024-12: storage $0.015 per GB-month, no
        // egress fees, Class B (read) operations $0.36 per million.
        "r2" => PriceList {
            name: name.into(),
            kind: ProviderKind::Storage,
            source: "developers.cloudflare.com/r2/pricing, read 2024-12".into(),
            all: PriceSet {
                storage_per_gb_month: flat(15_000_000),
                egress_per_gb: flat(0),
                egress_to_cdn_per_gb: None,
                inter_region_per_gb: flat(0),
                requests_per_10k: flat(3_600_000),
            },
            zones: vec![],
            free_egress_to_cdn: vec![],
        },
        // bunny.net/pricing/storage, Standard tier, read 2024-12: $0.01 per GB-month per
        // region; files are delivered through bunny's CDN (free to it) and replication between
        // storage regions is included. Direct delivery is billed at bunny CDN rates.
        "bunny-storage" => PriceList {
            name: name.into(),
            kind: ProviderKind::Storage,
            source: "bunny.net/pricing/storage (Standard), read 2024-12".into(),
            all: PriceSet {
                storage_per_gb_month: flat(10_000_000),
                egress_per_gb: flat(10_000_000),
                egress_to_cdn_per_gb: None,
                inter_region_per_gb: flat(0),
                requests_per_10k: flat(0),
            },
            zones: vec![],
            free_egress_to_cdn: vec!["bunny".into()],
        },
        _ => return None,
    };
    Some(list)
}

/// The names of every built-in provider.
pub const BUILTIN: [&str; 6] = ["cloudflare", "bunny", "cloudfront", "s3", "r2", "bunny-storage"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_table_is_valid() {
        for name in BUILTIN {
            let list = builtin(name).unwrap();
            let sets = std::iter::once(&list.all).chain(list.zones.iter().map(|(_, s)| s));
            for set in sets {
                for t in [
                    &set.storage_per_gb_month,
                    &set.egress_per_gb,
                    &set.egress_to_cdn_per_gb,
                    &set.inter_region_per_gb,
                    &set.requests_per_10k,
                ]
                .into_iter()
                .flatten()
                {
                    clipsim_engine::RateTable::tiered(t.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
                }
            }
        }
    }

    #[test]
    fn the_seed_rate_is_exact() {
        let cf = builtin("cloudflare").unwrap();
        assert_eq!(cf.all.egress_per_gb.unwrap()[0].nanos_per_unit, 60_000_000);
    }
}
