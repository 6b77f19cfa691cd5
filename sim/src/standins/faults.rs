//! The ground truth of outages: what is really down or slow right now. The engine does not see
//! this; it learns it from probes and failed attempts.

use crate::scenario::{Outage, OutageKind, OutageTarget};
use clipsim_engine::{RegionId, SimDuration, SimTime};

/// The state of one target now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TargetState {
    /// Nothing answers.
    pub down: bool,
    /// Latency multiplier.
    pub latency_factor: f64,
    /// Share of attempts that fail.
    pub error_rate: f64,
}

impl TargetState {
    /// Nothing wrong.
    pub const UP: TargetState = TargetState { down: false, latency_factor: 1.0, error_rate: 0.0 };
}

/// Current outage state of every region, the CDN and every link.
#[derive(Clone, Debug)]
pub struct Faults {
    outages: Vec<Outage>,
    regions: usize,
    /// Per region.
    pub region: Vec<TargetState>,
    /// Each CDN: the first, then the second.
    pub cdn: [TargetState; 2],
    /// Replication lag per region.
    pub lag: Vec<SimDuration>,
    /// `link_cut[a * regions + b]`.
    link_cut: Vec<bool>,
}

impl Faults {
    /// Everything up.
    pub fn new(outages: &[Outage], regions: usize) -> Self {
        Faults {
            outages: outages.to_vec(),
            regions,
            region: vec![TargetState::UP; regions],
            cdn: [TargetState::UP; 2],
            lag: vec![SimDuration::ZERO; regions],
            link_cut: vec![false; regions * regions],
        }
    }

    /// Every time at which the state changes, sorted, without duplicates.
    pub fn change_times(&self) -> Vec<SimTime> {
        let mut t: Vec<SimTime> = self.outages.iter().flat_map(|o| [o.start, o.end]).collect();
        t.sort();
        t.dedup();
        t
    }

    /// Recomputes the state for time `t` from every outage active at `t`. Overlapping outages
    /// combine: down wins, latency factors multiply, error rates combine as independent failures.
    pub fn update(&mut self, t: SimTime) {
        self.region.fill(TargetState::UP);
        self.cdn = [TargetState::UP; 2];
        self.lag.fill(SimDuration::ZERO);
        self.link_cut.fill(false);
        for o in self.outages.iter().filter(|o| o.start <= t && t < o.end) {
            let apply = |s: &mut TargetState| match o.kind {
                OutageKind::Down => s.down = true,
                OutageKind::Degraded { latency_factor, error_rate } => {
                    s.latency_factor *= latency_factor;
                    s.error_rate = 1.0 - (1.0 - s.error_rate) * (1.0 - error_rate);
                }
                OutageKind::Lag(_) => {}
            };
            match o.target {
                OutageTarget::Region(r) => {
                    if let OutageKind::Lag(d) = o.kind {
                        self.lag[r.index()] = self.lag[r.index()].max(d);
                    }
                    apply(&mut self.region[r.index()]);
                }
                OutageTarget::Regions(mask) => {
                    for r in 0..self.regions {
                        if mask & (1 << r) != 0 {
                            apply(&mut self.region[r]);
                        }
                    }
                }
                OutageTarget::Cdn(i) => apply(&mut self.cdn[usize::from(i)]),
                OutageTarget::Link(a, b) => {
                    self.link_cut[a.index() * self.regions + b.index()] = true;
                    self.link_cut[b.index() * self.regions + a.index()] = true;
                }
            }
        }
    }

    /// The first time in `[from, to)` at which a copy from `a` to `b` breaks (either region
    /// down, or the link between them cut), if any. Uses the outage list, not the current state.
    pub fn copy_breaks(&self, a: RegionId, b: RegionId, from: SimTime, to: SimTime) -> Option<SimTime> {
        self.outages
            .iter()
            .filter(|o| o.start < to && from < o.end)
            .filter(|o| match (o.target, o.kind) {
                (OutageTarget::Region(r), OutageKind::Down) => r == a || r == b,
                (OutageTarget::Regions(mask), OutageKind::Down) => mask & (1 << a.0 | 1 << b.0) != 0,
                (OutageTarget::Link(x, y), _) => (x, y) == (a, b) || (x, y) == (b, a),
                _ => false,
            })
            .map(|o| o.start.max(from))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outage(target: OutageTarget, kind: OutageKind, start: u64, end: u64) -> Outage {
        Outage { label: String::new(), target, kind, start: SimTime(start), end: SimTime(end) }
    }

    #[test]
    fn overlapping_outages_combine() {
        let deg = |f, e| OutageKind::Degraded { latency_factor: f, error_rate: e };
        let mut f = Faults::new(
            &[
                outage(OutageTarget::Region(RegionId(0)), deg(2.0, 0.5), 0, 100),
                outage(OutageTarget::Regions(0b11), deg(3.0, 0.5), 50, 150),
                outage(OutageTarget::Cdn(1), OutageKind::Down, 10, 20),
            ],
            2,
        );
        f.update(SimTime(60));
        assert_eq!(f.region[0].latency_factor, 6.0);
        assert_eq!(f.region[0].error_rate, 0.75);
        assert_eq!(f.region[1].latency_factor, 3.0);
        assert!(!f.cdn[1].down);
        f.update(SimTime(15));
        assert!(f.cdn[1].down, "the second CDN");
        assert!(!f.cdn[0].down, "not the first");
        f.update(SimTime(150));
        assert_eq!(f.region[1], TargetState::UP);
        assert_eq!(f.change_times(), [0, 10, 20, 50, 100, 150].map(SimTime));
    }

    #[test]
    fn copies_break_on_down_regions_and_cut_links() {
        let f = Faults::new(
            &[
                outage(OutageTarget::Region(RegionId(2)), OutageKind::Down, 100, 200),
                outage(OutageTarget::Link(RegionId(0), RegionId(1)), OutageKind::Down, 300, 400),
            ],
            3,
        );
        assert_eq!(f.copy_breaks(RegionId(0), RegionId(2), SimTime(50), SimTime(150)), Some(SimTime(100)));
        assert_eq!(f.copy_breaks(RegionId(0), RegionId(2), SimTime(120), SimTime(150)), Some(SimTime(120)));
        assert_eq!(f.copy_breaks(RegionId(0), RegionId(1), SimTime(50), SimTime(150)), None);
        assert_eq!(f.copy_breaks(RegionId(1), RegionId(0), SimTime(350), SimTime(500)), Some(SimTime(350)));
    }
}
