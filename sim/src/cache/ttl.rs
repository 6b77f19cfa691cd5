//! TTL-only caches: an object stays until its timer runs out. Two timers:
//! * set on a miss ([`Policy::Ttl`](super::Policy::Ttl)): the object expires a fixed time after
//!   it was fetched, whatever happens meanwhile (a CDN's `max-age`);
//! * reset on every hit ([`Policy::TtlReset`](super::Policy::TtlReset)): it expires a fixed time
//!   after its last request (an idle timeout).
//!
//! The timer's length is `expires_at` given to [`EdgeCache::insert`] minus the time of the
//! lookup just before it (every caller looks up before inserting), so the same
//! [`AnyCache::new`](super::AnyCache::new) serves both. With a byte capacity, a full cache drops
//! expired objects from its tail and then evicts the object whose timer was set longest ago (the
//! first to expire when every object has the same TTL). Objects sit in one list ordered by when
//! their timer was set, so every step is O(1).

use super::index::SlotIndex;
use super::links::{impl_link, Ends, Slab};
use super::{EdgeCache, Lookup, NONE};
use clipsim_engine::SimTime;

#[derive(Clone, Copy, Debug)]
struct Node {
    key: u32,
    prev: u32,
    next: u32,
    size_bytes: u64,
    expires_at: SimTime,
    /// Timer length, microseconds.
    ttl_us: u64,
}

impl_link!(Node);

/// A TTL-only cache.
#[derive(Clone, Debug)]
pub struct TtlCache {
    capacity_bytes: u64,
    used_bytes: u64,
    len: usize,
    reset_on_hit: bool,
    /// The time of the last lookup.
    now: SimTime,
    slot: SlotIndex,
    nodes: Slab<Node>,
    list: Ends,
}

impl TtlCache {
    /// An empty cache; `reset_on_hit` picks the timer.
    pub fn new(capacity_bytes: u64, reset_on_hit: bool) -> Self {
        TtlCache {
            capacity_bytes,
            used_bytes: 0,
            len: 0,
            reset_on_hit,
            now: SimTime::ZERO,
            slot: SlotIndex::default(),
            nodes: Slab::new(),
            list: Ends::EMPTY,
        }
    }

    fn drop_node(&mut self, i: u32) {
        self.list.unlink(&mut self.nodes.nodes, i);
        let n = self.nodes.nodes[i as usize];
        self.slot.clear(n.key);
        self.used_bytes -= n.size_bytes;
        self.len -= 1;
        self.nodes.release(i);
    }
}

impl EdgeCache for TtlCache {
    #[inline]
    fn lookup(&mut self, key: u32, now: SimTime) -> Lookup {
        self.now = now;
        let i = self.slot.get(key);
        if i == NONE {
            return Lookup::Miss;
        }
        let n = &mut self.nodes.nodes[i as usize];
        if n.expires_at <= now {
            self.drop_node(i);
            return Lookup::Expired;
        }
        if self.reset_on_hit {
            n.expires_at = now.saturating_add(clipsim_engine::SimDuration(n.ttl_us));
            self.list.move_to_head(&mut self.nodes.nodes, i);
        }
        Lookup::Hit
    }

    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool {
        if size_bytes > self.capacity_bytes || expires_at <= self.now {
            return false;
        }
        let existing = self.slot.get(key);
        if existing != NONE {
            self.drop_node(existing);
        }
        while self.list.tail != NONE && self.nodes.nodes[self.list.tail as usize].expires_at <= self.now {
            self.drop_node(self.list.tail);
        }
        while self.used_bytes + size_bytes > self.capacity_bytes {
            self.drop_node(self.list.tail);
        }
        let ttl_us = expires_at.as_micros() - self.now.as_micros();
        let i = self.nodes.alloc(Node { key, prev: NONE, next: NONE, size_bytes, expires_at, ttl_us });
        self.list.push_head(&mut self.nodes.nodes, i);
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

    fn t(s: u64) -> SimTime {
        SimTime(s * 1_000_000)
    }

    #[test]
    fn timer_set_on_miss_ignores_hits() {
        let mut c = TtlCache::new(u64::MAX, false);
        assert!(!c.get(1, t(0)));
        c.insert(1, 10, t(10));
        assert!(c.get(1, t(9)));
        assert!(!c.get(1, t(10)));
    }

    #[test]
    fn timer_reset_on_hit_extends_life() {
        let mut c = TtlCache::new(u64::MAX, true);
        assert!(!c.get(1, t(0)));
        c.insert(1, 10, t(10));
        assert!(c.get(1, t(9)));
        assert!(c.get(1, t(18)));
        assert!(!c.get(1, t(28)));
    }

    #[test]
    fn a_full_cache_drops_expired_then_oldest_timers() {
        let mut c = TtlCache::new(30, false);
        for k in 0..3 {
            c.get(k, t(u64::from(k)));
            c.insert(k, 10, t(u64::from(k) + 5));
        }
        c.get(9, t(5)); // 0 expired at 5
        c.insert(9, 10, t(10));
        assert_eq!(c.len(), 3);
        c.get(10, t(5));
        c.insert(10, 10, t(10)); // evicts 1, the oldest timer
        assert!(!c.get(1, t(5)) && c.get(2, t(5)));
        assert!(!c.insert(11, 31, t(20)));
    }
}
