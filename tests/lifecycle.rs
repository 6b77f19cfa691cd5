//! `[lifecycle]`: a storage lifecycle rule moves primary copies to the infrequent-access class.
//! It changes what the primaries' storage and reads are billed on, and nothing else: the same
//! views are served the same way. Each bill line is checked against lines of the run without the
//! rule, or of the same run, metered independently.

mod common;

use clipsim_engine::{Meter, RegionId, SimDuration};
use clipsim_sim::scenario::{self, Overrides};
use clipsim_sim::world::RunResult;
use clipsim_sim::{report, run_scenario};

/// `scenarios/seed-baseline.toml` at a 20th of its traffic (every primary in us-east-1, which
/// holds no mirror), with a catalog `history` and `extra` appended.
fn run(history: &str, extra: &str) -> RunResult {
    let path = common::root().join("scenarios/seed-baseline.toml");
    let text = common::scaled_text(&path, 20.0)
        .replace("uploads_per_day = 0", &format!("uploads_per_day = 0\nhistory = \"{history}\""))
        + extra;
    let sc = scenario::from_str(&path, &text, &Overrides::default()).expect("valid");
    let r = run_scenario(sc).expect("runs");
    // The bill against what the stand-ins metered themselves (requests and bytes stored in
    // either class).
    common::cross_check(&r);
    r
}

/// Usage of `meter` in `region` over the whole run (every month).
fn usage(r: &RunResult, meter: Meter, region: &str) -> u128 {
    let zone = r.scenario.engine.region_id(region).expect("a region").0;
    r.engine
        .bills()
        .iter()
        .flat_map(|b| &b.lines)
        .filter(|l| l.key.meter == meter && l.key.zone == zone)
        .map(|l| l.usage)
        .sum()
}

const PRIMARY: &str = "us-east-1";

#[test]
fn an_old_catalog_is_infrequent_from_the_start_and_serves_as_before() {
    let plain = run("60d", "");
    let rule = run("60d", "\n[lifecycle]\ninfrequent_after = \"30d\"\n");
    let (a, b) = (report::summarize(&plain), report::summarize(&rule));
    assert_eq!(a.served_from, b.served_from, "the same views served the same way");
    assert_eq!(a.latency_ms, b.latency_ms);
    // Every primary is past 30 days at the start: its region stores nothing in the standard
    // class, and as much in the infrequent one as it stored without the rule.
    assert_eq!(usage(&rule, Meter::StorageByteTime, PRIMARY), 0);
    assert_eq!(usage(&rule, Meter::StorageInfrequent, PRIMARY), usage(&plain, Meter::StorageByteTime, PRIMARY));
    assert!(usage(&rule, Meter::StorageInfrequent, PRIMARY) > 0);
    // Every request the primaries answered is an infrequent-access one.
    assert_eq!(usage(&rule, Meter::OriginRequests, PRIMARY), 0);
    assert_eq!(usage(&rule, Meter::RequestsInfrequent, PRIMARY), usage(&plain, Meter::OriginRequests, PRIMARY));
    // Every byte they sent is retrieved: to viewers, to the CDN (a revalidation sends none), and
    // to the mirrors' regions.
    let sent = usage(&rule, Meter::OriginEgressDirect, PRIMARY)
        + usage(&rule, Meter::OriginEgressToCdn, PRIMARY)
        + usage(&rule, Meter::InterRegion, PRIMARY);
    assert!(sent > 0);
    assert_eq!(usage(&rule, Meter::Retrieval, PRIMARY), sent);
    // The mirrors' regions are untouched: standard storage, standard requests.
    for region in ["eu-west-1", "ap-southeast-1"] {
        assert_eq!(usage(&rule, Meter::StorageByteTime, region), usage(&plain, Meter::StorageByteTime, region));
        assert_eq!(usage(&rule, Meter::RequestsInfrequent, region), 0);
        assert_eq!(usage(&rule, Meter::Retrieval, region), 0);
    }
    assert_eq!(rule.engine.counters().transitions_infrequent, u64::from(rule.scenario.catalog.clips));
}

#[test]
fn a_younger_catalog_moves_when_it_reaches_the_age() {
    // The catalog is 10 days old and moves at 30 days: 20 days into the 30-day run.
    let plain = run("10d", "");
    let rule = run("10d", "\n[lifecycle]\ninfrequent_after = \"30d\"\n");
    let stored = usage(&plain, Meter::StorageByteTime, PRIMARY);
    let bytes = plain.engine.stored_bytes(RegionId(0)).0 as u128;
    let run_us = u128::from(plain.scenario.duration.as_micros());
    assert_eq!(stored, bytes * run_us, "the primaries' bytes for the whole run");
    let moved_us = u128::from(SimDuration::from_days(20).as_micros());
    assert_eq!(usage(&rule, Meter::StorageByteTime, PRIMARY), bytes * moved_us);
    assert_eq!(usage(&rule, Meter::StorageInfrequent, PRIMARY), bytes * (run_us - moved_us));
    // Reads before the move are standard, after it infrequent: both happen.
    assert!(usage(&rule, Meter::OriginRequests, PRIMARY) > 0);
    assert!(usage(&rule, Meter::RequestsInfrequent, PRIMARY) > 0);
    assert_eq!(
        usage(&rule, Meter::OriginRequests, PRIMARY) + usage(&rule, Meter::RequestsInfrequent, PRIMARY),
        usage(&plain, Meter::OriginRequests, PRIMARY)
    );
}

#[test]
fn storage_without_an_infrequent_class_refuses_the_rule() {
    let path = common::root().join("scenarios/seed-baseline.toml");
    let text = common::scaled_text(&path, 20.0).replace("storage = \"s3\"", "storage = \"bunny-storage\"")
        + "\n[lifecycle]\ninfrequent_after = \"30d\"\n";
    let err = scenario::from_str(&path, &text, &Overrides::default()).expect_err("no infrequent prices").to_string();
    assert!(err.contains("lifecycle.infrequent_after") && err.contains("bunny-storage"), "{err}");
    assert!(err.contains("infrequent_storage_per_gb_month"), "{err}");
}
