//! Replaying a trace through one cache, counting as libCacheSim does: every request whose object
//! is not cached (or has expired) is a miss, from the first request on (no warm-up); after a miss
//! the object is inserted if it fits, evicting as the policy says; an object larger than the
//! cache is not admitted. Requests of size 0 are skipped and counted apart unless sizes are
//! ignored (a zero-byte object would never be evicted by size).
//!
//! Memory: the read buffer, the id map and the cache: it grows with the distinct objects, never
//! with the number of requests.

use super::{CacheSize, IdMap, ReadOptions, Request, TraceError, TraceReader, IDS_MAX, NO_GEO};
use crate::cache::{Admission, AdmissionFilter, AnyCache, EdgeCache, Policy};
use clipsim_engine::{SimDuration, SimTime};
use serde::Serialize;
use std::path::Path;

/// What to replay.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// The eviction policy.
    pub policy: Policy,
    /// The cache size; `None`: unlimited.
    pub size: Option<CacheSize>,
    /// A TTL for every object (required by the TTL-only policies).
    pub ttl: Option<SimDuration>,
    /// Count objects, not bytes: every object has size 1.
    pub ignore_obj_size: bool,
    /// Only requests from this geography (CSV with a geography column).
    pub geo: Option<String>,
    /// How to read the trace.
    pub read: ReadOptions,
    /// Seed of RANDOM's evictions.
    pub seed: u64,
    /// Add the analytical estimate ([`model_estimate`]; one more pass over the trace).
    pub model: bool,
    /// Which misses are cached.
    pub admission: Admission,
}

impl ReplayOptions {
    /// Options for `policy` at `size`, everything else default.
    pub fn new(policy: Policy, size: Option<CacheSize>) -> Self {
        ReplayOptions {
            policy,
            size,
            ttl: None,
            ignore_obj_size: false,
            geo: None,
            read: ReadOptions::default(),
            seed: crate::cache::RANDOM_DEFAULT_SEED,
            model: false,
            admission: Admission::Always,
        }
    }
}

/// Counts of one replay.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplayReport {
    /// Requests replayed.
    pub requests: u64,
    /// Hits.
    pub hits: u64,
    /// Misses / requests (`null` without requests).
    pub miss_ratio: Option<f64>,
    /// Bytes missed / bytes requested.
    pub byte_miss_ratio: Option<f64>,
    /// The policy, and the admission filter when there is one (`lru+second-hit`, [`label`]).
    pub policy: String,
    /// The cache size in bytes (objects with `ignore_obj_size`); `null`: unlimited.
    pub cache_size: Option<u64>,
    /// Whether sizes were ignored (every object counts 1).
    pub ignore_obj_size: bool,
    /// Bytes requested.
    pub bytes_requested: u64,
    /// Bytes served from the cache.
    pub bytes_hit: u64,
    /// Distinct objects requested.
    pub unique_objects: u64,
    /// Sum of the distinct objects' sizes (each at its first request).
    pub unique_bytes: u64,
    /// Records read (bad ones included).
    pub records: u64,
    /// Bad records skipped.
    pub bad_records: u64,
    /// Requests of size 0, skipped.
    pub zero_size_skipped: u64,
    /// Requests left out by the geography filter.
    pub other_geo_skipped: u64,
    /// The analytical estimate under the independent reference model, when asked for and the
    /// policy has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelEstimate>,
}

/// An analytical estimate of a replay: the trace's request frequencies taken as an independent
/// reference model (IRM), with [`crate::analytic`]'s formula for the policy: Che's approximation
/// for LRU, `lambda T / (1 + lambda T)` for FIFO and RANDOM, the exact TTL formulas for the
/// TTL-only policies (requests at the trace's mean rate). Real traces are not IRM; the gap
/// between the model and the replay measures how much their order matters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelEstimate {
    /// Which formula.
    pub model: &'static str,
    /// Predicted misses / requests.
    pub miss_ratio: f64,
    /// Predicted bytes missed / bytes requested.
    pub byte_miss_ratio: f64,
}

/// The IRM estimate for `opts` at `capacity` (see [`ModelEstimate`]); `None` for policies
/// without a model (every policy but LRU, FIFO, RANDOM and the TTL-only ones) or a trace without requests.
pub fn model_estimate(
    path: &Path,
    opts: &ReplayOptions,
    capacity: Option<u64>,
) -> Result<Option<ModelEstimate>, TraceError> {
    use crate::analytic::{capacity_model, ttl_model, Model, Timer};
    let name = match opts.policy {
        Policy::Lru => "che-lru",
        Policy::Fifo | Policy::Random => "fifo-random",
        Policy::Ttl => "ttl-on-miss",
        Policy::TtlReset => "ttl-reset",
        _ => return Ok(None),
    };
    let mut feed = Feed::open(path, &opts.read, opts.ignore_obj_size, opts.geo.clone(), IdMap::new())?;
    let (mut counts, mut sizes): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let (mut first, mut last, mut n) = (SimTime::NEVER, SimTime::ZERO, 0u64);
    let mut batch = Vec::with_capacity(super::BATCH);
    while feed.next(&mut batch)? {
        for d in &batch {
            if d.first {
                counts.push(0.0);
                sizes.push(d.size as f64);
            }
            counts[d.key as usize] += 1.0;
            first = first.min(d.now);
            last = last.max(d.now);
            n += 1;
        }
    }
    if n == 0 {
        return Ok(None);
    }
    let p: Vec<f64> = counts.iter().map(|c| c / n as f64).collect();
    let prediction = match opts.policy {
        Policy::Ttl | Policy::TtlReset => {
            let span = last.saturating_since(first).as_secs_f64();
            let ttl = opts.ttl.map_or(0.0, |t| t.as_secs_f64());
            if span <= 0.0 {
                return Ok(None);
            }
            let timer = if opts.policy == Policy::Ttl { Timer::OnMiss } else { Timer::Reset };
            ttl_model(timer, &p, Some(&sizes), n as f64 / span, ttl)
        }
        _ => {
            let model = if opts.policy == Policy::Lru { Model::Lru } else { Model::Fifo };
            capacity_model(model, &p, Some(&sizes), capacity.map_or(f64::INFINITY, |c| c as f64))
        }
    };
    Ok(Some(ModelEstimate {
        model: name,
        miss_ratio: 1.0 - prediction.hit_ratio,
        byte_miss_ratio: 1.0 - prediction.byte_hit_ratio,
    }))
}

/// Distinct objects and bytes of a trace (one streaming pass).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Requests (after the size-0 and geography filters).
    pub requests: u64,
    /// Distinct objects.
    pub objects: u64,
    /// Sum of their sizes at first request (objects when sizes are ignored).
    pub bytes: u64,
}

/// Streams the requests that count (geography filter, size-0 skip, sizes ignored or not) into
/// `f` in batches of `(dense id, size, time)`; returns the reader's counts and the skips.
pub(crate) struct Feed {
    pub reader: TraceReader,
    pub ids: IdMap,
    pub ignore_obj_size: bool,
    pub geo: Option<String>,
    pub zero_size_skipped: u64,
    pub other_geo_skipped: u64,
    /// Bytes fed so far: every byte count a replay or curve keeps (requested, hit, unique) is at
    /// most this, so refusing a trace whose total passes `u64::MAX` keeps them all exact.
    bytes_fed: u64,
    batch: Vec<Request>,
    path: std::path::PathBuf,
}

/// How many requests ahead the id map's slot is prefetched.
const PREFETCH_AHEAD: usize = 8;

/// A request ready for a cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dense {
    /// Dense object id.
    pub key: u32,
    /// Whether this is the object's first request.
    pub first: bool,
    /// Bytes (1 when sizes are ignored).
    pub size: u64,
    /// Simulated time.
    pub now: SimTime,
}

impl Feed {
    pub fn open(
        path: &Path,
        read: &ReadOptions,
        ignore_obj_size: bool,
        geo: Option<String>,
        ids: IdMap,
    ) -> Result<Feed, TraceError> {
        let reader = TraceReader::open(path, read)?;
        if geo.is_some() && !reader.has_geo() {
            return Err(TraceError::file(
                path,
                "a geography column to filter on (CSV with a `geo` header or --geo-col)",
            ));
        }
        Ok(Feed {
            reader,
            ids,
            ignore_obj_size,
            geo,
            zero_size_skipped: 0,
            other_geo_skipped: 0,
            bytes_fed: 0,
            batch: Vec::with_capacity(super::BATCH),
            path: path.to_path_buf(),
        })
    }

    /// The next batch of requests into `out` (cleared first); `Ok(false)` at the end.
    pub fn next(&mut self, out: &mut Vec<Dense>) -> Result<bool, TraceError> {
        out.clear();
        while out.is_empty() {
            if !self.reader.next_batch(&mut self.batch)? {
                return Ok(false);
            }
            let want_geo = match &self.geo {
                Some(g) => Some(self.reader.geo_index(g).unwrap_or(NO_GEO - 1)),
                None => None,
            };
            for (i, r) in self.batch.iter().enumerate() {
                if let Some(ahead) = self.batch.get(i + PREFETCH_AHEAD) {
                    self.ids.prefetch(ahead.id);
                }
                if let Some(g) = want_geo {
                    if r.geo != g {
                        self.other_geo_skipped += 1;
                        continue;
                    }
                }
                let size = if self.ignore_obj_size { 1 } else { r.size };
                if size == 0 {
                    self.zero_size_skipped += 1;
                    continue;
                }
                let Some(fed) = self.bytes_fed.checked_add(size) else {
                    return Err(TraceError::file(
                        &self.path,
                        format!(
                            "sizes that add up to at most {} bytes (byte counts are exact 64-bit integers; \
                             this trace's pass it)",
                            crate::report::format::count(u64::MAX)
                        ),
                    ));
                };
                self.bytes_fed = fed;
                let Some((key, first)) = self.ids.get_or_insert(r.id) else {
                    return Err(TraceError::file(&self.path, format!("at most {IDS_MAX} distinct objects")));
                };
                out.push(Dense { key, first, size, now: SimTime(r.time.saturating_mul(1_000_000)) });
            }
        }
        Ok(true)
    }
}

/// Counts the distinct objects and bytes of a trace; returns the id map it built (replays reuse
/// it, so dense ids are the same).
pub fn footprint(
    path: &Path,
    read: &ReadOptions,
    ignore_obj_size: bool,
    geo: Option<&str>,
) -> Result<(Footprint, IdMap), TraceError> {
    let mut feed = Feed::open(path, read, ignore_obj_size, geo.map(str::to_string), IdMap::new())?;
    let mut fp = Footprint::default();
    let mut batch = Vec::with_capacity(super::BATCH);
    while feed.next(&mut batch)? {
        for d in &batch {
            fp.requests += 1;
            if d.first {
                fp.objects += 1;
                fp.bytes += d.size;
            }
        }
    }
    Ok((fp, feed.ids))
}

#[derive(Default)]
struct Counts {
    requests: u64,
    hits: u64,
    bytes: u64,
    bytes_hit: u64,
    objects: u64,
    unique_bytes: u64,
}

#[inline(never)]
fn run<C: EdgeCache>(
    cache: &mut C,
    admit: &mut AdmissionFilter,
    feed: &mut Feed,
    ttl: Option<SimDuration>,
) -> Result<Counts, TraceError> {
    let mut c = Counts::default();
    let mut batch = Vec::with_capacity(super::BATCH);
    while feed.next(&mut batch)? {
        for d in &batch {
            c.requests += 1;
            c.bytes += d.size;
            if d.first {
                c.objects += 1;
                c.unique_bytes += d.size;
            }
            if cache.get(d.key, d.now) {
                c.hits += 1;
                c.bytes_hit += d.size;
            } else if admit.admits(d.key, d.now) {
                let expires = match ttl {
                    Some(t) => d.now.saturating_add(t),
                    None => SimTime::NEVER,
                };
                cache.insert(d.key, d.size, expires);
            }
        }
    }
    Ok(c)
}

/// The next request of each request of the trace (a first pass for Belady), the dense keys
/// being those of a fresh id map (every pass numbers objects alike, in order of first request).
pub(crate) fn future(
    path: &Path,
    read: &ReadOptions,
    ignore_obj_size: bool,
    geo: Option<String>,
) -> Result<std::sync::Arc<Vec<u32>>, TraceError> {
    let mut feed = Feed::open(path, read, ignore_obj_size, geo, IdMap::new())?;
    let mut keys: Vec<u32> = Vec::new();
    let mut batch = Vec::with_capacity(super::BATCH);
    while feed.next(&mut batch)? {
        if keys.len() + batch.len() >= crate::cache::NEVER_AGAIN as usize {
            return Err(TraceError::file(
                path,
                format!(
                    "at most {} requests for belady (its table of next requests is 32-bit)",
                    crate::cache::NEVER_AGAIN - 1
                ),
            ));
        }
        keys.extend(batch.iter().map(|d| d.key));
    }
    Ok(std::sync::Arc::new(crate::cache::next_requests(&keys)))
}

/// How a result names its cache: the policy, and the admission filter when there is one
/// (`lru+second-hit`).
pub fn label(policy: Policy, admission: Admission) -> String {
    match admission {
        Admission::Always => policy.name().to_string(),
        a => format!("{}+{}", policy.name(), a.name()),
    }
}

/// Replays `path` through one cache.
pub fn replay(path: &Path, opts: &ReplayOptions) -> Result<ReplayReport, TraceError> {
    if opts.policy.is_ttl_only() && opts.ttl.is_none() {
        return Err(TraceError::file(path, format!("a --ttl for the {} policy", opts.policy.name())));
    }
    let (capacity, ids, known) = match opts.size {
        None => (None, IdMap::new(), None),
        Some(CacheSize::Absolute(b)) => (Some(b), IdMap::new(), None),
        Some(share) => {
            let (fp, ids) = footprint(path, &opts.read, opts.ignore_obj_size, opts.geo.as_deref())?;
            let size = share.resolve(fp.bytes);
            if size == 0 {
                // `--size 0` is refused when parsed; a share that rounds down to it is refused here.
                let unit = if opts.ignore_obj_size { "objects" } else { "bytes" };
                return Err(TraceError::file(
                    path,
                    format!(
                        "a --size that leaves a cache of at least one {}: the share is of the trace's {} unique {unit}, \
                         which rounds down to 0",
                        &unit[..unit.len() - 1],
                        crate::report::format::count(fp.bytes)
                    ),
                ));
            }
            (Some(size), ids, Some(fp))
        }
    };
    let future = match opts.policy.is_offline() {
        true => Some(future(path, &opts.read, opts.ignore_obj_size, opts.geo.clone())?),
        false => None,
    };
    let mut feed = Feed::open(path, &opts.read, opts.ignore_obj_size, opts.geo.clone(), ids)?;
    let mut cache = AnyCache::for_trace(opts.policy, capacity.unwrap_or(u64::MAX), opts.seed, future.as_ref());
    let mut admit = opts.admission.filter();
    let c = match &mut cache {
        AnyCache::List(x) => run(x, &mut admit, &mut feed, opts.ttl),
        AnyCache::S3Fifo(x) => run(x, &mut admit, &mut feed, opts.ttl),
        AnyCache::Lfu(x) => run(x, &mut admit, &mut feed, opts.ttl),
        AnyCache::Ttl(x) => run(x, &mut admit, &mut feed, opts.ttl),
        AnyCache::Random(x) => run(x, &mut admit, &mut feed, opts.ttl),
        AnyCache::Belady(x) => run(x, &mut admit, &mut feed, opts.ttl),
        AnyCache::TwoQ(x) => run(x, &mut admit, &mut feed, opts.ttl),
        AnyCache::Arc(x) => run(x, &mut admit, &mut feed, opts.ttl),
        AnyCache::Gdsf(x) => run(x, &mut admit, &mut feed, opts.ttl),
        AnyCache::WTinyLfu(x) => run(x, &mut admit, &mut feed, opts.ttl),
        AnyCache::Lirs(x) => run(x, &mut admit, &mut feed, opts.ttl),
    }?;
    let stats = feed.reader.stats();
    let model = if opts.model { model_estimate(path, opts, capacity)? } else { None };
    let ratio = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
    Ok(ReplayReport {
        requests: c.requests,
        hits: c.hits,
        miss_ratio: ratio(c.requests - c.hits, c.requests),
        byte_miss_ratio: ratio(c.bytes - c.bytes_hit, c.bytes),
        policy: label(opts.policy, opts.admission),
        cache_size: capacity,
        ignore_obj_size: opts.ignore_obj_size,
        bytes_requested: c.bytes,
        bytes_hit: c.bytes_hit,
        unique_objects: known.map_or(c.objects, |f| f.objects),
        unique_bytes: known.map_or(c.unique_bytes, |f| f.bytes),
        records: stats.records,
        bad_records: stats.bad_records,
        zero_size_skipped: feed.zero_size_skipped,
        other_geo_skipped: feed.other_geo_skipped,
        model,
    })
}
