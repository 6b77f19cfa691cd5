//! What a run measures: outcome counts and bytes (copies of the engine's counters, taken at every
//! report interval and at the end of the warm-up), load-time histograms (hdrhistogram), per-clip
//! counts for the top-100 hit rate, and one time-series row per report interval.
//!
//! Requests before the warm-up are simulated and appear in the time series, but are not counted
//! in the totals, the histograms or the per-clip counts that targets are checked against.

mod pending;
pub mod timeline;

use clipsim_engine::{Counters, Health, MoneyNanos, ServedFrom, SimTime};
use hdrhistogram::Histogram;
use pending::PendingLatency;

/// The longest load time a histogram holds: one hour, in microseconds.
pub const LATENCY_US_MAX: u64 = 3_600_000_000;

/// A latency histogram in microseconds with 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_US_MAX, 3).expect("static bounds are valid")
}

/// Counts of the requests between two instants: the difference of the engine's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests.
    pub requests: u64,
    /// By outcome ([`ServedFrom`] as index).
    pub served_from: [u64; 6],
    /// Bytes delivered by outcome.
    pub bytes_from: [u64; 6],
    /// Failed attempts that moved to another source.
    pub failovers: u64,
    /// Requests that reached the CDN edge (hit or miss).
    pub cdn_lookups: u64,
    /// Of those, requests whose expired edge copy was revalidated with an origin.
    pub revalidations: u64,
}

impl Counts {
    /// The requests counted by `to` and not yet by `from` (two copies of the engine's counters,
    /// `from` taken earlier).
    pub fn between(from: &Counters, to: &Counters) -> Counts {
        let diff = |a: u64, b: u64| b.checked_sub(a).expect("the engine's counters only grow");
        Counts {
            requests: diff(from.requests_total, to.requests_total),
            served_from: std::array::from_fn(|i| diff(from.served_from[i], to.served_from[i])),
            bytes_from: std::array::from_fn(|i| diff(from.bytes_from[i], to.bytes_from[i])),
            failovers: diff(from.failovers, to.failovers),
            cdn_lookups: diff(from.cdn_lookups, to.cdn_lookups),
            revalidations: diff(from.revalidations, to.revalidations),
        }
    }

    /// Requests served by `from`.
    pub fn served(&self, from: ServedFrom) -> u64 {
        self.served_from[from as usize]
    }

    /// Requests that failed.
    pub fn failed(&self) -> u64 {
        self.served(ServedFrom::Failed)
    }

    /// Bytes delivered in all.
    pub fn bytes(&self) -> u64 {
        self.bytes_from.iter().sum()
    }

    /// Bytes delivered by mirrors.
    pub fn mirror_bytes(&self) -> u64 {
        self.bytes_from[ServedFrom::LocalMirror as usize] + self.bytes_from[ServedFrom::RemoteMirror as usize]
    }

    /// Requests served by a mirror.
    pub fn mirror_served(&self) -> u64 {
        self.served(ServedFrom::LocalMirror) + self.served(ServedFrom::RemoteMirror)
    }

    /// Requests that needed an origin fetch (everything but edge hits).
    pub fn origin_fetches(&self) -> u64 {
        self.requests - self.served(ServedFrom::Edge)
    }

    /// Served / requests.
    pub fn availability(&self) -> Option<f64> {
        ratio(self.requests - self.failed(), self.requests)
    }

    /// Edge hits / CDN lookups.
    pub fn cdn_hit_rate(&self) -> Option<f64> {
        ratio(self.served(ServedFrom::Edge), self.cdn_lookups)
    }

    /// Mirror-served / origin fetches.
    pub fn mirror_hit_rate(&self) -> Option<f64> {
        ratio(self.mirror_served(), self.origin_fetches())
    }
}

/// `a / b`, or `None` when `b` is 0.
pub fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Per-clip counts (post-warm-up).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClipStat {
    /// Views.
    pub views: u32,
    /// Views that needed an origin fetch.
    pub origin_fetches: u32,
    /// Of those, served by a mirror.
    pub mirror_served: u32,
}

/// One time-series row: the interval ending at `end`.
#[derive(Clone, Debug)]
pub struct Row {
    /// End of the interval.
    pub end: SimTime,
    /// Requests in the interval (all, warm-up included).
    pub counts: Counts,
    /// Load-time percentiles of the interval's served requests, microseconds (p50, p95, p99).
    pub latency_us: Option<[u64; 3]>,
    /// Serveable mirrors at the end.
    pub active_mirrors: u64,
    /// Pending mirrors at the end.
    pub pending_mirrors: u64,
    /// Cumulative cost by category at the end (storage, cdn_egress, origin_egress, inter_region, requests).
    pub cost_to_date: [MoneyNanos; 5],
    /// Cumulative CDN cost at the end (delivery and CDN request fees): the seed's `cdn_cost_total`.
    pub cdn_cost_to_date: MoneyNanos,
    /// Believed health of each region at the end.
    pub region_health: Vec<Health>,
    /// Smoothed probe latency of each region, microseconds.
    pub region_latency_us: Vec<Option<u64>>,
    /// Replication lag of each region as reported, microseconds.
    pub region_lag_us: Vec<Option<u64>>,
    /// Believed CDN health (`None` without a CDN).
    pub cdn_health: Option<Health>,
    /// Believed health of the second CDN (`None` without one).
    pub second_cdn_health: Option<Health>,
    /// Smoothed CDN probe latency, microseconds.
    pub cdn_latency_us: Option<u64>,
    /// Whether any scenario outage overlapped the interval (ground truth).
    pub outage_active: bool,
}

/// The recorder.
#[derive(Debug)]
pub struct Recorder {
    warmup: SimTime,
    /// Post-warm-up totals (set by [`Recorder::finish`]).
    pub total: Counts,
    /// The engine's counters when the warm-up ended (`None` before).
    at_warmup: Option<Counters>,
    /// The engine's counters when a steady-state pre-run ended (`None` before, or without one).
    pub at_pre_run: Option<Counters>,
    /// The engine's counters at the end of the last interval.
    at_last_row: Counters,
    /// Post-warm-up load times, all geographies.
    pub latency: Histogram<u64>,
    /// Post-warm-up load times per geography.
    pub latency_geo: Vec<Histogram<u64>>,
    /// Post-warm-up counts per clip.
    pub clips: Vec<ClipStat>,
    /// The rows so far.
    pub rows: Vec<Row>,
    /// Health changes, cost alerts, outages: the timeline, in time order.
    pub timeline: Vec<timeline::Entry>,
    /// What was still in force when the run ended (an outage, a raised cost alert), apart from
    /// the timeline so that a long timeline cut for the report never hides it.
    pub at_end: Vec<timeline::InForce>,
    /// Post-warm-up (requests, bytes) served from each region (origin fetches; a revalidation
    /// is a request without bytes).
    pub region_served: Vec<(u64, u64)>,
    interval_latency: Histogram<u64>,
    /// Load times recorded since the last flush, per geography: each request is recorded once,
    /// here, and flushed into the interval's histogram and (after warm-up) the totals.
    pending: Vec<PendingLatency>,
    /// Whether `pending` holds post-warm-up requests.
    pending_counted: bool,
    /// The top-100 mirror hit rate to date, as it stood at the end of every
    /// `top100_every`-th row and of the last: (end of the row, rate). Its last value is the
    /// summary's figure.
    pub top100_to_date: Vec<(SimTime, f64)>,
    top100_every: usize,
}

/// The top-100 mirror hit rate to date is sampled at about this many rows of a run (ranking the
/// clips costs a pass over the catalog).
pub const TOP100_SAMPLES: u64 = 240;

impl Recorder {
    /// A recorder for `geos` geographies and an initial catalog of `clips`, for a run of about
    /// `rows_expected` rows.
    pub fn new(
        warmup: SimTime,
        geos: usize,
        regions: usize,
        clips: usize,
        clips_expected: usize,
        rows_expected: u64,
    ) -> Self {
        let mut per_clip = Vec::with_capacity(clips_expected.max(clips));
        per_clip.resize(clips, ClipStat::default());
        Recorder {
            warmup,
            total: Counts::default(),
            at_warmup: (warmup == SimTime::ZERO).then(Counters::default),
            at_pre_run: None,
            at_last_row: Counters::default(),
            latency: latency_histogram(),
            latency_geo: (0..geos).map(|_| latency_histogram()).collect(),
            clips: per_clip,
            rows: Vec::new(),
            timeline: Vec::new(),
            at_end: Vec::new(),
            region_served: vec![(0, 0); regions],
            interval_latency: latency_histogram(),
            pending: (0..geos).map(|_| PendingLatency::default()).collect(),
            pending_counted: false,
            top100_to_date: Vec::new(),
            top100_every: rows_expected.div_ceil(TOP100_SAMPLES).max(1) as usize,
        }
    }

    /// Makes room for a new clip's counts.
    pub fn on_upload(&mut self, clip: usize) {
        if clip >= self.clips.len() {
            self.clips.resize(clip + 1, ClipStat::default());
        }
    }

    /// Hints that `clip`'s counts will be updated soon.
    #[inline]
    pub fn prefetch(&self, clip: usize) {
        if let Some(s) = self.clips.get(clip) {
            clipsim_engine::hint::prefetch(s);
        }
    }

    /// The warm-up ended: `counters` are the engine's now, before any request of the measured
    /// period.
    pub fn warmup_ends(&mut self, counters: &Counters) {
        self.at_warmup = Some(counters.clone());
    }

    /// A steady-state pre-run ended: `counters` are the engine's now.
    pub fn pre_run_ends(&mut self, counters: &Counters) {
        self.at_pre_run = Some(counters.clone());
    }

    /// Records one finished request (its outcome is counted by the engine; this records its load
    /// time, where it came from and its clip).
    #[inline(always)]
    pub fn request(
        &mut self,
        t: SimTime,
        geo: usize,
        clip: usize,
        region: Option<(usize, u64)>,
        from: ServedFrom,
        load_us: u64,
    ) {
        let served = from != ServedFrom::Failed;
        let counted = t >= self.warmup;
        if counted != self.pending_counted {
            self.flush();
            self.pending_counted = counted;
        }
        if served {
            self.pending[geo].record(load_us);
        }
        if !counted {
            return;
        }
        if served {
            if let Some((r, origin_bytes)) = region {
                self.region_served[r].0 += 1;
                self.region_served[r].1 += origin_bytes;
            }
        }
        let s = &mut self.clips[clip];
        s.views = s.views.saturating_add(1);
        if from != ServedFrom::Edge {
            s.origin_fetches = s.origin_fetches.saturating_add(1);
            if from.is_mirror() {
                s.mirror_served = s.mirror_served.saturating_add(1);
            }
        }
    }

    /// Closes the interval ending at `row.end`, when the engine's counters are `counters`;
    /// `row.counts` and `row.latency_us` are filled in here.
    pub fn close_interval(&mut self, mut row: Row, counters: &Counters) {
        self.flush();
        row.counts = Counts::between(&self.at_last_row, counters);
        self.at_last_row = counters.clone();
        let h = &self.interval_latency;
        row.latency_us =
            (!h.is_empty()).then(|| [h.value_at_quantile(0.5), h.value_at_quantile(0.95), h.value_at_quantile(0.99)]);
        self.interval_latency.reset();
        let end = row.end;
        self.rows.push(row);
        if self.rows.len().is_multiple_of(self.top100_every) {
            self.sample_top100(end);
        }
    }

    /// Notes the top-100 mirror hit rate to date at `t`, when there is one.
    fn sample_top100(&mut self, t: SimTime) {
        if let Some(rate) = self.top100_mirror_hit_rate() {
            self.top100_to_date.push((t, rate));
        }
    }

    /// Merges the pending load times into the interval's and (after warm-up) the totals.
    fn flush(&mut self) {
        for (g, p) in self.pending.iter_mut().enumerate() {
            if self.pending_counted {
                p.drain_into(&mut [&mut self.interval_latency, &mut self.latency_geo[g]]);
            } else {
                p.drain_into(&mut [&mut self.interval_latency]);
            }
        }
    }

    /// Takes the post-warm-up totals from the engine's final `counters` and merges the
    /// per-geography histograms into the overall one (call once, at the end).
    pub fn finish(&mut self, counters: &Counters) {
        self.total = self.at_warmup.as_ref().map_or_else(Counts::default, |w| Counts::between(w, counters));
        self.flush();
        for h in &self.latency_geo {
            self.latency.add(h).expect("same bounds");
        }
        if let Some(last) = self.rows.last().map(|r| r.end) {
            if self.top100_to_date.last().map(|&(t, _)| t) != Some(last) {
                self.sample_top100(last);
            }
        }
    }

    /// The mirror hit rate of the 100 clips with the most views: their views served by a mirror
    /// over their views that needed an origin fetch (`None` when none did).
    pub fn top100_mirror_hit_rate(&self) -> Option<f64> {
        let (origin, mirror) = self
            .top_clips(100)
            .iter()
            .fold((0u64, 0u64), |(o, m), (_, s)| (o + u64::from(s.origin_fetches), m + u64::from(s.mirror_served)));
        ratio(mirror, origin)
    }

    /// The top-`n` clips by post-warm-up views (ties: lower clip id), with their stats.
    pub fn top_clips(&self, n: usize) -> Vec<(u32, ClipStat)> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        if n == 0 {
            return Vec::new();
        }
        // One pass over the clips keeping the best `n` so far in a heap whose top is the worst
        // of them: (Reverse(views), id) is larger for fewer views, then for a higher id. Clips
        // come in id order, so a later clip displaces the worst only with strictly more views,
        // one comparison for almost every clip. O(clips + n log n), n keys of memory.
        let mut best: BinaryHeap<(Reverse<u32>, u32)> = BinaryHeap::with_capacity(n);
        for (s, c) in self.clips.iter().zip(0u32..) {
            if s.views == 0 {
                continue;
            }
            let key = (Reverse(s.views), c);
            if best.len() < n {
                best.push(key);
            } else if let Some(mut worst) = best.peek_mut() {
                if key < *worst {
                    *worst = key;
                }
            }
        }
        best.into_sorted_vec().into_iter().map(|(_, c)| (c, self.clips[c as usize])).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};

    /// Every derived figure of the requests between two copies of the counters, by hand.
    #[test]
    fn counts_between_two_instants_and_what_follows_from_them() {
        let from = Counters {
            requests_total: 100,
            served_from: [10, 5, 3, 40, 30, 12],
            bytes_from: [1_000, 500, 300, 4_000, 3_000, 0],
            failovers: 2,
            cdn_lookups: 60,
            ..Counters::default()
        };
        // 1,000 requests later: +200 edge, +70 local mirror, +30 remote, +400 via CDN, +280
        // direct, +20 failed; bytes alike; 7 failovers and 600 CDN lookups more.
        let served: [u64; 6] = [200, 70, 30, 400, 280, 20];
        let bytes: [u64; 6] = [20_000, 7_000, 3_000, 40_000, 28_000, 0];
        let mut to = from.clone();
        to.requests_total += 1_000;
        (0..6).for_each(|i| {
            (to.served_from[i], to.bytes_from[i]) = (to.served_from[i] + served[i], to.bytes_from[i] + bytes[i])
        });
        to.failovers += 7;
        to.cdn_lookups += 600;
        let c = Counts::between(&from, &to);
        assert_eq!(c.requests, 1_000);
        assert_eq!(c.served_from, [200, 70, 30, 400, 280, 20]);
        assert_eq!((c.failovers, c.cdn_lookups), (7, 600));
        assert_eq!((c.served(ServedFrom::Edge), c.served(ServedFrom::PrimaryDirect), c.failed()), (200, 280, 20));
        assert_eq!(c.bytes(), 20_000 + 7_000 + 3_000 + 40_000 + 28_000);
        assert_eq!(c.mirror_bytes(), 7_000 + 3_000);
        assert_eq!(c.mirror_served(), 70 + 30);
        assert_eq!(c.origin_fetches(), 1_000 - 200);
        assert_eq!(c.availability(), Some(980.0 / 1_000.0));
        assert_eq!(c.cdn_hit_rate(), Some(200.0 / 600.0));
        assert_eq!(c.mirror_hit_rate(), Some(100.0 / 800.0));
        assert_eq!(Counts::default().availability(), None, "no requests: no rate");
        assert_eq!((ratio(1, 4), ratio(1, 0)), (Some(0.25), None));
    }

    /// The top clips are those of a full sort by (views descending, id), ties included.
    #[test]
    fn top_clips_are_the_first_of_a_full_sort() {
        let mut rng = Stream::new(7, Purpose::Clips);
        let mut rec = Recorder::new(SimTime::ZERO, 1, 1, 5_000, 5_000, 1);
        for (c, s) in rec.clips.iter_mut().enumerate() {
            // Few distinct view counts, many ties, some clips never viewed.
            s.views = rng.below(12) as u32;
            s.origin_fetches = c as u32;
        }
        let mut want: Vec<u32> = (0..5_000).filter(|&c| rec.clips[c as usize].views > 0).collect();
        want.sort_by_key(|&c| (std::cmp::Reverse(rec.clips[c as usize].views), c));
        for n in [0, 1, 100, 4_000, 10_000] {
            let got = rec.top_clips(n);
            let ids: Vec<u32> = got.iter().map(|&(c, _)| c).collect();
            assert_eq!(ids, want[..n.min(want.len())], "n = {n}");
            assert!(got.iter().all(|&(c, s)| s.origin_fetches == c), "stats belong to their clip");
        }
    }

    /// The top-100 rate to date is sampled every `rows_expected / 240` rows and at the last row,
    /// each sample equal to a recount by a full sort of the clips as they stood.
    #[test]
    fn the_top100_rate_is_sampled_through_the_run_and_at_its_end() {
        let mut rng = Stream::new(3, Purpose::Clips);
        let mut rec = Recorder::new(SimTime::ZERO, 1, 1, 500, 500, 2_400);
        let recount = |rec: &Recorder| {
            let mut ids: Vec<usize> = (0..rec.clips.len()).filter(|&c| rec.clips[c].views > 0).collect();
            ids.sort_by_key(|&c| (std::cmp::Reverse(rec.clips[c].views), c));
            let top = &ids[..ids.len().min(100)];
            let origin: u64 = top.iter().map(|&c| u64::from(rec.clips[c].origin_fetches)).sum();
            let mirror: u64 = top.iter().map(|&c| u64::from(rec.clips[c].mirror_served)).sum();
            (origin > 0).then(|| mirror as f64 / origin as f64)
        };
        let mut want = Vec::new();
        let rows = 2_403u64;
        for i in 1..=rows {
            let t = SimTime(i * 1_000_000);
            for _ in 0..3 {
                let clip = (rng.below(40) * rng.below(13)) as usize;
                let from =
                    [ServedFrom::Edge, ServedFrom::PrimaryViaCdn, ServedFrom::LocalMirror][rng.below(3) as usize];
                rec.request(t, 0, clip, Some((0, 1_000)), from, 50_000);
            }
            let row = Row {
                end: t,
                counts: Counts::default(),
                latency_us: None,
                active_mirrors: 0,
                pending_mirrors: 0,
                cost_to_date: [MoneyNanos::ZERO; 5],
                cdn_cost_to_date: MoneyNanos::ZERO,
                region_health: Vec::new(),
                region_latency_us: Vec::new(),
                region_lag_us: Vec::new(),
                cdn_health: None,
                second_cdn_health: None,
                cdn_latency_us: None,
                outage_active: false,
            };
            rec.close_interval(row, &Counters::default());
            if i % 10 == 0 || i == rows {
                want.push((t, recount(&rec).expect("some origin fetches")));
            }
        }
        rec.finish(&Counters::default());
        assert_eq!(rec.top100_to_date.len(), 241, "every 10th of 2,403 rows, and the last");
        assert_eq!(rec.top100_to_date, want);
        assert_eq!(rec.top100_mirror_hit_rate(), recount(&rec));
    }
}
