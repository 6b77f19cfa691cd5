//! S3-FIFO (Yang et al., SOSP 2023): a small FIFO queue for new objects, a main FIFO queue with
//! a 2-bit frequency (CLOCK-like reinsertion), and a ghost FIFO of keys recently evicted from the
//! small queue.
//!
//! Sized and ordered as libCacheSim's `S3FIFO` does it (the peer simulator the tests compare
//! with):
//! * the small queue holds 10 % of the bytes (`capacity / 10`), the main queue the rest; the
//!   ghost queue remembers keys whose sizes add up to 90 % of the capacity;
//! * a lookup hit adds one to the object's frequency (capped at 3);
//! * a miss whose key is in the ghost queue removes it there and the object is inserted at the
//!   head of the main queue; any other miss inserts at the head of the small queue (an object at
//!   least as large as the small queue is then not admitted);
//! * to make room: if the main queue holds more than its share or the small queue is empty, the
//!   main queue evicts: its tail goes back to the head with frequency `min(f, 3) - 1` while its
//!   frequency is positive, else it leaves. Otherwise the small queue evicts: a tail seen at
//!   least twice (frequency >= 2) moves to the main queue keeping its frequency; the first tail
//!   with a lower frequency leaves and its key enters the ghost queue.
//!
//! Every step is O(1) amortised (each reinsertion lowers a frequency) and allocation-free once
//! the slabs have grown to their high-water marks.

use super::index::SlotIndex;
use super::links::{impl_link, Ends, Slab};
use super::{EdgeCache, Lookup, NONE};
use clipsim_engine::SimTime;

/// Frequency needed to move from the small to the main queue.
pub const MOVE_TO_MAIN: u8 = 2;
/// Frequency cap.
pub const FREQ_MAX: u8 = 3;

#[derive(Clone, Copy, Debug)]
struct Node {
    key: u32,
    prev: u32,
    next: u32,
    freq: u8,
    in_main: bool,
    size_bytes: u64,
    expires_at: SimTime,
}

impl_link!(Node);

#[derive(Clone, Copy, Debug)]
struct Ghost {
    key: u32,
    prev: u32,
    next: u32,
    size_bytes: u64,
}

impl_link!(Ghost);

/// An S3-FIFO cache.
#[derive(Clone, Debug)]
pub struct S3FifoCache {
    capacity_bytes: u64,
    small_capacity: u64,
    main_capacity: u64,
    ghost_capacity: u64,
    small_used: u64,
    main_used: u64,
    ghost_used: u64,
    len: usize,
    slot: SlotIndex,
    nodes: Slab<Node>,
    small: Ends,
    main: Ends,
    ghost_slot: SlotIndex,
    ghosts: Slab<Ghost>,
    ghost: Ends,
    /// The key whose last lookup found it in the ghost queue (inserted into main next).
    ghost_hit: u32,
}

impl S3FifoCache {
    /// An empty cache of `capacity_bytes`.
    pub fn new(capacity_bytes: u64) -> Self {
        let small_capacity = capacity_bytes / 10;
        S3FifoCache {
            capacity_bytes,
            small_capacity,
            main_capacity: capacity_bytes - small_capacity,
            ghost_capacity: (u128::from(capacity_bytes) * 9 / 10) as u64,
            small_used: 0,
            main_used: 0,
            ghost_used: 0,
            len: 0,
            slot: SlotIndex::default(),
            nodes: Slab::new(),
            small: Ends::EMPTY,
            main: Ends::EMPTY,
            ghost_slot: SlotIndex::default(),
            ghosts: Slab::new(),
            ghost: Ends::EMPTY,
            ghost_hit: NONE,
        }
    }

    /// Bytes in the small queue.
    pub fn small_bytes(&self) -> u64 {
        self.small_used
    }

    /// Bytes in the main queue.
    pub fn main_bytes(&self) -> u64 {
        self.main_used
    }

    /// Bytes the ghost queue remembers.
    pub fn ghost_bytes(&self) -> u64 {
        self.ghost_used
    }

    fn drop_node(&mut self, i: u32) {
        let n = self.nodes.nodes[i as usize];
        if n.in_main {
            self.main.unlink(&mut self.nodes.nodes, i);
            self.main_used -= n.size_bytes;
        } else {
            self.small.unlink(&mut self.nodes.nodes, i);
            self.small_used -= n.size_bytes;
        }
        self.slot.clear(n.key);
        self.nodes.release(i);
        self.len -= 1;
    }

    fn ghost_remove(&mut self, key: u32) -> bool {
        let g = self.ghost_slot.get(key);
        if g == NONE {
            return false;
        }
        self.ghost.unlink(&mut self.ghosts.nodes, g);
        self.ghost_used -= self.ghosts.nodes[g as usize].size_bytes;
        self.ghost_slot.clear(key);
        self.ghosts.release(g);
        true
    }

    fn ghost_insert(&mut self, key: u32, size_bytes: u64) {
        if size_bytes > self.ghost_capacity || self.ghost_slot.get(key) != NONE {
            return;
        }
        while self.ghost_used + size_bytes > self.ghost_capacity {
            let t = self.ghost.tail;
            let k = self.ghosts.nodes[t as usize].key;
            self.ghost_remove(k);
        }
        let g = self.ghosts.alloc(Ghost { key, prev: NONE, next: NONE, size_bytes });
        self.ghost.push_head(&mut self.ghosts.nodes, g);
        self.ghost_slot.set(key, g);
        self.ghost_used += size_bytes;
    }

    /// Evicts from the small queue: promotes frequent tails to main, evicts the first other one.
    fn evict_small(&mut self) {
        while !self.small.is_empty() {
            let t = self.small.tail;
            let n = self.nodes.nodes[t as usize];
            self.small.unlink(&mut self.nodes.nodes, t);
            self.small_used -= n.size_bytes;
            if n.freq >= MOVE_TO_MAIN {
                self.nodes.nodes[t as usize].in_main = true;
                self.main.push_head(&mut self.nodes.nodes, t);
                self.main_used += n.size_bytes;
            } else {
                self.slot.clear(n.key);
                self.nodes.release(t);
                self.len -= 1;
                self.ghost_insert(n.key, n.size_bytes);
                return;
            }
        }
    }

    /// Evicts from the main queue: reinserts tails with a positive frequency (one less), evicts
    /// the first tail with none.
    fn evict_main(&mut self) {
        while !self.main.is_empty() {
            let t = self.main.tail;
            let freq = self.nodes.nodes[t as usize].freq;
            if freq >= 1 {
                self.nodes.nodes[t as usize].freq = freq.min(FREQ_MAX) - 1;
                self.main.move_to_head(&mut self.nodes.nodes, t);
            } else {
                self.drop_node(t);
                return;
            }
        }
    }

    fn evict(&mut self) {
        if self.main_used > self.main_capacity || self.small.is_empty() {
            self.evict_main();
        } else {
            self.evict_small();
        }
    }
}

impl EdgeCache for S3FifoCache {
    #[inline]
    fn lookup(&mut self, key: u32, now: SimTime) -> Lookup {
        self.ghost_hit = NONE;
        let i = self.slot.get(key);
        if i == NONE {
            if self.ghost_remove(key) {
                self.ghost_hit = key;
            }
            return Lookup::Miss;
        }
        let n = &mut self.nodes.nodes[i as usize];
        if n.expires_at <= now {
            self.drop_node(i);
            return Lookup::Expired;
        }
        n.freq = (n.freq + 1).min(FREQ_MAX);
        Lookup::Hit
    }

    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool {
        let to_main = self.ghost_hit == key;
        self.ghost_hit = NONE;
        if size_bytes > self.capacity_bytes || (!to_main && size_bytes >= self.small_capacity) {
            return false;
        }
        let existing = self.slot.get(key);
        if existing != NONE {
            self.drop_node(existing);
        }
        while self.small_used + self.main_used + size_bytes > self.capacity_bytes {
            self.evict();
        }
        let i =
            self.nodes.alloc(Node { key, prev: NONE, next: NONE, freq: 0, in_main: to_main, size_bytes, expires_at });
        if to_main {
            self.main.push_head(&mut self.nodes.nodes, i);
            self.main_used += size_bytes;
        } else {
            self.small.push_head(&mut self.nodes.nodes, i);
            self.small_used += size_bytes;
        }
        self.slot.set(key, i);
        self.len += 1;
        true
    }

    fn remove(&mut self, key: u32) {
        let i = self.slot.get(key);
        if i != NONE {
            self.drop_node(i);
        }
    }

    fn used_bytes(&self) -> u64 {
        self.small_used + self.main_used
    }

    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: SimTime = SimTime(0);
    const NEVER: SimTime = SimTime::NEVER;

    #[test]
    fn new_objects_enter_the_small_queue_and_one_hit_wonders_leave_to_the_ghost() {
        // 100 bytes: small 10, main 90, ghost 90.
        let mut c = S3FifoCache::new(100);
        assert!(!c.get(1, T0));
        assert!(c.insert(1, 5, NEVER));
        assert!(!c.get(2, T0));
        assert!(c.insert(2, 5, NEVER));
        assert_eq!((c.small_bytes(), c.main_bytes()), (10, 0));
        // Filling: the small queue is over its share only relative to the total, so nothing
        // leaves until the whole cache is full.
        for k in 3..=20 {
            assert!(!c.get(k, T0));
            assert!(c.insert(k, 5, NEVER));
        }
        assert_eq!(c.used_bytes(), 100);
        // One more: main is not over its share and small is non-empty: small evicts its tail (1).
        assert!(!c.get(21, T0));
        assert!(c.insert(21, 5, NEVER));
        assert!(c.ghost_bytes() == 5);
        // 1 comes back from the ghost into main; making room sends 2 to the ghost.
        assert!(!c.get(1, T0));
        assert!(c.insert(1, 5, NEVER));
        assert_eq!((c.ghost_bytes(), c.main_bytes(), c.small_bytes()), (5, 5, 95));
        assert!(c.get(1, T0) && !c.get(2, T0));
    }

    #[test]
    fn objects_hit_twice_move_to_main() {
        let mut c = S3FifoCache::new(100);
        for k in 0..20 {
            c.get(k, T0);
            c.insert(k, 5, NEVER);
        }
        assert!(c.get(0, T0) && c.get(0, T0)); // freq 2
        c.get(20, T0);
        c.insert(20, 5, NEVER); // small evicts: 0 moves to main, 1 leaves
        assert!(c.get(0, T0));
        assert!(!c.get(1, T0));
        assert_eq!(c.main_bytes(), 5);
    }

    #[test]
    fn large_objects_are_not_admitted() {
        let mut c = S3FifoCache::new(100);
        assert!(!c.insert(1, 101, NEVER));
        assert!(!c.insert(2, 10, NEVER)); // as large as the small queue
        assert!(c.insert(3, 9, NEVER));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn expiry_and_remove() {
        let mut c = S3FifoCache::new(100);
        c.insert(1, 5, SimTime(10));
        assert!(c.get(1, SimTime(9)));
        assert!(!c.get(1, SimTime(10)));
        assert!(c.is_empty());
        c.insert(2, 5, NEVER);
        c.remove(2);
        assert_eq!(c.used_bytes(), 0);
    }
}
