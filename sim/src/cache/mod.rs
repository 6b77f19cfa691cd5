//! Edge caches: byte-capacity caches keyed by dense ids, with per-object expiry (a CDN's TTL).
//!
//! Every policy sits behind [`EdgeCache`]; [`AnyCache`] picks one at run time. Lookups and
//! inserts are O(1) (amortised for SIEVE's hand, S3-FIFO's reinsertions and LIRS's pruning;
//! O(log n) for the heaps of GDSF and Belady) and never allocate once the id index and the node
//! slabs have grown to their high-water marks. An object larger than the whole cache is not
//! admitted. An object whose expiry has passed is a miss ([`Lookup::Expired`]) and is dropped
//! when looked up.
//!
//! Policies: LRU, FIFO, SIEVE, CLOCK ([`ListCache`]), S3-FIFO ([`S3FifoCache`]), LFU ([`LfuCache`]),
//! TTL-only with the timer set on a miss or reset on every hit ([`TtlCache`]), RANDOM
//! ([`RandomCache`]), Belady's MIN ([`BeladyCache`], traces only), 2Q ([`TwoQCache`]), ARC
//! ([`ArcCache`]), GDSF ([`GdsfCache`]), W-TinyLFU ([`WTinyLfuCache`]) and LIRS ([`LirsCache`]).
//! A lookup of an object that is cached with another size is a hit and keeps the cached size (as
//! libCacheSim does). An [`Admission`] filter in front of any of them decides which misses are
//! cached at all.

mod admission;
mod arc;
mod belady;
mod gdsf;
mod index;
mod lfu;
mod links;
mod lirs;
mod list;
mod random;
mod s3fifo;
mod ttl;
mod twoq;
mod wtinylfu;

pub use admission::{Admission, AdmissionFilter};
pub use arc::ArcCache;
pub use belady::{next_requests, BeladyCache, NEVER_AGAIN};
pub use gdsf::GdsfCache;
pub use lfu::LfuCache;
pub use lirs::LirsCache;
pub use list::ListCache;
pub use random::{RandomCache, DEFAULT_SEED as RANDOM_DEFAULT_SEED};
pub use s3fifo::S3FifoCache;
pub use ttl::TtlCache;
pub use twoq::TwoQCache;
pub use wtinylfu::WTinyLfuCache;

use clipsim_engine::SimTime;

/// "No slot" in the dense index.
pub(crate) const NONE: u32 = u32::MAX;

/// What a lookup found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Present and unexpired.
    Hit,
    /// Present but expired: dropped now. A CDN that revalidates asks its origin whether its copy
    /// is still current instead of fetching the object again.
    Expired,
    /// Not present.
    Miss,
}

/// An edge cache.
pub trait EdgeCache {
    /// Looks `key` up at `now`. A hit updates the policy's bookkeeping (recency, frequency,
    /// visited bit); an expired object is dropped.
    fn lookup(&mut self, key: u32, now: SimTime) -> Lookup;
    /// [`EdgeCache::lookup`], `true` on a hit.
    #[inline(always)]
    fn get(&mut self, key: u32, now: SimTime) -> bool {
        self.lookup(key, now) == Lookup::Hit
    }
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
    /// Hints that `key` will be looked up soon (first step: its index entry). Performance only;
    /// the default does nothing.
    #[inline]
    fn prefetch_index(&self, _key: u32) {}
    /// Hints that `key` will be looked up soon (second step, after the first had time to land:
    /// its entry). Performance only; the default does nothing.
    #[inline]
    fn prefetch_entry(&self, _key: u32) {}
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
    /// S3-FIFO (Yang et al., SOSP 2023): small, main and ghost FIFO queues.
    S3Fifo,
    /// Least frequently used (ties: the oldest in its frequency).
    Lfu,
    /// TTL only, the timer set on a miss: an object leaves when its TTL runs out.
    Ttl,
    /// TTL only, the timer reset on every hit (an idle timeout).
    TtlReset,
    /// Evicts a uniformly random object (seeded).
    Random,
    /// CLOCK with one bit (FIFO with reinsertion, libCacheSim's `Clock`): a hit sets the
    /// object's bit; eviction looks at the oldest object and, if its bit is set, clears it and
    /// moves it to the newest end, else evicts it.
    Clock,
    /// Belady's MIN: evicts the object requested again furthest in the future. Offline: only on
    /// a trace (`replay`, `mrc`), whose next requests a first pass computes.
    Belady,
    /// 2Q (Johnson and Shasha, VLDB 1994), libCacheSim's `twoQ` with its defaults: a FIFO for
    /// objects seen once (a quarter of the bytes), an LRU for objects seen again, a ghost FIFO of
    /// what the first evicted (half the bytes).
    TwoQ,
    /// ARC (Megiddo and Modha, FAST 2003) with sizes in bytes, as libCacheSim's `ARC`.
    Arc,
    /// GDSF (Cherkasova, 1998), libCacheSim's `GDSF`: priority `L + frequency * 10^6 / size`, the\n    /// lowest evicted, `L` raised to the evicted priority.
    Gdsf,
    /// W-TinyLFU (Einziger, Friedman and Manes, 2017), libCacheSim's `WTinyLFU-w0.01-SLRU`: an LRU
    /// window of 1 % in front of an SLRU main cache, a frequency sketch choosing between victims.
    WTinyLfu,
    /// LIRS (Jiang and Zhang, 2002) with sizes in bytes, libCacheSim's `LIRS`: 99 % of the bytes for
    /// objects with a short reuse distance, 1 % for the others, a stack of ghosts to tell them apart.
    Lirs,
}

impl Policy {
    /// Names accepted in scenario files and on the command line.
    pub const NAMES: [&'static str; 15] = [
        "lru",
        "fifo",
        "sieve",
        "s3fifo",
        "lfu",
        "ttl",
        "ttl-reset",
        "random",
        "clock",
        "belady",
        "2q",
        "arc",
        "gdsf",
        "wtinylfu",
        "lirs",
    ];

    /// Every policy, in [`Policy::NAMES`] order.
    pub const ALL: [Policy; 15] = [
        Policy::Lru,
        Policy::Fifo,
        Policy::Sieve,
        Policy::S3Fifo,
        Policy::Lfu,
        Policy::Ttl,
        Policy::TtlReset,
        Policy::Random,
        Policy::Clock,
        Policy::Belady,
        Policy::TwoQ,
        Policy::Arc,
        Policy::Gdsf,
        Policy::WTinyLfu,
        Policy::Lirs,
    ];

    /// The policy with this name (case-insensitive; `s3-fifo` and `ttl_reset` spellings too).
    pub fn parse(name: &str) -> Option<Policy> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "lru" => Some(Policy::Lru),
            "fifo" => Some(Policy::Fifo),
            "sieve" => Some(Policy::Sieve),
            "s3fifo" | "s3-fifo" => Some(Policy::S3Fifo),
            "lfu" => Some(Policy::Lfu),
            "ttl" => Some(Policy::Ttl),
            "ttl-reset" => Some(Policy::TtlReset),
            "random" => Some(Policy::Random),
            "clock" => Some(Policy::Clock),
            "belady" => Some(Policy::Belady),
            "2q" | "twoq" => Some(Policy::TwoQ),
            "arc" => Some(Policy::Arc),
            "gdsf" => Some(Policy::Gdsf),
            "wtinylfu" | "w-tinylfu" | "tinylfu" => Some(Policy::WTinyLfu),
            "lirs" => Some(Policy::Lirs),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Lru => "lru",
            Policy::Fifo => "fifo",
            Policy::Sieve => "sieve",
            Policy::S3Fifo => "s3fifo",
            Policy::Lfu => "lfu",
            Policy::Ttl => "ttl",
            Policy::TtlReset => "ttl-reset",
            Policy::Random => "random",
            Policy::Clock => "clock",
            Policy::Belady => "belady",
            Policy::TwoQ => "2q",
            Policy::Arc => "arc",
            Policy::Gdsf => "gdsf",
            Policy::WTinyLfu => "wtinylfu",
            Policy::Lirs => "lirs",
        }
    }

    /// Whether it needs the future (Belady): only a trace has one.
    pub fn is_offline(self) -> bool {
        self == Policy::Belady
    }

    /// Whether objects leave only when their TTL runs out (or the byte capacity forces it).
    pub fn is_ttl_only(self) -> bool {
        matches!(self, Policy::Ttl | Policy::TtlReset)
    }
}

/// A cache of any policy (enum dispatch: no virtual call on the request path).
#[derive(Clone, Debug)]
pub enum AnyCache {
    /// LRU, FIFO, SIEVE or CLOCK.
    List(ListCache),
    /// S3-FIFO.
    S3Fifo(S3FifoCache),
    /// LFU.
    Lfu(LfuCache),
    /// TTL only.
    Ttl(TtlCache),
    /// RANDOM.
    Random(RandomCache),
    /// Belady's MIN.
    Belady(BeladyCache),
    /// 2Q.
    TwoQ(TwoQCache),
    /// ARC.
    Arc(ArcCache),
    /// gdsf.
    Gdsf(GdsfCache),
    /// W-TinyLFU.
    WTinyLfu(WTinyLfuCache),
    /// LIRS.
    Lirs(LirsCache),
}

/// Code generic over the cache type, run by [`with_policy`] for one policy's type: how a caller
/// compiles its loop once per policy (no dispatch per request).
pub trait PolicyVisitor {
    /// What the visit returns.
    type Output;
    /// Runs with `make`, which builds an empty cache of the policy.
    fn visit<C: EdgeCache + Into<AnyCache> + 'static>(self, make: &dyn Fn() -> C) -> Self::Output;
}

/// Calls `visitor` with a maker of `policy`'s caches holding at most `capacity_bytes` (`u64::MAX`
/// for unlimited), RANDOM's eviction stream seeded with `seed`. The one place that maps a policy
/// to its type.
pub fn with_policy<V: PolicyVisitor>(policy: Policy, capacity_bytes: u64, seed: u64, visitor: V) -> V::Output {
    match policy {
        Policy::Lru | Policy::Fifo | Policy::Sieve | Policy::Clock => {
            visitor.visit(&|| ListCache::new(policy, capacity_bytes))
        }
        Policy::S3Fifo => visitor.visit(&|| S3FifoCache::new(capacity_bytes)),
        Policy::Lfu => visitor.visit(&|| LfuCache::new(capacity_bytes)),
        Policy::Ttl => visitor.visit(&|| TtlCache::new(capacity_bytes, false)),
        Policy::TtlReset => visitor.visit(&|| TtlCache::new(capacity_bytes, true)),
        Policy::Random => visitor.visit(&|| RandomCache::new(capacity_bytes, seed)),
        // Without a future every object is never requested again (see `AnyCache::belady`).
        Policy::Belady => visitor.visit(&|| BeladyCache::new(capacity_bytes, Default::default())),
        Policy::TwoQ => visitor.visit(&|| TwoQCache::new(capacity_bytes)),
        Policy::Arc => visitor.visit(&|| ArcCache::new(capacity_bytes)),
        Policy::Gdsf => visitor.visit(&|| GdsfCache::new(capacity_bytes)),
        Policy::WTinyLfu => visitor.visit(&|| WTinyLfuCache::new(capacity_bytes)),
        Policy::Lirs => visitor.visit(&|| LirsCache::new(capacity_bytes)),
    }
}

impl AnyCache {
    /// A cache of `policy` holding at most `capacity_bytes` (`u64::MAX` for unlimited).
    pub fn new(policy: Policy, capacity_bytes: u64) -> Self {
        AnyCache::with_seed(policy, capacity_bytes, RANDOM_DEFAULT_SEED)
    }

    /// Like [`AnyCache::new`], with the seed of RANDOM's eviction stream (ignored by the others).
    pub fn with_seed(policy: Policy, capacity_bytes: u64, seed: u64) -> Self {
        struct Any;
        impl PolicyVisitor for Any {
            type Output = AnyCache;
            fn visit<C: EdgeCache + Into<AnyCache> + 'static>(self, make: &dyn Fn() -> C) -> AnyCache {
                make().into()
            }
        }
        with_policy(policy, capacity_bytes, seed, Any)
    }
}

impl AnyCache {
    /// A cache of `policy` for a trace whose next requests are `future` ([`next_requests`]):
    /// Belady reads them; every other policy ignores them.
    pub fn for_trace(
        policy: Policy,
        capacity_bytes: u64,
        seed: u64,
        future: Option<&std::sync::Arc<Vec<u32>>>,
    ) -> Self {
        match (policy, future) {
            (Policy::Belady, Some(f)) => AnyCache::Belady(BeladyCache::new(capacity_bytes, f.clone())),
            _ => AnyCache::with_seed(policy, capacity_bytes, seed),
        }
    }
}

macro_rules! into_any {
    ($($variant:ident($ty:ty)),*) => {$(
        impl From<$ty> for AnyCache {
            fn from(c: $ty) -> Self {
                AnyCache::$variant(c)
            }
        }
    )*};
}
into_any!(
    List(ListCache),
    S3Fifo(S3FifoCache),
    Lfu(LfuCache),
    Ttl(TtlCache),
    Random(RandomCache),
    Belady(BeladyCache),
    TwoQ(TwoQCache),
    Arc(ArcCache),
    Gdsf(GdsfCache),
    WTinyLfu(WTinyLfuCache),
    Lirs(LirsCache)
);

/// Forwards a call to the policy inside.
macro_rules! each {
    ($self:expr, $c:ident => $body:expr) => {
        match $self {
            AnyCache::List($c) => $body,
            AnyCache::S3Fifo($c) => $body,
            AnyCache::Lfu($c) => $body,
            AnyCache::Ttl($c) => $body,
            AnyCache::Random($c) => $body,
            AnyCache::Belady($c) => $body,
            AnyCache::TwoQ($c) => $body,
            AnyCache::Arc($c) => $body,
            AnyCache::Gdsf($c) => $body,
            AnyCache::WTinyLfu($c) => $body,
            AnyCache::Lirs($c) => $body,
        }
    };
}

impl EdgeCache for AnyCache {
    #[inline]
    fn lookup(&mut self, key: u32, now: SimTime) -> Lookup {
        each!(self, c => c.lookup(key, now))
    }
    #[inline]
    fn insert(&mut self, key: u32, size_bytes: u64, expires_at: SimTime) -> bool {
        each!(self, c => c.insert(key, size_bytes, expires_at))
    }
    fn remove(&mut self, key: u32) {
        each!(self, c => c.remove(key))
    }
    fn used_bytes(&self) -> u64 {
        each!(self, c => c.used_bytes())
    }
    fn len(&self) -> usize {
        each!(self, c => c.len())
    }
    #[inline]
    fn prefetch_index(&self, key: u32) {
        each!(self, c => c.prefetch_index(key))
    }
    #[inline]
    fn prefetch_entry(&self, key: u32) {
        each!(self, c => c.prefetch_entry(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (p, n) in Policy::ALL.iter().zip(Policy::NAMES) {
            assert_eq!(p.name(), n);
            assert_eq!(Policy::parse(n), Some(*p));
            assert_eq!(Policy::parse(&n.to_uppercase()), Some(*p));
        }
        assert_eq!(Policy::parse("S3-FIFO"), Some(Policy::S3Fifo));
        assert_eq!(Policy::parse("ttl_reset"), Some(Policy::TtlReset));
        assert_eq!(Policy::parse("TwoQ"), Some(Policy::TwoQ));
        assert_eq!(Policy::parse("clock-pro"), None);
    }

    #[test]
    fn every_policy_keeps_within_capacity_and_refuses_oversized_objects() {
        for p in Policy::ALL {
            let mut c = AnyCache::new(p, 1000);
            assert!(!c.insert(1, 1001, SimTime::NEVER), "{p:?}");
            for k in 0..500u32 {
                let key = (k * 37) % 101;
                let now = SimTime(u64::from(k));
                if !c.get(key, now) {
                    c.insert(key, 10 + u64::from(key % 7) * 10, SimTime(u64::from(k) + 1_000));
                }
                assert!(c.used_bytes() <= 1000, "{p:?}");
            }
            assert!(!c.is_empty(), "{p:?}");
        }
    }
}
