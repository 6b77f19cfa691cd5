//! In-memory stand-ins for the systems the engine commands: storage regions, the CDN's edges,
//! the links between regions and the probes that watch them. The world hands them the engine's
//! commands and hands their outcomes back to the engine; each has one small interface, and each
//! stand-in for a billed system meters what it did on its own (gets and bytes out of a region,
//! bytes stored over time, edge hits and fills, bytes copied over links), apart from the engine's
//! bill, so that tests can hold the two against each other.
//!
//! * [`failures`]: background failures drawn at random (`[failures]`), added to the outages.
//! * [`faults`]: the ground truth of outages (what is really down or slow), from the scenario.
//! * [`storage`]: one region's object store: put, delete, answer a get (or not), its latency.
//! * [`edge`]: the CDN: an edge cache per viewer geography (any eviction policy) with the CDN's TTL.
//! * [`link`]: copies between regions at the link's bandwidth, broken by outages.
//! * [`prober`]: the health probes the engine's health checks read.

pub mod edge;
pub mod failures;
pub mod faults;
pub mod link;
pub mod prober;
pub mod storage;

pub use edge::{Cdn, EdgeMeter};
pub use faults::{Faults, TargetState};
pub use link::{CopyOutcome, Links};
pub use storage::{Storage, StorageMeter};

/// What the stand-ins metered over a run, for holding against the engine's bill.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meters {
    /// Per region.
    pub storage: Vec<StorageMeter>,
    /// Per viewer geography (empty without a CDN).
    pub edges: Vec<EdgeMeter>,
    /// Bytes copied out of each region by finished and failed copies.
    pub copied_out_bytes: Vec<u64>,
}
