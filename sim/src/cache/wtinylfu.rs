//! W-TinyLFU (Einziger, Friedman and Manes, ACM ToS 2017), as libCacheSim's default
//! `WTinyLFU-w0.01-SLRU` runs it: a small LRU *window* in front of a main SLRU cache, and a
//! frequency sketch that decides which of the window's and the main cache's victims stays.
//!
//! - **Sizes.** The window is 1 % of the bytes; the main cache the rest, split into a probation
//!   segment (a fifth) and a protected one (four fifths). An object larger than the window (or
//!   than probation) is never cached. The window's share bounds what enters, not what it holds:
//!   only the whole cache's capacity is enforced, as in libCacheSim.
//! - **Requests.** A hit in the window moves the object to the window's front (and counts nothing
//!   in the sketch). A hit in the main cache counts one in the sketch; in probation it moves the
//!   object to protected, whose overflow goes back to probation's front, whose overflow leaves. A
//!   miss makes room, enters the window's front and counts one.
//! - **Making room** takes the window's least recent object: if the main cache has room for it,
//!   it moves there; otherwise it moves there only if the sketch counts it strictly more often
//!   than the main cache's victim (probation's least recent, or protected's when probation is
//!   empty), which then leaves; either way it counts one. The first window object that loses is
//!   dropped and ends the round; a round that finds the window empty evicts the main victim.
//! - **Entering the main cache** puts an object in the first segment with room for it
//!   (probation, else protected); with none, main victims leave until it fits in probation.
//! - **The sketch** is a count-min sketch of 4 rows of 2^20 32-bit counters (an add increments
//!   all four, an estimate is their minimum): wide enough that, like libCacheSim's (10 probes
//!   into one counter per byte of the main cache), it rarely confuses two objects. Its counters
//!   are halved after 32 main-cache hits per byte of the main cache, libCacheSim's aging period,
//!   which in practice never comes. It takes 16 MiB of address space, touched as used.

use super::list::ListCache;
use super::{EdgeCache, Lookup, Policy};
use clipsim_engine::SimTime;

/// The window's share of the bytes.
pub const WINDOW_SHARE: f64 = 0.01;
/// Probation's share of the main cache's bytes (protected has the rest).
pub const PROBATION_SHARE: f64 = 0.2;

/// Counters per row of the sketch (a power of two).
const SKETCH_WIDTH_BITS: u32 = 20;
/// Rows of the sketch.
const SKETCH_ROWS: usize = 4;
/// Odd multipliers, one per row (the rows' hashes).
const ROW_SEEDS: [u64; SKETCH_ROWS] =
    [0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0xD6E8_FEB8_6659_FD93];

/// A count-min sketch of object frequencies.
#[derive(Clone, Debug)]
pub struct FrequencySketch {
    counters: Vec<u32>,
    /// Adds counted toward the next halving, and the period.
    samples: u64,
    period: u64,
}

impl FrequencySketch {
    /// An empty sketch, halved every `period` counted samples.
    pub fn new(period: u64) -> Self {
        FrequencySketch { counters: vec![0; SKETCH_ROWS << SKETCH_WIDTH_BITS], samples: 0, period }
    }

    #[inline]
    fn index(row: usize, key: u32) -> usize {
        let mut h = (u64::from(key) ^ (row as u64) << 32).wrapping_mul(ROW_SEEDS[row]);
        h ^= h >> 29;
        h = h.wrapping_mul(ROW_SEEDS[(row + 1) % SKETCH_ROWS]);
        (row << SKETCH_WIDTH_BITS) | (h >> (64 - SKETCH_WIDTH_BITS)) as usize
    }

    /// How often `key` was counted (at least; an overestimate when it shares all its counters).
    #[inline]
    pub fn estimate(&self, key: u32) -> u32 {
        (0..SKETCH_ROWS).map(|r| self.counters[Self::index(r, key)]).min().unwrap_or(0)
    }

    /// Counts `key` once.
    #[inline]
    pub fn add(&mut self, key: u32) {
        for r in 0..SKETCH_ROWS {
            let c = &mut self.counters[Self::index(r, key)];
            *c = c.saturating_add(1);
        }
    }

    /// Counts one sample toward the aging period; at its end, halves every counter.
    #[inline]
    fn sample(&mut self) {
        self.samples += 1;
        if self.samples >= self.period {
            self.samples = 0;
            self.counters.iter_mut().for_each(|c| *c >>= 1);
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
    sketch: FrequencySketch,
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
            sketch: FrequencySketch::new(main_bytes.saturating_mul(32)),
        }
    }

    /// The sketch's estimate of `key`'s frequency.
    pub fn frequency(&self, key: u32) -> u32 {
        self.sketch.estimate(key)
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
                if self.sketch.estimate(key) > self.sketch.estimate(victim) {
                    self.evict_main();
                    self.admit_to_main(key, size);
                } else {
                    self.window.take(key);
                    done = true;
                }
            }
            self.sketch.add(key);
            if done {
                return true;
            }
        }
    }

    /// A hit in the main cache: counted, and aged.
    fn main_hit(&mut self, key: u32) {
        self.sketch.add(key);
        self.sketch.sample();
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
        self.sketch.add(key);
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
    fn sketch_counts_and_halves() {
        let mut s = FrequencySketch::new(4);
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

    /// The rows hash a key to different counters, and 1,000 keys rarely share all of theirs.
    #[test]
    fn sketch_rows_spread_keys() {
        let mut s = FrequencySketch::new(u64::MAX);
        for k in 0..1_000u32 {
            for _ in 0..=k % 3 {
                s.add(k * 7_919);
            }
        }
        let exact = (0..1_000u32).filter(|&k| s.estimate(k * 7_919) == k % 3 + 1).count();
        assert_eq!(exact, 1_000);
        let rows: Vec<usize> = (0..SKETCH_ROWS).map(|r| FrequencySketch::index(r, 5) & ((1 << 20) - 1)).collect();
        assert!(rows.windows(2).all(|w| w[0] != w[1]), "{rows:?}");
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
            c.sketch.add(5_000);
        }
        assert!(!c.get(5_000, T));
        c.insert(5_000, 100, SimTime::NEVER);
        assert!(!c.get(6_000, T));
        c.insert(6_000, 100, SimTime::NEVER);
        assert!(c.probation.size_of(5_000).is_some() || c.protected.size_of(5_000).is_some());
    }
}
