//! What-if: which assumption decides each verdict (`clipsim sensitivity`).
//!
//! A scenario and an assumptions file ([`assumptions`]: each uncertain input's scenario key and
//! its plausible low and high values). Every run here has `K` replicas with seeds `seed` to
//! `seed + K - 1` (common random numbers: two settings see the same requests), and each target
//! is judged on the replicas' mean, as in a sweep ([`crate::sweep::aggregate`]).
//!
//! 1. **One at a time.** The scenario as written (the base), then each assumption at its low and
//!    its high end with everything else as written: per target, how far each end moves the mean
//!    (the tornado chart) and whether it turns the verdict.
//! 2. **Flip points.** Where two neighbouring settings of one assumption (low, base, high) give a
//!    target different verdicts, bisection (geometric for `log` assumptions) narrows the value
//!    at which it turns, `bisect_steps` halvings, each a `K`-replica run.
//! 3. **Global.** `worlds` Latin-hypercube samples of every assumption at once, each a plausible
//!    world: per target, the share of worlds in which it passes (with a Wilson interval) and the
//!    assumptions whose values move it most (Spearman rank correlation).
//!
//! Runs go to up to `threads` threads; the results do not depend on how many.

pub mod assumptions;
pub mod output;
pub mod tornado;

use crate::report::summary::{summarize, wilson, Interval, Summary};
use crate::report::target::Target;
use crate::scenario::{self, InputError, Overrides, Scenario};
use crate::sweep::aggregate::{summary_stats, PointStats};
use crate::world::{steady, World};
use assumptions::Assumptions;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use toml_edit::DocumentMut;

/// The version of `sensitivity.json`.
pub const FORMAT_VERSION: u32 = 1;

/// How a sensitivity analysis runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Replicas (seeds) per setting.
    pub replicas: u32,
    /// Threads.
    pub threads: usize,
    /// Halvings of each flip's bracket.
    pub bisect_steps: u32,
    /// Latin-hypercube worlds of the global variant (0: none).
    pub worlds: u32,
    /// Seed of the Latin hypercube's sampling stream.
    pub sample_seed: u64,
}

/// Told as runs are planned and finish (a progress bar).
pub trait Progress: Sync {
    /// `runs` more runs are planned.
    fn planned(&self, runs: u64);
    /// One run finished.
    fn done(&self);
}

impl Progress for () {
    fn planned(&self, _: u64) {}
    fn done(&self) {}
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SensitivityError {
    /// A bad scenario or assumptions file.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The engine refused a setting's configuration.
    #[error("{setting}, seed {seed}: {message}")]
    Run {
        /// The setting (`key = value`, or `the base`).
        setting: String,
        /// The replica's seed.
        seed: u64,
        /// The engine's message.
        message: String,
    },
    /// Stopped (Ctrl-C) before the end: nothing is written.
    #[error("stopped before the end")]
    Stopped,
}

/// A setting: some assumptions (by index) set to numbers, the others as the scenario has them.
pub type Setting = Vec<(usize, f64)>;

/// The SHA-256 (hex) of a scenario's text with its secrets redacted: how a run knows that a
/// sensitivity analysis was of the scenario it is running.
pub fn text_sha256(redacted_text: &str) -> String {
    Sha256::digest(redacted_text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A scenario and the assumptions to vary in it, checked.
pub struct Plan {
    /// The scenario file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// The scenario as written.
    pub base: Scenario,
    /// The assumptions.
    pub assumptions: Assumptions,
    /// Per assumption: the scenario's own value (or the assumption's `default`).
    pub base_values: Vec<Option<f64>>,
    /// Per assumption: why it is not varied (`None`: it is).
    pub skipped: Vec<Option<String>>,
    doc: DocumentMut,
}

impl Plan {
    /// Checks `assumptions` against the scenario `base` (as loaded, without overrides): every key
    /// can be set, the scenario accepts both ends of each, and each assumption's `requires` is on
    /// (else it is skipped).
    pub fn new(base: Scenario, assumptions: Assumptions) -> Result<Plan, InputError> {
        let (path, text) = (base.path.clone(), base.text.clone());
        let doc: DocumentMut = text.parse().map_err(|e| InputError {
            file: path.clone(),
            line: None,
            column: None,
            key_path: String::new(),
            value: None,
            expected: format!("valid TOML: {e}"),
        })?;
        let loc = crate::scenario::error::Locator::new(&assumptions.path, &assumptions.text);
        let mut plan = Plan {
            path,
            text,
            base,
            base_values: Vec::new(),
            skipped: Vec::new(),
            doc,
            assumptions: assumptions.clone(),
        };
        for (i, a) in assumptions.list.iter().enumerate() {
            let base_value = a.base_value(&plan.doc).map_err(|e| loc.error(&format!("assumptions[{i}].key"), e))?;
            plan.base_values.push(base_value);
            if !assumptions::required_on(&plan.doc, a) {
                let r = a.requires.as_deref().unwrap_or_default();
                plan.skipped.push(Some(format!("needs `{r} = true` in the scenario")));
                continue;
            }
            plan.skipped.push(None);
            for (end, x) in [("low", a.low), ("high", a.high)] {
                plan.scenario(&[(i, x)], 0).map_err(|e| {
                    let why = match e {
                        SensitivityError::Input(e) => e.to_string(),
                        other => other.to_string(),
                    };
                    loc.error(&format!("assumptions[{i}].{end}"), format!("a value the scenario accepts: {why}"))
                })?;
            }
        }
        Ok(plan)
    }

    /// The assumptions that are varied, by index.
    pub fn active(&self) -> Vec<usize> {
        (0..self.assumptions.list.len()).filter(|&i| self.skipped[i].is_none()).collect()
    }

    /// `key = value; ...`, or `the base`.
    pub fn describe(&self, setting: &[(usize, f64)]) -> String {
        if setting.is_empty() {
            return "the base".into();
        }
        let l = &self.assumptions.list;
        setting.iter().map(|&(i, x)| format!("{} = {}", l[i].key, l[i].show(x))).collect::<Vec<_>>().join("; ")
    }

    /// The scenario of `setting`, replica `r` (seed `seed + r`).
    pub fn scenario(&self, setting: &[(usize, f64)], r: u32) -> Result<Scenario, SensitivityError> {
        let mut doc = self.doc.clone();
        let l = &self.assumptions.list;
        for &(i, x) in setting {
            assumptions::set(&mut doc, &l[i], x).map_err(|e| {
                let loc = crate::scenario::error::Locator::new(&self.assumptions.path, &self.assumptions.text);
                loc.error(&format!("assumptions[{i}].key"), e)
            })?;
        }
        let overrides = Overrides {
            seed: Some(self.base.seed.wrapping_add(u64::from(r))),
            env_file: None,
            note: (!setting.is_empty()).then(|| self.describe(setting)),
            trace: None,
            whole_trace: false,
        };
        Ok(scenario::from_str(&self.path, &doc.to_string(), &overrides)?)
    }

    /// Runs every setting's `K` replicas on up to `threads` threads; their statistics in
    /// setting order.
    pub fn run_settings(
        &self,
        settings: &[Setting],
        opts: &Options,
        progress: &dyn Progress,
        stop: &AtomicBool,
    ) -> Result<Vec<PointStats>, SensitivityError> {
        let k = opts.replicas.max(1) as usize;
        let jobs = settings.len() * k;
        progress.planned(jobs as u64);
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<Summary, SensitivityError>>>> =
            Mutex::new((0..jobs).map(|_| None).collect());
        let work = || loop {
            let j = next.fetch_add(1, Ordering::Relaxed);
            if j >= jobs || stop.load(Ordering::Relaxed) {
                break;
            }
            let (s, r) = (j / k, (j % k) as u32);
            let one = self.scenario(&settings[s], r).and_then(|sc| {
                let seed = sc.seed;
                let run = steady::settle(sc, stop).and_then(|sc| Ok(World::new(sc)?.run(&mut (), stop)));
                run.map(|res| summarize(&res)).map_err(|e| SensitivityError::Run {
                    setting: self.describe(&settings[s]),
                    seed,
                    message: e.to_string(),
                })
            });
            progress.done();
            results.lock().expect("no run panics while holding the lock")[j] = Some(one);
        };
        std::thread::scope(|sc| {
            for _ in 1..opts.threads.clamp(1, jobs.max(1)) {
                sc.spawn(work);
            }
            work();
        });
        let results = results.into_inner().expect("every run finished");
        let mut summaries = Vec::with_capacity(jobs);
        for r in results {
            match r {
                Some(Ok(s)) if !s.interrupted => summaries.push(s),
                Some(Err(e)) => return Err(e),
                _ => return Err(SensitivityError::Stopped),
            }
        }
        summaries
            .chunks(k)
            .enumerate()
            .map(|(i, chunk)| {
                let refs: Vec<&Summary> = chunk.iter().collect();
                summary_stats(i, Vec::new(), &refs).map_err(|message| SensitivityError::Run {
                    setting: self.describe(&settings[i]),
                    seed: self.base.seed,
                    message,
                })
            })
            .collect()
    }
}

/// A target at one setting: the replicas' mean, its interval and the verdict on the mean.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetAt {
    /// Which target.
    pub target: Target,
    /// The value required.
    pub required: f64,
    /// The mean and 95 % interval (`None` when a replica had no value).
    pub value: Option<Interval>,
    /// The mean meets the target.
    pub pass: bool,
}

fn targets_at(p: &PointStats) -> Vec<TargetAt> {
    p.verdicts
        .iter()
        .map(|v| TargetAt { target: v.name, required: v.target, value: v.stat.map(Interval::from), pass: v.pass })
        .collect()
}

/// One assumption's one-at-a-time result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssumptionResult {
    /// Its name.
    pub name: String,
    /// Its scenario key.
    pub key: String,
    /// The scenario's value (or the model's default), as a table shows it; `None` if unknown.
    pub base: Option<String>,
    /// The low end, as shown.
    pub low: String,
    /// The high end.
    pub high: String,
    /// Where the ends come from.
    pub source: String,
    /// What to measure in production.
    pub measure: String,
    /// Every target at the low end, in the scenario's order.
    pub at_low: Vec<TargetAt>,
    /// At the high end.
    pub at_high: Vec<TargetAt>,
}

/// An assumption that was not varied, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// Its name.
    pub name: String,
    /// Its key.
    pub key: String,
    /// Why.
    pub reason: String,
}

/// A value of one assumption at which a target's verdict turns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Flip {
    /// The target.
    pub target: Target,
    /// The assumption's name.
    pub assumption: String,
    /// Its key.
    pub key: String,
    /// The last bracket: two values, as shown, the verdict differing between them.
    pub between: [String; 2],
    /// The same as numbers.
    pub between_values: [f64; 2],
    /// Whether the target passes at each.
    pub pass_at: [bool; 2],
    /// The middle of the bracket, as shown: where the verdict turns.
    pub at: String,
    /// Halvings done.
    pub steps: u32,
    /// What to measure in production to know which side of it the real value is on.
    pub measure: String,
}

/// The global variant's result for one target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlobalTarget {
    /// The target.
    pub target: Target,
    /// Worlds in which it passes.
    pub passing: usize,
    /// The share with a Wilson 95 % interval.
    pub probability: Interval,
    /// The assumptions whose values move the target's mean most across the worlds: name and
    /// Spearman rank correlation, strongest first (at most 3), only those above the 5 %
    /// significance level (|rho| > 1.96 / sqrt(worlds - 1)).
    pub drivers: Vec<(String, f64)>,
}

/// The global variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Global {
    /// Worlds sampled.
    pub worlds: u32,
    /// The sampling seed.
    pub sample_seed: u64,
    /// Per target.
    pub targets: Vec<GlobalTarget>,
    /// Worlds in which every target passes, and the share.
    pub all_pass: usize,
    /// Its share with a Wilson interval.
    pub all_pass_probability: Interval,
    /// Per world: each varied assumption's value (in `assumptions` order of the active ones)
    /// and each target's mean.
    pub rows: Vec<GlobalRow>,
}

/// One world of the global variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlobalRow {
    /// The assumptions' values, shown.
    pub values: Vec<String>,
    /// Each target's mean (`None`: no value).
    pub means: Vec<Option<f64>>,
    /// Each target's verdict.
    pub pass: Vec<bool>,
}

/// `sensitivity.json`: everything a sensitivity analysis found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file.
    pub scenario_file: String,
    /// [`text_sha256`] of its text.
    pub scenario_sha256: String,
    /// The assumptions file.
    pub assumptions_file: String,
    /// Replicas per setting.
    pub replicas: u32,
    /// Their seeds, first and last.
    pub seeds: [u64; 2],
    /// Halvings per flip.
    pub bisect_steps: u32,
    /// Runs done in all.
    pub runs: u64,
    /// Every target at the base.
    pub base: Vec<TargetAt>,
    /// Each varied assumption, in file order.
    pub assumptions: Vec<AssumptionResult>,
    /// Those not varied.
    pub skipped: Vec<Skipped>,
    /// Every flip found, by target then assumption.
    pub flips: Vec<Flip>,
    /// The global variant, when run.
    pub global: Option<Global>,
    /// The names of the varied assumptions, in order (the columns of `global.rows`).
    pub varied: Vec<String>,
}

/// One bracket being narrowed: assumption `a`, target `t`, between `lo` and `hi`.
struct Bracket {
    a: usize,
    t: usize,
    x: [f64; 2],
    pass: [bool; 2],
    steps: u32,
    done: bool,
}

/// Runs the analysis.
pub fn run(
    plan: &Plan,
    opts: &Options,
    progress: &dyn Progress,
    stop: &AtomicBool,
) -> Result<Report, SensitivityError> {
    let list = &plan.assumptions.list;
    let active = plan.active();
    // One at a time: the base, then low and high of each varied assumption.
    let mut settings: Vec<Setting> = vec![Vec::new()];
    for &i in &active {
        settings.push(vec![(i, list[i].low)]);
        settings.push(vec![(i, list[i].high)]);
    }
    let stats = plan.run_settings(&settings, opts, progress, stop)?;
    let mut runs = (settings.len() * opts.replicas.max(1) as usize) as u64;
    let base = &stats[0];
    let n_targets = base.verdicts.len();
    // Brackets between neighbouring settings (low, base, high) whose verdicts differ.
    let mut brackets = Vec::new();
    for (j, &i) in active.iter().enumerate() {
        let a = &list[i];
        let mut anchors = vec![(a.low, &stats[1 + 2 * j]), (a.high, &stats[2 + 2 * j])];
        if let Some(b) = plan.base_values[i].filter(|&b| b > a.low && b < a.high) {
            anchors.insert(1, (b, base));
        }
        for t in 0..n_targets {
            for w in anchors.windows(2) {
                let (p0, p1) = (w[0].1.verdicts[t].pass, w[1].1.verdicts[t].pass);
                if p0 != p1 {
                    brackets.push(Bracket { a: i, t, x: [w[0].0, w[1].0], pass: [p0, p1], steps: 0, done: false });
                }
            }
        }
    }
    for _ in 0..opts.bisect_steps {
        // Each open bracket's middle; brackets of one assumption that share a middle share a run.
        let mut mids: Vec<(usize, f64)> = Vec::new();
        let mut of_bracket = Vec::new();
        for b in brackets.iter_mut().filter(|b| !b.done) {
            let a = &list[b.a];
            // As simulated: rounded as the scenario value is written.
            let mid = a.rounded(a.between(b.x[0], b.x[1], 0.5));
            let shown = a.show(mid);
            if shown == a.show(b.x[0]) || shown == a.show(b.x[1]) {
                b.done = true;
                continue;
            }
            let k = match mids.iter().position(|&(i, x)| i == b.a && a.show(x) == shown) {
                Some(k) => k,
                None => {
                    mids.push((b.a, mid));
                    mids.len() - 1
                }
            };
            of_bracket.push(k);
        }
        if mids.is_empty() {
            break;
        }
        let settings: Vec<Setting> = mids.iter().map(|&m| vec![m]).collect();
        let mid_stats = plan.run_settings(&settings, opts, progress, stop)?;
        runs += (settings.len() * opts.replicas.max(1) as usize) as u64;
        for (b, &k) in brackets.iter_mut().filter(|b| !b.done).zip(&of_bracket) {
            let pass = mid_stats[k].verdicts[b.t].pass;
            let side = usize::from(pass != b.pass[0]);
            b.x[side] = mids[k].1;
            b.steps += 1;
        }
    }
    let mut flips: Vec<Flip> = brackets
        .iter()
        .map(|b| {
            let a = &list[b.a];
            Flip {
                target: base.verdicts[b.t].name,
                assumption: a.name.clone(),
                key: a.key.clone(),
                between: [a.approx(b.x[0], 4), a.approx(b.x[1], 4)],
                between_values: b.x,
                pass_at: b.pass,
                at: a.approx(a.between(b.x[0], b.x[1], 0.5), 3),
                steps: b.steps,
                measure: a.measure.clone(),
            }
        })
        .collect();
    let order = |t: Target| base.verdicts.iter().position(|v| v.name == t).unwrap_or(usize::MAX);
    flips.sort_by_key(|f| order(f.target));
    let global = if opts.worlds > 0 && !active.is_empty() {
        let g = global(plan, &active, opts, progress, stop)?;
        runs += u64::from(opts.worlds) * u64::from(opts.replicas.max(1));
        Some(g)
    } else {
        None
    };
    let k = opts.replicas.max(1);
    Ok(Report {
        format_version: FORMAT_VERSION,
        scenario: plan.base.name.clone(),
        scenario_file: plan.path.display().to_string(),
        scenario_sha256: text_sha256(&plan.text),
        assumptions_file: plan.assumptions.path.display().to_string(),
        replicas: k,
        seeds: [plan.base.seed, plan.base.seed.wrapping_add(u64::from(k) - 1)],
        bisect_steps: opts.bisect_steps,
        runs,
        base: targets_at(base),
        assumptions: active
            .iter()
            .enumerate()
            .map(|(j, &i)| {
                let a = &list[i];
                AssumptionResult {
                    name: a.name.clone(),
                    key: a.key.clone(),
                    base: plan.base_values[i].map(|b| a.show(b)),
                    low: a.show(a.low),
                    high: a.show(a.high),
                    source: a.source.clone(),
                    measure: a.measure.clone(),
                    at_low: targets_at(&stats[1 + 2 * j]),
                    at_high: targets_at(&stats[2 + 2 * j]),
                }
            })
            .collect(),
        skipped: list
            .iter()
            .zip(&plan.skipped)
            .filter_map(|(a, s)| {
                s.as_ref().map(|r| Skipped { name: a.name.clone(), key: a.key.clone(), reason: r.clone() })
            })
            .collect(),
        flips,
        global,
        varied: active.iter().map(|&i| list[i].name.clone()).collect(),
    })
}

fn global(
    plan: &Plan,
    active: &[usize],
    opts: &Options,
    progress: &dyn Progress,
    stop: &AtomicBool,
) -> Result<Global, SensitivityError> {
    let list = &plan.assumptions.list;
    let n = opts.worlds as usize;
    let columns = crate::sweep::design::latin_hypercube(n, active.len(), opts.sample_seed);
    let settings: Vec<Setting> = (0..n)
        .map(|w| {
            active
                .iter()
                .zip(&columns)
                .map(|(&i, col)| {
                    let a = &list[i];
                    // The value as written (rounded), so the number is the one simulated.
                    (i, a.rounded(a.between(a.low, a.high, col[w])))
                })
                .collect()
        })
        .collect();
    let stats = plan.run_settings(&settings, opts, progress, stop)?;
    let n_targets = stats.first().map_or(0, |s| s.verdicts.len());
    let mut targets = Vec::new();
    for t in 0..n_targets {
        let passing = stats.iter().filter(|s| s.verdicts[t].pass).count();
        let means: Vec<Option<f64>> = stats.iter().map(|s| s.verdicts[t].stat.map(|s| s.mean)).collect();
        let mut drivers: Vec<(String, f64)> = Vec::new();
        if means.iter().all(Option::is_some) {
            let ys: Vec<f64> = means.iter().map(|m| m.unwrap_or(0.0)).collect();
            for (j, &i) in active.iter().enumerate() {
                let xs: Vec<f64> = settings.iter().map(|s| s[j].1).collect();
                if let Some(rho) = spearman(&xs, &ys) {
                    drivers.push((list[i].name.clone(), rho));
                }
            }
        }
        // Only correlations that 40 or so worlds can tell from none: |rho| above the two-sided 5 %
        // critical value of a rank correlation under independence, about 1.96 / sqrt(n - 1).
        let critical = 1.959_964 / ((n.max(2) - 1) as f64).sqrt();
        drivers.retain(|d| d.1.abs() > critical);
        drivers.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
        drivers.truncate(3);
        targets.push(GlobalTarget {
            target: stats[0].verdicts[t].name,
            passing,
            probability: wilson(passing, n),
            drivers,
        });
    }
    let all_pass = stats.iter().filter(|s| s.all_pass).count();
    let rows = settings
        .iter()
        .zip(&stats)
        .map(|(s, st)| GlobalRow {
            values: s.iter().map(|&(i, x)| list[i].show(x)).collect(),
            means: st.verdicts.iter().map(|v| v.stat.map(|s| s.mean)).collect(),
            pass: st.verdicts.iter().map(|v| v.pass).collect(),
        })
        .collect();
    Ok(Global {
        worlds: opts.worlds,
        sample_seed: opts.sample_seed,
        targets,
        all_pass,
        all_pass_probability: wilson(all_pass, n),
        rows,
    })
}

/// Ranks of `xs` from 1, ties sharing their mean rank.
fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut r = vec![0.0; xs.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && xs[idx[j + 1]] == xs[idx[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = mean_rank;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation of `xs` and `ys` (Pearson's on their ranks); `None` when either
/// does not vary.
pub fn spearman(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let (rx, ry) = (ranks(xs), ranks(ys));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in rx.iter().zip(&ry) {
        let (dx, dy) = (x - mx, y - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// What a run's report says of the last sensitivity analysis of its scenario (`summary.json`'s
/// `sensitivity`, the "How sure is this?" section of `report.md`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Note {
    /// The `sensitivity.json` read.
    pub file: String,
    /// Whether it was of this scenario's text as it is now; if not, nothing else is given.
    pub current: bool,
    /// Replicas per setting.
    pub replicas: u32,
    /// Assumptions varied.
    pub assumptions: usize,
    /// Every value found at which a target's verdict turns.
    pub flips: Vec<Flip>,
    /// The share of plausible worlds meeting every target (the global variant), when run.
    pub all_pass: Option<Interval>,
}

impl Note {
    /// The note of `report` (read from `file`) for a run of a scenario whose text hashes to
    /// `scenario_sha256` ([`text_sha256`]).
    pub fn of(report: &Report, file: &Path, scenario_sha256: &str) -> Note {
        let current = report.scenario_sha256 == scenario_sha256;
        Note {
            file: file.display().to_string(),
            current,
            replicas: report.replicas,
            assumptions: report.assumptions.len(),
            flips: if current { report.flips.clone() } else { Vec::new() },
            all_pass: report.global.as_ref().filter(|_| current).map(|g| g.all_pass_probability),
        }
    }
}

/// Reads a `sensitivity.json`.
pub fn read_report(path: &Path) -> Result<Report, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let r: Report = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if r.format_version != FORMAT_VERSION {
        return Err(format!(
            "{}: format_version {} (this clipsim reads {FORMAT_VERSION}); rerun clipsim sensitivity",
            path.display(),
            r.format_version
        ));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_matches_hand_arithmetic() {
        // Perfectly monotone, either way; and a hand-computed case with a tie.
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 40.0, 90.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        // ranks x: 1, 2, 3, 4; y = [1, 3, 2, 2] ranks 1, 4, 2.5, 2.5: deviations (-1.5, -0.5, 0.5, 1.5)
        // and (-1.5, 1.5, 0, 0), so r = 1.5 / sqrt(5 × 4.5) = 0.316227766...
        let r = spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 2.0]).unwrap();
        assert!((r - 0.316_227_766).abs() < 1e-9, "{r}");
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(ranks(&[5.0, 1.0, 5.0]), vec![2.5, 1.0, 2.5]);
    }
}
