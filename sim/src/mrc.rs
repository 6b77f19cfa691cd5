//! Miss-ratio curves: miss ratio against cache size, for several policies.
//!
//! **LRU in one pass** ([`LruStack`]): under LRU with byte capacity `C` (evict from the tail
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
//! **Other policies** replay each size in its own cache, all fed from one read of the trace.

use crate::cache::{AnyCache, EdgeCache, Policy};
use crate::trace::replay::{footprint, Dense, Feed};
use crate::trace::{CacheSize, ReadOptions, TraceError};
use clipsim_engine::{SimDuration, SimTime};
use std::path::Path;

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

/// Requests handed to the replay workers at a time.
const CHUNK: usize = 1 << 16;

/// One cache of a curve and its counts.
struct Replayed {
    policy: Policy,
    /// Index into the sorted sizes.
    size: usize,
    cache: AnyCache,
    hits: u64,
    bytes_hit: u64,
}

impl Replayed {
    fn feed(&mut self, chunk: &[Dense], ttl: Option<SimDuration>) {
        for d in chunk {
            if self.cache.get(d.key, d.now) {
                self.hits += 1;
                self.bytes_hit += d.size;
            } else {
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
    let use_stack = opts.ttl.is_none() && !opts.lru_by_replay && opts.policies.contains(&Policy::Lru);
    let mut stack = use_stack.then(|| LruStack::new(&caps));
    let mut caches: Vec<Replayed> = Vec::new();
    for &p in &opts.policies {
        if p == Policy::Lru && use_stack {
            continue;
        }
        for (i, &c) in caps.iter().enumerate() {
            caches.push(Replayed {
                policy: p,
                size: i,
                cache: AnyCache::with_seed(p, c, opts.seed),
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
            p.policy.name(),
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

/// The curves as an SVG chart: miss ratio against cache size (share of unique bytes, log
/// scale when the sizes span more than a factor of 10).
pub fn to_svg(c: &Curves, title: &str) -> Result<String, String> {
    use plotters::prelude::*;
    const PALETTE: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
    ];
    let mut svg = String::new();
    if c.points.is_empty() {
        return Err("no points".into());
    }
    let x_min = c.points.iter().map(|p| p.share).fold(f64::INFINITY, f64::min).max(1e-9);
    let x_max = c.points.iter().map(|p| p.share).fold(0.0, f64::max).max(x_min * 1.01);
    let y_max = c.points.iter().map(|p| p.miss_ratio).fold(0.0, f64::max).min(1.0);
    let y_min = c.points.iter().map(|p| p.miss_ratio).fold(1.0, f64::min);
    let (y_lo, y_hi) = ((y_min - 0.05).max(0.0), (y_max + 0.05).min(1.0).max(y_min + 0.1));
    {
        let root = SVGBackend::with_string(&mut svg, (960, 520)).into_drawing_area();
        let e = |e: DrawingAreaErrorKind<_>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let log = x_max / x_min > 10.0;
        let mut policies: Vec<Policy> = Vec::new();
        for p in &c.points {
            if !policies.contains(&p.policy) {
                policies.push(p.policy);
            }
        }
        let unique = if c.ignore_obj_size {
            format!("{} unique objects", crate::report::format::count(c.unique))
        } else {
            format!("{} unique bytes, {:.2} GB", crate::report::format::count(c.unique), c.unique as f64 / 1e9)
        };
        let x_desc = format!("cache size, as a share of the trace's {unique}; the sizes simulated are marked");
        let share = |v: f64| {
            let pct = v * 100.0;
            if pct >= 10.0 {
                format!("{pct:.0}%")
            } else if pct >= 1.0 {
                format!("{pct:.1}%")
            } else {
                format!("{pct:.2}%")
            }
        };
        // The axis has no tick labels of its own: the marks of the sizes simulated label it (a
        // size given in bytes with its share), so there is one set of labels, where the points are.
        let fmt_x = |_: &f64| String::new();
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_labels(8)
                    .max_light_lines(1)
                    .x_desc(x_desc.as_str())
                    .y_desc("miss ratio (misses / requests)")
                    .x_label_formatter(&fmt_x)
                    .y_label_formatter(&|v| format!("{v:.2}"))
                    .draw()
                    .map_err(e)?;
                for (i, &pol) in policies.iter().enumerate() {
                    let color = PALETTE[i % PALETTE.len()];
                    let pts: Vec<(f64, f64)> =
                        c.points.iter().filter(|p| p.policy == pol).map(|p| (p.share, p.miss_ratio)).collect();
                    chart
                        .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                        .map_err(e)?
                        .label(pol.name())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
                    chart.draw_series(pts.iter().map(|&(x, y)| Circle::new((x, y), 4, color.filled()))).map_err(e)?;
                }
                // The sizes asked for, marked along the bottom.
                let mut marked: Vec<f64> = Vec::new();
                for p in &c.points {
                    if marked.iter().any(|&m| (m - p.share).abs() <= 1e-12 * p.share.max(1.0)) {
                        continue;
                    }
                    marked.push(p.share);
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(p.share, y_lo), (p.share, y_hi)],
                            BLACK.mix(0.15).stroke_width(1),
                        )))
                        .map_err(e)?;
                    let label = if p.size_label.ends_with('%') {
                        p.size_label.clone()
                    } else {
                        format!("{} ({})", p.size_label, share(p.share))
                    };
                    chart
                        .draw_series(std::iter::once(Text::new(
                            label,
                            (p.share, y_lo + (y_hi - y_lo) * 0.02),
                            ("sans-serif", 13).into_font().color(&BLACK.mix(0.7)),
                        )))
                        .map_err(e)?;
                }
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(WHITE.mix(0.9))
                    .border_style(BLACK)
                    .draw()
                    .map_err(e)?;
            }};
        }
        let mut builder = ChartBuilder::on(&root);
        builder.caption(title, ("sans-serif", 22)).margin(16).x_label_area_size(48).y_label_area_size(64);
        if log {
            draw!(builder.build_cartesian_2d((x_min * 0.8..x_max * 1.25).log_scale(), y_lo..y_hi).map_err(e)?);
        } else {
            draw!(builder.build_cartesian_2d(0.0..x_max * 1.05, y_lo..y_hi).map_err(e)?);
        }
        root.present().map_err(e)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::ListCache;

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
