//! The miss-ratio curves as an SVG chart.

use super::Curves;
use crate::cache::Policy;

/// The curves as an SVG chart: miss ratio against cache size (share of unique bytes, log
/// scale when the sizes span more than a factor of 10).
pub fn to_svg(c: &Curves, title: &str) -> Result<String, String> {
    use crate::report::charts::TABLEAU10 as CURVE_COLORS;
    use plotters::prelude::*;
    let mut svg = String::new();
    if c.points.is_empty() {
        return Err("no points".into());
    }
    let x_min = c.points.iter().map(|p| p.share).fold(f64::INFINITY, f64::min).max(1e-9);
    let x_max = c.points.iter().map(|p| p.share).fold(0.0, f64::max).max(x_min * 1.01);
    let y_max = c.points.iter().map(|p| p.miss_ratio).fold(0.0, f64::max).min(1.0);
    let y_min = c.points.iter().map(|p| p.miss_ratio).fold(1.0, f64::min);
    let (y_lo, y_hi) = ((y_min - 0.05).max(0.0), (y_max + 0.05).min(1.0).max(y_min + 0.1));
    {
        let root = SVGBackend::with_string(&mut svg, (960, 520)).into_drawing_area();
        let e = |e: DrawingAreaErrorKind<_>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let log = x_max / x_min > 10.0;
        let mut policies: Vec<Policy> = Vec::new();
        for p in &c.points {
            if !policies.contains(&p.policy) {
                policies.push(p.policy);
            }
        }
        let unique = if c.ignore_obj_size {
            format!("{} unique objects", crate::report::format::count(c.unique))
        } else {
            format!("{} unique bytes, {:.2} GB", crate::report::format::count(c.unique), c.unique as f64 / 1e9)
        };
        let x_desc = format!("cache size, as a share of the trace's {unique}; the sizes simulated are marked");
        let share = |v: f64| {
            let pct = v * 100.0;
            if pct >= 10.0 {
                format!("{pct:.0}%")
            } else if pct >= 1.0 {
                format!("{pct:.1}%")
            } else {
                format!("{pct:.2}%")
            }
        };
        // The axis has no tick labels of its own: the marks of the sizes simulated label it (a
        // size given in bytes with its share), so there is one set of labels, where the points are.
        let fmt_x = |_: &f64| String::new();
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_labels(8)
                    .max_light_lines(1)
                    .x_desc(x_desc.as_str())
                    .y_desc("miss ratio (misses / requests)")
                    .x_label_formatter(&fmt_x)
                    .y_label_formatter(&|v| format!("{v:.2}"))
                    .draw()
                    .map_err(e)?;
                for (i, &pol) in policies.iter().enumerate() {
                    let pts: Vec<(f64, f64)> =
                        c.points.iter().filter(|p| p.policy == pol).map(|p| (p.share, p.miss_ratio)).collect();
                    if pol.is_offline() {
                        // Belady: the bound no policy can pass, dashed black, named as such.
                        chart
                            .draw_series(DashedLineSeries::new(pts.clone(), 7, 5, BLACK.stroke_width(2)))
                            .map_err(e)?
                            .label("belady (optimal bound)")
                            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
                        continue;
                    }
                    // Ten colours; the curves past the tenth are dashed, with square marks, so
                    // that no two curves look alike (there are 14 online policies).
                    let color = CURVE_COLORS[i % CURVE_COLORS.len()];
                    let style = color.stroke_width(2);
                    if i < CURVE_COLORS.len() {
                        chart
                            .draw_series(LineSeries::new(pts.clone(), style))
                            .map_err(e)?
                            .label(c.label(pol))
                            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
                        chart
                            .draw_series(pts.iter().map(|&(x, y)| Circle::new((x, y), 4, color.filled())))
                            .map_err(e)?;
                    } else {
                        chart
                            .draw_series(DashedLineSeries::new(pts.clone(), 4, 3, style))
                            .map_err(e)?
                            .label(c.label(pol))
                            .legend(move |(x, y)| {
                                EmptyElement::at((x, y))
                                    + PathElement::new(vec![(0, 0), (6, 0)], style)
                                    + PathElement::new(vec![(10, 0), (16, 0)], style)
                                    + Rectangle::new([(6, -3), (10, 3)], color.filled())
                            });
                        let mark =
                            |(x, y)| EmptyElement::at((x, y)) + Rectangle::new([(-4, -4), (4, 4)], color.filled());
                        chart.draw_series(pts.iter().map(|&p| mark(p))).map_err(e)?;
                    }
                }
                // The sizes asked for, marked along the bottom.
                let mut marked: Vec<f64> = Vec::new();
                for p in &c.points {
                    if marked.iter().any(|&m| (m - p.share).abs() <= 1e-12 * p.share.max(1.0)) {
                        continue;
                    }
                    marked.push(p.share);
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(p.share, y_lo), (p.share, y_hi)],
                            BLACK.mix(0.15).stroke_width(1),
                        )))
                        .map_err(e)?;
                    let label = if p.size_label.ends_with('%') {
                        p.size_label.clone()
                    } else {
                        format!("{} ({})", p.size_label, share(p.share))
                    };
                    chart
                        .draw_series(std::iter::once(Text::new(
                            label,
                            (p.share, y_lo + (y_hi - y_lo) * 0.02),
                            ("sans-serif", 13).into_font().color(&BLACK.mix(0.7)),
                        )))
                        .map_err(e)?;
                }
                chart
                    .configure_series_labels()
                    // Lower left: miss ratios fall with size, so curves rarely pass there.
                    .position(SeriesLabelPosition::LowerLeft)
                    .background_style(WHITE.mix(0.9))
                    .border_style(BLACK)
                    .draw()
                    .map_err(e)?;
            }};
        }
        let mut builder = ChartBuilder::on(&root);
        builder.caption(title, ("sans-serif", 22)).margin(16).x_label_area_size(48).y_label_area_size(64);
        if log {
            draw!(builder.build_cartesian_2d((x_min * 0.8..x_max * 1.25).log_scale(), y_lo..y_hi).map_err(e)?);
        } else {
            draw!(builder.build_cartesian_2d(0.0..x_max * 1.05, y_lo..y_hi).map_err(e)?);
        }
        root.present().map_err(e)?;
    }
    let desc = "One line per cache policy: the share of requests that miss the cache (y) at each cache size \
        (x, a share of the trace's unique bytes or objects). Lower is better; where a line flattens, a larger \
        cache buys little.";
    Ok(crate::report::charts::with_title(svg, title, desc))
}
