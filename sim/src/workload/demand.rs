//! The demand a scenario puts on the system: the views (the lazy [`Workload`]), the uploads of
//! fresh clips on their Poisson schedule, and the clips of "new" viral spikes, uploaded at each
//! spike's start. One driver, with one set of random streams, for the world (`clipsim run`) and
//! for `clipsim trace generate`, so that both see the very same requests.
//!
//! At one instant a spike's start comes before an upload, and both before the views.
//!
//! With a trace (`[traffic] trace`), the views are the trace's ([`TraceViews`]) and there are no
//! synthetic uploads or spikes: a clip is uploaded at its first view
//! ([`Demand::next_view_uploads`]).

use super::trace::TraceViews;
use super::{Arrival, ClipFactory, Workload};
use crate::rng::Purpose;
use crate::scenario::{Scenario, SpikeClip};
use clipsim_engine::{ClipId, RegionId, SimDuration, SimTime};

/// What happens next in the demand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Spike `0` (in the scenario's order) starts: [`Demand::take_spike_clip`], upload it, then
    /// [`Demand::spike_clip_uploaded`].
    SpikeStart(usize),
    /// A fresh clip is uploaded: [`Demand::take_upload`], then [`Demand::uploaded`].
    Upload,
    /// A view: [`Demand::views`]`().pop()`.
    View,
}

/// Where the views come from. The synthetic workload stays inline (it is the hot path of every
/// synthetic run); the trace reader is boxed.
#[allow(clippy::large_enum_variant)]
enum Views {
    Drawn(Workload),
    Trace(Box<TraceViews>),
}

/// The demand driver.
pub struct Demand {
    views: Views,
    uploads: ClipFactory,
    uploads_per_day: f64,
    next_upload: SimTime,
    /// ("new" spike start, spike index), in start then index order.
    new_spikes: Vec<(SimTime, usize)>,
    next_spike: usize,
}

impl Demand {
    /// The demand of `sc` from time 0.
    pub fn new(sc: &Scenario) -> Self {
        let mut uploads = ClipFactory::new(sc, Purpose::Uploads);
        if let Some(info) = &sc.traffic.trace {
            let views = TraceViews::new(info, sc.seed, &sc.traffic.geo_shares, &sc.geos, SimTime::ZERO + sc.duration);
            return Demand {
                views: Views::Trace(Box::new(views)),
                uploads,
                uploads_per_day: 0.0,
                next_upload: SimTime::NEVER,
                new_spikes: Vec::new(),
                next_spike: 0,
            };
        }
        let per_day = sc.catalog.uploads_per_day;
        let next_upload = if per_day > 0.0 { SimTime::ZERO + uploads.next_upload_gap(per_day) } else { SimTime::NEVER };
        let mut new_spikes: Vec<(SimTime, usize)> = (sc.traffic.spikes.iter().enumerate())
            .filter(|(_, s)| s.clip == SpikeClip::New)
            .map(|(i, s)| (s.start, i))
            .collect();
        new_spikes.sort();
        Demand {
            views: Views::Drawn(Workload::new(sc)),
            uploads,
            uploads_per_day: per_day,
            next_upload,
            new_spikes,
            next_spike: 0,
        }
    }

    /// The trace the views come from, if they do.
    pub fn trace(&self) -> Option<&TraceViews> {
        match &self.views {
            Views::Drawn(_) => None,
            Views::Trace(t) => Some(t),
        }
    }

    /// The trace the views come from, to finish reading it.
    pub fn trace_mut(&mut self) -> Option<&mut TraceViews> {
        match &mut self.views {
            Views::Drawn(_) => None,
            Views::Trace(t) => Some(t),
        }
    }

    /// Keeps `k` views past the next one drawn or read, for a caller that prefetches their state
    /// (see [`Workload::set_lookahead`]).
    pub fn set_lookahead(&mut self, k: usize) {
        match &mut self.views {
            Views::Drawn(w) => w.set_lookahead(k),
            Views::Trace(t) => t.set_lookahead(k),
        }
    }

    /// The time of the next view ([`SimTime::NEVER`] when none comes before the end).
    #[inline]
    pub fn peek_time(&self) -> SimTime {
        match &self.views {
            Views::Drawn(w) => w.peek_time(),
            Views::Trace(t) => t.peek_time(),
        }
    }

    /// The view `k` places after the next one, as far as it is known now (for prefetching: see
    /// [`Workload::peek_nth`]).
    #[inline]
    pub fn peek_nth(&self, k: usize) -> Arrival {
        match &self.views {
            Views::Drawn(w) => w.peek_nth(k),
            Views::Trace(t) => t.peek_nth(k),
        }
    }

    /// With a trace, when the next view is its clip's first and the clip is not one of the
    /// `uploaded` clips yet: the clip's size and primary region, to be uploaded (as clip
    /// `uploaded`) before the view is taken. `None` otherwise, and always without a trace.
    #[inline]
    pub fn next_view_uploads(&mut self, uploaded: usize) -> Option<(u64, RegionId)> {
        match &self.views {
            Views::Drawn(_) => None,
            Views::Trace(t) => {
                let size = t.next_first_size(uploaded)?;
                Some((size, self.uploads.next_primary()))
            }
        }
    }

    /// Heap bytes the views hold (they grow with the clips, not with the requests).
    pub fn heap_bytes(&self) -> usize {
        match &self.views {
            Views::Drawn(w) => w.heap_bytes(),
            Views::Trace(t) => t.heap_bytes(),
        }
    }

    /// Spike `spike`'s clip, once it has one (never with a trace, which has no spikes).
    pub fn spike_clip(&self, spike: usize) -> Option<ClipId> {
        match &self.views {
            Views::Drawn(w) => w.spike_clip(spike),
            Views::Trace(_) => None,
        }
    }

    fn drawn(&mut self) -> &mut Workload {
        match &mut self.views {
            Views::Drawn(w) => w,
            Views::Trace(_) => unreachable!("a trace-driven demand has no synthetic uploads or spikes"),
        }
    }

    /// When the next fresh clip is uploaded ([`SimTime::NEVER`] without uploads).
    pub fn next_upload_at(&self) -> SimTime {
        self.next_upload
    }

    /// The "new" spikes: (start, spike index), in start order.
    pub fn new_spikes(&self) -> &[(SimTime, usize)] {
        &self.new_spikes
    }

    /// The next thing to happen and when, before `end` (`None` at or after it). Nothing is
    /// taken: the caller takes it with the method [`Next`] names.
    pub fn next(&mut self, end: SimTime) -> Option<(SimTime, Next)> {
        let spike = self.new_spikes.get(self.next_spike).map_or(SimTime::NEVER, |s| s.0);
        let view = self.peek_time();
        let at = spike.min(self.next_upload).min(view);
        if at >= end {
            // Nothing left before the end (every time may be NEVER: no spike, upload or view).
            return None;
        }
        let next = if spike == at {
            Next::SpikeStart(self.new_spikes[self.next_spike].1)
        } else if self.next_upload == at {
            Next::Upload
        } else {
            Next::View
        };
        Some((at, next))
    }

    /// The clip of the next "new" spike to start, uploaded at its start: its size and primary
    /// region (spikes are taken in start order).
    pub fn take_spike_clip(&mut self) -> (u64, RegionId) {
        debug_assert!(self.next_spike < self.new_spikes.len(), "a spike start taken once");
        self.next_spike += 1;
        self.uploads.next_clip()
    }

    /// Spike `spike`'s clip is `clip` (uploaded at its start, before any of its views).
    pub fn spike_clip_uploaded(&mut self, spike: usize, clip: ClipId) {
        self.drawn().set_spike_clip(spike, clip);
    }

    /// The fresh clip due at [`Demand::next_upload_at`]: its size and primary region; the next
    /// upload is drawn after it.
    pub fn take_upload(&mut self) -> (u64, RegionId) {
        let clip = self.uploads.next_clip();
        let gap = self.uploads.next_upload_gap(self.uploads_per_day);
        self.next_upload += gap.max(SimDuration::from_micros(1));
        clip
    }

    /// The fresh clip taken last was uploaded as `clip` at `t`: views may go to it from now on.
    pub fn uploaded(&mut self, t: SimTime, clip: ClipId) {
        self.drawn().on_upload(t, clip);
    }

    /// The next view, taken (after every event before it).
    #[inline]
    pub fn take_view(&mut self) -> Arrival {
        match &mut self.views {
            Views::Drawn(w) => w.pop(),
            Views::Trace(t) => t.pop(),
        }
    }
}
