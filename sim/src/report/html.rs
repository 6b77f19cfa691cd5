//! `report.html`: the report as one page to share. It is `report.md` rendered to HTML, with:
//!
//! - a verdict banner under the title: every target met or which were missed, in colour *and* in
//!   words (a grey-scale print or a colour-blind reader loses nothing);
//! - the charts inlined as SVG (each in a `<figure>` whose caption says what to read from it), so
//!   the file stands alone: no other file, no network, no JavaScript. A Content-Security-Policy
//!   forbids loading anything, so a browser would report any slip as an error.
//!
//! The text comes from `report.md` (one source for both), so the two never disagree.

use super::charts::Chart;
use super::summary::Summary;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::fmt::Write as _;

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif; color: #1b1b1b;
  max-width: 1040px; margin: 2rem auto; padding: 0 1.25rem; line-height: 1.5; }
h1 { margin-bottom: .25rem; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: .8rem 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d0d0; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
tr:nth-child(even) td { background: #fafafa; }
code { background: #f3f3f3; padding: 0 .25rem; border-radius: 3px; }
pre { background: #f3f3f3; padding: .8rem; overflow-x: auto; }
blockquote { border-left: 4px solid #b58900; background: #fff8e1; margin: 1rem 0; padding: .4rem 1rem; }
.verdict { padding: .8rem 1rem; border-radius: 6px; margin: 1rem 0 1.5rem; border: 2px solid; }
.verdict strong { font-size: 1.15rem; }
.verdict ul { margin: .4rem 0 0; }
.verdict.met { background: #e8f5e9; border-color: #2e7d32; }
.verdict.missed { background: #ffebee; border-color: #c62828; }
.verdict.none { background: #f3f3f3; border-color: #888; }
span.pass, span.fail { font-weight: bold; padding: 0 .4rem; border-radius: 3px; white-space: nowrap; }
span.pass { color: #1b5e20; background: #c8e6c9; }
span.pass::before { content: '\\2713\\00a0'; }
span.fail { color: #fff; background: #c62828; }
span.fail::before { content: '\\2717\\00a0'; }
figure { margin: 1.5rem 0; }
figure svg { width: 100%; height: auto; border: 1px solid #e0e0e0; }
figcaption { color: #444; margin-top: .4rem; }
";

/// The verdict banner: which targets were missed, or that all were met.
fn verdict(s: &Summary) -> String {
    let mut o = String::new();
    if s.targets.is_empty() {
        let _ = write!(o, "<div class=\"verdict none\" role=\"status\"><strong>No targets were set.</strong></div>");
        return o;
    }
    let missed: Vec<_> = s.targets.iter().filter(|t| !t.pass).collect();
    if missed.is_empty() {
        let _ = write!(
            o,
            "<div class=\"verdict met\" role=\"status\"><strong>All {} targets met.</strong></div>",
            s.targets.len()
        );
        return o;
    }
    let _ = write!(
        o,
        "<div class=\"verdict missed\" role=\"alert\"><strong>{} of {} targets missed:</strong><ul>",
        missed.len(),
        s.targets.len()
    );
    for t in missed {
        let _ = write!(
            o,
            "<li><code>{}</code>: simulated {}, required {} {}</li>",
            t.name.key(),
            escape(&t.name.show_opt(t.actual)),
            if t.name.at_most() { "at most" } else { "at least" },
            escape(&t.name.show(t.target)),
        );
    }
    o.push_str("</ul></div>");
    o
}

/// A chart as a figure: the SVG inline, then what to read from it (the heading above it in
/// `report.md` is its caption).
fn figure(c: &Chart) -> String {
    // The SVG's own XML header, if any, does not belong inside HTML.
    let svg = c.svg.trim_start();
    let svg = svg.strip_prefix("<?xml").map_or(svg, |rest| rest.split_once("?>").map_or(rest, |(_, s)| s.trim_start()));
    format!("<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>\n", escape(&c.read))
}

/// Consumes events up to the end of the current paragraph.
fn to_paragraph_end(p: &mut std::iter::Peekable<Parser>) {
    p.by_ref().find(|ev| *ev == Event::End(TagEnd::Paragraph));
}

/// The page: `markdown` (the text of `report.md`) rendered, the verdict banner after the title,
/// and each chart that `markdown` links (an image alone in its paragraph, followed by a paragraph
/// of what to read from it) replaced by the chart itself in a figure with that text as caption.
pub fn report_html(markdown: &str, s: &Summary, charts: &[Chart]) -> String {
    let chart_of = |ev: Option<&Event>| match ev {
        Some(Event::Start(Tag::Image { dest_url, .. })) => charts.iter().find(|c| c.file == dest_url.as_ref()),
        _ => None,
    };
    let mut events = Vec::new();
    let mut in_cell = false;
    let mut banner_done = false;
    let mut parser = Parser::new_ext(markdown, Options::ENABLE_TABLES).peekable();
    while let Some(ev) = parser.next() {
        match ev {
            Event::Start(Tag::Paragraph) => {
                let Some(c) = chart_of(parser.peek()) else {
                    events.push(ev);
                    continue;
                };
                // The chart's paragraph and the one after it (what to read) become the figure.
                to_paragraph_end(&mut parser);
                if parser.peek() == Some(&Event::Start(Tag::Paragraph)) {
                    to_paragraph_end(&mut parser);
                }
                events.push(Event::Html(CowStr::from(figure(c))));
            }
            Event::End(TagEnd::Heading(HeadingLevel::H1)) if !banner_done => {
                events.push(ev);
                events.push(Event::Html(CowStr::from(verdict(s))));
                banner_done = true;
            }
            Event::Start(Tag::TableCell) => {
                in_cell = true;
                events.push(ev);
            }
            Event::End(TagEnd::TableCell) => {
                in_cell = false;
                events.push(ev);
            }
            // The targets table's verdicts: colour and a mark beside the word.
            Event::Text(ref t) if in_cell && (t.as_ref() == "pass" || t.as_ref() == "FAIL") => {
                let class = if t.as_ref() == "pass" { "pass" } else { "fail" };
                events.push(Event::InlineHtml(CowStr::from(format!("<span class=\"{class}\">{t}</span>"))));
            }
            ev => events.push(ev),
        }
    }
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, events.into_iter());
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"generator\" content=\"clipsim {}\">\n<title>{} · clipsim report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(&s.version),
        escape(&s.scenario.name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::TargetResult;
    use crate::report::target::Target;

    fn chart() -> Chart {
        Chart {
            file: "charts/a.svg".into(),
            caption: "A <chart>".into(),
            read: "Read it & weep.".into(),
            svg: "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><title>a</title></svg>".into(),
        }
    }

    fn summary(pass: &[bool]) -> Summary {
        let mut s = Summary::default();
        s.scenario.name = "s & t".into();
        for &p in pass {
            s.targets.push(TargetResult {
                name: Target::P95LoadMs,
                direction: "<=".into(),
                target: 900.0,
                actual: Some(1200.0),
                pass: p,
            });
        }
        s
    }

    const MD: &str = "# Title\n\nText.\n\n| target | verdict |\n| --- | --- |\n| `p95` | pass |\n| `p50` | **FAIL** |\n\n\
        ### A chart\n\n![A chart](charts/a.svg)\n\nRead it & weep.\n\n### Another\n\n![other](charts/missing.svg)\n\nIts text.\n";

    #[test]
    fn charts_are_inlined_with_their_caption_and_no_xml_header() {
        let html = report_html(MD, &summary(&[true]), &[chart()]);
        assert!(html.contains("<h3>A chart</h3>\n<figure>\n<svg xmlns"), "{html}");
        assert_eq!(html.matches("weep").count(), 1, "the text under the chart is its caption, once: {html}");
        assert!(!html.contains("<?xml"));
        assert!(!html.contains("charts/a.svg"), "the linked image is replaced");
        assert!(html.contains("<figcaption>Read it &amp; weep.</figcaption>"), "{html}");
        // An image that is not one of the charts stays an image.
        assert!(html.contains("<p><img src=\"charts/missing.svg\" alt=\"other\" /></p>\n<p>Its text.</p>"), "{html}");
    }

    #[test]
    fn the_verdict_follows_the_title_in_colour_and_words() {
        let html = report_html(MD, &summary(&[true, false]), &[]);
        let title = html.find("<h1>Title</h1>").unwrap();
        let banner = html.find("<div class=\"verdict missed\"").unwrap();
        let text = html.find("<p>Text.</p>").unwrap();
        assert!(title < banner && banner < text);
        assert!(html.contains("1 of 2 targets missed"), "{html}");
        assert!(html.contains("<code>p95_load_ms</code>: simulated 1200 ms, required at most 900 ms"), "{html}");
        assert!(report_html(MD, &summary(&[true, true]), &[]).contains("All 2 targets met."));
        assert!(report_html(MD, &summary(&[]), &[]).contains("No targets were set."));
        // The table's verdicts are marked, once each.
        assert_eq!(html.matches("<span class=\"pass\">pass</span>").count(), 1);
        assert_eq!(html.matches("<span class=\"fail\">FAIL</span>").count(), 1);
    }

    #[test]
    fn the_page_stands_alone() {
        let html = report_html(MD, &summary(&[true]), &[chart()]);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>s &amp; t · clipsim report</title>"));
        assert!(html.contains("default-src 'none'"));
        assert!(!html.contains("<script"));
        assert!(
            !html.contains("http://") || html.matches("http://").count() == html.matches("xmlns=\"http://").count()
        );
    }
}
