//! Cache sizes on the command line: bytes with a unit (`10GB`, `512MiB`, `20297697`), or a share
//! of the trace's unique bytes (`10%`, `0.5%`, or a fraction as libCacheSim takes it: `0.1`), resolved exactly (rounded down, as libCacheSim
//! does with `(int64_t)(wss * ratio)`).

use crate::scenario::units::decimal_times;

/// A cache size as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheSize {
    /// Bytes (or objects, when sizes are ignored).
    Absolute(u64),
    /// `num / den` of the trace's unique bytes (or objects).
    Share {
        /// Numerator.
        num: u128,
        /// Denominator.
        den: u128,
    },
}

impl CacheSize {
    /// The size for a trace of `unique` bytes (or objects).
    pub fn resolve(self, unique: u64) -> u64 {
        match self {
            CacheSize::Absolute(b) => b,
            CacheSize::Share { num, den } => (u128::from(unique) * num / den).min(u128::from(u64::MAX)) as u64,
        }
    }

    /// Whether it depends on the trace.
    pub fn is_share(self) -> bool {
        matches!(self, CacheSize::Share { .. })
    }
}

/// Parses `10GB`, `1.5GiB`, `512MiB`, `4096`, `10%`, `0.5%`. Decimal units are powers of 1000,
/// binary ones (`KiB`, `MiB`, `GiB`, `TiB`) powers of 1024; case does not matter.
pub fn parse_cache_size(s: &str) -> Result<CacheSize, String> {
    let t = s.trim();
    let bad = || {
        format!("\"{s}\" is not a cache size: expected bytes with an optional unit (like 10GB, 512MiB, 20297697) or a share of the trace's unique bytes (like 10%)")
    };
    if let Some(num) = t.strip_suffix('%') {
        let num = num.trim();
        let digits = num.split_once('.').map_or(0, |(_, f)| f.len()) as u32;
        if digits > 12 {
            return Err(bad());
        }
        let den = 100 * 10u128.pow(digits);
        let n = decimal_times(num, 10u128.pow(digits)).ok_or_else(bad)?;
        if n == 0 || n > den {
            return Err(format!("\"{s}\" is not a cache size: a share must be above 0% and at most 100%"));
        }
        return Ok(CacheSize::Share { num: n, den });
    }
    // A fraction without a unit (`0.01`, `0.5`, `1.0`) is a share, as libCacheSim's `cachesim`
    // takes a size below 1; a whole number without a unit is bytes.
    if t.contains('.') && t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let digits = t.split_once('.').map_or(0, |(_, f)| f.len()) as u32;
        let den = 10u128.checked_pow(digits).filter(|_| digits <= 14).ok_or_else(bad)?;
        let n = decimal_times(t, den).ok_or_else(bad)?;
        if n == 0 || n > den {
            return Err(format!(
                "\"{s}\" is not a cache size: a fraction without a unit is a share of the unique bytes, above 0 and at most 1 (for bytes, give a unit: {s}B)"
            ));
        }
        return Ok(CacheSize::Share { num: n, den });
    }
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale: u128 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1_000,
        "mb" | "m" => 1_000_000,
        "gb" | "g" => 1_000_000_000,
        "tb" | "t" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let v = decimal_times(num, scale).ok_or_else(bad)?;
    if v == 0 {
        return Err(format!("\"{s}\" is not a cache size: it must be above zero"));
    }
    u64::try_from(v).map(CacheSize::Absolute).map_err(|_| format!("\"{s}\" is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_exactly() {
        assert_eq!(parse_cache_size("10GB"), Ok(CacheSize::Absolute(10_000_000_000)));
        assert_eq!(parse_cache_size("512MiB"), Ok(CacheSize::Absolute(512 << 20)));
        assert_eq!(parse_cache_size("1.5 gib"), Ok(CacheSize::Absolute(3 << 29)));
        assert_eq!(parse_cache_size("20297697"), Ok(CacheSize::Absolute(20_297_697)));
        let unique = 2_029_769_728;
        assert_eq!(parse_cache_size("1%").unwrap().resolve(unique), 20_297_697);
        assert_eq!(parse_cache_size("10%").unwrap().resolve(unique), 202_976_972);
        assert_eq!(parse_cache_size("30%").unwrap().resolve(unique), 608_930_918);
        assert_eq!(parse_cache_size("0.5%").unwrap().resolve(1000), 5);
        assert_eq!(parse_cache_size("10%").unwrap().resolve(48_974), 4_897);
        assert_eq!(parse_cache_size("100%").unwrap().resolve(7), 7);
    }

    #[test]
    fn a_fraction_without_a_unit_is_a_share_as_libcachesim_takes_it() {
        let unique = 2_029_769_728;
        for (fraction, percent) in [("0.01", "1%"), ("0.1", "10%"), ("0.30", "30%"), ("0.005", "0.5%"), ("1.0", "100%")]
        {
            let a = parse_cache_size(fraction).unwrap();
            assert!(a.is_share(), "{fraction}");
            assert_eq!(a.resolve(unique), parse_cache_size(percent).unwrap().resolve(unique), "{fraction}");
        }
        assert_eq!(parse_cache_size("0.01").unwrap().resolve(unique), 20_297_697);
        assert_eq!(parse_cache_size("20297697"), Ok(CacheSize::Absolute(20_297_697)), "a whole number is bytes");
        for bad in ["0.0", "1.5", "2.", ".", "0.000000000000001"] {
            let err = parse_cache_size(bad).unwrap_err();
            assert!(err.contains(&format!("\"{bad}\"")), "{bad}: {err}");
        }
        assert!(parse_cache_size("1.5").unwrap_err().contains("give a unit: 1.5B"));
    }

    #[test]
    fn bad_sizes_name_the_value() {
        for bad in ["", "GB", "10 parsecs", "-5GB", "0", "0%", "101%", "1.2.3GB", "99999999999999999999TB", "0.1B"] {
            let err = parse_cache_size(bad).unwrap_err();
            assert!(err.contains(&format!("\"{bad}\"")), "{bad}: {err}");
        }
    }
}
