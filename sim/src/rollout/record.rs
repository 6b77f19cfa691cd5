//! What a rollout run measures, per stage and arm, and per report interval (the batches the
//! intervals are computed from).

use super::Rollout;
use crate::record::latency_histogram;
use clipsim_engine::SimTime;
use hdrhistogram::Histogram;

/// Index of the control arm in `[control, treatment]` pairs.
pub const CONTROL: usize = 0;
/// Index of the treatment arm.
pub const TREATMENT: usize = 1;

/// One arm's requests in one stage (after the warm-up).
#[derive(Clone, Debug)]
pub struct Tally {
    /// Load times of the served requests, microseconds.
    pub latency: Histogram<u64>,
    /// Requests served.
    pub served: u64,
    /// Requests that failed.
    pub failed: u64,
    /// Bytes delivered.
    pub bytes: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally { latency: latency_histogram(), served: 0, failed: 0, bytes: 0 }
    }
}

/// One report interval of one stage: each arm's load-time percentiles and request counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    /// The stage its requests belong to.
    pub stage: usize,
    /// Its end (a report tick).
    pub end: SimTime,
    /// P50 and P95 load time per arm, microseconds (`None`: nothing served).
    pub p50_us: [Option<u64>; 2],
    /// See `p50_us`.
    pub p95_us: [Option<u64>; 2],
    /// Requests served per arm.
    pub served: [u64; 2],
}

/// The rollout's recorder, fed by the world with every request and report tick.
#[derive(Clone, Debug)]
pub struct RolloutRecorder {
    /// The rollout.
    pub rollout: Rollout,
    warmup: SimTime,
    /// Per stage, `[control, treatment]`.
    pub stages: Vec<[Tally; 2]>,
    /// The batches, in time order.
    pub batches: Vec<Batch>,
    current: [Histogram<u64>; 2],
    current_served: [u64; 2],
    current_stage: Option<usize>,
}

impl RolloutRecorder {
    /// An empty recorder; requests before `warmup` are not counted.
    pub fn new(rollout: Rollout, warmup: SimTime) -> Self {
        let stages = rollout.stages.iter().map(|_| Default::default()).collect();
        RolloutRecorder {
            rollout,
            warmup,
            stages,
            batches: Vec::new(),
            current: [latency_histogram(), latency_histogram()],
            current_served: [0; 2],
            current_stage: None,
        }
    }

    /// One request of `stage` at `t`, in treatment or not, served (with `bytes` after `load_us`)
    /// or failed. O(1); allocates nothing.
    #[inline]
    pub fn request(&mut self, t: SimTime, stage: usize, treated: bool, served: bool, bytes: u64, load_us: u64) {
        if t < self.warmup {
            return;
        }
        let arm = usize::from(treated);
        let tally = &mut self.stages[stage][arm];
        if served {
            tally.latency.saturating_record(load_us.max(1));
            tally.served += 1;
            tally.bytes += bytes;
            self.current[arm].saturating_record(load_us.max(1));
            self.current_served[arm] += 1;
        } else {
            tally.failed += 1;
        }
        self.current_stage = Some(stage);
    }

    /// Closes the batch ending at the report tick `end` (nothing when it had no request).
    pub fn close_batch(&mut self, end: SimTime) {
        let Some(stage) = self.current_stage.take() else { return };
        let q = |h: &Histogram<u64>, p: f64| (!h.is_empty()).then(|| h.value_at_quantile(p));
        self.batches.push(Batch {
            stage,
            end,
            p50_us: [q(&self.current[0], 0.5), q(&self.current[1], 0.5)],
            p95_us: [q(&self.current[0], 0.95), q(&self.current[1], 0.95)],
            served: self.current_served,
        });
        for h in &mut self.current {
            h.reset();
        }
        self.current_served = [0; 2];
    }
}
