//! Model-based test: random operation sequences drive a real [`Engine`] and a small reference
//! model side by side, and every observable is compared after every operation.
//!
//! The model is deliberately plain (`Vec`s and `BTreeMap`s, written from the documented contract
//! in `lib.rs` and the doc comments, not from the engine's data structures). It holds:
//!
//! * clips: size, primary region, views, votes and views per geography (halved with the score
//!   when a half-life is set);
//! * one mirror record per (clip, region): pending or active, its copy source, failed copy
//!   attempts, and when it was ordered, became active and expires;
//! * the believed health of every region and of both CDNs, recomputed from probe results with the
//!   documented hysteresis (N failed probes in a row: unhealthy; M good probes in a row: back) and
//!   the 1/8 EWMA of probe latency (degraded above `degraded_latency`, or above
//!   `degraded_factor_pct` of the target's normal probe latency when set and lower);
//! * the job timers (month close, cost-alert check, cleanup, sync, copy retries, in that order at
//!   equal times) and what each job must output: new mirrors placed by the documented demand-ranked
//!   greedy rule and copied from the documented source, deletions of expired mirrors, retried
//!   copies, cost alerts, monthly bills;
//! * usage per bill line and month (bytes delivered on each path, requests, inter-region copies,
//!   byte-microseconds stored) and the counters the engine must report;
//! * with a second CDN, which CDN each request uses (failover, or the cost-aware split's share
//!   per geography from each CDN's marginal price);
//! * the money: every line's rate table (flat or tiered, with boundaries a few price units apart
//!   so that requests and months cross them), price changes at any instant (mid-hour, on a timer
//!   instant, several in an hour; for one zone or all), each unit of usage priced at once at the
//!   tier it falls in under the table in force when it was used, the month's numerator divided
//!   once and rounded down; and the cost alert's window of per-segment costs (rounded down per
//!   line and segment) against the bytes delivered, with the alerts it must raise and clear.
//!   The arithmetic is the model's own (its tier walk, its price units), not the engine's.
//!
//! The harness plays the outside world: the copies in flight (from `Output::Replicate`), regions
//! and a CDN that are *really* down (toggled by ops; the engine learns it only from probes and
//! failed attempts), and a trivial CDN edge per geography holding the clips fetched through the
//! CDN before. Each operation is checked against the properties listed in [`Harness`]; every run is
//! done twice to check determinism.

use clipsim_engine::mirrors::{Mirror, MirrorState};
use clipsim_engine::*;
use proptest::prelude::*;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

const SEC: u64 = 1_000_000;
/// The most geographies a case has: more than the engine keeps inline per clip (five), so that
/// its side table of demand counters is exercised too.
const GEOS_MAX: u32 = 7;
const MIN: u64 = 60 * SEC;

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// The random part of a configuration.
#[derive(Clone, Debug)]
struct Params {
    regions: u32,
    geos: u32,
    /// Odd regions are stored by a second storage provider.
    two_storage: bool,
    cdn: bool,
    /// `latency[r * GEOS_MAX + g]`, in ms; few distinct values so that ties happen.
    latency: Vec<u32>,
    /// Score points per view and per unit of vote score.
    view_weight: u32,
    vote_weight: u32,
    /// The source policy: `SourcePolicy::LatencyFirst` instead of the seed's chain.
    latency_first: bool,
    /// The placement policy: `PlacementPolicy::DemandOnly` instead of filling every slot.
    demand_only: bool,
    mirror_mask: u64,
    threshold: u64,
    max_per_clip: u8,
    ttl: SimDuration,
    sync: SimDuration,
    cleanup: SimDuration,
    refresh: bool,
    half_life: Option<SimDuration>,
    copy_attempts: u8,
    backoff_base: SimDuration,
    backoff_max: SimDuration,
    fail_n: u32,
    ok_m: u32,
    degraded: SimDuration,
    /// Percent of a target's normal probe latency above which it is degraded (0: off).
    degraded_factor_pct: u32,
    /// Each region's then the CDN's normal probe latency, ms, when set.
    probe_normal_ms: Vec<Option<u64>>,
    month: SimDuration,
    alert_check: SimDuration,
    alert_window_checks: u64,
    alert_threshold: u64,
    alert_total: bool,
    /// Rate table of meter `m` of provider `p` at the start: `rates[m * 3 + p]`.
    rates: Vec<MTable>,
    /// Predictive mirroring of fresh uploads: (age, horizon).
    predict: Option<(SimDuration, SimDuration)>,
    /// Adaptive mirror lifetime: (min, max).
    ttl_bounds: Option<(SimDuration, SimDuration)>,
    /// Cost-capped replication.
    cost_capped: bool,
    /// A storage lifecycle rule: (infrequent after, catalog age).
    lifecycle: Option<(SimDuration, SimDuration)>,
    /// A second CDN (only with a first): failover (`None`) or a cost-aware split with this
    /// minimum share in percent.
    second_cdn: Option<Option<u32>>,
}

const S3: ProviderId = ProviderId(0);
const GCS: ProviderId = ProviderId(1);
const CDN: ProviderId = ProviderId(2);
const CDN2: ProviderId = ProviderId(3);
const PROVIDERS: [ProviderId; 4] = [S3, GCS, CDN, CDN2];

/// The meters this model follows: all but the CDN's flat-rate plan, the last of `Meter::ALL`
/// (its own unit test is in the engine).
const METERED: usize = Meter::ALL.len() - 1;

fn meter_index(m: Meter) -> usize {
    Meter::ALL[..METERED].iter().position(|&x| x == m).expect("a modelled meter")
}

impl Params {
    fn table(&self, meter: Meter, provider: ProviderId) -> &MTable {
        &self.rates[meter_index(meter) * PROVIDERS.len() + provider.index()]
    }

    /// Every bill line the engine must have, in no particular order.
    fn line_keys(&self) -> BTreeSet<LineKey> {
        let mut keys = BTreeSet::new();
        for r in 0..self.regions {
            for meter in [
                Meter::StorageByteTime,
                Meter::OriginEgressDirect,
                Meter::OriginEgressToCdn,
                Meter::OriginRequests,
                Meter::InterRegion,
            ] {
                keys.insert(LineKey { meter, provider: self.provider_of(r), zone: r });
            }
            if self.lifecycle.is_some() {
                for meter in [Meter::StorageInfrequent, Meter::Retrieval, Meter::RequestsInfrequent] {
                    keys.insert(LineKey { meter, provider: self.provider_of(r), zone: r });
                }
            }
        }
        let cdns = [self.cdn.then_some(CDN), self.second_cdn.map(|_| CDN2)];
        for provider in cdns.into_iter().flatten() {
            for g in 0..self.geos {
                keys.insert(LineKey { meter: Meter::CdnEgress, provider, zone: g });
                keys.insert(LineKey { meter: Meter::CdnRequests, provider, zone: g });
            }
        }
        keys
    }

    fn provider_of(&self, r: u32) -> ProviderId {
        if self.two_storage && r % 2 == 1 {
            GCS
        } else {
            S3
        }
    }

    /// The documented transition time of a primary copy uploaded at `uploaded`: `after` from
    /// its upload, or for a clip uploaded at time 0 (the catalog, `catalog_age` old at 0),
    /// `after - catalog_age` into the run (at once when that is negative).
    fn transition_at(&self, uploaded: SimTime) -> SimTime {
        let Some((after, age)) = self.lifecycle else { return SimTime::NEVER };
        if uploaded.0 == 0 {
            SimTime(after.0.saturating_sub(age.0))
        } else {
            SimTime(uploaded.0 + after.0)
        }
    }

    fn lat(&self, r: u32, g: u32) -> u32 {
        self.latency[(r * GEOS_MAX + g) as usize]
    }

    fn mirror_allowed(&self, r: u32) -> bool {
        self.mirror_mask & (1 << r) != 0
    }

    fn config(&self) -> EngineConfig {
        let mut cfg = EngineConfig::new();
        assert_eq!(cfg.add_provider("s3"), S3);
        assert_eq!(cfg.add_provider("gcs"), GCS);
        assert_eq!(cfg.add_provider("cdn"), CDN);
        assert_eq!(cfg.add_provider("cdn2"), CDN2);
        for r in 0..self.regions {
            cfg.add_region(&format!("region-{r}"), self.provider_of(r));
        }
        for g in 0..self.geos {
            cfg.add_geo(&format!("geo-{g}"));
        }
        for r in 0..self.regions {
            for g in 0..self.geos {
                cfg.set_latency_ms(RegionId(r), GeoId(g), self.lat(r, g));
            }
        }
        if self.cdn {
            cfg.set_cdn(CDN);
        }
        if let Some(split) = self.second_cdn {
            let mode = split.map_or(MultiCdn::Failover, |min_share_pct| MultiCdn::CostSplit { min_share_pct });
            cfg.set_second_cdn(CDN2, mode);
        }
        // No flat-rate plan (`Meter::CdnPlan`, its own unit test in the engine): every other meter.
        assert_eq!(Meter::ALL[METERED], Meter::CdnPlan, "the plan is the meter left out");
        for &meter in &Meter::ALL[..METERED] {
            for p in PROVIDERS {
                cfg.set_rate(meter, p, engine_table(self.table(meter, p)));
            }
        }
        let m = &mut cfg.mirror;
        m.regions = (0..self.regions).filter(|&r| self.mirror_allowed(r)).map(RegionId).collect();
        m.replication_threshold = self.threshold;
        m.view_weight = self.view_weight;
        m.vote_weight = self.vote_weight;
        m.max_per_clip = self.max_per_clip;
        m.ttl = self.ttl;
        m.sync_interval = self.sync;
        m.cleanup_interval = self.cleanup;
        m.refresh_ttl_on_sync = self.refresh;
        m.score_half_life = self.half_life;
        m.copy_attempts_max = self.copy_attempts;
        m.retry_backoff_base = self.backoff_base;
        m.retry_backoff_max = self.backoff_max;
        m.predict = self.predict.map(|(age, horizon)| Predict { age, horizon });
        m.ttl_bounds = self.ttl_bounds.map(|(min, max)| TtlBounds { min, max });
        m.cost_capped = self.cost_capped;
        cfg.lifecycle =
            self.lifecycle.map(|(infrequent_after, catalog_age)| Lifecycle { infrequent_after, catalog_age });
        cfg.health = HealthConfig {
            unhealthy_after_failures: self.fail_n,
            healthy_after_successes: self.ok_m,
            degraded_latency: self.degraded,
            degraded_factor_pct: self.degraded_factor_pct,
        };
        for (i, normal) in self.probe_normal_ms.iter().enumerate() {
            if let Some(ms) = normal {
                let target = match (i as u32).checked_sub(self.regions) {
                    Some(0) => HealthTarget::Cdn,
                    Some(_) => HealthTarget::SecondCdn,
                    None => HealthTarget::Region(RegionId(i as u32)),
                };
                cfg.set_probe_normal(target, SimDuration::from_millis(*ms));
            }
        }
        cfg.billing.month = self.month;
        cfg.billing.cost_alert = CostAlertConfig {
            max_cost_per_gb_nanos: self.alert_threshold,
            window: self.alert_check.saturating_mul(self.alert_window_checks),
            check_interval: self.alert_check,
            scope: if self.alert_total { AlertScope::Total } else { AlertScope::Cdn },
        };
        cfg
    }
}

fn rate() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), 1u64..=1_000, 1u64..=2_000_000_000]
}

/// A rate table as the model keeps it: `(first price unit, nanodollars per price unit)`, the
/// first from 0, the rest ascending.
type MTable = Vec<(u64, u64)>;

/// One bill line's month so far, in the model.
#[derive(Clone, Copy, Debug, Default)]
struct MLine {
    /// Usage in base units.
    usage: u128,
    /// Exact price numerator (nanodollars x base units).
    numerator: u128,
    /// The numerator since the line's pricing segment began.
    segment: u128,
}

/// A flat rate, or up to four tiers whose boundaries are a few price units apart, so that a month
/// crosses them (a clip is up to 2 GB, a month up to 48 hours): mid-request, mid-month and, with
/// price changes, between changes.
fn table() -> impl Strategy<Value = MTable> {
    prop_oneof![
        2 => rate().prop_map(|r| vec![(0, r)]),
        3 => prop::collection::vec((1u64..=3, rate()), 1..=3).prop_flat_map(|rest| {
            rate().prop_map(move |first| {
                let mut t = vec![(0, first)];
                let mut from = 0;
                for &(step, r) in &rest {
                    from += step;
                    t.push((from, r));
                }
                t
            })
        }),
    ]
}

fn engine_table(t: &MTable) -> RateTable {
    RateTable::tiered(t.iter().map(|&(from_units, nanos_per_unit)| Tier { from_units, nanos_per_unit }).collect())
        .expect("tiers from 0, ascending, rates within limits")
}

/// The exact price numerator (`nanodollars x base units`) of `amount` base units metered from
/// position `start` of the month, walking the tiers from the one `start` is in: the model's own
/// arithmetic, written from the documented rule (each unit at the rate of the tier it falls in).
fn tiered_numerator(table: &MTable, start: u128, amount: u128, unit: u128) -> u128 {
    let end = start + amount;
    let mut pos = start;
    let mut numerator = 0u128;
    while pos < end {
        let tier = table.iter().rposition(|&(from, _)| u128::from(from) * unit <= pos).expect("a tier from 0");
        let tier_end = table.get(tier + 1).map_or(end, |&(from, _)| (u128::from(from) * unit).min(end));
        numerator += (tier_end - pos) * u128::from(table[tier].1);
        pos = tier_end;
    }
    numerator
}

/// Base units in one price unit, from the documented units (not the engine's constants): bytes
/// per GB, byte-microseconds per GB-month of 30 days, requests per 10,000.
fn unit(meter: Meter) -> u128 {
    const GB: u128 = 1_000_000_000;
    match meter {
        Meter::StorageByteTime | Meter::StorageInfrequent => GB * 30 * 86_400 * 1_000_000,
        Meter::CdnEgress
        | Meter::OriginEgressDirect
        | Meter::OriginEgressToCdn
        | Meter::InterRegion
        | Meter::Retrieval => GB,
        Meter::CdnRequests | Meter::OriginRequests | Meter::RequestsInfrequent => 10_000,
        Meter::CdnPlan => 30 * 86_400 * 1_000_000,
    }
}

fn params() -> impl Strategy<Value = Params> {
    let topo = (
        2u32..=4,
        prop_oneof![3 => 2u32..=3, 1 => 4u32..=GEOS_MAX],
        any::<bool>(),
        prop::bool::weighted(0.7),
        prop::collection::vec(1u32..=5, 4 * GEOS_MAX as usize),
        prop_oneof![2 => Just(u64::MAX), 1 => any::<u64>()],
    );
    let mirror = (
        2u64..=5,
        1u8..=3,
        // Round multiples of a few minutes, so that expiries often fall on timer instants.
        2u64..=96,
        1u64..=12,
        1u64..=16,
        any::<bool>(),
        prop::option::weighted(0.3, 60u64..=720),
        1u8..=3,
        10u64..=600,
        1u64..=8,
    );
    let health = (
        1u32..=3,
        1u32..=3,
        100u64..=400,
        prop_oneof![3 => Just(1u32), 1 => 2u32..=3],
        0u32..=3,
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.3),
        (
            prop_oneof![1 => Just(0u32), 2 => 150u32..=400],
            prop::collection::vec(prop::option::weighted(0.7, 20u64..=300), 9),
        ),
    );
    let billing = (
        6u64..=48,
        prop::sample::select(vec![30u64, 60, 120]),
        1u64..=4,
        prop_oneof![Just(0u64), Just(50_000_000), Just(u64::MAX / 4)],
        any::<bool>(),
        prop::collection::vec(table(), PROVIDERS.len() * METERED),
    );
    let policies = (
        prop::option::weighted(0.4, (1u64..=24, 1u64..=96)),
        prop::option::weighted(0.4, (1u64..=8, 0u64..=16)),
        prop::bool::weighted(0.4),
        // In quarter hours: often at once (0), often inside a run; catalog often older.
        prop::option::weighted(0.4, (prop_oneof![Just(0u64), 1u64..=96], prop_oneof![Just(0u64), 1u64..=200])),
        // Failover, or a split whose minimum share is often 0 or 50; and whether the second
        // CDN's egress crosses the first's price at its first tier boundary.
        prop::option::weighted(
            0.4,
            (prop::option::weighted(0.6, prop_oneof![Just(0u32), Just(50), 0u32..=50]), prop::bool::weighted(0.6)),
        ),
    );
    (topo, mirror, health, billing, policies).prop_map(
        |(t, m, h, b, (predict, ttl_bounds, cost_capped, lifecycle, second_cdn))| {
            let (regions, geos, two_storage, cdn, latency, mask) = t;
            let (threshold, max_per_clip, ttl, sync, cleanup, refresh, half_life, copy_attempts, base, factor) = m;
            let (
                fail_n,
                ok_m,
                degraded_ms,
                view_weight,
                vote_weight,
                latency_first,
                demand_only,
                (factor_pct, normals),
            ) = h;
            let (month_hours, check_mins, window_checks, alert_threshold, alert_total, mut rates) = b;
            let second_cdn = second_cdn.filter(|_| cdn);
            if let Some((_, true)) = second_cdn {
                // Cheaper than the first CDN's first tier for its first GB of the month, then
                // dearer: the split turns around mid-month and back at each month's start.
                let egress = meter_index(Meter::CdnEgress) * PROVIDERS.len();
                let first = rates[egress + CDN.index()][0].1;
                rates[egress + CDN2.index()] = vec![(0, first / 2), (1, first + 1)];
            }
            Params {
                regions,
                geos,
                two_storage,
                cdn,
                latency: latency.into_iter().map(|x| x * 30).collect(),
                view_weight,
                vote_weight,
                latency_first,
                demand_only,
                mirror_mask: mask & ((1 << regions) - 1),
                threshold,
                max_per_clip,
                ttl: SimDuration(ttl * 15 * MIN),
                sync: SimDuration(sync * 5 * MIN),
                cleanup: SimDuration(cleanup * 15 * MIN),
                refresh,
                half_life: half_life.map(|h| SimDuration(h * MIN)),
                copy_attempts,
                backoff_base: SimDuration(base * SEC),
                backoff_max: SimDuration(base * factor * SEC),
                fail_n,
                ok_m,
                degraded: SimDuration::from_millis(degraded_ms),
                degraded_factor_pct: factor_pct,
                probe_normal_ms: normals.into_iter().take(regions as usize + 2).collect(),
                month: SimDuration::from_hours(month_hours),
                alert_check: SimDuration(check_mins * MIN),
                alert_window_checks: window_checks,
                alert_threshold,
                alert_total,
                rates,
                predict: predict.map(|(age, horizon)| (SimDuration(age * 15 * MIN), SimDuration(horizon * 15 * MIN))),
                ttl_bounds: ttl_bounds
                    .map(|(min, extra)| (SimDuration(min * 15 * MIN), SimDuration((min + extra) * 15 * MIN))),
                cost_capped,
                lifecycle: lifecycle.map(|(after, age)| (SimDuration(after * 15 * MIN), SimDuration(age * 15 * MIN))),
                second_cdn: second_cdn.map(|(split, _)| split),
            }
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// A probe's latency: any, or within a few microseconds of the degraded threshold.
#[derive(Clone, Copy, Debug)]
enum Latency {
    Ms(u64),
    NearThreshold(i64),
}

#[derive(Clone, Debug)]
enum Op {
    /// Advance the clock by this many microseconds, running every timer that falls due.
    Advance(u64),
    /// Advance the clock to exactly the next timer.
    AdvanceToTimer,
    /// Advance the clock to exactly the expiry of an active mirror (a boundary instant).
    AdvanceToExpiry(u32),
    Upload {
        size: u64,
        primary: u32,
    },
    /// Upload `count` small clips at once (a catalog), so that clip ids pass 64 and 128.
    Catalog {
        count: u32,
        primary: u32,
    },
    Vote {
        clip: u32,
        delta: i32,
    },
    /// Probe a region (`target % (regions + 2) < regions`) or a CDN. The result follows the
    /// "really down" set unless `flip`.
    Probe {
        target: u32,
        flip: bool,
        latency: Latency,
    },
    /// Complete (`ok`) or fail (after `frac / 255` of the bytes) a copy in flight.
    Copy {
        pick: u32,
        ok: bool,
        frac: u8,
    },
    /// Serve a view. Bit `i` of `fail_mask` makes the `i`-th step fail even if its source is up;
    /// `bogus` also tries steps that do not fit the request and checks they are refused;
    /// `expired` makes a copy at the edge an expired one, revalidated with a copy; `direct`
    /// serves it as a rollout's control arm (`Request::direct`: the primary only, no CDN).
    Request {
        clip: u32,
        geo: u32,
        fail_mask: u8,
        bogus: bool,
        expired: bool,
        direct: bool,
    },
    /// Toggle whether a region (or a CDN) is really down.
    ToggleDown(u32),
    /// Empty a geography's edge cache.
    EvictEdge(u32),
    /// Try an input at an earlier time than the engine has seen.
    Backwards {
        by: u64,
        kind: u8,
    },
    /// Change a meter's rate table for one provider (in one zone, or all), at the current time.
    PriceChange {
        meter: u8,
        provider: u8,
        zone: Option<u32>,
        table: MTable,
    },
    /// Try an invalid input.
    Bad {
        kind: u8,
        a: u32,
        b: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop_oneof![0u64..=60 * SEC, 0u64..=30 * MIN, 0u64..=6 * 60 * MIN].prop_map(Op::Advance),
        1 => Just(Op::AdvanceToTimer),
        1 => any::<u32>().prop_map(Op::AdvanceToExpiry),
        2 => (prop_oneof![1u64..=1_000, 1u64..=2_000_000_000], any::<u32>())
            .prop_map(|(size, primary)| Op::Upload { size, primary }),
        1 => (60u32..=140, any::<u32>()).prop_map(|(count, primary)| Op::Catalog { count, primary }),
        1 => (any::<u32>(), -3i32..=5).prop_map(|(clip, delta)| Op::Vote { clip, delta }),
        4 => (
            any::<u32>(),
            prop::bool::weighted(0.15),
            prop_oneof![4 => (0u64..=1_200).prop_map(Latency::Ms), 1 => (-3i64..=3).prop_map(Latency::NearThreshold)],
        )
            .prop_map(|(target, flip, latency)| Op::Probe { target, flip, latency }),
        // A failed copy moved any share of the bytes, often none or all of them.
        3 => (any::<u32>(), prop::bool::weighted(0.6), prop_oneof![3 => any::<u8>(), 1 => Just(0u8), 1 => Just(255u8)])
            .prop_map(|(pick, ok, frac)| Op::Copy { pick, ok, frac }),
        8 => (any::<u32>(), any::<u32>(), prop_oneof![8 => Just(0u8), 1 => (0u32..8).prop_map(|b| 1u8 << b), 1 => any::<u8>()], prop::bool::weighted(0.1), prop::bool::weighted(0.3), prop::bool::weighted(0.2))
            .prop_map(|(clip, geo, fail_mask, bogus, expired, direct)| Op::Request { clip, geo, fail_mask, bogus, expired, direct }),
        1 => any::<u32>().prop_map(Op::ToggleDown),
        1 => any::<u32>().prop_map(Op::EvictEdge),
        1 => (any::<u64>(), 0u8..7).prop_map(|(by, kind)| Op::Backwards { by, kind }),
        1 => (0u8..METERED as u8, 0u8..PROVIDERS.len() as u8, prop::option::weighted(0.3, 0u32..4), table())
            .prop_map(|(meter, provider, zone, table)| Op::PriceChange { meter, provider, zone, table }),
        1 => (0u8..11, any::<u32>(), any::<u32>()).prop_map(|(kind, a, b)| Op::Bad { kind, a, b }),
    ]
}

// ---------------------------------------------------------------------------------------------
// The reference model
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct MClip {
    uploaded_at: SimTime,
    /// Its primary copy is in the infrequent-access class.
    infrequent: bool,
    size: u64,
    primary: u32,
    views: u32,
    votes: i32,
    demand: Vec<u32>,
}

#[derive(Clone, Debug)]
struct MMirror {
    active: bool,
    source: u32,
    /// The copy reads an infrequent-access primary (judged when ordered or last retried).
    source_infrequent: bool,
    failed: u8,
    created_at: SimTime,
    active_at: SimTime,
    expires_at: SimTime,
}

impl MMirror {
    fn serveable(&self, now: SimTime) -> bool {
        self.active && now < self.expires_at
    }
}

#[derive(Clone, Copy, Debug)]
struct MHealth {
    state: Health,
    fails_in_row: u32,
    oks_in_row: u32,
    avg_us: Option<u64>,
}

/// Where a request stands with the CDN, as the harness sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cdn {
    Off,
    Ready,
    Missed,
    /// The edge held an expired copy: revalidated through the CDN.
    Stale,
    Failed,
}

impl Cdn {
    /// Whether the request goes to its copies through the CDN.
    fn reached(self) -> bool {
        matches!(self, Cdn::Missed | Cdn::Stale)
    }
}

struct Model {
    p: Params,
    clips: Vec<MClip>,
    /// Keyed by (clip, region).
    mirrors: BTreeMap<(u32, u32), MMirror>,
    /// One per region, then the CDN, then the second CDN.
    health: Vec<MHealth>,
    /// With a cost-aware split, per geography: (percent of requests for the second CDN, the
    /// running remainder).
    split: Vec<(u32, u32)>,
    stored: Vec<u64>,
    /// Of `stored`, bytes in the infrequent-access class.
    stored_infrequent: Vec<u64>,
    accrued_to: SimTime,
    /// The rate table in force on every bill line.
    tables: BTreeMap<LineKey, MTable>,
    /// This month, per line.
    usage: BTreeMap<LineKey, MLine>,
    /// Segment costs (rounded down per line and segment) not yet taken by a cost-alert check:
    /// (all lines, CDN lines).
    uncollected: (i64, i64),
    /// Bytes delivered since the last cost-alert check: (every path, through the CDN).
    delivered: (u64, u64),
    /// The cost-alert window: (cost, bytes) of the last checks, oldest first.
    alert_window: std::collections::VecDeque<(i64, u64)>,
    alert_raised: bool,
    /// Closed months: (start, end, usage and numerator per line).
    closed: Vec<(SimTime, SimTime, BTreeMap<LineKey, MLine>)>,
    month_start: SimTime,
    counters: Counters,
    active_records: u64,
    next_month: SimTime,
    next_alert: SimTime,
    next_cleanup: SimTime,
    next_sync: SimTime,
    next_halving: SimTime,
    /// (due, sequence, clip, region).
    retries: Vec<(SimTime, u64, u32, u32)>,
    retry_seq: u64,
}

impl Model {
    fn new(p: &Params) -> Self {
        let zero = SimTime::ZERO;
        let mut model = Model {
            p: p.clone(),
            clips: Vec::new(),
            mirrors: BTreeMap::new(),
            health: vec![
                MHealth { state: Health::Healthy, fails_in_row: 0, oks_in_row: 0, avg_us: None };
                p.regions as usize + 2
            ],
            split: if matches!(p.second_cdn, Some(Some(_))) { vec![(0, 0); p.geos as usize] } else { vec![] },
            stored: vec![0; p.regions as usize],
            stored_infrequent: vec![0; p.regions as usize],
            accrued_to: zero,
            tables: p.line_keys().into_iter().map(|k| (k, p.table(k.meter, k.provider).clone())).collect(),
            usage: BTreeMap::new(),
            uncollected: (0, 0),
            delivered: (0, 0),
            alert_window: std::iter::repeat_n((0, 0), p.alert_window_checks as usize).collect(),
            alert_raised: false,
            closed: Vec::new(),
            month_start: zero,
            counters: Counters::default(),
            active_records: 0,
            next_month: zero + p.month,
            next_alert: zero + p.alert_check,
            next_cleanup: zero + p.cleanup,
            next_sync: zero + p.sync,
            next_halving: p.half_life.map_or(SimTime::NEVER, |h| zero + h),
            retries: Vec::new(),
            retry_seq: 0,
        };
        model.rebalance();
        model
    }

    fn cdn_index(&self) -> usize {
        self.p.regions as usize
    }

    /// The documented cost-aware split (property 15): in each geography the CDN whose next GB
    /// of egress is cheaper at the tier its usage this month has reached (the next request's
    /// fee breaking a tie) gets all but the minimum share; equal prices: half each.
    fn rebalance(&mut self) {
        let Some(Some(min_pct)) = self.p.second_cdn else { return };
        for g in 0..self.p.geos {
            let next_unit = |provider, meter| {
                let key = LineKey { meter, provider, zone: g };
                let used = self.usage.get(&key).map_or(0, |l| l.usage) / unit(meter);
                let table = &self.tables[&key];
                table.iter().rev().find(|&&(from, _)| u128::from(from) <= used).expect("a tier from 0").1
            };
            let price = |p| (next_unit(p, Meter::CdnEgress), next_unit(p, Meter::CdnRequests));
            self.split[g as usize].0 = match price(CDN).cmp(&price(CDN2)) {
                std::cmp::Ordering::Less => min_pct,
                std::cmp::Ordering::Greater => 100 - min_pct,
                std::cmp::Ordering::Equal => 50,
            };
        }
    }

    /// The documented choice of CDN for a request from `g` (property 15): the preferred one
    /// (the first in failover mode; by the running remainder of the geography's share when
    /// splitting) unless believed unhealthy, else the other, else none.
    fn choose_cdn(&mut self, g: u32) -> Option<usize> {
        let ok = |i: usize| self.health[self.cdn_index() + i].state != Health::Unhealthy;
        if !self.p.cdn {
            return None;
        }
        if self.p.second_cdn.is_none() {
            return ok(0).then_some(0);
        }
        let (first_ok, second_ok) = (ok(0), ok(1));
        let mut preferred = 0;
        if let Some((pct, acc)) = self.split.get_mut(g as usize) {
            *acc += *pct;
            if *acc >= 100 {
                *acc -= 100;
                preferred = 1;
            }
        }
        let other = 1 - preferred;
        [(preferred, [first_ok, second_ok][preferred]), (other, [first_ok, second_ok][other])]
            .into_iter()
            .find(|&(_, ok)| ok)
            .map(|(i, _)| i)
    }

    fn region_health(&self, r: u32) -> Health {
        self.health[r as usize].state
    }

    fn nearest(&self, g: u32) -> u32 {
        (0..self.p.regions).min_by_key(|&r| (self.p.lat(r, g), r)).expect("at least one region")
    }

    fn score(&self, c: usize) -> i64 {
        let (views, votes) = (i64::from(self.clips[c].views), i64::from(self.clips[c].votes));
        views * i64::from(self.p.view_weight) + votes * i64::from(self.p.vote_weight)
    }

    /// The documented mirror lifetime for clip `c` now: `ttl`, or with adaptive bounds
    /// `floor(ttl x score / threshold)` microseconds clamped to them (the longest at threshold 0).
    fn lifetime(&self, c: usize) -> SimDuration {
        let Some((min, max)) = self.p.ttl_bounds else { return self.p.ttl };
        if self.p.threshold == 0 {
            return max;
        }
        let score = self.score(c).max(0) as u128;
        let scaled = u128::from(self.p.ttl.as_micros()) * score / u128::from(self.p.threshold);
        let micros = scaled.max(u128::from(min.as_micros())).min(u128::from(max.as_micros()));
        SimDuration(micros as u64)
    }

    /// Whether a sync at `at` mirrors clip `c`: its score reaches the threshold, or (predictive)
    /// it is fresh (uploaded less than `age` ago, not at this instant) and its score per
    /// microsecond of age, times the horizon, reaches the threshold. Second: by prediction only.
    fn qualifies(&self, c: usize, at: SimTime) -> (bool, bool) {
        let score = self.score(c);
        if score >= self.p.threshold as i64 {
            return (true, false);
        }
        let Some((age_max, horizon)) = self.p.predict else { return (false, false) };
        let age = at.0 - self.clips[c].uploaded_at.0;
        let on_course =
            score > 0 && (score as u128) * u128::from(horizon.0) >= u128::from(self.p.threshold) * u128::from(age);
        let predicted = age > 0 && age < age_max.0 && on_course;
        (predicted, predicted)
    }

    fn records(&self, c: u32) -> usize {
        self.mirrors.range((c, 0)..(c + 1, 0)).count()
    }

    fn mirrors_of(&self, c: u32) -> impl Iterator<Item = (u32, &MMirror)> + '_ {
        self.mirrors.range((c, 0)..(c + 1, 0)).map(|(&(_, r), m)| (r, m))
    }

    /// Meters `amount` base units on a line, priced at once at the line's table in force and at
    /// the month's tier position.
    fn meter(&mut self, meter: Meter, provider: ProviderId, zone: u32, amount: u128) {
        let key = LineKey { meter, provider, zone };
        let table = self.tables.get(&key).unwrap_or_else(|| panic!("model: usage on {key:?}, not a bill line"));
        let line = self.usage.entry(key).or_default();
        let numerator = tiered_numerator(table, line.usage, amount, unit(meter));
        line.usage += amount;
        line.numerator += numerator;
        line.segment += numerator;
    }

    /// Ends the current pricing segment of every line (at a price change, a cost-alert check and
    /// a month's close): each line's segment cost, rounded down, is kept for the cost alert.
    fn close_segments(&mut self) {
        for (key, line) in &mut self.usage {
            let cost = Self::cost(key, std::mem::take(&mut line.segment));
            self.uncollected.0 += cost;
            if matches!(key.meter, Meter::CdnEgress | Meter::CdnRequests) {
                self.uncollected.1 += cost;
            }
        }
    }

    /// The documented cost-alert check: the window's cost per GB delivered (total or CDN) above
    /// the threshold raises the alert, at or below it clears it; nothing changes on a window
    /// without delivered bytes.
    fn check_alert(&mut self, at: SimTime, out: &mut Vec<Output>) {
        self.accrue(at);
        self.close_segments();
        self.rebalance();
        let (cost, delivered) = (std::mem::take(&mut self.uncollected), std::mem::take(&mut self.delivered));
        let sample = if self.p.alert_total { (cost.0, delivered.0) } else { (cost.1, delivered.1) };
        self.alert_window.pop_front();
        self.alert_window.push_back(sample);
        let cost: i64 = self.alert_window.iter().map(|s| s.0).sum();
        let bytes: u64 = self.alert_window.iter().map(|s| s.1).sum();
        if bytes == 0 {
            return;
        }
        // Dollars per GB: cost / (bytes / 10^9), compared exactly as fractions.
        let cost_x_gb = u128::try_from(cost).expect("costs are not negative") * 1_000_000_000;
        let above = cost_x_gb > u128::from(self.p.alert_threshold) * u128::from(bytes);
        let per_gb = u64::try_from(cost_x_gb / u128::from(bytes)).unwrap_or(u64::MAX);
        if above && !self.alert_raised {
            self.alert_raised = true;
            self.counters.cost_alerts += 1;
            out.push(Output::CostAlert { cost_per_gb_nanos: per_gb, threshold_nanos: self.p.alert_threshold });
        } else if !above && self.alert_raised {
            self.alert_raised = false;
            out.push(Output::CostAlertCleared { cost_per_gb_nanos: per_gb });
        }
    }

    /// A price change: usage so far (storage up to `t`) stays at the old tables.
    fn price_change(&mut self, meter: Meter, provider: ProviderId, zone: Option<u32>, table: &MTable, t: SimTime) {
        self.accrue(t);
        self.close_segments();
        for (key, t) in &mut self.tables {
            if key.meter == meter && key.provider == provider && zone.is_none_or(|z| z == key.zone) {
                *t = table.clone();
            }
        }
        self.rebalance();
    }

    /// Accrues stored byte-time of every region up to `t`.
    fn accrue(&mut self, t: SimTime) {
        assert!(t >= self.accrued_to, "model time went backwards");
        let elapsed = u128::from(t.0 - self.accrued_to.0);
        for r in 0..self.p.regions {
            let infrequent = self.stored_infrequent[r as usize];
            let standard = u128::from(self.stored[r as usize] - infrequent) * elapsed;
            if standard > 0 {
                self.meter(Meter::StorageByteTime, self.p.provider_of(r), r, standard);
            }
            if infrequent > 0 && elapsed > 0 {
                self.meter(Meter::StorageInfrequent, self.p.provider_of(r), r, u128::from(infrequent) * elapsed);
            }
        }
        self.accrued_to = t;
    }

    /// The month so far as if it closed at `now`: every line's usage, with storage accrued to
    /// `now` (without changing the model).
    fn preview(&self, now: SimTime) -> BTreeMap<LineKey, MLine> {
        let mut usage = self.usage.clone();
        let elapsed = u128::from(now.0 - self.accrued_to.0);
        for r in 0..self.p.regions {
            let infrequent = self.stored_infrequent[r as usize];
            let classes = [
                (Meter::StorageByteTime, self.stored[r as usize] - infrequent),
                (Meter::StorageInfrequent, infrequent),
            ];
            for (meter, bytes) in classes {
                let amount = u128::from(bytes) * elapsed;
                if amount == 0 {
                    continue;
                }
                let key = LineKey { meter, provider: self.p.provider_of(r), zone: r };
                let line = usage.entry(key).or_default();
                line.numerator += tiered_numerator(&self.tables[&key], line.usage, amount, unit(key.meter));
                line.usage += amount;
            }
        }
        usage
    }

    fn change_stored(&mut self, r: u32, delta: i64, t: SimTime) {
        self.accrue(t);
        let s = &mut self.stored[r as usize];
        *s = s.checked_add_signed(delta).expect("model: stored bytes below zero");
    }

    /// A line's cost: its exact numerator divided by the price unit, rounded down once.
    fn cost(key: &LineKey, numerator: u128) -> i64 {
        i64::try_from(numerator / unit(key.meter)).expect("cost fits i64")
    }

    fn poll_timeout(&self) -> SimTime {
        let retry = self.retries.iter().map(|r| r.0).min().unwrap_or(SimTime::NEVER);
        let transition = self.next_transition().map_or(SimTime::NEVER, |(t, _)| t);
        [self.next_month, self.next_alert, self.next_cleanup, self.next_sync, retry, transition]
            .into_iter()
            .min()
            .expect("6")
    }

    /// The earliest (time, clip) of a primary copy still to move to the infrequent-access class.
    fn next_transition(&self) -> Option<(SimTime, usize)> {
        (0..self.clips.len())
            .filter(|&c| !self.clips[c].infrequent)
            .map(|c| (self.p.transition_at(self.clips[c].uploaded_at), c))
            .filter(|&(t, _)| t != SimTime::NEVER)
            .min()
    }

    /// Moves clip `c`'s primary copy to the infrequent-access class at `t`.
    fn transition(&mut self, c: usize, t: SimTime) {
        self.accrue(t);
        let (primary, size) = (self.clips[c].primary, self.clips[c].size);
        self.clips[c].infrequent = true;
        self.stored_infrequent[primary as usize] += size;
        self.counters.transitions_infrequent += 1;
    }

    // ----- health -----

    /// Applies a probe; returns the previous state if the state changed.
    /// The smoothed probe latency above which target `idx` is degraded: the absolute threshold,
    /// or the factor times its normal latency when that is set and lower.
    fn degraded_above_us(&self, idx: usize) -> u64 {
        let absolute = self.p.degraded.as_micros();
        match self.p.probe_normal_ms.get(idx).copied().flatten() {
            Some(ms) if self.p.degraded_factor_pct > 0 => {
                absolute.min(ms * 1000 * u64::from(self.p.degraded_factor_pct) / 100)
            }
            _ => absolute,
        }
    }

    fn probe(&mut self, idx: usize, ok: bool, latency: SimDuration) -> Option<Health> {
        let (fail_n, ok_m, degraded) = (self.p.fail_n, self.p.ok_m, self.degraded_above_us(idx));
        let h = &mut self.health[idx];
        let before = h.state;
        if ok {
            h.fails_in_row = 0;
            h.oks_in_row += 1;
            let sample = i128::from(latency.as_micros());
            // avg + (sample - avg) / 8; integer division truncates toward zero, i.e. toward the
            // old average.
            let avg = match h.avg_us {
                None => sample,
                Some(a) => i128::from(a) + (sample - i128::from(a)) / 8,
            };
            let avg = u64::try_from(avg).expect("average between two u64 values");
            h.avg_us = Some(avg);
            if before != Health::Unhealthy || h.oks_in_row >= ok_m {
                h.state = if avg > degraded { Health::Degraded } else { Health::Healthy };
            }
        } else {
            h.oks_in_row = 0;
            h.fails_in_row += 1;
            if h.fails_in_row >= fail_n {
                h.state = Health::Unhealthy;
            }
        }
        (h.state != before).then_some(before)
    }

    // ----- jobs -----

    /// Runs every job due at or before `t` and appends the outputs they must give.
    fn run_jobs(&mut self, t: SimTime, out: &mut Vec<Output>) {
        loop {
            let retry = self.retries.iter().map(|r| (r.0, r.1)).min();
            let transition = self.next_transition();
            let jobs = [
                self.next_month,
                self.next_alert,
                self.next_cleanup,
                self.next_sync,
                retry.map_or(SimTime::NEVER, |r| r.0),
                transition.map_or(SimTime::NEVER, |t| t.0),
            ];
            let at = *jobs.iter().min().expect("6 jobs");
            if at > t {
                return;
            }
            let which = jobs.iter().position(|&j| j == at).expect("the min is there");
            match which {
                0 => {
                    self.next_month = at + self.p.month;
                    let o = self.close_month(at);
                    out.push(o);
                }
                1 => {
                    self.next_alert = at + self.p.alert_check;
                    self.check_alert(at, out);
                }
                2 => self.cleanup(at, out),
                3 => self.sync(at, out),
                5 => self.transition(transition.expect("a transition is due").1, at),
                _ => {
                    let key = retry.expect("a retry is due");
                    let i = self.retries.iter().position(|r| (r.0, r.1) == key).expect("it exists");
                    let (_, _, clip, region) = self.retries.remove(i);
                    self.retry(clip, region, at, out);
                }
            }
        }
    }

    fn close_month(&mut self, at: SimTime) -> Output {
        self.accrue(at);
        self.close_segments();
        let usage = std::mem::take(&mut self.usage);
        let total: i64 = usage.iter().map(|(k, line)| Self::cost(k, line.numerator)).sum();
        let month = self.closed.len() as u32;
        self.closed.push((self.month_start, at, usage));
        self.month_start = at;
        self.rebalance();
        Output::MonthClosed { month, total: MoneyNanos(total) }
    }

    fn cleanup(&mut self, at: SimTime, out: &mut Vec<Output>) {
        self.next_cleanup = at + self.p.cleanup;
        self.counters.cleanup_passes += 1;
        let expired: Vec<(u32, u32)> =
            self.mirrors.iter().filter(|(_, m)| m.active && m.expires_at <= at).map(|(&k, _)| k).collect();
        for (clip, region) in expired {
            self.mirrors.remove(&(clip, region));
            let size = self.clips[clip as usize].size;
            self.change_stored(region, -(size as i64), at);
            self.active_records -= 1;
            self.counters.mirrors_deleted += 1;
            out.push(Output::DeleteMirror { clip: ClipId(clip), region: RegionId(region), size: Bytes(size) });
        }
    }

    /// The documented copy source: the primary unless believed unhealthy, else the healthiest
    /// serveable mirror not believed unhealthy (ties: lower region).
    fn copy_source(&self, clip: u32, at: SimTime) -> Option<u32> {
        let primary = self.clips[clip as usize].primary;
        if self.region_health(primary) != Health::Unhealthy {
            return Some(primary);
        }
        self.mirrors_of(clip)
            .filter(|(r, m)| m.serveable(at) && self.region_health(*r) != Health::Unhealthy)
            .map(|(r, _)| r)
            .min_by_key(|&r| (self.region_health(r), r))
    }

    /// The documented demand-ranked placement: greedily the candidate that saves the most
    /// `demand x latency` (per geography, only where it improves on the nearest existing copy),
    /// ties to the one closest to the demand, then to the lower region id; every free slot filled.
    fn place(&self, clip: usize, copies: &BTreeSet<u32>, mut left: Vec<u32>, slots: usize) -> Vec<u32> {
        let demand = &self.clips[clip].demand;
        let geos = self.p.geos;
        let mut best: Vec<u64> = (0..geos)
            .map(|g| copies.iter().map(|&r| u64::from(self.p.lat(r, g))).min().expect("the primary is a copy"))
            .collect();
        let mut out = Vec::new();
        while out.len() < slots && !left.is_empty() {
            let rank = |&r: &u32| {
                let mut gain = 0u64;
                let mut closeness = 0u64;
                for g in 0..geos {
                    let d = u64::from(demand[g as usize]);
                    let ms = u64::from(self.p.lat(r, g));
                    gain += d * best[g as usize].saturating_sub(ms);
                    closeness += d * ms;
                }
                (Reverse(gain), closeness, r)
            };
            let i = (0..left.len()).min_by_key(|&i| rank(&left[i])).expect("not empty");
            // DemandOnly: never where nobody would gain.
            if self.p.demand_only && rank(&left[i]).0 == Reverse(0) {
                break;
            }
            let r = left.remove(i);
            for g in 0..geos {
                best[g as usize] = best[g as usize].min(u64::from(self.p.lat(r, g)));
            }
            out.push(r);
        }
        out
    }

    fn sync(&mut self, at: SimTime, out: &mut Vec<Output>) {
        self.next_sync = at + self.p.sync;
        self.counters.sync_passes += 1;
        if let Some(h) = self.p.half_life {
            if at >= self.next_halving {
                for c in &mut self.clips {
                    c.views /= 2;
                    c.votes /= 2;
                    for d in &mut c.demand {
                        *d /= 2;
                    }
                }
                while self.next_halving <= at {
                    self.next_halving += h;
                }
            }
        }
        for c in 0..self.clips.len() {
            let clip = c as u32;
            let (qualifies, predicted) = self.qualifies(c, at);
            if !qualifies {
                continue;
            }
            if self.p.refresh {
                let ttl = self.lifetime(c);
                for (_, m) in self.mirrors.range_mut((clip, 0)..(clip + 1, 0)) {
                    if m.serveable(at) {
                        m.expires_at = m.expires_at.max(at + ttl);
                    }
                }
            }
            let records = self.records(clip);
            let max = usize::from(self.p.max_per_clip);
            if records >= max {
                continue;
            }
            let Some(source) = self.copy_source(clip, at) else { continue };
            let primary = self.clips[c].primary;
            let copies: BTreeSet<u32> = std::iter::once(primary).chain(self.mirrors_of(clip).map(|(r, _)| r)).collect();
            let candidates: Vec<u32> = (0..self.p.regions)
                .filter(|&r| {
                    self.p.mirror_allowed(r) && self.region_health(r) != Health::Unhealthy && !copies.contains(&r)
                })
                .collect();
            if candidates.is_empty() {
                continue;
            }
            if self.p.cost_capped && self.alert_raised {
                self.counters.copies_withheld += 1;
                continue;
            }
            let size = self.clips[c].size;
            for to in self.place(c, &copies, candidates, max - records) {
                let m = MMirror {
                    active: false,
                    source,
                    source_infrequent: source == self.clips[c].primary && self.clips[c].infrequent,
                    failed: 0,
                    created_at: at,
                    active_at: SimTime::NEVER,
                    expires_at: SimTime::NEVER,
                };
                assert!(self.mirrors.insert((clip, to), m).is_none());
                self.counters.mirrors_created += 1;
                self.counters.mirrors_predicted += u64::from(predicted);
                out.push(Output::Replicate {
                    clip: ClipId(clip),
                    from: RegionId(source),
                    to: RegionId(to),
                    size: Bytes(size),
                });
            }
        }
    }

    fn retry(&mut self, clip: u32, region: u32, at: SimTime, out: &mut Vec<Output>) {
        let pending = self.mirrors.get(&(clip, region)).is_some_and(|m| !m.active);
        if !pending {
            return;
        }
        let from = self.copy_source(clip, at).unwrap_or(self.clips[clip as usize].primary);
        let c = &self.clips[clip as usize];
        let source_infrequent = from == c.primary && c.infrequent;
        let m = self.mirrors.get_mut(&(clip, region)).expect("checked");
        m.source = from;
        m.source_infrequent = source_infrequent;
        let size = Bytes(self.clips[clip as usize].size);
        out.push(Output::Replicate { clip: ClipId(clip), from: RegionId(from), to: RegionId(region), size });
    }

    // ----- inputs -----

    fn upload(&mut self, size: u64, primary: u32, t: SimTime) {
        self.clips.push(MClip {
            uploaded_at: t,
            infrequent: false,
            size,
            primary,
            views: 0,
            votes: 0,
            demand: vec![0; self.p.geos as usize],
        });
        self.change_stored(primary, size as i64, t);
        let c = self.clips.len() - 1;
        if self.p.transition_at(t) <= t {
            // Already past the rule's age (an old catalog): stored infrequent at once.
            self.transition(c, t);
        }
    }

    fn finished(&mut self, clip: u32, region: u32, t: SimTime) {
        let ttl = self.lifetime(clip as usize);
        let m = self.mirrors.get_mut(&(clip, region)).expect("pending mirror");
        assert!(!m.active);
        m.active = true;
        m.active_at = t;
        m.expires_at = t + ttl;
        let source = m.source;
        let size = self.clips[clip as usize].size;
        let source_infrequent = m.source_infrequent;
        self.meter(Meter::InterRegion, self.p.provider_of(source), source, u128::from(size));
        self.meter_retrieval_of_copy(source, source_infrequent, size);
        self.counters.replication_bytes += size;
        self.change_stored(region, size as i64, t);
        self.counters.mirrors_activated += 1;
        self.active_records += 1;
        self.counters.active_mirrors_peak = self.counters.active_mirrors_peak.max(self.active_records);
    }

    /// A copy read from an infrequent-access primary (when it was ordered) pays the retrieval of
    /// what it moved.
    fn meter_retrieval_of_copy(&mut self, source: u32, source_infrequent: bool, bytes: u64) {
        if source_infrequent && bytes > 0 {
            self.meter(Meter::Retrieval, self.p.provider_of(source), source, u128::from(bytes));
        }
    }

    fn failed(&mut self, clip: u32, region: u32, bytes: u64, t: SimTime, out: &mut Vec<Output>) {
        let m = self.mirrors.get_mut(&(clip, region)).expect("pending mirror");
        assert!(!m.active);
        m.failed += 1;
        let (source, failed, source_infrequent) = (m.source, m.failed, m.source_infrequent);
        self.meter(Meter::InterRegion, self.p.provider_of(source), source, u128::from(bytes));
        self.meter_retrieval_of_copy(source, source_infrequent, bytes);
        self.counters.replication_bytes += bytes;
        self.counters.copy_failures += 1;
        if failed >= self.p.copy_attempts {
            self.mirrors.remove(&(clip, region));
            self.counters.mirrors_abandoned += 1;
            out.push(Output::ReplicationAbandoned { clip: ClipId(clip), region: RegionId(region) });
        } else {
            // base x 2^(failed - 1), at most max.
            let mut backoff = self.p.backoff_base.as_micros();
            for _ in 1..failed {
                backoff = backoff.saturating_mul(2);
            }
            let backoff = SimDuration(backoff.min(self.p.backoff_max.as_micros()));
            self.retry_seq += 1;
            self.retries.push((t + backoff, self.retry_seq, clip, region));
        }
    }

    fn view(&mut self, clip: usize, geo: u32) {
        let c = &mut self.clips[clip];
        c.views = c.views.saturating_add(1);
        c.demand[geo as usize] = c.demand[geo as usize].saturating_add(1);
        self.counters.requests_total += 1;
    }

    /// The documented seed chain: the active mirror in the viewer's nearest region, the other
    /// active mirrors (healthiest, then lowest latency, then lower id), the primary; or, with
    /// `LatencyFirst`, every copy (primary included) by health, latency and id. First the untried
    /// copies not believed unhealthy, then the untried unhealthy ones.
    fn expected_step(&self, clip: u32, geo: u32, cdn: Cdn, tried: &BTreeSet<u32>, now: SimTime, direct: bool) -> Step {
        if cdn == Cdn::Ready {
            return Step::Edge;
        }
        let via_cdn = cdn.reached();
        if direct {
            // The documented control arm: the primary, directly, once.
            let primary = self.clips[clip as usize].primary;
            return if tried.contains(&primary) {
                Step::Failed
            } else {
                Step::Origin { region: RegionId(primary), kind: SourceKind::Primary, via_cdn }
            };
        }
        let nearest = self.nearest(geo);
        let active: Vec<u32> = self.mirrors_of(clip).filter(|(_, m)| m.serveable(now)).map(|(r, _)| r).collect();
        let rank = |r: u32| (self.region_health(r), self.p.lat(r, geo), r);
        let primary = self.clips[clip as usize].primary;
        let mut chain: Vec<(u32, SourceKind)> = Vec::new();
        if self.p.latency_first {
            let kind = |r: u32| match r {
                _ if r == primary => SourceKind::Primary,
                _ if r == nearest => SourceKind::LocalMirror,
                _ => SourceKind::RemoteMirror,
            };
            let mut all: Vec<u32> = active.into_iter().chain([primary]).collect();
            all.sort_by_key(|&r| rank(r));
            chain.extend(all.into_iter().map(|r| (r, kind(r))));
        } else {
            if active.contains(&nearest) {
                chain.push((nearest, SourceKind::LocalMirror));
            }
            let mut rest: Vec<u32> = active.into_iter().filter(|&r| r != nearest).collect();
            rest.sort_by_key(|&r| rank(r));
            chain.extend(rest.into_iter().map(|r| (r, SourceKind::RemoteMirror)));
            chain.push((primary, SourceKind::Primary));
        }
        for last_resort in [false, true] {
            for &(r, kind) in &chain {
                if !tried.contains(&r) && (self.region_health(r) == Health::Unhealthy) == last_resort {
                    return Step::Origin { region: RegionId(r), kind, via_cdn };
                }
            }
        }
        Step::Failed
    }

    fn serve_edge(&mut self, cdn: ProviderId, geo: u32, size: u64) {
        self.delivered.0 += size;
        self.delivered.1 += size;
        self.meter(Meter::CdnEgress, cdn, geo, u128::from(size));
        self.meter(Meter::CdnRequests, cdn, geo, 1);
        self.counters.cdn_lookups += 1;
        self.counters.served_from[ServedFrom::Edge as usize] += 1;
        self.counters.bytes_from[ServedFrom::Edge as usize] += size;
    }

    /// A copy in `region` serves a request (through the CDN or not); `revalidation`: it only
    /// answered the CDN's conditional request for its expired copy, sending no bytes.
    /// A primary copy in the infrequent-access class bills its own request fee, and the bytes
    /// it sends as a retrieval.
    #[allow(clippy::too_many_arguments)]
    fn serve_origin(
        &mut self,
        cdn: ProviderId,
        clip: u32,
        region: u32,
        geo: u32,
        size: u64,
        via_cdn: bool,
        revalidation: bool,
        from: ServedFrom,
    ) {
        let p = self.p.provider_of(region);
        let primary = matches!(from, ServedFrom::PrimaryDirect | ServedFrom::PrimaryViaCdn);
        if primary && self.clips[clip as usize].infrequent {
            self.meter(Meter::RequestsInfrequent, p, region, 1);
            if !revalidation {
                self.meter(Meter::Retrieval, p, region, u128::from(size));
            }
        } else {
            self.meter(Meter::OriginRequests, p, region, 1);
        }
        self.delivered.0 += size;
        if via_cdn {
            self.delivered.1 += size;
            self.meter(Meter::CdnEgress, cdn, geo, u128::from(size));
            self.meter(Meter::CdnRequests, cdn, geo, 1);
            self.counters.cdn_lookups += 1;
            if revalidation {
                self.counters.revalidations += 1;
                self.counters.revalidated_bytes += size;
            } else {
                self.meter(Meter::OriginEgressToCdn, p, region, u128::from(size));
            }
        } else {
            self.meter(Meter::OriginEgressDirect, p, region, u128::from(size));
        }
        self.counters.served_from[from as usize] += 1;
        self.counters.bytes_from[from as usize] += size;
    }
}

// ---------------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------------

/// What the harness itself counted, independently of the model's ledger.
#[derive(Clone, Debug, Default)]
struct Totals {
    requests: u64,
    served_bytes: u64,
    cdn_egress: u128,
    cdn_requests: u128,
    /// CDN requests answered by the first and by the second CDN.
    cdn_requests_by: [u128; 2],
    origin_direct: u128,
    origin_to_cdn: u128,
    origin_requests: u128,
    inter_region: u128,
    /// Requests served by a primary copy past its lifecycle age.
    requests_infrequent: u128,
    /// Bytes read from such copies (served, or copied to a mirror).
    retrieval: u128,
}

/// What must be identical when the same ops run twice.
#[derive(Debug, PartialEq, Eq)]
struct RunResult {
    log: Vec<Output>,
    bills: Vec<MonthBill>,
    counters: Counters,
    engine_debug: String,
}

/// Drives the engine and the model. Properties checked (numbers as in the test's brief):
///
/// 1. at most `max_per_clip` mirror records per clip, at most one per (clip, region), never in
///    the primary region, only in mirror regions (and the records equal the model's);
/// 2. a pending or expired mirror is never named or served;
/// 3. no source believed unhealthy is tried while an untried source not believed unhealthy exists;
/// 4. every request ends in exactly one outcome;
/// 5. bytes by source add up to the bytes served;
/// 6. every bill line costs `floor(sum of usage x tier rate in force / unit)` and the usage equals what the harness
///    and the model metered;
/// 7. determinism (in the proptest body: two runs compare equal);
/// 8. an input at an earlier time is `TimeWentBackwards` and changes nothing (nor do other
///    rejected inputs);
/// 9. believed health equals the model's hysteresis after every probe;
/// 10. cost-capped replication: no sync orders a new copy while the cost alert the engine last
///     announced is raised (judged from the outputs and the counters, not the model);
/// 11. adaptive lifetime: a mirror becomes active with an expiry between `min` and `max` from now
///     (exactly `ttl` without bounds), and by a refresh never beyond `max` from the sync;
/// 12. predictive mirroring: a clip below the threshold gets copies only while fresh (younger than
///     `age`), and a mirror ordered by prediction counts in `mirrors_predicted`;
/// 13. a direct request (a rollout's control arm) is offered only its clip's primary, never
///     through the CDN, and counts as a view like any other;
/// 14. storage lifecycle: a primary copy past its rule's age (from its upload time, the clock and
///     the documented rule, not the model's state) bills each request it answers as an
///     infrequent-access request and each byte it sends (served, or copied to a mirror) as a
///     retrieval; every other origin request stays a standard one; and every copy past its age
///     by the end has moved (`transitions_infrequent`);
/// 15. two CDNs: each request uses the CDN the documented choice names (the first while usable
///     in failover mode; in a cost-aware split the running remainder of its geography's share,
///     the share given by which CDN's next GB is cheaper at the tier this month's usage reached,
///     recomputed at cost-alert checks, price changes and month closes; the other CDN when the
///     preferred one is believed unhealthy, none when both are), each CDN's edges are its own,
///     and each CDN's lines bill exactly the requests the harness saw it answer.
struct Harness {
    engine: Engine,
    model: Model,
    /// The outside world's clock.
    now: SimTime,
    /// The latest time handed to the engine.
    engine_now: SimTime,
    /// Copies ordered and not yet reported: (clip, from, to, size).
    /// and whether it reads an infrequent-access primary (property 14, judged when ordered).
    in_flight: Vec<(ClipId, RegionId, RegionId, Bytes, bool)>,
    /// Regions, then the CDN, then the second CDN, that are really down.
    down: Vec<bool>,
    /// (CDN, geo, clip): what each CDN's edges hold.
    edge: BTreeSet<(usize, u32, u32)>,
    log: Vec<Output>,
    totals: Totals,
    /// Whether the last cost-alert output was `CostAlert` (not cleared).
    alert_raised: bool,
}

fn sort_delete_runs(v: &mut [Output]) {
    let key = |o: &Output| match o {
        Output::DeleteMirror { clip, region, .. } => Some((clip.0, region.0)),
        _ => None,
    };
    let mut i = 0;
    while i < v.len() {
        if key(&v[i]).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        while i < v.len() && key(&v[i]).is_some() {
            i += 1;
        }
        v[start..i].sort_by_key(key);
    }
}

impl Harness {
    fn new(p: &Params) -> Self {
        let source = if p.latency_first { SourcePolicy::LatencyFirst } else { SourcePolicy::SeedChain };
        let placement = if p.demand_only { PlacementPolicy::DemandOnly } else { PlacementPolicy::DemandRanked };
        let ttl = TtlPolicy::from_config(&p.config().mirror);
        let engine = Engine::with_policies(p.config(), source, placement, ttl).expect("valid config");
        assert_eq!(format!("{:?}", engine.config()), format!("{:?}", p.config()), "the configuration given");
        Harness {
            engine,
            model: Model::new(p),
            now: SimTime::ZERO,
            engine_now: SimTime::ZERO,
            in_flight: Vec::new(),
            down: vec![false; p.regions as usize + 2],
            edge: BTreeSet::new(),
            log: Vec::new(),
            totals: Totals::default(),
            alert_raised: false,
        }
    }

    fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.engine.poll_output()).collect()
    }

    /// Compares the engine's outputs with the model's (deletions in any order), records them,
    /// and puts ordered copies in flight.
    fn absorb(&mut self, mut actual: Vec<Output>, mut expected: Vec<Output>, what: &str) {
        self.log.extend(actual.iter().cloned());
        sort_delete_runs(&mut actual);
        sort_delete_runs(&mut expected);
        assert_eq!(actual, expected, "{what}: outputs differ from the model's (left: engine, right: model)");
        for o in actual {
            if let Output::Replicate { clip, from, to, size } = o {
                assert!(
                    !self.in_flight.iter().any(|&(c, _, r, ..)| c == clip && r == to),
                    "{what}: copy of {clip} to {to} ordered while one is already in flight"
                );
                // The copy reads its source when it is ordered, by a sync or a copy retry at the
                // engine's last call; at that instant those jobs run before the storage-class
                // transitions due then (the documented job order), so a primary moving at that
                // very instant is still read in the standard class.
                let primary = self.model.clips[clip.index()].primary;
                let moved_at = self.model.p.transition_at(self.model.clips[clip.index()].uploaded_at);
                let reads_infrequent = from.0 == primary && moved_at < self.engine_now;
                self.in_flight.push((clip, from, to, size, reads_infrequent));
            }
        }
    }

    /// The engine's whole state (its `Debug` form).
    fn snapshot(&self) -> String {
        format!("{:?}", self.engine)
    }

    /// Panics with the first difference if the engine's state is no longer `before`.
    fn assert_unchanged(&self, before: &str, what: &str) {
        let after = self.snapshot();
        if after != before {
            let at = before.bytes().zip(after.bytes()).take_while(|(a, b)| a == b).count();
            let window = |s: &str| {
                let (lo, hi) = (at.saturating_sub(120), (at + 120).min(s.len()));
                s.get(lo..hi).unwrap_or(s).to_string()
            };
            panic!(
                "{what} changed the engine; first difference:\n before: ...{}...\n after:  ...{}...",
                window(before),
                window(&after)
            );
        }
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Advance(us) => self.advance(us),
            Op::AdvanceToTimer => {
                let t = self.model.poll_timeout();
                if t != SimTime::NEVER {
                    self.advance(t.0 - self.now.0);
                }
            }
            Op::AdvanceToExpiry(pick) => {
                let now = self.now;
                let expiries: Vec<SimTime> =
                    self.model.mirrors.values().filter(|m| m.serveable(now)).map(|m| m.expires_at).collect();
                if !expiries.is_empty() {
                    let t = expiries[pick as usize % expiries.len()];
                    self.advance(t.0 - now.0);
                }
            }
            Op::Upload { size, primary } => self.upload(size, primary),
            Op::Catalog { count, primary } => {
                for i in 0..count {
                    self.upload(u64::from(i % 7 + 1) * 1_000, primary.wrapping_add(i / 5));
                }
            }
            Op::Vote { clip, delta } => {
                let n = self.model.clips.len() as u32;
                if n == 0 {
                    return;
                }
                let c = clip % n;
                self.engine.handle_input(self.now, Input::Vote { clip: ClipId(c), delta }).expect("valid vote");
                self.engine_now = self.now;
                let mc = &mut self.model.clips[c as usize];
                mc.votes = mc.votes.saturating_add(delta);
                let out = self.drain();
                self.absorb(out, vec![], "vote");
            }
            Op::Probe { target, flip, latency } => self.probe(target, flip, latency),
            Op::Copy { pick, ok, frac } => self.copy(pick, ok, frac),
            Op::Request { clip, geo, fail_mask, bogus, expired, direct } => {
                self.request(clip, geo, fail_mask, bogus, expired, direct)
            }
            Op::ToggleDown(t) => {
                let i = t as usize % self.down.len();
                self.down[i] = !self.down[i];
            }
            Op::EvictEdge(g) => {
                let g = g % self.model.p.geos;
                self.edge.retain(|&(_, geo, _)| geo != g);
            }
            Op::PriceChange { meter, provider, zone, ref table } => {
                let meter = Meter::ALL[usize::from(meter) % METERED];
                let provider = PROVIDERS[usize::from(provider) % PROVIDERS.len()];
                let input = Input::PriceChange { meter, provider, zone, table: engine_table(table) };
                self.engine.handle_input(self.now, input).expect("a known provider");
                self.engine_now = self.now;
                self.model.price_change(meter, provider, zone, table, self.now);
                let out = self.drain();
                self.absorb(out, vec![], "price change");
            }
            Op::Backwards { by, kind } => self.backwards(by, kind),
            Op::Bad { kind, a, b } => self.bad(kind, a, b),
        }
        self.check_invariants();
    }

    fn upload(&mut self, size: u64, primary: u32) {
        let clip = ClipId(self.model.clips.len() as u32);
        let primary = primary % self.model.p.regions;
        let input = Input::ClipUploaded { clip, size: Bytes(size), primary: RegionId(primary) };
        self.engine.handle_input(self.now, input).expect("valid upload");
        self.engine_now = self.now;
        self.model.upload(size, primary, self.now);
        let out = self.drain();
        self.absorb(out, vec![], "upload");
    }

    fn advance(&mut self, us: u64) {
        let target = self.now + SimDuration(us);
        loop {
            let t = self.engine.poll_timeout();
            assert_eq!(t, self.model.poll_timeout(), "poll_timeout differs from the model's");
            if t > target {
                break;
            }
            assert!(t >= self.engine_now, "a timer fell due at {t}, before the last input at {}", self.engine_now);
            let before = self.engine.counters().clone();
            self.engine.handle_timeout(t).expect("timeout at the time asked for");
            self.engine_now = t;
            let actual = self.drain();
            self.check_new_copies(&before, &actual, t);
            let mut expected = Vec::new();
            self.model.run_jobs(t, &mut expected);
            self.absorb(actual, expected, &format!("jobs at {t}"));
        }
        self.now = target;
    }

    /// Properties 10 and 12 for the jobs run at `t`, which output `out`; `before`: the counters
    /// before them. Jobs at one instant run alert check first, then sync.
    fn check_new_copies(&mut self, before: &Counters, out: &[Output], t: SimTime) {
        for o in out {
            match o {
                Output::CostAlert { .. } => self.alert_raised = true,
                Output::CostAlertCleared { .. } => self.alert_raised = false,
                _ => {}
            }
        }
        let after = self.engine.counters().clone();
        let created = after.mirrors_created - before.mirrors_created;
        let p = &self.model.p;
        if p.cost_capped && self.alert_raised {
            assert_eq!(created, 0, "a sync at {t} ordered {created} copies while the cost alert was raised");
        }
        for o in out {
            let Output::Replicate { clip, to, .. } = *o else { continue };
            // New copies only (a retry re-orders a copy the harness already has in flight... or
            // had: a failed copy leaves the flight list; its record was made at an earlier sync).
            let record = self.model.mirrors.get(&(clip.0, to.0)).map(|m| m.created_at);
            if record.is_some_and(|made| made != t) {
                continue;
            }
            let c = &self.model.clips[clip.index()];
            let score = i64::from(c.views) * i64::from(p.view_weight) + i64::from(c.votes) * i64::from(p.vote_weight);
            if score < p.threshold as i64 {
                let (age_max, _) = p.predict.expect("below the threshold only by prediction");
                assert!(
                    t.0 - c.uploaded_at.0 < age_max.0,
                    "{clip} below the threshold mirrored at {t}, no longer fresh"
                );
            }
        }
        if p.predict.is_none() {
            assert_eq!(after.mirrors_predicted, 0, "no prediction, no predicted mirrors");
        }
    }

    fn probe(&mut self, target: u32, flip: bool, latency: Latency) {
        let regions = self.model.p.regions;
        let idx = target % (regions + 2);
        let t = match idx.checked_sub(regions) {
            Some(0) => HealthTarget::Cdn,
            Some(_) => HealthTarget::SecondCdn,
            None => HealthTarget::Region(RegionId(idx)),
        };
        let ok = !self.down[idx as usize] ^ flip;
        let latency = match latency {
            Latency::Ms(ms) => SimDuration::from_millis(ms),
            Latency::NearThreshold(d) => SimDuration(
                self.model.degraded_above_us(idx as usize).checked_add_signed(d).expect("threshold >= 3 ms"),
            ),
        };
        self.engine.handle_input(self.now, Input::Probe { target: t, ok, latency }).expect("valid probe");
        self.engine_now = self.now;
        let mut expected = Vec::new();
        if let Some(from) = self.model.probe(idx as usize, ok, latency) {
            self.model.counters.health_changes += 1;
            expected.push(Output::HealthChanged { target: t, from, to: self.model.health[idx as usize].state });
        }
        // Property 9.
        assert_eq!(
            self.engine.health(t),
            self.model.health[idx as usize].state,
            "believed health of {t:?} after a probe (ok: {ok}, latency: {latency}) differs from the model's \
             hysteresis: {:?}",
            self.model.health[idx as usize]
        );
        let out = self.drain();
        self.absorb(out, expected, "probe");
    }

    fn copy(&mut self, pick: u32, ok: bool, frac: u8) {
        if self.in_flight.is_empty() {
            return;
        }
        let (clip, from, to, size, reads_infrequent) = self.in_flight.remove(pick as usize % self.in_flight.len());
        let m = self.model.mirrors.get(&(clip.0, to.0)).expect("a copy in flight belongs to a model mirror record");
        assert!(!m.active, "a copy in flight belongs to a pending mirror");
        assert_eq!(m.source, from.0, "the copy's source is the mirror's recorded source");
        let mut expected = Vec::new();
        if ok {
            let input = Input::ReplicationFinished { clip, region: to };
            self.engine.handle_input(self.now, input).expect("the mirror is pending");
            self.model.finished(clip.0, to.0, self.now);
            // Property 11 at activation, from the engine's record.
            let m = self.engine.mirrors_of(clip).expect("known clip").find(|m| m.region == to).copied();
            let lives = m.expect("the mirror just activated").expires_at.0 - self.now.0;
            let p = &self.model.p;
            let (min, max) = p.ttl_bounds.unwrap_or((p.ttl, p.ttl));
            assert!((min.0..=max.0).contains(&lives), "{clip} in {to} lives {lives} us, outside {min}..={max}");
            self.totals.inter_region += u128::from(size.0);
            if reads_infrequent {
                self.totals.retrieval += u128::from(size.0);
            }
        } else {
            let bytes = (u128::from(size.0) * u128::from(frac) / 255) as u64;
            let input = Input::ReplicationFailed { clip, region: to, bytes_transferred: Bytes(bytes) };
            self.engine.handle_input(self.now, input).expect("the mirror is pending");
            self.model.failed(clip.0, to.0, bytes, self.now, &mut expected);
            self.totals.inter_region += u128::from(bytes);
            if reads_infrequent {
                self.totals.retrieval += u128::from(bytes);
            }
        }
        self.engine_now = self.now;
        let out = self.drain();
        self.absorb(out, expected, "copy report");
    }

    /// Whether clip `c`'s primary copy is past its lifecycle rule's age now (property 14).
    fn infrequent_now(&self, c: u32) -> bool {
        self.model.p.transition_at(self.model.clips[c as usize].uploaded_at) <= self.now
    }

    /// Property 2 for a step naming `region` as a `kind` copy of `clip`.
    fn check_source(&self, clip: u32, region: RegionId, kind: SourceKind, now: SimTime, what: &str) {
        let primary = self.model.clips[clip as usize].primary;
        match kind {
            SourceKind::Primary => assert_eq!(region.0, primary, "{what}: primary step names a non-primary region"),
            SourceKind::LocalMirror | SourceKind::RemoteMirror => {
                let m = self.model.mirrors.get(&(clip, region.0));
                assert!(
                    m.is_some_and(|m| m.active && m.expires_at > now),
                    "{what}: {kind:?} from {region} for clip {clip} at {now}, but the model's record is {m:?} \
                     (pending or expired mirrors must never serve)"
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn request(&mut self, clip: u32, geo: u32, fail_mask: u8, bogus: bool, expired: bool, direct: bool) {
        let n = self.model.clips.len() as u32;
        if n == 0 {
            return;
        }
        let (c, g) = (clip % n, geo % self.model.p.geos);
        let now = self.now;
        let mut req = self.engine.begin_request(now, ClipId(c), GeoId(g)).expect("valid request");
        self.engine_now = now;
        self.totals.requests += 1;
        self.model.view(c as usize, g);
        let size = self.model.clips[c as usize].size;
        assert_eq!((req.clip(), req.geo(), req.size(), req.start()), (ClipId(c), GeoId(g), Bytes(size), now));
        // Property 15: the CDN the documented choice names (the first alone, failover, or the
        // cost-aware split).
        let chosen = self.model.choose_cdn(g);
        assert_eq!(req.cdn_index(), chosen, "the CDN chosen for a request from geography {g}");
        let which = chosen.unwrap_or(0);
        let (cdn_idx, cdn_provider) = (self.model.cdn_index() + which, [CDN, CDN2][which]);
        let mut cdn = if chosen.is_some() { Cdn::Ready } else { Cdn::Off };
        if direct {
            req.direct();
            assert!(req.is_direct());
            assert_eq!(req.cdn_index(), None, "a direct request uses no CDN");
            cdn = Cdn::Off;
        }
        let mut tried = BTreeSet::new();
        let mut failed = 0u8;
        for attempt in 0u32.. {
            assert!(attempt < 32, "request did not terminate");
            let step = self.engine.next_step(now, &req);
            assert_eq!(step, self.engine.next_step(now, &req), "next_step is pure");
            if let Step::Origin { region, kind, .. } = step {
                self.check_source(c, region, kind, now, "next_step");
                assert!(!tried.contains(&region.0), "next_step names {region}, which already failed for this request");
                // Property 3, against the engine's own beliefs.
                if self.engine.health(HealthTarget::Region(region)) == Health::Unhealthy {
                    let primary = self.model.clips[c as usize].primary;
                    let better = self
                        .model
                        .mirrors_of(c)
                        // A direct request may use only its primary.
                        .filter(|(_, m)| m.serveable(now) && !direct)
                        .map(|(r, _)| r)
                        .chain([primary])
                        .find(|&r| {
                            !tried.contains(&r)
                                && self.engine.health(HealthTarget::Region(RegionId(r))) != Health::Unhealthy
                        });
                    assert!(
                        better.is_none(),
                        "next_step chose {region}, believed unhealthy, while untried region {better:?} is not"
                    );
                }
            }
            // Property 13: a direct request never asks the edge nor names a mirror.
            if direct {
                let primary = self.model.clips[c as usize].primary;
                assert!(
                    matches!(step, Step::Failed)
                        || matches!(step, Step::Origin { region, kind: SourceKind::Primary, via_cdn: false } if region.0 == primary),
                    "a direct request of {c} was given {step:?}"
                );
            }
            let expected = self.model.expected_step(c, g, cdn, &tried, now, direct);
            assert_eq!(
                step, expected,
                "next_step differs from the model's seed chain (cdn: {cdn:?}, tried: {tried:?})"
            );
            if bogus {
                self.try_bogus(&mut req, step, cdn, &tried);
            }
            let forced = fail_mask & (1 << attempt.min(7)) != 0;
            match step {
                Step::Failed => {
                    let out = self.engine.finish(&req, Step::Failed).expect("finish failed");
                    assert_eq!(out, ServedFrom::Failed);
                    self.model.counters.served_from[ServedFrom::Failed as usize] += 1;
                    if cdn.reached() {
                        self.model.counters.cdn_lookups += 1;
                    }
                    break;
                }
                Step::Edge => {
                    if self.down[cdn_idx] || forced {
                        self.engine.attempt_failed(&mut req, step).expect("edge attempt failed");
                        self.model.counters.failovers += 1;
                        failed += 1;
                        cdn = Cdn::Failed;
                    } else if self.edge.contains(&(which, g, c)) && expired {
                        req.edge_expired();
                        assert!(req.revalidating(), "revalidating after edge_expired");
                        cdn = Cdn::Stale;
                    } else if self.edge.contains(&(which, g, c)) {
                        let out = self.engine.finish(&req, step).expect("edge hit");
                        assert_eq!(out, ServedFrom::Edge);
                        self.model.serve_edge(cdn_provider, g, size);
                        self.totals.cdn_egress += u128::from(size);
                        self.totals.cdn_requests += 1;
                        self.totals.cdn_requests_by[which] += 1;
                        self.totals.served_bytes += size;
                        break;
                    } else {
                        req.edge_missed();
                        cdn = Cdn::Missed;
                    }
                }
                Step::Origin { region, kind, via_cdn } => {
                    if self.down[region.index()] || forced {
                        self.engine.attempt_failed(&mut req, step).expect("origin attempt failed");
                        self.model.counters.failovers += 1;
                        failed += 1;
                        tried.insert(region.0);
                    } else {
                        let out = self.engine.finish(&req, step).expect("served");
                        let want = match (kind, via_cdn) {
                            (SourceKind::LocalMirror, _) => ServedFrom::LocalMirror,
                            (SourceKind::RemoteMirror, _) => ServedFrom::RemoteMirror,
                            (SourceKind::Primary, true) => ServedFrom::PrimaryViaCdn,
                            (SourceKind::Primary, false) => ServedFrom::PrimaryDirect,
                        };
                        assert_eq!(out, want);
                        if out.is_mirror() {
                            self.check_source(c, region, kind, now, "finish");
                        }
                        let stale = cdn == Cdn::Stale;
                        self.model.serve_origin(cdn_provider, c, region.0, g, size, via_cdn, stale, out);
                        self.totals.origin_requests += 1;
                        // Property 14, from the documented rule and the harness's own clock.
                        if kind == SourceKind::Primary && self.infrequent_now(c) {
                            self.totals.requests_infrequent += 1;
                            if !stale {
                                self.totals.retrieval += u128::from(size);
                            }
                        }
                        self.totals.served_bytes += size;
                        if via_cdn {
                            self.totals.cdn_egress += u128::from(size);
                            self.totals.cdn_requests += 1;
                            self.totals.cdn_requests_by[which] += 1;
                            if !stale {
                                self.totals.origin_to_cdn += u128::from(size);
                            }
                            self.edge.insert((which, g, c));
                        } else {
                            self.totals.origin_direct += u128::from(size);
                        }
                        break;
                    }
                }
            }
            assert_eq!(req.failed_attempts(), failed, "failed attempts of the request");
            assert_eq!(req.reached_cdn(), cdn.reached(), "reached_cdn after an edge miss or an expired copy");
            assert_eq!(req.revalidating(), cdn == Cdn::Stale, "revalidating only after an expired copy");
        }
        assert_eq!(self.engine.poll_output(), None, "a request gives no outputs");
    }

    /// Steps that do not fit the request are refused and change nothing: the current step with
    /// the wrong CDN path, failing where nothing was tried, the edge when it is not the current
    /// step, and a region that already failed for this request.
    fn try_bogus(&mut self, req: &mut Request, step: Step, cdn: Cdn, tried: &BTreeSet<u32>) {
        let before = self.snapshot();
        let req_before = *req;
        let primary = RegionId(self.model.clips[req.clip().index()].primary);
        let wrong = match step {
            Step::Edge => Step::Origin { region: primary, kind: SourceKind::Primary, via_cdn: true },
            Step::Origin { region, kind, via_cdn } => Step::Origin { region, kind, via_cdn: !via_cdn },
            Step::Failed => Step::Origin { region: primary, kind: SourceKind::Primary, via_cdn: !cdn.reached() },
        };
        let mut bad = vec![wrong, Step::Failed];
        if cdn != Cdn::Ready {
            bad.push(Step::Edge);
        }
        let via_cdn = cdn.reached();
        // A region the engine does not have.
        bad.push(Step::Origin { region: RegionId(self.model.p.regions), kind: SourceKind::Primary, via_cdn });
        // A direct request may use no copy but its primary (mirrors or not).
        if req.is_direct() {
            for r in (0..self.model.p.regions).filter(|&r| r != primary.0) {
                bad.push(Step::Origin { region: RegionId(r), kind: SourceKind::RemoteMirror, via_cdn });
            }
        }
        for &r in tried {
            for kind in [SourceKind::Primary, SourceKind::LocalMirror, SourceKind::RemoteMirror] {
                bad.push(Step::Origin { region: RegionId(r), kind, via_cdn });
            }
        }
        for s in bad {
            if s != Step::Failed {
                assert!(
                    matches!(self.engine.finish(req, s), Err(EngineError::StepMismatch { .. })),
                    "finish with {s:?} for a request at {step:?} (cdn {cdn:?}) must be refused"
                );
            }
            assert!(
                matches!(self.engine.attempt_failed(req, s), Err(EngineError::StepMismatch { .. })),
                "attempt_failed with {s:?} for a request at {step:?} (cdn {cdn:?}) must be refused"
            );
        }
        assert_eq!(*req, req_before, "a refused step changed the request");
        self.assert_unchanged(&before, "a refused step");
    }

    /// Property 8: an input at an earlier time is refused and changes nothing.
    fn backwards(&mut self, by: u64, kind: u8) {
        let last = self.engine_now;
        assert_eq!(self.engine.now(), last, "engine.now() is the latest time handled");
        if last == SimTime::ZERO {
            return;
        }
        let t = SimTime(last.0 - 1 - by % last.0);
        let before = self.snapshot();
        let clip = ClipId(0);
        let result = match kind {
            0 => self.engine.handle_input(t, Input::Vote { clip, delta: 1 }),
            1 => self.engine.handle_input(
                t,
                Input::Probe { target: HealthTarget::Region(RegionId(0)), ok: false, latency: SimDuration::ZERO },
            ),
            2 => {
                let clip = ClipId(self.model.clips.len() as u32);
                self.engine.handle_input(t, Input::ClipUploaded { clip, size: Bytes(1), primary: RegionId(0) })
            }
            3 => self.engine.begin_request(t, clip, GeoId(0)).map(|_| ()),
            4 => self.engine.handle_timeout(t),
            5 => self.engine.close_books(t),
            _ => match self.in_flight.first() {
                Some(&(clip, _, to, ..)) => {
                    self.engine.handle_input(t, Input::ReplicationFinished { clip, region: to })
                }
                None => self.engine.handle_input(t, Input::ReplicationLag { region: RegionId(0), lag: SimDuration(1) }),
            },
        };
        assert_eq!(result, Err(EngineError::TimeWentBackwards { now: t, last }), "input kind {kind} at {t}");
        self.assert_unchanged(&before, &format!("an input refused for going back in time (kind {kind})"));
    }

    /// Other refused inputs change nothing either ("the engine's state is unchanged when an
    /// error is returned").
    fn bad(&mut self, kind: u8, a: u32, b: u32) {
        let n = self.model.clips.len() as u32;
        let regions = self.model.p.regions;
        let now = self.now;
        let before = self.snapshot();
        let unknown_clip = ClipId(n + a % 3);
        let (result, want): (Result<(), EngineError>, &str) = match kind {
            0 | 1 => {
                // A report for a mirror that is not pending.
                let (clip, region) =
                    if n == 0 { (unknown_clip, RegionId(0)) } else { (ClipId(a % n), RegionId(b % regions)) };
                let pending = self.model.mirrors.get(&(clip.0, region.0)).is_some_and(|m| !m.active);
                let clip = if pending { unknown_clip } else { clip };
                let input = if kind == 0 {
                    Input::ReplicationFinished { clip, region }
                } else {
                    Input::ReplicationFailed { clip, region, bytes_transferred: Bytes(0) }
                };
                let want = if clip.0 >= n { "UnknownClip" } else { "NoPendingMirror" };
                (self.engine.handle_input(now, input), want)
            }
            2 => match self.in_flight.first() {
                Some(&(clip, _, to, size, _)) => {
                    let input = Input::ReplicationFailed {
                        clip,
                        region: to,
                        bytes_transferred: Bytes(size.0 + 1 + u64::from(b % 1000)),
                    };
                    (self.engine.handle_input(now, input), "TransferTooLarge")
                }
                None => return,
            },
            3 if n > 0 => {
                let geo = GeoId(self.model.p.geos + b % 3);
                (self.engine.begin_request(now, ClipId(a % n), geo).map(|_| ()), "UnknownGeo")
            }
            4 => {
                (self.engine.begin_request(now, unknown_clip, GeoId(b % self.model.p.geos)).map(|_| ()), "UnknownClip")
            }
            5 => (self.engine.handle_input(now, Input::Vote { clip: unknown_clip, delta: 1 }), "UnknownClip"),
            6 => {
                let input = Input::ClipUploaded { clip: ClipId(n + 1 + a % 3), size: Bytes(1), primary: RegionId(0) };
                (self.engine.handle_input(now, input), "ClipIdNotNext")
            }
            7 => {
                let input = Input::ClipUploaded { clip: ClipId(n), size: Bytes(0), primary: RegionId(0) };
                (self.engine.handle_input(now, input), "EmptyClip")
            }
            3 => return,
            8 => {
                let target = HealthTarget::Region(RegionId(regions + a % 3));
                (
                    self.engine.handle_input(now, Input::Probe { target, ok: true, latency: SimDuration(1) }),
                    "UnknownRegion",
                )
            }
            9 => {
                let input = Input::ClipUploaded { clip: ClipId(n), size: Bytes(1), primary: RegionId(regions + a % 3) };
                (self.engine.handle_input(now, input), "UnknownRegion")
            }
            _ => {
                let input = Input::PriceChange {
                    meter: Meter::ALL[b as usize % Meter::ALL.len()],
                    provider: ProviderId(PROVIDERS.len() as u32 + a % 3),
                    zone: None,
                    table: RateTable::flat(1).expect("a valid table"),
                };
                (self.engine.handle_input(now, input), "UnknownProvider")
            }
        };
        let err = result.expect_err("an invalid input must be refused");
        assert!(format!("{err:?}").starts_with(want), "kind {kind}: expected {want}, got {err:?}");
        self.assert_unchanged(&before, &format!("a refused input ({err:?})"));
    }

    fn check_invariants(&mut self) {
        let now = self.now;
        let p = &self.model.p;
        assert_eq!(self.engine.now(), self.engine_now, "engine.now() is the latest time handled");
        assert_eq!(self.engine.poll_timeout(), self.model.poll_timeout(), "poll_timeout differs from the model's");
        assert_eq!(self.engine.clip_count(), self.model.clips.len());
        let keys: BTreeSet<LineKey> = self.engine.line_keys().collect();
        assert_eq!(keys, p.line_keys(), "bill lines");
        // The month so far, as if it closed now: the model's usage with storage accrued to now.
        let model = self.model.preview(now);
        let preview = self.engine.bill_preview(now);
        assert_eq!(preview.start, self.model.month_start, "the previewed month's start");
        for line in &preview.lines {
            let m = model.get(&line.key).copied().unwrap_or_default();
            assert_eq!(
                (line.usage, line.cost.0),
                (m.usage, Model::cost(&line.key, m.numerator)),
                "preview of {:?} at {now} (left: engine)",
                line.key
            );
        }
        // Property 1, and the records equal the model's.
        let mut total = 0;
        for (c, mc) in self.model.clips.iter().enumerate() {
            let clip = ClipId(c as u32);
            assert_eq!(self.engine.clip_size(clip), Ok(Bytes(mc.size)), "size of {clip}");
            assert_eq!(self.engine.clip_primary(clip), Ok(RegionId(mc.primary)), "primary of {clip}");
            let got: Vec<Mirror> = self.engine.mirrors_of(clip).expect("known clip").copied().collect();
            total += got.len();
            assert!(
                got.len() <= usize::from(p.max_per_clip),
                "{clip} has {} mirror records, more than max_per_clip {}",
                got.len(),
                p.max_per_clip
            );
            let regions: BTreeSet<u32> = got.iter().map(|m| m.region.0).collect();
            assert_eq!(regions.len(), got.len(), "{clip} has two mirror records in one region: {got:?}");
            for m in &got {
                assert_eq!(m.clip, clip);
                assert_ne!(m.region.0, mc.primary, "{clip} has a mirror in its primary region");
                assert!(p.mirror_allowed(m.region.0), "{clip} has a mirror in {}, not a mirror region", m.region);
                // Property 11: an expiry is set (at activation or a refresh) no later than now,
                // to at most the longest lifetime from then.
                let longest = p.ttl_bounds.map_or(p.ttl, |b| b.1);
                if m.state == MirrorState::Active {
                    assert!(
                        m.expires_at <= now + longest,
                        "{clip} in {} expires at {}, past now + {longest}",
                        m.region,
                        m.expires_at
                    );
                }
            }
            let mut got: Vec<_> = got
                .iter()
                .map(|m| {
                    let active = match m.state {
                        MirrorState::Pending => false,
                        MirrorState::Active => true,
                    };
                    (m.region.0, active, m.source.0, m.failed_attempts, m.created_at, m.active_at, m.expires_at)
                })
                .collect();
            got.sort();
            let want: Vec<_> = self
                .model
                .mirrors_of(c as u32)
                .map(|(r, m)| (r, m.active, m.source, m.failed, m.created_at, m.active_at, m.expires_at))
                .collect();
            assert_eq!(got, want, "mirror records of {clip} differ from the model's (left: engine)");
            assert_eq!(self.engine.popularity_score(clip), Ok(self.model.score(c)), "score of {clip}");
        }
        assert_eq!(self.engine.all_mirrors().count(), total, "all_mirrors agrees with mirrors_of");
        for r in 0..p.regions {
            assert_eq!(self.engine.stored_bytes(RegionId(r)).0, self.model.stored[r as usize], "stored bytes in {r}");
            assert_eq!(self.engine.health(HealthTarget::Region(RegionId(r))), self.model.region_health(r));
        }
        assert_eq!(self.engine.health(HealthTarget::Cdn), self.model.health[self.model.cdn_index()].state);
        assert_eq!(self.engine.health(HealthTarget::SecondCdn), self.model.health[self.model.cdn_index() + 1].state);
        // Counters, including properties 4 and 5.
        let c = self.engine.counters();
        assert_eq!(c.requests_total, self.totals.requests, "requests begun");
        assert_eq!(c.finished(), c.requests_total, "every request ends in exactly one outcome");
        assert_eq!(c.bytes_served().0, self.totals.served_bytes, "bytes by source add up to the bytes served");
        assert_eq!(c, &self.model.counters, "counters differ from the model's (left: engine)");
        // Gauges.
        let m = self.engine.metrics(now);
        let mm = &self.model.mirrors;
        let serveable = mm.values().filter(|m| m.serveable(now)).count() as u64;
        assert_eq!(m.total_active_mirrors, serveable, "active (serveable) mirrors at {now}");
        let expired = mm.values().filter(|m| m.active && !m.serveable(now)).count() as u64;
        assert_eq!(m.expired_awaiting_cleanup, expired, "expired mirrors awaiting cleanup at {now}");
        assert_eq!(m.pending_mirrors, mm.values().filter(|m| !m.active).count() as u64, "pending mirrors");
        assert_eq!(u128::from(m.cdn_bandwidth_bytes), self.totals.cdn_egress, "CDN bandwidth gauge");
        let latency = |i: usize| self.model.health[i].avg_us.map(SimDuration);
        assert_eq!(m.cdn_latency_avg, latency(self.model.cdn_index()), "smoothed CDN probe latency");
        for (r, g) in m.regions.iter().enumerate() {
            assert_eq!((g.health, g.latency), (self.model.health[r].state, latency(r)), "gauges of region {r}");
            assert_eq!(g.stored_bytes, self.model.stored[r], "stored bytes gauge of region {r}");
        }
    }

    /// Closes the books and checks the bills (property 6).
    fn finish(mut self) -> RunResult {
        let end = self.now;
        self.engine.close_books(end).expect("close at the current time");
        let out = self.drain();
        let last = self.model.close_month(end);
        self.absorb(out, vec![last], "close_books");
        let bills = self.engine.bills().to_vec();
        assert_eq!(bills.len(), self.model.closed.len(), "number of bills");
        let keys = self.model.p.line_keys();
        let mut per_meter: BTreeMap<Meter, u128> = BTreeMap::new();
        let mut month_totals = Vec::new();
        for (i, bill) in bills.iter().enumerate() {
            let (start, end, usage) = &self.model.closed[i];
            assert_eq!((bill.month, bill.start, bill.end), (i as u32, *start, *end), "month {i}'s span");
            let got_keys: BTreeSet<LineKey> = bill.lines.iter().map(|l| l.key).collect();
            assert_eq!(got_keys, keys, "bill lines of month {i}");
            assert_eq!(got_keys.len(), bill.lines.len(), "one line per key");
            for line in &bill.lines {
                let MLine { usage: want_usage, numerator, .. } = usage.get(&line.key).copied().unwrap_or_default();
                assert_eq!(line.usage, want_usage, "usage of {:?} in month {i} (left: engine, right: model)", line.key);
                assert_eq!(
                    line.cost.0,
                    Model::cost(&line.key, numerator),
                    "cost of {:?} in month {i}: each unit at its tier's rate in force when it was used, \
                     summed exactly, rounded down once (left: engine, right: model)",
                    line.key
                );
                *per_meter.entry(line.key.meter).or_insert(0) += line.usage;
            }
            month_totals.push(Output::MonthClosed { month: i as u32, total: bill.total() });
        }
        let closed: Vec<Output> =
            self.log.iter().filter(|o| matches!(o, Output::MonthClosed { .. })).cloned().collect();
        assert_eq!(closed, month_totals, "MonthClosed outputs carry each bill's total");
        // The harness's own counts, summed over zones and months.
        let t = &self.totals;
        let used = |m: Meter| per_meter.get(&m).copied().unwrap_or(0);
        assert_eq!(used(Meter::CdnEgress), t.cdn_egress, "CDN egress = bytes served by the edge or via the CDN");
        assert_eq!(used(Meter::CdnRequests), t.cdn_requests, "CDN requests");
        // Property 15, from the harness's own count of which CDN answered.
        let second: u128 = bills
            .iter()
            .flat_map(|b| &b.lines)
            .filter(|l| l.key.meter == Meter::CdnRequests && l.key.provider == CDN2)
            .map(|l| l.usage)
            .sum();
        assert_eq!(second, t.cdn_requests_by[1], "requests answered by the second CDN, on its own lines");
        assert_eq!(used(Meter::OriginEgressDirect), t.origin_direct, "origin egress direct");
        assert_eq!(used(Meter::OriginEgressToCdn), t.origin_to_cdn, "origin egress to the CDN");
        assert_eq!(
            used(Meter::OriginRequests) + used(Meter::RequestsInfrequent),
            t.origin_requests,
            "origin requests (standard and infrequent)"
        );
        assert_eq!(used(Meter::RequestsInfrequent), t.requests_infrequent, "requests answered by infrequent copies");
        assert_eq!(used(Meter::Retrieval), t.retrieval, "bytes retrieved from infrequent copies");
        let p = &self.model.p;
        let moved = self.model.clips.iter().filter(|c| p.transition_at(c.uploaded_at) <= end).count();
        assert_eq!(self.engine.counters().transitions_infrequent, moved as u64, "copies past their age moved");
        assert_eq!(used(Meter::InterRegion), t.inter_region, "inter-region = bytes of finished and failed copies");
        assert_eq!(u128::from(self.engine.counters().replication_bytes), t.inter_region, "replication bytes");
        RunResult {
            log: self.log,
            bills,
            counters: self.engine.counters().clone(),
            engine_debug: format!("{:?}", self.engine),
        }
    }
}

fn run(p: &Params, ops: &[Op]) -> RunResult {
    let mut h = Harness::new(p);
    h.check_invariants();
    for op in ops {
        h.apply(op);
    }
    h.finish()
}

/// The committed seeds of past failures, relative to the crate root: the one file the model
/// check reads and writes.
const REGRESSIONS: &str = "tests/model.proptest-regressions";

#[test]
fn the_committed_failure_seeds_are_where_the_model_check_reads_them() {
    let text = std::fs::read_to_string(REGRESSIONS).expect("the regressions file the config names exists");
    assert!(text.lines().any(|l| l.starts_with("cc ")), "{REGRESSIONS} holds at least one seed");
    assert!(
        !std::path::Path::new("proptest-regressions").exists(),
        "seeds written to proptest-regressions/ would never be replayed: move them to {REGRESSIONS}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // Mutation testing (.ci/mutants) sets 0: a failure is all it needs, not the smallest one.
        max_shrink_iters: std::env::var("PROPTEST_MAX_SHRINK_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(4096),
        // Integration tests have no lib.rs beside them: failures are kept beside this file (a
        // test's working directory is its crate root) and replayed before any new case.
        failure_persistence: Some(Box::new(prop::test_runner::FileFailurePersistence::Direct(REGRESSIONS))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn engine_matches_the_reference_model(p in params(), ops in prop::collection::vec(op(), 0..200)) {
        let first = run(&p, &ops);
        // Property 7: the same inputs give the same outputs, bills, counters and state.
        let second = run(&p, &ops);
        prop_assert_eq!(first, second, "two runs of the same ops differ");
    }
}
