//! Admission filters: whether a missed object is cached at all. A cache that admits every miss
//! lets one-hit wonders (objects requested once) push out what is requested again; a filter that
//! admits an object only on its second request keeps them out at the price of one more miss for
//! every object that does come back.
//!
//! [`Admission::SecondHit`] is libCacheSim's `-a bloom-filter` (which, despite its name, keeps
//! an exact set of the ids it has seen, never reset): the first miss of an object records it and
//! is not cached; every later miss is. With a window, the earlier miss must be at most that long
//! ago (a filter that forgets, as a Bloom filter reset every window does, but exact). Keys are
//! the caches' dense ids: the record is a bit per id (no window) or a time per id (a window),
//! grown on demand, so a decision is O(1) and allocates only when a larger id arrives.

use clipsim_engine::{SimDuration, SimTime};

/// Which misses a cache admits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Admission {
    /// Every miss (the default).
    #[default]
    Always,
    /// A miss whose object missed before (within `window`, when there is one).
    SecondHit {
        /// How long ago the earlier miss may be; `None`: any time.
        window: Option<SimDuration>,
    },
}

impl Admission {
    /// Names accepted in scenario files and on the command line.
    pub const NAMES: [&'static str; 2] = ["always", "second-hit"];

    /// The admission of this name (`window` for `second-hit`), or `None`.
    pub fn parse(name: &str, window: Option<SimDuration>) -> Option<Admission> {
        match name.to_ascii_lowercase().replace('_', "-").as_str() {
            "always" | "none" => Some(Admission::Always),
            "second-hit" | "bloom-filter" => Some(Admission::SecondHit { window }),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Admission::Always => "always",
            Admission::SecondHit { .. } => "second-hit",
        }
    }

    /// A filter deciding for one cache, empty.
    pub fn filter(self) -> AdmissionFilter {
        AdmissionFilter { admission: self, seen: Vec::new(), last_miss_us: Vec::new() }
    }
}

/// One cache's admission decisions and what they remember.
#[derive(Clone, Debug)]
pub struct AdmissionFilter {
    admission: Admission,
    /// Without a window: one bit per id, set at its first miss.
    seen: Vec<u64>,
    /// With a window: per id, one plus the time of its last miss in microseconds (0: none).
    last_miss_us: Vec<u64>,
}

impl AdmissionFilter {
    /// Whether to cache `key`, which missed at `now`; records the miss.
    #[inline]
    pub fn admits(&mut self, key: u32, now: SimTime) -> bool {
        match self.admission {
            Admission::Always => true,
            Admission::SecondHit { window: None } => {
                let (word, bit) = (key as usize / 64, 1u64 << (key % 64));
                if word >= self.seen.len() {
                    self.seen.resize(word + 1, 0);
                }
                let seen = self.seen[word] & bit != 0;
                self.seen[word] |= bit;
                seen
            }
            Admission::SecondHit { window: Some(w) } => {
                let k = key as usize;
                if k >= self.last_miss_us.len() {
                    self.last_miss_us.resize(k + 1, 0);
                }
                let last = std::mem::replace(&mut self.last_miss_us[k], now.0 + 1);
                last != 0 && now.0 + 1 - last <= w.as_micros()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime(s * 1_000_000)
    }

    #[test]
    fn always_admits() {
        let mut f = Admission::Always.filter();
        assert!(f.admits(3, at(0)) && f.admits(3, at(0)));
    }

    #[test]
    fn second_hit_admits_from_the_second_miss_on() {
        let mut f = Admission::SecondHit { window: None }.filter();
        assert!(!f.admits(70, at(0)));
        assert!(!f.admits(5, at(1)));
        assert!(f.admits(70, at(1_000_000)));
        assert!(f.admits(70, at(1_000_001)));
        assert!(f.admits(5, at(2)));
        assert!(!f.admits(6, at(3)), "a neighbour's bit is its own");
    }

    #[test]
    fn a_window_forgets_older_misses() {
        let mut f = Admission::SecondHit { window: Some(SimDuration::from_secs(10)) }.filter();
        assert!(!f.admits(1, at(0)));
        assert!(f.admits(1, at(10)), "exactly the window");
        assert!(!f.admits(1, at(21)), "11 s after the last miss");
        assert!(f.admits(1, at(25)));
        assert!(!f.admits(2, at(0)));
    }

    #[test]
    fn names() {
        for n in Admission::NAMES {
            assert_eq!(Admission::parse(n, None).map(Admission::name), Some(n));
        }
        assert_eq!(Admission::parse("Bloom_Filter", None), Some(Admission::SecondHit { window: None }));
        assert_eq!(Admission::parse("tinylfu", None), None);
    }
}
