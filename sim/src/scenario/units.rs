//! Scenario value types that parse themselves: durations (`"90s"`, `"6h"`, `"30d"`), dollar
//! amounts and sizes, each converted to an exact integer with the bad value in the error.

use clipsim_engine::SimDuration;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

/// The longest duration a scenario may name: 100 years.
pub const DURATION_MAX: SimDuration = SimDuration::from_days(36_500);

/// A duration written as a string with a unit: `us`, `ms`, `s`, `m`, `h`, `d` (`"1.5h"` allowed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub SimDuration);

/// Parses `"90s"`, `"15m"`, `"6h"`, `"30d"`, `"250ms"`, `"1.5h"` into microseconds, exactly
/// (decimal fractions are converted without floating point; a fraction finer than a microsecond
/// is an error).
pub fn parse_duration(s: &str) -> Result<SimDuration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit_us: u128 = match unit.trim() {
        "us" => 1,
        "ms" => 1_000,
        "s" => 1_000_000,
        "m" | "min" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        _ => return Err(format!("\"{s}\" is not a duration: expected a number and a unit (us, ms, s, m, h, d), like \"90s\", \"15m\", \"6h\" or \"30d\"")),
    };
    let us = decimal_times(num, unit_us)
        .ok_or_else(|| format!("\"{s}\" is not a duration: expected a number and a unit, like \"90s\" or \"1.5h\""))?;
    if us > DURATION_MAX.as_micros() as u128 {
        return Err(format!("\"{s}\" is too long: at most {}", SimDuration(DURATION_MAX.as_micros())));
    }
    Ok(SimDuration(us as u64))
}

/// `num x scale` for a non-negative decimal string, exactly; `None` if malformed or if the result
/// is not a whole number.
pub fn decimal_times(num: &str, scale: u128) -> Option<u128> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    if int.len() > 20 || frac.len() > 20 {
        return None;
    }
    let int_v: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut value = int_v.checked_mul(scale)?;
    let denom = 10u128.pow(frac.len() as u32);
    if !frac.is_empty() {
        let frac_v: u128 = frac.parse().ok()?;
        let scaled = frac_v.checked_mul(scale)?;
        if scaled % denom != 0 {
            return None;
        }
        value = value.checked_add(scaled / denom)?;
    }
    Some(value)
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string like \"90s\", \"15m\", \"6h\" or \"30d\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_duration(v).map(Dur).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Converts a non-negative amount in dollars (as written in TOML) to integer nanodollars,
/// rounding to the nearest nanodollar. Errors name the value.
pub fn usd_to_nanos(usd: f64) -> Result<u64, String> {
    if !usd.is_finite() || usd < 0.0 {
        return Err(format!("{usd} is not a price: expected a non-negative number of dollars"));
    }
    if usd > 1_000.0 {
        return Err(format!("{usd} is too high: prices are at most $1000 per unit"));
    }
    Ok((usd * 1e9).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_exactly() {
        assert_eq!(parse_duration("90s"), Ok(SimDuration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(SimDuration::from_mins(15)));
        assert_eq!(parse_duration("1.5h"), Ok(SimDuration::from_mins(90)));
        assert_eq!(parse_duration("30d"), Ok(SimDuration::from_days(30)));
        assert_eq!(parse_duration("250ms"), Ok(SimDuration::from_millis(250)));
        assert_eq!(parse_duration("0s"), Ok(SimDuration::ZERO));
    }

    #[test]
    fn bad_durations_say_what_was_expected() {
        for bad in ["", "10", "h", "10 parsecs", "-5s", "1.2.3s", "0.0000001s", "99999999999999d"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains(&format!("\"{bad}\"")), "{bad}: {err}");
        }
    }

    #[test]
    fn prices_convert_to_nanodollars() {
        assert_eq!(usd_to_nanos(0.06), Ok(60_000_000));
        assert_eq!(usd_to_nanos(0.0004), Ok(400_000));
        assert_eq!(usd_to_nanos(0.023), Ok(23_000_000));
        assert!(usd_to_nanos(-0.01).is_err());
        assert!(usd_to_nanos(f64::NAN).is_err());
    }

    /// Each limit at its bound and one past it.
    #[test]
    fn limits_hold_at_their_bounds() {
        assert_eq!(parse_duration("250us"), Ok(SimDuration(250)));
        assert_eq!(parse_duration("36500d"), Ok(DURATION_MAX), "100 years is allowed");
        assert!(parse_duration("3153600000.000001s").unwrap_err().contains("too long"), "one microsecond more is not");
        assert_eq!(usd_to_nanos(0.0), Ok(0), "free is a price");
        assert_eq!(usd_to_nanos(1_000.0), Ok(1_000_000_000_000));
        assert!(usd_to_nanos(1_000.5).unwrap_err().contains("too high"));
        // At most 20 digits on each side of the point.
        assert_eq!(decimal_times("99999999999999999999", 1), Some(99_999_999_999_999_999_999));
        assert_eq!(decimal_times("100000000000000000000", 1), None);
        assert_eq!(decimal_times("0.00000000000000000001", 10u128.pow(20)), Some(1));
        assert_eq!(decimal_times("0.000000000000000000001", 10u128.pow(21)), None);
        // Digits only: Rust's integer parser would take a sign.
        assert_eq!(
            (decimal_times("+1.5", 10), decimal_times("1.+5", 10), decimal_times("1.5", 10)),
            (None, None, Some(15))
        );
        assert_eq!(decimal_times(".", 10), None);
    }

    #[test]
    fn durations_deserialize_and_display() {
        #[derive(Debug, serde::Deserialize)]
        struct W {
            #[allow(dead_code)]
            d: Dur,
        }
        let e = toml::from_str::<W>("d = 5").unwrap_err().to_string();
        assert!(e.contains("a duration string like \"90s\", \"15m\", \"6h\" or \"30d\""), "{e}");
        assert_eq!(Dur(SimDuration::from_hours(6)).to_string(), "6h");
    }
}
