//! Two CDNs ([`SecondCdn`]): automatic provider failover and the cost-aware active-active split,
//! each checked against what the documentation says, with bills counted by hand.

use clipsim_engine::*;

const GB: u64 = 1_000_000_000;
const CLIP_BYTES: u64 = 10_000_000;

/// Nanodollars per GB from dollars per GB, in thousandths.
fn per_gb(usd_millis: u64) -> RateTable {
    RateTable::flat(usd_millis * 1_000_000).unwrap()
}

/// One region, two geographies, a first CDN at `first_millis` and a second at `second_millis`
/// per GB (both in both geographies unless `second_eu_millis` prices the second in `eu`), and
/// one clip.
fn engine_with(mode: MultiCdn, first_millis: u64, second_millis: u64, second_eu_millis: Option<u64>) -> Engine {
    let mut cfg = EngineConfig::new();
    let s3 = cfg.add_provider("s3");
    let first = cfg.add_provider("first");
    let second = cfg.add_provider("second");
    let us = cfg.add_region("us-east-1", s3);
    for name in ["na", "eu"] {
        let g = cfg.add_geo(name);
        cfg.set_latency_ms(us, g, 30);
    }
    for m in Meter::ALL.into_iter().filter(|m| !m.zone_is_geo()) {
        cfg.set_rate(m, s3, per_gb(0));
    }
    cfg.set_rate(Meter::CdnEgress, first, per_gb(first_millis));
    cfg.set_rate(Meter::CdnRequests, first, per_gb(0));
    cfg.set_rate(Meter::CdnEgress, second, per_gb(second_millis));
    cfg.set_rate(Meter::CdnRequests, second, per_gb(0));
    if let Some(m) = second_eu_millis {
        cfg.billing.rates.push(RateEntry {
            meter: Meter::CdnEgress,
            provider: second,
            zone: Some(1),
            table: per_gb(m),
        });
    }
    cfg.set_cdn(first);
    cfg.set_second_cdn(second, mode);
    let mut e = Engine::new(cfg).unwrap();
    e.handle_input(SimTime::ZERO, Input::ClipUploaded { clip: ClipId(0), size: Bytes(CLIP_BYTES), primary: us })
        .unwrap();
    e
}

fn at_secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

/// Serves one request from `geo` at `now`, from the edge of whichever CDN it uses (or the
/// origin directly without one). Returns the CDN it used.
fn serve(e: &mut Engine, now: SimTime, geo: GeoId) -> Option<usize> {
    let req = e.begin_request(now, ClipId(0), geo).unwrap();
    let step = e.next_step(now, &req);
    assert_eq!(step == Step::Edge, req.cdn_index().is_some(), "the edge is asked exactly when a CDN is used");
    e.finish(&req, step).unwrap();
    req.cdn_index()
}

fn probe(e: &mut Engine, now: SimTime, target: HealthTarget, ok: bool) {
    e.handle_input(now, Input::Probe { target, ok, latency: SimDuration::from_millis(20) }).unwrap();
}

/// Usage of the `meter` lines of `provider` on the month's bill so far.
fn usage(e: &Engine, now: SimTime, meter: Meter, provider: u32) -> u128 {
    e.bill_preview(now)
        .lines
        .iter()
        .filter(|l| l.key.meter == meter && l.key.provider.0 == provider)
        .map(|l| l.usage)
        .sum()
}

/// Failover: the first CDN while it is believed usable, the second once three probes of the
/// first fail, none when both are believed down, and the first again after two good probes.
/// Each CDN's bill counts exactly the requests it answered.
#[test]
fn failover_follows_the_probes_and_bills_the_cdn_that_answered() {
    let mut e = engine_with(MultiCdn::Failover, 60, 10, None);
    let na = GeoId(0);
    let mut used = Vec::new();
    let mut t = 1;
    let mut step = |e: &mut Engine, used: &mut Vec<Option<usize>>| {
        t += 1;
        used.push(serve(e, at_secs(t), na));
        at_secs(t)
    };
    step(&mut e, &mut used);
    for _ in 0..3 {
        let now = step(&mut e, &mut used);
        probe(&mut e, now, HealthTarget::Cdn, false);
    }
    step(&mut e, &mut used);
    for _ in 0..3 {
        let now = step(&mut e, &mut used);
        probe(&mut e, now, HealthTarget::SecondCdn, false);
    }
    step(&mut e, &mut used);
    for _ in 0..2 {
        let now = step(&mut e, &mut used);
        probe(&mut e, now, HealthTarget::Cdn, true);
    }
    step(&mut e, &mut used);
    let want = [
        Some(0), // both healthy
        Some(0),
        Some(0),
        Some(0), // the first believed unhealthy after this request's probe
        Some(1),
        Some(1),
        Some(1),
        Some(1), // the second believed unhealthy too
        None,
        None,
        None, // the first back after this request's second good probe
        Some(0),
    ];
    assert_eq!(used, want);
    let end = at_secs(t);
    let answered = |i| used.iter().filter(|&&u| u == Some(i)).count() as u128;
    assert_eq!(usage(&e, end, Meter::CdnRequests, 1), answered(0));
    assert_eq!(usage(&e, end, Meter::CdnRequests, 2), answered(1));
    assert_eq!(usage(&e, end, Meter::CdnEgress, 2), answered(1) * u128::from(CLIP_BYTES));
    let direct = used.iter().filter(|u| u.is_none()).count() as u128;
    assert_eq!(usage(&e, end, Meter::OriginEgressDirect, 0), direct * u128::from(CLIP_BYTES));
}

/// The cost-aware split: in a geography where the second CDN is cheaper it takes 90 of every
/// 100 requests with a 10 % minimum share, exactly and evenly spread (any run of requests is
/// within one of its share); where the first is cheaper the second keeps 10 %.
#[test]
fn the_cheaper_cdn_takes_all_but_the_minimum_share_in_each_geography() {
    // The second is cheaper in `na` ($0.01 against $0.06) and dearer in `eu` ($0.08).
    let mut e = engine_with(MultiCdn::CostSplit { min_share_pct: 10 }, 60, 10, Some(80));
    for (start, geo, second_pct) in [(10, GeoId(0), 90), (1_000, GeoId(1), 10)] {
        let used: Vec<usize> = (0..200).map(|i| serve(&mut e, at_secs(start + i), geo).unwrap()).collect();
        let seconds = used.iter().filter(|&&u| u == 1).count();
        assert_eq!(seconds, 2 * second_pct, "{geo:?}");
        for window in [7, 10, 33] {
            for run in used.windows(window) {
                let got = run.iter().filter(|&&u| u == 1).count() as i64;
                let exact = window as i64 * second_pct as i64;
                assert!((got * 100 - exact).abs() < 100, "{geo:?}: {got} of {window} in a run");
            }
        }
    }
}

/// Equal prices split evenly; a price change that makes the first cheaper turns the split
/// around from the change on; a minimum share of 0 sends everything to the cheaper one.
#[test]
fn the_split_follows_price_changes() {
    let mut e = engine_with(MultiCdn::CostSplit { min_share_pct: 0 }, 50, 50, None);
    let na = GeoId(0);
    let even: Vec<usize> = (0..10).map(|i| serve(&mut e, at_secs(10 + i), na).unwrap()).collect();
    assert_eq!(even.iter().filter(|&&u| u == 1).count(), 5, "{even:?}");
    let cheaper =
        Input::PriceChange { meter: Meter::CdnEgress, provider: ProviderId(2), zone: None, table: per_gb(20) };
    e.handle_input(at_secs(100), cheaper).unwrap();
    let after: Vec<usize> = (0..10).map(|i| serve(&mut e, at_secs(100 + i), na).unwrap()).collect();
    assert_eq!(after, vec![1; 10], "all to the second, now cheaper");
    let dearer = Input::PriceChange { meter: Meter::CdnEgress, provider: ProviderId(2), zone: None, table: per_gb(90) };
    e.handle_input(at_secs(200), dearer).unwrap();
    let last: Vec<usize> = (0..10).map(|i| serve(&mut e, at_secs(200 + i), na).unwrap()).collect();
    assert_eq!(last, vec![0; 10], "all back to the first");
}

/// Tiers count: the second CDN is cheaper per GB only past its first 1 GB this month, so the
/// split moves to it at the first cost-alert check after its usage crosses the tier.
#[test]
fn the_split_follows_the_tier_each_cdn_has_reached() {
    let mut cfg = EngineConfig::new();
    let s3 = cfg.add_provider("s3");
    let first = cfg.add_provider("first");
    let second = cfg.add_provider("second");
    let us = cfg.add_region("us-east-1", s3);
    let na = cfg.add_geo("na");
    cfg.set_latency_ms(us, na, 30);
    for m in Meter::ALL.into_iter().filter(|m| !m.zone_is_geo()) {
        cfg.set_rate(m, s3, per_gb(0));
    }
    let tiered = RateTable::tiered(vec![
        Tier { from_units: 0, nanos_per_unit: 90_000_000 },
        Tier { from_units: 1, nanos_per_unit: 10_000_000 },
    ])
    .unwrap();
    cfg.set_rate(Meter::CdnEgress, first, per_gb(50));
    cfg.set_rate(Meter::CdnRequests, first, per_gb(0));
    cfg.set_rate(Meter::CdnEgress, second, tiered);
    cfg.set_rate(Meter::CdnRequests, second, per_gb(0));
    cfg.set_cdn(first);
    cfg.set_second_cdn(second, MultiCdn::CostSplit { min_share_pct: 50 });
    let mut e = Engine::new(cfg).unwrap();
    e.handle_input(SimTime::ZERO, Input::ClipUploaded { clip: ClipId(0), size: Bytes(CLIP_BYTES), primary: us })
        .unwrap();
    // 50 % is the most a minimum share can be: both get half, whichever is cheaper.
    let half: Vec<usize> = (0..4).map(|i| serve(&mut e, at_secs(1 + i), na).unwrap()).collect();
    assert_eq!(half.iter().filter(|&&u| u == 1).count(), 2);
    let mut e = {
        let mut cfg = e.config().clone();
        cfg.second_cdn = Some(SecondCdn { provider: second, mode: MultiCdn::CostSplit { min_share_pct: 0 } });
        let mut e = Engine::new(cfg).unwrap();
        e.handle_input(SimTime::ZERO, Input::ClipUploaded { clip: ClipId(0), size: Bytes(CLIP_BYTES), primary: us })
            .unwrap();
        e
    };
    // $0.09 against $0.05: everything to the first; push 1 GB through the second by failing
    // the first over, then bring it back.
    assert_eq!(serve(&mut e, at_secs(1), na), Some(0));
    for _ in 0..3 {
        probe(&mut e, at_secs(2), HealthTarget::Cdn, false);
    }
    let crossing = GB / CLIP_BYTES;
    for i in 0..crossing {
        assert_eq!(serve(&mut e, at_secs(3 + i), na), Some(1));
    }
    for _ in 0..2 {
        probe(&mut e, at_secs(200), HealthTarget::Cdn, true);
    }
    assert_eq!(serve(&mut e, at_secs(201), na), Some(0), "still priced at its first tier until the next check");
    let check = e.poll_timeout();
    assert_eq!(check, SimTime::ZERO + SimDuration::from_hours(1), "the hourly cost-alert check");
    e.handle_timeout(check).unwrap();
    assert_eq!(serve(&mut e, check, na), Some(1), "past its first GB the second costs $0.01");
}

/// A direct request (a rollout's control arm) uses no CDN, and a request whose edge fails goes
/// to the origin directly rather than to the other CDN.
#[test]
fn direct_and_failed_edges_leave_the_cdns() {
    let mut e = engine_with(MultiCdn::Failover, 60, 10, None);
    let mut req = e.begin_request(at_secs(1), ClipId(0), GeoId(0)).unwrap();
    assert_eq!(req.cdn_index(), Some(0));
    req.direct();
    assert_eq!(req.cdn_index(), None);
    let mut req = e.begin_request(at_secs(2), ClipId(0), GeoId(0)).unwrap();
    e.attempt_failed(&mut req, Step::Edge).unwrap();
    assert_eq!(req.cdn_index(), None);
    let step = e.next_step(at_secs(2), &req);
    assert!(matches!(step, Step::Origin { via_cdn: false, .. }), "{step:?}");
}

/// The configuration is checked: a second CDN needs a first, another provider, and a minimum
/// share of at most 50 %.
#[test]
fn a_second_cdn_is_validated() {
    let base = engine_with(MultiCdn::Failover, 60, 10, None).config().clone();
    let field = |cfg: EngineConfig| match Engine::new(cfg) {
        Err(ConfigError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid field, got {:?}", other.map(|_| ())),
    };
    let mut no_first = base.clone();
    no_first.cdn_provider = None;
    assert_eq!(field(no_first), "second_cdn");
    let mut same = base.clone();
    same.second_cdn = Some(SecondCdn { provider: ProviderId(1), mode: MultiCdn::Failover });
    assert_eq!(field(same), "second_cdn.provider");
    let mut share = base.clone();
    share.second_cdn = Some(SecondCdn { provider: ProviderId(2), mode: MultiCdn::CostSplit { min_share_pct: 51 } });
    assert_eq!(field(share), "second_cdn.min_share_pct");
    let mut ok = base;
    ok.second_cdn = Some(SecondCdn { provider: ProviderId(2), mode: MultiCdn::CostSplit { min_share_pct: 50 } });
    assert!(Engine::new(ok).is_ok());
}

/// A month's close resets the tiers, and the split with them, at once: with a cost-alert check
/// every 7 hours, the 30-day month ends an hour before the next check.
#[test]
fn a_new_month_resets_the_split_with_the_tiers() {
    let mut cfg = engine_with(MultiCdn::CostSplit { min_share_pct: 0 }, 50, 50, None).config().clone();
    let seven_hours = SimDuration::from_hours(7);
    cfg.billing.cost_alert.check_interval = seven_hours;
    cfg.billing.cost_alert.window = seven_hours;
    // The second costs $0.01 for its first GB of a month, then $0.09; the first $0.05.
    let tiered = RateTable::tiered(vec![
        Tier { from_units: 0, nanos_per_unit: 10_000_000 },
        Tier { from_units: 1, nanos_per_unit: 90_000_000 },
    ])
    .unwrap();
    cfg.set_rate(Meter::CdnEgress, ProviderId(2), tiered);
    let mut e = Engine::new(cfg).unwrap();
    let (us, na) = (RegionId(0), GeoId(0));
    e.handle_input(SimTime::ZERO, Input::ClipUploaded { clip: ClipId(0), size: Bytes(CLIP_BYTES), primary: us })
        .unwrap();
    for i in 0..GB / CLIP_BYTES {
        assert_eq!(serve(&mut e, at_secs(1 + i), na), Some(1), "the second is cheaper for its first GB");
    }
    let month_end = SimTime::ZERO + SimDuration::from_days(30);
    while e.poll_timeout() < month_end {
        let t = e.poll_timeout();
        e.handle_timeout(t).unwrap();
    }
    assert_eq!(serve(&mut e, SimTime(month_end.0 - 1_000_000), na), Some(0), "past its first GB: the first");
    assert_eq!(e.poll_timeout(), month_end, "the month closes before the next check");
    e.handle_timeout(month_end).unwrap();
    assert!(e.poll_timeout() > month_end);
    assert_eq!(serve(&mut e, month_end, na), Some(1), "a new month: the second's first GB again");
}
