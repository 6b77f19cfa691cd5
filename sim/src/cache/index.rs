//! The key -> slot index of a cache.
//!
//! Two representations behind one type, chosen by the key space:
//!
//! * **Direct**: an array indexed by key, grown on demand to the largest key seen. One load per
//!   lookup, the cheapest there is while the array stays in the CPU's caches.
//! * **Hashed**: an open-addressing table of only the keys held. A cache holds a few thousand to
//!   a few hundred thousand objects; with a catalog of tens of millions of ids, the direct array
//!   costs 4 bytes per id per cache and a random memory access per lookup far outside the CPU's
//!   caches, while the table (at most a quarter full, 8 bytes per entry) stays in cache with the
//!   cache's own nodes. It costs more instructions per lookup (a hash and a probe loop). At a
//!   quarter full a probe rarely goes past the home entry; at half full the probe and shift loops
//!   cost 11 more instructions per request at 10 M clips (docs/benchmarks.md).
//!
//! The index starts direct and turns hashed, once, when a key at or above [`DIRECT_KEYS_MAX`]
//! arrives. Which one is in use changes no result, only speed and memory.
//!
//! The table probes linearly from a multiplicative (Fibonacci) hash and deletes by backward
//! shift, so there are no tombstones and a lookup never probes past the first empty entry. It is
//! never iterated, so nothing depends on hash order. Both grow by doubling and never shrink, so
//! they stop allocating once the cache has reached its high-water mark.

use super::NONE;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(8))]
struct Entry {
    /// The key, or NONE when the entry is empty.
    key: u32,
    slot: u32,
}

const EMPTY: Entry = Entry { key: NONE, slot: NONE };

/// Entries of the first table.
const MIN_ENTRIES: usize = 16;

/// Keys below this index a direct array (16 MiB per cache at most); the first key at or above it
/// turns the index into a hash table. Measured (docs/benchmarks.md): the direct array is faster
/// at 1.6 M keys, the table at 10 M.
pub(crate) const DIRECT_KEYS_MAX: u32 = 1 << 22;

/// A key -> slot map (NONE when absent). Keys are below `u32::MAX`.
///
/// While direct, the table is empty; once hashed, the array is. So a lookup tries the array first
/// and asks which representation is in use only for a key outside it: the direct path costs what
/// a bare array does.
#[derive(Clone, Debug, Default)]
pub(crate) struct SlotIndex {
    direct: Vec<u32>,
    hashed: HashSlots,
    is_hashed: bool,
}

impl SlotIndex {
    /// The slot of `key`, or NONE.
    #[inline]
    pub fn get(&self, key: u32) -> u32 {
        self.lookup(key, HashSlots::get)
    }

    /// The slot of `key` if finding it takes one load, else NONE: a cheap lookup for hints.
    #[inline]
    pub fn get_cheap(&self, key: u32) -> u32 {
        self.lookup(key, HashSlots::get_at_home)
    }

    /// The array's entry for `key`, or else, if hashed, what `in_table` finds.
    #[inline(always)]
    fn lookup(&self, key: u32, in_table: fn(&HashSlots, u32) -> u32) -> u32 {
        match self.direct.get(key as usize) {
            Some(&slot) => slot,
            None if self.is_hashed => in_table(&self.hashed, key),
            None => NONE,
        }
    }

    /// Maps `key` to `slot` (inserting or replacing).
    #[inline]
    pub fn set(&mut self, key: u32, slot: u32) {
        debug_assert!(key != NONE, "u32::MAX is not a key");
        if let Some(s) = self.direct.get_mut(key as usize) {
            *s = slot;
        } else if !self.is_hashed && key < DIRECT_KEYS_MAX {
            self.direct.resize(key as usize + 1, NONE);
            self.direct[key as usize] = slot;
        } else {
            self.set_hashed(key, slot);
        }
    }

    /// `set` once the index is (or is about to turn) hashed. Out of line, like the other calls
    /// into the table, so that the direct path stays as small as a bare array's.
    #[inline(never)]
    fn set_hashed(&mut self, key: u32, slot: u32) {
        // Every key at or above DIRECT_KEYS_MAX comes here: the one check that keeps the table's
        // empty marker out of it, off the direct path.
        assert!(key != NONE, "u32::MAX is not a key");
        if self.is_hashed {
            self.hashed.set(key, slot);
        } else {
            self.turn_hashed_and_set(key, slot);
        }
    }

    /// Moves the array's keys into the table, once, then maps `key`. Apart from `set_hashed`, so
    /// that its every call is a check and a jump into the table, with no registers to save.
    #[cold]
    #[inline(never)]
    fn turn_hashed_and_set(&mut self, key: u32, slot: u32) {
        for (k, &s) in self.direct.iter().enumerate() {
            if s != NONE {
                self.hashed.set(k as u32, s);
            }
        }
        self.direct = Vec::new();
        self.is_hashed = true;
        self.hashed.set(key, slot);
    }

    /// Unmaps `key` if it is mapped.
    #[inline]
    pub fn clear(&mut self, key: u32) {
        match self.direct.get_mut(key as usize) {
            Some(s) => *s = NONE,
            None if self.is_hashed => self.hashed.clear(key),
            None => {}
        }
    }

    /// Hints that `key` will be looked up soon: starts loading its entry. Performance only.
    #[inline]
    pub fn prefetch(&self, key: u32) {
        match self.direct.get(key as usize) {
            Some(s) => clipsim_engine::hint::prefetch(s),
            None if self.is_hashed => self.hashed.prefetch(key),
            None => {}
        }
    }

    /// Whether the index is a hash table.
    #[cfg(test)]
    pub fn is_hashed(&self) -> bool {
        self.is_hashed
    }
}

/// The hash table: a key -> slot map of only the keys held.
#[derive(Clone, Debug)]
pub(crate) struct HashSlots {
    entries: Vec<Entry>,
    /// `32 - log2(entries.len())`: the hash's top bits pick the home entry.
    shift: u32,
    len: usize,
}

impl Default for HashSlots {
    fn default() -> Self {
        HashSlots { entries: vec![EMPTY; MIN_ENTRIES], shift: 32 - MIN_ENTRIES.trailing_zeros(), len: 0 }
    }
}

impl HashSlots {
    /// The entry where `key`'s probe starts.
    #[inline(always)]
    fn home(&self, key: u32) -> usize {
        // Fibonacci hashing: consecutive keys (the popular clips have the smallest ids) land
        // far apart.
        (key.wrapping_mul(0x9E37_79B9) >> self.shift) as usize
    }

    #[inline(always)]
    fn mask(&self) -> usize {
        self.entries.len() - 1
    }

    /// Where `key` is, or the empty entry that ends its probe.
    #[inline(always)]
    fn find(&self, key: u32) -> usize {
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            let e = self.entries[i];
            if e.key == key || e.key == NONE {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot of `key`, or NONE.
    #[inline(never)]
    pub fn get(&self, key: u32) -> u32 {
        self.entries[self.find(key)].slot
    }

    /// The slot of `key` if it sits in its home entry (most keys do), else NONE: a cheap
    /// lookup for hints.
    #[inline(never)]
    pub fn get_at_home(&self, key: u32) -> u32 {
        let e = self.entries[self.home(key)];
        if e.key == key {
            e.slot
        } else {
            NONE
        }
    }

    /// Maps `key` to `slot` (inserting or replacing).
    #[inline]
    pub fn set(&mut self, key: u32, slot: u32) {
        let mut i = self.find(key);
        if self.entries[i].key == NONE {
            if (self.len + 1) * 4 > self.entries.len() {
                self.grow();
                i = self.find(key);
            }
            self.len += 1;
        }
        self.entries[i] = Entry { key, slot };
    }

    /// Unmaps `key` if it is mapped.
    #[inline(never)]
    pub fn clear(&mut self, key: u32) {
        let mut hole = self.find(key);
        if self.entries[hole].key == NONE {
            return;
        }
        // Backward shift: move each later entry of the run whose home is not after the hole
        // into the hole, so that every key stays reachable from its home without gaps.
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let e = self.entries[j];
            if e.key == NONE {
                break;
            }
            let home = self.home(e.key);
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.entries[hole] = e;
                hole = j;
            }
        }
        self.entries[hole] = EMPTY;
        self.len -= 1;
    }

    /// Hints that `key` will be looked up soon: starts loading its home entry. Performance only.
    #[inline(never)]
    pub fn prefetch(&self, key: u32) {
        clipsim_engine::hint::prefetch(&self.entries[self.home(key)]);
    }

    fn grow(&mut self) {
        let doubled = vec![EMPTY; self.entries.len() * 2];
        let old = std::mem::replace(&mut self.entries, doubled);
        self.shift -= 1;
        for e in old.into_iter().filter(|e| e.key != NONE) {
            let i = self.find(e.key);
            self.entries[i] = e;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Clone, Debug)]
    enum Op {
        Set(u32, u32),
        Clear(u32),
    }

    /// Few distinct keys, so that sets, replacements and clears collide.
    fn small_keys() -> impl Strategy<Value = u32> + Clone {
        0u32..64
    }

    /// Small keys and, rarely, large ones (which turn a `SlotIndex` hashed).
    fn any_keys() -> impl Strategy<Value = u32> + Clone {
        prop_oneof![20 => 0u32..64, 1 => DIRECT_KEYS_MAX..DIRECT_KEYS_MAX + 8, 1 => (u32::MAX - 8)..=(u32::MAX - 1)]
    }

    fn ops(key: impl Strategy<Value = u32> + Clone) -> impl Strategy<Value = Vec<Op>> {
        let op = prop_oneof![(key.clone(), 0u32..1000).prop_map(|(k, s)| Op::Set(k, s)), key.prop_map(Op::Clear)];
        proptest::collection::vec(op, 0..400)
    }

    /// Applies `ops` to a reference map and, through `set`/`clear`, to an index; checks `get`
    /// of the key touched after each step and of every key at the end.
    fn check(
        ops: Vec<Op>,
        mut set: impl FnMut(u32, u32),
        mut clear: impl FnMut(u32),
        get: &dyn Fn(u32) -> u32,
        keys: &[u32],
    ) -> Result<(), TestCaseError> {
        let mut model = BTreeMap::new();
        for op in ops {
            let k = match op {
                Op::Set(k, s) => {
                    set(k, s);
                    model.insert(k, s);
                    k
                }
                Op::Clear(k) => {
                    clear(k);
                    model.remove(&k);
                    k
                }
            };
            prop_assert_eq!(get(k), model.get(&k).copied().unwrap_or(NONE), "key {} after {:?}", k, op);
        }
        for &k in keys {
            prop_assert_eq!(get(k), model.get(&k).copied().unwrap_or(NONE), "key {}", k);
        }
        Ok(())
    }

    fn all_keys() -> Vec<u32> {
        (0u32..64).chain(DIRECT_KEYS_MAX..DIRECT_KEYS_MAX + 8).chain((u32::MAX - 8)..=(u32::MAX - 1)).collect()
    }

    proptest! {
        /// The hash table behaves like a map whatever the collisions, wrap-arounds and growth,
        /// and stays at most a quarter full.
        #[test]
        fn hash_table_behaves_like_a_map(ops in ops(small_keys())) {
            let h = std::cell::RefCell::new(HashSlots::default());
            check(ops, |k, s| h.borrow_mut().set(k, s), |k| h.borrow_mut().clear(k), &|k| h.borrow().get(k), &all_keys())?;
            let h = h.borrow();
            prop_assert!(h.len * 4 <= h.entries.len(), "{} keys in {} entries", h.len, h.entries.len());
            prop_assert_eq!(h.len, h.entries.iter().filter(|e| e.key != NONE).count());
        }

        /// The index behaves like a map before, across and after its switch to the hash table.
        #[test]
        fn index_behaves_like_a_map(ops in ops(any_keys())) {
            let large = ops.iter().any(|op| matches!(op, Op::Set(k, _) if *k >= DIRECT_KEYS_MAX));
            let index = std::cell::RefCell::new(SlotIndex::default());
            check(ops, |k, s| index.borrow_mut().set(k, s), |k| index.borrow_mut().clear(k), &|k| index.borrow().get(k), &all_keys())?;
            prop_assert_eq!(index.borrow().is_hashed(), large, "hashed exactly when a large key was set");
        }
    }

    #[test]
    fn clearing_keeps_the_rest_of_a_wrapped_run_reachable() {
        let mut h = HashSlots::default();
        // Keys whose home is the last entry, so that their run wraps around to the start.
        let last: Vec<u32> = (0..u32::MAX).filter(|&k| h.home(k) == MIN_ENTRIES - 1).take(4).collect();
        for (s, &k) in last.iter().enumerate() {
            h.set(k, s as u32);
        }
        h.clear(last[0]);
        assert_eq!(h.get(last[0]), NONE);
        for (s, &k) in last.iter().enumerate().skip(1) {
            assert_eq!(h.get(k), s as u32);
        }
        assert_eq!(h.get_at_home(last[1]), 1, "the next key moved back to its home");
    }
}
