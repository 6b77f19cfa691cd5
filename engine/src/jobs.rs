//! Scheduled jobs: the sync pass, cleanup, copy retries, cost-alert checks, month close.

use crate::config::AlertScope;
use crate::engine::Engine;
use crate::health::Health;
use crate::ids::{ClipId, RegionId};
use crate::io::Output;
use crate::mirrors::{Mirror, MirrorState};
use crate::policy::{ExpireMirrors, PlaceMirrors, PlacementView, RegionList, SelectSource};
use crate::units::{Bytes, SimTime, BYTES_PER_GB};
use std::cmp::Reverse;

impl<S: SelectSource, P: PlaceMirrors, T: ExpireMirrors> Engine<S, P, T> {
    /// The sync job: every clip whose score reaches the threshold and has free mirror slots gets
    /// new pending mirrors where the placement policy puts them. O(clips).
    pub(crate) fn sync(&mut self, at: SimTime) {
        self.next_sync = at + self.cfg.mirror.sync_interval;
        self.counters.sync_passes += 1;
        if at >= self.next_halving {
            self.halve_popularity();
            let h = self.cfg.mirror.score_half_life.expect("halving is scheduled only with a half-life");
            while self.next_halving <= at {
                self.next_halving += h;
            }
        }
        if let Some(w) = &mut self.window {
            w.advance(at, &mut self.clips);
        }
        let max = self.cfg.mirror.max_per_clip;
        let threshold = self.cfg.mirror.replication_threshold as i64;
        let refresh = self.ttl.refresh_on_sync();
        let unhealthy = self
            .region_health
            .iter()
            .enumerate()
            .filter(|(_, h)| **h == Health::Unhealthy)
            .fold(0u64, |m, (r, _)| m | 1 << r);
        let allowed = self.mirror_region_mask & !unhealthy;
        let geos = self.topo.geos();
        // Only clips whose score ever reached the threshold, and fresh clips when predictive
        // mirroring is on, can qualify; visit them in id order. Clips are uploaded in time order,
        // so the fresh ones are the ids from `fresh_from` on.
        // Clips with past views (a catalog's history) are not fresh, nor any uploaded before one.
        let fresh_from = match self.cfg.mirror.predict {
            Some(p) => self.uploaded_at.partition_point(|&u| u + p.age <= at).max(self.first_fresh),
            None => self.clips.len(),
        };
        let (clips, words) = (self.clips.len(), self.reached_threshold.len());
        // The words before the first fresh clip's as the seed's sync has them (the common case,
        // every word without prediction: nothing more per word), then the others.
        // (Without prediction `fresh_from` is the clip count: the last, partial word, if any, goes
        // through the second loop with no fresh bits.)
        let fresh_word = (fresh_from / 64).min(words);
        let mut w = 0;
        // Skip the empty words in one tight scan (most clips never reach the threshold).
        while let Some(k) = self.reached_threshold[w..fresh_word].iter().position(|&b| b != 0) {
            w += k;
            let mut bits = self.reached_threshold[w];
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.sync_clip(i, at, max, threshold, refresh, allowed, geos);
            }
            w += 1;
        }
        for w in fresh_word..words {
            let mut bits = self.reached_threshold[w] | fresh_bits(w, fresh_from, clips);
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.sync_clip(i, at, max, threshold, refresh, allowed, geos);
            }
        }
    }

    /// The sync's decision for clip `i`: refresh its mirrors' TTL and order new mirrors.
    #[allow(clippy::too_many_arguments)]
    fn sync_clip(&mut self, i: usize, at: SimTime, max: u8, threshold: i64, refresh: bool, allowed: u64, geos: usize) {
        let c = self.clips[i];
        if c.records >= max && !refresh {
            return;
        }
        let score = self.score(&c);
        let predicted = score < threshold && self.predicted(i, score, at);
        if score < threshold && !predicted {
            return;
        }
        let clip = ClipId(i as u32);
        if refresh {
            self.refresh_ttl(clip, at);
        }
        if c.records >= max {
            return;
        }
        let copies = self.mirrors.chain(c.first_mirror).fold(1u64 << c.primary, |m, (_, x)| m | 1 << x.region.0);
        let candidates = allowed & !copies;
        let Some(source) = self.copy_source(clip, at) else { return };
        if candidates == 0 {
            return;
        }
        if self.cfg.mirror.cost_capped && self.alert.raised {
            self.counters.copies_withheld += 1;
            return;
        }
        let mut targets = RegionList::new(RegionId(0));
        let demand = self.demand_of(i);
        let view = PlacementView {
            clip,
            demand: &demand[..geos],
            candidates,
            copies,
            slots: usize::from(max - c.records),
            topology: &self.topo,
        };
        self.placement.place(&view, &mut targets);
        let mut free = candidates;
        for &to in targets.as_slice() {
            // A placement policy that names a region that is not a free candidate (or names one
            // twice), or more regions than there are free slots, is a bug in that policy.
            assert!(
                free & (1 << to.0) != 0 && self.clips[i].records < max,
                "placement returned {to} for {clip}, which is not a free candidate (free {free:#b}, \
                 {} of {max} slots used)",
                self.clips[i].records
            );
            free &= !(1 << to.0);
            debug_assert!(self.mirrors.find(self.clips[i].first_mirror, to).is_none(), "one record per region");
            let mut mirror = Mirror::pending(clip, to, source, at);
            mirror.source_infrequent = u32::from(c.primary) == source.0 && self.is_infrequent(i);
            let head = &mut self.clips[i].first_mirror;
            self.mirrors.insert(head, mirror);
            self.clips[i].records += 1;
            self.counters.mirrors_created += 1;
            self.counters.mirrors_predicted += u64::from(predicted);
            self.outputs.push_back(Output::Replicate { clip, from: source, to, size: Bytes(c.size_bytes) });
        }
    }

    /// Whether predictive mirroring ([`crate::config::Predict`]) qualifies clip `i`, whose score is
    /// `score`, at `at`: fresh, and on course to reach the threshold within the horizon. Kept out
    /// of line: the sync's loop over clips stays as small as the seed's.
    #[inline(never)]
    fn predicted(&self, i: usize, score: i64, at: SimTime) -> bool {
        let Some(p) = self.cfg.mirror.predict else { return false };
        if i < self.first_fresh {
            return false;
        }
        let age = at.saturating_since(self.uploaded_at[i]);
        let threshold = i128::from(self.cfg.mirror.replication_threshold);
        age > crate::units::SimDuration::ZERO
            && age < p.age
            && i128::from(score) * i128::from(p.horizon.as_micros()) >= threshold * i128::from(age.as_micros())
    }

    fn refresh_ttl(&mut self, clip: ClipId, at: SimTime) {
        let c = self.clips[clip.index()];
        let ttl = self.ttl.ttl(clip, self.score(&c));
        self.mirrors.for_each_in_chain_mut(c.first_mirror, |m| {
            if m.serveable(at) {
                m.expires_at = m.expires_at.max(at + ttl);
            }
        });
    }

    /// Where to copy a clip from: its primary unless believed unhealthy, else the healthiest
    /// serveable mirror; `None` when every copy is believed unhealthy.
    fn copy_source(&self, clip: ClipId, at: SimTime) -> Option<RegionId> {
        let c = &self.clips[clip.index()];
        let primary = RegionId(u32::from(c.primary));
        if self.region_health[primary.index()] != Health::Unhealthy {
            return Some(primary);
        }
        self.mirrors
            .chain(c.first_mirror)
            .filter(|(_, m)| m.serveable(at) && self.region_health[m.region.index()] != Health::Unhealthy)
            .min_by_key(|(_, m)| (self.region_health[m.region.index()], m.region))
            .map(|(_, m)| m.region)
    }

    fn halve_popularity(&mut self) {
        for c in &mut self.clips {
            c.views /= 2;
            c.votes /= 2;
        }
        for c in &mut self.clips {
            for d in &mut c.demand {
                *d /= 2;
            }
        }
        for d in &mut self.demand_ext {
            *d /= 2;
        }
    }

    /// The cleanup job: deletes every mirror whose TTL has passed. O(mirrors).
    pub(crate) fn cleanup(&mut self, at: SimTime) {
        self.next_cleanup = at + self.cfg.mirror.cleanup_interval;
        self.counters.cleanup_passes += 1;
        let mut expired = std::mem::take(&mut self.scratch);
        expired.clear();
        expired.extend(
            self.mirrors.iter().filter(|(_, m)| m.state == MirrorState::Active && m.expires_at <= at).map(|(i, _)| i),
        );
        for &idx in &expired {
            let clip = self.mirrors.get(idx).clip;
            let head = &mut self.clips[clip.index()].first_mirror;
            let m = self.mirrors.remove(head, idx);
            debug_assert!(m.state == MirrorState::Active && m.expires_at <= at, "cleanup deletes only expired mirrors");
            debug_assert!(self.active_records > 0 && self.clips[clip.index()].records > 0, "the counts held it");
            let c = &mut self.clips[clip.index()];
            c.records -= 1;
            let size = c.size_bytes;
            self.change_stored(m.region, -(size as i64), at);
            self.active_records -= 1;
            self.counters.mirrors_deleted += 1;
            self.outputs.push_back(Output::DeleteMirror { clip, region: m.region, size: Bytes(size) });
        }
        self.scratch = expired;
    }

    /// A copy retry fell due: order the copy again if the mirror is still pending.
    pub(crate) fn retry_copy(&mut self, at: SimTime) {
        let Some(Reverse((_, _, clip, region))) = self.retries.pop() else { return };
        let (clip, region) = (ClipId(clip), RegionId(region));
        let c = self.clips[clip.index()];
        let Some(idx) = self.mirrors.find(c.first_mirror, region) else { return };
        if self.mirrors.get(idx).state != MirrorState::Pending {
            return;
        }
        let from = self.copy_source(clip, at).unwrap_or(RegionId(u32::from(c.primary)));
        let source_infrequent = u32::from(c.primary) == from.0 && self.is_infrequent(clip.index());
        let m = self.mirrors.get_mut(idx);
        m.source = from;
        m.source_infrequent = source_infrequent;
        self.outputs.push_back(Output::Replicate { clip, from, to: region, size: Bytes(c.size_bytes) });
    }

    /// Closes the billing month that ends at `at`.
    pub(crate) fn close_month(&mut self, at: SimTime) {
        self.next_month = at + self.cfg.billing.month;
        self.accrue_time_meters(at);
        let bill = self.ledger.close_month(at);
        let (month, total) = (bill.month, bill.total());
        self.rebalance_cdns();
        self.outputs.push_back(Output::MonthClosed { month, total });
    }

    /// The cost-alert check: prices usage so far, slides the window, raises or clears the alert.
    pub(crate) fn check_cost_alert(&mut self, at: SimTime) {
        let cfg = self.cfg.billing.cost_alert;
        self.next_alert = at + cfg.check_interval;
        self.accrue_time_meters(at);
        self.ledger.close_segment();
        let cost = self.ledger.take_uncollected();
        self.rebalance_cdns();
        let (all_bytes, cdn_bytes) = std::mem::take(&mut self.alert.delivered);
        let sample = match cfg.scope {
            AlertScope::Cdn => (cost.cdn.0, cdn_bytes),
            AlertScope::Total => (cost.total.0, all_bytes),
        };
        let slot = self.alert.next;
        self.alert.ring[slot] = sample;
        self.alert.next = (slot + 1) % self.alert.ring.len();
        let (cost_nanos, bytes) =
            self.alert.ring.iter().fold((0i128, 0u128), |(c, b), &(ci, bi)| (c + i128::from(ci), b + u128::from(bi)));
        if bytes == 0 {
            return;
        }
        // cost / (bytes / 1e9) > threshold  <=>  cost * 1e9 > threshold * bytes, in integers.
        let scaled = cost_nanos.max(0) as u128 * u128::from(BYTES_PER_GB);
        let above = scaled > u128::from(cfg.max_cost_per_gb_nanos) * bytes;
        let per_gb = u64::try_from(scaled / bytes).unwrap_or(u64::MAX);
        if above && !self.alert.raised {
            self.alert.raised = true;
            self.counters.cost_alerts += 1;
            self.outputs
                .push_back(Output::CostAlert { cost_per_gb_nanos: per_gb, threshold_nanos: cfg.max_cost_per_gb_nanos });
        } else if !above && self.alert.raised {
            self.alert.raised = false;
            self.outputs.push_back(Output::CostAlertCleared { cost_per_gb_nanos: per_gb });
        }
    }
}

/// The bits of word `w` of a per-clip bitset for the clips `fresh_from..clips`.
fn fresh_bits(w: usize, fresh_from: usize, clips: usize) -> u64 {
    let (lo, hi) = (w * 64, (w * 64 + 64).min(clips));
    let from = fresh_from.max(lo);
    if from >= hi {
        return 0;
    }
    let below = |n: usize| if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    below(hi - lo) & !below(from - lo)
}

#[cfg(test)]
mod tests {
    use crate::*;

    /// The fresh clips' bits, word by word, against a bit-by-bit count (word edges included).
    #[test]
    fn fresh_bits_mark_exactly_the_fresh_clips() {
        for clips in [0usize, 1, 63, 64, 65, 128, 130] {
            for fresh_from in [0, 1, 62, 63, 64, 65, 127, 128, 129, 130, 200] {
                for w in 0..clips.div_ceil(64) + 1 {
                    let want =
                        (0..64).filter(|b| (fresh_from..clips).contains(&(w * 64 + b))).fold(0u64, |m, b| m | 1 << b);
                    assert_eq!(
                        super::fresh_bits(w, fresh_from, clips),
                        want,
                        "{clips} clips from {fresh_from}, word {w}"
                    );
                }
            }
        }
    }

    const GB: u64 = 1_000_000_000;

    /// Regions `us` (90 ms from the one geography, in Europe), `eu` (20 ms), and `extra` more
    /// (10, 11, ... ms), storage at a flat $0.10 per unit, replication threshold 2.
    fn config(extra: u32) -> EngineConfig {
        let mut cfg = EngineConfig::new();
        let s3 = cfg.add_provider("s3");
        let g = cfg.add_geo("eu");
        for (name, ms) in [("us".to_string(), 90), ("eu".to_string(), 20)]
            .into_iter()
            .chain((0..extra).map(|r| (format!("r{r}"), 10 + r)))
        {
            let region = cfg.add_region(&name, s3);
            cfg.set_latency_ms(region, g, ms);
        }
        for m in Meter::ALL.into_iter().filter(|m| !m.zone_is_geo()) {
            cfg.set_rate(m, s3, RateTable::flat(100_000_000).unwrap());
        }
        cfg.mirror.replication_threshold = 2;
        cfg
    }

    /// [`config`] with two regions, tweaked, and one 1 GB clip in `us`.
    fn engine(tweak: impl FnOnce(&mut EngineConfig)) -> Engine {
        let mut cfg = config(0);
        tweak(&mut cfg);
        let mut e = Engine::new(cfg).unwrap();
        e.handle_input(SimTime::ZERO, Input::ClipUploaded { clip: ClipId(0), size: Bytes(GB), primary: RegionId(0) })
            .unwrap();
        e
    }

    fn view(e: &mut Engine, t: SimTime) -> ServedFrom {
        let req = e.begin_request(t, ClipId(0), GeoId(0)).unwrap();
        let step = e.next_step(t, &req);
        e.finish(&req, step).unwrap()
    }

    /// Runs every timer due up to `t`. A timer that does not move on when run is a bug: it fails
    /// the test after a bounded number of runs instead of hanging it.
    fn run_until<S: SelectSource, P: PlaceMirrors, T: ExpireMirrors>(
        e: &mut Engine<S, P, T>,
        t: SimTime,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        for _ in 0..100_000 {
            let at = e.poll_timeout();
            if at > t {
                return out;
            }
            e.handle_timeout(at).unwrap();
            out.extend(std::iter::from_fn(|| e.poll_output()));
        }
        panic!("timers still due at {} after 100,000 runs", e.poll_timeout());
    }

    fn replicate_orders(out: &[Output]) -> usize {
        out.iter().filter(|o| matches!(o, Output::Replicate { .. })).count()
    }

    /// A half-life halves every clip's views, votes and demand counters, inline (up to five
    /// geographies) or in the side table (more), rounding down.
    #[test]
    fn halving_popularity_halves_views_votes_and_demand() {
        for geos in [3u32, 7] {
            let mut e = engine(|c| {
                for g in 1..geos {
                    let geo = c.add_geo(&format!("g{g}"));
                    c.set_latency_ms(RegionId(0), geo, 50);
                    c.set_latency_ms(RegionId(1), geo, 50);
                }
            });
            for (g, views) in [(0, 7u32), (geos - 1, 4)] {
                for _ in 0..views {
                    e.bump_demand(0, g as usize);
                }
            }
            e.clips[0].views = 11;
            e.clips[0].votes = -5;
            e.halve_popularity();
            let mut want = [0u32; crate::config::GEOS_MAX];
            want[0] = 3;
            want[geos as usize - 1] = 2;
            assert_eq!(e.demand_of(0), want, "{geos} geographies");
            assert_eq!((e.clips[0].views, e.clips[0].votes), (5, -2), "{geos} geographies");
        }
    }

    /// A placement that returns a fixed list of regions, whatever it is shown.
    struct Fixed(&'static [u32]);

    impl PlaceMirrors for Fixed {
        fn place(&self, _view: &crate::policy::PlacementView<'_>, out: &mut crate::policy::RegionList) {
            for &r in self.0 {
                out.push(RegionId(r));
            }
        }
    }

    /// Three regions (the clip's primary is region 0), a popular clip, one sync with `placement`.
    fn sync_with(placement: Fixed, max_per_clip: u8) -> Vec<Output> {
        let mut cfg = config(1);
        cfg.mirror.replication_threshold = 1;
        cfg.mirror.max_per_clip = max_per_clip;
        let ttl = TtlPolicy::from_config(&cfg.mirror);
        let mut e = Engine::with_policies(cfg, SourcePolicy::SeedChain, placement, ttl).unwrap();
        e.handle_input(SimTime::ZERO, Input::ClipUploaded { clip: ClipId(0), size: Bytes(GB), primary: RegionId(0) })
            .unwrap();
        let req = e.begin_request(SimTime(1), ClipId(0), GeoId(0)).unwrap();
        let step = e.next_step(SimTime(1), &req);
        e.finish(&req, step).unwrap();
        run_until(&mut e, SimTime::ZERO + SimDuration::from_hours(1))
    }

    #[test]
    fn a_placement_of_free_candidates_is_ordered() {
        let out = sync_with(Fixed(&[2, 1]), 2);
        let to: Vec<u32> = out
            .iter()
            .filter_map(|o| match o {
                Output::Replicate { to, .. } => Some(to.0),
                _ => None,
            })
            .collect();
        assert_eq!(to, [2, 1]);
    }

    #[test]
    #[should_panic(expected = "placement returned RegionId#0 for ClipId#0, which is not a free candidate")]
    fn a_placement_naming_the_primary_is_a_bug() {
        sync_with(Fixed(&[0]), 2);
    }

    #[test]
    #[should_panic(expected = "placement returned RegionId#1 for ClipId#0, which is not a free candidate")]
    fn a_placement_naming_a_region_twice_is_a_bug() {
        sync_with(Fixed(&[1, 1]), 2);
    }

    #[test]
    #[should_panic(expected = "placement returned RegionId#2 for ClipId#0, which is not a free candidate")]
    fn a_placement_beyond_the_free_slots_is_a_bug() {
        sync_with(Fixed(&[1, 2]), 1);
    }

    #[test]
    fn failed_copies_back_off_exponentially_then_give_up() {
        let mut e = engine(|c| c.mirror.copy_attempts_max = 3);
        view(&mut e, SimTime(1));
        view(&mut e, SimTime(2));
        let sync = SimTime::ZERO + SimDuration::from_hours(1);
        assert_eq!(replicate_orders(&run_until(&mut e, sync)), 1);
        let fail = |e: &mut Engine, t: SimTime| {
            e.handle_input(
                t,
                Input::ReplicationFailed { clip: ClipId(0), region: RegionId(1), bytes_transferred: Bytes(GB / 4) },
            )
            .unwrap()
        };
        fail(&mut e, sync);
        // First retry after 1 minute, then 2 minutes.
        assert_eq!(e.poll_timeout(), sync + SimDuration::from_mins(1));
        assert_eq!(replicate_orders(&run_until(&mut e, sync + SimDuration::from_mins(1))), 1);
        fail(&mut e, sync + SimDuration::from_mins(1));
        assert_eq!(e.poll_timeout(), sync + SimDuration::from_mins(3));
        run_until(&mut e, sync + SimDuration::from_mins(3));
        fail(&mut e, sync + SimDuration::from_mins(3));
        assert_eq!(e.poll_output(), Some(Output::ReplicationAbandoned { clip: ClipId(0), region: RegionId(1) }));
        assert_eq!(e.mirrors_of(ClipId(0)).unwrap().count(), 0);
        let c = e.counters();
        assert_eq!((c.copy_failures, c.mirrors_abandoned, c.replication_bytes), (3, 1, 3 * GB / 4));
        // A report for the abandoned mirror is refused.
        let again = Input::ReplicationFinished { clip: ClipId(0), region: RegionId(1) };
        assert_eq!(
            e.handle_input(sync + SimDuration::from_mins(4), again),
            Err(EngineError::NoPendingMirror { clip: ClipId(0), region: RegionId(1) })
        );
    }

    #[test]
    fn refresh_on_sync_keeps_a_popular_mirror_alive() {
        for refresh in [false, true] {
            let mut e = engine(|c| {
                c.mirror.refresh_ttl_on_sync = refresh;
                c.mirror.ttl = SimDuration::from_hours(3);
            });
            view(&mut e, SimTime(1));
            view(&mut e, SimTime(2));
            let sync = SimTime::ZERO + SimDuration::from_hours(1);
            run_until(&mut e, sync);
            e.handle_input(sync, Input::ReplicationFinished { clip: ClipId(0), region: RegionId(1) }).unwrap();
            // Still popular at every later sync (lifetime views): with refresh, the expiry moves.
            let later = sync + SimDuration::from_hours(5);
            run_until(&mut e, later);
            // Without refresh the mirror expired 3 h after it became active: the primary serves.
            let expected = if refresh { ServedFrom::LocalMirror } else { ServedFrom::PrimaryDirect };
            assert_eq!(view(&mut e, later), expected, "refresh = {refresh}");
        }
    }

    #[test]
    fn cost_alert_rises_and_clears_with_the_window() {
        // Total cost per GB: $0.10 egress per GB, threshold $0.05 -> alert; then price drops.
        let mut e = engine(|c| {
            c.billing.cost_alert = CostAlertConfig {
                max_cost_per_gb_nanos: 50_000_000,
                window: SimDuration::from_hours(2),
                check_interval: SimDuration::from_hours(1),
                scope: AlertScope::Total,
            };
            c.mirror.enabled = false;
        });
        view(&mut e, SimTime(10));
        let out = run_until(&mut e, SimTime::ZERO + SimDuration::from_hours(1));
        assert!(out.iter().any(|o| matches!(o, Output::CostAlert { threshold_nanos: 50_000_000, .. })), "{out:?}");
        let cheap = Input::PriceChange {
            meter: Meter::OriginEgressDirect,
            provider: ProviderId(0),
            zone: None,
            table: RateTable::flat(0).unwrap(),
        };
        e.handle_input(SimTime::ZERO + SimDuration::from_hours(1), cheap).unwrap();
        let mut out = Vec::new();
        for h in 2..=4 {
            view(&mut e, SimTime::ZERO + SimDuration::from_mins(h * 60 - 30));
            out.extend(run_until(&mut e, SimTime::ZERO + SimDuration::from_hours(h)));
        }
        assert!(out.iter().any(|o| matches!(o, Output::CostAlertCleared { .. })), "{out:?}");
        assert_eq!(e.counters().cost_alerts, 1);
    }

    #[test]
    fn sync_never_mirrors_into_an_unhealthy_region() {
        let mut e = engine(|_| {});
        for _ in 0..3 {
            e.handle_input(
                SimTime(5),
                Input::Probe { target: HealthTarget::Region(RegionId(1)), ok: false, latency: SimDuration::ZERO },
            )
            .unwrap();
        }
        view(&mut e, SimTime(6));
        view(&mut e, SimTime(7));
        let out = run_until(&mut e, SimTime::ZERO + SimDuration::from_hours(1));
        assert_eq!(replicate_orders(&out), 0);
        assert_eq!(e.counters().mirrors_created, 0);
    }

    /// A clip uploaded at a sync's instant (the world hands uploads to the engine before its
    /// timers at equal times) has shown no velocity yet: predictive mirroring waits for the next
    /// sync, even with a threshold its score meets by any projection but a zero age.
    #[test]
    fn a_clip_uploaded_at_the_sync_instant_is_not_predicted_yet() {
        let hour = SimTime::ZERO + SimDuration::from_hours(1);
        let mut e = engine(|c| {
            c.mirror.replication_threshold = 1;
            c.mirror.view_weight = 0;
            c.mirror.predict = Some(Predict { age: SimDuration::from_days(1), horizon: SimDuration::from_days(1) });
        });
        e.handle_input(hour, Input::ClipUploaded { clip: ClipId(1), size: Bytes(GB), primary: RegionId(0) }).unwrap();
        e.handle_input(hour, Input::Vote { clip: ClipId(1), delta: 0 }).unwrap();
        e.handle_timeout(hour).unwrap();
        assert_eq!(e.counters().mirrors_predicted, 0, "age 0 at the sync");
        // Views do not count (weight 0); a vote of 0 keeps the score at 0 < 1: at the next sync
        // 0 x horizon >= 1 x age fails too, so only a positive score is ever projected.
        e.handle_timeout(hour + SimDuration::from_hours(1)).unwrap();
        assert_eq!(e.counters().mirrors_predicted, 0);
        e.handle_input(hour + SimDuration::from_hours(1), Input::Vote { clip: ClipId(1), delta: 1 }).unwrap();
        e.handle_timeout(hour + SimDuration::from_hours(2)).unwrap();
        assert_eq!(e.counters().mirrors_created, 1, "the threshold rule: score 1 reaches 1");
    }

    /// `Request::direct` after the request has tried something changes nothing: without a CDN
    /// after a failed mirror, with one after a failed edge.
    #[test]
    fn direct_is_only_taken_before_the_first_step() {
        // No CDN: mirror the clip to eu, fail the mirror, then ask for direct.
        let mut e = engine(|_| {});
        let t = SimTime::ZERO + SimDuration::from_mins(1);
        view(&mut e, t);
        view(&mut e, t);
        let sync = SimTime::ZERO + SimDuration::from_hours(1);
        e.handle_timeout(sync).unwrap();
        e.handle_input(sync, Input::ReplicationFinished { clip: ClipId(0), region: RegionId(1) }).unwrap();
        let mut req = e.begin_request(sync, ClipId(0), GeoId(0)).unwrap();
        let step = e.next_step(sync, &req);
        assert!(matches!(step, Step::Origin { region: RegionId(1), .. }), "the mirror first: {step:?}");
        e.attempt_failed(&mut req, step).unwrap();
        req.direct();
        assert!(!req.is_direct(), "too late after a failed attempt");
        // With a CDN: a failed edge, then direct.
        let mut e = engine(|c| {
            let cdn = c.add_provider("cdn");
            for m in Meter::ALL.into_iter().filter(|m| m.zone_is_geo()) {
                c.set_rate(m, cdn, RateTable::flat(1).unwrap());
            }
            c.set_cdn(cdn);
        });
        let mut req = e.begin_request(t, ClipId(0), GeoId(0)).unwrap();
        let step = e.next_step(t, &req);
        assert_eq!(step, Step::Edge);
        e.attempt_failed(&mut req, step).unwrap();
        req.direct();
        assert!(!req.is_direct(), "too late after a failed edge");
        let mut fresh = e.begin_request(t, ClipId(0), GeoId(0)).unwrap();
        fresh.direct();
        assert!(fresh.is_direct(), "in time before the first step");
        assert!(matches!(e.next_step(t, &fresh), Step::Origin { region: RegionId(0), via_cdn: false, .. }));
    }

    /// A clip with past views (a catalog's history) is not a fresh upload, nor is one uploaded
    /// before it; one uploaded after it is.
    #[test]
    fn clips_with_a_history_are_not_fresh_uploads() {
        let mut e = engine(|c| {
            c.mirror.replication_threshold = 1000;
            c.mirror.predict = Some(Predict { age: SimDuration::from_days(7), horizon: SimDuration::from_days(90) });
        });
        let zero = SimTime::ZERO;
        e.handle_input(zero, Input::ClipUploaded { clip: ClipId(1), size: Bytes(GB), primary: RegionId(0) }).unwrap();
        e.handle_input(zero, Input::PastViews { clip: ClipId(1), geo: GeoId(0), views: 5 }).unwrap();
        e.handle_input(zero, Input::ClipUploaded { clip: ClipId(2), size: Bytes(GB), primary: RegionId(0) }).unwrap();
        let t = zero + SimDuration::from_mins(30);
        for clip in [0, 1, 2] {
            // 5 views in the first hour: 5 x 90 days is far above 1000 x 1 hour.
            for _ in 0..5 {
                let req = e.begin_request(t, ClipId(clip), GeoId(0)).unwrap();
                let step = e.next_step(t, &req);
                e.finish(&req, step).unwrap();
            }
        }
        e.handle_timeout(zero + SimDuration::from_hours(1)).unwrap();
        let ordered: Vec<u32> = std::iter::from_fn(|| e.poll_output())
            .filter_map(|o| match o {
                Output::Replicate { clip, .. } => Some(clip.0),
                _ => None,
            })
            .collect();
        assert_eq!(ordered, [2], "only the clip uploaded after the history is fresh");
        assert_eq!(e.counters().mirrors_predicted, 1);
    }
}
