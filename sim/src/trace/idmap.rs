//! Arbitrary 64-bit object ids to dense ids (`0, 1, 2, ...` in order of first appearance).
//!
//! Small ids (below a bound that grows with the number of distinct ids, so that the array costs
//! at most about as much as the hash table would) index an array directly: many traces number
//! their objects densely, and one array load is the cheapest lookup there is. Other ids go to an
//! open-addressing table with linear probing and a fixed mixing function. Neither is iterated for
//! output, so nothing depends on hash order, and the same trace always gives the same dense ids.
//! Load factor at most 1/2; both grow by doubling, so lookups are O(1) expected and memory grows
//! with the number of distinct objects, not with the number of requests.

/// Slots marked empty hold this value.
const EMPTY: u32 = u32::MAX;

/// The most distinct objects a map holds: dense ids are `u32`, and `u32::MAX` means "none" in the
/// caches.
pub const IDS_MAX: u32 = u32::MAX - 1;

/// The id map.
#[derive(Clone, Debug)]
pub struct IdMap {
    /// Dense id of every original id below its length (EMPTY: not seen). Invariant: no id below
    /// `direct.len()` is in `slots`.
    direct: Vec<u32>,
    /// (original id, dense id) per slot; dense id EMPTY marks a free slot.
    slots: Vec<(u64, u32)>,
    mask: usize,
    /// Ids in `slots`.
    hashed: u32,
    len: u32,
}

/// The direct array starts this long and may always grow to this length.
const DIRECT_MIN: usize = 1 << 16;
/// The direct array may grow to this many entries per distinct id (plus [`DIRECT_MIN`]).
const DIRECT_PER_ID: usize = 4;

#[inline]
fn mix(x: u64) -> u64 {
    // MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
    let mut x = x ^ (x >> 33);
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

impl Default for IdMap {
    fn default() -> Self {
        IdMap::new()
    }
}

impl IdMap {
    /// An empty map.
    pub fn new() -> Self {
        IdMap::with_capacity(1 << 10)
    }

    /// An empty map sized for about `n` ids.
    pub fn with_capacity(n: usize) -> Self {
        let slots = (n.max(8) * 2).next_power_of_two();
        IdMap { direct: vec![EMPTY; DIRECT_MIN], slots: vec![(0, EMPTY); slots], mask: slots - 1, hashed: 0, len: 0 }
    }

    /// Distinct ids seen.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether no id has been seen.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<(u64, u32)>() + self.direct.capacity() * 4
    }

    /// Hints that `id` will be looked up soon: starts loading its slot. Performance only.
    #[inline]
    pub fn prefetch(&self, id: u64) {
        match self.direct.get(id as usize) {
            Some(v) => clipsim_engine::hint::prefetch(v),
            None => clipsim_engine::hint::prefetch(&self.slots[mix(id) as usize & self.mask]),
        }
    }

    /// The dense id of `id`, if seen.
    #[inline]
    pub fn get(&self, id: u64) -> Option<u32> {
        if let Some(&v) = self.direct.get(id as usize) {
            return (v != EMPTY).then_some(v);
        }
        let mut i = mix(id) as usize & self.mask;
        loop {
            let (k, v) = self.slots[i];
            if v == EMPTY {
                return None;
            }
            if k == id {
                return Some(v);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The dense id of `id`, assigning the next one if it is new: `(dense id, new?)`.
    /// `None` once [`IDS_MAX`] distinct ids are held and `id` is not one of them.
    #[inline]
    pub fn get_or_insert(&mut self, id: u64) -> Option<(u32, bool)> {
        if let Some(&v) = self.direct.get(id as usize) {
            if v != EMPTY {
                return Some((v, false));
            }
            if self.len >= IDS_MAX {
                return None;
            }
            let v = self.len;
            self.direct[id as usize] = v;
            self.len += 1;
            return Some((v, true));
        }
        if id < ((self.len as usize + 1) * DIRECT_PER_ID + DIRECT_MIN) as u64 {
            self.grow_direct(id as usize);
            return self.get_or_insert(id);
        }
        let mut i = mix(id) as usize & self.mask;
        loop {
            let (k, v) = self.slots[i];
            if v == EMPTY {
                break;
            }
            if k == id {
                return Some((v, false));
            }
            i = (i + 1) & self.mask;
        }
        if self.len >= IDS_MAX {
            return None;
        }
        let v = self.len;
        self.slots[i] = (id, v);
        self.len += 1;
        self.hashed += 1;
        if self.hashed as usize * 2 > self.slots.len() {
            self.grow();
        }
        Some((v, true))
    }

    /// Grows the direct array to cover `id` (doubling), moving the ids it now covers out of the
    /// hash table.
    #[cold]
    fn grow_direct(&mut self, id: usize) {
        let new_len = (id + 1).next_power_of_two().max(self.direct.len() * 2);
        self.direct.resize(new_len, EMPTY);
        if self.hashed == 0 {
            return;
        }
        let n = self.slots.len();
        let old = std::mem::replace(&mut self.slots, vec![(0, EMPTY); n]);
        self.hashed = 0;
        for (k, v) in old {
            if v == EMPTY {
                continue;
            }
            if k < new_len as u64 {
                self.direct[k as usize] = v;
            } else {
                let mut i = mix(k) as usize & self.mask;
                while self.slots[i].1 != EMPTY {
                    i = (i + 1) & self.mask;
                }
                self.slots[i] = (k, v);
                self.hashed += 1;
            }
        }
    }

    #[cold]
    fn grow(&mut self) {
        let new_len = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![(0, EMPTY); new_len]);
        self.mask = new_len - 1;
        for (k, v) in old {
            if v == EMPTY {
                continue;
            }
            let mut i = mix(k) as usize & self.mask;
            while self.slots[i].1 != EMPTY {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = (k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_dense_in_order_of_first_appearance() {
        let mut m = IdMap::with_capacity(1);
        let ids = [42u64, u64::MAX, 0, 42, 7, 0, 1 << 40];
        let dense: Vec<(u32, bool)> = ids.iter().map(|&i| m.get_or_insert(i).unwrap()).collect();
        assert_eq!(dense, [(0, true), (1, true), (2, true), (0, false), (3, true), (2, false), (4, true)]);
        assert_eq!(m.len(), 5);
        assert_eq!(m.get(7), Some(3));
        assert_eq!(m.get(8), None);
    }

    #[test]
    fn small_and_large_ids_mix() {
        let mut m = IdMap::new();
        let mut want = Vec::new();
        // Large ids first (hashed), then small ones that make the direct array grow over them.
        for i in 0..20_000u64 {
            let id = if i % 2 == 0 { 70_000 + i * 13 } else { u64::MAX - i };
            want.push((id, m.get_or_insert(id).unwrap().0));
        }
        for i in 0..300_000u64 {
            let id = i * 3;
            want.push((id, m.get_or_insert(id).unwrap().0));
        }
        for &(id, v) in &want {
            assert_eq!(m.get(id), Some(v), "{id}");
            assert_eq!(m.get_or_insert(id), Some((v, false)), "{id}");
        }
        assert_eq!(m.len() as usize, want.len() - overlap(&want));
    }

    fn overlap(want: &[(u64, u32)]) -> usize {
        let mut ids: Vec<u64> = want.iter().map(|w| w.0).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        n - ids.len()
    }

    #[test]
    fn survives_growth_with_clustered_keys() {
        let mut m = IdMap::new();
        for i in 0..100_000u64 {
            assert_eq!(m.get_or_insert(i << 20), Some((i as u32, true)));
        }
        for i in 0..100_000u64 {
            assert_eq!(m.get(i << 20), Some(i as u32));
        }
        assert!(m.heap_bytes() <= 100_000 * 4 * 16);
    }
}
