//! SVG charts with plotters. Text is emitted as SVG `<text>` (no font files needed); every
//! chart has a title, labelled axes with units, and a legend.

use crate::world::RunResult;
use clipsim_engine::{Category, Health, MoneyNanos, SimTime};
use plotters::prelude::*;

/// One chart file.
pub struct Chart {
    /// Path inside the report directory.
    pub file: String,
    /// Caption for the report.
    pub caption: String,
    /// The SVG.
    pub svg: String,
}

const W: u32 = 960;
const H: u32 = 520;
/// The series colours of every chart (the mrc chart's too).
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

type Res = Result<(), Box<dyn std::error::Error>>;

/// Every chart of a run. A chart that cannot be drawn (no data) is left out.
pub fn all(r: &RunResult) -> Vec<Chart> {
    let mut out = Vec::new();
    let mut add = |file: &str, caption: &str, draw: &dyn Fn(&mut String) -> Res| {
        let mut svg = String::new();
        if draw(&mut svg).is_ok() && !svg.is_empty() {
            out.push(Chart { file: file.into(), caption: caption.into(), svg });
        }
    };
    add("charts/latency_cdf.svg", "Video load time by viewer geography (CDF)", &|s| latency_cdf(r, s));
    add("charts/hit_rates.svg", "Hit rates over time", &|s| hit_rates(r, s));
    add("charts/cost_by_day.svg", "Cost by category per day", &|s| cost_by_day(r, s));
    add("charts/outages.svg", "Availability, outages and believed health", &|s| outages(r, s));
    out
}

/// The time axis of a run's charts, in the largest unit that gives at least two of them over the
/// run: days, hours, minutes or seconds (a one-day run in days would have ticks at 0.2, 0.4, ...).
#[derive(Clone, Copy)]
struct TimeAxis {
    secs_per_unit: f64,
    unit: &'static str,
}

impl TimeAxis {
    fn of(r: &RunResult) -> Self {
        let span_s = r.end.as_secs_f64();
        let (secs_per_unit, unit) = if span_s >= 2.0 * 86_400.0 {
            (86_400.0, "days")
        } else if span_s >= 2.0 * 3_600.0 {
            (3_600.0, "hours")
        } else if span_s >= 120.0 {
            (60.0, "minutes")
        } else {
            (1.0, "seconds")
        };
        TimeAxis { secs_per_unit, unit }
    }

    /// Where simulated time `t` falls on the axis.
    fn at(self, t: SimTime) -> f64 {
        t.as_secs_f64() / self.secs_per_unit
    }

    fn desc(self) -> String {
        format!("simulated time ({})", self.unit)
    }
}

/// A tick value with as many decimals as it needs, up to two: `0`, `0.5`, `12`, `2.25`.
fn tick(v: &f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// A tick label only at whole numbers (days of a bar chart), empty elsewhere.
fn whole_tick(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        String::new()
    }
}

fn latency_cdf(r: &RunResult, svg: &mut String) -> Res {
    let rec = &r.recorder;
    if rec.latency.is_empty() {
        return Err("no data".into());
    }
    let x_max = (rec.latency.value_at_quantile(0.999) as f64 / 1000.0 * 1.1).max(10.0);
    let root = SVGBackend::with_string(svg, (W, H)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Video load time by viewer geography", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..x_max, 0f64..1.0)?;
    chart
        .configure_mesh()
        .x_desc("load time (ms)")
        .y_desc("share of served requests at or below")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .draw()?;
    let series: Vec<(String, &hdrhistogram::Histogram<u64>)> = r
        .scenario
        .geos
        .iter()
        .cloned()
        .zip(rec.latency_geo.iter())
        .chain(std::iter::once(("all".to_string(), &rec.latency)))
        .collect();
    for (i, (name, h)) in series.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        let mut pts = vec![(0.0, 0.0)];
        let total = h.len() as f64;
        let mut acc = 0u64;
        for v in h.iter_recorded() {
            acc += v.count_at_value();
            pts.push((v.value_iterated_to() as f64 / 1000.0, acc as f64 / total));
        }
        pts.push((x_max, 1.0));
        let c = if name == "all" { BLACK } else { color(i) };
        let width = if name == "all" { 3 } else { 2 };
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(width)))?
            .label(format!("{name} (P50 {:.0} ms)", h.value_at_quantile(0.5) as f64 / 1000.0))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(width)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn hit_rates(r: &RunResult, svg: &mut String) -> Res {
    let rows = &r.recorder.rows;
    if rows.is_empty() {
        return Err("no data".into());
    }
    let axis = TimeAxis::of(r);
    let x_max = axis.at(r.end).max(1e-3);
    let root = SVGBackend::with_string(svg, (W, H + 40)).into_drawing_area();
    root.fill(&WHITE)?;
    // The legend gets its own strip under the chart, so it never hides a line.
    let (top, strip) = root.split_vertically(H);
    let mut chart = ChartBuilder::on(&top)
        .caption("Hit rates per report interval", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..x_max, 0f64..1.0)?;
    chart
        .configure_mesh()
        .x_desc(axis.desc())
        .y_desc("hit rate")
        .x_label_formatter(&tick)
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .draw()?;
    let warm = axis.at(SimTime::ZERO + r.scenario.warmup);
    if warm > 0.0 {
        chart.draw_series(std::iter::once(Rectangle::new([(0.0, 0.0), (warm, 1.0)], BLACK.mix(0.06).filled())))?;
    }
    type Rate = fn(&crate::record::Counts) -> Option<f64>;
    let series: [(&str, Rate); 2] = [
        ("CDN edge hit rate (cdn_cache_hit_rate)", |c| c.cdn_hit_rate()),
        ("mirror hit rate of origin fetches (mirror_hit_rate)", |c| c.mirror_hit_rate()),
    ];
    let mut legend = Vec::new();
    for (i, (name, f)) in series.iter().enumerate() {
        let pts: Vec<(f64, f64)> =
            rows.iter().filter_map(|row| f(&row.counts).map(|v| (axis.at(row.end), v))).collect();
        if pts.is_empty() {
            continue;
        }
        chart.draw_series(LineSeries::new(pts, color(i).stroke_width(2)))?;
        legend.push((name.to_string(), color(i), false));
    }
    if legend.is_empty() {
        // No interval had a rate (no request reached an edge or an origin): no chart.
        return Err("no data".into());
    }
    if warm > 0.0 {
        legend.push(("warm-up (not counted)".to_string(), RGBColor(220, 220, 220), true));
    }
    legend_strip(&strip, &legend)?;
    root.present()?;
    Ok(())
}

/// Draws a one-line legend across `area`: a line (or a box when `filled`) and a label per item.
fn legend_strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    items: &[(String, RGBColor, bool)],
) -> Res
where
    DB::ErrorType: 'static,
{
    let mut x = 64;
    let y = 16;
    for (label, c, filled) in items {
        if *filled {
            area.draw(&Rectangle::new([(x, y - 6), (x + 24, y + 6)], c.filled()))?;
        } else {
            area.draw(&PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)))?;
        }
        area.draw(&Text::new(label.clone(), (x + 30, y - 7), ("sans-serif", 14).into_font()))?;
        x += 44 + (label.len() as i32) * 13 / 2;
    }
    Ok(())
}

fn cost_by_day(r: &RunResult, svg: &mut String) -> Res {
    let rows = &r.recorder.rows;
    let day_us = 86_400_000_000u64;
    let n_days = r.end.as_micros().div_ceil(day_us) as usize;
    if rows.is_empty() || n_days == 0 {
        return Err("no data".into());
    }
    // Cumulative cost at the end of each day: the last row at or before the day's end.
    let mut per_day = vec![[0i64; 5]; n_days];
    let mut prev = [0i64; 5];
    let mut row_i = 0;
    for (d, slot) in per_day.iter_mut().enumerate() {
        let day_end = (d as u64 + 1) * day_us;
        let mut cum = prev;
        while row_i < rows.len() && rows[row_i].end.as_micros() <= day_end {
            cum = rows[row_i].cost_to_date.map(|m| m.0);
            row_i += 1;
        }
        for k in 0..5 {
            slot[k] = cum[k] - prev[k];
        }
        prev = cum;
    }
    // Head room above the tallest bar for the legend.
    let y_max = per_day.iter().map(|d| d.iter().sum::<i64>()).max().unwrap_or(0) as f64 / 1e9 * 1.6;
    let root = SVGBackend::with_string(svg, (W, H)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Cost per simulated day, by category", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(0f64..n_days as f64, 0f64..y_max.max(0.01))?;
    chart
        .configure_mesh()
        .x_desc("simulated day")
        .y_desc("cost (USD per day)")
        .x_label_formatter(&whole_tick)
        .y_label_formatter(&|v| format!("${v:.2}"))
        .draw()?;
    for (k, cat) in Category::ALL.iter().enumerate() {
        let c = color(k);
        let bars: Vec<Rectangle<(f64, f64)>> = per_day
            .iter()
            .enumerate()
            .map(|(d, costs)| {
                let below: i64 = costs[..k].iter().sum();
                let y0 = below as f64 / 1e9;
                let y1 = (below + costs[k]) as f64 / 1e9;
                Rectangle::new([(d as f64 + 0.1, y0), (d as f64 + 0.9, y1)], c.filled())
            })
            .collect();
        let total: MoneyNanos = MoneyNanos(per_day.iter().map(|d| d[k]).sum());
        chart
            .draw_series(bars)?
            .label(format!("{} (${:.2} in all)", cat.name(), total.as_usd_f64()))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn outages(r: &RunResult, svg: &mut String) -> Res {
    let rows = &r.recorder.rows;
    if rows.is_empty() {
        return Err("no data".into());
    }
    let sc = &r.scenario;
    let axis = TimeAxis::of(r);
    let x_max = axis.at(r.end).max(1e-3);
    let lanes = sc.engine.regions.len() + usize::from(sc.cdn.is_some());
    // Under the chart, a 40-pixel lane per target and room for the lanes' tick labels and caption.
    let root = SVGBackend::with_string(svg, (W, H + 40 * lanes as u32 + 20)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(H);
    let min_avail = rows.iter().filter_map(|r| r.counts.availability()).fold(1.0f64, f64::min);
    let y_lo = (min_avail - (1.0 - min_avail) * 0.1).clamp(0.0, 0.999);
    let y_hi = 1.0 + (1.0 - y_lo) * 0.03;
    let mut chart = ChartBuilder::on(&top)
        .caption("Availability per report interval, with outages", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..x_max, y_lo..y_hi)?;
    chart
        .configure_mesh()
        .x_desc(axis.desc())
        .y_desc("share of requests served")
        .x_label_formatter(&tick)
        .y_label_formatter(&|v| format!("{:.3}%", v * 100.0))
        .draw()?;
    let red = RGBColor(214, 39, 40);
    chart
        .draw_series(sc.outages.iter().map(|o| {
            Rectangle::new([(axis.at(o.start), y_lo), (axis.at(o.end).min(x_max), y_hi)], red.mix(0.15).filled())
        }))?
        .label("outage (ground truth)")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], red.mix(0.3).filled()));
    let pts: Vec<(f64, f64)> =
        rows.iter().filter_map(|row| row.counts.availability().map(|a| (axis.at(row.end), a))).collect();
    let blue = color(0);
    chart
        .draw_series(LineSeries::new(pts, blue.stroke_width(2)))?
        .label("availability")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;

    // Health lanes: what the engine believed, per region (and the CDN).
    let mut lane_chart = ChartBuilder::on(&bottom)
        .margin_left(16)
        .margin_right(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..x_max, 0f64..lanes as f64)?;
    let names: Vec<String> = sc
        .engine
        .regions
        .iter()
        .map(|r| r.name.clone())
        .chain(sc.cdn.as_ref().map(|c| format!("cdn:{}", c.name)))
        .collect();
    let names_for_fmt = names.clone();
    lane_chart
        .configure_mesh()
        .disable_mesh()
        .y_labels(lanes * 2 + 1)
        .y_label_formatter(&move |v| {
            let i = (*v - 0.5).round();
            if (v - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names_for_fmt.len() {
                names_for_fmt[names_for_fmt.len() - 1 - i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_desc("believed health: green healthy, orange degraded, red unhealthy")
        .x_label_formatter(&tick)
        .draw()?;
    let health_color = |h: Health| match h {
        Health::Healthy => RGBColor(44, 160, 44),
        Health::Degraded => RGBColor(255, 127, 14),
        Health::Unhealthy => RGBColor(214, 39, 40),
    };
    let mut prev_end = 0.0;
    for row in rows {
        let x1 = axis.at(row.end);
        for lane in 0..lanes {
            let h = if lane < sc.engine.regions.len() {
                row.region_health[lane]
            } else {
                row.cdn_health.unwrap_or(Health::Healthy)
            };
            let y = (lanes - 1 - lane) as f64;
            lane_chart.draw_series(std::iter::once(Rectangle::new(
                [(prev_end, y + 0.15), (x1, y + 0.85)],
                health_color(h).filled(),
            )))?;
        }
        prev_end = x1;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_show_the_decimals_they_need() {
        let shown: Vec<String> = [0.0, 0.5, 0.25, 1.0, 12.0, 100.0, 2.375, -0.0001].iter().map(tick).collect();
        assert_eq!(shown, ["0", "0.5", "0.25", "1", "12", "100", "2.38", "0"]);
        let whole: Vec<String> = [0.0, 0.5, 3.0, 2.9999999999].iter().map(whole_tick).collect();
        assert_eq!(whole, ["0", "", "3", "3"]);
    }
}
