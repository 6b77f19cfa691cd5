//! Units as types: simulated time, durations, bytes and money.
//!
//! Every quantity that reaches a bill or a report is an integer with its unit in its name.
//! `f64` appears only in the `as_*_f64` accessors, which exist for display.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// Microseconds in one second.
pub const MICROS_PER_SEC: u64 = 1_000_000;
/// Bytes in one (decimal) gigabyte, the unit every price in this crate is quoted per.
pub const BYTES_PER_GB: u64 = 1_000_000_000;
/// Nanodollars in one US dollar.
pub const NANOS_PER_USD: i64 = 1_000_000_000;

/// A point in simulated time: microseconds since the start of the run.
///
/// The engine never reads a clock; every input carries one of these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of the run.
    pub const ZERO: SimTime = SimTime(0);
    /// The far future: a timer that never fires.
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// Microseconds since the start of the run.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Whole seconds since the start of the run (rounded down).
    pub const fn as_secs(self) -> u64 {
        self.0 / MICROS_PER_SEC
    }

    /// Time since `earlier`, or zero when `earlier` is later (saturating).
    pub const fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at [`SimTime::NEVER`].
    pub const fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// Seconds as `f64`, for display only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A duration of `us` microseconds.
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us)
    }
    /// A duration of `ms` milliseconds (saturating).
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms.saturating_mul(1_000))
    }
    /// A duration of `s` seconds (saturating).
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s.saturating_mul(MICROS_PER_SEC))
    }
    /// A duration of `m` minutes (saturating).
    pub const fn from_mins(m: u64) -> Self {
        Self::from_secs(m.saturating_mul(60))
    }
    /// A duration of `h` hours (saturating).
    pub const fn from_hours(h: u64) -> Self {
        Self::from_secs(h.saturating_mul(3_600))
    }
    /// A duration of `d` days (saturating).
    pub const fn from_days(d: u64) -> Self {
        Self::from_secs(d.saturating_mul(86_400))
    }
    /// Microseconds.
    pub const fn as_micros(self) -> u64 {
        self.0
    }
    /// Whole milliseconds (rounded down).
    pub const fn as_millis(self) -> u64 {
        self.0 / 1_000
    }
    /// Whole seconds (rounded down).
    pub const fn as_secs(self) -> u64 {
        self.0 / MICROS_PER_SEC
    }
    /// `self * k`, saturating.
    pub const fn saturating_mul(self, k: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(k))
    }
    /// Seconds as `f64`, for display only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        self.saturating_add(d)
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.saturating_since(earlier)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(o.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", SimDuration(self.0))
    }
}

impl fmt::Display for SimDuration {
    /// Formats as the largest whole unit that divides the value: `90s`, `15m`, `6h`, `30d`,
    /// falling back to `ms` and `us`; zero is `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return write!(f, "0s");
        }
        const UNITS: [(u64, &str); 5] = [
            (86_400 * MICROS_PER_SEC, "d"),
            (3_600 * MICROS_PER_SEC, "h"),
            (60 * MICROS_PER_SEC, "m"),
            (MICROS_PER_SEC, "s"),
            (1_000, "ms"),
        ];
        for (unit_us, name) in UNITS {
            if self.0 >= unit_us && self.0.is_multiple_of(unit_us) {
                return write!(f, "{}{}", self.0 / unit_us, name);
            }
        }
        write!(f, "{}us", self.0)
    }
}

/// A count of bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub u64);

impl Bytes {
    /// Zero bytes.
    pub const ZERO: Bytes = Bytes(0);
    /// Decimal gigabytes as `f64`, for display only.
    pub fn as_gb_f64(self) -> f64 {
        self.0 as f64 / BYTES_PER_GB as f64
    }
}

impl Add for Bytes {
    type Output = Bytes;
    fn add(self, o: Bytes) -> Bytes {
        Bytes(self.0.saturating_add(o.0))
    }
}

/// An amount of money in nanodollars (10^-9 USD).
///
/// `i64` holds ±9.2 billion dollars; products of usage and rate are formed in `i128`/`u128`
/// and divided once, rounding down, where the bill is closed (see [`crate::billing`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MoneyNanos(pub i64);

impl MoneyNanos {
    /// No money.
    pub const ZERO: MoneyNanos = MoneyNanos(0);

    /// Whole dollars.
    pub const fn from_usd(usd: i64) -> Self {
        MoneyNanos(usd.saturating_mul(NANOS_PER_USD))
    }

    /// Dollars as `f64`, for display only.
    pub fn as_usd_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_USD as f64
    }

    /// `self + o`, saturating (a bill never wraps around).
    pub const fn saturating_add(self, o: MoneyNanos) -> MoneyNanos {
        MoneyNanos(self.0.saturating_add(o.0))
    }
}

impl Add for MoneyNanos {
    type Output = MoneyNanos;
    fn add(self, o: MoneyNanos) -> MoneyNanos {
        self.saturating_add(o)
    }
}

impl AddAssign for MoneyNanos {
    fn add_assign(&mut self, o: MoneyNanos) {
        *self = self.saturating_add(o);
    }
}

impl fmt::Display for MoneyNanos {
    /// Exact decimal dollars: `$12.345678901`, trailing zeros of the fraction trimmed to cents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / NANOS_PER_USD as u64;
        let mut frac = format!("{:09}", abs % NANOS_PER_USD as u64);
        while frac.len() > 2 && frac.ends_with('0') {
            frac.pop();
        }
        write!(f, "{sign}${whole}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_format_with_their_largest_unit() {
        assert_eq!(SimDuration::from_days(30).to_string(), "30d");
        assert_eq!(SimDuration::from_hours(6).to_string(), "6h");
        assert_eq!(SimDuration::from_secs(90).to_string(), "90s");
        assert_eq!(SimDuration::from_millis(1500).to_string(), "1500ms");
        assert_eq!(SimDuration::from_micros(7).to_string(), "7us");
        assert_eq!(SimDuration::ZERO.to_string(), "0s");
    }

    #[test]
    fn money_formats_exactly() {
        assert_eq!(MoneyNanos(610 * NANOS_PER_USD).to_string(), "$610.00");
        assert_eq!(MoneyNanos(1).to_string(), "$0.000000001");
        assert_eq!(MoneyNanos(-1_500_000_000).to_string(), "-$1.50");
        assert_eq!(MoneyNanos(60_000_000).to_string(), "$0.06");
    }

    #[test]
    fn time_arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::NEVER + SimDuration::from_secs(1), SimTime::NEVER);
        assert_eq!(SimTime(5) - SimTime(9), SimDuration::ZERO);
        assert_eq!(SimDuration::from_days(u64::MAX).as_micros(), u64::MAX);
    }

    #[test]
    fn times_convert_to_whole_units_rounding_down() {
        assert_eq!(SimTime(2_500_999).as_micros(), 2_500_999);
        assert_eq!(SimTime(2_500_999).as_secs(), 2);
        assert_eq!(SimTime(999_999).as_secs(), 0);
    }

    #[test]
    fn durations_convert_to_whole_units_rounding_down() {
        assert_eq!(SimDuration(2_500_999).as_millis(), 2_500);
        assert_eq!(SimDuration(999).as_millis(), 0);
        assert_eq!(SimDuration(2_500_999).as_secs(), 2);
        assert_eq!(SimDuration(999_999).as_secs(), 0);
    }

    /// The `f64` accessors divide by the unit without rounding (the values are exact in binary).
    #[test]
    fn display_accessors_divide_by_their_unit() {
        assert_eq!(SimTime(2_500_000).as_secs_f64(), 2.5);
        assert_eq!(SimDuration(1_250_000).as_secs_f64(), 1.25);
        assert_eq!(Bytes(2_500_000_000).as_gb_f64(), 2.5);
        assert_eq!(MoneyNanos(-1_250_000_000).as_usd_f64(), -1.25);
    }

    #[test]
    fn time_difference_is_the_duration_between() {
        assert_eq!(SimTime(9_000) - SimTime(5_000), SimDuration(4_000));
    }

    #[test]
    fn adding_to_a_time_in_place_moves_it_forward_and_saturates() {
        let mut t = SimTime(1_000);
        t += SimDuration(2_500);
        assert_eq!(t, SimTime(3_500));
        t += SimDuration(u64::MAX);
        assert_eq!(t, SimTime::NEVER);
    }

    #[test]
    fn durations_and_bytes_add_and_saturate() {
        assert_eq!(SimDuration(3) + SimDuration(4), SimDuration(7));
        assert_eq!(SimDuration(u64::MAX) + SimDuration(1), SimDuration(u64::MAX));
        assert_eq!(Bytes(300) + Bytes(45), Bytes(345));
        assert_eq!(Bytes(u64::MAX) + Bytes(1), Bytes(u64::MAX));
    }

    #[test]
    fn times_format_as_their_offset_from_the_start() {
        assert_eq!(SimTime(90_000_000).to_string(), "t=90s");
        assert_eq!(SimTime(1_500).to_string(), "t=1500us");
        assert_eq!(SimTime::ZERO.to_string(), "t=0s");
    }

    /// Whole minutes that are not whole hours use `m`, not the seconds below it.
    #[test]
    fn durations_of_whole_minutes_format_in_minutes() {
        assert_eq!(SimDuration::from_mins(15).to_string(), "15m");
        assert_eq!(SimDuration::from_secs(61).to_string(), "61s");
    }

    /// The fraction keeps at least two digits (cents) and every nonzero digit; zero has no sign.
    #[test]
    fn money_pads_to_cents_and_signs_only_negative_amounts() {
        assert_eq!(MoneyNanos::ZERO.to_string(), "$0.00");
        assert_eq!(MoneyNanos(3 * NANOS_PER_USD).to_string(), "$3.00");
        assert_eq!(MoneyNanos(100_000_000).to_string(), "$0.10");
        assert_eq!(MoneyNanos(123_000_000).to_string(), "$0.123");
        assert_eq!(MoneyNanos(-1).to_string(), "-$0.000000001");
        assert_eq!(MoneyNanos(-42 * NANOS_PER_USD).to_string(), "-$42.00");
    }
}
