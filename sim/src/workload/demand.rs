//! The demand a scenario puts on the system: the views (the lazy [`Workload`]), the uploads of
//! fresh clips on their Poisson schedule, and the clips of "new" viral spikes, uploaded at each
//! spike's start. One driver, with one set of random streams, for the world (`clipsim run`) and
//! for `clipsim trace generate`, so that both see the very same requests.
//!
//! At one instant a spike's start comes before an upload, and both before the views.

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

/// The demand driver.
pub struct Demand {
    views: Workload,
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
        let per_day = sc.catalog.uploads_per_day;
        let next_upload = if per_day > 0.0 { SimTime::ZERO + uploads.next_upload_gap(per_day) } else { SimTime::NEVER };
        let mut new_spikes: Vec<(SimTime, usize)> = (sc.traffic.spikes.iter().enumerate())
            .filter(|(_, s)| s.clip == SpikeClip::New)
            .map(|(i, s)| (s.start, i))
            .collect();
        new_spikes.sort();
        Demand { views: Workload::new(sc), uploads, uploads_per_day: per_day, next_upload, new_spikes, next_spike: 0 }
    }

    /// The views.
    pub fn views(&mut self) -> &mut Workload {
        &mut self.views
    }

    /// The views, read only.
    pub fn views_ref(&self) -> &Workload {
        &self.views
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
        let view = self.views.peek_time();
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
        self.views.set_spike_clip(spike, clip);
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
        self.views.on_upload(t, clip);
    }

    /// The next view, taken (after every event before it).
    #[inline]
    pub fn take_view(&mut self) -> Arrival {
        self.views.pop()
    }
}
