//! The read-only view of regions, geographies and latencies that policies decide from.

use crate::config::EngineConfig;
use crate::ids::{GeoId, ProviderId, RegionId};

/// Regions, geographies and the latency between them, laid out for O(1) lookups.
#[derive(Clone, Debug)]
pub struct Topology {
    region_names: Vec<String>,
    geo_names: Vec<String>,
    storage_provider: Vec<ProviderId>,
    /// `latency_ms[geo * regions + region]`: one geography's row is contiguous.
    latency_ms: Vec<u32>,
    /// The lowest-latency region for each geography (ties: lower region id).
    nearest: Vec<RegionId>,
}

impl Topology {
    /// Builds the topology of a (validated) configuration.
    pub fn new(cfg: &EngineConfig) -> Self {
        let regions = cfg.regions.len();
        let mut latency_ms = vec![0u32; regions * cfg.geos.len()];
        for (r, row) in cfg.latency_ms.iter().enumerate() {
            for (g, &ms) in row.iter().enumerate() {
                latency_ms[g * regions + r] = ms;
            }
        }
        let nearest = (0..cfg.geos.len())
            .map(|g| {
                let row = &latency_ms[g * regions..(g + 1) * regions];
                let (r, _) =
                    row.iter().enumerate().min_by_key(|&(r, &ms)| (ms, r)).expect("validated: at least one region");
                RegionId(r as u32)
            })
            .collect();
        Topology {
            region_names: cfg.regions.iter().map(|r| r.name.clone()).collect(),
            geo_names: cfg.geos.clone(),
            storage_provider: cfg.regions.iter().map(|r| r.storage_provider).collect(),
            latency_ms,
            nearest,
        }
    }

    /// Number of regions.
    pub fn regions(&self) -> usize {
        self.region_names.len()
    }

    /// Number of viewer geographies.
    pub fn geos(&self) -> usize {
        self.geo_names.len()
    }

    /// A region's name.
    pub fn region_name(&self, r: RegionId) -> &str {
        &self.region_names[r.index()]
    }

    /// A geography's name.
    pub fn geo_name(&self, g: GeoId) -> &str {
        &self.geo_names[g.index()]
    }

    /// Who stores a region's bytes.
    pub fn storage_provider(&self, r: RegionId) -> ProviderId {
        self.storage_provider[r.index()]
    }

    /// Round-trip latency from a region to a geography, in milliseconds.
    #[inline]
    pub fn latency_ms(&self, r: RegionId, g: GeoId) -> u32 {
        self.latency_ms[g.index() * self.regions() + r.index()]
    }

    /// The region nearest to a geography: where its viewers' "local" mirror lives.
    #[inline]
    pub fn nearest_region(&self, g: GeoId) -> RegionId {
        self.nearest[g.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_looked_up_by_id_in_configuration_order() {
        let mut cfg = EngineConfig::new();
        let s3 = cfg.add_provider("s3");
        let use1 = cfg.add_region("us-east-1", s3);
        let euw1 = cfg.add_region("eu-west-1", s3);
        let na = cfg.add_geo("na");
        let eu = cfg.add_geo("eu");
        let topo = Topology::new(&cfg);
        assert_eq!(topo.region_name(use1), "us-east-1");
        assert_eq!(topo.region_name(euw1), "eu-west-1");
        assert_eq!(topo.geo_name(na), "na");
        assert_eq!(topo.geo_name(eu), "eu");
    }
}
