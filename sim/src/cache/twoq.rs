//! 2Q (Johnson and Shasha, VLDB 1994), as libCacheSim's `twoQ` runs it with its default
//! parameters: a FIFO `Ain` of a quarter of the bytes for objects seen once, an LRU `Am` of the
//! rest for objects seen again, and a ghost FIFO `Aout` (ids and sizes only, half the bytes) of
//! what `Ain` evicted. A lookup checks `Ain` (a hit there changes nothing), then takes the object
//! out of `Aout` if it is there, then checks `Am` (a hit moves it to the front). A miss is
//! admitted to `Am` when it was in `Aout`, else to `Ain`; room is made first: from `Ain` into
//! `Aout` while `Ain` holds more than its quarter, else from `Am`'s least recently used end. An
//! object larger than `Ain` is not admitted.

use super::list::ListCache;
use super::{EdgeCache, Lookup, Policy};
use clipsim_engine::SimTime;

/// `Ain`'s share of the bytes.
pub const AIN_SHARE: f64 = 0.25;
/// `Aout`'s share of the bytes (ghost entries count their objects' sizes).
pub const AOUT_SHARE: f64 = 0.5;

/// A 2Q cache.
#[derive(Clone, Debug)]
pub struct TwoQCache {
    capacity_bytes: u64,
    ain_bytes: u64,
    /// FIFO, no capacity of its own (this cache keeps it to `ain_bytes` when making room).
    ain: ListCache,
    /// LRU of `capacity_bytes - ain_bytes`.
    am: ListCache,
    /// Ghost FIFO of `AOUT_SHARE` of the bytes.
    aout: ListCache,
    /// The last lookup took its key out of `Aout`.
    ghost_hit: bool,
}

impl TwoQCache {
    /// An empty cache of `capacity_bytes`.
    pub fn new(capacity_bytes: u64) -> Self {
        // Truncated as libCacheSim's `int64_t = int64_t * double` does.
        let ain_bytes = (capacity_bytes as f64 * AIN_SHARE) as u64;
        let aout_bytes = (capacity_bytes as f64 * AOUT_SHARE) as u64;
        TwoQCache {
            capacity_bytes,
            ain_bytes,
            ain: ListCache::new(Policy::Fifo, u64::MAX),
            am: ListCache::new(Policy::Lru, capacity_bytes - ain_bytes),
            aout: ListCache::new(Policy::Fifo, aout_bytes),
            ghost_hit: false,
        }
    }
}

impl EdgeCache for TwoQCache {
    fn lookup(&mut self, key: u32, now: SimTime) -> Lookup {
        self.ghost_hit = false;
        match self.ain.lookup(key, now) {
            Lookup::Miss => {}
            found => return found,
        }
        self.ghost_hit = self.aout.take(key);
        self.am.lookup(key, now)
    }

    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool {
        if size_bytes > self.ain_bytes || size_bytes > self.capacity_bytes {
            return false;
        }
        self.ain.take(key);
        self.am.take(key);
        while self.ain.used_bytes() + self.am.used_bytes() + size_bytes > self.capacity_bytes {
            if self.ain.used_bytes() > self.ain_bytes {
                if let Some((k, s)) = self.ain.pop_victim() {
                    self.aout.insert(k, s, SimTime::NEVER);
                }
            } else if self.am.pop_victim().is_none() {
                break;
            }
        }
        if std::mem::take(&mut self.ghost_hit) {
            self.am.insert(key, size_bytes, expires_at)
        } else {
            self.ain.insert(key, size_bytes, expires_at)
        }
    }

    fn remove(&mut self, key: u32) {
        self.ain.take(key);
        self.aout.take(key);
        self.am.take(key);
    }

    fn used_bytes(&self) -> u64 {
        self.ain.used_bytes() + self.am.used_bytes()
    }

    fn len(&self) -> usize {
        self.ain.len() + self.am.len()
    }
}
