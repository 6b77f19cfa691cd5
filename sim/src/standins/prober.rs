//! The health probes: every probe interval, each region's storage and the CDN are asked once;
//! the engine's health checks read the answers (and each region's replication lag).

use super::{Cdn, Storage};
use crate::cache::EdgeCache;
use crate::rng::Stream;
use clipsim_engine::{HealthTarget, Input, RegionId};

/// The inputs one probe round gives the engine, in order: per region its probe then its
/// replication lag, then the CDN's probe when there is a CDN.
pub fn probe_round<C: EdgeCache>(storage: &[Storage], cdn: Option<&Cdn<C>>, rng: &mut Stream, out: &mut Vec<Input>) {
    out.clear();
    for (r, s) in storage.iter().enumerate() {
        let region = RegionId(r as u32);
        let (ok, latency) = s.probe(rng);
        out.push(Input::Probe { target: HealthTarget::Region(region), ok, latency });
        out.push(Input::ReplicationLag { region, lag: s.lag() });
    }
    if let Some(cdn) = cdn {
        let (ok, latency) = cdn.probe(rng);
        out.push(Input::Probe { target: HealthTarget::Cdn, ok, latency });
    }
}
