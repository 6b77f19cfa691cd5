//! `clipsim trace fit`: the synthetic workload's parameters estimated from a trace, written as a
//! scenario fragment with the quality of the fit.
//!
//! * **Popularity** (Zipf exponent `alpha` over `N` clips). Clips are ranked by their request
//!   counts; `alpha` maximises the likelihood of the requests' ranks, `-alpha * sum c_k ln k -
//!   n ln H(N, alpha)`, a concave function: Newton's method on its derivative
//!   `n E_alpha[ln K] - sum c_k ln k`. Ranking by observed counts flatters the fit (the counts
//!   sorted make `sum c_k ln k` as small as it can be: `alpha` comes out too high, the more so the
//!   fewer requests a clip has), so the estimate is bias-corrected and its 95 % interval found by
//!   a parametric bootstrap: traces of the same size drawn from the fitted model and fitted the
//!   same way (the basic bootstrap interval, `2 a - q97.5` to `2 a - q2.5`).
//! * **Catalog size** `N`: clips never requested are not in a trace; `N` is the size whose
//!   expected number of distinct clips requested, `sum_k 1 - exp(-n p_k)`, is the number seen,
//!   fitted in turn with `alpha` until both hold still.
//! * **Sizes**: a lognormal by maximum likelihood on the logarithms of the clips' sizes (mean and
//!   standard deviation of `ln size`), written as its mean in MB and `sigma`.
//! * **Rate, geographies, daily curve**: requests per 30 days over the trace's span; each
//!   geography label's share; the daily curve's amplitude from the first harmonic of the requests
//!   per UTC hour, and each geography's UTC offset from the hour its own curve peaks (the model
//!   peaks at 20:00 local time).
//! * **Uploads**: clips first seen in the trace's second half beyond those the fitted catalog
//!   model expects to be first seen then (`sum_k exp(-n p_k / 2) - exp(-n p_k)`), per day, when
//!   the excess is beyond three standard deviations of that count (else none). The share of views
//!   fresh clips take and their popularity decay are not fitted.
//!
//! Quality: the Kolmogorov-Smirnov distance between the trace's rank-frequency distribution (the
//! share of requests to the `k` most requested clips) and the fit's, and between the clips' sizes
//! and the fitted lognormal; a rank-frequency chart of data and fit.

use super::{IdMap, ReadOptions, TraceError, TraceReader, BATCH, NO_GEO};
use crate::rng::{Purpose, Stream};
use crate::workload::AliasTable;

/// What a trace holds that the fit needs: per clip (dense ids in first-appearance order) its
/// requests, size and first request's time; per geography label its requests by UTC hour.
#[derive(Clone, Debug, Default)]
pub struct TraceStats {
    /// Requests.
    pub requests: u64,
    /// Requests of each clip.
    pub counts: Vec<u64>,
    /// Each clip's size (its first request's), bytes.
    pub sizes: Vec<u64>,
    /// Each clip's first request, trace seconds.
    pub first_s: Vec<u64>,
    /// The first and last request's time, seconds.
    pub span_s: (u64, u64),
    /// Geography labels (empty without a geography column).
    pub geo_names: Vec<String>,
    /// Requests per geography (label order; one entry for "none" without labels) and UTC hour.
    pub hourly: Vec<[u64; 24]>,
    /// The ages (seconds since the clip's first request) of the later requests of clips first
    /// seen in the trace's second half, each with the time its clip had left to the trace's end
    /// (at most [`AGES_MAX`], every k-th when there are more); see [`TraceStats::read_ages`].
    pub late_ages: Vec<(u64, u64)>,
    /// Requests in the trace's second half.
    pub second_half_requests: u64,
}

/// The most ages kept for the fit of the fresh clips' decay.
pub const AGES_MAX: usize = 1 << 20;

impl TraceStats {
    /// Reads a whole trace.
    pub fn read(path: &std::path::Path, opts: &ReadOptions) -> Result<TraceStats, TraceError> {
        let mut reader = TraceReader::open(path, opts)?;
        let mut ids = IdMap::new();
        let mut s = TraceStats::default();
        let mut batch = Vec::with_capacity(BATCH);
        let mut first = None;
        let mut last = 0;
        while reader.next_batch(&mut batch)? {
            for r in &batch {
                let Some((clip, new)) = ids.get_or_insert(r.id) else {
                    return Err(TraceError::file(path, format!("at most {} distinct clips", super::IDS_MAX)));
                };
                if new {
                    s.counts.push(0);
                    s.sizes.push(r.size.max(1));
                    s.first_s.push(r.time);
                }
                s.counts[clip as usize] += 1;
                first.get_or_insert(r.time);
                last = last.max(r.time);
                let g = if r.geo == NO_GEO { 0 } else { r.geo as usize };
                if s.hourly.len() <= g {
                    s.hourly.resize(g + 1, [0; 24]);
                }
                s.hourly[g][(r.time % 86_400 / 3600) as usize] += 1;
                s.requests += 1;
            }
        }
        if s.requests == 0 {
            return Err(TraceError::file(path, "at least one request"));
        }
        s.span_s = (first.unwrap_or(0), last);
        s.geo_names = reader.geo_names();
        Ok(s)
    }

    /// The second half's requests: how many, and the ages of the later requests of clips first
    /// seen in it (a second pass over the trace, after [`TraceStats::read`]).
    pub fn read_ages(&mut self, path: &std::path::Path, opts: &ReadOptions) -> Result<(), TraceError> {
        let mut reader = TraceReader::open(path, opts)?;
        let mut ids = IdMap::new();
        let mut batch = Vec::with_capacity(BATCH);
        let mut all = Vec::new();
        let (half, end) = (self.half_s(), self.span_s.1);
        while reader.next_batch(&mut batch)? {
            for r in &batch {
                let Some((clip, _)) = ids.get_or_insert(r.id) else { continue };
                let first = self.first_s.get(clip as usize).copied().unwrap_or(r.time);
                self.second_half_requests += u64::from(r.time > half);
                if first > half && r.time > first {
                    all.push((r.time - first, end - first));
                }
            }
        }
        let step = all.len().div_ceil(AGES_MAX).max(1);
        self.late_ages = all.into_iter().step_by(step).collect();
        Ok(())
    }

    /// The middle of the trace's span, seconds.
    pub fn half_s(&self) -> u64 {
        self.span_s.0 + (self.span_s.1 - self.span_s.0) / 2
    }
}

/// A Zipf popularity over `clips` ranks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Zipf {
    /// The exponent.
    pub alpha: f64,
    /// Ranks (the catalog size).
    pub clips: u64,
}

/// The fitted workload.
#[derive(Clone, Debug)]
pub struct Fit {
    /// The popularity, bias-corrected.
    pub zipf: Zipf,
    /// The exponent as fitted before the bias correction.
    pub alpha_raw: f64,
    /// 95 % interval of the exponent.
    pub alpha_interval: (f64, f64),
    /// Bootstrap replicates behind the interval.
    pub replicates: usize,
    /// Clips seen.
    pub clips_seen: u64,
    /// Kolmogorov-Smirnov distance between the rank-frequency distributions of trace and fit.
    pub ks_popularity: f64,
    /// Lognormal sizes: mean of `ln bytes` and its standard deviation.
    pub size_mu: f64,
    /// See `size_mu`.
    pub size_sigma: f64,
    /// Kolmogorov-Smirnov distance between the clips' sizes and the lognormal.
    pub ks_size: f64,
    /// Requests per 30 days.
    pub views_per_month: f64,
    /// Each geography's (label, share, UTC offset hours of its peak at 20:00 local).
    pub geos: Vec<(String, f64, f64)>,
    /// The daily curve's amplitude (peak over mean minus 1), each geography's weighted by its
    /// requests.
    pub diurnal_amplitude: f64,
    /// Fresh uploads per day beyond the catalog's first views.
    pub uploads_per_day: f64,
    /// With uploads: the fresh clips' popularity decay time (days) and the share of views that
    /// go to them.
    pub fresh: Option<(f64, f64)>,
    /// The catalog: the clips of the popularity fit less those uploaded during the trace.
    pub catalog_clips: u64,
    /// Clips first seen in the second half: seen, and expected of the catalog with its standard
    /// deviation.
    pub second_half_new: (u64, f64, f64),
    /// The trace's rank-frequency: request counts, most requested first.
    pub ranked: Vec<u64>,
}

/// `E[ln K]` and `Var[ln K]` for `K` Zipf(`alpha`) over `ln_k.len()` ranks.
fn ln_moments(ln_k: &[f64], alpha: f64) -> (f64, f64) {
    let (mut h, mut m1, mut m2) = (0.0, 0.0, 0.0);
    for &l in ln_k {
        let w = libm::exp(-alpha * l);
        h += w;
        m1 += w * l;
        m2 += w * l * l;
    }
    let mean = m1 / h;
    (mean, (m2 / h - mean * mean).max(1e-300))
}

/// The maximum-likelihood exponent for ranked counts (`ranked`, most requested first) over
/// `clips` ranks: Newton's method on the concave log-likelihood, from `start`.
pub fn mle_alpha(ranked: &[u64], ln_k: &[f64], start: f64) -> f64 {
    let n: u64 = ranked.iter().sum();
    let s1: f64 = ranked.iter().zip(ln_k).map(|(&c, &l)| c as f64 * l).sum();
    let target = s1 / n as f64;
    let mut a = start.clamp(0.0, 5.0);
    for _ in 0..50 {
        let (mean, var) = ln_moments(ln_k, a);
        // d/da E[ln K] = -Var[ln K]: the step that makes E[ln K] the data's mean log rank.
        let next = (a + (mean - target) / var).clamp(0.0, 5.0);
        if (next - a).abs() < 1e-10 {
            return next;
        }
        a = next;
    }
    a
}

/// Zipf probabilities over `clips` ranks.
fn zipf_p(alpha: f64, clips: usize) -> Vec<f64> {
    let mut w = crate::workload::zipf_weights(clips, alpha);
    let h: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= h);
    w
}

/// The expected number of distinct clips among `n` requests over Zipf(`alpha`, `clips`).
fn expected_distinct(alpha: f64, clips: u64, n: u64) -> f64 {
    zipf_p(alpha, clips as usize).iter().map(|&p| -libm::expm1(-(n as f64) * p)).sum()
}

/// The catalog size whose expected distinct count is `seen` (at least `seen`, at most 100
/// times it), to 0.1 %: bracketed by doubling from `seen`, then halved.
fn catalog_size(alpha: f64, seen: u64, n: u64) -> u64 {
    let cap = seen.saturating_mul(100).max(seen + 1);
    let (mut lo, mut hi) = (seen, (seen * 2).min(cap));
    while hi < cap && expected_distinct(alpha, hi, n) < seen as f64 {
        lo = hi;
        hi = (hi * 2).min(cap);
    }
    if expected_distinct(alpha, hi, n) < seen as f64 {
        return hi;
    }
    while hi - lo > (lo / 1000).max(1) {
        let mid = lo + (hi - lo) / 2;
        if expected_distinct(alpha, mid, n) < seen as f64 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// `alpha` and `N` fitted in turn to ranked counts (`seen` of them non-zero, most first).
fn fit_zipf(ranked: &[u64], start: f64) -> Zipf {
    let n: u64 = ranked.iter().sum();
    let seen = ranked.len() as u64;
    let mut z = Zipf { alpha: start, clips: seen };
    for _ in 0..8 {
        let ln_k: Vec<f64> = (1..=z.clips).map(|k| libm::log(k as f64)).collect();
        let alpha = mle_alpha(ranked, &ln_k, z.alpha);
        let clips = catalog_size(alpha, seen, n);
        let done = (alpha - z.alpha).abs() < 1e-6 && clips == z.clips;
        z = Zipf { alpha, clips };
        if done {
            break;
        }
    }
    z
}

/// Request counts of `n` requests drawn from `z`, ranked (most first, zeros dropped).
fn draw_ranked(z: Zipf, n: u64, rng: &mut Stream) -> Vec<u64> {
    let table = AliasTable::from_weights(crate::workload::zipf_weights(z.clips as usize, z.alpha));
    let mut counts = vec![0u64; z.clips as usize];
    for _ in 0..n {
        counts[table.sample(rng) as usize] += 1;
    }
    rank(counts)
}

fn rank(mut counts: Vec<u64>) -> Vec<u64> {
    counts.retain(|&c| c > 0);
    counts.sort_unstable_by(|a, b| b.cmp(a));
    counts
}

/// The Kolmogorov-Smirnov distance between the rank-frequency of `ranked` and Zipf `z`.
fn ks_ranks(ranked: &[u64], z: Zipf) -> f64 {
    let n: u64 = ranked.iter().sum();
    let p = zipf_p(z.alpha, z.clips as usize);
    let (mut emp, mut fit, mut d) = (0.0, 0.0, 0.0f64);
    for (k, &pk) in p.iter().enumerate() {
        emp += ranked.get(k).map_or(0.0, |&c| c as f64 / n as f64);
        fit += pk;
        d = d.max((emp - fit).abs());
    }
    d
}

/// The standard normal distribution function.
fn phi(x: f64) -> f64 {
    0.5 * libm::erfc(-x / core::f64::consts::SQRT_2)
}

/// Fits `stats`, with `replicates` bootstrap traces drawn from stream `seed`.
pub fn fit(stats: &TraceStats, replicates: usize, seed: u64) -> Fit {
    let n = stats.requests;
    let ranked = rank(stats.counts.clone());
    let z = fit_zipf(&ranked, 1.0);
    // The parametric bootstrap: the fit's bias and spread on traces of the fitted model.
    // Each replicate has its own stream, so that the threads that share them out change nothing.
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).min(replicates.max(1));
    let mut boot = vec![0.0; replicates];
    std::thread::scope(|scope| {
        for (t, chunk) in boot.chunks_mut(replicates.div_ceil(threads).max(1)).enumerate() {
            let first = t * replicates.div_ceil(threads).max(1);
            scope.spawn(move || {
                for (i, out) in chunk.iter_mut().enumerate() {
                    let mut rng = Stream::new(crate::rng::splitmix64(seed ^ (first + i) as u64), Purpose::Fit);
                    *out = fit_zipf(&draw_ranked(z, n, &mut rng), z.alpha).alpha;
                }
            });
        }
    });
    boot.sort_by(f64::total_cmp);
    let (alpha, interval) = if boot.is_empty() {
        (z.alpha, (z.alpha, z.alpha))
    } else {
        let mean = boot.iter().sum::<f64>() / boot.len() as f64;
        let q = |p: f64| boot[((p * boot.len() as f64).ceil() as usize).clamp(1, boot.len()) - 1];
        (2.0 * z.alpha - mean, (2.0 * z.alpha - q(0.975), 2.0 * z.alpha - q(0.025)))
    };
    let zipf = Zipf { alpha, clips: catalog_size(alpha, ranked.len() as u64, n) };

    // Sizes: a lognormal by maximum likelihood on the logarithms.
    let logs: Vec<f64> = stats.sizes.iter().map(|&s| libm::log(s as f64)).collect();
    let mu = logs.iter().sum::<f64>() / logs.len() as f64;
    let sigma = (logs.iter().map(|l| (l - mu) * (l - mu)).sum::<f64>() / logs.len() as f64).sqrt();
    let mut sorted = logs;
    sorted.sort_by(f64::total_cmp);
    let m = sorted.len() as f64;
    let ks_size = if sigma > 1e-9 {
        sorted.iter().enumerate().fold(0.0f64, |d, (i, &l)| {
            let f = phi((l - mu) / sigma);
            d.max((f - i as f64 / m).abs()).max(((i + 1) as f64 / m - f).abs())
        })
    } else {
        0.0
    };

    let span = (stats.span_s.1 - stats.span_s.0).max(1) as f64;
    let geo_total: Vec<u64> = stats.hourly.iter().map(|h| h.iter().sum()).collect();
    // Each geography's curve in its own local time: the amplitude is their mean, weighted by
    // requests (the sum over geographies, in UTC, would flatten curves that peak at other hours).
    let amplitude = stats.hourly.iter().zip(&geo_total).map(|(h, &t)| harmonic(h).0 * t as f64).sum::<f64>() / n as f64;
    let names: Vec<String> = if stats.geo_names.is_empty() { vec![String::new()] } else { stats.geo_names.clone() };
    let geos = names
        .iter()
        .zip(&stats.hourly)
        .zip(&geo_total)
        .map(|((name, h), &t)| {
            let (_, peak_utc) = harmonic(h);
            // The model peaks at 20:00 local: local = UTC + offset.
            let offset = (20.0 - peak_utc + 36.0).rem_euclid(24.0) - 12.0;
            (name.clone(), t as f64 / n as f64, (offset * 2.0).round() / 2.0)
        })
        .collect();

    // Uploads: clips first seen in the second half beyond the catalog's expected first views.
    let half = stats.span_s.0 + (stats.span_s.1 - stats.span_s.0) / 2;
    let seen_late = stats.first_s.iter().filter(|&&t| t > half).count() as u64;
    // Each catalog clip is first seen in the second half with probability q (independently,
    // requests being Poisson): the count's mean and variance.
    let (mut expected_late, mut var_late) = (0.0, 0.0);
    for &p in &zipf_p(zipf.alpha, zipf.clips as usize) {
        let q = libm::exp(-(n as f64) * p / 2.0) - libm::exp(-(n as f64) * p);
        expected_late += q;
        var_late += q * (1.0 - q);
    }
    // Only an excess beyond three standard deviations is taken for uploads.
    let excess = seen_late as f64 - expected_late;
    let uploads_per_day = if excess > 3.0 * var_late.sqrt() { excess / (span / 2.0 / 86_400.0) } else { 0.0 };
    let fresh = (uploads_per_day > 0.0).then(|| fresh_fit(stats, zipf, n)).flatten();
    // The clips the trace saw include the uploads: the catalog is the rest.
    let uploaded = (uploads_per_day * span / 86_400.0).round() as u64;
    let catalog_clips = zipf.clips.saturating_sub(uploaded).max(1);

    Fit {
        ks_popularity: ks_ranks(&ranked, zipf),
        zipf,
        alpha_raw: z.alpha,
        alpha_interval: interval,
        replicates,
        clips_seen: ranked.len() as u64,
        size_mu: mu,
        size_sigma: sigma,
        ks_size,
        views_per_month: n as f64 / span * 2_592_000.0,
        geos,
        diurnal_amplitude: amplitude,
        uploads_per_day,
        fresh,
        catalog_clips,
        second_half_new: (seen_late, expected_late, var_late.sqrt()),
        ranked,
    }
}

/// The fresh clips' decay time (days) and view share, from the ages of the later requests of clips
/// first seen in the second half: a mixture of the catalog's late-found clips (ages uniform over
/// what the trace had left, their expected share from the fitted catalog) and fresh clips (ages
/// exponential with the decay time, cut at what the trace had left), by maximum likelihood (golden
/// section on the log of the time). The share: the second half's requests to its fresh clips
/// (beyond the catalog's expected), over its requests, less the fresh views that went to clips
/// uploaded before the middle.
fn fresh_fit(stats: &TraceStats, zipf: Zipf, n: u64) -> Option<(f64, f64)> {
    let ages = &stats.late_ages;
    if ages.len() < 20 || stats.second_half_requests == 0 {
        return None;
    }
    // The catalog's expected requests to clips first seen in the second half: later ones, and
    // all of them.
    let (mut cat_later, mut cat_all) = (0.0, 0.0);
    for &p in &zipf_p(zipf.alpha, zipf.clips as usize) {
        let l = n as f64 * p / 2.0;
        let none_before = libm::exp(-l);
        cat_all += none_before * l;
        cat_later += none_before * (l - 1.0 + libm::exp(-l));
    }
    let later: u64 =
        (0..stats.first_s.len()).filter(|&c| stats.first_s[c] > stats.half_s()).map(|c| stats.counts[c] - 1).sum();
    let late_all: u64 =
        (0..stats.first_s.len()).filter(|&c| stats.first_s[c] > stats.half_s()).map(|c| stats.counts[c]).sum();
    let w = (cat_later / later.max(1) as f64).clamp(0.0, 0.99);
    let log_likelihood = |tau: f64| -> f64 {
        ages.iter()
            .map(|&(a, window)| {
                let (a, window) = (a as f64, window.max(1) as f64);
                let fresh = libm::exp(-a / tau) / (tau * -libm::expm1(-window / tau));
                libm::log(w / window + (1.0 - w) * fresh)
            })
            .sum()
    };
    let span = (stats.span_s.1 - stats.span_s.0).max(120) as f64;
    let (mut lo, mut hi) = (libm::log(60.0), libm::log(span));
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..60 {
        let (a, b) = (hi - g * (hi - lo), lo + g * (hi - lo));
        if log_likelihood(libm::exp(a)) < log_likelihood(libm::exp(b)) {
            lo = a;
        } else {
            hi = b;
        }
    }
    let tau = libm::exp((lo + hi) / 2.0);
    let half = span / 2.0;
    let reach = 1.0 - tau / half * -libm::expm1(-half / tau);
    let fresh_views = (late_all as f64 - cat_all).max(0.0);
    let share = (fresh_views / (stats.second_half_requests as f64 * reach.max(1e-6))).min(1.0);
    Some((tau / 86_400.0, share))
}

/// The first harmonic of requests per hour: the amplitude of `1 + A cos(...)` and the hour (at
/// the middle of the hour, 0 to 24) the curve peaks.
fn harmonic(hours: &[u64; 24]) -> (f64, f64) {
    let total: f64 = hours.iter().map(|&c| c as f64).sum();
    if total == 0.0 {
        return (0.0, 20.0);
    }
    let (mut re, mut im) = (0.0, 0.0);
    for (h, &c) in hours.iter().enumerate() {
        let x = 2.0 * core::f64::consts::PI * (h as f64 + 0.5) / 24.0;
        re += c as f64 * libm::cos(x);
        im += c as f64 * libm::sin(x);
    }
    let amplitude = 2.0 * (re * re + im * im).sqrt() / total;
    let peak = (libm::atan2(im, re) * 24.0 / (2.0 * core::f64::consts::PI)).rem_euclid(24.0);
    (amplitude, peak)
}

impl Fit {
    /// The fit as a scenario fragment (`[catalog]` and `[traffic]` keys), with comments that
    /// state the fit's quality. `source` names the trace.
    pub fn to_toml(&self, source: &str, stats: &TraceStats) -> String {
        use crate::report::format::count;
        use std::fmt::Write;
        let mut o = String::new();
        let days = (stats.span_s.1 - stats.span_s.0) as f64 / 86_400.0;
        let _ = writeln!(
            o,
            "# Fitted by `clipsim trace fit` from {source}: {} requests for {} clips over {days:.2} days.\n\
             # Paste these keys over a scenario's (or set `[traffic] trace` to run the trace itself).\n",
            count(stats.requests),
            count(self.clips_seen),
        );
        let mean_mb = libm::exp(self.size_mu + self.size_sigma * self.size_sigma / 2.0) / 1e6;
        let _ = writeln!(o, "[catalog]");
        let _ = writeln!(
            o,
            "# {} clips seen; the rest were never requested in the trace (the size whose expected distinct\n\
             # count under the fitted popularity is the count seen), less those uploaded during it.",
            count(self.clips_seen)
        );
        let _ = writeln!(o, "clips = {}", self.catalog_clips);
        let _ = writeln!(
            o,
            "# Lognormal by maximum likelihood on the clips' log sizes; Kolmogorov-Smirnov distance {:.4}.",
            self.ks_size
        );
        if self.size_sigma > 1e-9 {
            let _ = writeln!(
                o,
                "size = {{ dist = \"lognormal\", mean_mb = {mean_mb:.4}, sigma = {:.4} }}",
                self.size_sigma
            );
        } else {
            let _ = writeln!(o, "size = {{ dist = \"fixed\", mb = {mean_mb:.6} }}");
        }
        let _ = writeln!(
            o,
            "# Clips first seen in the second half: {} against {:.0} +- {:.0} that the catalog alone would give\n\
             # (uploads only for an excess beyond three standard deviations).",
            count(self.second_half_new.0),
            self.second_half_new.1,
            self.second_half_new.2,
        );
        let _ = writeln!(o, "uploads_per_day = {:.2}\n", self.uploads_per_day);
        let fresh = self.fresh.map(|(days, share)| {
            format!(
                "# Fresh clips' views: their ages since first seen, a mixture of the catalog's late-found clips\n\
                 # (uniform) and fresh ones (exponential), by maximum likelihood; the share beyond the catalog's.\n\
                 new_clip_decay_days = {days:.4}\nnew_clip_share = {share:.4}\n"
            )
        });
        let _ = writeln!(o, "[traffic]");
        let _ = writeln!(o, "views_per_month = {:.0}", self.views_per_month);
        let _ = writeln!(
            o,
            "# Zipf exponent by maximum likelihood on the rank-frequency, bias-corrected by a parametric\n\
             # bootstrap of {} traces (before: {:.4}); 95 % interval {:.4} to {:.4}. Kolmogorov-Smirnov\n\
             # distance between the trace's and the fit's rank-frequency distributions: {:.4}.",
            self.replicates, self.alpha_raw, self.alpha_interval.0, self.alpha_interval.1, self.ks_popularity
        );
        let _ = writeln!(o, "popularity = {{ dist = \"zipf\", alpha = {:.4} }}", self.zipf.alpha);
        match fresh {
            Some(f) => o.push_str(&f),
            None => {
                let _ = writeln!(o, "# No uploads beyond the catalog's: no fresh-clip views.\nnew_clip_share = 0");
            }
        }
        let _ = writeln!(o, "# Amplitude of the daily curve's first harmonic (requests per hour, each geography's).");
        let _ = writeln!(o, "diurnal = {}", self.diurnal_amplitude >= 0.01);
        let _ = writeln!(o, "diurnal_amplitude = {:.3}", self.diurnal_amplitude.min(0.95));
        if !stats.geo_names.is_empty() {
            let _ = writeln!(o, "\n[traffic.geos]");
            let mut shares: Vec<(String, f64)> = self.geos.iter().map(|(g, s, _)| (g.clone(), *s)).collect();
            // Rounded shares that still sum to 1: the largest takes the rounding.
            let rounded: Vec<f64> = shares.iter().map(|(_, s)| (s * 1e6).round() / 1e6).collect();
            let sum: f64 = rounded.iter().sum();
            let big = (0..shares.len()).max_by(|&a, &b| shares[a].1.total_cmp(&shares[b].1)).unwrap_or(0);
            for (i, s) in shares.iter_mut().enumerate() {
                s.1 = if i == big { rounded[i] + (1.0 - sum) } else { rounded[i] };
            }
            for (g, s) in &shares {
                let _ = writeln!(o, "{g} = {s:.6}");
            }
            let _ = writeln!(
                o,
                "\n# The hour each geography's requests peak, as a UTC offset (the model peaks at 20:00 local)."
            );
            let _ = writeln!(o, "[traffic.utc_offset_hours]");
            for (g, _, off) in &self.geos {
                let _ = writeln!(o, "{g} = {off:.1}");
            }
        }
        o
    }
}

/// The rank-frequency chart: the share of requests of each rank, trace (dots, thinned to about
/// 400 on the log scale) and fitted Zipf (line), log-log.
pub fn chart(f: &Fit, title: &str) -> Result<String, String> {
    use crate::report::charts::PALETTE;
    use plotters::prelude::*;
    let n: u64 = f.ranked.iter().sum();
    if n == 0 {
        return Err("no requests".into());
    }
    let p = zipf_p(f.zipf.alpha, f.zipf.clips as usize);
    // Ranks at about 100 per decade (every rank below 100).
    let mut ranks = Vec::new();
    let mut k = 1usize;
    let last = p.len().max(f.ranked.len());
    while k <= last {
        ranks.push(k);
        k = (k + 1).max((k as f64 * 1.023) as usize);
    }
    let data: Vec<(f64, f64)> =
        ranks.iter().filter_map(|&k| f.ranked.get(k - 1).map(|&c| (k as f64, c as f64 / n as f64))).collect();
    let fit: Vec<(f64, f64)> = ranks.iter().filter_map(|&k| p.get(k - 1).map(|&q| (k as f64, q))).collect();
    let y_min = data.iter().chain(&fit).map(|q| q.1).fold(f64::INFINITY, f64::min).max(1e-300);
    let y_max = data.iter().chain(&fit).map(|q| q.1).fold(0.0, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 520)).into_drawing_area();
        let e = |e: DrawingAreaErrorKind<_>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d((0.8..last as f64 * 1.25).log_scale(), (y_min * 0.5..y_max * 2.0).log_scale())
            .map_err(e)?;
        chart
            .configure_mesh()
            .max_light_lines(1)
            .x_desc("clip rank (most requested first)")
            .y_desc("share of requests")
            .x_label_formatter(&|v| crate::report::format::count(v.round() as u64))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()
            .map_err(e)?;
        let data_color = PALETTE[0];
        chart
            .draw_series(data.iter().map(|&(x, y)| Circle::new((x, y), 3, data_color.filled())))
            .map_err(e)?
            .label(format!(
                "trace ({} requests, {} clips)",
                crate::report::format::count(n),
                crate::report::format::count(f.clips_seen)
            ))
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, data_color.filled()));
        chart
            .draw_series(LineSeries::new(fit, BLACK.stroke_width(2)))
            .map_err(e)?
            .label(format!(
                "Zipf alpha {:.3} ({:.3} to {:.3}) over {} clips; KS {:.4}",
                f.zipf.alpha,
                f.alpha_interval.0,
                f.alpha_interval.1,
                crate::report::format::count(f.zipf.clips),
                f.ks_popularity
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(e)?;
        root.present().map_err(e)?;
    }
    let desc = "Each dot is the share of the trace's requests that went to the clip of that rank (most requested \
        first); the line is the fitted Zipf law. Where the dots leave the line, the law does not describe the trace.";
    Ok(crate::report::charts::with_title(svg, title, desc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The maximum-likelihood exponent of exact Zipf counts (counts proportional to k^-alpha, as
    /// many requests as it takes to make them whole numbers near enough) is alpha.
    #[test]
    fn the_mle_of_exact_zipf_counts_is_their_exponent() {
        for alpha in [0.5, 0.8, 1.2] {
            let clips = 1000;
            let ranked: Vec<u64> = (1..=clips).map(|k| (1e9 * (k as f64).powf(-alpha)).round() as u64).collect();
            let ln_k: Vec<f64> = (1..=clips).map(|k| (k as f64).ln()).collect();
            let got = mle_alpha(&ranked, &ln_k, 1.0);
            assert!((got - alpha).abs() < 1e-6, "{got} for {alpha}");
        }
    }

    /// The harmonic of a curve 1 + A cos(2 pi (h + 0.5 - 20) / 24) gives A and the peak at 20.
    #[test]
    fn the_harmonic_finds_amplitude_and_peak() {
        let hours: [u64; 24] = std::array::from_fn(|h| {
            let x = 2.0 * std::f64::consts::PI * ((h as f64 + 0.5) - 20.0) / 24.0;
            (1e6 * (1.0 + 0.4 * x.cos())).round() as u64
        });
        let (a, peak) = harmonic(&hours);
        assert!((a - 0.4).abs() < 1e-5, "{a}");
        assert!((peak - 20.0).abs() < 1e-3, "{peak}");
    }

    /// The expected distinct count of n requests is n for a catalog far larger than n with
    /// uniform popularity (few repeats) and the catalog for n far larger than it.
    #[test]
    fn expected_distinct_counts() {
        assert!((expected_distinct(0.0, 1000, 1_000_000) - 1000.0).abs() < 1e-6);
        let e = expected_distinct(0.0, 10_000_000, 100);
        assert!((e - 100.0).abs() < 0.01, "{e}");
        // Every clip seen many times: the catalog is the clips seen, to the search's 0.1 %.
        assert!((1000..=1001).contains(&catalog_size(0.0, 1000, 1_000_000)));
        // 500 clips seen in 1,000 requests of a uniform catalog: N (1 - e^(-1000/N)) = 500 at
        // N = 627.5 (solved apart, by bisection in Python).
        let n = catalog_size(0.0, 500, 1000);
        assert!((627..=629).contains(&n), "{n}");
    }
}
