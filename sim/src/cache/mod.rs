//! Edge caches: byte-capacity caches keyed by dense ids, with per-object expiry (a CDN's TTL).
//!
//! Every policy sits behind [`EdgeCache`]; [`AnyCache`] picks one at run time. Lookups and
//! inserts are O(1) (amortised for SIEVE's hand) and never allocate once the id index has grown
//! to the largest id. An object larger than the whole cache is not admitted. An object whose
//! expiry has passed is a miss and is dropped when looked up.

mod list;

pub use list::ListCache;

use clipsim_engine::SimTime;

/// "No slot" in the dense index.
pub(crate) const NONE: u32 = u32::MAX;

/// An edge cache.
pub trait EdgeCache {
    /// Looks `key` up at `now`; `true` on a hit (present and unexpired). A hit updates the
    /// policy's bookkeeping (recency, frequency, visited bit).
    fn get(&mut self, key: u32, now: SimTime) -> bool;
    /// Stores `key` after a miss, evicting as needed; it stays valid until `expires_at`.
    /// Returns `false` when it is not admitted (larger than the cache).
    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool;
    /// Drops `key` if present (a purge).
    fn remove(&mut self, key: u32);
    /// Bytes held.
    fn used_bytes(&self) -> u64;
    /// Objects held.
    fn len(&self) -> usize;
    /// Whether it holds nothing.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The eviction policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Least recently used.
    Lru,
    /// First in, first out.
    Fifo,
    /// SIEVE (Zhang et al., NSDI 2024): FIFO order, a visited bit, and a hand that spares
    /// visited objects once.
    Sieve,
}

impl Policy {
    /// Names accepted in scenario files and on the command line.
    pub const NAMES: [&'static str; 3] = ["lru", "fifo", "sieve"];

    /// The policy with this name.
    pub fn parse(name: &str) -> Option<Policy> {
        match name.to_ascii_lowercase().as_str() {
            "lru" => Some(Policy::Lru),
            "fifo" => Some(Policy::Fifo),
            "sieve" => Some(Policy::Sieve),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Lru => "lru",
            Policy::Fifo => "fifo",
            Policy::Sieve => "sieve",
        }
    }
}

/// A cache of any policy (enum dispatch: no virtual call on the request path).
#[derive(Clone, Debug)]
pub enum AnyCache {
    /// LRU, FIFO or SIEVE.
    List(ListCache),
}

impl AnyCache {
    /// A cache of `policy` holding at most `capacity_bytes` (`u64::MAX` for unlimited).
    pub fn new(policy: Policy, capacity_bytes: u64) -> Self {
        match policy {
            Policy::Lru | Policy::Fifo | Policy::Sieve => AnyCache::List(ListCache::new(policy, capacity_bytes)),
        }
    }
}

impl EdgeCache for AnyCache {
    #[inline]
    fn get(&mut self, key: u32, now: SimTime) -> bool {
        match self {
            AnyCache::List(c) => c.get(key, now),
        }
    }
    #[inline]
    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool {
        match self {
            AnyCache::List(c) => c.insert(key, size_bytes, expires_at),
        }
    }
    fn remove(&mut self, key: u32) {
        match self {
            AnyCache::List(c) => c.remove(key),
        }
    }
    fn used_bytes(&self) -> u64 {
        match self {
            AnyCache::List(c) => c.used_bytes(),
        }
    }
    fn len(&self) -> usize {
        match self {
            AnyCache::List(c) => c.len(),
        }
    }
}
