//! What a recorded run handed the engine, in order: the inputs of `clipsim conformance`.

use clipsim_engine::{ClipId, GeoId, Input, SimTime};

/// The most steps a recorded request may take (two bits of answer each in a `u64`).
pub const STEPS_MAX: u8 = 32;

/// The most calls a recording keeps (a few hundred MB of vectors): vectors are for small
/// scenarios, and a recording of a large one stops growing here rather than filling memory.
pub const EVENTS_MAX: usize = 2_000_000;

/// The caller's answer to one step of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Answer {
    /// The attempt failed (`attempt_failed`): the engine picks the next step.
    Failed = 0,
    /// The step served the request (`finish`).
    Served = 1,
    /// The edge held an expired copy (`edge_expired`): it revalidates with an origin.
    Expired = 2,
    /// The edge did not hold the clip (`edge_missed`).
    Missed = 3,
}

impl Answer {
    /// The answer of code `c` (two bits).
    pub fn from_code(c: u64) -> Answer {
        match c & 3 {
            0 => Answer::Failed,
            1 => Answer::Served,
            2 => Answer::Expired,
            _ => Answer::Missed,
        }
    }

    /// Its name in the vectors.
    pub const fn name(self) -> &'static str {
        match self {
            Answer::Failed => "failed",
            Answer::Served => "served",
            Answer::Expired => "expired",
            Answer::Missed => "missed",
        }
    }
}

/// One call into the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `handle_input(t, input)`.
    Input(SimTime, Input),
    /// `handle_timeout(t)`.
    Timeout(SimTime),
    /// A request from `begin_request(t, clip, geo)` to `finish`, with the caller's answers to its
    /// steps (two bits each, the first in the highest pair; see [`Answer`]).
    Request {
        /// When.
        t: SimTime,
        /// Which clip.
        clip: ClipId,
        /// From where.
        geo: GeoId,
        /// The answers.
        answers: u64,
        /// How many.
        steps: u8,
    },
    /// `close_books(t)`.
    CloseBooks(SimTime),
}

/// Every call, in order.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// The calls.
    pub events: Vec<Event>,
    /// Set when a request took more than [`STEPS_MAX`] steps (its answers are not all kept).
    pub overflow: bool,
    /// Set when the run made more than [`EVENTS_MAX`] calls (the later ones are not kept).
    pub truncated: bool,
}

impl Recording {
    /// Records a call, up to [`EVENTS_MAX`].
    pub fn push(&mut self, event: Event) {
        if self.events.len() < EVENTS_MAX {
            self.events.push(event);
        } else {
            self.truncated = true;
        }
    }

    /// Records a request.
    pub fn request(&mut self, t: SimTime, clip: ClipId, geo: GeoId, answers: u64, steps: u8) {
        self.overflow |= steps > STEPS_MAX;
        self.push(Event::Request { t, clip, geo, answers, steps });
    }
}

/// Records into `rec` when there is one (a field of the world, borrowed apart from its engine).
#[inline(always)]
pub fn note(rec: &mut Option<Box<Recording>>, event: impl FnOnce() -> Event) {
    if let Some(r) = rec {
        r.push(event());
    }
}
