//! The sliding score window (`MirrorConfig::score_window`): a clip's score counts only the views
//! and votes of the last window, as a deployment that ranks by "views this week" does.
//!
//! The window is counted in [`STEPS`] steps of `window / STEPS` each. Every clip keeps one view
//! count and one vote sum per step (a side table, 64 bytes a clip, only when the window is set);
//! a view adds to the clip's count and to the current step's, in O(1). When a step ends the
//! oldest step leaves the window: its counts are taken off every clip's and it becomes the new
//! current step, in O(clips). So at any time the score covers the current step and the
//! `STEPS - 1` before it: between `(STEPS - 1) / STEPS` of the window and the whole window. Steps
//! advance at the sync job, the only place a score is read for replication, so a view landing
//! between a step's end and the next sync counts in the step that just ended.

use crate::engine::Clip;
use crate::units::{SimDuration, SimTime};

/// Steps in a window.
pub const STEPS: usize = 8;

/// Per-clip counts of each step of the window.
#[derive(Clone, Debug)]
pub(crate) struct ScoreWindow {
    step: SimDuration,
    next_step: SimTime,
    current: usize,
    /// Views of clip `i` in step `s` at `i * STEPS + s`.
    views: Vec<u32>,
    /// Net votes, laid out as `views`.
    votes: Vec<i32>,
}

impl ScoreWindow {
    /// An empty window of `window` (at least [`STEPS`] microseconds) whose first step starts
    /// at `start`.
    pub(crate) fn new(window: SimDuration, start: SimTime) -> Self {
        let step = SimDuration(window.as_micros() / STEPS as u64);
        ScoreWindow { step, next_step: start + step, current: 0, views: Vec::new(), votes: Vec::new() }
    }

    /// Room for one more clip, with nothing counted.
    pub(crate) fn add_clip(&mut self) {
        self.views.extend([0; STEPS]);
        self.votes.extend([0; STEPS]);
    }

    /// Reserves room for `clips` more clips.
    pub(crate) fn reserve(&mut self, clips: usize) {
        self.views.reserve(clips.saturating_mul(STEPS));
        self.votes.reserve(clips.saturating_mul(STEPS));
    }

    /// Counts `n` views of clip `i` in the current step. O(1).
    #[inline]
    pub(crate) fn view(&mut self, i: usize, n: u32) {
        let v = &mut self.views[i * STEPS + self.current];
        *v = v.saturating_add(n);
    }

    /// Counts `n` views of clip `i` spread evenly over every step (views from before the run,
    /// assumed to have come at a steady rate over the window); the remainder goes to the newest.
    pub(crate) fn past_views(&mut self, i: usize, n: u32) {
        let (each, rest) = (n / STEPS as u32, n % STEPS as u32);
        for s in 0..STEPS {
            let v = &mut self.views[i * STEPS + s];
            *v = v.saturating_add(each + if s == self.current { rest } else { 0 });
        }
    }

    /// Counts a vote change of clip `i` in the current step. O(1).
    pub(crate) fn vote(&mut self, i: usize, delta: i32) {
        let v = &mut self.votes[i * STEPS + self.current];
        *v = v.saturating_add(delta);
    }

    /// Ends every step that ended at or before `at`: each takes its counts off `clips` and is
    /// emptied to become the current step. O(clips) a step, at most [`STEPS`] times.
    pub(crate) fn advance(&mut self, at: SimTime, clips: &mut [Clip]) {
        for _ in 0..STEPS {
            if self.next_step > at {
                break;
            }
            let oldest = (self.current + 1) % STEPS;
            for (i, c) in clips.iter_mut().enumerate() {
                let k = i * STEPS + oldest;
                c.views = c.views.saturating_sub(core::mem::take(&mut self.views[k]));
                c.votes = c.votes.saturating_sub(core::mem::take(&mut self.votes[k]));
            }
            self.current = oldest;
            self.next_step += self.step;
        }
        if self.next_step <= at {
            // A whole window or more went by: every step is empty; skip to the one under way.
            let behind = (at.as_micros() - self.next_step.as_micros()) / self.step.as_micros() + 1;
            self.next_step += SimDuration(behind.saturating_mul(self.step.as_micros()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clips(n: usize) -> Vec<Clip> {
        let c = Clip { size_bytes: 1, views: 0, votes: 0, first_mirror: 0, primary: 0, records: 0, demand: [0; 5] };
        vec![c; n]
    }

    /// A step of one hour: `h` hours from the start.
    fn hours(h: u64) -> SimTime {
        SimTime(h * 3_600_000_000)
    }

    /// Views and votes leave the score exactly when the step they came in leaves the window,
    /// STEPS steps later; other clips' counts and later steps' stay.
    #[test]
    fn a_view_leaves_the_score_when_its_step_leaves_the_window() {
        let mut w = ScoreWindow::new(SimDuration::from_hours(STEPS as u64), SimTime::ZERO);
        let mut c = clips(2);
        w.add_clip();
        w.add_clip();
        let count = |w: &mut ScoreWindow, c: &mut [Clip], i: usize, views: u32, votes: i32| {
            c[i].views += views;
            c[i].votes += votes;
            w.view(i, views);
            w.vote(i, votes);
        };
        count(&mut w, &mut c, 0, 5, -2); // step 0
        w.advance(hours(1), &mut c);
        count(&mut w, &mut c, 0, 3, 1); // step 1
        count(&mut w, &mut c, 1, 7, -4);
        for h in 2..=STEPS as u64 {
            w.advance(SimTime(hours(h).0 - 1), &mut c);
            assert_eq!((c[0].views, c[0].votes), (8, -1), "still in the window just before hour {h}");
            w.advance(hours(h), &mut c);
        }
        assert_eq!((c[0].views, c[0].votes, c[1].views, c[1].votes), (3, 1, 7, -4), "step 0 left at hour {STEPS}");
        w.advance(hours(STEPS as u64 + 1), &mut c);
        assert_eq!((c[0].views, c[0].votes, c[1].views, c[1].votes), (0, 0, 0, 0), "step 1 left an hour later");
    }

    /// Past views are spread over every step (the remainder in the current one) and leave a
    /// step's share at a time; a gap of many windows empties everything and resumes on the step
    /// under way.
    #[test]
    fn past_views_leave_step_by_step_and_a_long_gap_empties_the_window() {
        let mut w = ScoreWindow::new(SimDuration::from_hours(STEPS as u64), SimTime::ZERO);
        let mut c = clips(2);
        w.add_clip();
        w.add_clip();
        let n = 3 * STEPS as u32 + 5;
        c[1].views = n;
        w.past_views(1, n);
        assert_eq!(w.views[STEPS..].iter().sum::<u32>(), n, "every past view in one of clip 1's steps");
        assert!(w.views[..STEPS].iter().all(|&v| v == 0), "none in clip 0's");
        let mut left = vec![n];
        for h in 1..=STEPS as u64 {
            w.advance(hours(h), &mut c);
            left.push(c[1].views);
        }
        let mut want: Vec<u32> = (0..STEPS as u32).map(|s| n - 3 * s).collect();
        want.push(0);
        assert_eq!(left, want, "3 a step; the 5 over leave with the first step, the last to go");
        let mut c = clips(1);
        c[0].views = 4;
        w.view(0, 4);
        w.advance(hours(1_000) + SimDuration(7), &mut c);
        assert_eq!(c[0].views, 0);
        assert_eq!(w.next_step, hours(1_001), "the next step ends on the hour after");
        w.view(0, 2);
        c[0].views = 2;
        w.advance(hours(1_000 + STEPS as u64 - 1), &mut c);
        assert_eq!(c[0].views, 2, "a view after the gap stays until its step (from hour 1,000) leaves");
        w.advance(hours(1_000 + STEPS as u64), &mut c);
        assert_eq!(c[0].views, 0);
    }
}
