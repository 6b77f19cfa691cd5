//! RANDOM: the victim is a uniformly random cached object, drawn from a seeded PCG stream (the
//! same seed gives the same evictions). Objects sit in a dense array; eviction swaps the victim
//! with the last one, so every step is O(1).

use super::index::SlotIndex;
use super::{EdgeCache, Lookup, NONE};
use clipsim_engine::SimTime;
use rand::RngCore;
use rand_pcg::Pcg64Mcg;

/// The seed [`super::AnyCache::new`] uses.
pub const DEFAULT_SEED: u64 = 0x5EED_CAC4E;

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u32,
    size_bytes: u64,
    expires_at: SimTime,
}

/// A random-eviction cache.
#[derive(Clone, Debug)]
pub struct RandomCache {
    capacity_bytes: u64,
    used_bytes: u64,
    slot: SlotIndex,
    entries: Vec<Entry>,
    rng: Pcg64Mcg,
}

impl RandomCache {
    /// An empty cache whose evictions draw from a stream seeded with `seed`.
    pub fn new(capacity_bytes: u64, seed: u64) -> Self {
        let a = crate::rng::splitmix64(seed);
        let b = crate::rng::splitmix64(a ^ 0x7261_6E64_6F6D);
        RandomCache {
            capacity_bytes,
            used_bytes: 0,
            slot: SlotIndex::default(),
            entries: Vec::new(),
            rng: Pcg64Mcg::new((u128::from(a) << 64) | u128::from(b) | 1),
        }
    }

    fn drop_at(&mut self, i: u32) {
        let e = self.entries.swap_remove(i as usize);
        self.slot.clear(e.key);
        self.used_bytes -= e.size_bytes;
        if let Some(moved) = self.entries.get(i as usize) {
            self.slot.set(moved.key, i);
        }
    }
}

impl EdgeCache for RandomCache {
    #[inline]
    fn lookup(&mut self, key: u32, now: SimTime) -> Lookup {
        let i = self.slot.get(key);
        if i == NONE {
            return Lookup::Miss;
        }
        if self.entries[i as usize].expires_at <= now {
            self.drop_at(i);
            return Lookup::Expired;
        }
        Lookup::Hit
    }

    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool {
        if size_bytes > self.capacity_bytes {
            return false;
        }
        let existing = self.slot.get(key);
        if existing != NONE {
            self.drop_at(existing);
        }
        while self.used_bytes + size_bytes > self.capacity_bytes {
            let n = self.entries.len() as u64;
            let victim = ((u128::from(self.rng.next_u64()) * u128::from(n)) >> 64) as u32;
            self.drop_at(victim);
        }
        self.slot.set(key, self.entries.len() as u32);
        self.entries.push(Entry { key, size_bytes, expires_at });
        self.used_bytes += size_bytes;
        true
    }

    fn remove(&mut self, key: u32) {
        let i = self.slot.get(key);
        if i != NONE {
            self.drop_at(i);
        }
    }

    fn used_bytes(&self) -> u64 {
        self.used_bytes
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_randomly_but_reproducibly() {
        let run = |seed| {
            let mut c = RandomCache::new(50, seed);
            let mut hits = Vec::new();
            for k in 0..200u32 {
                let key = (k * 7) % 13;
                let hit = c.get(key, SimTime::ZERO);
                if !hit {
                    c.insert(key, 10, SimTime::NEVER);
                }
                hits.push(hit);
                assert!(c.used_bytes() <= 50 && c.len() <= 5);
            }
            hits
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn remove_keeps_the_index_consistent() {
        let mut c = RandomCache::new(100, 3);
        for k in 0..5 {
            c.insert(k, 10, SimTime::NEVER);
        }
        c.remove(0);
        c.remove(0);
        for k in 1..5 {
            assert!(c.get(k, SimTime::ZERO));
        }
        assert_eq!((c.len(), c.used_bytes()), (4, 40));
    }
}
