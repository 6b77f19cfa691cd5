//! The health probes: every probe interval, each region's storage and each CDN are asked once;
//! the engine's health checks read the answers (and each region's replication lag).

use super::{Cdn, Storage};
use crate::cache::EdgeCache;
use crate::rng::Stream;
use clipsim_engine::{HealthTarget, Input, RegionId};

/// The inputs one probe round gives the engine, in order: per region its probe then its
/// replication lag, then each CDN's probe (`cdns`: none, the first, or both).
pub fn probe_round<C: EdgeCache>(storage: &[Storage], cdns: &[Cdn<C>], rng: &mut Stream, out: &mut Vec<Input>) {
    out.clear();
    for (r, s) in storage.iter().enumerate() {
        let region = RegionId(r as u32);
        let (ok, latency) = s.probe(rng);
        out.push(Input::Probe { target: HealthTarget::Region(region), ok, latency });
        out.push(Input::ReplicationLag { region, lag: s.lag() });
    }
    for (cdn, target) in cdns.iter().zip([HealthTarget::Cdn, HealthTarget::SecondCdn]) {
        let (ok, latency) = cdn.probe(rng);
        out.push(Input::Probe { target, ok, latency });
    }
}
