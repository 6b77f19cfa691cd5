//! The tornado chart of one target: per assumption, a bar from the target's mean at the
//! assumption's low end to its mean at the high end, through the base; the widest bar on top.
//! The base mean is a solid line, the target a dashed one: a bar that crosses the dashed line
//! is an assumption that can turn the verdict.

use super::{Report, TargetAt};
use crate::report::charts::{key_lines, legend_strip, with_title, Key, Look, KEY_LINE};
use crate::report::target::Target;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const W: u32 = 960;
const LOW: RGBColor = RGBColor(31, 119, 180);
const HIGH: RGBColor = RGBColor(255, 127, 14);
const TARGET: RGBColor = RGBColor(214, 39, 40);
/// Pixels left of the plot for the assumptions' names.
const NAMES: u32 = 330;
const ROW: u32 = 30;

type Res = Result<(), Box<dyn std::error::Error>>;

fn mean(t: &[TargetAt], i: usize) -> Option<f64> {
    t.get(i).and_then(|t| t.value.as_ref()).map(|v| v.mean)
}

/// One bar: the assumption's label and its means at the low and high ends.
struct Bar {
    label: String,
    low: f64,
    high: f64,
}

/// The bars of target `t` (position in `report.base`), widest first.
fn bars(report: &Report, t: usize) -> Vec<Bar> {
    let mut out: Vec<Bar> = report
        .assumptions
        .iter()
        .filter_map(|a| {
            let (low, high) = (mean(&a.at_low, t)?, mean(&a.at_high, t)?);
            Some(Bar { label: format!("{} ({} to {})", a.name, a.low, a.high), low, high })
        })
        .collect();
    // Widest first; equal widths in file order (a stable sort).
    out.sort_by(|a, b| (b.high - b.low).abs().total_cmp(&(a.high - a.low).abs()));
    out
}

/// The chart's file name for a target: `tornado-p50_load_ms.svg`.
pub fn file_name(t: Target) -> String {
    format!("tornado-{}.svg", t.key())
}

/// The SVG of target `t`, or `None` when the base has no value for it.
pub fn chart(report: &Report, t: usize) -> Option<String> {
    let target = report.base.get(t)?;
    let base = target.value.as_ref()?.mean;
    let bars = bars(report, t);
    let mut svg = String::new();
    draw(report, target, base, &bars, &mut svg).ok()?;
    let name = target.target;
    let title = format!("What moves {name}: each assumption from its low to its high end");
    let desc = format!(
        "One bar per assumption, widest on top: the mean {name} over {} replicas with the assumption at its low end \
         (blue end) and at its high end (orange end), everything else as in {}. The solid line is the scenario as \
         written ({}); the dashed red line is the target ({} {}). A bar that crosses the dashed line is an assumption \
         within whose plausible range the verdict turns.",
        report.replicas,
        report.scenario,
        name.show(base),
        name.direction().replace("<=", "at most").replace(">=", "at least"),
        name.show(target.required),
    );
    Some(with_title(svg, &title, &desc))
}

fn draw(report: &Report, target: &TargetAt, base: f64, bars: &[Bar], svg: &mut String) -> Res {
    let name = target.target;
    let keys = vec![
        Key::new("assumption at its low end", LOW, Look::Box),
        Key::new("at its high end", HIGH, Look::Box),
        Key::new(format!("scenario as written ({})", name.show(base)), BLACK, Look::Line(2)),
        Key::new(format!("target {} {}", name.direction(), name.show(target.required)), TARGET, Look::Dashed),
    ];
    let plot_h = 90 + ROW * bars.len().max(1) as u32;
    let strip_h = key_lines(&keys) * KEY_LINE as u32 + 8;
    let root = SVGBackend::with_string(svg, (W, plot_h + strip_h)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, strip) = root.split_vertically(plot_h);
    let (mut lo, mut hi) = (base.min(target.required), base.max(target.required));
    for b in bars {
        lo = lo.min(b.low).min(b.high);
        hi = hi.max(b.low).max(b.high);
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.01).max(1e-9);
    let (x_lo, x_hi) = (lo - pad, hi + pad);
    let n = bars.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&top)
        .caption(format!("{}: what moves {name}", report.scenario), ("sans-serif", 22))
        .margin(16)
        .margin_left(NAMES)
        .x_label_area_size(44)
        .y_label_area_size(0)
        .build_cartesian_2d(x_lo..x_hi, 0.0..n)?;
    let unit = match name {
        Target::P50LoadMs | Target::P95LoadMs => "ms",
        Target::CostPerGb => "USD per GB",
        _ => "%",
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc(format!("{name}, mean over {} replicas ({unit})", report.replicas))
        .x_label_formatter(&|v| match name {
            Target::Availability => format!("{:.3}", 100.0 * v),
            Target::Top100MirrorHitRate => format!("{:.0}", 100.0 * v),
            Target::CostPerGb => format!("{v:.3}"),
            _ => format!("{v:.0}"),
        })
        .draw()?;
    for (i, b) in bars.iter().enumerate() {
        // Row i from the top.
        let y1 = n - i as f64 - 0.18;
        let y0 = n - i as f64 - 0.82;
        // Both ends on one side of the base overlap: the longer is drawn first.
        let mut ends = [(b.low, LOW), (b.high, HIGH)];
        ends.sort_by(|p, q| (q.0 - base).abs().total_cmp(&(p.0 - base).abs()));
        for (end, colour) in ends {
            let (a, z) = (end.min(base), end.max(base));
            chart.draw_series(std::iter::once(Rectangle::new([(a, y0), (z, y1)], colour.mix(0.85).filled())))?;
        }
        let (px, py) = chart.backend_coord(&(x_lo, n - i as f64 - 0.5));
        let style = ("sans-serif", 13).into_font().color(&BLACK).pos(Pos::new(HPos::Right, VPos::Center));
        top.draw(&Text::new(b.label.clone(), (px - 8, py), style))?;
    }
    chart.draw_series(std::iter::once(PathElement::new(vec![(base, 0.0), (base, n)], BLACK.stroke_width(2))))?;
    chart.draw_series(DashedLineSeries::new(
        vec![(target.required, 0.0), (target.required, n)],
        7,
        5,
        TARGET.stroke_width(2),
    ))?;
    legend_strip(&strip, &keys)?;
    root.present()?;
    Ok(())
}
