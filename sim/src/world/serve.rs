//! Serving one view: the request path through the engine and the stand-ins, and the load-time
//! model.
//!
//! Load time = round trips to the serving point (`network.round_trips` x its RTT; an edge miss or
//! a revalidation adds one round trip from the edge to the origin, approximated by the origin's
//! RTT to the viewer's geography, and with an origin shield one round trip from the edge to the
//! shield, whether the shield answers or passes the request on) + the time to fetch the first
//! `startup_seconds` of video at the viewer's throughput + `health.request_timeout` for every failed attempt. Degraded targets multiply
//! their RTT by their latency factor.

use super::Sim;
use crate::cache::{EdgeCache, Lookup};
use crate::conformance::record::{note, Answer, Event as RecEvent};
use crate::rng::{Purpose, Stream};
use crate::workload::Arrival;
use clipsim_engine::{Input, ServedFrom, Step};

/// Quantiles in the viewer-throughput table.
const THROUGHPUT_QUANTILES: usize = 1024;

/// A table of viewer throughputs in bits per second: `THROUGHPUT_QUANTILES` draws from a
/// lognormal with mean `mean_bps` and shape `sigma`, sorted, rescaled so their mean is exactly the
/// configured mean. A request picks one entry uniformly (O(1), no transcendental call).
pub(super) fn throughput_table(mean_bps: u64, sigma: f64, seed: u64) -> Vec<u64> {
    if sigma == 0.0 {
        return vec![mean_bps; 1];
    }
    let mut rng = Stream::new(seed ^ 0x7468_726f_7567_6870, Purpose::Network);
    let mut f: Vec<f64> = (0..THROUGHPUT_QUANTILES).map(|_| libm::exp(sigma * rng.normal())).collect();
    f.sort_by(f64::total_cmp);
    let mean = f.iter().sum::<f64>() / f.len() as f64;
    f.iter().map(|x| ((x / mean) * mean_bps as f64).max(1.0) as u64).collect()
}

impl<C: EdgeCache> Sim<C> {
    /// Serves one arrival. O(1); allocates nothing.
    #[inline(always)]
    pub(super) fn serve(&mut self, a: Arrival) -> ServedFrom {
        let t = a.time;
        let geo = a.geo.index();
        let mut req =
            self.engine.begin_request(t, a.clip, a.geo).expect("arrivals name uploaded clips and known geographies");
        // A rollout's arm: the control arm is served as before the design (primary, directly).
        let arm = self.rollout.as_ref().map(|r| {
            let stage = r.rollout.stage_at(t);
            let draw = self.rollout_rng.below(u64::from(crate::rollout::PPM)) as u32;
            (stage, r.rollout.treated(stage, a.clip.0, draw, self.sc.seed))
        });
        if let Some((_, false)) = arm {
            req.direct();
        }
        let timeout_us = self.sc.request_timeout.as_micros();
        let round_trips = u64::from(self.sc.network.round_trips);
        let bps = self.throughput_bps[self.net_rng.below(self.throughput_bps.len() as u64) as usize];
        let startup_us = req.size().0.min(self.startup_bytes).saturating_mul(8_000_000) / bps;
        let mut load_us = 0u64;
        let mut served_region = None;
        // The answers to the engine's steps, two bits each, for a recorded run (a few register
        // operations per step otherwise).
        let (mut answers, mut steps) = (0u64, 0u8);
        let mut answer = |a: Answer| {
            answers = answers << 2 | a as u64;
            steps = steps.saturating_add(1);
        };
        let from = loop {
            let step = self.engine.next_step(t, &req);
            // The CDN the request uses (the first when it uses none: no step then asks one).
            let k = req.cdn_index().unwrap_or(0);
            match step {
                Step::Edge => {
                    if !self.cdns[k].answers(&mut self.fault_rng) {
                        load_us += timeout_us;
                        answer(Answer::Failed);
                        self.engine.attempt_failed(&mut req, step).expect("current step");
                        continue;
                    }
                    let (found, past_edge_us) = self.cdns[k].lookup(geo, a.clip.0, req.size().0, t);
                    match found {
                        Lookup::Hit => {
                            // `past_edge_us`: an edge miss the shield answered.
                            load_us += self.cdns[k].rtt_us() * round_trips + past_edge_us + startup_us;
                            answer(Answer::Served);
                            break self.engine.finish(&req, step).expect("current step");
                        }
                        Lookup::Expired => {
                            answer(Answer::Expired);
                            req.edge_expired();
                        }
                        Lookup::Miss => {
                            answer(Answer::Missed);
                            req.edge_missed();
                        }
                    }
                }
                Step::Origin { region, via_cdn, .. } => {
                    let storage = &mut self.storage[region.index()];
                    if !storage.answers(&mut self.fault_rng) {
                        load_us += timeout_us;
                        answer(Answer::Failed);
                        self.engine.attempt_failed(&mut req, step).expect("current step");
                        continue;
                    }
                    if req.revalidating() {
                        // A conditional request: one round trip from the edge, no body.
                        load_us += self.cdns[k].rtt_us() * round_trips
                            + self.cdns[k].shield_rtt_us()
                            + storage.revalidate(geo);
                        self.cdns[k].revalidated(geo, a.clip.0, req.size().0, t);
                    } else if via_cdn {
                        let origin_rtt = storage.serve(geo, req.size().0, true);
                        load_us += self.cdns[k].rtt_us() * round_trips + self.cdns[k].shield_rtt_us() + origin_rtt;
                        self.cdns[k].fill(geo, a.clip.0, req.size().0, t);
                    } else {
                        let origin_rtt = storage.serve(geo, req.size().0, false);
                        load_us += origin_rtt * round_trips;
                    }
                    load_us += startup_us;
                    served_region = Some((region.index(), if req.revalidating() { 0 } else { req.size().0 }));
                    answer(Answer::Served);
                    break self.engine.finish(&req, step).expect("current step");
                }
                Step::Failed => break self.engine.finish(&req, step).expect("failing is always possible"),
            }
        };
        if let Some(rec) = &mut self.conformance {
            rec.request(t, a.clip, a.geo, answers, steps);
        }
        if from != ServedFrom::Failed && self.votes_rng.chance(self.sc.traffic.votes_per_view) {
            let delta = if self.votes_rng.chance(self.sc.traffic.upvote_share) { 1 } else { -1 };
            let vote = Input::Vote { clip: a.clip, delta };
            note(&mut self.conformance, || RecEvent::Input(t, vote.clone()));
            self.engine.handle_input(t, vote).expect("known clip");
        }
        self.rec.request(t, geo, a.clip.index(), served_region, from, load_us);
        if let (Some(r), Some((stage, treated))) = (&mut self.rollout, arm) {
            let served = from != ServedFrom::Failed;
            r.request(t, stage, treated, served, if served { req.size().0 } else { 0 }, load_us);
        }
        from
    }
}
