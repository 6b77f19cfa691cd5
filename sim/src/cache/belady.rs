//! Belady's MIN, the optimal offline policy when every object counts the same: evict the object
//! whose next request is furthest in the future (objects never requested again first). It needs
//! the future, so it runs only on a trace whose next requests were computed in a first pass
//! ([`next_requests`]): request `i` of the trace is the `i`-th lookup, and the cache reads its
//! next request from the table. The simulator's edges have no future; a scenario refuses it.
//!
//! A max-heap of `(next request, key)` with lazy deletion: a hit pushes the object's new entry
//! and leaves the old one, which is skipped when popped (its next request no longer matches).
//! Among objects never requested again, the largest key goes first.

use super::index::SlotIndex;
use super::{EdgeCache, Lookup, NONE};
use clipsim_engine::SimTime;
use std::collections::BinaryHeap;
use std::sync::Arc;

/// "Never requested again".
pub const NEVER_AGAIN: u32 = u32::MAX;

/// For each request of a trace (dense keys, in order), the index of the next request of the same
/// object, or [`NEVER_AGAIN`].
pub fn next_requests(keys: &[u32]) -> Vec<u32> {
    let mut next = vec![NEVER_AGAIN; keys.len()];
    let mut last: Vec<u32> = Vec::new();
    for (i, &k) in keys.iter().enumerate() {
        let k = k as usize;
        if k >= last.len() {
            last.resize(k + 1, NEVER_AGAIN);
        }
        if last[k] != NEVER_AGAIN {
            next[last[k] as usize] = i as u32;
        }
        last[k] = i as u32;
    }
    next
}

/// Belady's MIN over a known sequence of requests.
#[derive(Clone, Debug, Default)]
pub struct BeladyCache {
    capacity_bytes: u64,
    used_bytes: u64,
    len: usize,
    /// The next request of each request of the trace (shared by the caches of one trace).
    future: Arc<Vec<u32>>,
    /// Lookups so far: the index of the current request.
    pos: usize,
    /// The current request's next request (for the insert after a miss).
    current_next: u32,
    /// Key to slot (dense keys in a vector, sparse ones hashed, as the other caches do).
    slot_of: SlotIndex,
    /// Per slot: key, size and next request.
    slots: Vec<(u32, u64, u32)>,
    free: Vec<u32>,
    heap: BinaryHeap<(u32, u32)>,
}

impl BeladyCache {
    /// An empty cache of `capacity_bytes` over the requests whose next requests are `future`
    /// ([`next_requests`]). Lookups past the end of `future` see objects never requested again.
    pub fn new(capacity_bytes: u64, future: Arc<Vec<u32>>) -> Self {
        BeladyCache { capacity_bytes, future, current_next: NEVER_AGAIN, ..Default::default() }
    }
}

impl EdgeCache for BeladyCache {
    fn lookup(&mut self, key: u32, _now: SimTime) -> Lookup {
        self.current_next = self.future.get(self.pos).copied().unwrap_or(NEVER_AGAIN);
        self.pos += 1;
        let i = self.slot_of.get(key);
        if i == NONE {
            return Lookup::Miss;
        }
        self.slots[i as usize].2 = self.current_next;
        self.heap.push((self.current_next, key));
        Lookup::Hit
    }

    fn insert(&mut self, key: u32, size_bytes: u64, _expires_at: SimTime) -> bool {
        if size_bytes > self.capacity_bytes {
            return false;
        }
        self.remove(key);
        while self.used_bytes + size_bytes > self.capacity_bytes {
            let (next, victim) = self.heap.pop().expect("a cache over capacity holds an object");
            // Skip stale entries: an object no longer cached, or since requested again.
            let i = self.slot_of.get(victim);
            if i != NONE && self.slots[i as usize].2 == next {
                self.remove(victim);
            }
        }
        let entry = (key, size_bytes, self.current_next);
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = entry;
                i
            }
            None => {
                self.slots.push(entry);
                (self.slots.len() - 1) as u32
            }
        };
        self.slot_of.set(key, i);
        self.heap.push((self.current_next, key));
        self.used_bytes += size_bytes;
        self.len += 1;
        true
    }

    fn remove(&mut self, key: u32) {
        let i = self.slot_of.get(key);
        if i != NONE {
            // Its heap entries go stale: skipped when popped, the key having no slot.
            self.slot_of.clear(key);
            self.used_bytes -= self.slots[i as usize].1;
            self.free.push(i);
            self.len -= 1;
        }
    }

    fn used_bytes(&self) -> u64 {
        self.used_bytes
    }

    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_requests_by_hand() {
        // a b a c b a
        assert_eq!(next_requests(&[0, 1, 0, 2, 1, 0]), vec![2, 4, 5, NEVER_AGAIN, NEVER_AGAIN, NEVER_AGAIN]);
    }

    /// Two slots, the sequence a b c a b. A missed object is always admitted (as in
    /// libCacheSim), so c goes in: MIN evicts b (requested again later than a), a then hits,
    /// and b evicts c (never requested again): 1 hit. LRU evicts a for c and b for a: 0 hits.
    #[test]
    fn min_keeps_what_comes_back_soonest() {
        let keys = [0u32, 1, 2, 0, 1];
        let mut c = BeladyCache::new(2, Arc::new(next_requests(&keys)));
        let mut hits = 0;
        for &k in &keys {
            if c.get(k, SimTime::ZERO) {
                hits += 1;
            } else {
                c.insert(k, 1, SimTime::NEVER);
            }
        }
        assert_eq!(hits, 1);
        // At the end: a and b, c evicted.
        assert!(c.get(0, SimTime::ZERO) && c.get(1, SimTime::ZERO) && !c.get(2, SimTime::ZERO));
    }
}
