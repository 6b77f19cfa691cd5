//! Two CDNs (`[cdn] second_provider`): automatic provider failover and the cost-aware
//! active-active split, run through the simulator. Each CDN's bill lines are checked against
//! what the request log, the timeline and the run with one CDN say, counted independently.

mod common;

use clipsim_engine::{GeoId, Health, HealthTarget, Meter, ProviderId, SimTime};
use clipsim_sim::record::timeline::Event;
use clipsim_sim::scenario::{self, Overrides, Scenario};
use clipsim_sim::world::{self, RunResult, World};
use clipsim_sim::{report, run_scenario};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;

/// `scenarios/seed-baseline.toml` (Cloudflare, $0.06/GB) at a 20th of its traffic, with `cdn`
/// lines added to its `[cdn]` section and `extra` appended.
fn scenario(cdn: &str, extra: &str) -> Scenario {
    let path = common::root().join("scenarios/seed-baseline.toml");
    let text = common::scaled_text(&path, 20.0).replace("[cdn]\n", &format!("[cdn]\n{cdn}\n")) + extra;
    scenario::from_str(&path, &text, &Overrides::default()).expect("valid")
}

fn run(cdn: &str, extra: &str) -> RunResult {
    let r = run_scenario(scenario(cdn, extra)).expect("runs");
    // Each CDN's edges against its own bill lines, and the rest of the bill.
    common::cross_check(&r);
    r
}

/// The run, and every request's (time, geography) from the request log.
fn run_logged(cdn: &str, extra: &str) -> (RunResult, Vec<(SimTime, GeoId)>) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&log);
    let stop = AtomicBool::new(false);
    let sc = world::steady::settle(scenario(cdn, extra), &stop).expect("settles");
    let r = World::new(sc)
        .expect("builds")
        .with_request_log(Box::new(move |t, _, geo, _, _| sink.borrow_mut().push((t, geo))))
        .run(&mut (), &stop);
    common::cross_check(&r);
    let log = log.borrow().clone();
    (r, log)
}

fn provider(r: &RunResult, name: &str) -> ProviderId {
    r.scenario.engine.provider_id(name).expect("a provider of the scenario")
}

/// Usage of `meter` on `provider`'s lines (in geography `zone`, or all) over the whole run.
fn usage(r: &RunResult, meter: Meter, provider: ProviderId, zone: Option<u32>) -> u128 {
    let lines = r.engine.bills().iter().flat_map(|b| &b.lines);
    lines
        .filter(|l| l.key.meter == meter && l.key.provider == provider && zone.is_none_or(|z| z == l.key.zone))
        .map(|l| l.usage)
        .sum()
}

const FAILOVER: &str = "second_provider = \"bunny\"\nmulti_cdn = \"failover\"";
const CLOUDFLARE_DOWN: &str =
    "\n[[outages]]\ntarget = \"cdn:cloudflare\"\nkind = \"down\"\nstart = \"12d\"\nduration = \"2h\"\n";

/// A standby CDN that is never needed changes nothing, even when it goes down itself: the same
/// views served the same way at the same load times, the first CDN's bill line for line, and
/// nothing on the second's.
#[test]
fn a_standby_cdn_that_is_never_needed_changes_nothing() {
    let one = run("", "");
    let bunny_down = "\n[[outages]]\ntarget = \"cdn:bunny\"\nkind = \"down\"\nstart = \"3d\"\nduration = \"6h\"\n";
    let two = run(FAILOVER, bunny_down);
    let believed_down = two.recorder.timeline.iter().any(|e| {
        matches!(e.event, Event::HealthChanged { target: HealthTarget::SecondCdn, to: Health::Unhealthy, .. })
    });
    assert!(believed_down, "the standby's outage was seen by its probes");
    let (a, b) = (report::summarize(&one), report::summarize(&two));
    assert_eq!(a.served_from, b.served_from);
    assert_eq!(a.latency_ms, b.latency_ms);
    let bunny = provider(&two, "bunny");
    for meter in [Meter::CdnEgress, Meter::CdnRequests] {
        assert_eq!(usage(&two, meter, bunny, None), 0, "{meter:?} on the standby");
    }
    let without_bunny = |r: &RunResult| -> Vec<_> {
        let lines = r.engine.bills().iter().flat_map(|b| &b.lines);
        lines.filter(|l| r.scenario.engine.providers[l.key.provider.index()] != "bunny").cloned().collect()
    };
    let first: Vec<_> = without_bunny(&one).into_iter().map(|l| (l.usage, l.cost)).collect();
    let second: Vec<_> = without_bunny(&two).into_iter().map(|l| (l.usage, l.cost)).collect();
    assert_eq!(first, second, "every other line, usage and cost");
}

/// With Cloudflare down for two hours, the requests that begin while the engine believes it
/// unhealthy (from the timeline's health changes) are exactly the ones bunny answers, and no
/// other request reaches bunny. The run with one CDN sends those requests to the origins
/// directly instead.
#[test]
fn failover_sends_exactly_the_requests_of_the_believed_outage_to_the_second_cdn() {
    let (two, log) = run_logged(FAILOVER, CLOUDFLARE_DOWN);
    let changes: Vec<(SimTime, Health)> = two
        .recorder
        .timeline
        .iter()
        .filter_map(|e| match e.event {
            Event::HealthChanged { target: HealthTarget::Cdn, to, .. } => Some((e.at, to)),
            _ => None,
        })
        .collect();
    assert_eq!(changes.len(), 2, "believed down once, back once: {changes:?}");
    let (down, up) = (changes[0], changes[1]);
    assert_eq!((down.1, up.1), (Health::Unhealthy, Health::Healthy));
    let in_outage = log.iter().filter(|(t, _)| down.0 <= *t && *t < up.0).count() as u128;
    assert!(in_outage > 100, "{in_outage} requests while Cloudflare was believed down");
    let bunny = provider(&two, "bunny");
    assert_eq!(usage(&two, Meter::CdnRequests, bunny, None), in_outage, "bunny answered the outage's requests");
    // The single-CDN run served them from the origins directly.
    let one = run("", CLOUDFLARE_DOWN);
    let direct = |r: &RunResult| {
        let s = report::summarize(r);
        s.served_from["primary_direct"] + s.served_from["local_mirror"] + s.served_from["remote_mirror"]
    };
    assert!(direct(&two) < direct(&one), "fewer direct requests: {} against {}", direct(&two), direct(&one));
    let s = report::summarize(&two);
    assert_eq!(s.requests.failed, report::summarize(&one).requests.failed, "no request lost either way");
}

/// Cost-split, Cloudflare beside bunny (cheaper in every geography): each geography's requests
/// go to bunny but for the 10 % minimum share, to the request (a running remainder: bunny gets
/// `floor(n x 90 / 100)` of `n`). Every request goes through one CDN, as many as with one CDN.
#[test]
fn a_cost_split_gives_the_cheaper_cdn_all_but_the_minimum_share_in_each_geography() {
    let (two, log) = run_logged("second_provider = \"bunny\"\nmulti_cdn = \"cost-split\"\nmin_share_pct = 10", "");
    let (cloudflare, bunny) = (provider(&two, "cloudflare"), provider(&two, "bunny"));
    let cfg = &two.scenario.engine;
    for g in 0..two.scenario.geos.len() as u32 {
        // The scenario's prices (flat here) say which is cheaper.
        let rate = |p| {
            let tiers = cfg.rate_for(Meter::CdnEgress, p, g).expect("priced").tiers().to_vec();
            assert_eq!(tiers.len(), 1, "flat rates: the split holds all month");
            tiers[0].nanos_per_unit
        };
        assert!(rate(bunny) < rate(cloudflare), "bunny is the cheaper in geography {g}");
        let n = log.iter().filter(|(_, geo)| geo.0 == g).count() as u128;
        let to_bunny = usage(&two, Meter::CdnRequests, bunny, Some(g));
        assert_eq!(to_bunny, n * 90 / 100, "geography {g}: bunny's share of {n} requests");
        assert_eq!(usage(&two, Meter::CdnRequests, cloudflare, Some(g)), n - to_bunny, "geography {g}");
    }
    let one = run("", "");
    let cdn_requests = |r: &RunResult| {
        let lines = r.engine.bills().iter().flat_map(|b| &b.lines);
        lines.filter(|l| l.key.meter == Meter::CdnRequests).map(|l| l.usage).sum::<u128>()
    };
    assert_eq!(cdn_requests(&two), cdn_requests(&one), "one CDN per request, as many as with one CDN");
    assert!(log.len() as u128 >= cdn_requests(&two) && !log.is_empty());

    // summary.json's `cdns`, against the bill's lines summed here (none with one CDN).
    assert_eq!(report::summarize(&one).cdns, None);
    let shares = report::summarize(&two).cdns.expect("two CDNs");
    let got: Vec<_> = shares.iter().map(|c| (c.provider.as_str(), c.requests, c.bytes)).collect();
    let bytes = |p| usage(&two, Meter::CdnEgress, p, None) as u64;
    let want = [
        ("cloudflare", usage(&two, Meter::CdnRequests, cloudflare, None) as u64, bytes(cloudflare)),
        ("bunny", usage(&two, Meter::CdnRequests, bunny, None) as u64, bytes(bunny)),
    ];
    assert_eq!(got, want);

    // report.md's line for the two CDNs, against the bill's lines summed here.
    let dir = tempfile::tempdir().expect("a temporary directory");
    report::write(&two, &dir.path().join("r"), false).expect("writes");
    let md = std::fs::read_to_string(dir.path().join("r/report.md")).expect("report.md");
    let line = md.lines().find(|l| l.starts_with("| requests and bill by CDN")).expect("the line");
    let requests = |p| usage(&two, Meter::CdnRequests, p, None);
    let total = requests(cloudflare) + requests(bunny);
    let billed = |p: ProviderId| -> i64 {
        let lines = two.engine.bills().iter().flat_map(|b| &b.lines);
        lines.filter(|l| l.key.provider == p).map(|l| l.cost.0).sum()
    };
    for (name, p) in [("cloudflare", cloudflare), ("bunny", bunny)] {
        let share = requests(p) as f64 * 100.0 / total as f64;
        assert_eq!(shares.iter().find(|c| c.provider == name).map(|c| c.cost_nanodollars), Some(billed(p)));
        let cost = report::format::money(clipsim_engine::MoneyNanos(billed(p)));
        let want = format!("{name} {} ({share:.1} %), {cost}", report::format::count(requests(p) as u64));
        assert!(line.contains(&want), "{want} in {line}");
    }
}

/// A cost split with no minimum share is the cheaper CDN alone while it is healthy: bunny's
/// lines and every storage line equal those of the run with bunny as the only CDN, the same
/// views are served the same way at the same load times (bunny's edges 60 ms away in both,
/// Cloudflare's 15 ms: the second CDN's own round trip), and Cloudflare (probed, idle) bills
/// nothing.
#[test]
fn a_split_without_a_minimum_share_is_the_cheaper_cdn_alone() {
    let alone = run_scenario({
        let path = common::root().join("scenarios/seed-baseline.toml");
        let text = common::scaled_text(&path, 20.0)
            .replace("provider = \"cloudflare\"", "provider = \"bunny\"\nedge_latency_ms = 60");
        scenario::from_str(&path, &text, &Overrides::default()).expect("valid")
    })
    .expect("runs");
    let split = run(
        "second_provider = \"bunny\"\nmulti_cdn = \"cost-split\"\nmin_share_pct = 0\nsecond_edge_latency_ms = 60",
        "",
    );
    let default_rtt = report::summarize(&run("", ""));
    assert_ne!(default_rtt.latency_ms, report::summarize(&alone).latency_ms, "the edge's round trip shows");
    let (a, b) = (report::summarize(&alone), report::summarize(&split));
    assert_eq!(a.served_from, b.served_from);
    assert_eq!(a.latency_ms, b.latency_ms);
    let cloudflare = provider(&split, "cloudflare");
    assert_eq!(usage(&split, Meter::CdnRequests, cloudflare, None), 0);
    let named = |r: &RunResult| -> Vec<_> {
        let lines = r.engine.bills().iter().flat_map(|b| &b.lines);
        lines
            .filter(|l| r.scenario.engine.providers[l.key.provider.index()] != "cloudflare")
            .map(|l| {
                (r.scenario.engine.providers[l.key.provider.index()].clone(), l.key.meter, l.key.zone, l.usage, l.cost)
            })
            .collect()
    };
    assert_eq!(named(&alone), named(&split), "bunny's and the storage's lines, usage and cost");
}

/// Each CDN is judged against its own normal probe latency: a degraded bunny (three times its
/// 60 ms round trip, above twice its normal) is believed degraded, and Cloudflare is not.
#[test]
fn the_second_cdn_is_judged_by_its_own_normal_latency() {
    let degraded = "\n[[outages]]\ntarget = \"cdn:bunny\"\nkind = \"degraded\"\nlatency_factor = 3.0\nerror_rate = 0.0\nstart = \"3d\"\nduration = \"6h\"\n";
    let r = run(&format!("{FAILOVER}\nsecond_edge_latency_ms = 60"), degraded);
    let changes: Vec<(HealthTarget, Health)> = r
        .recorder
        .timeline
        .iter()
        .filter_map(|e| match e.event {
            Event::HealthChanged { target, to, .. } => Some((target, to)),
            _ => None,
        })
        .collect();
    assert!(changes.contains(&(HealthTarget::SecondCdn, Health::Degraded)), "{changes:?}");
    assert!(!changes.iter().any(|(t, _)| *t == HealthTarget::Cdn), "{changes:?}");
}
