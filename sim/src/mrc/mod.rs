//! Miss-ratio curves: miss ratio against cache size, for several policies.
//!
//! LRU's curve comes from one pass over the trace ([`stack`]: stack distances, exact); every
//! other policy replays each size in its own cache, all fed from one read of the trace. The
//! curves are written as CSV here and drawn by [`chart`]; [`write_dir`] writes both into a
//! directory atomically, as a report is written.

pub mod chart;
pub mod stack;

pub use chart::to_svg;
pub use stack::{LruStack, Tally};

use crate::cache::{Admission, AdmissionFilter, AnyCache, EdgeCache, Policy};
use crate::report::{OutputError, Staging};
use crate::trace::replay::{footprint, Dense, Feed};
use crate::trace::{CacheSize, ReadOptions, TraceError};
use clipsim_engine::{SimDuration, SimTime};
use std::path::{Path, PathBuf};

/// Requests handed to the replay workers at a time.
const CHUNK: usize = 1 << 16;

/// One cache of a curve and its counts.
struct Replayed {
    policy: Policy,
    /// Index into the sorted sizes.
    size: usize,
    cache: AnyCache,
    admit: AdmissionFilter,
    hits: u64,
    bytes_hit: u64,
}

impl Replayed {
    fn feed(&mut self, chunk: &[Dense], ttl: Option<SimDuration>) {
        for d in chunk {
            if self.cache.get(d.key, d.now) {
                self.hits += 1;
                self.bytes_hit += d.size;
            } else if self.admit.admits(d.key, d.now) {
                let exp = ttl.map_or(SimTime::NEVER, |t| d.now.saturating_add(t));
                self.cache.insert(d.key, d.size, exp);
            }
        }
    }
}

/// What to draw a curve of.
#[derive(Clone, Debug)]
pub struct MrcOptions {
    /// Policies.
    pub policies: Vec<Policy>,
    /// Sizes.
    pub sizes: Vec<CacheSize>,
    /// A TTL for every object (required by the TTL-only policies).
    pub ttl: Option<SimDuration>,
    /// Count objects, not bytes.
    pub ignore_obj_size: bool,
    /// Only requests from this geography.
    pub geo: Option<String>,
    /// How to read the trace.
    pub read: ReadOptions,
    /// Seed of RANDOM's evictions.
    pub seed: u64,
    /// Threads replaying the caches (0: one per core); the result does not depend on it.
    pub threads: usize,
    /// Replay LRU at each size instead of using the one-pass stack (exact even when objects
    /// change size between requests).
    pub lru_by_replay: bool,
    /// Which misses the caches admit (every policy's but Belady's, which stays the bound of
    /// eviction alone).
    pub admission: Admission,
}

/// One point of a curve.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The policy.
    pub policy: Policy,
    /// The size as asked for (`10%`, `1GB`).
    pub size_label: String,
    /// Bytes (objects when sizes are ignored).
    pub cache_size: u64,
    /// `cache_size` / the trace's unique bytes (objects).
    pub share: f64,
    /// Requests.
    pub requests: u64,
    /// Hits.
    pub hits: u64,
    /// Misses / requests.
    pub miss_ratio: f64,
    /// Bytes missed / bytes requested.
    pub byte_miss_ratio: f64,
    /// How it was computed: `stack` (LRU, one pass) or `replay`.
    pub method: &'static str,
}

/// A set of curves.
#[derive(Clone, Debug)]
pub struct Curves {
    /// Points, by policy (in the order asked) then size (ascending).
    pub points: Vec<Point>,
    /// Unique bytes (objects) of the trace.
    pub unique: u64,
    /// Requests.
    pub requests: u64,
    /// Bad records skipped.
    pub bad_records: u64,
    /// Whether sizes were ignored.
    pub ignore_obj_size: bool,
    /// With the one-pass LRU stack: requests whose size differed from their object's previous
    /// request. The stack weighs each object by its latest size while a replayed cache keeps the
    /// size an object was inserted with, so LRU points may differ slightly from replays when
    /// this is not zero (`lru_by_replay` replays instead).
    pub size_changes: u64,
    /// The caches' admission filter.
    pub admission: Admission,
}

impl Curves {
    /// How the CSV and the chart name `policy`'s curve: with the admission filter
    /// ([`crate::trace::replay::label`]), but for Belady, which has none.
    pub fn label(&self, policy: Policy) -> String {
        match policy.is_offline() {
            true => policy.name().to_string(),
            false => crate::trace::replay::label(policy, self.admission),
        }
    }
}

/// Computes the curves with one pass to size the trace and one pass feeding every cache: the
/// LRU stack on the reading thread, the other caches on `threads` workers (each cache sees every
/// request in trace order).
pub fn curves(path: &Path, opts: &MrcOptions, labels: &[String]) -> Result<Curves, TraceError> {
    if opts.policies.iter().any(|p| p.is_ttl_only()) && opts.ttl.is_none() {
        return Err(TraceError::file(path, "a --ttl for the TTL-only policies"));
    }
    let (unique, ids) = {
        let (fp, ids) = footprint(path, &opts.read, opts.ignore_obj_size, opts.geo.as_deref())?;
        (fp.bytes, ids)
    };
    let mut sizes: Vec<(u64, String)> =
        opts.sizes.iter().zip(labels).map(|(s, l)| (s.resolve(unique).max(1), l.clone())).collect();
    sizes.sort_by_key(|s| s.0);
    sizes.dedup_by_key(|s| s.0);
    let caps: Vec<u64> = sizes.iter().map(|s| s.0).collect();
    let use_stack = opts.ttl.is_none()
        && !opts.lru_by_replay
        && opts.admission == Admission::Always
        && opts.policies.contains(&Policy::Lru);
    let mut stack = use_stack.then(|| LruStack::new(&caps));
    let future = match opts.policies.iter().any(|p| p.is_offline()) {
        true => Some(crate::trace::replay::future(path, &opts.read, opts.ignore_obj_size, opts.geo.clone())?),
        false => None,
    };
    let mut caches: Vec<Replayed> = Vec::new();
    for &p in &opts.policies {
        if p == Policy::Lru && use_stack {
            continue;
        }
        for (i, &c) in caps.iter().enumerate() {
            caches.push(Replayed {
                policy: p,
                size: i,
                cache: AnyCache::for_trace(p, c, opts.seed, future.as_ref()),
                admit: if p.is_offline() { Admission::Always.filter() } else { opts.admission.filter() },
                hits: 0,
                bytes_hit: 0,
            });
        }
    }
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
    .clamp(1, caches.len().max(1));
    // Round-robin groups: each worker owns its caches and sees every request in order, so the
    // result does not depend on the number of threads.
    let mut groups: Vec<Vec<Replayed>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, c) in caches.into_iter().enumerate() {
        groups[i % threads].push(c);
    }
    let mut feed = Feed::open(path, &opts.read, opts.ignore_obj_size, opts.geo.clone(), ids)?;
    let ttl = opts.ttl;
    let (mut requests, mut bytes) = (0u64, 0u64);
    let caches: Vec<Replayed> = std::thread::scope(|scope| -> Result<Vec<Replayed>, TraceError> {
        let mut senders = Vec::new();
        let mut workers = Vec::new();
        for mut group in groups {
            if group.is_empty() {
                continue;
            }
            let (tx, rx) = std::sync::mpsc::sync_channel::<std::sync::Arc<Vec<Dense>>>(4);
            senders.push(tx);
            workers.push(scope.spawn(move || {
                while let Ok(chunk) = rx.recv() {
                    for c in &mut group {
                        c.feed(&chunk, ttl);
                    }
                }
                group
            }));
        }
        let mut batch: Vec<Dense> = Vec::new();
        let mut chunk: Vec<Dense> = Vec::with_capacity(CHUNK);
        let mut read = || -> Result<(), TraceError> {
            loop {
                let more = feed.next(&mut batch)?;
                for d in &batch {
                    requests += 1;
                    bytes += d.size;
                }
                if let Some(s) = &mut stack {
                    for d in &batch {
                        s.access(d.key, d.size);
                    }
                }
                chunk.extend_from_slice(&batch);
                if chunk.len() >= CHUNK || (!more && !chunk.is_empty()) {
                    let shared = std::sync::Arc::new(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)));
                    for tx in &senders {
                        // A worker only stops early by panicking, which the join below reports.
                        let _ = tx.send(shared.clone());
                    }
                }
                if !more {
                    return Ok(());
                }
            }
        };
        let outcome = read();
        drop(senders);
        let mut done = Vec::new();
        for w in workers {
            done.extend(w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        outcome.map(|()| done)
    })?;
    let tally = stack.as_ref().map(LruStack::tally);
    let ratio = |num: u64, den: u64| if den == 0 { 0.0 } else { num as f64 / den as f64 };
    let mut points = Vec::new();
    for &p in &opts.policies {
        for (i, (c, label)) in sizes.iter().enumerate() {
            let (hits, bytes_hit, method) = match (&tally, p) {
                (Some(t), Policy::Lru) => (t.hits[i], t.bytes_hit[i], "stack"),
                _ => {
                    let r = caches.iter().find(|r| r.policy == p && r.size == i).expect("a cache per policy and size");
                    (r.hits, r.bytes_hit, "replay")
                }
            };
            points.push(Point {
                policy: p,
                size_label: label.clone(),
                cache_size: *c,
                share: ratio(*c, unique),
                requests,
                hits,
                miss_ratio: ratio(requests - hits, requests),
                byte_miss_ratio: ratio(bytes - bytes_hit, bytes),
                method,
            });
        }
    }
    Ok(Curves {
        points,
        unique,
        requests,
        bad_records: feed.reader.stats().bad_records,
        ignore_obj_size: opts.ignore_obj_size,
        size_changes: stack.as_ref().map_or(0, LruStack::size_changes),
        admission: opts.admission,
    })
}

/// The curves as CSV: one row per policy and size.
pub fn to_csv(c: &Curves) -> String {
    let unit = if c.ignore_obj_size { "objects" } else { "bytes" };
    let mut out =
        format!("policy,size,cache_{unit},share_of_unique_{unit},requests,hits,miss_ratio,byte_miss_ratio,method\n");
    for p in &c.points {
        out.push_str(&format!(
            "{},{},{},{:.6},{},{},{:.6},{:.6},{}\n",
            c.label(p.policy),
            p.size_label,
            p.cache_size,
            p.share,
            p.requests,
            p.hits,
            p.miss_ratio,
            p.byte_miss_ratio,
            p.method
        ));
    }
    out
}

/// Writes `mrc.csv` and `mrc.svg` (a chart titled `title`) of `c` into `staging`, then moves the
/// directory into place (see [`Staging`]: never over a directory clipsim did not make unless
/// forced, never over the trace). Returns the directory.
pub fn write_dir(c: &Curves, title: &str, staging: Staging) -> Result<PathBuf, OutputError> {
    staging.write("mrc.csv", to_csv(c).as_bytes())?;
    let svg = to_svg(c, title).map_err(|e| OutputError::Io {
        path: staging.dest().join("mrc.svg"),
        err: std::io::Error::other(format!("drawing the chart: {e}")),
    })?;
    staging.write("mrc.svg", svg.as_bytes())?;
    staging.commit()
}
