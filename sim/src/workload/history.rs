//! A catalog with a history (`catalog.history`): before the run, each catalog clip gets the views
//! the same popularity model would have given it over the history, so that a run measures a
//! catalog in its steady state rather than in its launch month.
//!
//! Over a history of `H` seconds at a base rate of `λ` catalog views a second (the base rate
//! less the share of views that go to fresh uploads, when there are uploads), clip `i` with
//! popularity `p_i` gets Poisson(`λ · H · p_i · s_g`) views from geography `g` with viewer share
//! `s_g` (the daily curve averages out over whole days), and each view its chance of a vote, up
//! or down, as in the run. The draws come from a stream of their own, so that the run's traffic
//! is the same with or without a history.
//!
//! With a sliding score window (`mirror.score_window`) shorter than the history, only the views
//! of the last window are drawn (the earlier ones would have left the score already); the engine
//! spreads them evenly over the window's steps.

use crate::rng::{Purpose, Stream};
use crate::scenario::{Popularity, Scenario};
use clipsim_engine::{ClipId, GeoId};
use rand_distr::{Binomial, Distribution, Poisson};

/// What a clip got before the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Past {
    /// Views from a geography.
    Views(GeoId, u32),
    /// The net of its up (+1) and down (-1) votes.
    Votes(i32),
}

/// Calls `each(clip, past)` for every catalog clip with past views (none when the scenario has
/// no history): its views from each geography that had any, then its net votes when not zero.
pub fn past_views(sc: &Scenario, mut each: impl FnMut(ClipId, Past)) {
    if sc.catalog.history == clipsim_engine::SimDuration::ZERO {
        return;
    }
    let history = sc.engine.mirror.score_window.map_or(sc.catalog.history, |w| w.min(sc.catalog.history));
    let secs = history.as_secs_f64();
    let clips = sc.catalog.clips as usize;
    let t = &sc.traffic;
    // Fresh-upload views go to the catalog when there are no uploads (as in the run).
    let catalog_share = if sc.catalog.uploads_per_day > 0.0 { 1.0 - t.new_clip_share } else { 1.0 };
    let views = t.views_per_sec * catalog_share * secs;
    let weights = match t.popularity {
        // Zipf(0) gives every clip weight 1, as uniform popularity does.
        Popularity::Zipf(alpha) => super::zipf_weights(clips, alpha),
        Popularity::Uniform => vec![1.0; clips],
    };
    let total: f64 = weights.iter().sum();
    let mut rng = Stream::new(sc.seed, Purpose::History);
    for (i, w) in weights.iter().enumerate() {
        let clip = ClipId(i as u32);
        let mut clip_views = 0u64;
        for (g, share) in t.geo_shares.iter().enumerate() {
            let mean = views * w / total * share;
            let Ok(poisson) = Poisson::new(mean) else { continue };
            let n = poisson.sample(rng.rng()).min(f64::from(u32::MAX)) as u32;
            if n >= 1 {
                each(clip, Past::Views(GeoId(g as u32), n));
                clip_views += u64::from(n);
            }
        }
        // Votes: Binomial(views, votes_per_view), each up with `upvote_share`.
        let votes = Binomial::new(clip_views, t.votes_per_view).map_or(0, |b| b.sample(rng.rng()));
        let ups = Binomial::new(votes, t.upvote_share).map_or(0, |b| b.sample(rng.rng()));
        let net = (2 * ups as i64 - votes as i64).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        if net != 0 {
            each(clip, Past::Votes(net));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The past views add up to the rate times the history (within 4 standard deviations of the
    /// Poisson total), split by the geographies' shares, with the most popular clip first; and
    /// the net votes have the mean `views · votes_per_view · (2 · upvote_share − 1)`.
    #[test]
    fn past_views_follow_the_rate_the_shares_and_the_popularity() {
        let text = "[scenario]\nname = \"h\"\nseed = 7\n[catalog]\nclips = 5000\nhistory = \"30d\"\n\
                    [traffic]\nviews_per_month = 200000\nvotes_per_view = 0.1\nupvote_share = 0.75\n\
                    [traffic.geos]\nna = 0.5\neu = 0.3\napac = 0.2\n";
        let sc = crate::scenario::from_str(Path::new("h.toml"), text, &Default::default()).expect("valid");
        let (mut by_geo, mut by_clip, mut net_votes) = ([0u64; 3], vec![0u64; 5000], 0i64);
        past_views(&sc, |clip, past| match past {
            Past::Views(g, n) => {
                by_geo[g.index()] += u64::from(n);
                by_clip[clip.index()] += u64::from(n);
            }
            Past::Votes(d) => net_votes += i64::from(d),
        });
        let mean = sc.traffic.views_per_sec * 30.0 * 86_400.0;
        let total: u64 = by_geo.iter().sum();
        assert!((total as f64 - mean).abs() < 4.0 * mean.sqrt(), "{total} past views against {mean}");
        for (g, share) in [0.5, 0.3, 0.2].into_iter().enumerate() {
            let m = mean * share;
            assert!((by_geo[g] as f64 - m).abs() < 4.0 * m.sqrt(), "geo {g}: {} against {m}", by_geo[g]);
        }
        assert!(by_clip[0] > by_clip[10] && by_clip[10] > by_clip[1000], "by popularity: {:?}", &by_clip[..3]);
        let votes_mean = total as f64 * 0.1 * 0.5;
        let votes_sd = (total as f64 * 0.1).sqrt();
        assert!((net_votes as f64 - votes_mean).abs() < 4.0 * votes_sd, "{net_votes} net votes against {votes_mean}");
        // With uploads, fresh clips take `new_clip_share` of the views (0.25 here): the catalog's
        // past views are the rest.
        let with_uploads = text
            .replace("history = \"30d\"\n", "history = \"30d\"\nuploads_per_day = 10\n")
            .replace("[traffic]\n", "[traffic]\nnew_clip_share = 0.25\n");
        let sc = crate::scenario::from_str(Path::new("h.toml"), &with_uploads, &Default::default()).expect("valid");
        assert!(sc.catalog.uploads_per_day > 0.0 && sc.traffic.new_clip_share == 0.25);
        let mut past = 0u64;
        past_views(&sc, |_, p| {
            if let Past::Views(_, n) = p {
                past += u64::from(n);
            }
        });
        let m = mean * 0.75;
        assert!((past as f64 - m).abs() < 4.0 * m.sqrt(), "{past} past catalog views with uploads against {m}");
        let launch = crate::scenario::from_str(Path::new("h.toml"), &text.replace("30d", "0s"), &Default::default());
        let mut any = false;
        past_views(&launch.expect("valid"), |_, _| any = true);
        assert!(!any, "a launch has no past");
    }
}
