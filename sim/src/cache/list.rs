//! LRU, FIFO, SIEVE and CLOCK on one intrusive doubly linked list over a slab.
//!
//! The list runs from the head (newest) to the tail (oldest). LRU moves a hit to the head;
//! FIFO never moves anything; SIEVE sets a visited bit on a hit and evicts with a hand that walks
//! from the tail toward the head, clearing visited bits and removing the first unvisited object;
//! CLOCK sets the bit too, and evicts from the tail, moving a visited tail to the head with its
//! bit cleared (FIFO with reinsertion: a clock's hand over a circular buffer).

use super::index::SlotIndex;
use super::{EdgeCache, Lookup, Policy, NONE};
use clipsim_engine::SimTime;

#[derive(Clone, Copy, Debug)]
struct Node {
    key: u32,
    prev: u32,
    next: u32,
    visited: bool,
    size_bytes: u64,
    expires_at: SimTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Lru,
    Fifo,
    Sieve,
    Clock,
}

/// A list-ordered cache.
#[derive(Clone, Debug)]
pub struct ListCache {
    policy: Kind,
    capacity_bytes: u64,
    used_bytes: u64,
    /// key -> node index.
    slot_of: SlotIndex,
    nodes: Vec<Node>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    /// SIEVE's hand (NONE: start from the tail).
    hand: u32,
    len: usize,
    /// The key of the last `get` that missed, until the next admitted `insert` (NONE: none).
    /// Only an admitted insert adds a key, so an insert of this key can skip looking it up again: the simulator
    /// inserts what its edge just missed, and at large catalogs the index is a hash table where
    /// that second lookup costs a probe loop.
    known_absent: u32,
}

impl ListCache {
    /// An empty cache of `policy`: LRU, FIFO, SIEVE or CLOCK (the others have their own types; see
    /// [`super::AnyCache::new`]).
    ///
    /// # Panics
    /// If `policy` is not one of the four (a programming error, not an input error).
    pub fn new(policy: Policy, capacity_bytes: u64) -> Self {
        let policy = match policy {
            Policy::Lru => Kind::Lru,
            Policy::Fifo => Kind::Fifo,
            Policy::Sieve => Kind::Sieve,
            Policy::Clock => Kind::Clock,
            other => panic!("ListCache keeps LRU, FIFO, SIEVE or CLOCK, not {}: use AnyCache::new", other.name()),
        };
        ListCache {
            policy,
            capacity_bytes,
            used_bytes: 0,
            slot_of: SlotIndex::default(),
            nodes: Vec::new(),
            free: Vec::new(),
            head: NONE,
            tail: NONE,
            hand: NONE,
            len: 0,
            known_absent: NONE,
        }
    }

    #[inline]
    fn slot(&self, key: u32) -> u32 {
        self.slot_of.get(key)
    }

    fn unlink(&mut self, i: u32) {
        let Node { prev, next, .. } = self.nodes[i as usize];
        if prev == NONE {
            self.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NONE {
            self.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
    }

    fn push_head(&mut self, i: u32) {
        let old = self.head;
        {
            let n = &mut self.nodes[i as usize];
            n.prev = NONE;
            n.next = old;
        }
        if old == NONE {
            self.tail = i;
        } else {
            self.nodes[old as usize].prev = i;
        }
        self.head = i;
    }

    fn drop_node(&mut self, i: u32) {
        if self.hand == i {
            self.hand = self.nodes[i as usize].prev;
        }
        self.unlink(i);
        let n = self.nodes[i as usize];
        self.slot_of.clear(n.key);
        self.used_bytes -= n.size_bytes;
        self.len -= 1;
        self.free.push(i);
    }

    /// The node to evict next.
    fn victim(&mut self) -> u32 {
        match self.policy {
            Kind::Lru | Kind::Fifo => self.tail,
            Kind::Sieve => {
                let mut i = if self.hand == NONE { self.tail } else { self.hand };
                loop {
                    let n = &mut self.nodes[i as usize];
                    if !n.visited {
                        self.hand = i;
                        return i;
                    }
                    n.visited = false;
                    i = if n.prev == NONE { self.tail } else { n.prev };
                }
            }
            Kind::Clock => loop {
                let t = self.tail;
                let n = &mut self.nodes[t as usize];
                if !n.visited {
                    return t;
                }
                n.visited = false;
                self.unlink(t);
                self.push_head(t);
            },
        }
    }
}

impl ListCache {
    /// Evicts the policy's next victim; returns its key and size (`None` when empty).
    pub(crate) fn pop_victim(&mut self) -> Option<(u32, u64)> {
        if self.len == 0 {
            return None;
        }
        let v = self.victim();
        let n = self.nodes[v as usize];
        self.drop_node(v);
        Some((n.key, n.size_bytes))
    }

    /// The key and size at the tail (the oldest end), if any: LRU's and FIFO's next victim.
    pub(crate) fn tail(&self) -> Option<(u32, u64)> {
        (self.tail != NONE).then(|| {
            let n = &self.nodes[self.tail as usize];
            (n.key, n.size_bytes)
        })
    }

    /// Moves `key` (held) to `to`'s head with its size and expiry; returns its size.
    pub(crate) fn move_to(&mut self, key: u32, to: &mut ListCache) -> u64 {
        let i = self.slot(key);
        let n = self.nodes[i as usize];
        self.drop_node(i);
        to.insert(key, n.size_bytes, n.expires_at);
        n.size_bytes
    }

    /// The size of `key`, if held.
    pub(crate) fn size_of(&self, key: u32) -> Option<u64> {
        let i = self.slot(key);
        (i != NONE).then(|| self.nodes[i as usize].size_bytes)
    }

    /// The expiry of `key`, if held.
    pub(crate) fn expiry_of(&self, key: u32) -> Option<SimTime> {
        let i = self.slot(key);
        (i != NONE).then(|| self.nodes[i as usize].expires_at)
    }

    /// Removes `key`; whether it was held.
    pub(crate) fn take(&mut self, key: u32) -> bool {
        let i = self.slot(key);
        if i != NONE {
            self.drop_node(i);
        }
        i != NONE
    }
}

impl EdgeCache for ListCache {
    // Always inline: the simulator's request loop calls it once per request, and with four
    // codegen units LLVM's choice moved with unrelated code (an added module cost 21
    // instructions a request by leaving it out of line).
    #[inline(always)]
    fn lookup(&mut self, key: u32, now: SimTime) -> Lookup {
        let i = self.slot(key);
        if i == NONE {
            self.known_absent = key;
            return Lookup::Miss;
        }
        if self.nodes[i as usize].expires_at <= now {
            self.drop_node(i);
            self.known_absent = key;
            return Lookup::Expired;
        }
        match self.policy {
            Kind::Lru => {
                if self.head != i {
                    self.unlink(i);
                    self.push_head(i);
                }
            }
            Kind::Fifo => {}
            Kind::Sieve | Kind::Clock => self.nodes[i as usize].visited = true,
        }
        Lookup::Hit
    }

    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool {
        if size_bytes > self.capacity_bytes {
            return false;
        }
        if key != self.known_absent {
            let existing = self.slot(key);
            if existing != NONE {
                self.drop_node(existing);
            }
        }
        debug_assert_eq!(self.slot(key), NONE, "inserting {key}, not held");
        self.known_absent = NONE;
        let mut evicted = false;
        while self.used_bytes + size_bytes > self.capacity_bytes {
            let v = self.victim();
            self.drop_node(v);
            evicted = true;
        }
        if evicted && !matches!(self.policy, Kind::Sieve) {
            // The next victims are the new tail and its predecessor: start loading them and the
            // tail's index entry (which its eviction clears) now. Performance only. The tail was
            // prefetched as the predecessor last time, so reading it here rarely waits.
            if let Some(n) = self.nodes.get(self.tail as usize) {
                clipsim_engine::hint::prefetch(n);
                self.prefetch_index(n.key);
                if let Some(p) = self.nodes.get(n.prev as usize) {
                    clipsim_engine::hint::prefetch(p);
                }
            }
        }
        let node = Node { key, prev: NONE, next: NONE, visited: false, size_bytes, expires_at };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.slot_of.set(key, i);
        self.push_head(i);
        self.used_bytes += size_bytes;
        self.len += 1;
        true
    }

    fn remove(&mut self, key: u32) {
        let i = self.slot(key);
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

    /// Hints that `key` will be looked up soon: loads its index entry.
    #[inline]
    fn prefetch_index(&self, key: u32) {
        self.slot_of.prefetch(key);
    }

    /// Hints that `key` will be looked up soon: loads its node. Reads its index entry, so call
    /// it after [`EdgeCache::prefetch_index`] had time to land.
    #[inline]
    fn prefetch_entry(&self, key: u32) {
        let i = self.slot_of.get_cheap(key);
        if let Some(node) = self.nodes.get(i as usize) {
            clipsim_engine::hint::prefetch(node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: SimTime = SimTime(0);
    const NEVER: SimTime = SimTime::NEVER;

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut c = ListCache::new(Policy::Lru, 30);
        for k in 0..3 {
            assert!(c.insert(k, 10, NEVER));
        }
        assert!(c.get(0, T0)); // 0 is now most recent
        c.insert(3, 10, NEVER); // evicts 1
        assert!(!c.get(1, T0));
        assert!(c.get(0, T0) && c.get(2, T0) && c.get(3, T0));
        assert_eq!(c.used_bytes(), 30);
    }

    #[test]
    fn fifo_ignores_hits() {
        let mut c = ListCache::new(Policy::Fifo, 30);
        for k in 0..3 {
            c.insert(k, 10, NEVER);
        }
        assert!(c.get(0, T0));
        c.insert(3, 10, NEVER); // evicts 0 regardless of the hit
        assert!(!c.get(0, T0));
        assert!(c.get(1, T0));
    }

    #[test]
    fn sieve_spares_visited_objects_once() {
        let mut c = ListCache::new(Policy::Sieve, 30);
        for k in 0..3 {
            c.insert(k, 10, NEVER);
        }
        assert!(c.get(0, T0)); // visited
        c.insert(3, 10, NEVER); // hand at 0 (visited: cleared), evicts 1
        assert!(c.get(0, T0) && !c.get(1, T0));
        assert!(c.get(2, T0) && c.get(3, T0));
    }

    #[test]
    fn expired_objects_miss_and_leave() {
        let mut c = ListCache::new(Policy::Lru, 100);
        c.insert(7, 10, SimTime(50));
        assert!(c.get(7, SimTime(49)));
        assert!(!c.get(7, SimTime(50)));
        assert_eq!((c.len(), c.used_bytes()), (0, 0));
    }

    #[test]
    fn objects_larger_than_the_cache_are_not_admitted() {
        let mut c = ListCache::new(Policy::Lru, 100);
        c.insert(1, 60, NEVER);
        assert!(!c.insert(2, 101, NEVER));
        assert!(c.get(1, T0));
        assert!(c.insert(3, 100, NEVER)); // evicts 1 to fit
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn reinsert_replaces_and_remove_purges() {
        let mut c = ListCache::new(Policy::Lru, 100);
        c.insert(1, 10, NEVER);
        c.insert(1, 20, NEVER);
        assert_eq!((c.len(), c.used_bytes()), (1, 20));
        c.remove(1);
        c.remove(42);
        assert!(c.is_empty());
    }

    /// An insert after a missed `get` skips the second lookup; an admitted insert in between (of
    /// that key or another) must make the next one look again, and a `get` that hits or finds
    /// the object expired must leave what it found to be replaced. Plain and large keys (the
    /// direct array and the hash table).
    #[test]
    fn inserts_after_a_miss_still_replace_what_is_held() {
        for base in [0, 3_000_000_000] {
            for policy in [Policy::Lru, Policy::Fifo, Policy::Sieve] {
                let mut c = ListCache::new(policy, 100);
                let (a, b) = (base + 1, base + 2);
                assert!(!c.get(a, T0));
                assert!(c.insert(a, 10, NEVER));
                assert!(c.insert(a, 20, NEVER), "a replace right after the insert that followed the miss");
                assert_eq!((c.len(), c.used_bytes()), (1, 20), "{policy:?} {base}");
                assert!(!c.get(b, T0));
                assert!(!c.insert(b, 101, NEVER), "larger than the cache");
                assert!(c.insert(b, 30, NEVER));
                assert!(c.insert(b, 40, NEVER));
                assert!(!c.get(base + 3, T0));
                assert!(c.insert(a, 5, NEVER), "a key other than the one that missed");
                assert_eq!((c.len(), c.used_bytes()), (2, 45), "{policy:?} {base}");
                c.remove(a);
                assert!(!c.get(a, T0));
                c.remove(b);
                assert!(c.insert(a, 7, NEVER), "the missed key, removed meanwhile as well");
                assert_eq!((c.len(), c.used_bytes()), (1, 7), "{policy:?} {base}");
                assert!(c.get(a, T0));
                assert!(c.insert(a, 8, SimTime(10)), "a replace after a hit");
                assert_eq!((c.len(), c.used_bytes()), (1, 8), "{policy:?} {base}");
                assert!(!c.get(a, SimTime(10)), "expired");
                assert!(c.insert(a, 9, NEVER), "an insert after the expired object was dropped");
                assert_eq!((c.len(), c.used_bytes()), (1, 9), "{policy:?} {base}");
            }
        }
    }
}
