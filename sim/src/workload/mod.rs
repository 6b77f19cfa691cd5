//! The synthetic workload, generated lazily as simulated time advances: memory does not grow
//! with the number of requests.
//!
//! * **Arrivals** are a Poisson process whose rate is piecewise constant: it changes at every
//!   UTC hour (the daily curve of each geography, in its local time) and at the start and end of
//!   each viral spike. Within a piece, the next arrival is drawn exactly by inverting the
//!   integrated rate, so the process is an exact non-homogeneous Poisson process. It stops at
//!   the scenario's end: an arrival past it is never drawn, however low the rate.
//! * **Geography**: each arrival's geography is drawn in proportion to the geographies' current
//!   rates (their share times their daily curve).
//! * **Clip**: a spike's clip while it draws; otherwise, with probability `new_clip_share`, a fresh
//!   upload whose age is drawn from an exponential with mean `new_clip_decay_days` (so a fresh
//!   clip's popularity decays with that time constant); otherwise a catalog clip from a Zipf
//!   alias table (O(1)). Catalog clip `k` has popularity rank `k`.
//!
//! **Drawing ahead changes nothing.** Arrivals may be drawn a few ahead of the one being served,
//! so that the caller can prefetch what they will touch, but only what depends on nothing that
//! happens in between is decided then: the time, the geography, whether a spike draws it, and the
//! catalog clip it goes to unless it is a fresh upload's view. Whether it is (and which upload) is
//! decided when it is taken, after every event before it, and a spike's clip is read then too.
//! Every random stream is consumed in arrival order whatever the distance, so any lookahead gives
//! the same requests (`tests/scenarios.rs` runs two distances and compares).

mod alias;
mod demand;
mod exp;
pub mod history;
pub mod trace;
mod uploads;

pub use alias::{zipf_weights, AliasTable};
pub use demand::{Demand, Next};
use uploads::Uploads;

use crate::rng::{ExpZiggurat, Purpose, Stream};
use crate::scenario::{Popularity, Scenario, SizeDist};
use clipsim_engine::{ClipId, GeoId, RegionId, SimDuration, SimTime};

const HOUR_US: u64 = 3_600_000_000;
/// Uploads expected per bucket of the upload index (see `uploads.rs`: a bucket holds up to 7 in
/// one cache line; at a mean of 2, about one bucket in 900 holds more, unless the bucket length
/// is clamped to its 1 ms to 1 hour range).
const UPLOADS_PER_BUCKET: f64 = 2.0;
/// The largest clip drawn: 100 GB.
const CLIP_BYTES_MAX: u64 = 100_000_000_000;

/// An arrival as drawn ahead: what does not depend on the events before it.
#[derive(Clone, Copy, Debug)]
struct Drawn {
    time: SimTime,
    /// A view's catalog clip (its clip unless it turns out to be a fresh upload's), or a spike's
    /// clip as known when drawn (a guess, for prefetching: a "new" spike's clip is uploaded at its
    /// start and read when the arrival is taken).
    clip: ClipId,
    geo: GeoId,
    /// The spike that draws it, or [`NO_SPIKE`] for a view of the traffic.
    spike: u32,
}

/// In [`Drawn::spike`]: not a spike's view.
const NO_SPIKE: u32 = u32::MAX;

/// What is drawn once the run's end is passed: an arrival that never comes (clip and geography
/// 0, which exist in every scenario, for a caller that prefetches what it would touch).
const PAST_END: Drawn = Drawn { time: SimTime::NEVER, clip: ClipId(0), geo: GeoId(0), spike: NO_SPIKE };

/// One view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// When.
    pub time: SimTime,
    /// Which clip.
    pub clip: ClipId,
    /// From where.
    pub geo: GeoId,
}

/// A spike as the workload tracks it.
#[derive(Clone, Debug)]
struct SpikeState {
    start: SimTime,
    end: SimTime,
    rate_per_sec: f64,
    geo: Option<GeoId>,
    /// Its clip, once known (a "new" spike's clip is uploaded at its start).
    clip: Option<ClipId>,
}

/// The arrival generator.
#[derive(Debug)]
pub struct Workload {
    catalog: Option<AliasTable>,
    catalog_clips: u32,
    base_per_sec: f64,
    geo_shares: Vec<f64>,
    utc_offset_min: Vec<i32>,
    amplitude: f64,
    new_share: f64,
    new_decay_secs: f64,
    spikes: Vec<SpikeState>,
    /// Uploads so far, for fresh-clip views.
    uploads: Uploads,
    arrivals: Stream,
    exp: ExpZiggurat,
    geos: Stream,
    /// Whether a view goes to a fresh upload, and which.
    clips: Stream,
    /// The next [`FRESH_AHEAD`] draws of `clips` (a fresh view's age in microseconds, or
    /// [`CATALOG_VIEW`]), the next one at `fresh_pos`, so that a fresh view's upload bucket can be
    /// prefetched. Filled at the first upload: no view draws from `clips` before it.
    fresh_ahead: [u64; FRESH_AHEAD],
    fresh_pos: usize,
    /// Which catalog clip a catalog view picks. Its own stream, so that the draws can be taken
    /// [`PICKS_AHEAD`] picks early (and their alias-table columns prefetched) without changing
    /// any result.
    picks: Stream,
    /// The next [`PICKS_AHEAD`] catalog draws, the next one at `picks_pos`.
    picks_ahead: [u64; PICKS_AHEAD],
    picks_pos: usize,
    /// The scenario's end: no arrival at or after it is drawn (its time reads as
    /// [`SimTime::NEVER`]), so that a rate far too low to give an arrival within the run costs
    /// at most one step per piece of the run, not one per hour until an arrival centuries away.
    end: SimTime,
    // The current piece of the rate function.
    piece_end: SimTime,
    piece_rate: f64,
    /// Cumulative rates of [geo 0 .. geo G-1, spike 0 .. spike S-1] in this piece.
    piece_cum: Vec<f64>,
    now: SimTime,
    /// The last arrival's exact time past `now`, in microseconds (at least 0, below 1).
    now_frac_us: f64,
    /// Arrivals drawn but not yet consumed: `ahead_len` of them, the oldest at `ahead_head`
    /// (a ring of [`LOOKAHEAD`] slots).
    ahead: [Drawn; LOOKAHEAD],
    ahead_head: usize,
    ahead_len: usize,
    /// How many arrivals past the next one stay drawn (the caller's prefetch distance): the ring
    /// always holds `keep + 1` arrivals.
    keep: usize,
}

/// How many arrivals the generator may draw ahead of the one being served, so that the caller
/// can prefetch their state (performance only: see the module's documentation).
pub const LOOKAHEAD: usize = 4;
const _: () = assert!(LOOKAHEAD.is_power_of_two(), "the lookahead ring wraps with a mask");

/// How many fresh-or-catalog choices are drawn ahead of use, so that a fresh view's upload
/// bucket is in cache when needed (performance only).
const FRESH_AHEAD: usize = 8;
/// In `fresh_ahead`: the view goes to the catalog.
const CATALOG_VIEW: u64 = u64::MAX;

/// How many catalog draws are taken ahead of use, so that their alias-table columns are in cache
/// when needed (performance only).
const PICKS_AHEAD: usize = 8;

impl Workload {
    /// The workload of a scenario.
    pub fn new(sc: &Scenario) -> Self {
        let t = &sc.traffic;
        let n = sc.catalog.clips as usize;
        let catalog = match t.popularity {
            Popularity::Zipf(alpha) if alpha > 0.0 => Some(AliasTable::from_weights(zipf_weights(n, alpha))),
            _ => None,
        };
        let spikes = t
            .spikes
            .iter()
            .map(|s| SpikeState {
                start: s.start,
                end: s.end,
                rate_per_sec: s.views_per_hour / 3600.0,
                geo: s.geo,
                clip: match s.clip {
                    crate::scenario::SpikeClip::Rank(r) => Some(ClipId(r)),
                    crate::scenario::SpikeClip::New => None,
                },
            })
            .collect();
        let mut w = Workload {
            catalog,
            catalog_clips: sc.catalog.clips,
            base_per_sec: t.views_per_sec,
            geo_shares: t.geo_shares.clone(),
            utc_offset_min: t.utc_offset_min.clone(),
            amplitude: t.diurnal_amplitude,
            new_share: t.new_clip_share,
            new_decay_secs: t.new_clip_decay.map_or(0.0, |d| d.as_secs_f64()),
            spikes,
            // Buckets of UPLOADS_PER_BUCKET mean gaps between uploads, 1 ms to 1 hour.
            uploads: Uploads::new(if sc.catalog.uploads_per_day > 0.0 {
                (UPLOADS_PER_BUCKET * 86_400e6 / sc.catalog.uploads_per_day).clamp(1e3, HOUR_US as f64) as u64
            } else {
                HOUR_US
            }),
            arrivals: Stream::new(sc.seed, Purpose::Arrivals),
            exp: ExpZiggurat::new(),
            geos: Stream::new(sc.seed, Purpose::Geos),
            clips: Stream::new(sc.seed, Purpose::Clips),
            fresh_ahead: [CATALOG_VIEW; FRESH_AHEAD],
            fresh_pos: 0,
            picks: Stream::new(sc.seed, Purpose::CatalogPicks),
            picks_ahead: [0; PICKS_AHEAD],
            picks_pos: 0,
            end: SimTime::ZERO + sc.duration,
            piece_end: SimTime::ZERO,
            piece_rate: 0.0,
            piece_cum: Vec::new(),
            now: SimTime::ZERO,
            now_frac_us: 0.0,
            ahead: [Drawn { time: SimTime::ZERO, clip: ClipId(0), geo: GeoId(0), spike: NO_SPIKE }; LOOKAHEAD],
            ahead_head: 0,
            ahead_len: 0,
            keep: 0,
        };
        for i in 0..PICKS_AHEAD {
            w.picks_ahead[i] = w.picks.next_u64();
            if let Some(alias) = &w.catalog {
                alias.prefetch_for(w.picks_ahead[i]);
            }
        }
        w.enter_piece(SimTime::ZERO);
        w.fill();
        w
    }

    /// The daily-curve factor of a geography at a UTC time (mean 1 over a day): peak at 20:00
    /// local time, trough at 08:00, evaluated at the middle of the hour.
    pub fn diurnal(&self, geo: usize, t: SimTime) -> f64 {
        if self.amplitude == 0.0 {
            return 1.0;
        }
        let local_min = (t.as_micros() / 60_000_000) as i64 + i64::from(self.utc_offset_min[geo]);
        let hour = local_min.rem_euclid(1440) / 60;
        let x = 2.0 * core::f64::consts::PI * ((hour as f64 + 0.5) - 20.0) / 24.0;
        1.0 + self.amplitude * libm::cos(x)
    }

    fn enter_piece(&mut self, t: SimTime) {
        let mut end = SimTime((t.as_micros() / HOUR_US + 1) * HOUR_US);
        for s in &self.spikes {
            for edge in [s.start, s.end] {
                if edge > t && edge < end {
                    end = edge;
                }
            }
        }
        self.piece_cum.clear();
        let mut acc = 0.0;
        for g in 0..self.geo_shares.len() {
            acc += self.base_per_sec * self.geo_shares[g] * self.diurnal(g, t);
            self.piece_cum.push(acc);
        }
        for s in &self.spikes {
            if s.start <= t && t < s.end {
                acc += s.rate_per_sec;
            }
            self.piece_cum.push(acc);
        }
        self.piece_rate = acc;
        self.piece_end = end;
    }

    /// Records an upload (fresh clips become eligible for fresh-clip views).
    pub fn on_upload(&mut self, t: SimTime, clip: ClipId) {
        if self.uploads.is_empty() && self.new_share > 0.0 {
            for i in 0..FRESH_AHEAD {
                self.fresh_ahead[i] = self.draw_fresh();
            }
        }
        self.uploads.push(t, clip);
    }

    /// The age of a fresh view in microseconds, or [`CATALOG_VIEW`]: the next draw of `clips`.
    #[inline(always)]
    fn draw_fresh(&mut self) -> u64 {
        if self.clips.chance(self.new_share) {
            (self.exp.sample(&mut self.clips) * self.new_decay_secs * 1e6) as u64
        } else {
            CATALOG_VIEW
        }
    }

    /// Gives a "new" spike its clip (uploaded at the spike's start, before any of its views).
    pub fn set_spike_clip(&mut self, spike: usize, clip: ClipId) {
        self.spikes[spike].clip = Some(clip);
    }

    /// Spike `spike`'s clip, once it has one (a "new" spike's at its start).
    pub fn spike_clip(&self, spike: usize) -> Option<ClipId> {
        self.spikes[spike].clip
    }

    /// Keeps `k` arrivals past the next one drawn, for a caller that prefetches their state `k`
    /// ahead (performance only: see the module's documentation).
    ///
    /// # Panics
    /// If `k` is not below [`LOOKAHEAD`].
    pub fn set_lookahead(&mut self, k: usize) {
        assert!(k < LOOKAHEAD, "the workload draws at most LOOKAHEAD arrivals ahead");
        self.keep = k;
        self.fill();
    }

    /// Draws until the ring holds `keep + 1` arrivals.
    fn fill(&mut self) {
        while self.ahead_len <= self.keep {
            let a = self.draw();
            self.ahead[(self.ahead_head + self.ahead_len) % LOOKAHEAD] = a;
            self.ahead_len += 1;
        }
    }

    /// The time of the next arrival ([`SimTime::NEVER`] when none comes before the scenario's
    /// end).
    #[inline]
    pub fn peek_time(&self) -> SimTime {
        self.ahead[self.ahead_head].time
    }

    /// The arrival `k` places after the next one (`k` at most the lookahead) as far as it is
    /// known now, for prefetching: its clip is a guess (a view that turns out to be a fresh
    /// upload's, or a "new" spike's before the spike starts, goes to another clip).
    #[inline]
    pub fn peek_nth(&self, k: usize) -> Arrival {
        debug_assert!(k <= self.keep, "peek within the lookahead");
        let d = self.ahead[(self.ahead_head + k) % LOOKAHEAD];
        Arrival { time: d.time, clip: d.clip, geo: d.geo }
    }

    /// Takes the next arrival, deciding now (after every event before it) which clip it views,
    /// and draws one more to keep the lookahead.
    #[inline(always)]
    pub fn pop(&mut self) -> Arrival {
        let d = self.ahead[self.ahead_head];
        self.ahead_head = (self.ahead_head + 1) % LOOKAHEAD;
        self.ahead_len -= 1;
        if self.ahead_len <= self.keep {
            let a = self.draw();
            self.ahead[(self.ahead_head + self.ahead_len) % LOOKAHEAD] = a;
            self.ahead_len += 1;
        }
        let clip = if d.spike == NO_SPIKE {
            self.fresh_or(d.time, d.clip)
        } else {
            self.spikes[d.spike as usize].clip.expect("a spike's clip is known from its start, before its views")
        };
        Arrival { time: d.time, clip, geo: d.geo }
    }

    fn draw(&mut self) -> Drawn {
        if self.now >= self.end {
            return PAST_END;
        }
        let mut budget = self.exp.sample(&mut self.arrivals);
        let mut t = self.now;
        // The exact arrival time is `t` plus `frac` microseconds (below one): arrivals are
        // reported in whole microseconds, and the fraction is carried into the next gap rather
        // than dropped, so that the count over a run is the rate's at any rate (dropping it made
        // 10^6 requests a second 72 % too many).
        let mut frac = self.now_frac_us;
        loop {
            // A piece lasts at most an hour: the span converts exactly, and through `i64` (one
            // instruction; `u64` -> `f64` takes several on x86-64).
            let span_us = (self.piece_end.as_micros() - t.as_micros()) as i64 as f64 - frac;
            let mass = self.piece_rate * span_us / 1e6;
            if self.piece_rate > 0.0 && budget <= mass {
                // At most the piece's span (budget <= mass), so `i64` holds it: the same value as
                // `as u64`, in fewer instructions.
                let at_us = frac + budget / self.piece_rate * 1e6;
                let whole_us = at_us as i64 as u64;
                frac = at_us - whole_us as i64 as f64;
                t = SimTime(t.as_micros() + whole_us);
                if t >= self.piece_end {
                    // Rounding at the piece's very end: the arrival stays in its piece.
                    t = SimTime(self.piece_end.as_micros() - 1);
                    frac = 0.0;
                }
                break;
            }
            budget -= mass;
            t = self.piece_end;
            frac = 0.0;
            if t >= self.end {
                break;
            }
            self.enter_piece(t);
        }
        if t >= self.end {
            self.now = SimTime::NEVER;
            return PAST_END;
        }
        self.now = t;
        self.now_frac_us = frac;
        let x = self.geos.unit() * self.piece_rate;
        let g_count = self.geo_shares.len();
        let k = self.piece_cum.iter().position(|&c| x < c).unwrap_or(self.piece_cum.len() - 1);
        if k >= g_count {
            let s = &self.spikes[k - g_count];
            let clip = s.clip.unwrap_or(ClipId(0));
            let geo = s.geo.unwrap_or_else(|| self.pick_geo(t));
            return Drawn { time: t, clip, geo, spike: (k - g_count) as u32 };
        }
        Drawn { time: t, clip: self.pick_catalog(), geo: GeoId(k as u32), spike: NO_SPIKE }
    }

    fn pick_geo(&mut self, _t: SimTime) -> GeoId {
        let base = self.piece_cum[self.geo_shares.len() - 1];
        let x = self.geos.unit() * base;
        GeoId(self.piece_cum.iter().position(|&c| x < c).unwrap_or(0) as u32)
    }

    /// The clip a view at `t` goes to: a fresh upload's, with probability `new_clip_share` once
    /// there are uploads (and one old enough), else the catalog clip drawn for it.
    #[inline(always)]
    fn fresh_or(&mut self, t: SimTime, catalog: ClipId) -> ClipId {
        if self.new_share > 0.0 && !self.uploads.is_empty() {
            self.fresh_or_catalog(t, catalog)
        } else {
            catalog
        }
    }

    /// [`Self::fresh_or`] once there are uploads to view.
    #[inline]
    fn fresh_or_catalog(&mut self, t: SimTime, catalog: ClipId) -> ClipId {
        let age_us = self.fresh_ahead[self.fresh_pos];
        let later = self.draw_fresh();
        self.fresh_ahead[self.fresh_pos] = later;
        self.fresh_pos = (self.fresh_pos + 1) % FRESH_AHEAD;
        if let Some(target) = t.as_micros().checked_sub(later) {
            // `later` is used FRESH_AHEAD views from now: a few milliseconds, the same bucket.
            self.uploads.prefetch_at(target);
        }
        if age_us != CATALOG_VIEW {
            if let Some(clip) = t.as_micros().checked_sub(age_us).and_then(|target| self.uploads.latest_at(target)) {
                return clip;
            }
        }
        catalog
    }

    /// The catalog clip of the next view (one draw of the picks stream per view, whether or not
    /// it turns out to be a fresh upload's).
    fn pick_catalog(&mut self) -> ClipId {
        let x = self.picks_ahead[self.picks_pos];
        let later = self.picks.next_u64();
        self.picks_ahead[self.picks_pos] = later;
        self.picks_pos = (self.picks_pos + 1) % PICKS_AHEAD;
        match &self.catalog {
            Some(alias) => {
                alias.prefetch_for(later);
                ClipId(alias.sample_with(x))
            }
            None => ClipId(((u128::from(x) * u128::from(self.catalog_clips)) >> 64) as u32),
        }
    }

    /// Heap bytes held (grows with the catalog and the uploads, not with requests).
    pub fn heap_bytes(&self) -> usize {
        self.catalog.as_ref().map_or(0, AliasTable::heap_bytes) + self.uploads.heap_bytes()
    }
}

/// Draws clip sizes and primary regions.
#[derive(Debug)]
pub struct ClipFactory {
    size: SizeDist,
    primaries: Vec<(RegionId, f64)>,
    rng: Stream,
    /// The second normal of the last polar pair, not used yet.
    spare_normal: Option<f64>,
    /// `next_clips`' lognormal exponents (kept to reuse the allocation).
    exponents: Vec<f64>,
}

impl ClipFactory {
    /// A factory with its own stream.
    pub fn new(sc: &Scenario, purpose: Purpose) -> Self {
        ClipFactory {
            size: sc.catalog.size,
            primaries: sc.catalog.primary_shares.clone(),
            rng: Stream::new(sc.seed, purpose),
            spare_normal: None,
            exponents: Vec::new(),
        }
    }

    /// Size in bytes and primary region of the next clip.
    pub fn next_clip(&mut self) -> (u64, RegionId) {
        let size = match self.size {
            SizeDist::Fixed(b) => b,
            SizeDist::Lognormal { mu, sigma } => lognormal_bytes(libm::exp(mu + sigma * self.next_normal())),
        };
        (size, self.next_primary())
    }

    /// The next `n` clips into `out` (cleared first): the same clips in the same order as `n`
    /// calls of [`ClipFactory::next_clip`], with the exponentials of their sizes taken over the
    /// whole batch in a loop the compiler vectorises (bit for bit `libm::exp`; the exponential is
    /// most of the time it takes to draw a size).
    pub fn next_clips(&mut self, n: usize, out: &mut Vec<(u64, RegionId)>) {
        out.clear();
        match self.size {
            SizeDist::Fixed(b) => out.extend((0..n).map(|_| (b, self.next_primary()))),
            SizeDist::Lognormal { mu, sigma } => {
                let mut exponents = std::mem::take(&mut self.exponents);
                exponents.clear();
                for _ in 0..n {
                    exponents.push(mu + sigma * self.next_normal());
                    out.push((0, self.next_primary()));
                }
                exp::exp_in_place(&mut exponents);
                for (clip, &e) in out.iter_mut().zip(&exponents) {
                    clip.0 = lognormal_bytes(e);
                }
                self.exponents = exponents;
            }
        }
    }

    /// A standard normal: the spare of the last polar pair, or the first of a new one.
    fn next_normal(&mut self) -> f64 {
        match self.spare_normal.take() {
            Some(z) => z,
            None => {
                let (a, b) = self.rng.normal_pair();
                self.spare_normal = Some(b);
                a
            }
        }
    }

    /// A primary region by the catalog's shares (no draw when there is only one).
    pub fn next_primary(&mut self) -> RegionId {
        if self.primaries.len() == 1 {
            return self.primaries[0].0;
        }
        let x = self.rng.unit();
        let mut acc = 0.0;
        for &(r, share) in &self.primaries {
            acc += share;
            if x < acc {
                return r;
            }
        }
        self.primaries[self.primaries.len() - 1].0
    }

    /// Time until the next upload at `per_day` uploads a day (exponential).
    pub fn next_upload_gap(&mut self, per_day: f64) -> SimDuration {
        SimDuration::from_micros((self.rng.exp1() * 86_400e6 / per_day) as u64)
    }
}

/// A lognormal size in bytes: `e^x` rounded, at least 1 byte and at most `CLIP_BYTES_MAX`.
#[inline]
fn lognormal_bytes(exp_x: f64) -> u64 {
    round_positive(exp_x).clamp(1, CLIP_BYTES_MAX)
}

/// `x.round() as u64` for `x >= 0` (halves away from zero, saturating), without the call to the C
/// library's `round` that `f64::round` compiles to on baseline x86-64: for `x < 2^52` the fraction
/// `x - trunc(x)` is exact, and larger doubles are whole numbers.
#[inline]
fn round_positive(x: f64) -> u64 {
    let whole = x as u64;
    if x < 4_503_599_627_370_496.0 {
        // Branch-free: the half is a coin flip for the branch predictor.
        whole + u64::from(x - whole as f64 >= 0.5)
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;
    use std::path::Path;

    #[test]
    fn round_positive_is_round() {
        let mut rng = Stream::new(5, Purpose::Catalog);
        let specials = [
            0.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            1e19,
            1e300,
            f64::MAX,
            f64::INFINITY,
        ];
        let drawn = (0..100_000).map(|i| libm::exp(rng.unit() * 40.0) + if i % 3 == 0 { 0.5 } else { 0.0 });
        for x in specials.into_iter().chain(drawn) {
            assert_eq!(round_positive(x), x.round() as u64, "{x}");
        }
    }

    /// Arrivals are a Poisson process of the scenario's rate at any rate the validator accepts:
    /// 10^7 arrivals expected at each of 10 to 10^7 a second, the count within 4 standard
    /// deviations (sqrt of the mean) of rate × duration. Gaps rounded down to whole microseconds
    /// gave 5 % too many at 10^5 a second and 72 % at 10^6.
    #[test]
    fn the_arrival_count_is_the_rate_times_the_duration_at_any_rate() {
        const EXPECTED: u64 = 10_000_000;
        for rate in [10u64, 1_000, 100_000, 1_000_000, 10_000_000] {
            let text = format!(
                "[scenario]\nname = \"rate\"\nduration = \"{secs}s\"\nwarmup = \"0s\"\nreport_interval = \"{secs}s\"\n\
                 [catalog]\nclips = 1000\n[traffic]\nrequests_per_second = {rate}\ndiurnal = false\n",
                secs = EXPECTED / rate
            );
            let sc = scenario::from_str(Path::new("rate.toml"), &text, &Default::default()).expect("valid");
            let mut w = Workload::new(&sc);
            let mut n = 0u64;
            let mut last = SimTime::ZERO;
            while w.peek_time() != SimTime::NEVER {
                let a = w.pop();
                assert!(a.time >= last, "arrivals in time order");
                last = a.time;
                n += 1;
            }
            let sd = (EXPECTED as f64).sqrt();
            let z = (n as f64 - EXPECTED as f64) / sd;
            assert!(z.abs() < 4.0, "{rate}/s: {n} arrivals, {z:+.1} standard deviations from {EXPECTED}");
        }
    }

    /// The picks drawn ahead (catalog draws, fresh-or-catalog choices with their ages) are exactly
    /// the picks of drawing each one when it is needed: one catalog draw per view, and a fresh
    /// view goes to the latest upload at least its age old.
    #[test]
    fn picks_drawn_ahead_equal_picks_drawn_when_needed() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/seed-baseline.toml");
        let sc = scenario::load(&path, &Default::default()).expect("the shipped scenario loads");
        assert!(sc.traffic.new_clip_share > 0.0, "the scenario has fresh-clip views");
        let mut w = Workload::new(&sc);
        // Ages of minutes, so that fresh views find uploads within the test's few hours.
        w.new_decay_secs = 600.0;
        let mut clips = Stream::new(sc.seed, Purpose::Clips);
        let mut picks = Stream::new(sc.seed, Purpose::CatalogPicks);
        // The workload keeps one arrival drawn from the start, and with it its catalog pick.
        picks.next_u64();
        let exp = ExpZiggurat::new();
        let mut uploads: Vec<(u64, ClipId)> = Vec::new();
        let mut rng = Stream::new(99, Purpose::Uploads);
        let (mut t, mut fresh) = (0u64, 0);
        for i in 0..20_000u32 {
            t += rng.below(2_000_000);
            // No upload for the first picks (the fresh-or-catalog stream is not drawn then).
            if i % 7 == 6 {
                let clip = ClipId(sc.catalog.clips + i);
                w.on_upload(SimTime(t), clip);
                uploads.push((t, clip));
            }
            let got = {
                let catalog = w.pick_catalog();
                w.fresh_or(SimTime(t), catalog)
            };
            let catalog = ClipId(w.catalog.as_ref().expect("a Zipf catalog").sample_with(picks.next_u64()));
            let mut want = None;
            if !uploads.is_empty() && clips.chance(sc.traffic.new_clip_share) {
                let age_us = (exp.sample(&mut clips) * w.new_decay_secs * 1e6) as u64;
                if let Some(target) = t.checked_sub(age_us) {
                    let n = uploads.partition_point(|&(u, _)| u <= target);
                    want = n.checked_sub(1).map(|n| uploads[n].1);
                }
            }
            let want = want.unwrap_or(catalog);
            assert_eq!(got, want, "pick {i}");
            fresh += usize::from(got.0 >= sc.catalog.clips);
        }
        assert!(fresh > 2_000, "fresh views were exercised: {fresh}");
    }

    /// Clips drawn in batches (odd sizes, so that a polar pair's spare normal crosses from one
    /// batch to the next) are the clips drawn one at a time: sizes, primaries and the stream's
    /// state after, for lognormal and fixed sizes, one primary region and several.
    #[test]
    fn clips_drawn_in_batches_equal_clips_drawn_one_at_a_time() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/seed-baseline.toml");
        let base = scenario::load(&path, &Default::default()).expect("the shipped scenario loads");
        let region = |i: usize| base.catalog.primary_shares[0].0.index() as u32 + i as u32;
        let shares = vec![(RegionId(region(0)), 0.5), (RegionId(region(1)), 0.3), (RegionId(region(2)), 0.2)];
        for size in [SizeDist::Lognormal { mu: 16.0, sigma: 0.9 }, SizeDist::Fixed(12_345)] {
            for primaries in [base.catalog.primary_shares.clone(), shares.clone()] {
                let mut sc = base.clone();
                sc.catalog.size = size;
                sc.catalog.primary_shares = primaries;
                let (mut one, mut batched) =
                    (ClipFactory::new(&sc, Purpose::Catalog), ClipFactory::new(&sc, Purpose::Catalog));
                let (mut got, mut batch) = (Vec::new(), Vec::new());
                for n in [1, 7, 1024, 333, 0, 2, 5] {
                    batched.next_clips(n, &mut batch);
                    assert_eq!(batch.len(), n);
                    got.extend_from_slice(&batch);
                }
                for (i, &clip) in got.iter().enumerate() {
                    assert_eq!(clip, one.next_clip(), "clip {i} of {size:?}");
                }
                assert_eq!(batched.next_clip(), one.next_clip(), "the streams are in the same state after");
                assert!(
                    got.iter().map(|c| c.1).collect::<std::collections::BTreeSet<_>>().len()
                        == sc.catalog.primary_shares.len()
                );
            }
        }
    }
}
