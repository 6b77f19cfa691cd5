//! # clipsim-engine: the reference engine for clip mirroring and CDN delivery
//!
//! This crate is the executable specification of the content-infrastructure policies of the
//! system we model (mirror hosting, CDN integration, failover, cost monitoring): it *decides*,
//! and it does nothing else. It never performs I/O, never reads a clock and never draws a
//! random number. Time comes in as a [`SimTime`] parameter with every input, so the same inputs
//! in the same order give the same outputs, bit for bit, on every machine.
//!
//! ## The contract (sans-IO, in the style of quinn-proto and str0m)
//!
//! * **Inputs** are [`Input`] events with their time, handed to [`Engine::handle_input`]: clip
//!   uploaded, vote, probe result, replication finished or failed, replication lag, price change.
//!   An input earlier than one already handled is an [`EngineError::TimeWentBackwards`]; any
//!   rejected input leaves the engine unchanged.
//! * **Outputs** are [`Output`] commands and notices: replicate a clip, delete an expired mirror,
//!   health changed, cost alert, month closed. After every input or timeout, drain
//!   [`Engine::poll_output`] until it returns `None`.
//! * **Timers**: [`Engine::poll_timeout`] says when the engine next wants to run a job (sync,
//!   cleanup, copy retry, cost-alert check, month close, storage-class transition); call
//!   [`Engine::handle_timeout`] at that time, before inputs of a later time.
//! * **Requests** take a fast path that is O(1) expected and never allocates:
//!   [`Engine::begin_request`], then [`Engine::next_step`] / [`Engine::attempt_failed`] /
//!   [`Request::edge_missed`] until a step serves it, then [`Engine::finish`]. Every request ends
//!   in exactly one [`ServedFrom`] outcome.
//!
//! "Panic means bug": bad input is an error value; an `expect` states why it cannot fail.
//!
//! ## Policies
//!
//! * **Replication** ([`PlaceMirrors`]): at every sync, a clip whose score
//!   `views x view_weight + votes x vote_weight` (counted since upload, halved every
//!   `score_half_life`, or over a sliding `score_window`: [`window`]) reaches
//!   `MIRROR_REPLICATION_THRESHOLD` gets up
//!   to `MIRROR_MAX_PER_CLIP` mirrors, only in `MIRROR_REGIONS`, never in its primary region or a
//!   region believed unhealthy, ranked by where its demand comes from. A mirror is pending until
//!   [`Input::ReplicationFinished`] and is never served before; failed copies are retried with a
//!   bounded exponential backoff and abandoned after `copy_attempts_max` attempts. Two options
//!   beyond the seed: *predictive* mirroring ([`Predict`]) also mirrors a fresh clip whose view
//!   velocity since upload would reach the threshold within a horizon, and *cost-capped*
//!   replication ([`MirrorConfig::cost_capped`]) orders no new copy while the cost alert is raised.
//! * **Expiry** ([`ExpireMirrors`]): a mirror expires `MIRROR_TTL_DAYS` after it became active
//!   (optionally refreshed by a sync that finds the clip still popular). An expired mirror is never
//!   served, but keeps costing storage until the cleanup job deletes it. With [`TtlBounds`] the
//!   lifetime adapts to the clip's popularity: `ttl x score / threshold`, within the bounds.
//! * **Source selection** ([`SelectSource`]): the seed's chain — the mirror in the viewer's
//!   nearest region, any other active mirror (healthiest, then lowest latency), the primary via
//!   the CDN, the primary directly — with copies believed unhealthy tried only as a last resort.
//!   A region that is down but still believed healthy is found out only when the caller reports
//!   the failed attempt, which counts a failover.
//! * **Storage lifecycle** ([`Lifecycle`], optional): a clip's primary copy moves to the
//!   infrequent-access class once it is old enough; its storage, its requests and every byte
//!   read from it are then billed on their own meters (a retrieval fee), in its upload order.
//! * **Two CDNs** ([`SecondCdn`], optional): a second CDN beside the first, as a standby that
//!   takes every request while the first is believed unhealthy ([`MultiCdn::Failover`]), or
//!   active-active with each geography's requests split by which CDN's next GB is cheaper
//!   ([`MultiCdn::CostSplit`]). Each request uses one CDN, chosen when it begins
//!   ([`Request::cdn_index`]); each CDN's usage is billed on its own lines.
//! * **Health** ([`health`]): healthy / degraded / unhealthy per region and for each CDN, from
//!   probe results with hysteresis.
//!
//! ## Exact money
//!
//! Usage is metered in integers on [`billing`] lines per meter, provider and zone; money is
//! [`MoneyNanos`] (integer nanodollars). Rates are tiered, tiers reset every billing month, price
//! changes apply from their time on, and each bill line is rounded down once. No `f64` takes part
//! in any sum; `f64` appears only in `as_*_f64` display helpers.
//!
//! ## Example: one clip from upload to cleanup, and its bill
//!
//! ```
//! use clipsim_engine::*;
//!
//! let mut cfg = EngineConfig::new();
//! let s3 = cfg.add_provider("s3");
//! let us = cfg.add_region("us-east-1", s3);
//! let eu = cfg.add_region("eu-west-1", s3);
//! let na = cfg.add_geo("na");
//! let europe = cfg.add_geo("eu");
//! cfg.set_latency_ms(us, na, 25);
//! cfg.set_latency_ms(us, europe, 95);
//! cfg.set_latency_ms(eu, na, 90);
//! cfg.set_latency_ms(eu, europe, 20);
//! let usd_per_gb = |usd_millis: u64| RateTable::flat(usd_millis * 1_000_000).unwrap();
//! cfg.set_rate(Meter::StorageByteTime, s3, usd_per_gb(23)); // $0.023 per GB-month
//! cfg.set_rate(Meter::OriginEgressDirect, s3, usd_per_gb(90)); // $0.09 per GB
//! cfg.set_rate(Meter::OriginEgressToCdn, s3, usd_per_gb(90));
//! cfg.set_rate(Meter::OriginRequests, s3, usd_per_gb(0));
//! cfg.set_rate(Meter::InterRegion, s3, usd_per_gb(20)); // $0.02 per GB
//! cfg.mirror.replication_threshold = 3; // tiny, for the example
//! let mut engine = Engine::new(cfg).unwrap();
//!
//! // Upload a 1 GB clip to us-east-1; three viewers in Europe watch it.
//! let clip = ClipId(0);
//! engine.handle_input(SimTime::ZERO, Input::ClipUploaded { clip, size: Bytes(1_000_000_000), primary: us }).unwrap();
//! let serve = |engine: &mut Engine, now| {
//!     let req = engine.begin_request(now, clip, europe).unwrap();
//!     let step = engine.next_step(now, &req); // no CDN: straight to a copy
//!     engine.finish(&req, step).unwrap()
//! };
//! let minute = SimDuration::from_mins(1);
//! for i in 1..=3 {
//!     assert_eq!(serve(&mut engine, SimTime::ZERO + minute.saturating_mul(i)), ServedFrom::PrimaryDirect);
//! }
//!
//! // The hourly sync finds it popular and orders a copy to eu-west-1, nearest to its viewers.
//! let sync_at = engine.poll_timeout();
//! assert_eq!(sync_at, SimTime::ZERO + SimDuration::from_hours(1));
//! engine.handle_timeout(sync_at).unwrap();
//! let order = engine.poll_output().unwrap();
//! assert_eq!(order, Output::Replicate { clip, from: us, to: eu, size: Bytes(1_000_000_000) });
//! // Pending: still served from the primary.
//! assert_eq!(serve(&mut engine, sync_at), ServedFrom::PrimaryDirect);
//!
//! // The copy lands after 10 s; the mirror serves Europe from now on.
//! let done = sync_at + SimDuration::from_secs(10);
//! engine.handle_input(done, Input::ReplicationFinished { clip, region: eu }).unwrap();
//! assert_eq!(serve(&mut engine, done), ServedFrom::LocalMirror);
//!
//! // Seven days later it has expired: never served again, though not yet deleted...
//! let expired = done + SimDuration::from_days(7);
//! while engine.poll_timeout() < expired {
//!     let t = engine.poll_timeout();
//!     engine.handle_timeout(t).unwrap();
//! }
//! assert_eq!(serve(&mut engine, expired), ServedFrom::PrimaryDirect);
//! assert_eq!(engine.stored_bytes(eu), Bytes(1_000_000_000));
//! // ...until the daily cleanup deletes it.
//! let cleanup_at = SimTime::ZERO + SimDuration::from_days(8);
//! while engine.poll_timeout() <= cleanup_at {
//!     let t = engine.poll_timeout();
//!     engine.handle_timeout(t).unwrap();
//! }
//! let deleted = std::iter::from_fn(|| engine.poll_output())
//!     .find(|o| matches!(o, Output::DeleteMirror { .. }));
//! assert_eq!(deleted, Some(Output::DeleteMirror { clip, region: eu, size: Bytes(1_000_000_000) }));
//! assert_eq!(engine.stored_bytes(eu), Bytes(0));
//!
//! // The bill, exact to the nanodollar.
//! let end = SimTime::ZERO + SimDuration::from_days(30);
//! engine.close_books(end).unwrap();
//! let bill = &engine.bills()[0];
//! // Egress: 6 GB served directly at $0.09 (3 + 1 + 1 from the primary, 1 from the mirror).
//! assert_eq!(bill.category_total(Category::OriginEgress), MoneyNanos(6 * 90_000_000));
//! // Inter-region: one 1 GB copy at $0.02.
//! assert_eq!(bill.category_total(Category::InterRegion), MoneyNanos(20_000_000));
//! // Storage: 1 GB for 30 days in us-east-1 plus 1 GB in eu-west-1 from 1h10s to 8d,
//! // at $0.023 per GB-month (30 days), rounded down once per line.
//! let mirror_micros = (SimDuration::from_days(8).as_micros() - (3_600 + 10) * 1_000_000) as i128;
//! let mirror_storage = 23_000_000 * mirror_micros / (30 * 86_400 * 1_000_000);
//! assert_eq!(bill.category_total(Category::Storage), MoneyNanos(23_000_000 + mirror_storage as i64));
//! println!("total {}", bill.total());
//! ```

#![deny(missing_docs)]
// One audited exception: the cache prefetch hint in `hint::prefetch`.
#![deny(unsafe_code)]

pub mod billing;
pub mod config;
mod engine;
pub mod health;
pub mod hint;
pub mod ids;
mod io;
mod jobs;
pub mod metrics;
pub mod mirrors;
pub mod policy;
mod request;
pub mod topology;
pub mod units;
pub mod window;

pub use billing::{BillLine, Category, LineKey, Meter, MonthBill, RateTable, Tier};
pub use config::{
    AlertScope, ConfigError, CostAlertConfig, EngineConfig, Lifecycle, MirrorConfig, MultiCdn, Predict, RateEntry,
    RegionConfig, SecondCdn, TtlBounds,
};
pub use engine::{Engine, CLIPS_MAX};
pub use health::{Health, HealthConfig};
pub use ids::{ClipId, GeoId, ProviderId, RegionId};
pub use io::{EngineError, HealthTarget, Input, Output, Step};
pub use metrics::{Counters, MetricsSnapshot, ServedFrom};
pub use policy::{ExpireMirrors, PlaceMirrors, PlacementPolicy, SelectSource, SourceKind, SourcePolicy, TtlPolicy};
pub use request::Request;
pub use units::{Bytes, MoneyNanos, SimDuration, SimTime};
