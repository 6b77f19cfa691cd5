//! LFU in O(1) (Shah, Mitra and Matani, 2010): objects sit in frequency buckets, the buckets in a
//! list ordered by frequency. A hit moves an object to the bucket of the next frequency (made
//! when missing); the victim is the object that entered the lowest-frequency bucket first (ties
//! in frequency go to the oldest, as in libCacheSim's `LFU`). A new object starts at frequency 1.
//! Frequencies are counted while an object is cached: an evicted object starts again at 1.

use super::index::SlotIndex;
use super::links::{impl_link, Ends, Slab};
use super::{EdgeCache, Lookup, NONE};
use clipsim_engine::SimTime;

#[derive(Clone, Copy, Debug)]
struct Node {
    key: u32,
    prev: u32,
    next: u32,
    bucket: u32,
    size_bytes: u64,
    expires_at: SimTime,
}

impl_link!(Node);

/// A frequency bucket; `prev`/`next` link buckets by frequency (prev = lower).
#[derive(Clone, Copy, Debug)]
struct Bucket {
    freq: u64,
    items: Ends,
    prev: u32,
    next: u32,
}

/// An LFU cache.
#[derive(Clone, Debug)]
pub struct LfuCache {
    capacity_bytes: u64,
    used_bytes: u64,
    len: usize,
    slot: SlotIndex,
    nodes: Slab<Node>,
    buckets: Slab<Bucket>,
    /// The lowest-frequency bucket.
    first: u32,
}

impl LfuCache {
    /// An empty cache of `capacity_bytes`.
    pub fn new(capacity_bytes: u64) -> Self {
        LfuCache {
            capacity_bytes,
            used_bytes: 0,
            len: 0,
            slot: SlotIndex::default(),
            nodes: Slab::new(),
            buckets: Slab::new(),
            first: NONE,
        }
    }

    /// The frequency of a cached key.
    pub fn frequency(&self, key: u32) -> Option<u64> {
        let i = self.slot.get(key);
        (i != NONE).then(|| self.buckets.nodes[self.nodes.nodes[i as usize].bucket as usize].freq)
    }

    /// A new bucket of `freq` after bucket `after` (NONE: at the front).
    fn new_bucket(&mut self, freq: u64, after: u32) -> u32 {
        let next = if after == NONE { self.first } else { self.buckets.nodes[after as usize].next };
        let b = self.buckets.alloc(Bucket { freq, items: Ends::EMPTY, prev: after, next });
        if after == NONE {
            self.first = b;
        } else {
            self.buckets.nodes[after as usize].next = b;
        }
        if next != NONE {
            self.buckets.nodes[next as usize].prev = b;
        }
        b
    }

    fn drop_bucket_if_empty(&mut self, b: u32) {
        let Bucket { items, prev, next, .. } = self.buckets.nodes[b as usize];
        if !items.is_empty() {
            return;
        }
        if prev == NONE {
            self.first = next;
        } else {
            self.buckets.nodes[prev as usize].next = next;
        }
        if next != NONE {
            self.buckets.nodes[next as usize].prev = prev;
        }
        self.buckets.release(b);
    }

    fn drop_node(&mut self, i: u32) {
        let n = self.nodes.nodes[i as usize];
        let mut items = self.buckets.nodes[n.bucket as usize].items;
        items.unlink(&mut self.nodes.nodes, i);
        self.buckets.nodes[n.bucket as usize].items = items;
        self.drop_bucket_if_empty(n.bucket);
        self.slot.clear(n.key);
        self.used_bytes -= n.size_bytes;
        self.len -= 1;
        self.nodes.release(i);
    }

    fn push_into(&mut self, b: u32, i: u32) {
        let mut items = self.buckets.nodes[b as usize].items;
        items.push_head(&mut self.nodes.nodes, i);
        self.buckets.nodes[b as usize].items = items;
        self.nodes.nodes[i as usize].bucket = b;
    }
}

impl EdgeCache for LfuCache {
    #[inline]
    fn lookup(&mut self, key: u32, now: SimTime) -> Lookup {
        let i = self.slot.get(key);
        if i == NONE {
            return Lookup::Miss;
        }
        let n = self.nodes.nodes[i as usize];
        if n.expires_at <= now {
            self.drop_node(i);
            return Lookup::Expired;
        }
        let b = n.bucket;
        let Bucket { freq, next, .. } = self.buckets.nodes[b as usize];
        let target = if next != NONE && self.buckets.nodes[next as usize].freq == freq + 1 {
            next
        } else {
            self.new_bucket(freq + 1, b)
        };
        let mut items = self.buckets.nodes[b as usize].items;
        items.unlink(&mut self.nodes.nodes, i);
        self.buckets.nodes[b as usize].items = items;
        self.push_into(target, i);
        self.drop_bucket_if_empty(b);
        Lookup::Hit
    }

    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool {
        if size_bytes > self.capacity_bytes {
            return false;
        }
        let existing = self.slot.get(key);
        if existing != NONE {
            self.drop_node(existing);
        }
        while self.used_bytes + size_bytes > self.capacity_bytes {
            let b = self.first;
            let victim = self.buckets.nodes[b as usize].items.tail;
            self.drop_node(victim);
        }
        let b = if self.first != NONE && self.buckets.nodes[self.first as usize].freq == 1 {
            self.first
        } else {
            self.new_bucket(1, NONE)
        };
        let i = self.nodes.alloc(Node { key, prev: NONE, next: NONE, bucket: b, size_bytes, expires_at });
        self.push_into(b, i);
        self.slot.set(key, i);
        self.used_bytes += size_bytes;
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
        self.used_bytes
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
    fn evicts_the_least_frequently_used_oldest_first() {
        let mut c = LfuCache::new(30);
        for k in 0..3 {
            c.insert(k, 10, NEVER);
        }
        assert!(c.get(0, T0) && c.get(0, T0) && c.get(2, T0));
        assert_eq!(c.frequency(0), Some(3));
        c.insert(3, 10, NEVER); // 1 has frequency 1
        assert!(!c.get(1, T0));
        c.insert(4, 10, NEVER); // 3 has frequency 1
        assert_eq!(c.frequency(3), None);
        assert!(c.get(0, T0) && c.get(2, T0) && c.get(4, T0));
        assert_eq!(c.used_bytes(), 30);
    }

    #[test]
    fn buckets_are_reused_and_dropped() {
        let mut c = LfuCache::new(1000);
        for k in 0..10 {
            c.insert(k, 1, NEVER);
        }
        for round in 0..5 {
            for k in 0..10 {
                assert!(c.get(k, T0), "round {round} key {k}");
            }
        }
        assert_eq!(c.frequency(9), Some(6));
        assert_eq!(c.buckets.live(), 1);
        c.remove(3);
        c.remove(3);
        assert_eq!(c.len(), 9);
        assert!(!c.insert(99, 1001, NEVER));
    }

    #[test]
    fn expired_objects_leave() {
        let mut c = LfuCache::new(100);
        c.insert(1, 10, SimTime(5));
        assert!(!c.get(1, SimTime(5)));
        assert!(c.is_empty() && c.first == NONE);
    }
}
