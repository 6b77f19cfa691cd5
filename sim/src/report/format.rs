//! The one formatter for the figures every output shows (console, `report.md`, `compare`,
//! sweeps, charts): money, counts, bytes, durations and shares, so that a figure reads the same
//! wherever it appears.
//!
//! Rounding, pinned by the tests below with amounts that tell the rules apart:
//! * money is rounded from the exact nanodollars, half away from zero (`$0.125` is `$0.13`,
//!   `-$0.125` is `-$0.13`), to the cent or, for [`money_whole`], to the dollar;
//! * every other figure (a share, milliseconds, a rate in dollars per unit, gigabytes) is an `f64`
//!   rounded to the nearest, ties to even (`12.5 ms` is `12 ms`).

use clipsim_engine::{MoneyNanos, SimTime};

const NANOS_PER_CENT: u64 = 10_000_000;
const NANOS_PER_USD: u64 = 1_000_000_000;

/// Digits with a comma every three: `1,234,567`.
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `nanos / unit`, rounded half away from zero.
fn round_half_away(nanos: u64, unit: u64) -> u64 {
    nanos / unit + u64::from(nanos % unit >= unit.div_ceil(2))
}

fn sign(m: MoneyNanos, rounded_to_zero: bool) -> &'static str {
    if m.0 < 0 && !rounded_to_zero {
        "-"
    } else {
        ""
    }
}

/// Money to the cent, with separators: `$1,391.66`, `-$0.05`, `$0.00`.
pub fn money(m: MoneyNanos) -> String {
    let cents = round_half_away(m.0.unsigned_abs(), NANOS_PER_CENT);
    format!("{}${}.{:02}", sign(m, cents == 0), grouped(cents / 100), cents % 100)
}

/// Money to the dollar, with separators, for figures in the hundreds and more: `$1,392`.
pub fn money_whole(m: MoneyNanos) -> String {
    let dollars = round_half_away(m.0.unsigned_abs(), NANOS_PER_USD);
    format!("{}${}", sign(m, dollars == 0), grouped(dollars))
}

/// Money in dollars to the dollar from $100 on, else to the cent: `$1,392`, `$23.00`.
pub fn money_short(m: MoneyNanos) -> String {
    if m.0.unsigned_abs() >= 100 * NANOS_PER_USD {
        money_whole(m)
    } else {
        money(m)
    }
}

/// The ledger's exact amount, every nanodollar: `$1,391.658087436` (where a bill line is shown
/// as the ledger holds it, under a heading that says so).
pub fn money_exact(m: MoneyNanos) -> String {
    let a = m.0.unsigned_abs();
    format!("{}${}.{:09}", sign(m, a == 0), grouped(a / NANOS_PER_USD), a % NANOS_PER_USD)
}

/// A dollar figure that is a statistic (a mean of bills, an interval's end), to the cent as
/// [`money`] rounds it, through the nearest nanodollar.
pub fn usd(x: f64) -> String {
    money(MoneyNanos((x * 1e9).round() as i64))
}

/// A price or cost per unit in dollars, to a hundredth of a cent: `$0.1420`.
pub fn usd_per_unit(x: f64) -> String {
    format!("${}", fixed(x, 4))
}

/// A count with separators: `966,353`.
pub fn count(n: u64) -> String {
    grouped(n)
}

/// Bytes in decimal units: `812.3 GB` below a terabyte, `9.48 TB` from one on.
pub fn bytes(b: f64) -> String {
    let gb = b / 1e9;
    if gb >= 1000.0 {
        format!("{} TB", fixed(gb / 1000.0, 2))
    } else {
        format!("{} GB", fixed(gb, 1))
    }
}

/// A share as a percentage with `decimals` decimals: `32.13 %`.
pub fn percent(share: f64, decimals: usize) -> String {
    format!("{} %", fixed(share * 100.0, decimals))
}

/// Whole milliseconds: `604 ms`.
pub fn ms(x: f64) -> String {
    format!("{} ms", fixed(x, 0))
}

/// A simulated instant: `3d 04:05:06`.
pub fn time(t: SimTime) -> String {
    let s = t.as_secs();
    format!("{}d {:02}:{:02}:{:02}", s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60)
}

/// `x` with `decimals` decimals, nearest with ties to even, and no sign on a rounded zero.
pub fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// An optional figure, or `n/a`.
pub fn or_na<T>(v: Option<T>, f: impl FnOnce(T) -> String) -> String {
    v.map_or_else(|| "n/a".into(), f)
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01 (the proleptic Gregorian calendar, as the
/// log parsers read it).
pub fn civil_date(days: u64) -> String {
    // Days since 0000-03-01, in 400-year eras of 146,097 days.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = era * 400 + yoe + u64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The days since 1970-01-01 of a `YYYY-MM-DD` date (1970 to 9999), or `None` when it is not one.
pub fn days_from_civil(date: &str) -> Option<u64> {
    let b = date.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u64> {
        b[r].iter().try_fold(0u64, |n, &c| c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0')))
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if y < 1970 || !(1..=12).contains(&m) || d == 0 || d > month_days[(m - 1) as usize] {
        return None;
    }
    // Days since 0000-03-01 of the date, in 400-year eras (the inverse of `civil_date`).
    let y = if m <= 2 { y - 1 } else { y };
    let (era, yoe) = (y / 400, y % 400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    /// Days to dates, against dates worked out by hand (leap days, century rules, the epoch).
    #[test]
    fn civil_dates() {
        for (days, date) in [
            (0, "1970-01-01"),
            (59, "1970-03-01"),
            (10_957, "2000-01-01"),
            (11_016, "2000-02-29"),
            (11_017, "2000-03-01"),
            (20_454, "2026-01-01"),
            (47_541, "2100-03-01"),
        ] {
            assert_eq!(super::civil_date(days), date, "day {days}");
            assert_eq!(super::days_from_civil(date), Some(days), "{date}");
        }
        for bad in ["2026-02-29", "1969-12-31", "2026-13-01", "2026-00-10", "2026-1-01", "2026-01-32", "20260101xx"] {
            assert_eq!(super::days_from_civil(bad), None, "{bad}");
        }
        // Every day of four centuries round-trips.
        for days in 0..146_097 {
            assert_eq!(super::days_from_civil(&super::civil_date(days)), Some(days));
        }
        assert_eq!(crate::trace::generate::LOG_EPOCH_S, 20_454 * 86_400);
    }

    use super::*;

    /// $0.125, $0.135, $0.1201 and $0.1299 give a different four under each rule: down .12 .13
    /// .12 .12, up .13 .14 .13 .13, half-up (away from zero) .13 .14 .12 .13, half-even .12 .14
    /// .12 .13. Money rounds half away from zero.
    #[test]
    fn money_rounds_half_away_from_zero_to_the_cent() {
        let cents = [125_000_000, 135_000_000, 120_100_000, 129_900_000].map(|n| money(MoneyNanos(n)));
        assert_eq!(cents, ["$0.13", "$0.14", "$0.12", "$0.13"]);
        let negative = [-125_000_000, -135_000_000, -120_100_000, -129_900_000].map(|n| money(MoneyNanos(n)));
        assert_eq!(negative, ["-$0.13", "-$0.14", "-$0.12", "-$0.13"]);
        assert_eq!(money(MoneyNanos(1_391_658_087_436)), "$1,391.66");
        assert_eq!(money(MoneyNanos(1_234_567_895_000_000)), "$1,234,567.90");
        assert_eq!(money(MoneyNanos(-4_999_999)), "$0.00", "no sign on a rounded zero");
        assert_eq!(money(MoneyNanos(-5_000_000)), "-$0.01");
        assert_eq!(money(MoneyNanos(i64::MIN)), "-$9,223,372,036.85");
    }

    /// $1.50, $2.50, $1.20 and $1.99: down 1 2 1 1, up 2 3 2 2, half-up 2 3 1 2, half-even 2 2 1 2.
    #[test]
    fn whole_dollars_round_half_away_from_zero() {
        let whole = [1_500_000_000, 2_500_000_000, 1_200_000_000, 1_990_000_000].map(|n| money_whole(MoneyNanos(n)));
        assert_eq!(whole, ["$2", "$3", "$1", "$2"]);
        assert_eq!(money_whole(MoneyNanos(1_391_658_087_436)), "$1,392");
        assert_eq!(money_whole(MoneyNanos(-400_000_000)), "$0");
        assert_eq!(money_short(MoneyNanos(99_994_999_999)), "$99.99");
        assert_eq!(money_short(MoneyNanos(100_000_000_000)), "$100");
        assert_eq!(money_short(MoneyNanos(-150_500_000_000)), "-$151");
    }

    #[test]
    fn the_ledger_shows_every_nanodollar() {
        assert_eq!(money_exact(MoneyNanos(1_391_658_087_436)), "$1,391.658087436");
        assert_eq!(money_exact(MoneyNanos(-1)), "-$0.000000001");
        assert_eq!(money_exact(MoneyNanos(0)), "$0.000000000");
    }

    /// Other figures round to the nearest, ties to even: 12.5 and 13.5 ms are 12 and 14 ms
    /// (half-up would give 13 and 14, down 12 and 13); shares and rates the same.
    #[test]
    fn other_figures_round_to_the_nearest_with_ties_to_even() {
        assert_eq!([ms(12.5), ms(13.5), ms(604.159), ms(-0.4)], ["12 ms", "14 ms", "604 ms", "0 ms"]);
        assert_eq!(percent(0.3213423935, 2), "32.13 %");
        assert_eq!(percent(0.125, 0), "12 %");
        assert_eq!(percent(1.0, 4), "100.0000 %");
        assert_eq!(usd_per_unit(0.141966), "$0.1420");
        assert_eq!(usd(1391.658087436), "$1,391.66");
        assert_eq!(usd(0.125), "$0.13", "a statistic in dollars rounds as money does");
    }

    #[test]
    fn counts_bytes_and_times() {
        assert_eq!([count(0), count(999), count(1_000), count(966_353)], ["0", "999", "1,000", "966,353"]);
        assert_eq!(count(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!([bytes(812.34e9), bytes(9_480_120_056_525.0), bytes(999.94e9)], ["812.3 GB", "9.48 TB", "999.9 GB"]);
        assert_eq!(time(SimTime(((3 * 86_400 + 4 * 3600 + 5 * 60 + 6) * 1_000_000) + 999_999)), "3d 04:05:06");
        assert_eq!(or_na(None::<f64>, ms), "n/a");
    }
}
