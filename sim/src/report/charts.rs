//! SVG charts with plotters. Text is emitted as SVG `<text>` (no font files needed); every
//! chart has a title, labelled axes with units, a legend, and a `<title>` and `<desc>` (its
//! caption and what to read from it) for screen readers and for the HTML report's figures.

use super::format;
use crate::record::timeline::Event;
use crate::world::RunResult;
use clipsim_engine::{Category, Health, MoneyNanos, SimTime};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor;

/// One chart file.
pub struct Chart {
    /// Path inside the report directory.
    pub file: String,
    /// Caption for the report.
    pub caption: String,
    /// What to read from it, in a sentence or three.
    pub read: String,
    /// The SVG.
    pub svg: String,
}

/// `svg` with a `<title>` and `<desc>` as the first children of its root element.
pub(crate) fn with_title(svg: String, title: &str, desc: &str) -> String {
    let Some(open) = svg.find("<svg").and_then(|i| svg[i..].find('>').map(|j| i + j + 1)) else {
        return svg;
    };
    let e = super::html::escape;
    format!("{}\n<title>{}</title>\n<desc>{}</desc>{}", &svg[..open], e(title), e(desc), &svg[open..])
}

const W: u32 = 960;
const H: u32 = 520;
/// Tableau's ten colours: the mrc chart's curves.
pub(crate) const TABLEAU10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// The series colours of every other chart: the first eight.
pub(crate) const PALETTE: &[RGBColor] = TABLEAU10.split_at(8).0;

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

type Res = Result<(), Box<dyn std::error::Error>>;

/// Every chart of a run. A chart that cannot be drawn (no data) is left out.
pub fn all(r: &RunResult) -> Vec<Chart> {
    let mut out = Vec::new();
    let mut add = |file: &str, caption: &str, read: String, draw: &dyn Fn(&mut String) -> Res| {
        let mut svg = String::new();
        if draw(&mut svg).is_ok() && !svg.is_empty() {
            let svg = with_title(svg, caption, &read);
            out.push(Chart { file: file.into(), caption: caption.into(), read, svg });
        }
    };
    let t = &r.scenario.targets;
    let pct = |x: f64| format::percent(x, 2);
    let mut read = "Read across at 50 % and 95 %: where a line gets there is that geography's P50 or P95 \
        load time; the further left and the steeper, the faster."
        .to_string();
    let corners: Vec<String> = [("P50", t.p50_load_ms, "50 %"), ("P95", t.p95_load_ms, "95 %")]
        .iter()
        .filter_map(|(q, v, at)| v.map(|v| format!("the {q} target ({} at {at})", format::ms(v))))
        .collect();
    if !corners.is_empty() {
        read += &format!(
            " The dashed corners are {}: the black line (every geography) meets a target when it passes above and left of its corner.",
            corners.join(" and ")
        );
    }
    add("charts/latency_cdf.svg", "Video load time by viewer geography (CDF)", read, &|s| latency_cdf(r, s));
    let mut read = "The CDN edge hit rate is the share of requests the edge served from its cache; the mirror hit \
        rate the share of origin fetches a mirror answered, per report interval. The thick line is the mirror \
        hit rate of the 100 most-viewed clips counted from the end of the warm-up to that time: where it ends is \
        the run's figure."
        .to_string();
    if let Some(v) = t.top100_mirror_hit_rate {
        read += &format!(" It meets its target when it ends on or above the dashed {} line.", pct(v));
    }
    add("charts/hit_rates.svg", "Hit rates over time", read, &|s| hit_rates(r, s));
    let mut read = "Above: each category's cost per simulated day, on a logarithmic scale so that the small ones \
        show, and the daily total in black."
        .to_string();
    if r.scenario.expected.as_ref().is_some_and(|e| e.total_nanos.is_some()) {
        read += " The dashed line is the estimate's monthly total spread evenly over the days of a billing month.";
    }
    read += " Below: what each day cost per GB delivered, and the same to date (thick), whose end is the run's figure";
    read += &match t.cost_per_gb_nanos {
        Some(n) => format!(
            "; it meets the target when it ends on or below the dashed {} line.",
            format::usd_per_unit(n as f64 / 1e9)
        ),
        None => ".".into(),
    };
    add("charts/cost_by_day.svg", "Cost by category per day", read, &|s| cost_by_day(r, s));
    let read = "Mirrors in force at the end of each report interval: active (serving, holding storage) and \
        pending (ordered, copy in flight). With lifetime view counts the active line grows as more clips cross \
        the replication threshold. A sharp dip is a batch of mirrors made together whose TTL ran out together: \
        their clips are served by the primary until the cleanup deletes the expired records and the next sync \
        mirrors them again (mirror.refresh_ttl_on_sync keeps them instead)."
        .to_string();
    add("charts/mirrors.svg", "Mirrors over time", read, &|s| mirrors(r, s));
    let mut read = "The line is the share of requests served in each report interval; shaded spans are the \
        outages as they happened. The lanes below show what the engine believed about each region's (and the \
        CDN's) health: a thin green bar healthy, a half-height orange bar degraded, a full-height red block \
        unhealthy."
        .to_string();
    if let Some(v) = t.availability {
        read += &format!(
            " The dashed line is the availability target ({}), which the whole run's share is judged against.",
            format::percent(v, 4)
        );
    }
    add("charts/outages.svg", "Availability, outages and believed health", read, &|s| outages(r, s));
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

/// A dashed line through `pts`, in chart coordinates.
fn dashed<C: Copy>(pts: Vec<(C, f64)>, style: ShapeStyle) -> DashedLineSeries<std::vec::IntoIter<(C, f64)>, i32> {
    DashedLineSeries::new(pts, 7, 5, style)
}

/// The grey of target lines and their labels.
const TARGET: RGBColor = RGBColor(60, 60, 60);

/// One legend entry: a label and how its series is drawn.
pub(crate) struct Key {
    label: String,
    color: RGBColor,
    look: Look,
}

/// How a legend entry is drawn.
#[derive(Clone, Copy)]
pub(crate) enum Look {
    /// A line this wide.
    Line(u32),
    /// A dashed line.
    Dashed,
    /// A filled box.
    Box,
    /// A filled circle.
    Dot,
    /// A ring.
    Ring,
}

impl Key {
    pub(crate) fn new(label: impl Into<String>, color: RGBColor, look: Look) -> Self {
        Key { label: label.into(), color, look }
    }
}

/// Height of one legend line under a chart.
pub(crate) const KEY_LINE: i32 = 22;

/// How many legend lines `keys` take across a chart's width.
pub(crate) fn key_lines(keys: &[Key]) -> u32 {
    key_layout(keys).last().map_or(0, |&(_, y)| (y / KEY_LINE + 1) as u32)
}

/// Where each legend entry goes: entries flow left to right and wrap.
fn key_layout(keys: &[Key]) -> Vec<(i32, i32)> {
    let (mut x, mut y) = (64, 0);
    keys.iter()
        .map(|k| {
            let w = 44 + k.label.chars().count() as i32 * 7;
            if x + w > W as i32 - 16 && x > 64 {
                (x, y) = (64, y + KEY_LINE);
            }
            let at = (x, y);
            x += w;
            at
        })
        .collect()
}

/// Draws the legend under a chart: the entries flow across `area` and wrap.
pub(crate) fn legend_strip<DB: DrawingBackend>(area: &DrawingArea<DB, plotters::coord::Shift>, keys: &[Key]) -> Res
where
    DB::ErrorType: 'static,
{
    for (k, (x, y)) in keys.iter().zip(key_layout(keys)) {
        let y = y + 12;
        match k.look {
            Look::Box => area.draw(&Rectangle::new([(x, y - 6), (x + 24, y + 6)], k.color.filled()))?,
            Look::Dot => area.draw(&Circle::new((x + 12, y), 6, k.color.filled()))?,
            Look::Ring => area.draw(&Circle::new((x + 12, y), 6, k.color.stroke_width(2)))?,
            Look::Line(w) => area.draw(&PathElement::new(vec![(x, y), (x + 24, y)], k.color.stroke_width(w)))?,
            Look::Dashed => {
                area.draw(&PathElement::new(vec![(x, y), (x + 9, y)], k.color.stroke_width(2)))?;
                area.draw(&PathElement::new(vec![(x + 15, y), (x + 24, y)], k.color.stroke_width(2)))?;
            }
        }
        area.draw(&Text::new(k.label.clone(), (x + 30, y - 7), ("sans-serif", 14).into_font()))?;
    }
    Ok(())
}

/// When price changes, viral spikes and health flips happened, on a chart's time axis.
struct Markers {
    price: Vec<f64>,
    spike: Vec<f64>,
    health: Vec<f64>,
}

const PRICE: RGBColor = RGBColor(148, 103, 189);
const SPIKE: RGBColor = RGBColor(227, 119, 194);
const FLIP: RGBColor = RGBColor(90, 90, 90);

impl Markers {
    fn of(r: &RunResult, axis: TimeAxis) -> Self {
        let mut m = Markers { price: Vec::new(), spike: Vec::new(), health: Vec::new() };
        for e in &r.recorder.timeline {
            let at = axis.at(e.at);
            match e.event {
                Event::PriceChange(_) => m.price.push(at),
                Event::SpikeStartsOnNewClip { .. } | Event::SpikeStartsOnCatalogClip { .. } => m.spike.push(at),
                Event::HealthChanged { .. } => m.health.push(at),
                _ => {}
            }
        }
        m
    }

    /// Vertical lines for price changes (dashed) and spikes (dotted), ticks along the top for
    /// health flips, each labelled in words at the top.
    fn draw<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        (y_lo, y_hi): (f64, f64),
    ) -> Res
    where
        DB::ErrorType: 'static,
    {
        let label_font = ("sans-serif", 12).into_font();
        for &x in &self.price {
            chart.draw_series(dashed(vec![(x, y_lo), (x, y_hi)], PRICE.stroke_width(2)))?;
            chart.draw_series(std::iter::once(Text::new(" price change", (x, y_hi), label_font.color(&PRICE))))?;
        }
        for &x in &self.spike {
            chart.draw_series(DashedLineSeries::new(vec![(x, y_lo), (x, y_hi)], 2, 4, SPIKE.stroke_width(2)))?;
            chart.draw_series(std::iter::once(Text::new(" spike", (x, y_hi), label_font.color(&SPIKE))))?;
        }
        let tick = (y_hi - y_lo) * 0.025;
        chart.draw_series(
            self.health.iter().map(|&x| PathElement::new(vec![(x, y_hi), (x, y_hi - tick)], FLIP.stroke_width(2))),
        )?;
        Ok(())
    }

    fn keys(&self) -> Vec<Key> {
        let mut k = Vec::new();
        if !self.price.is_empty() {
            k.push(Key::new("price change", PRICE, Look::Dashed));
        }
        if !self.spike.is_empty() {
            k.push(Key::new("viral spike starts", SPIKE, Look::Dashed));
        }
        if !self.health.is_empty() {
            k.push(Key::new("health flip (ticks at the top)", FLIP, Look::Line(2)));
        }
        k
    }
}

/// A dollar tick of a logarithmic axis with the decimals it needs: `$100`, `$1`, `$0.001`.
fn log_usd_tick(v: &f64) -> String {
    if *v >= 1.0 {
        format!("${}", format::count(v.round() as u64))
    } else {
        let decimals = (-v.log10() - 1e-9).ceil().max(0.0) as usize;
        format!("${v:.decimals$}")
    }
}

/// The top of a share axis: room above `max`, in whole tenths, at most 100 %.
fn share_axis_top(max: f64) -> f64 {
    ((max * 1.15 * 10.0).ceil() / 10.0).clamp(0.1, 1.0)
}

/// Decimals for percentage ticks over a span of `span` (a share): enough to tell ticks apart.
fn percent_decimals(span: f64) -> usize {
    let span_pct = (span * 100.0).max(1e-9);
    (1.0 - span_pct.log10().floor()).clamp(0.0, 4.0) as usize
}

fn latency_cdf(r: &RunResult, svg: &mut String) -> Res {
    let rec = &r.recorder;
    if rec.latency.is_empty() {
        return Err("no data".into());
    }
    let t = &r.scenario.targets;
    let corners: Vec<(&str, f64, f64)> = [("P50", t.p50_load_ms, 0.5), ("P95", t.p95_load_ms, 0.95)]
        .into_iter()
        .filter_map(|(n, v, q)| Some((n, v?, q)))
        .collect();
    let x_max = corners
        .iter()
        .map(|c| c.1 * 1.1)
        .fold(rec.latency.value_at_quantile(0.999) as f64 / 1000.0 * 1.1, f64::max)
        .max(10.0);
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
    for &(name, ms, q) in &corners {
        chart.draw_series(dashed(vec![(0.0, q), (ms, q), (ms, 0.0)], TARGET.stroke_width(2)))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{name} target {}", format::ms(ms)),
            (ms, q),
            ("sans-serif", 13)
                .into_font()
                .color(&TARGET)
                .pos(text_anchor::Pos::new(text_anchor::HPos::Left, text_anchor::VPos::Bottom)),
        )))?;
    }
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
            .label(format!(
                "{name} (P50 {} ms, P95 {} ms)",
                h.value_at_quantile(0.5) / 1000,
                h.value_at_quantile(0.95) / 1000
            ))
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
    type Rate = fn(&crate::record::Counts) -> Option<f64>;
    let rates: [(&str, Rate); 2] =
        [("CDN edge hit rate", |c| c.cdn_hit_rate()), ("mirror hit rate of origin fetches", |c| c.mirror_hit_rate())];
    let lines: Vec<Vec<(f64, f64)>> = rates
        .iter()
        .map(|(_, f)| rows.iter().filter_map(|row| f(&row.counts).map(|v| (axis.at(row.end), v))).collect())
        .collect();
    let top100: Vec<(f64, f64)> = r.recorder.top100_to_date.iter().map(|&(t, v)| (axis.at(t), v)).collect();
    if lines.iter().all(Vec::is_empty) && top100.is_empty() {
        // No interval had a rate (no request reached an edge or an origin): no chart.
        return Err("no data".into());
    }
    let target = r.scenario.targets.top100_mirror_hit_rate;
    let max = lines.iter().flatten().chain(&top100).map(|p| p.1).chain(target).fold(0.0, f64::max);
    let y_hi = share_axis_top(max);

    let markers = Markers::of(r, axis);
    let warm = axis.at(SimTime::ZERO + r.scenario.warmup);
    let mut keys = Vec::new();
    for (i, (name, _)) in rates.iter().enumerate() {
        if !lines[i].is_empty() {
            keys.push(Key::new(*name, color(i), Look::Line(2)));
        }
    }
    if !top100.is_empty() {
        keys.push(Key::new("top-100 clips' mirror hit rate to date", color(2), Look::Line(4)));
    }
    if let Some(v) = target {
        keys.push(Key::new(format!("top-100 target {}", format::percent(v, 0)), TARGET, Look::Dashed));
    }
    if warm > 0.0 {
        keys.push(Key::new("warm-up (not counted)", RGBColor(220, 220, 220), Look::Box));
    }
    keys.extend(markers.keys());

    let frame = TimeFrame { title: "Hit rates over time", y_desc: "hit rate", axis, x_max, y_hi };
    frame.draw(svg, &keys, &|v| format!("{:.0}%", v * 100.0), |chart| {
        if warm > 0.0 {
            chart.draw_series(std::iter::once(Rectangle::new([(0.0, 0.0), (warm, y_hi)], BLACK.mix(0.06).filled())))?;
        }
        markers.draw(chart, (0.0, y_hi))?;
        for (i, pts) in lines.into_iter().enumerate() {
            chart.draw_series(LineSeries::new(pts, color(i).stroke_width(2)))?;
        }
        if let Some(v) = target {
            chart.draw_series(dashed(vec![(0.0, v), (x_max, v)], TARGET.stroke_width(2)))?;
        }
        if !top100.is_empty() {
            chart.draw_series(LineSeries::new(top100, color(2).stroke_width(4)))?;
        }
        Ok(())
    })
}

/// A chart of values over simulated time, with its legend in a strip underneath (so that it
/// never hides a line).
struct TimeFrame<'a> {
    title: &'a str,
    y_desc: &'a str,
    axis: TimeAxis,
    x_max: f64,
    y_hi: f64,
}

type TimeChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

impl TimeFrame<'_> {
    /// Draws the frame (title, axes, mesh) into `svg`, then `series` on it, then `keys` below.
    fn draw(
        &self,
        svg: &mut String,
        keys: &[Key],
        y_label: &dyn Fn(&f64) -> String,
        series: impl FnOnce(&mut TimeChart<'_, '_>) -> Res,
    ) -> Res {
        let strip_h = key_lines(keys) * KEY_LINE as u32 + 8;
        let root = SVGBackend::with_string(svg, (W, H + strip_h)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, strip) = root.split_vertically(H);
        let mut chart = ChartBuilder::on(&top)
            .caption(self.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..self.x_max, 0f64..self.y_hi)?;
        chart
            .configure_mesh()
            .x_desc(self.axis.desc())
            .y_desc(self.y_desc)
            .x_label_formatter(&tick)
            .y_label_formatter(y_label)
            .draw()?;
        series(&mut chart)?;
        legend_strip(&strip, keys)?;
        root.present()?;
        Ok(())
    }
}

/// Active and pending mirrors at the end of each report interval.
fn mirrors(r: &RunResult, svg: &mut String) -> Res {
    let rows = &r.recorder.rows;
    if rows.is_empty() || !r.scenario.engine.mirror.enabled {
        return Err("no mirrors".into());
    }
    let axis = TimeAxis::of(r);
    let x_max = axis.at(r.end).max(1e-3);
    let active: Vec<(f64, f64)> = rows.iter().map(|row| (axis.at(row.end), row.active_mirrors as f64)).collect();
    let pending: Vec<(f64, f64)> = rows.iter().map(|row| (axis.at(row.end), row.pending_mirrors as f64)).collect();
    let max = active.iter().chain(&pending).map(|p| p.1).fold(1.0, f64::max);
    let y_hi = (max * 1.1).ceil();
    let keys = [
        Key::new("active mirrors", color(0), Look::Line(2)),
        Key::new("pending mirrors (copy in flight)", color(1), Look::Line(2)),
    ];
    let frame = TimeFrame { title: "Mirrors over time", y_desc: "mirrors", axis, x_max, y_hi };
    frame.draw(svg, &keys, &whole_tick, |chart| {
        chart.draw_series(LineSeries::new(active, color(0).stroke_width(2)))?;
        chart.draw_series(LineSeries::new(pending, color(1).stroke_width(2)))?;
        Ok(())
    })
}

/// Each day's cost by category (storage, cdn_egress, origin_egress, inter_region, requests) and
/// bytes delivered, from the rows' running totals: a day ends with the last row at or before
/// its end.
fn per_day(r: &RunResult) -> Vec<([i64; 5], u64)> {
    let rows = &r.recorder.rows;
    let day_us = 86_400_000_000u64;
    let n_days = r.end.as_micros().div_ceil(day_us) as usize;
    let mut out = vec![([0i64; 5], 0u64); n_days];
    let mut prev = [0i64; 5];
    let mut row_i = 0;
    for (d, slot) in out.iter_mut().enumerate() {
        let day_end = (d as u64 + 1) * day_us;
        let mut cum = prev;
        while row_i < rows.len() && rows[row_i].end.as_micros() <= day_end {
            cum = rows[row_i].cost_to_date.map(|m| m.0);
            slot.1 += rows[row_i].counts.bytes();
            row_i += 1;
        }
        for k in 0..5 {
            slot.0[k] = cum[k] - prev[k];
        }
        prev = cum;
    }
    out
}

fn cost_by_day(r: &RunResult, svg: &mut String) -> Res {
    let days = per_day(r);
    if r.recorder.rows.is_empty() || days.is_empty() {
        return Err("no data".into());
    }
    let usd = |n: i64| n as f64 / 1e9;
    let n_days = days.len() as f64;
    let x_of = |d: usize| d as f64 + 0.5;
    let totals: Vec<i64> = days.iter().map(|(c, _)| c.iter().sum()).collect();
    let sc = &r.scenario;
    // The estimate's monthly total spread over the days of a billing month.
    let estimate = sc.expected.as_ref().and_then(|e| e.total_nanos).map(|t| {
        let month_days = sc.engine.billing.month.as_secs_f64() / 86_400.0;
        t as f64 / 1e9 / month_days
    });
    let positive = days.iter().flat_map(|(c, _)| c.iter()).copied().chain(totals.iter().copied()).filter(|&n| n > 0);
    let (lo, hi) = positive.fold((f64::INFINITY, 0f64), |(lo, hi), n| (lo.min(usd(n)), hi.max(usd(n))));
    if hi <= 0.0 {
        return Err("no cost".into());
    }
    let hi = estimate.map_or(hi, |e| hi.max(e));
    let (y_lo, y_hi) = (10f64.powf((lo / 2.0).log10().floor()), 10f64.powf((hi * 2.0).log10().ceil()));

    // Below: cost per GB delivered, each day and to date.
    let mut cum = (0i64, 0u64);
    let mut per_gb = Vec::new();
    let mut to_date = Vec::new();
    for (d, (c, bytes)) in days.iter().enumerate() {
        let day: i64 = c.iter().sum();
        cum = (cum.0 + day, cum.1 + bytes);
        if *bytes > 0 {
            per_gb.push((x_of(d), usd(day) / (*bytes as f64 / 1e9)));
        }
        if cum.1 > 0 {
            to_date.push((x_of(d), usd(cum.0) / (cum.1 as f64 / 1e9)));
        }
    }
    let target = sc.targets.cost_per_gb_nanos.map(|n| n as f64 / 1e9);
    let gb_hi = per_gb.iter().chain(&to_date).map(|p| p.1).chain(target).fold(0.0, f64::max) * 1.2;

    let mut keys: Vec<Key> = Category::ALL
        .iter()
        .enumerate()
        .map(|(k, cat)| {
            let total = MoneyNanos(days.iter().map(|(c, _)| c[k]).sum());
            Key::new(format!("{} ({} in all)", cat.name(), format::money_short(total)), color(k), Look::Line(2))
        })
        .collect();
    keys.push(Key::new("total per day", BLACK, Look::Line(3)));
    if let Some(e) = estimate {
        keys.push(Key::new(format!("estimate (${e:.2} a day)"), BLACK, Look::Dashed));
    }
    keys.push(Key::new("cost per GB that day", color(7), Look::Line(2)));
    if !to_date.is_empty() {
        keys.push(Key::new("cost per GB to date", color(0), Look::Line(4)));
    }
    if let Some(v) = target {
        keys.push(Key::new(format!("cost per GB target {}", format::usd_per_unit(v)), TARGET, Look::Dashed));
    }
    let lower_h = 260;
    let strip_h = key_lines(&keys) * KEY_LINE as u32 + 8;
    let root = SVGBackend::with_string(svg, (W, H + lower_h + strip_h)).into_drawing_area();
    root.fill(&WHITE)?;
    let (upper, rest) = root.split_vertically(H);
    let (lower, strip) = rest.split_vertically(lower_h);
    let mut chart = ChartBuilder::on(&upper)
        .caption("Cost per simulated day, by category", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..n_days, (y_lo..y_hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("simulated day")
        .y_desc("cost (USD per day, log scale)")
        .x_label_formatter(&whole_tick)
        .y_label_formatter(&log_usd_tick)
        .draw()?;
    for k in 0..Category::ALL.len() {
        let c = color(k);
        let pts: Vec<(f64, f64)> =
            days.iter().enumerate().filter(|(_, (v, _))| v[k] > 0).map(|(d, (v, _))| (x_of(d), usd(v[k]))).collect();
        chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?;
        chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, c.filled())))?;
    }
    let total_pts: Vec<(f64, f64)> =
        totals.iter().enumerate().filter(|(_, &n)| n > 0).map(|(d, &n)| (x_of(d), usd(n))).collect();
    chart.draw_series(LineSeries::new(total_pts.clone(), BLACK.stroke_width(3)))?;
    chart.draw_series(total_pts.into_iter().map(|p| Circle::new(p, 3, BLACK.filled())))?;
    if let Some(e) = estimate {
        chart.draw_series(DashedLineSeries::new(vec![(0.0, e), (n_days, e)], 7, 5, BLACK.stroke_width(2)))?;
    }

    let mut chart = ChartBuilder::on(&lower)
        .margin_left(16)
        .margin_right(16)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..n_days, 0f64..gb_hi.max(1e-6))?;
    chart
        .configure_mesh()
        .x_desc("simulated day")
        .y_desc("USD per GB delivered")
        .x_label_formatter(&whole_tick)
        .y_label_formatter(&|v| format::usd_per_unit(*v))
        .draw()?;
    let markers = Markers::of(r, TimeAxis { secs_per_unit: 86_400.0, unit: "days" });
    markers.draw(&mut chart, (0.0, gb_hi))?;
    chart.draw_series(LineSeries::new(per_gb.clone(), color(7).stroke_width(2)))?;
    chart.draw_series(per_gb.into_iter().map(|p| Circle::new(p, 3, color(7).filled())))?;
    if let Some(v) = target {
        chart.draw_series(dashed(vec![(0.0, v), (n_days, v)], TARGET.stroke_width(2)))?;
    }
    chart.draw_series(LineSeries::new(to_date, color(0).stroke_width(4)))?;
    keys.extend(markers.keys());
    legend_strip(&strip, &keys)?;
    root.present()?;
    Ok(())
}

/// Runs of rows with the same believed health: (start, end, health) on the time axis.
fn health_segments(r: &RunResult, axis: TimeAxis, lane: usize) -> Vec<(f64, f64, Health)> {
    let regions = r.scenario.engine.regions.len();
    let mut out: Vec<(f64, f64, Health)> = Vec::new();
    let mut start = 0.0;
    for row in &r.recorder.rows {
        let h = match lane.checked_sub(regions) {
            None => row.region_health[lane],
            Some(0) => row.cdn_health.unwrap_or(Health::Healthy),
            Some(_) => row.second_cdn_health.unwrap_or(Health::Healthy),
        };
        let end = axis.at(row.end);
        match out.last_mut() {
            Some(last) if last.2 == h => last.1 = end,
            _ => out.push((start, end, h)),
        }
        start = end;
    }
    out
}

fn outages(r: &RunResult, svg: &mut String) -> Res {
    let rows = &r.recorder.rows;
    if rows.is_empty() {
        return Err("no data".into());
    }
    let sc = &r.scenario;
    let axis = TimeAxis::of(r);
    let x_max = axis.at(r.end).max(1e-3);
    let lanes = sc.engine.regions.len() + sc.cdn.as_ref().map_or(0, |c| c.names().count());
    let target = sc.targets.availability;
    let min_avail = rows.iter().filter_map(|r| r.counts.availability()).chain(target).fold(1.0f64, f64::min);
    let y_lo = (min_avail - (1.0 - min_avail) * 0.1).clamp(0.0, 0.999);
    let y_hi = 1.0 + (1.0 - y_lo) * 0.06;
    let decimals = percent_decimals(y_hi - y_lo);

    let red = RGBColor(214, 39, 40);
    let markers = Markers::of(r, axis);
    let mut keys = vec![Key::new("availability per interval", color(0), Look::Line(2))];
    if !sc.outages.is_empty() {
        keys.push(Key::new("outage (as it happened)", RGBColor(246, 212, 212), Look::Box));
    }
    if let Some(v) = target {
        keys.push(Key::new(format!("availability target {}", format::percent(v, 4)), TARGET, Look::Dashed));
    }
    keys.extend(markers.keys());
    let strip_h = key_lines(&keys) * KEY_LINE as u32 + 8;
    // Under the chart, the legend, then a 40-pixel lane per target with room for its axis.
    let lanes_h = 40 * lanes as u32 + 70;
    let root = SVGBackend::with_string(svg, (W, H + strip_h + lanes_h)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, rest) = root.split_vertically(H);
    let (strip, bottom) = rest.split_vertically(strip_h);
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
        .y_label_formatter(&|v| format!("{:.*}%", decimals, v * 100.0))
        .draw()?;
    chart.draw_series(sc.outages.iter().map(|o| {
        Rectangle::new([(axis.at(o.start), y_lo), (axis.at(o.end).min(x_max), y_hi)], red.mix(0.15).filled())
    }))?;
    markers.draw(&mut chart, (y_lo, y_hi))?;
    if let Some(v) = target {
        chart.draw_series(dashed(vec![(0.0, v), (x_max, v)], TARGET.stroke_width(2)))?;
    }
    let pts: Vec<(f64, f64)> =
        rows.iter().filter_map(|row| row.counts.availability().map(|a| (axis.at(row.end), a))).collect();
    chart.draw_series(LineSeries::new(pts, color(0).stroke_width(2)))?;
    legend_strip(&strip, &keys)?;

    // Health lanes: what the engine believed, per region (and the CDN). The height of a bar says
    // the state as well as its colour, and long unhealthy spans are labelled in words.
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
        .chain(sc.cdn.iter().flat_map(|c| c.names()).map(|name| format!("cdn:{name}")))
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
        .x_desc("believed health: thin green healthy, half-height orange degraded, full-height red unhealthy")
        .x_label_formatter(&tick)
        .draw()?;
    // Wide enough, in axis units, for a word inside a bar.
    let word_w = x_max * 90.0 / f64::from(W);
    for lane in 0..lanes {
        let y = (lanes - 1 - lane) as f64;
        for (x0, x1, h) in health_segments(r, axis, lane) {
            let (half, c, word) = match h {
                Health::Healthy => (0.08, RGBColor(44, 160, 44), ""),
                Health::Degraded => (0.2, RGBColor(255, 127, 14), "degraded"),
                Health::Unhealthy => (0.38, red, "unhealthy"),
            };
            lane_chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, y + 0.5 - half), (x1, y + 0.5 + half)],
                c.filled(),
            )))?;
            if !word.is_empty() && x1 - x0 >= word_w {
                lane_chart.draw_series(std::iter::once(Text::new(
                    word,
                    ((x0 + x1) / 2.0, y + 0.5),
                    ("sans-serif", 12)
                        .into_font()
                        .color(&WHITE)
                        .pos(text_anchor::Pos::new(text_anchor::HPos::Center, text_anchor::VPos::Center)),
                )))?;
            }
        }
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run with mirrors charts them: a line per kind, the active one reaching the most active
    /// mirrors of any interval; without mirrors there is no chart.
    #[test]
    fn mirrors_are_charted_when_there_are_any() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/seed-baseline.toml");
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("clips = 100000 ", "clips = 2000 ")
            .replace("views_per_month = 1000000", "views_per_month = 100000")
            .replace("replication_threshold = 1000", "replication_threshold = 20")
            .replace("duration = \"30d\"", "duration = \"3d\"");
        let sc = crate::scenario::from_str(&path, &text, &Default::default()).unwrap();
        let r = crate::run_scenario(sc.clone()).unwrap();
        let most = r.recorder.rows.iter().map(|row| row.active_mirrors).max().unwrap();
        assert!(most > 0, "the scaled baseline makes mirrors");
        let mut svg = String::new();
        mirrors(&r, &mut svg).expect("drawn");
        assert!(svg.contains("active mirrors") && svg.contains("pending mirrors"), "both keys");
        for (i, kind) in ["active", "pending"].iter().enumerate() {
            let c = color(i);
            let stroke = format!("stroke=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
            assert!(svg.matches(&stroke).count() >= 2, "the {kind} line and its legend sample ({stroke})");
        }
        let charts: Vec<String> = all(&r).into_iter().map(|c| c.file).collect();
        assert!(charts.contains(&"charts/mirrors.svg".to_string()), "{charts:?}");
        let off = crate::scenario::from_str(
            &path,
            &text.replace("[mirror]\nenabled = true", "[mirror]\nenabled = false"),
            &Default::default(),
        )
        .unwrap();
        assert!(!off.engine.mirror.enabled, "the edit turned mirrors off");
        let r = crate::run_scenario(off).unwrap();
        assert!(mirrors(&r, &mut String::new()).is_err(), "no mirrors, no chart");
        assert!(!all(&r).iter().any(|c| c.file == "charts/mirrors.svg"));
    }

    #[test]
    fn ticks_show_the_decimals_they_need() {
        let shown: Vec<String> = [0.0, 0.5, 0.25, 1.0, 12.0, 100.0, 2.375, -0.0001].iter().map(tick).collect();
        assert_eq!(shown, ["0", "0.5", "0.25", "1", "12", "100", "2.38", "0"]);
        let whole: Vec<String> = [0.0, 0.5, 3.0, 2.9999999999].iter().map(whole_tick).collect();
        assert_eq!(whole, ["0", "", "3", "3"]);
        let usd: Vec<String> = [1000.0, 1.0, 0.1, 0.001, 0.00001].iter().map(log_usd_tick).collect();
        assert_eq!(usd, ["$1,000", "$1", "$0.1", "$0.001", "$0.00001"]);
        assert_eq!([1.0, 0.5, 0.05, 0.004].map(percent_decimals), [0, 0, 1, 2]);
        assert_eq!([0.02, 0.5, 0.95, 1.2].map(share_axis_top), [0.1, 0.6, 1.0, 1.0]);
    }
}
