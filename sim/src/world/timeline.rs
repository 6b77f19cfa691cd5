//! What the world notes in the timeline beyond the events it handles: each spike clip's first
//! mirror steps, and at the end the spikes on catalog clips, the spikes' ends, and what is still
//! in force.

use super::Sim;
use crate::cache::EdgeCache;
use crate::record::timeline::{Entry, Event, InForce, MirrorStep};
use crate::scenario::SpikeClip;
use clipsim_engine::{ClipId, RegionId, SimTime};

impl<C: EdgeCache> Sim<C> {
    /// A timeline line when a copy of a spike's clip to a region is first ordered, first ready
    /// or first fails after the spike began (the latest spike on that clip to have begun).
    pub(super) fn note_spike_mirror(&mut self, t: SimTime, clip: ClipId, region: RegionId, what: MirrorStep) {
        let spikes = &self.sc.traffic.spikes;
        let Some(i) = (0..spikes.len())
            .filter(|&i| self.demand.spike_clip(i) == Some(clip) && spikes[i].start <= t)
            .max_by_key(|&i| spikes[i].start)
        else {
            return;
        };
        let noted = &mut self.spike_noted[i][region.index()];
        if *noted & what.bit() != 0 {
            return;
        }
        *noted |= what.bit();
        let since_spike = t - spikes[i].start;
        self.rec.timeline.push(Entry { at: t, event: Event::SpikeMirror { clip, region, step: what, since_spike } });
    }

    /// The timeline's lines that no event makes (spikes on catalog clips starting, every spike
    /// ending), then the timeline in time order (stable: lines of one instant keep their order);
    /// and, apart, what is still in force at `end` (outages, a raised cost alert).
    pub(super) fn close_timeline(&mut self, end: SimTime) {
        let timeline = &mut self.rec.timeline;
        for (i, s) in self.sc.traffic.spikes.iter().enumerate() {
            let clip = self.demand.spike_clip(i);
            if let (SpikeClip::Rank(rank), true) = (s.clip, s.start < end) {
                timeline.push(Entry { at: s.start, event: Event::SpikeStartsOnCatalogClip { rank } });
            }
            if let (Some(clip), true) = (clip, s.end <= end) {
                timeline.push(Entry { at: s.end, event: Event::SpikeEnds { clip } });
            }
        }
        timeline.sort_by_key(|n| n.at);
        let at_end = &mut self.rec.at_end;
        for (i, _) in self.sc.outages.iter().enumerate().filter(|(_, o)| o.start < end && o.end > end) {
            at_end.push(InForce::Outage(i));
        }
        if self.alert_raised {
            at_end.push(InForce::CostAlert);
        }
    }
}
