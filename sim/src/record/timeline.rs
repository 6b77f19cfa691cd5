//! What happened during a run, as typed events in time order: outages, price changes, viral
//! spikes, believed health, cost alerts, abandoned copies. The world records them; the report
//! (`report::timeline`) words them.

use clipsim_engine::{ClipId, Health, HealthTarget, RegionId, SimDuration, SimTime};

/// One step of a spike clip's mirror.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MirrorStep {
    /// The copy was ordered.
    Ordered,
    /// The copy completed.
    Ready,
    /// The copy failed.
    Failed,
}

impl MirrorStep {
    /// A bit of its own, for noting which steps were seen.
    pub fn bit(self) -> u8 {
        match self {
            MirrorStep::Ordered => 1,
            MirrorStep::Ready => 2,
            MirrorStep::Failed => 4,
        }
    }

    /// Its word in the timeline.
    pub fn name(self) -> &'static str {
        match self {
            MirrorStep::Ordered => "ordered",
            MirrorStep::Ready => "ready",
            MirrorStep::Failed => "failed",
        }
    }
}

/// Something that happened. Scenario items are named by their index in the scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Outage `0` (in the scenario's order) started.
    OutageStarts(usize),
    /// Outage `0` ended.
    OutageEnds(usize),
    /// Price change `0` (in the scenario's order) took effect.
    PriceChange(usize),
    /// A viral spike started on a clip uploaded for it.
    SpikeStartsOnNewClip {
        /// The clip.
        clip: ClipId,
    },
    /// A viral spike started on a catalog clip (`rank` counts from 0).
    SpikeStartsOnCatalogClip {
        /// Its clip id, which is its popularity rank from 0.
        rank: u32,
    },
    /// A viral spike ended.
    SpikeEnds {
        /// Its clip.
        clip: ClipId,
    },
    /// A step of a spike clip's mirror, the first of its kind per region after the spike began.
    SpikeMirror {
        /// The clip.
        clip: ClipId,
        /// Where the mirror is.
        region: RegionId,
        /// What happened.
        step: MirrorStep,
        /// How long after the spike began.
        since_spike: SimDuration,
    },
    /// The engine changed its belief about a target's health.
    HealthChanged {
        /// Whose.
        target: HealthTarget,
        /// Before.
        from: Health,
        /// After.
        to: Health,
    },
    /// A cost alert was raised.
    CostAlert {
        /// Cost per GB over the window, nanodollars.
        per_gb_nanos: u64,
        /// The threshold, nanodollars.
        threshold_nanos: u64,
    },
    /// A cost alert was cleared.
    CostAlertCleared {
        /// Cost per GB over the window, nanodollars.
        per_gb_nanos: u64,
    },
    /// The engine gave up copying a clip to a region.
    CopyAbandoned {
        /// The clip.
        clip: ClipId,
        /// Where.
        region: RegionId,
    },
}

/// An event at its time.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// When.
    pub at: SimTime,
    /// What.
    pub event: Event,
}

/// What was still in force when the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InForce {
    /// Outage `0` (in the scenario's order).
    Outage(usize),
    /// A raised cost alert, never cleared.
    CostAlert,
}
