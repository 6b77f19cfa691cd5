//! W-TinyLFU (Einziger, Friedman and Manes, ACM ToS 2017), as libCacheSim's default
//! `WTinyLFU-w0.01-SLRU` runs it: a small LRU *window* in front of a main SLRU cache, and a
//! frequency table that decides which of the window's and the main cache's victims stays.
//!
//! - **Sizes.** The window is 1 % of the bytes; the main cache the rest, split into a probation
//!   segment (a fifth) and a protected one (four fifths). An object larger than the window (or
//!   than probation) is never cached. The window's share bounds what enters, not what it holds:
//!   only the whole cache's capacity is enforced, as in libCacheSim.
//! - **Requests.** A hit in the window moves the object to the window's front (and counts nothing
//!   as a frequency). A hit in the main cache counts one; in probation it moves the
//!   object to protected, whose overflow goes back to probation's front, whose overflow leaves. A
//!   miss makes room, enters the window's front and counts one.
//! - **Making room** takes the window's least recent object: if the main cache has room for it,
//!   it moves there; otherwise it moves there only if it was counted strictly more often
//!   than the main cache's victim (probation's least recent, or protected's when probation is
//!   empty), which then leaves; either way it counts one. The first window object that loses is
//!   dropped and ends the round; a round that finds the window empty evicts the main victim.
//! - **Entering the main cache** puts an object in the first segment with room for it
//!   (probation, else protected); with none, main victims leave until it fits in probation.
//! - **The frequencies** count main-cache hits and insertions (not window hits): exactly, one
//!   count per object. libCacheSim's sketch (10 probes into a counter per byte of the main cache)
//!   is so wide that it is exact too on the traces measured; a count-min sketch of 4 rows of 2^20
//!   counters, tried first, was not on 10 M requests over 962 k objects (a miss ratio 0.017 below
//!   libCacheSim's). Counts are halved after 32 main-cache hits per byte of the main cache,
//!   libCacheSim's aging period, which in practice never comes. The memory is that of an id
//!   index: 4 bytes per distinct id below 2^22, a hash table above.

use super::index::SlotIndex;
use super::list::ListCache;
use super::{EdgeCache, Lookup, Policy, NONE};
use clipsim_engine::SimTime;

/// The window's share of the bytes.
pub const WINDOW_SHARE: f64 = 0.01;
/// Probation's share of the main cache's bytes (protected has the rest).
pub const PROBATION_SHARE: f64 = 0.2;

/// Bits of a count in the table's entries (the top 8 hold the epoch it was counted in).
const COUNT_BITS: u32 = 24;
/// The largest count (one below the all-ones entry, the index's "absent").
const COUNT_MAX: u32 = (1 << COUNT_BITS) - 2;

/// How often each object was counted: an exact count per key, in the same key -> u32 index as
/// the caches' (an array for dense keys, a hash table for sparse ones). A count is halved once
/// per aging period: lazily, by the number of periods since it was last written (its entry keeps
/// the period's number, modulo 256), so aging costs nothing per key.
#[derive(Clone, Debug)]
pub struct FrequencyTable {
    counts: SlotIndex,
    /// Aging periods so far, modulo 256.
    epoch: u32,
    /// Samples counted toward the next halving, and the period.
    samples: u64,
    period: u64,
}

impl FrequencyTable {
    /// An empty table, halved every `period` counted samples.
    pub fn new(period: u64) -> Self {
        FrequencyTable { counts: SlotIndex::default(), epoch: 0, samples: 0, period }
    }

    /// How often `key` was counted, halved once per aging period since.
    #[inline]
    pub fn estimate(&self, key: u32) -> u32 {
        let v = self.counts.get(key);
        if v == NONE {
            return 0;
        }
        let age = self.epoch.wrapping_sub(v >> COUNT_BITS) & 0xFF;
        if age >= COUNT_BITS {
            0
        } else {
            (v & ((1 << COUNT_BITS) - 1)) >> age
        }
    }

    /// Counts `key` once.
    #[inline]
    pub fn add(&mut self, key: u32) {
        let count = (self.estimate(key) + 1).min(COUNT_MAX);
        self.counts.set(key, self.epoch << COUNT_BITS | count);
    }

    /// Counts one sample toward the aging period; at its end, every count is halved.
    #[inline]
    fn sample(&mut self) {
        self.samples += 1;
        if self.samples >= self.period {
            self.samples = 0;
            self.epoch = (self.epoch + 1) & 0xFF;
        }
    }
}

/// A W-TinyLFU cache.
#[derive(Clone, Debug)]
pub struct WTinyLfuCache {
    capacity_bytes: u64,
    window_bytes: u64,
    main_bytes: u64,
    probation_bytes: u64,
    protected_bytes: u64,
    /// LRU lists without capacities of their own (this cache keeps the books).
    window: ListCache,
    probation: ListCache,
    protected: ListCache,
    frequencies: FrequencyTable,
}

impl WTinyLfuCache {
    /// An empty cache of `capacity_bytes`.
    pub fn new(capacity_bytes: u64) -> Self {
        // Truncated as libCacheSim's integer-times-double products are.
        let window_bytes = (capacity_bytes as f64 * WINDOW_SHARE) as u64;
        let main_bytes = capacity_bytes - window_bytes;
        let list = || ListCache::new(Policy::Lru, u64::MAX);
        WTinyLfuCache {
            capacity_bytes,
            window_bytes,
            main_bytes,
            probation_bytes: (main_bytes as f64 * PROBATION_SHARE) as u64,
            protected_bytes: (main_bytes as f64 * (1.0 - PROBATION_SHARE)) as u64,
            window: list(),
            probation: list(),
            protected: list(),
            frequencies: FrequencyTable::new(main_bytes.saturating_mul(32)),
        }
    }

    /// The counted frequency of `key`'s frequency.
    pub fn frequency(&self, key: u32) -> u32 {
        self.frequencies.estimate(key)
    }

    fn main_used(&self) -> u64 {
        self.probation.used_bytes() + self.protected.used_bytes()
    }

    /// The main cache's next victim: probation's least recent, else protected's.
    fn main_victim(&self) -> Option<(u32, u64)> {
        self.probation.tail().or_else(|| self.protected.tail())
    }

    fn evict_main(&mut self) -> bool {
        self.probation.pop_victim().or_else(|| self.protected.pop_victim()).is_some()
    }

    /// Moves the window's `key` into the main cache: the first segment with room, else
    /// probation after main victims make room.
    fn admit_to_main(&mut self, key: u32, size_bytes: u64) {
        if self.probation.used_bytes() + size_bytes <= self.probation_bytes {
            self.window.move_to(key, &mut self.probation);
        } else if self.protected.used_bytes() + size_bytes <= self.protected_bytes {
            self.window.move_to(key, &mut self.protected);
        } else {
            while self.main_used() + size_bytes > self.main_bytes && self.evict_main() {}
            self.window.move_to(key, &mut self.probation);
        }
    }

    /// One round of making room (see the module's docs); whether anything left or moved.
    fn evict(&mut self) -> bool {
        loop {
            let Some((key, size)) = self.window.tail() else {
                return self.evict_main();
            };
            let mut done = false;
            if self.main_used() + size <= self.main_bytes {
                self.admit_to_main(key, size);
            } else {
                let (victim, _) = self.main_victim().expect("a main cache without room holds something");
                if self.frequencies.estimate(key) > self.frequencies.estimate(victim) {
                    self.evict_main();
                    self.admit_to_main(key, size);
                } else {
                    self.window.take(key);
                    done = true;
                }
            }
            self.frequencies.add(key);
            if done {
                return true;
            }
        }
    }

    /// A hit in the main cache: counted, and aged.
    fn main_hit(&mut self, key: u32) {
        self.frequencies.add(key);
        self.frequencies.sample();
    }
}

impl EdgeCache for WTinyLfuCache {
    fn lookup(&mut self, key: u32, now: SimTime) -> Lookup {
        match self.window.lookup(key, now) {
            Lookup::Miss => {}
            found => return found,
        }
        match self.protected.lookup(key, now) {
            Lookup::Hit => {
                self.main_hit(key);
                return Lookup::Hit;
            }
            Lookup::Expired => return Lookup::Expired,
            Lookup::Miss => {}
        }
        match self.probation.lookup(key, now) {
            Lookup::Hit => {
                // Seen again in probation: protected, whose overflow goes back to probation.
                self.probation.move_to(key, &mut self.protected);
                while self.protected.used_bytes() > self.protected_bytes {
                    let Some((k, _)) = self.protected.tail() else { break };
                    self.protected.move_to(k, &mut self.probation);
                    while self.probation.used_bytes() > self.probation_bytes && self.evict_main() {}
                }
                self.main_hit(key);
                Lookup::Hit
            }
            found => found,
        }
    }

    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool {
        if size_bytes > self.window_bytes || size_bytes > self.probation_bytes {
            return false;
        }
        self.remove(key);
        while self.window.used_bytes() + self.main_used() + size_bytes > self.capacity_bytes {
            if !self.evict() {
                break;
            }
        }
        self.window.insert(key, size_bytes, expires_at);
        self.frequencies.add(key);
        true
    }

    fn remove(&mut self, key: u32) {
        self.window.take(key);
        self.probation.take(key);
        self.protected.take(key);
    }

    fn used_bytes(&self) -> u64 {
        self.window.used_bytes() + self.main_used()
    }

    fn len(&self) -> usize {
        self.window.len() + self.probation.len() + self.protected.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: SimTime = SimTime::ZERO;

    #[test]
    fn counts_and_halves() {
        let mut s = FrequencyTable::new(4);
        for _ in 0..6 {
            s.add(7);
        }
        s.add(8);
        assert_eq!((s.estimate(7), s.estimate(8), s.estimate(9)), (6, 1, 0));
        for _ in 0..3 {
            s.sample();
        }
        assert_eq!(s.estimate(7), 6, "not yet");
        s.sample();
        assert_eq!((s.estimate(7), s.estimate(8)), (3, 0));
    }

    /// Sparse keys count like dense ones; a count ages by halves, one per period passed.
    #[test]
    fn counts_are_exact_and_age_lazily() {
        let mut s = FrequencyTable::new(2);
        for k in [3, 3_000_000_000u32] {
            for _ in 0..40 {
                s.add(k);
            }
        }
        assert_eq!((s.estimate(3), s.estimate(3_000_000_000), s.estimate(4)), (40, 40, 0));
        for _ in 0..4 {
            s.sample();
        }
        assert_eq!(s.estimate(3), 10, "two periods: a quarter");
        s.add(3);
        assert_eq!(s.estimate(3), 11);
        for _ in 0..2 * 30 {
            s.sample();
        }
        assert_eq!((s.estimate(3), s.estimate(3_000_000_000)), (0, 0), "halved away");
    }

    /// 10,000 bytes: window 100, probation 1,980, protected 7,920. Objects of 100 bytes fill the
    /// window then the main cache; once full, a window object enters the main cache only when
    /// counted more often than the main victim.
    #[test]
    fn the_frequent_stay_and_the_one_hit_wonders_go() {
        let mut c = WTinyLfuCache::new(10_000);
        assert_eq!((c.window_bytes, c.probation_bytes, c.protected_bytes), (100, 1_980, 7_920));
        assert!(!c.insert(1, 101, SimTime::NEVER), "larger than the window");
        // 100 objects requested twice each fill the cache (the second request is a hit).
        for k in 0..100 {
            assert!(!c.get(k, T));
            c.insert(k, 100, SimTime::NEVER);
            assert!(c.get(k, T));
        }
        assert_eq!(c.used_bytes(), 10_000);
        // A stream of one-hit wonders: each is counted once, never more than the victims (counted
        // at least twice), so none enters the main cache and the first 99 objects stay.
        for k in 1_000..1_200 {
            assert!(!c.get(k, T));
            c.insert(k, 100, SimTime::NEVER);
            assert!(c.used_bytes() <= 10_000);
        }
        let kept = (0..100).filter(|&k| c.probation.size_of(k).is_some() || c.protected.size_of(k).is_some()).count();
        assert_eq!(kept, 99, "one main slot went to the window's share");
        // An object requested often enough in the window wins against the main victim.
        for _ in 0..5 {
            c.frequencies.add(5_000);
        }
        assert!(!c.get(5_000, T));
        c.insert(5_000, 100, SimTime::NEVER);
        assert!(!c.get(6_000, T));
        c.insert(6_000, 100, SimTime::NEVER);
        assert!(c.probation.size_of(5_000).is_some() || c.protected.size_of(5_000).is_some());
    }
}
