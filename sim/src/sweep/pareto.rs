//! The Pareto front of cost against P95 load time, and its chart.
//!
//! A point is on the front when no other point has a mean bill at most its own and a mean P95
//! load time at most its own, one of the two strictly lower. Bills compare exactly (summed
//! nanodollars; every point has the same replica count). Points without a P95 (nothing served)
//! are left out.

use super::aggregate::PointStats;
use crate::report::charts::{key_lines, legend_strip, with_title, Key, Look, KEY_LINE};
use plotters::prelude::*;

/// `on_front[i]` for `points[i]`.
pub fn front(points: &[PointStats]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..points.len()).filter(|&i| points[i].p95.is_some()).collect();
    let p95 = |i: usize| points[i].p95.map_or(f64::INFINITY, |s| s.mean);
    order.sort_by(|&a, &b| {
        points[a]
            .bill_sum_nanos
            .cmp(&points[b].bill_sum_nanos)
            .then(p95(a).total_cmp(&p95(b)))
            .then(points[a].index.cmp(&points[b].index))
    });
    let mut on = vec![false; points.len()];
    // Best P95 among strictly cheaper points; then, within one bill, the group's own best.
    let mut best_cheaper = f64::INFINITY;
    let mut g = 0;
    while g < order.len() {
        let bill = points[order[g]].bill_sum_nanos;
        let end = g + order[g..].iter().take_while(|&&i| points[i].bill_sum_nanos == bill).count();
        let group_best = p95(order[g]);
        for &i in &order[g..end] {
            on[i] = p95(i) < best_cheaper && p95(i) == group_best;
        }
        best_cheaper = best_cheaper.min(group_best);
        g = end;
    }
    on
}

const W: u32 = 960;
const H: u32 = 560;
const GREEN: RGBColor = RGBColor(44, 160, 44);
const RED: RGBColor = RGBColor(214, 39, 40);
const BLUE: RGBColor = RGBColor(31, 119, 180);

type Res = Result<(), Box<dyn std::error::Error>>;

/// What the chart shows.
pub struct ChartInput<'a> {
    /// The sweep's name.
    pub name: &'a str,
    /// Every point.
    pub points: &'a [PointStats],
    /// [`front`] of them.
    pub on_front: &'a [bool],
    /// Position in `points` of the recommended point.
    pub recommended: Option<usize>,
    /// The availability target, when the scenario has one.
    pub availability_target: Option<f64>,
}

/// The SVG, or `None` when no point has a P95 load time.
pub fn chart(input: &ChartInput) -> Option<String> {
    let mut svg = String::new();
    draw(input, &mut svg).ok()?;
    let title = format!("Sweep {}: bill against P95 load time", input.name);
    let desc = "Each circle is a point of the sweep (the mean over its replicas): further left is faster, lower is \
        cheaper. Filled circles meet every target, rings miss one; red rings miss the availability target. Circles \
        are translucent, so where several points coincide the colour is deeper. The blue steps join the Pareto \
        front (no other point is both cheaper and faster), with 95 % confidence bars; the large black ring is the \
        recommended point, the cheapest that meets every target.";
    (!svg.is_empty()).then(|| with_title(svg, &title, desc))
}

fn pad(lo: f64, hi: f64) -> (f64, f64) {
    let span = (hi - lo).max(hi.abs() * 0.02).max(1e-9);
    (lo - span * 0.08, hi + span * 0.12)
}

/// The extent of the points (and of the front's confidence intervals, which are drawn).
fn extent(input: &ChartInput, pts: &[(usize, f64, f64)]) -> ((f64, f64), (f64, f64)) {
    let (mut x, mut y) = ((f64::INFINITY, f64::NEG_INFINITY), (f64::INFINITY, f64::NEG_INFINITY));
    let grow = |r: &mut (f64, f64), v: f64| *r = (r.0.min(v), r.1.max(v));
    for &(i, px, py) in pts {
        grow(&mut x, px);
        grow(&mut y, py);
        if input.on_front[i] {
            let p = &input.points[i];
            if let Some((lo, hi)) = p.p95.and_then(|s| s.ci95) {
                grow(&mut x, lo);
                grow(&mut x, hi);
            }
            if let Some((lo, hi)) = p.bill.ci95 {
                grow(&mut y, lo);
                grow(&mut y, hi);
            }
        }
    }
    (pad(x.0, x.1), pad(y.0, y.1))
}

fn draw(input: &ChartInput, svg: &mut String) -> Res {
    let pts: Vec<(usize, f64, f64)> =
        input.points.iter().enumerate().filter_map(|(i, p)| p.p95.map(|s| (i, s.mean, p.bill.mean))).collect();
    if pts.is_empty() {
        return Err("no data".into());
    }
    let ((x_lo, x_hi), (y_lo, y_hi)) = extent(input, &pts);
    let avail = input.availability_target.map_or(String::new(), |t| format!(" {}", fmt_pct(t)));
    let mut keys = vec![
        Key::new("Pareto front (#point, 95 % CI bars)", BLUE, Look::Line(3)),
        Key::new("meets every target", GREEN, Look::Dot),
        Key::new("misses a target", GREEN, Look::Ring),
    ];
    if input.availability_target.is_some() {
        keys.push(Key::new(format!("misses availability{avail}"), RED, Look::Ring));
    }
    if input.recommended.is_some() {
        keys.push(Key::new("recommended", BLACK, Look::Ring));
    }
    let strip_h = key_lines(&keys) * KEY_LINE as u32 + 8;
    let root = SVGBackend::with_string(svg, (W, H + strip_h)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, strip) = root.split_vertically(H);
    let mut chart = ChartBuilder::on(&top)
        .caption(format!("Sweep {}: bill against P95 load time ({} points)", input.name, pts.len()), ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(88)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    chart
        .configure_mesh()
        .x_desc("P95 load time, mean over replicas (ms)")
        .y_desc("bill for the simulated period, mean (USD)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("${v:.2}"))
        .draw()?;
    let meets_avail = |p: &PointStats| match input.availability_target {
        Some(t) => p.availability.is_some_and(|a| a.mean >= t),
        None => true,
    };
    let colour = |p: &PointStats| if meets_avail(p) { GREEN } else { RED };
    // The front as a step line, cheapest first.
    let mut front_pts: Vec<(f64, f64)> =
        pts.iter().filter(|(i, _, _)| input.on_front[*i]).map(|&(_, x, y)| (x, y)).collect();
    front_pts.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.0.total_cmp(&a.0)));
    let mut steps = Vec::new();
    for w in front_pts.windows(2) {
        steps.push(w[0]);
        steps.push((w[1].0, w[0].1));
    }
    if let Some(&last) = front_pts.last() {
        steps.push(last);
    }
    chart.draw_series(std::iter::once(PathElement::new(steps, BLUE.stroke_width(2))))?;
    // Confidence intervals of the front points (bill vertical, P95 horizontal).
    for &(i, x, y) in pts.iter().filter(|(i, _, _)| input.on_front[*i]) {
        let p = &input.points[i];
        if let Some((lo, hi)) = p.bill.ci95 {
            chart.draw_series(std::iter::once(PathElement::new(vec![(x, lo), (x, hi)], BLUE.mix(0.6))))?;
        }
        if let Some((lo, hi)) = p.p95.and_then(|s| s.ci95) {
            chart.draw_series(std::iter::once(PathElement::new(vec![(lo, y), (hi, y)], BLUE.mix(0.6))))?;
        }
    }
    // Points: filled when they meet every target, rings when not; the front larger. Both are
    // translucent, so points that coincide (many, at 180 points) show as a deeper colour.
    for &(i, x, y) in &pts {
        let p = &input.points[i];
        let (c, r) = (colour(p), if input.on_front[i] { 6 } else { 4 });
        if p.all_pass {
            chart.draw_series(std::iter::once(Circle::new((x, y), r, c.mix(0.35).filled())))?;
        }
        chart.draw_series(std::iter::once(Circle::new((x, y), r, c.mix(0.6).stroke_width(2))))?;
    }
    // One label per place on the front: points that coincide share it ("#12, #14").
    let mut labels: Vec<((f64, f64), Vec<usize>)> = Vec::new();
    for &(i, x, y) in pts.iter().filter(|(i, _, _)| input.on_front[*i]) {
        match labels.iter_mut().find(|(at, _)| *at == (x, y)) {
            Some((_, ix)) => ix.push(input.points[i].index),
            None => labels.push(((x, y), vec![input.points[i].index])),
        }
    }
    for ((x, y), ix) in labels {
        let shown: Vec<String> = ix.iter().take(4).map(|i| format!("#{i}")).collect();
        let more = if ix.len() > 4 { format!(" +{}", ix.len() - 4) } else { String::new() };
        let style = ("sans-serif", 13).into_font().color(&BLACK).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Bottom,
        ));
        chart.draw_series(std::iter::once(Text::new(format!(" {}{more}", shown.join(", ")), (x, y), style)))?;
    }
    if let Some(r) = input.recommended {
        if let Some(s) = input.points[r].p95 {
            let (x, y) = (s.mean, input.points[r].bill.mean);
            chart.draw_series(std::iter::once(Circle::new((x, y), 11, BLACK.stroke_width(2))))?;
        }
    }
    legend_strip(&strip, &keys)?;
    root.present()?;
    Ok(())
}

fn fmt_pct(x: f64) -> String {
    let s = format!("{:.4}", x * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("≥ {s} %")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::aggregate::Stat;

    fn p(index: usize, bill: i128, p95: f64) -> PointStats {
        let s = |m| Some(Stat { mean: m, ci95: None });
        PointStats {
            index,
            assignment: vec![],
            replicas: 1,
            bill_sum_nanos: bill,
            bill: Stat { mean: bill as f64 / 1e9, ci95: None },
            cost_per_gb: None,
            p50: None,
            p95: s(p95),
            availability: s(1.0),
            cdn_hit: None,
            mirror_hit: None,
            top100_hit: None,
            verdicts: vec![],
            all_pass: true,
            nearly: false,
            build: String::new(),
        }
    }

    #[test]
    fn front_keeps_only_undominated_points() {
        let pts =
            vec![p(0, 10, 500.0), p(1, 20, 400.0), p(2, 20, 450.0), p(3, 30, 400.0), p(4, 5, 900.0), p(5, 5, 900.0)];
        // 2 is beaten by 1 (same bill, lower P95); 3 by 1 (cheaper, same P95); 4 and 5 tie.
        assert_eq!(front(&pts), vec![true, true, false, false, true, true]);
        let svg = chart(&ChartInput {
            name: "t",
            points: &pts,
            on_front: &front(&pts),
            recommended: Some(0),
            availability_target: Some(0.9999),
        })
        .unwrap();
        assert!(svg.contains("P95 load time") && svg.contains("#0") && svg.contains("recommended"));
        assert!(svg.contains("#4, #5"), "coinciding front points share a label");
    }
}
