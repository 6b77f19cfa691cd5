//! The points of a sweep, numbered `0..P` in a deterministic order.
//!
//! * **grid**: every combination, lexicographic over the axes in file order (the last axis
//!   varies fastest), as nested loops would write them.
//! * **random**: point `i` takes, on each axis in turn, a uniform draw from the sampling stream.
//! * **latin-hypercube**: each axis is cut into `P` equal strata; a random permutation per axis
//!   gives point `i` its stratum, and a uniform draw its place inside it. Every stratum of every
//!   axis holds exactly one point.
//!
//! Draws come from one [`Stream`] seeded with `sample_seed` (never a thread-local generator), so the
//! points depend only on the file. A range is sampled over its whole interval (log-uniformly with
//! `log = true`, rounded for integer ranges); a list of values is sampled as equally likely choices.

use super::spec::{value_text, Design, Spec};
use crate::rng::{splitmix64, Purpose, Stream};
use toml_edit::Value;

/// One point: a value for every axis, in axis order.
#[derive(Clone, Debug)]
pub struct Point {
    /// `0..P`.
    pub index: usize,
    /// One value per axis.
    pub values: Vec<Value>,
}

impl Point {
    /// `key = value` pairs joined by `; ` (values as TOML), for messages and the scenario hash.
    pub fn assignment(&self, spec: &Spec) -> String {
        if spec.axes.is_empty() {
            return "no axes".into();
        }
        spec.axes
            .iter()
            .zip(&self.values)
            .map(|(a, v)| format!("{} = {}", a.key, value_text(v)))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Salt of the sampling stream's seed ("SWEEP"), so a sweep's `sample_seed` and a scenario's
/// `seed` with the same number draw different streams.
const SAMPLE_SALT: u64 = 0x0053_5745_4550;

fn stream(sample_seed: u64) -> Stream {
    Stream::new(splitmix64(sample_seed ^ SAMPLE_SALT), Purpose::Catalog)
}

/// Every point of the sweep, in index order.
pub fn points(spec: &Spec) -> Vec<Point> {
    match spec.design {
        Design::Grid => grid(spec),
        Design::Random { points, sample_seed } => {
            let mut rng = stream(sample_seed);
            (0..points as usize)
                .map(|index| Point { index, values: spec.axes.iter().map(|a| a.domain.at(rng.unit())).collect() })
                .collect()
        }
        Design::LatinHypercube { points, sample_seed } => {
            let n = points as usize;
            let columns = latin_hypercube(n, spec.axes.len(), sample_seed);
            (0..n)
                .map(|index| Point {
                    index,
                    values: spec.axes.iter().zip(&columns).map(|(a, col)| a.domain.at(col[index])).collect(),
                })
                .collect()
        }
    }
}

/// A Latin hypercube of `n` points in `dims` dimensions: per dimension (a column), `n` positions
/// in `0..1`, one in each of the `n` equal strata, the strata paired at random across dimensions.
/// Drawn from the sampling stream of `sample_seed`, so the same arguments give the same points.
pub fn latin_hypercube(n: usize, dims: usize, sample_seed: u64) -> Vec<Vec<f64>> {
    let mut rng = stream(sample_seed);
    // Per dimension: a permutation of the strata (Fisher-Yates), then a place in each stratum.
    (0..dims)
        .map(|_| {
            let mut strata: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                strata.swap(i, j);
            }
            strata.iter().map(|&s| (s as f64 + rng.unit()) / n as f64).collect()
        })
        .collect()
}

fn grid(spec: &Spec) -> Vec<Point> {
    let lists: Vec<Vec<Value>> = spec.axes.iter().map(|a| a.domain.grid_values()).collect();
    let total: usize = lists.iter().map(Vec::len).product();
    (0..total)
        .map(|index| {
            // Mixed-radix digits of the index, the last axis least significant.
            let mut rest = index;
            let mut values = vec![Value::from(0); lists.len()];
            for (slot, list) in values.iter_mut().zip(&lists).rev() {
                *slot = list[rest % list.len()].clone();
                rest /= list.len();
            }
            Point { index, values }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::spec;
    use std::path::Path;

    fn spec_of(sweep: &str) -> Spec {
        let base = "[scenario]\nname = \"b\"\nseed = 7\n";
        spec::from_texts(Path::new("s.toml"), sweep, Path::new("b.toml"), base).unwrap()
    }

    #[test]
    fn grid_is_lexicographic_in_file_order() {
        let s = spec_of(
            "[sweep]\nname = \"g\"\nbase = \"b.toml\"\n[[axes]]\nkey = \"mirror.ttl_days\"\nvalues = [1, 2]\n[[axes]]\nkey = \"cdn.cache_ttl\"\nvalues = [\"1h\", \"6h\", \"24h\"]\n",
        );
        assert_eq!(s.seed, 7, "the base scenario's seed by default");
        let ps = points(&s);
        let shown: Vec<String> = ps.iter().map(|p| p.assignment(&s)).collect();
        assert_eq!(shown.len(), 6);
        assert_eq!(shown[0], "mirror.ttl_days = 1; cdn.cache_ttl = \"1h\"");
        assert_eq!(shown[1], "mirror.ttl_days = 1; cdn.cache_ttl = \"6h\"");
        assert_eq!(shown[5], "mirror.ttl_days = 2; cdn.cache_ttl = \"24h\"");
    }

    #[test]
    fn latin_hypercube_puts_one_point_in_every_stratum() {
        let s = spec_of(
            "[sweep]\nname = \"l\"\nbase = \"b.toml\"\ndesign = \"latin-hypercube\"\npoints = 10\nsample_seed = 3\n[[axes]]\nkey = \"mirror.ttl_days\"\nrange = { from = 0.0, to = 10.0 }\n[[axes]]\nkey = \"mirror.replication_threshold\"\nrange = { from = 0, to = 1000 }\n",
        );
        let ps = points(&s);
        assert_eq!(ps.len(), 10);
        let mut strata: Vec<usize> = ps.iter().map(|p| p.values[0].as_float().unwrap() as usize).collect();
        strata.sort();
        assert_eq!(strata, (0..10).collect::<Vec<_>>());
        assert!(ps.iter().all(|p| p.values[1].as_integer().is_some_and(|v| (0..=1000).contains(&v))));
        let again: Vec<String> = points(&s).iter().map(|p| p.assignment(&s)).collect();
        assert_eq!(again, ps.iter().map(|p| p.assignment(&s)).collect::<Vec<_>>(), "reproducible");
        let r = spec_of(
            "[sweep]\nname = \"r\"\nbase = \"b.toml\"\ndesign = \"random\"\npoints = 5\n[[axes]]\nkey = \"cdn.cache_ttl\"\nvalues = [\"1h\", \"6h\"]\n",
        );
        assert!(points(&r).iter().all(|p| ["1h", "6h"].contains(&p.values[0].as_str().unwrap())));
    }
}
