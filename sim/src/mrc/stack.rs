//! The LRU miss-ratio curve in one pass over a trace, by stack distances.
//!
//! Under LRU with byte capacity `C` (evict from the tail
//! until the new object fits; an object larger than `C` is never admitted), the cache always
//! holds the longest prefix of the recency stack, counting only objects of at most `C` bytes,
//! whose sizes add up to at most `C`. (A hit reorders objects inside that prefix; a miss puts the
//! object on top and drops objects from the bottom of the prefix until it fits.) So a request for
//! `x` hits at capacity `C` exactly when `x` was requested before, `size(x) <= C`, and
//! `size(x)` plus the sizes of the distinct objects of at most `C` bytes requested since `x`'s
//! previous request is at most `C`. The sum is a range sum over last-access times: a Fenwick
//! tree holds each object's size at the time of its last request, so each request costs
//! O(log n). Objects larger than some capacity of the curve go into separate trees (one per
//! band between consecutive capacities), so the curve stays exact for them too; on an ordinary
//! trace only the first tree is used. Positions are renumbered when they run out, so memory grows
//! with the distinct objects, not with the requests. The curve is exact when objects keep their
//! size between requests (a cached LRU object keeps the size it was inserted with, as
//! libCacheSim does; the stack uses the latest size).
//!

const NONE: u32 = u32::MAX;

/// A Fenwick (binary indexed) tree of byte sums over positions `1..=n`.
#[derive(Clone, Debug)]
struct Fenwick {
    t: Vec<u64>,
    /// Entries with a non-zero weight.
    live: u64,
}

impl Fenwick {
    fn new(n: usize) -> Self {
        Fenwick { t: vec![0; n + 1], live: 0 }
    }

    #[inline]
    fn add(&mut self, mut i: usize, v: u64) {
        while i < self.t.len() {
            self.t[i] = self.t[i].wrapping_add(v);
            i += i & i.wrapping_neg();
        }
    }

    #[inline]
    fn sub(&mut self, mut i: usize, v: u64) {
        while i < self.t.len() {
            self.t[i] = self.t[i].wrapping_sub(v);
            i += i & i.wrapping_neg();
        }
    }

    /// Sum over `1..=i`.
    #[inline]
    fn prefix(&self, mut i: usize) -> u64 {
        let mut s = 0u64;
        while i > 0 {
            s = s.wrapping_add(self.t[i]);
            i &= i - 1;
        }
        s
    }

    /// Rebuilds from raw per-position values (`raw[0]` unused) in O(n).
    fn build(&mut self, raw: &[u64]) {
        self.t.clear();
        self.t.extend_from_slice(raw);
        let n = self.t.len();
        for i in 1..n {
            let j = i + (i & i.wrapping_neg());
            if j < n {
                self.t[j] = self.t[j].wrapping_add(self.t[i]);
            }
        }
    }
}

/// Hits and byte hits per capacity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Requests seen.
    pub requests: u64,
    /// Bytes requested.
    pub bytes: u64,
    /// Hits at each capacity (in the order given).
    pub hits: Vec<u64>,
    /// Bytes hit at each capacity.
    pub bytes_hit: Vec<u64>,
}

/// One-pass LRU hit counts at many byte capacities (see the module documentation).
#[derive(Clone, Debug)]
pub struct LruStack {
    /// Capacities, ascending, and their positions in the caller's order.
    caps: Vec<u64>,
    order: Vec<usize>,
    /// One tree per band: band `b` holds objects with `caps[b-1] < size <= caps[b]` (band 0:
    /// `size <= caps[0]`; the last band: larger than every capacity).
    trees: Vec<Fenwick>,
    /// key -> position of its last request (1-based), or NONE.
    pos_of: Vec<u32>,
    /// key -> (size, band) at its last request.
    size_of: Vec<(u64, u8)>,
    /// position -> key (NONE: stale).
    key_at: Vec<u32>,
    next_pos: usize,
    /// Objects whose last request put them in a band other than 0.
    large_live: u64,
    /// Fast path: hits counted at the smallest capacity that hits (a difference array: a hit
    /// there is a hit at every larger capacity); `[n]`: no capacity hits.
    hits: Vec<u64>,
    bytes_hit: Vec<u64>,
    /// Slow path (objects larger than some capacity seen): hits counted at each capacity.
    hits_at: Vec<u64>,
    bytes_hit_at: Vec<u64>,
    requests: u64,
    bytes: u64,
    distinct: u64,
    /// Requests whose size differed from their object's previous request.
    size_changes: u64,
}

impl LruStack {
    /// A stack for these capacities (bytes, or objects when every size is 1); at most 254.
    pub fn new(capacities: &[u64]) -> Self {
        let mut order: Vec<usize> = (0..capacities.len()).collect();
        order.sort_by_key(|&i| capacities[i]);
        let caps: Vec<u64> = order.iter().map(|&i| capacities[i]).collect();
        assert!(caps.len() < 255, "at most 254 capacities per curve");
        let positions = 1 << 12;
        LruStack {
            // Band 0 at once; the others when an object first lands in them.
            trees: (0..=caps.len()).map(|b| Fenwick::new(if b == 0 { positions } else { 0 })).collect(),
            hits: vec![0; caps.len() + 1],
            bytes_hit: vec![0; caps.len() + 1],
            hits_at: vec![0; caps.len()],
            bytes_hit_at: vec![0; caps.len()],
            caps,
            order,
            pos_of: Vec::new(),
            size_of: Vec::new(),
            key_at: vec![NONE; positions + 1],
            next_pos: 1,
            large_live: 0,
            requests: 0,
            bytes: 0,
            distinct: 0,
            size_changes: 0,
        }
    }

    #[inline]
    fn band(&self, size: u64) -> u8 {
        self.caps.partition_point(|&c| c < size) as u8
    }

    /// One request for dense object `key` of `size` bytes.
    #[inline]
    pub fn access(&mut self, key: u32, size: u64) {
        let k = key as usize;
        if k >= self.pos_of.len() {
            self.pos_of.resize(k + 1, NONE);
            self.size_of.resize(k + 1, (0, 0));
        }
        self.requests += 1;
        self.bytes += size;
        let band = self.band(size);
        let last = self.pos_of[k];
        let n = self.caps.len();
        if last != NONE {
            let last = last as usize;
            let (old_size, old_band) = self.size_of[k];
            if old_size != size {
                self.size_changes += 1;
            }
            let tree = &mut self.trees[old_band as usize];
            tree.sub(last, old_size);
            tree.live -= 1;
            if old_band > 0 {
                self.large_live -= 1;
            }
            self.key_at[last] = NONE;
            let now = self.next_pos - 1;
            // Fast path: only small objects so far (band 0).
            if self.large_live == 0 && band == 0 {
                let t = &self.trees[0];
                let d = size + (t.prefix(now) - t.prefix(last));
                let from = self.caps.partition_point(|&c| c < d);
                self.hits[from] += 1;
                self.bytes_hit[from] += size;
            } else {
                let mut d = size;
                for i in 0..n {
                    let t = &self.trees[i];
                    if t.live > 0 {
                        d += t.prefix(now) - t.prefix(last);
                    }
                    if i >= band as usize && d <= self.caps[i] {
                        self.hits_at[i] += 1;
                        self.bytes_hit_at[i] += size;
                    }
                }
            }
        } else {
            self.distinct += 1;
        }
        if self.next_pos >= self.key_at.len() {
            self.renumber();
        }
        let p = self.next_pos;
        self.next_pos += 1;
        let positions = self.key_at.len();
        let tree = &mut self.trees[band as usize];
        if tree.t.len() != positions {
            // An empty tree is all zeros at any length.
            tree.t.resize(positions, 0);
        }
        tree.add(p, size);
        tree.live += 1;
        if band > 0 {
            self.large_live += 1;
        }
        self.key_at[p] = key;
        self.pos_of[k] = p as u32;
        self.size_of[k] = (size, band);
    }

    /// Packs live positions to `1..=live` (keeping their order), growing if more than half full.
    #[cold]
    fn renumber(&mut self) {
        let live = self.distinct as usize;
        let mut positions = self.key_at.len() - 1;
        while live * 2 > positions {
            positions *= 2;
        }
        let mut raw: Vec<Vec<u64>> =
            self.trees.iter().map(|t| if t.t.len() > 1 { vec![0; positions + 1] } else { Vec::new() }).collect();
        let mut key_at = vec![NONE; positions + 1];
        let mut q = 1;
        for p in 1..self.next_pos {
            let key = self.key_at[p];
            if key == NONE {
                continue;
            }
            let (size, band) = self.size_of[key as usize];
            raw[band as usize][q] = size;
            key_at[q] = key;
            self.pos_of[key as usize] = q as u32;
            q += 1;
        }
        for (tree, raw) in self.trees.iter_mut().zip(&raw) {
            if !raw.is_empty() {
                tree.build(raw);
            }
        }
        self.key_at = key_at;
        self.next_pos = q;
    }

    /// Requests seen.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Requests whose size differed from their object's previous request (the curve is exact
    /// when there are none).
    pub fn size_changes(&self) -> u64 {
        self.size_changes
    }

    /// Hits and byte hits at each capacity, in the order the capacities were given.
    pub fn tally(&self) -> Tally {
        let n = self.caps.len();
        let (mut h, mut b) = (0u64, 0u64);
        let mut hits = vec![0; n];
        let mut bytes_hit = vec![0; n];
        for i in 0..n {
            h += self.hits[i];
            b += self.bytes_hit[i];
            hits[self.order[i]] = h + self.hits_at[i];
            bytes_hit[self.order[i]] = b + self.bytes_hit_at[i];
        }
        Tally { requests: self.requests, bytes: self.bytes, hits, bytes_hit }
    }

    /// Bytes held (grows with the distinct objects).
    pub fn heap_bytes(&self) -> usize {
        self.trees.iter().map(|t| t.t.capacity() * 8).sum::<usize>()
            + self.pos_of.capacity() * 4
            + self.size_of.capacity() * 16
            + self.key_at.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{EdgeCache, ListCache, Policy};
    use clipsim_engine::SimTime;

    /// LRU replayed at each capacity, the reference for the stack.
    fn replayed(reqs: &[(u32, u64)], caps: &[u64]) -> Tally {
        let mut t = Tally { hits: vec![0; caps.len()], bytes_hit: vec![0; caps.len()], ..Default::default() };
        for (i, &c) in caps.iter().enumerate() {
            let mut cache = ListCache::new(Policy::Lru, c);
            for &(k, s) in reqs {
                if cache.get(k, SimTime::ZERO) {
                    t.hits[i] += 1;
                    t.bytes_hit[i] += s;
                } else {
                    cache.insert(k, s, SimTime::NEVER);
                }
            }
        }
        t.requests = reqs.len() as u64;
        t.bytes = reqs.iter().map(|r| r.1).sum();
        t
    }

    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn the_stack_matches_replays_with_uniform_and_varied_sizes() {
        let mut seed = 7;
        for objects in [5u64, 50, 3000] {
            // Sizes fixed per object; some objects larger than the small capacities.
            let size_of = |k: u64| 1 + (k * 2654435761) % 97;
            let reqs: Vec<(u32, u64)> = (0..20_000)
                .map(|_| {
                    let r = lcg(&mut seed) % (objects * objects);
                    let k = (r as f64).sqrt() as u64; // skewed
                    (k as u32, size_of(k))
                })
                .collect();
            let caps = [300, 1, 50, 96, 97, 2_000, 10_000, 100];
            let mut s = LruStack::new(&caps);
            for &(k, sz) in &reqs {
                s.access(k, sz);
            }
            assert_eq!(s.tally(), replayed(&reqs, &caps), "{objects} objects");
        }
    }

    #[test]
    fn renumbering_keeps_the_order() {
        let mut s = LruStack::new(&[3, 10]);
        let mut reqs = Vec::new();
        for i in 0..50_000u32 {
            reqs.push((i % 7 + (i / 1000) * 7, 1));
        }
        for &(k, sz) in &reqs {
            s.access(k, sz);
        }
        assert_eq!(s.tally(), replayed(&reqs, &[3, 10]));
        assert!(s.heap_bytes() < 1 << 20);
    }
}
