//! The engine's inputs, outputs and errors.

use crate::billing::{Meter, RateTable};
use crate::health::Health;
use crate::ids::{ClipId, GeoId, ProviderId, RegionId};
use crate::units::{Bytes, MoneyNanos, SimDuration, SimTime};
use core::fmt;

/// What a health probe looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HealthTarget {
    /// A storage region.
    Region(RegionId),
    /// The CDN (the first one, with two).
    Cdn,
    /// The second CDN ([`crate::SecondCdn`]).
    SecondCdn,
}

/// An event from the outside world. Each is handed to [`crate::Engine::handle_input`] with the
/// time it happened. Requests take the fast path ([`crate::Engine::begin_request`]) instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A clip was uploaded to its primary region. Clip ids are dense: each upload takes the next id.
    ClipUploaded {
        /// Must equal the number of clips uploaded before.
        clip: ClipId,
        /// Its size (at least 1 byte).
        size: Bytes,
        /// Where the original is stored.
        primary: RegionId,
    },
    /// Views of `clip` from `geo` before the simulated period (a catalog that starts with a
    /// history): they count toward its popularity score and its demand by geography exactly as
    /// that many views would, and serve nothing.
    PastViews {
        /// The clip.
        clip: ClipId,
        /// The viewers' geography.
        geo: GeoId,
        /// How many.
        views: u32,
    },
    /// A viewer voted (`delta` is +1 or -1, or any net change).
    Vote {
        /// The clip.
        clip: ClipId,
        /// Change of the clip's vote score.
        delta: i32,
    },
    /// A health probe finished.
    Probe {
        /// What was probed.
        target: HealthTarget,
        /// Whether it answered.
        ok: bool,
        /// How long it took to answer (ignored when `ok` is false).
        latency: SimDuration,
    },
    /// A copy ordered by [`Output::Replicate`] completed: the mirror becomes active.
    ReplicationFinished {
        /// The clip.
        clip: ClipId,
        /// The mirror's region.
        region: RegionId,
    },
    /// A copy failed after moving `bytes_transferred` bytes (billed as inter-region traffic).
    ReplicationFailed {
        /// The clip.
        clip: ClipId,
        /// The mirror's region.
        region: RegionId,
        /// Bytes moved before the failure (at most the clip's size).
        bytes_transferred: Bytes,
    },
    /// The database replication lag of a region, as measured (`pg_replication_lag_seconds`).
    ReplicationLag {
        /// The region.
        region: RegionId,
        /// The lag.
        lag: SimDuration,
    },
    /// New prices from now on.
    PriceChange {
        /// The meter.
        meter: Meter,
        /// The provider.
        provider: ProviderId,
        /// One zone, or all of the provider's lines of this meter.
        zone: Option<u32>,
        /// The new rates.
        table: RateTable,
    },
}

/// A command or notice from the engine, drained with [`crate::Engine::poll_output`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Copy a clip between regions, then report [`Input::ReplicationFinished`] or
    /// [`Input::ReplicationFailed`].
    Replicate {
        /// The clip.
        clip: ClipId,
        /// Where to copy from.
        from: RegionId,
        /// Where the mirror goes.
        to: RegionId,
        /// Bytes to move.
        size: Bytes,
    },
    /// Delete an expired mirror (it was never served after expiry).
    DeleteMirror {
        /// The clip.
        clip: ClipId,
        /// The mirror's region.
        region: RegionId,
        /// Bytes freed.
        size: Bytes,
    },
    /// A pending mirror was given up after too many failed copies.
    ReplicationAbandoned {
        /// The clip.
        clip: ClipId,
        /// The region it was meant for.
        region: RegionId,
    },
    /// A target's believed health changed.
    HealthChanged {
        /// What changed.
        target: HealthTarget,
        /// The state before.
        from: Health,
        /// The state now.
        to: Health,
    },
    /// Cost per GB over the alert window went above the threshold (raised once per crossing).
    CostAlert {
        /// Cost per GB over the window, in nanodollars per GB (rounded down).
        cost_per_gb_nanos: u64,
        /// The threshold.
        threshold_nanos: u64,
    },
    /// Cost per GB came back to or below the threshold.
    CostAlertCleared {
        /// Cost per GB over the window.
        cost_per_gb_nanos: u64,
    },
    /// A billing month closed.
    MonthClosed {
        /// 0 for the first month.
        month: u32,
        /// Its total.
        total: MoneyNanos,
    },
}

/// One step of serving a request, from [`crate::Engine::next_step`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// Look the clip up in the CDN edge of the viewer's geography.
    Edge,
    /// Fetch from a copy, through the CDN (after an edge miss) or directly.
    Origin {
        /// Where the copy is.
        region: RegionId,
        /// What it is.
        kind: crate::policy::SourceKind,
        /// Whether the CDN fetches it (edge miss) or the viewer does.
        via_cdn: bool,
    },
    /// Nothing is left to try: the request fails.
    Failed,
}

/// An input the engine refuses. The engine's state is unchanged when one is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EngineError {
    /// An input's time is earlier than one already handled.
    TimeWentBackwards {
        /// The input's time.
        now: SimTime,
        /// The latest time already handled.
        last: SimTime,
    },
    /// A clip id that was never uploaded.
    UnknownClip {
        /// The id.
        clip: ClipId,
        /// How many clips exist.
        clips: usize,
    },
    /// An upload whose id is not the next dense id.
    ClipIdNotNext {
        /// The id given.
        clip: ClipId,
        /// The id expected.
        expected: ClipId,
    },
    /// An upload of zero bytes.
    EmptyClip {
        /// The id.
        clip: ClipId,
    },
    /// The clip id space is full.
    TooManyClips,
    /// A region id out of range.
    UnknownRegion {
        /// The id.
        region: RegionId,
        /// How many regions exist.
        regions: usize,
    },
    /// A provider id out of range.
    UnknownProvider {
        /// The id.
        provider: ProviderId,
        /// How many providers exist.
        providers: usize,
    },
    /// A geography id out of range.
    UnknownGeo {
        /// The id.
        geo: GeoId,
        /// How many geographies exist.
        geos: usize,
    },
    /// A replication report for a mirror that is not pending.
    NoPendingMirror {
        /// The clip.
        clip: ClipId,
        /// The region.
        region: RegionId,
    },
    /// A failed copy that claims to have moved more bytes than the clip has.
    TransferTooLarge {
        /// The clip.
        clip: ClipId,
        /// Bytes claimed.
        bytes: Bytes,
        /// The clip's size.
        size: Bytes,
    },
    /// A step that does not belong to this request (for example an edge result for a request
    /// that was told to skip the CDN).
    StepMismatch {
        /// The step given.
        step: Step,
        /// Why it does not fit.
        reason: &'static str,
    },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::TimeWentBackwards { now, last } => {
                write!(f, "time went backwards: input at {now} after {last}")
            }
            EngineError::UnknownClip { clip, clips } => write!(f, "unknown clip {clip}: {clips} clips exist"),
            EngineError::ClipIdNotNext { clip, expected } => {
                write!(f, "upload of {clip}: clip ids are dense, expected {expected}")
            }
            EngineError::EmptyClip { clip } => write!(f, "upload of {clip} has size 0: expected at least 1 byte"),
            EngineError::TooManyClips => write!(f, "too many clips: ids are u32"),
            EngineError::UnknownRegion { region, regions } => {
                write!(f, "unknown region {region}: {regions} regions exist")
            }
            EngineError::UnknownProvider { provider, providers } => {
                write!(f, "unknown provider {provider}: {providers} providers exist")
            }
            EngineError::UnknownGeo { geo, geos } => write!(f, "unknown geography {geo}: {geos} exist"),
            EngineError::NoPendingMirror { clip, region } => {
                write!(f, "no pending mirror of {clip} in {region}")
            }
            EngineError::TransferTooLarge { clip, bytes, size } => {
                write!(f, "failed copy of {clip} reports {} bytes moved, more than its {} bytes", bytes.0, size.0)
            }
            EngineError::StepMismatch { step, reason } => write!(f, "step {step:?} does not fit: {reason}"),
        }
    }
}

impl std::error::Error for EngineError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each variant names the offending ids (`ClipId#7`), times (`t=2s`) and counts.
    #[test]
    fn errors_explain_what_was_refused() {
        let cases = [
            (
                EngineError::TimeWentBackwards { now: SimTime(1_500_000), last: SimTime(2_000_000) },
                "time went backwards: input at t=1500ms after t=2s",
            ),
            (EngineError::UnknownClip { clip: ClipId(7), clips: 3 }, "unknown clip ClipId#7: 3 clips exist"),
            (
                EngineError::ClipIdNotNext { clip: ClipId(5), expected: ClipId(2) },
                "upload of ClipId#5: clip ids are dense, expected ClipId#2",
            ),
            (EngineError::EmptyClip { clip: ClipId(0) }, "upload of ClipId#0 has size 0: expected at least 1 byte"),
            (EngineError::TooManyClips, "too many clips: ids are u32"),
            (
                EngineError::UnknownRegion { region: RegionId(4), regions: 2 },
                "unknown region RegionId#4: 2 regions exist",
            ),
            (
                EngineError::UnknownProvider { provider: ProviderId(9), providers: 1 },
                "unknown provider ProviderId#9: 1 providers exist",
            ),
            (EngineError::UnknownGeo { geo: GeoId(6), geos: 5 }, "unknown geography GeoId#6: 5 exist"),
            (
                EngineError::NoPendingMirror { clip: ClipId(1), region: RegionId(2) },
                "no pending mirror of ClipId#1 in RegionId#2",
            ),
            (
                EngineError::TransferTooLarge { clip: ClipId(3), bytes: Bytes(2_048), size: Bytes(1_024) },
                "failed copy of ClipId#3 reports 2048 bytes moved, more than its 1024 bytes",
            ),
            (
                EngineError::StepMismatch { step: Step::Edge, reason: "the request skips the CDN" },
                "step Edge does not fit: the request skips the CDN",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }
}
