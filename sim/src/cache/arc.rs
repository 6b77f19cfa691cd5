//! ARC (Megiddo and Modha, FAST 2003), with sizes in bytes, as libCacheSim's `ARC` runs it: two
//! LRU lists of cached objects, `T1` (seen once lately) and `T2` (seen again), two ghost lists of
//! what each evicted, `B1` and `B2` (ids and sizes), and a target `p` for `T1`'s bytes. A hit in
//! `T1` moves the object to `T2`'s front, a hit in `T2` to its front. A miss found in `B1` raises
//! `p` by `max(B2 / B1, 1)` bytes (at most the capacity), one in `B2` lowers it by
//! `max(B1 / B2, 1)` (at least 0); either makes one replacement, leaves its ghost list and goes
//! to `T2`; any other miss goes to `T1`. A replacement moves `T1`'s least recent object to `B1`
//! when `T1` holds more than `p` (or exactly `p` and the miss was in `B2`), else `T2`'s to `B2`.
//! Room is made as in the paper's case analysis: when `T1 + B1` (with the newcomer) passes the
//! capacity, `B1`'s oldest ghost goes before a replacement (or, when `T1` alone fills the cache,
//! `T1`'s least recent object goes for good); otherwise `B2`'s oldest ghost goes when the four
//! lists hold twice the capacity, then a replacement.

use super::list::ListCache;
use super::{EdgeCache, Lookup, Policy};
use clipsim_engine::SimTime;

/// An ARC cache.
#[derive(Clone, Debug)]
pub struct ArcCache {
    capacity_bytes: u64,
    p: u64,
    t1: ListCache,
    t2: ListCache,
    b1: ListCache,
    b2: ListCache,
    /// The last lookup found its key in `B1` / `B2` (and took it out).
    in_b1: bool,
    in_b2: bool,
}

impl ArcCache {
    /// An empty cache of `capacity_bytes`.
    pub fn new(capacity_bytes: u64) -> Self {
        let list = |p| ListCache::new(p, u64::MAX);
        ArcCache {
            capacity_bytes,
            p: 0,
            t1: list(Policy::Lru),
            t2: list(Policy::Lru),
            b1: list(Policy::Fifo),
            b2: list(Policy::Fifo),
            in_b1: false,
            in_b2: false,
        }
    }

    /// The paper's REPLACE: one object from `T1` to `B1` or from `T2` to `B2`.
    fn replace(&mut self) {
        let t1 = self.t1.used_bytes();
        let from_t1 = t1 > 0 && (t1 > self.p || (t1 == self.p && self.in_b2)) || self.t2.is_empty();
        if from_t1 {
            if let Some((k, s)) = self.t1.pop_victim() {
                self.b1.insert(k, s, SimTime::NEVER);
            }
        } else if let Some((k, s)) = self.t2.pop_victim() {
            self.b2.insert(k, s, SimTime::NEVER);
        }
    }

    /// Makes room for `incoming` bytes, one step.
    fn evict(&mut self, incoming: u64) {
        let (t1, b1) = (self.t1.used_bytes(), self.b1.used_bytes());
        if t1 + b1 + incoming > self.capacity_bytes {
            if t1 < self.capacity_bytes {
                self.b1.pop_victim();
                self.replace();
            } else {
                self.t1.pop_victim();
            }
        } else {
            if t1 + b1 + self.t2.used_bytes() + self.b2.used_bytes() >= 2 * self.capacity_bytes {
                self.b2.pop_victim();
            }
            self.replace();
        }
    }
}

impl EdgeCache for ArcCache {
    fn lookup(&mut self, key: u32, now: SimTime) -> Lookup {
        self.in_b1 = false;
        self.in_b2 = false;
        match self.t1.lookup(key, now) {
            Lookup::Hit => {
                // Seen again: to T2's front.
                let size = self.t1.size_of(key).expect("just hit");
                let expires = self.t1.expiry_of(key).expect("just hit");
                self.t1.take(key);
                self.t2.insert(key, size, expires);
                return Lookup::Hit;
            }
            Lookup::Expired => return Lookup::Expired,
            Lookup::Miss => {}
        }
        match self.t2.lookup(key, now) {
            Lookup::Miss => {}
            found => return found,
        }
        // A ghost: adapt p (byte sizes, integer division, as libCacheSim), replace, and leave.
        if self.b1.size_of(key).is_some() {
            let (b1, b2) = (self.b1.used_bytes(), self.b2.used_bytes());
            self.p = (self.p + (b2 / b1).max(1)).min(self.capacity_bytes);
            self.in_b1 = true;
            self.replace();
            self.b1.take(key);
        } else if self.b2.size_of(key).is_some() {
            let (b1, b2) = (self.b1.used_bytes(), self.b2.used_bytes());
            self.p = self.p.saturating_sub((b1 / b2).max(1));
            self.in_b2 = true;
            self.replace();
            self.b2.take(key);
        }
        Lookup::Miss
    }

    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool {
        if size_bytes > self.capacity_bytes {
            return false;
        }
        self.remove(key);
        while self.t1.used_bytes() + self.t2.used_bytes() + size_bytes > self.capacity_bytes {
            self.evict(size_bytes);
        }
        let ghost = std::mem::take(&mut self.in_b1) | std::mem::take(&mut self.in_b2);
        if ghost {
            self.t2.insert(key, size_bytes, expires_at)
        } else {
            self.t1.insert(key, size_bytes, expires_at)
        }
    }

    fn remove(&mut self, key: u32) {
        self.t1.take(key);
        self.t2.take(key);
    }

    fn used_bytes(&self) -> u64 {
        self.t1.used_bytes() + self.t2.used_bytes()
    }

    fn len(&self) -> usize {
        self.t1.len() + self.t2.len()
    }
}
