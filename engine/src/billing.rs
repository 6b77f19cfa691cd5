//! Exact cost accounting: usage meters, tiered rate tables and monthly bills.
//!
//! Usage is metered in integer base units (bytes, byte-microseconds of storage, requests) on
//! *lines*, one per `(meter, provider, zone)`. A line's zone is the region for storage-side meters
//! and the viewer geography for CDN meters. Usage is priced in *segments*: whenever prices change,
//! a cost-alert check runs or a billing month closes, the usage since the last segment is priced
//! against the line's tiered rate table, starting at the tier position reached so far this month
//! (tiers reset each billing month, as AWS egress and CloudFront tiers do).
//!
//! A line may draw on a free *allowance* shared by several lines (a provider's free units a month
//! over some meters, in every zone together). When a segment is priced, each line in line order
//! takes what it can of the allowance left before its usage is priced; the free units still
//! advance the line's tier position (they are the first units of the month) and are reported as
//! [`BillLine::free`]. Allowances are refilled when a month closes.
//!
//! The priced amount is kept as an exact numerator (`nanodollars x base units`, `u128`) and is
//! divided by the meter's unit size exactly once, rounding down to the nanodollar, when the month's
//! bill is closed. So a bill line equals `floor(sum(usage_i x rate_i) / unit)` with no other
//! rounding, whatever the number of segments.

use crate::ids::ProviderId;
use crate::units::{MoneyNanos, SimTime, BYTES_PER_GB, MICROS_PER_SEC};
use core::fmt;

/// Byte-microseconds in one GB-month (10^9 bytes for 30 days).
pub const BYTE_MICROS_PER_GB_MONTH: u128 = BYTES_PER_GB as u128 * 30 * 86_400 * MICROS_PER_SEC as u128;
/// Microseconds in one month of a flat-rate plan (30 days).
pub const MICROS_PER_PLAN_MONTH: u128 = 30 * 86_400 * MICROS_PER_SEC as u128;
/// Requests are priced per this many requests.
pub const REQUESTS_PER_PRICE_UNIT: u128 = 10_000;
/// The largest rate accepted: $1,000 per price unit (keeps every product inside `u128`).
pub const RATE_NANOS_MAX: u64 = 1_000 * 1_000_000_000;
/// The most tiers a rate table may have.
pub const TIERS_MAX: usize = 16;

/// What a line meters. Each meter belongs to one report [`Category`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Meter {
    /// Bytes stored over time in a region (primary copies and mirrors), in byte-microseconds;
    /// priced per GB-month.
    StorageByteTime,
    /// Bytes delivered by the CDN to viewers of a geography; priced per GB.
    CdnEgress,
    /// Requests answered by the CDN for a geography; priced per 10,000 requests.
    CdnRequests,
    /// Bytes sent by a region's storage straight to viewers; priced per GB.
    OriginEgressDirect,
    /// Bytes sent by a region's storage to the CDN on an edge miss; priced per GB.
    OriginEgressToCdn,
    /// Requests (GETs) answered by a region's storage; priced per 10,000 requests.
    OriginRequests,
    /// Bytes copied out of a region to another region by replication; priced per GB.
    InterRegion,
    /// Time the CDN's flat-rate plan was held, in microseconds; priced per 30-day month. One
    /// line for the CDN (zone 0), present only when the CDN has a plan price.
    CdnPlan,
    /// Bytes of primary copies stored in a region's infrequent-access class over time, in
    /// byte-microseconds ([`crate::Lifecycle`]); priced per GB-month. Lines exist only with a
    /// lifecycle rule.
    StorageInfrequent,
    /// Bytes read out of the infrequent-access class (served, or copied to a mirror); priced per
    /// GB retrieved.
    Retrieval,
    /// Requests (GETs) answered from the infrequent-access class; priced per 10,000 requests.
    RequestsInfrequent,
}

impl Meter {
    /// Every meter, in report order.
    pub const ALL: [Meter; 11] = [
        Meter::StorageByteTime,
        Meter::StorageInfrequent,
        Meter::Retrieval,
        Meter::CdnEgress,
        Meter::CdnRequests,
        Meter::OriginEgressDirect,
        Meter::OriginEgressToCdn,
        Meter::OriginRequests,
        Meter::RequestsInfrequent,
        Meter::InterRegion,
        Meter::CdnPlan,
    ];

    /// The report category this meter's cost is summed into.
    pub const fn category(self) -> Category {
        match self {
            Meter::StorageByteTime | Meter::StorageInfrequent => Category::Storage,
            Meter::CdnEgress | Meter::CdnPlan => Category::CdnEgress,
            Meter::OriginEgressDirect | Meter::OriginEgressToCdn | Meter::Retrieval => Category::OriginEgress,
            Meter::InterRegion => Category::InterRegion,
            Meter::CdnRequests | Meter::OriginRequests | Meter::RequestsInfrequent => Category::Requests,
        }
    }

    /// Base usage units in one price unit (rates are nanodollars per price unit).
    pub const fn units_per_price_unit(self) -> u128 {
        match self {
            Meter::StorageByteTime | Meter::StorageInfrequent => BYTE_MICROS_PER_GB_MONTH,
            Meter::CdnEgress
            | Meter::OriginEgressDirect
            | Meter::OriginEgressToCdn
            | Meter::InterRegion
            | Meter::Retrieval => BYTES_PER_GB as u128,
            Meter::CdnRequests | Meter::OriginRequests | Meter::RequestsInfrequent => REQUESTS_PER_PRICE_UNIT,
            Meter::CdnPlan => MICROS_PER_PLAN_MONTH,
        }
    }

    /// Whether this meter's zone is a viewer geography (`true`) or a region (`false`).
    pub const fn zone_is_geo(self) -> bool {
        matches!(self, Meter::CdnEgress | Meter::CdnRequests | Meter::CdnPlan)
    }

    /// Whether this meter has one line for its provider rather than one per zone.
    pub const fn per_provider(self) -> bool {
        matches!(self, Meter::CdnPlan)
    }

    /// A stable snake-case name, used in reports and error messages.
    pub const fn name(self) -> &'static str {
        match self {
            Meter::StorageByteTime => "storage",
            Meter::CdnEgress => "cdn_egress",
            Meter::CdnRequests => "cdn_requests",
            Meter::OriginEgressDirect => "origin_egress_direct",
            Meter::OriginEgressToCdn => "origin_egress_to_cdn",
            Meter::OriginRequests => "origin_requests",
            Meter::InterRegion => "inter_region",
            Meter::CdnPlan => "cdn_plan",
            Meter::StorageInfrequent => "storage_infrequent",
            Meter::Retrieval => "retrieval",
            Meter::RequestsInfrequent => "requests_infrequent",
        }
    }

    /// The price unit, for messages: `GB-month`, `GB` or `10k requests`.
    pub const fn price_unit(self) -> &'static str {
        match self {
            Meter::StorageByteTime | Meter::StorageInfrequent => "GB-month",
            Meter::CdnRequests | Meter::OriginRequests | Meter::RequestsInfrequent => "10k requests",
            Meter::CdnPlan => "month",
            _ => "GB",
        }
    }
}

/// The cost categories of a report (`cost_usd.*` in `summary.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Storage of primary copies and mirrors (standard and infrequent-access classes).
    Storage,
    /// CDN delivery to viewers (per GB, or a flat-rate plan's fee).
    CdnEgress,
    /// Storage egress, direct to viewers or to the CDN, and the infrequent-access class's
    /// retrieval fee.
    OriginEgress,
    /// Replication traffic between regions.
    InterRegion,
    /// Per-request charges of the CDN and of storage.
    Requests,
}

impl Category {
    /// Every category, in report order.
    pub const ALL: [Category; 5] =
        [Category::Storage, Category::CdnEgress, Category::OriginEgress, Category::InterRegion, Category::Requests];

    /// A stable snake-case name (`storage`, `cdn_egress`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Category::Storage => "storage",
            Category::CdnEgress => "cdn_egress",
            Category::OriginEgress => "origin_egress",
            Category::InterRegion => "inter_region",
            Category::Requests => "requests",
        }
    }
}

/// One tier of a rate table: usage from `from_units` price units on (this month) costs
/// `nanos_per_unit` nanodollars per price unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    /// Where the tier starts, in price units (GB, GB-month, 10k requests) used this month.
    pub from_units: u64,
    /// The rate in nanodollars per price unit.
    pub nanos_per_unit: u64,
}

/// A tiered rate table. The first tier starts at 0; tiers are in increasing order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateTable {
    tiers: Vec<Tier>,
}

/// A rate table that cannot be used, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RateTableError {
    /// No tiers at all.
    Empty,
    /// More than [`TIERS_MAX`] tiers.
    TooManyTiers(usize),
    /// The first tier does not start at 0.
    FirstTierNotAtZero(u64),
    /// A tier does not start after the previous one.
    TiersOutOfOrder {
        /// Index of the offending tier.
        index: usize,
        /// Where it starts.
        from_units: u64,
        /// Where the previous one starts.
        previous_from_units: u64,
    },
    /// A rate above [`RATE_NANOS_MAX`].
    RateTooHigh(u64),
}

impl fmt::Display for RateTableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateTableError::Empty => write!(f, "a rate table needs at least one tier"),
            RateTableError::TooManyTiers(n) => {
                write!(f, "{n} tiers given, at most {TIERS_MAX} are allowed")
            }
            RateTableError::FirstTierNotAtZero(u) => {
                write!(f, "the first tier starts at {u}, expected 0")
            }
            RateTableError::TiersOutOfOrder { index, from_units, previous_from_units } => write!(
                f,
                "tier {index} starts at {from_units}, which is not after the previous tier's start \
                 {previous_from_units}: tiers must be in increasing order"
            ),
            RateTableError::RateTooHigh(n) => {
                write!(f, "rate of {n} nanodollars per unit is above the limit of {RATE_NANOS_MAX}")
            }
        }
    }
}

impl RateTable {
    /// A table with one rate for all usage.
    pub fn flat(nanos_per_unit: u64) -> Result<Self, RateTableError> {
        Self::tiered(vec![Tier { from_units: 0, nanos_per_unit }])
    }

    /// A tiered table; see [`RateTableError`] for what is checked.
    pub fn tiered(tiers: Vec<Tier>) -> Result<Self, RateTableError> {
        let first = tiers.first().ok_or(RateTableError::Empty)?;
        if tiers.len() > TIERS_MAX {
            return Err(RateTableError::TooManyTiers(tiers.len()));
        }
        if first.from_units != 0 {
            return Err(RateTableError::FirstTierNotAtZero(first.from_units));
        }
        for (index, pair) in tiers.windows(2).enumerate() {
            if pair[1].from_units <= pair[0].from_units {
                return Err(RateTableError::TiersOutOfOrder {
                    index: index + 1,
                    from_units: pair[1].from_units,
                    previous_from_units: pair[0].from_units,
                });
            }
        }
        if let Some(t) = tiers.iter().find(|t| t.nanos_per_unit > RATE_NANOS_MAX) {
            return Err(RateTableError::RateTooHigh(t.nanos_per_unit));
        }
        Ok(RateTable { tiers })
    }

    /// The tiers, in order.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// The exact price numerator (`nanodollars x base units`) of the usage between `start` and
    /// `start + amount` base units of this month, where one price unit is `unit` base units.
    pub fn price_numerator(&self, start: u128, amount: u128, unit: u128) -> u128 {
        let end = start.saturating_add(amount);
        let mut numerator: u128 = 0;
        for (i, tier) in self.tiers.iter().enumerate() {
            let lo = (tier.from_units as u128).saturating_mul(unit);
            let hi = match self.tiers.get(i + 1) {
                Some(next) => (next.from_units as u128).saturating_mul(unit),
                None => u128::MAX,
            };
            let overlap = end.min(hi).saturating_sub(start.max(lo));
            numerator = numerator.saturating_add(overlap.saturating_mul(tier.nanos_per_unit as u128));
        }
        numerator
    }
}

/// Identifies a bill line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineKey {
    /// What is metered.
    pub meter: Meter,
    /// Who bills it.
    pub provider: ProviderId,
    /// The region id (storage-side meters) or geography id (CDN meters).
    pub zone: u32,
}

/// One line of a closed monthly bill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillLine {
    /// The line.
    pub key: LineKey,
    /// Usage in base units (bytes, byte-microseconds or requests).
    pub usage: u128,
    /// The part of `usage` a free allowance covered.
    pub free: u128,
    /// Cost: the exact priced numerator divided by the unit size, rounded down.
    pub cost: MoneyNanos,
}

/// The bill of one billing month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthBill {
    /// 0 for the first month of the run.
    pub month: u32,
    /// When the month started.
    pub start: SimTime,
    /// When the month ended (or when a partial month was closed).
    pub end: SimTime,
    /// Every line, in line order (the order lines were configured).
    pub lines: Vec<BillLine>,
}

impl MonthBill {
    /// The month's total.
    pub fn total(&self) -> MoneyNanos {
        self.lines.iter().fold(MoneyNanos::ZERO, |acc, l| acc + l.cost)
    }

    /// The month's cost in one category.
    pub fn category_total(&self, category: Category) -> MoneyNanos {
        self.lines.iter().filter(|l| l.key.meter.category() == category).fold(MoneyNanos::ZERO, |acc, l| acc + l.cost)
    }
}

#[derive(Clone, Debug)]
struct Line {
    key: LineKey,
    table: RateTable,
    /// Usage not yet priced.
    unpriced: u128,
    /// Usage priced so far this month (the tier position).
    priced_month: u128,
    /// Exact priced numerator this month.
    numerator_month: u128,
    /// The allowance this line draws on, if any.
    pool: Option<u32>,
    /// Usage an allowance covered this month.
    free_month: u128,
}

/// A free allowance shared by lines: its size and what is left of it this month.
#[derive(Clone, Copy, Debug)]
struct Pool {
    per_month: u128,
    left: u128,
}

/// Dense index of a line inside a `Ledger`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LineId(pub u32);

/// The usage meters and the bills. Adding usage is O(1) and never allocates.
#[derive(Clone, Debug)]
pub(crate) struct Ledger {
    lines: Vec<Line>,
    pools: Vec<Pool>,
    month_start: SimTime,
    month_index: u32,
    closed: Vec<MonthBill>,
    uncollected: SegmentCost,
}

/// What one priced segment cost, for cost alerts (rounded down per line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SegmentCost {
    /// Cost of every line.
    pub total: MoneyNanos,
    /// Cost of the CDN lines ([`Meter::CdnEgress`] and [`Meter::CdnRequests`]).
    pub cdn: MoneyNanos,
}

impl Ledger {
    /// An empty ledger whose first month starts at `start`.
    pub(crate) fn new(start: SimTime) -> Self {
        Ledger {
            lines: Vec::new(),
            pools: Vec::new(),
            month_start: start,
            month_index: 0,
            closed: Vec::new(),
            uncollected: SegmentCost::default(),
        }
    }

    /// Adds a line and returns its id. Lines are reported in the order they are added.
    pub(crate) fn add_line(&mut self, key: LineKey, table: RateTable) -> LineId {
        let id = LineId(self.lines.len() as u32);
        self.lines.push(Line {
            key,
            table,
            unpriced: 0,
            priced_month: 0,
            numerator_month: 0,
            pool: None,
            free_month: 0,
        });
        id
    }

    /// Adds a free allowance of `per_month` base units a month, drawn on by every line `draws`
    /// accepts (a line already drawing on an allowance keeps it).
    pub(crate) fn add_allowance(&mut self, per_month: u128, draws: impl Fn(LineKey) -> bool) {
        let pool = self.pools.len() as u32;
        self.pools.push(Pool { per_month, left: per_month });
        for l in self.lines.iter_mut().filter(|l| l.pool.is_none() && draws(l.key)) {
            l.pool = Some(pool);
        }
    }

    /// Every line key, in line order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = LineKey> + '_ {
        self.lines.iter().map(|l| l.key)
    }

    /// Meters `amount` base units on a line. O(1).
    #[inline]
    pub(crate) fn add(&mut self, line: LineId, amount: u128) {
        let l = &mut self.lines[line.0 as usize];
        l.unpriced = l.unpriced.saturating_add(amount);
    }

    /// Prices the usage since the last segment at the current tables.
    pub(crate) fn close_segment(&mut self) -> SegmentCost {
        let mut cost = SegmentCost::default();
        for l in &mut self.lines {
            if l.unpriced == 0 {
                continue;
            }
            let unit = l.key.meter.units_per_price_unit();
            let free = match l.pool {
                Some(p) => {
                    let pool = &mut self.pools[p as usize];
                    let free = pool.left.min(l.unpriced);
                    pool.left -= free;
                    free
                }
                None => 0,
            };
            l.free_month += free;
            let numerator = l.table.price_numerator(l.priced_month.saturating_add(free), l.unpriced - free, unit);
            l.numerator_month = l.numerator_month.saturating_add(numerator);
            l.priced_month = l.priced_month.saturating_add(l.unpriced);
            l.unpriced = 0;
            let nanos = MoneyNanos(i64::try_from(numerator / unit).unwrap_or(i64::MAX));
            cost.total += nanos;
            if l.key.meter.zone_is_geo() {
                cost.cdn += nanos;
            }
        }
        self.uncollected.total += cost.total;
        self.uncollected.cdn += cost.cdn;
        cost
    }

    /// What the next unit of `id`'s usage would cost now, in nanodollars per price unit: 0 while
    /// a free allowance it draws on has room left beyond this line's unpriced usage, else the
    /// rate of the tier its usage this month has reached (priced or not). Other lines' unpriced
    /// draws on a shared allowance are not counted: callers ask right after pricing (a cost-alert
    /// check, a price change, a month's close) or before any usage. For decisions (a cost-aware
    /// split), never for a sum.
    pub(crate) fn marginal_rate(&self, id: LineId) -> u64 {
        let l = &self.lines[id.0 as usize];
        if l.pool.is_some_and(|p| self.pools[p as usize].left > l.unpriced) {
            return 0;
        }
        let used_units = (l.priced_month + l.unpriced) / l.key.meter.units_per_price_unit();
        let tiers = l.table.tiers();
        tiers.iter().rev().find(|t| u128::from(t.from_units) <= used_units).unwrap_or(&tiers[0]).nanos_per_unit
    }

    /// The cost of every segment priced since the last call (for cost alerts).
    pub(crate) fn take_uncollected(&mut self) -> SegmentCost {
        core::mem::take(&mut self.uncollected)
    }

    /// Replaces the rate table of every line matching `meter`, `provider` and (if given) `zone`,
    /// after pricing the usage so far at the old tables. Returns how many lines changed.
    pub(crate) fn set_rate(
        &mut self,
        meter: Meter,
        provider: ProviderId,
        zone: Option<u32>,
        table: &RateTable,
    ) -> usize {
        self.close_segment();
        debug_assert!(self.lines.iter().all(|l| l.unpriced == 0), "usage so far is priced at the old tables");
        let mut changed = 0;
        for l in &mut self.lines {
            if l.key.meter == meter && l.key.provider == provider && zone.is_none_or(|z| z == l.key.zone) {
                l.table = table.clone();
                changed += 1;
            }
        }
        changed
    }

    /// Closes the current month at `now`: prices outstanding usage, records the bill and resets
    /// the tier positions.
    pub(crate) fn close_month(&mut self, now: SimTime) -> &MonthBill {
        debug_assert!(now >= self.month_start, "a month ends after it starts");
        self.close_segment();
        debug_assert!(self.lines.iter().all(|l| l.unpriced == 0), "every use is priced before the bill");
        let lines = self
            .lines
            .iter_mut()
            .map(|l| {
                let unit = l.key.meter.units_per_price_unit();
                let line = BillLine {
                    key: l.key,
                    usage: l.priced_month,
                    free: l.free_month,
                    cost: MoneyNanos(i64::try_from(l.numerator_month / unit).unwrap_or(i64::MAX)),
                };
                l.priced_month = 0;
                l.numerator_month = 0;
                l.free_month = 0;
                line
            })
            .collect();
        for pool in &mut self.pools {
            pool.left = pool.per_month;
        }
        self.closed.push(MonthBill { month: self.month_index, start: self.month_start, end: now, lines });
        self.month_index += 1;
        self.month_start = now;
        self.closed.last().expect("a bill was pushed just above")
    }

    /// Every closed month, oldest first.
    pub(crate) fn closed_months(&self) -> &[MonthBill] {
        &self.closed
    }

    /// Usage metered so far this month on a line (priced or not), in base units.
    pub(crate) fn usage_this_month(&self, line: LineId) -> u128 {
        let l = &self.lines[line.0 as usize];
        l.priced_month.saturating_add(l.unpriced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u128 = BYTES_PER_GB as u128;

    fn key(meter: Meter) -> LineKey {
        LineKey { meter, provider: ProviderId(0), zone: 0 }
    }

    #[test]
    fn flat_rate_is_usage_times_rate_rounded_down_once() {
        let mut ledger = Ledger::new(SimTime::ZERO);
        let line = ledger.add_line(key(Meter::CdnEgress), RateTable::flat(60_000_000).unwrap());
        // 10 TB in three uneven segments, each not a whole GB.
        for amount in [3_333_333_333_333u128, 3_333_333_333_333, 3_333_333_333_334] {
            ledger.add(line, amount);
            ledger.close_segment();
        }
        let bill = ledger.close_month(SimTime(1));
        assert_eq!(bill.lines[0].usage, 10_000 * GB);
        assert_eq!(bill.lines[0].cost, MoneyNanos::from_usd(600));
    }

    #[test]
    fn rounding_happens_once_per_line_and_month() {
        let mut ledger = Ledger::new(SimTime::ZERO);
        // 1 nanodollar per GB: each 0.5 GB segment alone would round to 0.
        let line = ledger.add_line(key(Meter::InterRegion), RateTable::flat(1).unwrap());
        for _ in 0..4 {
            ledger.add(line, GB / 2);
            ledger.close_segment();
        }
        assert_eq!(ledger.close_month(SimTime(1)).lines[0].cost, MoneyNanos(2));
    }

    /// Usages whose exact cost ends in .2, .5 and .5 of a nanodollar (1.2, 1.5 and 2.5 GB at one
    /// nanodollar per GB) give a different bill under each rounding rule: down 1, 1, 2; up 2, 2,
    /// 3; half-up 1, 2, 3; half-even 1, 2, 2. A bill line rounds down.
    #[test]
    fn bill_lines_round_down_not_up_nor_to_nearest() {
        for (tenths_of_gb, want_nanos) in [(12u128, 1i64), (15, 1), (25, 2), (19, 1), (30, 3)] {
            let mut ledger = Ledger::new(SimTime::ZERO);
            let line = ledger.add_line(key(Meter::InterRegion), RateTable::flat(1).unwrap());
            ledger.add(line, tenths_of_gb * GB / 10);
            let bill = ledger.close_month(SimTime(1));
            assert_eq!(bill.lines[0].cost, MoneyNanos(want_nanos), "{tenths_of_gb} tenths of a GB");
        }
    }

    /// The cost a segment reports for the cost alert is rounded down per line: two lines of 0.6
    /// nanodollars each are 0, not the 1 of rounding their sum; their month, by contrast, is
    /// rounded once per line over all its segments.
    #[test]
    fn segment_costs_round_down_per_line() {
        let mut ledger = Ledger::new(SimTime::ZERO);
        let a = ledger.add_line(key(Meter::CdnEgress), RateTable::flat(1).unwrap());
        let b = ledger.add_line(LineKey { zone: 1, ..key(Meter::CdnEgress) }, RateTable::flat(1).unwrap());
        for _ in 0..2 {
            ledger.add(a, 6 * GB / 10);
            ledger.add(b, 6 * GB / 10);
            assert_eq!(ledger.close_segment(), SegmentCost { total: MoneyNanos(0), cdn: MoneyNanos(0) });
        }
        assert_eq!(ledger.take_uncollected(), SegmentCost::default());
        // Each line used 1.2 GB this month: 1 nanodollar each.
        assert_eq!(ledger.close_month(SimTime(1)).total(), MoneyNanos(2));
    }

    /// The marginal rate is 0 while an allowance has room for more than the usage not yet
    /// priced, then the rate of the tier this month's usage has reached, priced or not; a new
    /// month starts at the first tier again.
    #[test]
    fn marginal_rate_is_the_next_units_rate() {
        let mut ledger = Ledger::new(SimTime::ZERO);
        let tiers = vec![Tier { from_units: 0, nanos_per_unit: 90 }, Tier { from_units: 2, nanos_per_unit: 40 }];
        let line = ledger.add_line(key(Meter::CdnEgress), RateTable::tiered(tiers).unwrap());
        let gb = BYTES_PER_GB as u128;
        ledger.add_allowance(gb, |_| true);
        assert_eq!(ledger.marginal_rate(line), 0, "the allowance is untouched");
        ledger.add(line, gb - 1);
        assert_eq!(ledger.marginal_rate(line), 0, "one byte of allowance left");
        ledger.add(line, 1);
        assert_eq!(ledger.marginal_rate(line), 90, "the allowance is used up: first tier");
        ledger.close_segment();
        ledger.add(line, gb - 1);
        assert_eq!(ledger.marginal_rate(line), 90, "just short of 2 GB");
        ledger.add(line, 1);
        assert_eq!(ledger.marginal_rate(line), 40, "unpriced usage counts toward the tier");
        ledger.close_segment();
        assert_eq!(ledger.marginal_rate(line), 40, "and so does priced usage");
        ledger.close_month(SimTime::ZERO + crate::SimDuration::from_days(30));
        assert_eq!(ledger.marginal_rate(line), 0, "a new month: the allowance again");
    }

    /// Only the CDN's lines count towards a segment's CDN cost.
    #[test]
    fn segment_cdn_cost_is_the_cdn_lines() {
        let mut ledger = Ledger::new(SimTime::ZERO);
        let cdn = ledger.add_line(key(Meter::CdnRequests), RateTable::flat(10_000).unwrap());
        let origin = ledger.add_line(key(Meter::OriginRequests), RateTable::flat(20_000).unwrap());
        ledger.add(cdn, 10_000);
        ledger.add(origin, 10_000);
        let want = SegmentCost { total: MoneyNanos(30_000), cdn: MoneyNanos(10_000) };
        assert_eq!(ledger.close_segment(), want);
        ledger.add(cdn, 20_000);
        ledger.close_segment();
        assert_eq!(
            ledger.take_uncollected(),
            SegmentCost { total: MoneyNanos(50_000), cdn: MoneyNanos(30_000) },
            "every segment since the last take"
        );
        assert_eq!(ledger.take_uncollected(), SegmentCost::default(), "taken once");
    }

    /// The names and units are the report's keys (`cost_usd.*`, bill lines): fixed.
    #[test]
    fn meter_and_category_names_and_units() {
        let names: Vec<(&str, &str, Category)> =
            Meter::ALL.iter().map(|m| (m.name(), m.price_unit(), m.category())).collect();
        assert_eq!(
            names,
            [
                ("storage", "GB-month", Category::Storage),
                ("storage_infrequent", "GB-month", Category::Storage),
                ("retrieval", "GB", Category::OriginEgress),
                ("cdn_egress", "GB", Category::CdnEgress),
                ("cdn_requests", "10k requests", Category::Requests),
                ("origin_egress_direct", "GB", Category::OriginEgress),
                ("origin_egress_to_cdn", "GB", Category::OriginEgress),
                ("origin_requests", "10k requests", Category::Requests),
                ("requests_infrequent", "10k requests", Category::Requests),
                ("inter_region", "GB", Category::InterRegion),
                ("cdn_plan", "month", Category::CdnEgress),
            ]
        );
        let categories: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(categories, ["storage", "cdn_egress", "origin_egress", "inter_region", "requests"]);
        let geo: Vec<bool> = Meter::ALL.iter().map(|m| m.zone_is_geo()).collect();
        assert_eq!(geo, [false, false, false, true, true, false, false, false, false, false, true]);
        let per_provider: Vec<bool> = Meter::ALL.iter().map(|m| m.per_provider()).collect();
        assert_eq!(per_provider, [false, false, false, false, false, false, false, false, false, false, true]);
        let month = 30 * 86_400 * 1_000_000;
        let gb_month = month * GB;
        assert_eq!(
            Meter::ALL.map(|m| m.units_per_price_unit()),
            [gb_month, gb_month, GB, GB, 10_000, GB, GB, 10_000, 10_000, GB, month]
        );
    }

    /// A tier boundary belongs to the next tier: usage exactly up to it is all at the first
    /// rate, one unit past it is at the second.
    #[test]
    fn a_tier_boundary_belongs_to_the_next_tier() {
        let table = RateTable::tiered(vec![
            Tier { from_units: 0, nanos_per_unit: 10 },
            Tier { from_units: 2, nanos_per_unit: 7 },
        ])
        .unwrap();
        let unit = 10_000;
        assert_eq!(table.price_numerator(0, 2 * unit, unit), 2 * unit * 10);
        assert_eq!(table.price_numerator(0, 2 * unit + 1, unit), 2 * unit * 10 + 7);
        assert_eq!(table.price_numerator(2 * unit, 1, unit), 7);
        assert_eq!(table.price_numerator(2 * unit - 1, 2, unit), 10 + 7);
        // Two tiers may not start at the same place, and a later tier may not start earlier.
        for second in [0, 1] {
            let t = RateTable::tiered(vec![
                Tier { from_units: 0, nanos_per_unit: 1 },
                Tier { from_units: 1, nanos_per_unit: 1 },
                Tier { from_units: second, nanos_per_unit: 1 },
            ]);
            assert!(matches!(t, Err(RateTableError::TiersOutOfOrder { index: 2, .. })), "{t:?}");
        }
        assert!(RateTable::tiered(vec![Tier { from_units: 0, nanos_per_unit: 1 }; TIERS_MAX]).is_err());
        let most: Vec<Tier> = (0..TIERS_MAX as u64).map(|i| Tier { from_units: i, nanos_per_unit: 1 }).collect();
        assert!(RateTable::tiered(most.clone()).is_ok());
        let too_many: Vec<Tier> = (0..=TIERS_MAX as u64).map(|i| Tier { from_units: i, nanos_per_unit: 1 }).collect();
        assert_eq!(RateTable::tiered(too_many), Err(RateTableError::TooManyTiers(TIERS_MAX + 1)));
        assert!(RateTable::flat(RATE_NANOS_MAX).is_ok());
    }

    #[test]
    fn tiers_split_usage_and_reset_each_month() {
        // CloudFront-like: first 10 TB at $0.085, then $0.080.
        let table = RateTable::tiered(vec![
            Tier { from_units: 0, nanos_per_unit: 85_000_000 },
            Tier { from_units: 10_240, nanos_per_unit: 80_000_000 },
        ])
        .unwrap();
        let mut ledger = Ledger::new(SimTime::ZERO);
        let line = ledger.add_line(key(Meter::CdnEgress), table);
        ledger.add(line, 10_000 * GB);
        ledger.close_segment();
        ledger.add(line, 1_000 * GB); // 240 GB in tier 1, 760 GB in tier 2
        let bill = ledger.close_month(SimTime(1)).clone();
        let expected = 10_240 * 85_000_000 + 760 * 80_000_000;
        assert_eq!(bill.lines[0].cost, MoneyNanos(expected));
        // Next month starts in tier 1 again.
        ledger.add(line, 1_000 * GB);
        assert_eq!(ledger.close_month(SimTime(2)).lines[0].cost, MoneyNanos(1_000 * 85_000_000));
    }

    /// An allowance shared by two zones: each line in line order takes what it can when a segment
    /// is priced; free units are the month's first tier units; the next month refills it. A line
    /// outside the allowance (another provider) pays in full though the allowance has room.
    #[test]
    fn an_allowance_is_shared_in_line_order_fills_the_first_tier_and_refills_each_month() {
        let table = RateTable::tiered(vec![
            Tier { from_units: 0, nanos_per_unit: 100 },
            Tier { from_units: 1_000, nanos_per_unit: 10 },
        ])
        .unwrap();
        let mut ledger = Ledger::new(SimTime::ZERO);
        let zone = |z| LineKey { meter: Meter::CdnEgress, provider: ProviderId(0), zone: z };
        let a = ledger.add_line(zone(0), table.clone());
        let b = ledger.add_line(zone(1), table.clone());
        let other = ledger.add_line(LineKey { provider: ProviderId(1), ..zone(0) }, table);
        ledger.add_allowance(1_000 * GB, |k| k.provider == ProviderId(0));
        for (line, gb) in [(a, 300), (b, 300), (other, 600)] {
            ledger.add(line, gb * GB);
        }
        ledger.close_segment();
        ledger.add(b, 900 * GB); // 400 GB of the allowance left, then b is at 700 GB
        let bill = ledger.close_month(SimTime(1)).clone();
        let free: Vec<u128> = bill.lines.iter().map(|l| l.free / GB).collect();
        assert_eq!(free, [300, 300 + 400, 0]);
        let cost: Vec<i64> = bill.lines.iter().map(|l| l.cost.0).collect();
        // a: all free. b: 700 GB free, then 300 GB at 100 up to the tier boundary at 1,000 GB and
        // 200 GB at 10. other: 600 GB at 100.
        assert_eq!(cost, [0, 300 * 100 + 200 * 10, 600 * 100]);
        ledger.add(b, 1_200 * GB);
        let next = ledger.close_month(SimTime(2));
        assert_eq!((next.lines[1].free, next.lines[1].cost.0), (1_000 * GB, 200 * 10));
    }

    #[test]
    fn a_price_change_applies_only_to_later_usage() {
        let mut ledger = Ledger::new(SimTime::ZERO);
        let line = ledger.add_line(key(Meter::CdnEgress), RateTable::flat(60_000_000).unwrap());
        ledger.add(line, 100 * GB);
        let changed = ledger.set_rate(Meter::CdnEgress, ProviderId(0), None, &RateTable::flat(80_000_000).unwrap());
        assert_eq!(changed, 1);
        ledger.add(line, 100 * GB);
        assert_eq!(ledger.close_month(SimTime(1)).total(), MoneyNanos::from_usd(14));
    }

    #[test]
    fn storage_is_priced_per_gb_month() {
        let mut ledger = Ledger::new(SimTime::ZERO);
        let line = ledger.add_line(key(Meter::StorageByteTime), RateTable::flat(23_000_000).unwrap());
        // 1 TB for 30 days.
        ledger.add(line, 1_000 * GB * 30 * 86_400 * 1_000_000);
        assert_eq!(ledger.close_month(SimTime(1)).lines[0].cost, MoneyNanos::from_usd(23));
    }

    #[test]
    fn a_table_keeps_its_tiers() {
        let tiers = vec![Tier { from_units: 0, nanos_per_unit: 9 }, Tier { from_units: 4, nanos_per_unit: 3 }];
        assert_eq!(RateTable::tiered(tiers.clone()).unwrap().tiers(), tiers);
        assert_eq!(RateTable::flat(5).unwrap().tiers(), [Tier { from_units: 0, nanos_per_unit: 5 }]);
    }

    #[test]
    fn bad_tables_are_rejected_with_the_reason() {
        assert_eq!(RateTable::tiered(vec![]), Err(RateTableError::Empty));
        let err = RateTable::tiered(vec![
            Tier { from_units: 0, nanos_per_unit: 1 },
            Tier { from_units: 0, nanos_per_unit: 1 },
        ])
        .unwrap_err();
        assert!(err.to_string().contains("tier 1 starts at 0"), "{err}");
        assert!(RateTable::flat(RATE_NANOS_MAX + 1).is_err());
        assert!(matches!(
            RateTable::tiered(vec![Tier { from_units: 5, nanos_per_unit: 1 }]),
            Err(RateTableError::FirstTierNotAtZero(5))
        ));
    }
}
