//! The built-in price tables of the seed's providers, each with its source and the date it was
//! read.
//!
//! Prices are list prices in US dollars, converted exactly to integer nanodollars per price unit
//! (GB, GB-month, 10,000 requests; GB = 10^9 bytes, and a tier boundary of "10 TB" is written as
//! AWS bills it, 10,240 GB). Free allowances are in price units a month, over every zone
//! together: CloudFront's always-free 1 TB and 10 M requests, AWS's 100 GB of internet egress a
//! month (shared by every AWS service and region, here all S3), R2's 10 GB-month and 10 M reads.
//! Every table and allowance can be overridden per scenario under `[providers.NAME]`.
//!
//! The tables of 2026-12-03 were read from stored copies of the pages named (this machine has
//! no network); what those copies did not show is said in the source, and kept from the reading
//! of 2024-12.

use super::{PlanIncludes, PriceKey, PriceList, PriceSet, ProviderKind, Tiers};
use clipsim_engine::Tier;

fn flat(nanodollars: u64) -> Option<Tiers> {
    Some(vec![Tier { from_units: 0, nanos_per_unit: nanodollars }])
}

fn tiers(list: &[(u64, u64)]) -> Option<Tiers> {
    Some(list.iter().map(|&(from_units, nanos_per_unit)| Tier { from_units, nanos_per_unit }).collect())
}

/// CloudFront's volume tiers, in GB per month: 10 TB, 50 TB, 150 TB, 500 TB, 1 PB, 5 PB.
const CF_TIERS_GB: [u64; 7] = [0, 10_240, 51_200, 153_600, 512_000, 1_048_576, 5_242_880];

/// CloudFront's rates for South America, and for South Africa, Kenya, Nigeria and the Middle
/// East (one table since 2025).
const CF_SA_ME_AF: [u64; 7] = [110_000_000, 105_000_000, 90_000_000, 80_000_000, 60_000_000, 50_000_000, 40_000_000];

fn cloudfront(rates_nanos: [u64; 7]) -> Option<Tiers> {
    tiers(&CF_TIERS_GB.iter().copied().zip(rates_nanos).collect::<Vec<_>>())
}

/// The built-in price list of `name`, if there is one.
pub fn builtin(name: &str) -> Option<PriceList> {
    let list = match name {
        // The seed's estimate: "CDN: Cloudflare ($0.06/GB)", its range "~$0.04-0.08/GB".
        // Cloudflare's self-serve plans do not meter bandwidth ("unmetered"; their terms restrict
        // serving video from outside Cloudflare's own video and storage products), so there is no
        // list price per GB to read; $0.06 is the seed's planning rate.
        "cloudflare" => PriceList {
            name: name.into(),
            kind: ProviderKind::Cdn,
            source: "seed document's planning rate ($0.06/GB, range $0.04-0.08), 2024-12".into(),
            all: PriceSet { egress_per_gb: flat(60_000_000), requests_per_10k: flat(0), ..PriceSet::default() },
            zones: vec![],
            free_egress_to_cdn: vec![],
            plan_includes: None,
            free_per_month: vec![],
        },
        // docs.bunny.net/cdn/pricing, Standard network, read 2026-12-03 (as in 2024-12): NA/EU
        // $0.01, Asia and Oceania $0.03, South America $0.045, Middle East and Africa $0.06 per GB;
        // no request fees.
        "bunny" => PriceList {
            name: name.into(),
            kind: ProviderKind::Cdn,
            source: "docs.bunny.net/cdn/pricing (Standard network), read 2026-12-03".into(),
            all: PriceSet { egress_per_gb: flat(10_000_000), requests_per_10k: flat(0), ..PriceSet::default() },
            zones: vec![
                ("apac".into(), PriceSet { egress_per_gb: flat(30_000_000), ..PriceSet::default() }),
                ("oc".into(), PriceSet { egress_per_gb: flat(30_000_000), ..PriceSet::default() }),
                ("sa".into(), PriceSet { egress_per_gb: flat(45_000_000), ..PriceSet::default() }),
                ("me".into(), PriceSet { egress_per_gb: flat(60_000_000), ..PriceSet::default() }),
                ("af".into(), PriceSet { egress_per_gb: flat(60_000_000), ..PriceSet::default() }),
            ],
            free_egress_to_cdn: vec![],
            plan_includes: None,
            free_per_month: vec![],
        },
        // aws.amazon.com/cloudfront/pricing, read 2026-12-03: the always-free tier ("1 TB of data
        // transfer out to the internet per month", "10,000,000 HTTP or HTTPS Requests per
        // month") and on-demand data transfer out per group, all seven tiers. NA and EU share
        // one table; APAC is the Hong Kong / Indonesia / Philippines / Singapore / South Korea /
        // Taiwan / Thailand / Malaysia / Vietnam group; OC Australia and New Zealand; SA South
        // America; ME and AF the South Africa / Kenya / Nigeria / Middle East group. HTTPS
        // requests per 10,000 (the stored page did not show them): NA/EU $0.0100, SA $0.0220,
        // Australia $0.0140 from wring.co/blog/aws-cloudfront-pricing-guide (2026-03-08); APAC's
        // $0.0120 is the 2024-12 reading; ME/AF's were not found and take NA's.
        "cloudfront" => PriceList {
            name: name.into(),
            kind: ProviderKind::Cdn,
            source: "aws.amazon.com/cloudfront/pricing (on-demand, always-free tier), read 2026-12-03; \
                     HTTPS request prices: wring.co (2026-03-08), APAC's from 2024-12, ME/AF's not found (NA's)"
                .into(),
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
                            95_000_000,
                            90_000_000,
                            80_000_000,
                            70_000_000,
                            60_000_000,
                        ]),
                        requests_per_10k: flat(12_000_000),
                        ..PriceSet::default()
                    },
                ),
                (
                    "sa".into(),
                    PriceSet {
                        egress_per_gb: cloudfront(CF_SA_ME_AF),
                        requests_per_10k: flat(22_000_000),
                        ..PriceSet::default()
                    },
                ),
                (
                    "oc".into(),
                    PriceSet {
                        egress_per_gb: cloudfront([
                            114_000_000,
                            98_000_000,
                            94_000_000,
                            92_000_000,
                            90_000_000,
                            85_000_000,
                            80_000_000,
                        ]),
                        requests_per_10k: flat(14_000_000),
                        ..PriceSet::default()
                    },
                ),
                ("me".into(), PriceSet { egress_per_gb: cloudfront(CF_SA_ME_AF), ..PriceSet::default() }),
                ("af".into(), PriceSet { egress_per_gb: cloudfront(CF_SA_ME_AF), ..PriceSet::default() }),
            ],
            free_egress_to_cdn: vec![],
            plan_includes: None,
            free_per_month: vec![(PriceKey::EgressPerGb, 1_024), (PriceKey::RequestsPer10k, 1_000)],
        },
        // S3 Standard, us-east-1. The stored copy of aws.amazon.com/s3/pricing shows no figures
        // (placeholders only), so each is from a page that quotes it, read 2026-12-03: storage
        // $0.023 / $0.022 / $0.021 per GB-month (first 50 TB, next 450 TB, over 500 TB;
        // my.globalxperts.net, michael-kiley.medium.com); internet egress $0.09 / $0.085 /
        // $0.07 / $0.05 per GB (first 10 TB, next 40 TB, next 100 TB, over 150 TB;
        // usage.ai/blogs/s3-egress-cost, 2026-06-04); to other regions $0.02 per GB
        // (repost.aws, verified 2026-01); GET $0.0004 per 1,000 (c3x.dev). Free: the first 100 GB
        // of internet egress a month, "calculated each month across all regions" and services
        // (repost.aws). Transfer from S3 to CloudFront is free. Other regions' own prices were not
        // found: every region is priced as us-east-1 (override with [providers.s3.zones.REGION]).
        // Standard-IA (for a [lifecycle] rule): $0.0125 per GB-month (gist.github.com/regispires,
        // "A brief summary of pricing for Object Storage services", us-east-1); retrieval $0.01 per
        // GB and GET $0.001 per 1,000 are AWS's long-standing us-east-1 rates, not found in a
        // stored page (those read name the retrieval fee, not its figure).
        "s3" => PriceList {
            name: name.into(),
            kind: ProviderKind::Storage,
            source: "S3 Standard us-east-1 rates for every region (other regions' not found), quoted by \
                     usage.ai, repost.aws, c3x.dev, read 2026-12-03; 100 GB/month free internet egress (repost.aws)"
                .into(),
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
                plan_per_month: None,
                infrequent_storage_per_gb_month: flat(12_500_000),
                retrieval_per_gb: flat(10_000_000),
                infrequent_requests_per_10k: flat(10_000_000),
            },
            zones: vec![],
            free_egress_to_cdn: CLOUDFRONT_ALL.map(String::from).to_vec(),
            plan_includes: None,
            free_per_month: vec![(PriceKey::EgressPerGb, 100)],
        },
        // developers.cloudflare.com/r2/pricing (its source in github.com/cloudflare/cloudflare-docs,
        // src/content/docs/r2/pricing.mdx), read 2026-12-03: storage $0.015 per GB-month, "no
        // charges for egress bandwidth", Class B (read) operations $0.36 per million; free each
        // month: 10 GB-month of storage and 10 million Class B operations. Infrequent Access (same
        // page): $0.01 per GB-month, Class B $0.90 per million, data retrieval $0.01 per GB, a
        // 30-day minimum storage duration.
        "r2" => PriceList {
            name: name.into(),
            kind: ProviderKind::Storage,
            source: "developers.cloudflare.com/r2/pricing (free tier and Infrequent Access included), read 2026-12-03"
                .into(),
            all: PriceSet {
                storage_per_gb_month: flat(15_000_000),
                egress_per_gb: flat(0),
                egress_to_cdn_per_gb: None,
                inter_region_per_gb: flat(0),
                requests_per_10k: flat(3_600_000),
                plan_per_month: None,
                infrequent_storage_per_gb_month: flat(10_000_000),
                retrieval_per_gb: flat(10_000_000),
                infrequent_requests_per_10k: flat(9_000_000),
            },
            zones: vec![],
            free_egress_to_cdn: vec![],
            plan_includes: None,
            free_per_month: vec![(PriceKey::StoragePerGbMonth, 10), (PriceKey::RequestsPer10k, 1_000)],
        },
        // bunny.net/pricing/storage, Standard tier, read 2024-12 (the stored copy of 2026-12-03
        // shows no prices): $0.01 per GB-month per
        // region; files are delivered through bunny's CDN (free to it) and replication between
        // storage regions is included. Direct delivery is billed at bunny CDN rates.
        "bunny-storage" => PriceList {
            name: name.into(),
            kind: ProviderKind::Storage,
            source:
                "bunny.net/pricing/storage (Standard), read 2024-12 (not re-read: no prices in the 2026-12-03 copy)"
                    .into(),
            all: PriceSet {
                storage_per_gb_month: flat(10_000_000),
                egress_per_gb: flat(10_000_000),
                egress_to_cdn_per_gb: None,
                inter_region_per_gb: flat(0),
                requests_per_10k: flat(0),
                plan_per_month: None,
                // No infrequent-access class: a [lifecycle] rule is refused with this storage.
                ..PriceSet::default()
            },
            zones: vec![],
            free_egress_to_cdn: vec!["bunny".into()],
            plan_includes: None,
            free_per_month: vec![],
        },
        // CloudFront's flat-rate plans (from 2025-11-18): a monthly fee with delivery and
        // requests included and no overage charge (beyond the plan AWS throttles or asks for a
        // higher plan). Read 2026-12-03 from bybowu.com/article/cloudfront-flatrate-pricing-who-
        // should-switch-now ("Free: 1M requests, 100 GB transfer. Pro: 10M requests, 50 TB
        // transfer. Business: 125M requests, 50 TB transfer. Premium: 500M requests, 50 TB
        // transfer"; "$0/month", "$15/month", "$200/month", "$1,000/month") and a copy of AWS's
        // plan page (github.com/api-evangelist/cloudfront, generated 2026-09-05). 50 TB is
        // written as AWS bills a TB, 51,200 GB.
        "cloudfront-free" => cloudfront_plan(name, 0, 100, 1_000_000),
        "cloudfront-pro" => cloudfront_plan(name, 15, 51_200, 10_000_000),
        "cloudfront-business" => cloudfront_plan(name, 200, 51_200, 125_000_000),
        "cloudfront-premium" => cloudfront_plan(name, 1_000, 51_200, 500_000_000),
        _ => return None,
    };
    Some(list)
}

/// A CloudFront flat-rate plan: `usd` a month, `egress_gb` and `requests` included, nothing
/// metered.
fn cloudfront_plan(name: &str, usd: u64, egress_gb: u64, requests: u64) -> PriceList {
    PriceList {
        name: name.into(),
        kind: ProviderKind::Cdn,
        source: "CloudFront flat-rate plans (2025-11-18), read 2026-12-03 from bybowu.com and a copy of AWS's plan \
                 page (api-evangelist, 2026-09-05)"
            .into(),
        all: PriceSet {
            egress_per_gb: flat(0),
            requests_per_10k: flat(0),
            plan_per_month: flat(usd * 1_000_000_000),
            ..PriceSet::default()
        },
        zones: vec![],
        free_egress_to_cdn: vec![],
        plan_includes: Some(PlanIncludes { egress_gb, requests }),
        free_per_month: vec![],
    }
}

/// The names of every built-in provider.
pub const BUILTIN: [&str; 10] = [
    "cloudflare",
    "bunny",
    "cloudfront",
    "cloudfront-free",
    "cloudfront-pro",
    "cloudfront-business",
    "cloudfront-premium",
    "s3",
    "r2",
    "bunny-storage",
];

/// The CDNs S3 sends to for free: CloudFront, on demand or on a plan.
const CLOUDFRONT_ALL: [&str; 5] =
    ["cloudfront", "cloudfront-free", "cloudfront-pro", "cloudfront-business", "cloudfront-premium"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_table_is_valid() {
        for name in BUILTIN {
            let list = builtin(name).unwrap();
            let sets = std::iter::once(&list.all).chain(list.zones.iter().map(|(_, s)| s));
            for set in sets {
                for t in PriceKey::ALL.into_iter().filter_map(|k| set.get(k)) {
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
