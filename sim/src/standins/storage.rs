//! One region's object store: it holds the clips put into it, answers a get unless it is down
//! or the get fails (a degraded region fails a share of them), and takes the time of its round
//! trip to each viewer geography.

use super::TargetState;
use crate::rng::Stream;
use clipsim_engine::{SimDuration, SimTime};

/// What a region's storage did, counted by the stand-in itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StorageMeter {
    /// Gets answered (one per request it served).
    pub gets: u64,
    /// Bytes sent straight to viewers.
    pub bytes_to_viewers: u64,
    /// Bytes sent to the CDN on edge misses.
    pub bytes_to_cdn: u64,
    /// Of the gets, conditional requests from the CDN revalidating an expired edge copy (no
    /// bytes sent).
    pub conditional_gets: u64,
    /// Bytes stored times microseconds, from the start to the time of [`Storage::meter`].
    pub byte_us: u128,
}

/// A region's storage.
#[derive(Clone, Debug)]
pub struct Storage {
    /// Round trip to each geography when healthy, microseconds.
    base_rtt_us: Vec<u64>,
    /// Round trip to each geography now (outages slow it), microseconds.
    rtt_us: Vec<u64>,
    /// A probe's round trip when healthy: to the nearest geography.
    probe_base_us: u64,
    state: TargetState,
    lag: SimDuration,
    stored_bytes: u64,
    stored_since: SimTime,
    meter: StorageMeter,
}

/// How long a healthy region with these round trips to the geographies (milliseconds) takes to
/// answer a probe: its shortest round trip (the prober sits in the nearest geography).
pub fn normal_probe_latency(latency_ms: &[u32]) -> SimDuration {
    SimDuration::from_millis(latency_ms.iter().copied().min().map_or(0, u64::from))
}

impl Storage {
    /// An empty, healthy region with these round trips to the geographies, in milliseconds.
    pub fn new(latency_ms: &[u32]) -> Self {
        let base_rtt_us: Vec<u64> = latency_ms.iter().map(|&ms| u64::from(ms) * 1000).collect();
        Storage {
            rtt_us: base_rtt_us.clone(),
            probe_base_us: normal_probe_latency(latency_ms).as_micros(),
            base_rtt_us,
            state: TargetState::UP,
            lag: SimDuration::ZERO,
            stored_bytes: 0,
            stored_since: SimTime::ZERO,
            meter: StorageMeter::default(),
        }
    }

    /// Sets what is really wrong with it from now on (an outage starting or ending).
    pub fn set_state(&mut self, state: TargetState, lag: SimDuration) {
        self.state = state;
        self.lag = lag;
        for (now, &base) in self.rtt_us.iter_mut().zip(&self.base_rtt_us) {
            *now = (base as f64 * state.latency_factor) as u64;
        }
    }

    /// What is really wrong with it.
    pub fn state(&self) -> TargetState {
        self.state
    }

    /// The replication lag it suffers now (it delays copies to and from it).
    pub fn lag(&self) -> SimDuration {
        self.lag
    }

    fn accrue(&mut self, t: SimTime) {
        debug_assert!(t >= self.stored_since, "storage time runs forward");
        let elapsed = u128::from(t.saturating_since(self.stored_since).as_micros());
        self.meter.byte_us += u128::from(self.stored_bytes) * elapsed;
        self.stored_since = t;
    }

    /// Stores `size` more bytes from `t` on (an upload or a finished copy).
    pub fn put(&mut self, t: SimTime, size: u64) {
        self.accrue(t);
        self.stored_bytes += size;
    }

    /// Deletes `size` bytes at `t` (a mirror removed by cleanup).
    pub fn delete(&mut self, t: SimTime, size: u64) {
        self.accrue(t);
        self.stored_bytes = self.stored_bytes.checked_sub(size).expect("only what was put is deleted");
    }

    /// Whether a get is answered now: not while the region is down, and not the share of gets
    /// a degraded region fails (drawn from `rng` only when it is up).
    #[inline]
    pub fn answers(&self, rng: &mut Stream) -> bool {
        !(self.state.down || rng.chance(self.state.error_rate))
    }

    /// Serves `bytes` to a viewer in `geo` (through the CDN or straight): meters it and returns
    /// the round trip to that geography, microseconds.
    #[inline]
    pub fn serve(&mut self, geo: usize, bytes: u64, via_cdn: bool) -> u64 {
        self.meter.gets += 1;
        if via_cdn {
            self.meter.bytes_to_cdn += bytes;
        } else {
            self.meter.bytes_to_viewers += bytes;
        }
        self.rtt_us[geo]
    }

    /// Answers a conditional request from the CDN for a copy it holds ("not modified": clips
    /// never change): meters the request, no bytes, and returns the round trip to `geo`,
    /// microseconds.
    #[inline]
    pub fn revalidate(&mut self, geo: usize) -> u64 {
        self.meter.gets += 1;
        self.meter.conditional_gets += 1;
        self.rtt_us[geo]
    }

    /// A health probe: whether it answers (drawn like a get) and its round trip.
    pub fn probe(&self, rng: &mut Stream) -> (bool, SimDuration) {
        let ok = self.answers(rng);
        (ok, SimDuration::from_micros((self.probe_base_us as f64 * self.state.latency_factor) as u64))
    }

    /// What it metered, with storage accrued to `t`.
    pub fn meter(&mut self, t: SimTime) -> StorageMeter {
        self.accrue(t);
        self.meter.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Purpose;

    #[test]
    fn storage_meters_byte_time_gets_and_bytes_out() {
        let mut s = Storage::new(&[20, 90]);
        s.put(SimTime(10), 1_000);
        s.put(SimTime(20), 500);
        s.delete(SimTime(40), 1_000);
        assert_eq!(s.serve(1, 300, false), 90_000);
        assert_eq!(s.serve(0, 200, true), 20_000);
        let m = s.meter(SimTime(50));
        // 1,000 bytes for 10 us, 1,500 for 20 us, 500 for 10 us.
        assert_eq!(m.byte_us, 1_000 * 10 + 1_500 * 20 + 500 * 10);
        assert_eq!((m.gets, m.bytes_to_viewers, m.bytes_to_cdn), (2, 300, 200));
    }

    #[test]
    fn a_degraded_region_is_slower_and_a_region_down_never_answers() {
        let mut rng = Stream::new(1, Purpose::Faults);
        let mut s = Storage::new(&[20, 90]);
        s.set_state(TargetState { down: false, latency_factor: 4.0, error_rate: 0.0 }, SimDuration::ZERO);
        assert_eq!(s.serve(1, 1, false), 360_000);
        assert_eq!(s.probe(&mut rng), (true, SimDuration::from_millis(80)));
        s.set_state(TargetState { down: true, latency_factor: 1.0, error_rate: 0.0 }, SimDuration::ZERO);
        assert!((0..100).all(|_| !s.answers(&mut rng)));
        s.set_state(TargetState { down: false, latency_factor: 1.0, error_rate: 0.5 }, SimDuration::ZERO);
        let answered = (0..10_000).filter(|_| s.answers(&mut rng)).count();
        assert!((4_700..5_300).contains(&answered), "{answered} of 10,000 at a 50 % error rate");
    }
}
