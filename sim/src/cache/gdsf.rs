//! GDSF, Greedy-Dual-Size-Frequency (Cherkasova, 1998), as libCacheSim's `GDSF` runs it: each
//! object has a priority `L + frequency * 10^6 / size` (in `f64`), where `L`, the inflation
//! value, is the priority of the last object evicted (0 at first). A new object has frequency 1;
//! a hit adds one and recomputes its priority with the current `L`. The victim is the object of
//! the lowest priority; among equal priorities, the one whose priority was set longest ago (by
//! request count). Small, popular objects stay; large or cold ones go, and `L` ages everything
//! that is not requested again.
//!
//! A min-heap of `(priority, request, key)` with lazy deletion: a hit pushes the object's new
//! entry and leaves the old one, which is skipped when popped (it no longer matches the
//! object's). The heap is compacted when stale entries outnumber live ones, so its memory stays
//! proportional to the objects cached, not to the requests seen. Lookups are O(1) plus the heap
//! push, O(log n).

use super::index::SlotIndex;
use super::links::Slab;
use super::{EdgeCache, Lookup, NONE};
use clipsim_engine::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The frequency-to-size scale of the priority (libCacheSim's constant).
pub const SCALE: f64 = 1.0e6;

#[derive(Clone, Copy, Debug)]
struct Entry {
    size_bytes: u64,
    frequency: u64,
    /// `f64::to_bits` of the priority (non-negative, so the bits order as the numbers do).
    priority_bits: u64,
    /// The request at which the priority was set.
    request: u64,
    expires_at: SimTime,
}

/// A GDSF cache.
#[derive(Clone, Debug)]
pub struct GdsfCache {
    capacity_bytes: u64,
    used_bytes: u64,
    len: usize,
    /// `L`: the priority of the last object evicted.
    inflation: f64,
    /// Lookups so far (the current request's number, from 1).
    requests: u64,
    slot: SlotIndex,
    entries: Slab<Entry>,
    /// `(priority bits, request, key)`, smallest first; stale entries are skipped.
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
}

impl GdsfCache {
    /// An empty cache of `capacity_bytes`.
    pub fn new(capacity_bytes: u64) -> Self {
        GdsfCache {
            capacity_bytes,
            used_bytes: 0,
            len: 0,
            inflation: 0.0,
            requests: 0,
            slot: SlotIndex::default(),
            entries: Slab::new(),
            heap: BinaryHeap::new(),
        }
    }

    /// The priority of a cached key.
    pub fn priority(&self, key: u32) -> Option<f64> {
        let i = self.slot.get(key);
        (i != NONE).then(|| f64::from_bits(self.entries.nodes[i as usize].priority_bits))
    }

    /// `L`, the priority of the last object evicted.
    pub fn inflation(&self) -> f64 {
        self.inflation
    }

    fn priority_of(&self, frequency: u64, size_bytes: u64) -> f64 {
        self.inflation + frequency as f64 * SCALE / size_bytes as f64
    }

    /// Sets slot `i`'s priority from its frequency, now, and pushes its heap entry.
    fn queue(&mut self, key: u32, i: u32) {
        let e = self.entries.nodes[i as usize];
        let p = self.priority_of(e.frequency, e.size_bytes);
        let e = &mut self.entries.nodes[i as usize];
        e.priority_bits = p.to_bits();
        e.request = self.requests;
        self.heap.push(Reverse((e.priority_bits, e.request, key)));
        if self.heap.len() > 2 * self.len + 64 {
            self.compact();
        }
    }

    fn is_current(&self, (bits, request, key): (u64, u64, u32)) -> bool {
        let i = self.slot.get(key);
        i != NONE && {
            let e = &self.entries.nodes[i as usize];
            e.priority_bits == bits && e.request == request
        }
    }

    /// Drops the stale heap entries (their order is total, so this changes no eviction).
    #[cold]
    fn compact(&mut self) {
        let mut heap = std::mem::take(&mut self.heap);
        heap.retain(|&Reverse(e)| self.is_current(e));
        self.heap = heap;
    }

    /// Evicts the object of the lowest priority and raises `L` to it.
    fn evict_one(&mut self) -> bool {
        while let Some(Reverse(e)) = self.heap.pop() {
            if self.is_current(e) {
                self.inflation = f64::from_bits(e.0);
                self.remove(e.2);
                return true;
            }
        }
        false
    }
}

impl EdgeCache for GdsfCache {
    fn lookup(&mut self, key: u32, now: SimTime) -> Lookup {
        self.requests += 1;
        let i = self.slot.get(key);
        if i == NONE {
            return Lookup::Miss;
        }
        if self.entries.nodes[i as usize].expires_at <= now {
            self.remove(key);
            return Lookup::Expired;
        }
        self.entries.nodes[i as usize].frequency += 1;
        self.queue(key, i);
        Lookup::Hit
    }

    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool {
        if size_bytes > self.capacity_bytes {
            return false;
        }
        self.remove(key);
        while self.used_bytes + size_bytes > self.capacity_bytes {
            if !self.evict_one() {
                break;
            }
        }
        let i = self.entries.alloc(Entry { size_bytes, frequency: 1, priority_bits: 0, request: 0, expires_at });
        self.slot.set(key, i);
        self.used_bytes += size_bytes;
        self.len += 1;
        self.queue(key, i);
        true
    }

    fn remove(&mut self, key: u32) {
        let i = self.slot.get(key);
        if i != NONE {
            // Its heap entries go stale: skipped when popped, the key having no slot.
            self.slot.clear(key);
            self.used_bytes -= self.entries.nodes[i as usize].size_bytes;
            self.len -= 1;
            self.entries.release(i);
        }
    }

    fn used_bytes(&self) -> u64 {
        self.used_bytes
    }

    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn prefetch_index(&self, key: u32) {
        self.slot.prefetch(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 100 bytes: a (10 B) requested three times, b (50 B) once, c (40 B) once, then d (20 B)
    /// needs room. Priorities: a 3e6/10 = 300,000, b 1e6/50 = 20,000, c 1e6/40 = 25,000: b goes
    /// and L becomes 20,000, so d enters at 20,000 + 1e6/20 = 70,000.
    #[test]
    fn evicts_the_lowest_frequency_per_byte_and_inflates() {
        let mut c = GdsfCache::new(100);
        let t = SimTime::ZERO;
        for (k, s) in [(0, 10), (1, 50), (2, 40)] {
            assert!(!c.get(k, t));
            c.insert(k, s, SimTime::NEVER);
        }
        assert!(c.get(0, t) && c.get(0, t));
        assert_eq!(c.priority(0), Some(300_000.0));
        assert!(!c.get(3, t));
        c.insert(3, 20, SimTime::NEVER);
        assert_eq!(c.inflation(), 20_000.0);
        assert_eq!((c.priority(1), c.priority(3)), (None, Some(70_000.0)));
        assert_eq!(c.used_bytes(), 70);
        // A hit recomputes with the current L: c, frequency 2, counts from it.
        assert!(c.get(2, t));
        assert_eq!(c.priority(2), Some(20_000.0 + 2.0 * 1e6 / 40.0));
    }

    /// Equal priorities: the one set longest ago goes first.
    #[test]
    fn ties_go_to_the_oldest() {
        let mut c = GdsfCache::new(30);
        for k in 0..3 {
            c.get(k, SimTime::ZERO);
            c.insert(k, 10, SimTime::NEVER);
        }
        c.get(3, SimTime::ZERO);
        c.insert(3, 10, SimTime::NEVER);
        assert_eq!(c.priority(0), None);
        assert!(c.priority(1).is_some() && c.priority(2).is_some());
    }

    /// Many hits and no evictions: the heap is compacted, not grown with the requests.
    #[test]
    fn stale_entries_do_not_accumulate() {
        let mut c = GdsfCache::new(1_000);
        for k in 0..10 {
            c.get(k, SimTime::ZERO);
            c.insert(k, 10, SimTime::NEVER);
        }
        for r in 0..100_000u32 {
            assert!(c.get(r % 10, SimTime::ZERO));
        }
        assert!(c.heap.len() <= 2 * 10 + 64, "{}", c.heap.len());
    }
}
