//! The time series: at every report tick, the engine's gauges and bill so far become a row.

use super::Sim;
use crate::cache::EdgeCache;
use crate::record::Row;
use clipsim_engine::{Category, HealthTarget, MoneyNanos, SimTime};

impl<C: EdgeCache> Sim<C> {
    pub(super) fn report_row(&mut self, t: SimTime) {
        let interval_start = self.rec.rows.last().map_or(SimTime::ZERO, |r| r.end);
        let m = self.engine.metrics(t);
        let mut cost = [MoneyNanos::ZERO; 5];
        let mut cdn_cost = MoneyNanos::ZERO;
        let preview = self.engine.bill_preview(t);
        for bill in self.engine.bills().iter().chain(std::iter::once(&preview)) {
            for (i, c) in Category::ALL.iter().enumerate() {
                cost[i] += bill.category_total(*c);
            }
            cdn_cost +=
                bill.lines.iter().filter(|l| l.key.meter.zone_is_geo()).fold(MoneyNanos::ZERO, |a, l| a + l.cost);
        }
        let row = Row {
            end: t,
            counts: Default::default(),
            latency_us: None,
            active_mirrors: m.total_active_mirrors,
            pending_mirrors: m.pending_mirrors,
            cost_to_date: cost,
            cdn_cost_to_date: cdn_cost,
            region_health: m.regions.iter().map(|r| r.health).collect(),
            region_latency_us: m.regions.iter().map(|r| r.latency.map(|d| d.as_micros())).collect(),
            region_lag_us: m.regions.iter().map(|r| r.replication_lag.map(|d| d.as_micros())).collect(),
            cdn_health: self.sc.cdn.as_ref().map(|_| self.engine.health(HealthTarget::Cdn)),
            second_cdn_health: self
                .sc
                .cdn
                .as_ref()
                .and_then(|c| c.second.as_ref())
                .map(|_| self.engine.health(HealthTarget::SecondCdn)),
            cdn_latency_us: m.cdn_latency_avg.map(|d| d.as_micros()),
            outage_active: self.sc.outages.iter().any(|o| o.start < t && interval_start < o.end),
        };
        self.rec.close_interval(row, self.engine.counters());
        if let Some(r) = &mut self.rollout {
            r.close_batch(t);
        }
    }
}
