//! LIRS (Jiang and Zhang, SIGMETRICS 2002) with sizes in bytes, as libCacheSim's `LIRS` runs it.
//! Objects are ranked by their inter-reference recency: the bytes are split into LIR objects
//! (99 %: seen again soon after their previous request) and resident HIR objects (1 %), and a
//! recency stack `S` remembers, beyond the resident objects, ghosts of HIR objects that left.
//!
//! - **Lists.** `S`: the stack, most recent on top: LIR objects, resident HIR objects and ghosts.
//!   `Q`: the resident HIR objects, least recent first out. `NH`: the ghosts, oldest first out.
//!   An object can be in `S` and `Q` at once; its bytes count once.
//! - **A request** first moves the object to the top of `S` and to the front of `Q`, wherever it
//!   is. Then: an LIR object is a hit, and `S` is pruned (HIR entries leave its bottom until an
//!   LIR one is there; the last entry stays). A resident HIR object in `S` is a hit and turns LIR,
//!   leaving `Q`. A resident HIR object only in `Q` is a hit and joins `S`'s top, still HIR. A
//!   ghost is a miss and, inserted, turns LIR. Anything else is a miss and, inserted, turns LIR
//!   when the LIR bytes have room for it, else resident HIR (in `S` and `Q`).
//! - **Room.** Whenever an object turns LIR, or joins `S` from `Q`, without LIR room, the LIR
//!   object at `S`'s bottom is demoted until there is: it leaves `S` for `Q`'s front (or the
//!   cache, when larger than `Q`'s bytes), `Q`'s oldest leaving to make room (a ghost if it is
//!   still in `S`), and `S` is pruned. A new object without room in either makes room in `Q`. An
//!   object larger than `Q`'s bytes (1 % of the cache) is not cached.
//! - **The stack's bound.** After every request, while `S`'s entries (ghosts included) hold
//!   more than twice the cache's bytes, the oldest ghost is forgotten.
//!
//! Every list is intrusive over one slab of entries (one per object in `S` or `Q`): each step is
//! O(1) but for pruning and demotion, amortised O(1) (an entry leaves `S` once per entry).

use super::index::SlotIndex;
use super::links::{impl_link, Ends};
use super::{EdgeCache, Lookup, NONE};
use clipsim_engine::SimTime;

/// The resident HIR objects' share of the bytes.
pub const HIR_SHARE: f64 = 0.01;

#[derive(Clone, Copy, Debug, Default)]
struct Links {
    prev: u32,
    next: u32,
}

impl_link!(Links);

const UNLINKED: Links = Links { prev: NONE, next: NONE };

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u32,
    size_bytes: u64,
    expires_at: SimTime,
    lir: bool,
    in_s: bool,
    in_q: bool,
}

impl Entry {
    /// Cached: LIR, or resident HIR (which is exactly being in `Q`).
    fn resident(&self) -> bool {
        self.lir || self.in_q
    }
}

/// What the last lookup found, for the insert after its miss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Missed {
    Nothing,
    /// A ghost (slot), already on top of `S`.
    Ghost(u32, u32),
}

/// A LIRS cache.
#[derive(Clone, Debug)]
pub struct LirsCache {
    capacity_bytes: u64,
    lir_limit: u64,
    hir_limit: u64,
    lir_bytes: u64,
    hir_bytes: u64,
    /// Bytes of every entry of `S`, ghosts included.
    s_bytes: u64,
    residents: usize,
    slot: SlotIndex,
    entries: Vec<Entry>,
    s_links: Vec<Links>,
    q_links: Vec<Links>,
    nh_links: Vec<Links>,
    free: Vec<u32>,
    s: Ends,
    q: Ends,
    nh: Ends,
    missed: Missed,
}

impl LirsCache {
    /// An empty cache of `capacity_bytes`.
    pub fn new(capacity_bytes: u64) -> Self {
        // Truncated as libCacheSim's double-times-integer product is, at least one byte.
        let hir_limit = ((HIR_SHARE * capacity_bytes as f64) as u64).max(1);
        LirsCache {
            capacity_bytes,
            lir_limit: capacity_bytes.saturating_sub(hir_limit),
            hir_limit,
            lir_bytes: 0,
            hir_bytes: 0,
            s_bytes: 0,
            residents: 0,
            slot: SlotIndex::default(),
            entries: Vec::new(),
            s_links: Vec::new(),
            q_links: Vec::new(),
            nh_links: Vec::new(),
            free: Vec::new(),
            s: Ends::EMPTY,
            q: Ends::EMPTY,
            nh: Ends::EMPTY,
            missed: Missed::Nothing,
        }
    }

    /// Whether `key` is cached as an LIR object (`Some(true)`), a resident HIR one
    /// (`Some(false)`), or not at all (`None`; a ghost is not cached).
    pub fn is_lir(&self, key: u32) -> Option<bool> {
        let i = self.slot.get(key);
        (i != NONE && self.entries[i as usize].resident()).then(|| self.entries[i as usize].lir)
    }

    /// Bytes of the LIR and the resident HIR objects.
    pub fn lir_hir_bytes(&self) -> (u64, u64) {
        (self.lir_bytes, self.hir_bytes)
    }

    /// Walks every list and checks the books: each entry's flags against the lists it is in,
    /// `NH` holding exactly the ghosts of `S`, the byte and object counts, `S`'s bottom LIR (or
    /// `S` one entry), the index. O(n): for tests.
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), String> {
        fn walk(ends: Ends, links: &[Links]) -> Vec<u32> {
            let mut v = Vec::new();
            let mut i = ends.head;
            while i != NONE {
                v.push(i);
                i = links[i as usize].next;
            }
            v
        }
        let (s, q, nh) = (walk(self.s, &self.s_links), walk(self.q, &self.q_links), walk(self.nh, &self.nh_links));
        let e = |i: &u32| self.entries[*i as usize];
        let ghosts: Vec<u32> = s.iter().copied().filter(|i| !e(i).resident()).collect();
        let mut nh_sorted = nh.clone();
        nh_sorted.sort_unstable();
        let mut ghosts_sorted = ghosts.clone();
        ghosts_sorted.sort_unstable();
        let checks = [
            (s.iter().all(|i| e(i).in_s), "an entry of S not flagged in_s"),
            (q.iter().all(|i| e(i).in_q && !e(i).lir), "an entry of Q not flagged in_q, or LIR"),
            (nh_sorted == ghosts_sorted, "NH is not the ghosts of S"),
            (self.s_bytes == s.iter().map(|i| e(i).size_bytes).sum::<u64>(), "S's bytes"),
            (self.hir_bytes == q.iter().map(|i| e(i).size_bytes).sum::<u64>(), "Q's bytes"),
            (self.lir_bytes == s.iter().filter(|i| e(i).lir).map(|i| e(i).size_bytes).sum::<u64>(), "LIR bytes"),
            (self.residents == s.iter().filter(|i| e(i).lir).count() + q.len(), "the resident count"),
            (s.len() <= 1 || self.entries[self.s.tail as usize].lir, "S's bottom is not LIR"),
            (s.iter().chain(&q).all(|i| self.slot.get(e(i).key) == *i), "an entry not where the index says"),
        ];
        match checks.iter().find(|c| !c.0) {
            Some((_, what)) => Err(what.to_string()),
            None => Ok(()),
        }
    }

    fn alloc(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> u32 {
        let e = Entry { key, size_bytes, expires_at, lir: false, in_s: false, in_q: false };
        let i = match self.free.pop() {
            Some(i) => {
                self.entries[i as usize] = e;
                i
            }
            None => {
                self.entries.push(e);
                self.s_links.push(UNLINKED);
                self.q_links.push(UNLINKED);
                self.nh_links.push(UNLINKED);
                (self.entries.len() - 1) as u32
            }
        };
        self.slot.set(key, i);
        i
    }

    /// Frees entry `i` once it is in neither `S` nor `Q`.
    fn release_if_unlisted(&mut self, i: u32) {
        let e = self.entries[i as usize];
        if !e.in_s && !e.in_q {
            self.slot.clear(e.key);
            self.free.push(i);
        }
    }

    fn push_s(&mut self, i: u32) {
        self.s.push_head(&mut self.s_links, i);
        let e = &mut self.entries[i as usize];
        e.in_s = true;
        self.s_bytes += e.size_bytes;
    }

    fn unlink_s(&mut self, i: u32) {
        self.s.unlink(&mut self.s_links, i);
        let e = &mut self.entries[i as usize];
        e.in_s = false;
        self.s_bytes -= e.size_bytes;
        if !e.resident() {
            self.nh.unlink(&mut self.nh_links, i);
        }
    }

    fn push_q(&mut self, i: u32) {
        self.q.push_head(&mut self.q_links, i);
        let e = &mut self.entries[i as usize];
        if !e.resident() {
            self.residents += 1;
        }
        e.in_q = true;
        self.hir_bytes += e.size_bytes;
    }

    fn unlink_q(&mut self, i: u32) {
        self.q.unlink(&mut self.q_links, i);
        let e = &mut self.entries[i as usize];
        e.in_q = false;
        self.hir_bytes -= e.size_bytes;
        if !e.lir {
            self.residents -= 1;
        }
    }

    /// `Q`'s oldest object leaves the cache: a ghost if it is still in `S`.
    fn evict_hir(&mut self) -> bool {
        let v = self.q.tail;
        if v == NONE {
            return false;
        }
        self.unlink_q(v);
        if self.entries[v as usize].in_s {
            self.nh.push_head(&mut self.nh_links, v);
        } else {
            self.release_if_unlisted(v);
        }
        true
    }

    /// HIR entries leave `S`'s bottom until an LIR one is there (the last entry stays).
    fn prune(&mut self) {
        while self.s.tail != self.s.head {
            let b = self.s.tail;
            if self.entries[b as usize].lir {
                break;
            }
            self.unlink_s(b);
            self.release_if_unlisted(b);
        }
    }

    /// The LIR object at `S`'s bottom turns resident HIR (or leaves when larger than `Q`).
    fn demote_lir(&mut self) {
        let t = self.s.tail;
        // Pruning keeps an LIR entry at the bottom whenever S holds one (every LIR object is in
        // S), and this is called only while there are LIR bytes.
        debug_assert!(t != NONE && self.entries[t as usize].lir, "S's bottom is LIR after pruning");
        let size = self.entries[t as usize].size_bytes;
        self.unlink_s(t);
        self.entries[t as usize].lir = false;
        self.lir_bytes -= size;
        self.residents -= 1;
        if size <= self.hir_limit {
            while self.hir_bytes + size > self.hir_limit && self.evict_hir() {}
            self.push_q(t);
        } else {
            self.release_if_unlisted(t);
        }
        self.prune();
    }

    /// Demotes LIR objects until `size_bytes` more fit in the LIR bytes.
    fn make_lir_room(&mut self, size_bytes: u64) {
        while self.lir_bytes > 0 && self.lir_bytes + size_bytes > self.lir_limit {
            self.demote_lir();
        }
    }

    /// Entry `i` (in `S`, not in `Q`) turns LIR.
    fn make_lir(&mut self, i: u32) {
        let e = &mut self.entries[i as usize];
        if !e.resident() {
            self.residents += 1;
        }
        e.lir = true;
        self.lir_bytes += e.size_bytes;
    }

    /// Forgets the oldest ghosts while `S` holds more than twice the cache's bytes.
    fn bound_stack(&mut self) {
        while self.s_bytes > 2 * self.capacity_bytes {
            let g = self.nh.tail;
            if g == NONE {
                break;
            }
            self.unlink_s(g);
            self.release_if_unlisted(g);
        }
    }
}

impl EdgeCache for LirsCache {
    fn lookup(&mut self, key: u32, now: SimTime) -> Lookup {
        // The bound of the previous request's stack (its insert, if any, came before this).
        self.bound_stack();
        self.missed = Missed::Nothing;
        let i = self.slot.get(key);
        if i == NONE {
            return Lookup::Miss;
        }
        let e = self.entries[i as usize];
        if e.resident() && e.expires_at <= now {
            self.remove(key);
            return Lookup::Expired;
        }
        if e.in_s {
            self.s.move_to_head(&mut self.s_links, i);
        }
        if e.in_q {
            self.q.move_to_head(&mut self.q_links, i);
        }
        match (e.in_s, e.lir, e.in_q) {
            (true, true, _) => self.prune(),
            (true, false, true) => {
                self.unlink_q(i);
                self.make_lir_room(e.size_bytes);
                self.make_lir(i);
            }
            (true, false, false) => {
                self.missed = Missed::Ghost(key, i);
                return Lookup::Miss;
            }
            (false, _, _) => {
                // Only in Q: joins S's top, still HIR, once LIR objects demoted to make room for
                // it have found room in Q. That room may take it out of Q itself when both do
                // not fit (libCacheSim reads freed memory then): served, it is then not cached.
                self.make_lir_room(e.size_bytes);
                if self.slot.get(key) == i && self.entries[i as usize].in_q {
                    self.push_s(i);
                }
            }
        }
        Lookup::Hit
    }

    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool {
        if size_bytes > self.capacity_bytes {
            return false;
        }
        if let Missed::Ghost(k, i) = std::mem::replace(&mut self.missed, Missed::Nothing) {
            if k == key && self.slot.get(key) == i && !self.entries[i as usize].resident() {
                // A ghost turns LIR, with its recorded size.
                let size = self.entries[i as usize].size_bytes;
                self.make_lir_room(size);
                self.nh.unlink(&mut self.nh_links, i);
                self.entries[i as usize].expires_at = expires_at;
                self.make_lir(i);
                return true;
            }
        }
        if size_bytes > self.hir_limit || size_bytes > self.lir_limit {
            return false;
        }
        self.remove(key);
        if self.lir_bytes + size_bytes > self.lir_limit {
            while self.hir_bytes + size_bytes > self.hir_limit && self.evict_hir() {}
        }
        let i = self.alloc(key, size_bytes, expires_at);
        self.push_s(i);
        if self.lir_bytes + size_bytes <= self.lir_limit {
            self.make_lir(i);
        } else {
            self.push_q(i);
        }
        true
    }

    fn remove(&mut self, key: u32) {
        let i = self.slot.get(key);
        if i == NONE {
            return;
        }
        // Out of S first, while its flags still say whether it is a ghost in NH too.
        if self.entries[i as usize].in_s {
            self.unlink_s(i);
        }
        if self.entries[i as usize].in_q {
            self.unlink_q(i);
        }
        let e = &mut self.entries[i as usize];
        if e.lir {
            e.lir = false;
            self.lir_bytes -= e.size_bytes;
            self.residents -= 1;
        }
        self.release_if_unlisted(i);
        if self.missed == Missed::Ghost(key, i) {
            self.missed = Missed::Nothing;
        }
        // It may have been S's bottom LIR entry: HIR entries below the next one go.
        self.prune();
    }

    fn used_bytes(&self) -> u64 {
        self.lir_bytes + self.hir_bytes
    }

    fn len(&self) -> usize {
        self.residents
    }

    #[inline]
    fn prefetch_index(&self, key: u32) {
        self.slot.prefetch(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: SimTime = SimTime::ZERO;
    const N: SimTime = SimTime::NEVER;

    fn request(c: &mut LirsCache, key: u32, size: u64) -> bool {
        let hit = c.get(key, T);
        if !hit {
            c.insert(key, size, N);
        }
        hit
    }

    /// 10,000 bytes: 9,900 for LIR objects, 100 for resident HIR ones (so nothing larger than
    /// 100 bytes is cached). 99 objects of 100 bytes fill the LIR bytes; the next objects are
    /// HIR; a HIR object requested again while still in S turns LIR, and the bottom LIR object is
    /// demoted to Q; a ghost requested again turns LIR too.
    #[test]
    fn lir_fills_first_and_a_reused_hir_object_takes_the_bottom_lir_place() {
        let mut c = LirsCache::new(10_000);
        assert!(!request(&mut c, 500, 101));
        assert_eq!(c.is_lir(500), None, "larger than the HIR share: not cached");
        for k in 0..99 {
            assert!(!request(&mut c, k, 100));
        }
        assert_eq!(c.lir_hir_bytes(), (9_900, 0));
        assert!(!request(&mut c, 100, 60));
        assert!(!request(&mut c, 101, 60), "Q holds 100 bytes: 100 leaves, a ghost in S");
        assert_eq!((c.is_lir(100), c.is_lir(101)), (None, Some(false)));
        assert_eq!(c.lir_hir_bytes(), (9_900, 60));
        // 101 again: turns LIR, and the bottom LIR object (0) is demoted to Q.
        assert!(request(&mut c, 101, 60));
        assert_eq!((c.is_lir(101), c.is_lir(0)), (Some(true), Some(false)));
        assert_eq!(c.lir_hir_bytes(), (9_860, 100));
        // 100, a ghost: a miss, inserted as LIR; 1 is demoted, pushing 0 out of Q.
        assert!(!request(&mut c, 100, 60));
        assert_eq!((c.is_lir(100), c.is_lir(1), c.is_lir(0)), (Some(true), Some(false), None));
        assert_eq!(c.lir_hir_bytes(), (9_820, 100));
        assert_eq!(c.len(), 100);
    }

    /// Ghosts are forgotten once S holds more than twice the cache's bytes.
    #[test]
    fn the_stack_is_bounded() {
        let mut c = LirsCache::new(1_000);
        for k in 0..99 {
            request(&mut c, k, 10);
        }
        for k in 100..1_000 {
            request(&mut c, k, 10);
        }
        c.get(0, T);
        assert!(c.s_bytes <= 2 * 1_000 + 10, "{}", c.s_bytes);
        assert!(c.used_bytes() <= 1_000);
    }
}
