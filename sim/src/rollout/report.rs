//! `report.md`'s "Rollout" section, from [`super::analysis`]'s figures.

use super::analysis::{ArmSummary, RolloutSummary, BATCH_MIN};
use crate::report::summary::Interval;

/// `report.md`'s "Rollout" section.
pub fn section(r: &RolloutSummary) -> String {
    use crate::report::format::{count, fixed, ms, or_na, usd};
    use std::fmt::Write as _;
    let day = |s: f64| {
        if s % 86_400.0 == 0.0 {
            format!("day {}", fixed(s / 86_400.0, 0))
        } else {
            format!("{} h", fixed(s / 3600.0, 0))
        }
    };
    let iv = |v: Option<Interval>, show: &dyn Fn(f64) -> String| match v {
        None => "n/a".to_string(),
        Some(Interval { mean, ci95: None }) => show(mean),
        Some(Interval { mean, ci95: Some([lo, hi]) }) => format!("{} ({} to {})", show(mean), show(lo), show(hi)),
    };
    let signed_ms = |x: f64| format!("{}{} ms", if x > 0.0 { "+" } else { "" }, fixed(x, 0));
    let points = |x: f64| format!("{}{} pp", if x > 0.0 { "+" } else { "" }, fixed(x * 100.0, 3));
    let signed_usd = |x: f64| format!("{}{}", if x > 0.0 { "+" } else { "" }, usd(x));
    let arm = |a: &ArmSummary| {
        if a.requests == 0 {
            "none".to_string()
        } else {
            format!("{} / {} ({} views)", or_na(a.p50_ms, ms), or_na(a.p95_ms, ms), count(a.requests))
        }
    };
    let mut o = String::from("## Rollout\n\n");
    let _ = writeln!(
        o,
        "The design for a growing share of the {} (`[rollout]`), beside a control arm served as before the design: \
         from each clip's primary region, directly, no CDN, no mirror. Changes are treatment minus control over the stage; \
         for load times, a 95 % interval from the spread of the report intervals' paired differences (Student's, over \
         the intervals in which each arm served at least {BATCH_MIN} views); for availability, Newcombe's interval \
         (views taken as independent). *Detectable*: the \
         smallest P50 change the stage could detect (5 %, two-sided, power 80 %). *Cost*: the stage's bill in this \
         run against a twin run on the same seed without the design (everyone in the control arm, no mirroring); its \
         interval is the spread of the hourly differences, not a sampling error.\n",
        r.unit
    );
    let _ = writeln!(
        o,
        "| stage | share | span | control P50 / P95 | treatment P50 / P95 | P50 change | P95 change | availability change | detectable P50 change | cost, against without the design |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for (i, s) in r.stages.iter().enumerate() {
        let cost = match (s.cost_usd, s.cost_without_usd) {
            (Some(with), Some(without)) => {
                format!("{} against {}: {}", usd(with), usd(without), iv(s.cost_diff_usd, &signed_usd))
            }
            _ => "n/a".into(),
        };
        let _ = writeln!(
            o,
            "| {} | {} % | {} to {} | {} | {} | {} | {} | {} | {} | {} |",
            i + 1,
            fixed(s.share * 100.0, 0),
            day(s.start_s),
            day(s.end_s),
            arm(&s.control),
            arm(&s.treatment),
            iv(s.p50_diff_ms, &signed_ms),
            iv(s.p95_diff_ms, &signed_ms),
            iv(s.availability_diff, &points),
            or_na(s.p50_detectable_ms, ms),
            cost,
        );
    }
    let _ = writeln!(o);
    for (i, s) in r.stages.iter().enumerate() {
        let Some(Interval { mean, ci95: Some([lo, hi]) }) = s.p50_diff_ms else { continue };
        let verdict = if hi < 0.0 {
            "faster with the design: the interval excludes zero"
        } else if lo > 0.0 {
            "slower with the design: the interval excludes zero"
        } else {
            "no P50 change detected: the interval includes zero"
        };
        let _ = writeln!(
            o,
            "- Stage {}: P50 {} ({verdict}); it could detect a change of {} or more in {} intervals.",
            i + 1,
            signed_ms(mean),
            or_na(s.p50_detectable_ms, ms),
            s.batches
        );
    }
    let _ = writeln!(o);
    o
}
