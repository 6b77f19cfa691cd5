//! Copies between regions: each directed link carries one copy at a time at the network's
//! bandwidth, plus a round trip and the replication lag of both ends; an outage of either region
//! (down) or of the link between them breaks a copy in flight, after the bytes moved so far.

use super::Faults;
use clipsim_engine::{RegionId, SimDuration, SimTime};

/// When and how a copy ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyOutcome {
    /// When the copy completes or breaks.
    pub at: SimTime,
    /// Whether it completes.
    pub ok: bool,
    /// Bytes moved (the size when it completes).
    pub bytes: u64,
}

/// The links between regions.
#[derive(Clone, Debug)]
pub struct Links {
    regions: usize,
    /// When each directed link is free again, `[from * regions + to]`.
    free_at: Vec<SimTime>,
    bps: u128,
    rtt: SimDuration,
    /// Bytes copied out of each region by copies that ended.
    copied_out: Vec<u64>,
}

impl Links {
    /// Links between `regions` regions at `bps` bits per second with round trip `rtt`.
    pub fn new(regions: usize, bps: u64, rtt: SimDuration) -> Self {
        Links {
            regions,
            free_at: vec![SimTime::ZERO; regions * regions],
            bps: u128::from(bps),
            rtt,
            copied_out: vec![0; regions],
        }
    }

    /// Starts copying `size` bytes from `from` to `to` at `t` (after the copies already on that
    /// link), with the ends' replication `lag`; returns when and how it will end.
    pub fn start(
        &mut self,
        t: SimTime,
        from: RegionId,
        to: RegionId,
        size: u64,
        lag: SimDuration,
        faults: &Faults,
    ) -> CopyOutcome {
        let link = from.index() * self.regions + to.index();
        let start = t.max(self.free_at[link]);
        let xfer = SimDuration::from_micros(((u128::from(size) * 8 * 1_000_000).div_ceil(self.bps)) as u64);
        let done = start + xfer + self.rtt + lag;
        match faults.copy_breaks(from, to, t, done) {
            Some(broken) => {
                let moved = broken.saturating_since(start).as_micros().min(xfer.as_micros());
                let bytes = if xfer.as_micros() == 0 {
                    0
                } else {
                    (u128::from(size) * u128::from(moved) / u128::from(xfer.as_micros())) as u64
                };
                self.free_at[link] = broken.max(start);
                CopyOutcome { at: broken, ok: false, bytes }
            }
            None => {
                self.free_at[link] = start + xfer;
                CopyOutcome { at: done, ok: true, bytes: size }
            }
        }
    }

    /// A copy out of `from` ended having moved `bytes`.
    pub fn ended(&mut self, from: RegionId, bytes: u64) {
        self.copied_out[from.index()] += bytes;
    }

    /// Bytes copied out of each region by copies that ended.
    pub fn copied_out(&self) -> &[u64] {
        &self.copied_out
    }
}
