//! The targets a run is judged by: each one's key in scenarios and `summary.json`, which way it
//! must go, and how its figures read.

use super::format;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Median load time, ms: at most.
    #[serde(rename = "p50_load_ms")]
    P50LoadMs,
    /// 95th-percentile load time, ms: at most.
    #[serde(rename = "p95_load_ms")]
    P95LoadMs,
    /// Share of requests served: at least.
    Availability,
    /// Total cost per GB delivered, dollars: at most.
    CostPerGb,
    /// Mirror hit rate of the 100 clips with the most views: at least.
    #[serde(rename = "top100_mirror_hit_rate")]
    Top100MirrorHitRate,
}

impl Target {
    /// Every target, in report order.
    pub const ALL: [Target; 5] =
        [Target::P50LoadMs, Target::P95LoadMs, Target::Availability, Target::CostPerGb, Target::Top100MirrorHitRate];

    /// Its key: `p50_load_ms`, `p95_load_ms`, `availability`, `cost_per_gb`, `top100_mirror_hit_rate`.
    pub const fn key(self) -> &'static str {
        match self {
            Target::P50LoadMs => "p50_load_ms",
            Target::P95LoadMs => "p95_load_ms",
            Target::Availability => "availability",
            Target::CostPerGb => "cost_per_gb",
            Target::Top100MirrorHitRate => "top100_mirror_hit_rate",
        }
    }

    /// The target with this key.
    pub fn from_key(key: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.key() == key)
    }

    /// Whether the figure must be at most the target (else at least).
    pub const fn at_most(self) -> bool {
        matches!(self, Target::P50LoadMs | Target::P95LoadMs | Target::CostPerGb)
    }

    /// `<=` or `>=`.
    pub const fn direction(self) -> &'static str {
        if self.at_most() {
            "<="
        } else {
            ">="
        }
    }

    /// Whether its figures are shares (0 to 1).
    pub const fn is_share(self) -> bool {
        matches!(self, Target::Availability | Target::Top100MirrorHitRate)
    }

    /// Whether `actual` meets `target`.
    pub fn met(self, actual: f64, target: f64) -> bool {
        if self.at_most() {
            actual <= target
        } else {
            actual >= target
        }
    }

    /// A figure of it in its unit: `604 ms`, `99.9900 %`, `$0.1420`, `32.13 %`.
    pub fn show(self, x: f64) -> String {
        match self {
            Target::P50LoadMs | Target::P95LoadMs => format::ms(x),
            Target::Availability => format::percent(x, 4),
            Target::CostPerGb => format::usd_per_unit(x),
            Target::Top100MirrorHitRate => format::percent(x, 2),
        }
    }

    /// The same, or `n/a` when there is none.
    pub fn show_opt(self, x: Option<f64>) -> String {
        format::or_na(x, |x| self.show(x))
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shares (0 to 1), whose intervals a sweep clamps to [0, 1]: availability and the
    /// top-100 rate; not load times or money.
    #[test]
    fn shares_are_the_rates() {
        let shares: Vec<Target> = Target::ALL.into_iter().filter(|t| t.is_share()).collect();
        assert_eq!(shares, [Target::Availability, Target::Top100MirrorHitRate]);
    }

    #[test]
    fn keys_directions_and_figures() {
        let keys: Vec<&str> = Target::ALL.iter().map(|t| t.key()).collect();
        assert_eq!(keys, ["p50_load_ms", "p95_load_ms", "availability", "cost_per_gb", "top100_mirror_hit_rate"]);
        for t in Target::ALL {
            assert_eq!(Target::from_key(t.key()), Some(t));
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.key()), "serialised as its key");
            assert_eq!(serde_json::from_str::<Target>(&format!("\"{t}\"")).unwrap(), t);
        }
        assert_eq!(Target::from_key("p99_load_ms"), None);
        let dirs: Vec<&str> = Target::ALL.iter().map(|t| t.direction()).collect();
        assert_eq!(dirs, ["<=", "<=", ">=", "<=", ">="]);
        assert!(Target::CostPerGb.met(0.1, 0.1) && !Target::CostPerGb.met(0.1000001, 0.1));
        assert!(Target::Availability.met(0.9999, 0.9999) && !Target::Availability.met(0.99989, 0.9999));
        let shown: Vec<String> =
            [604.159, 1419.3, 0.99995, 0.141966, 0.3213].iter().zip(Target::ALL).map(|(&x, t)| t.show(x)).collect();
        assert_eq!(shown, ["604 ms", "1419 ms", "99.9950 %", "$0.1420", "32.13 %"]);
        assert_eq!(Target::P50LoadMs.show_opt(None), "n/a");
    }
}
