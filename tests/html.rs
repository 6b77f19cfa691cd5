//! `report.html` in a real browser: headless Chromium (Debian's `chromium` package, which
//! `.ci/run` installs) loads the report of `region-outage`, takes a screenshot and dumps the DOM
//! it built. The page must load without a console message (its Content-Security-Policy forbids
//! every fetch, so a chart or style that reached for a file or the network would show as one),
//! with the verdict banner first and every chart inline.
//!
//! The screenshot is kept at `target/tmp/report-html/region-outage.png` to be looked at.
//! Where Chromium is not installed (`build.rs` looks for it), the test is ignored with that
//! reason, never green without having run.

mod common;

use clipsim_sim::{report, run_scenario};
use std::path::Path;
use std::process::Command;

/// Runs headless Chromium on `page` with `args`; returns its stdout and stderr.
fn chromium(profile: &Path, page: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--enable-logging=stderr", "--v=0"])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "chromium failed ({}): {stderr}", out.status);
    (stdout, stderr)
}

/// The width and height of a PNG, from its header.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && &bytes[12..16] == b"IHDR", "not a PNG");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[test]
#[cfg_attr(not(clipsim_has_chromium), ignore = "needs Chromium (Debian's `chromium` package; .ci/run installs it)")]
fn the_html_report_loads_in_chromium_verdict_first_with_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_scenario(common::scaled(&common::root().join("scenarios/region-outage.toml"), 20.0)).expect("runs");
    let summary = report::summarize(&r);
    let out = dir.path().join("region-outage");
    report::write(&r, &out, false).expect("writes");
    let page = out.join("report.html");
    let profile = dir.path().join("profile");

    // The screenshot: the page rendered at a desktop width.
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-html");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("region-outage.png");
    let _ = std::fs::remove_file(&png);
    let (_, log) = chromium(&profile, &page, &["--window-size=1280,2400", &format!("--screenshot={}", png.display())]);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "the page logged to the console:\n{}", console.join("\n"));
    let bytes = std::fs::read(&png).expect("a screenshot was written");
    assert_eq!(png_size(&bytes), (1280, 2400));
    assert!(bytes.len() > 50_000, "a screenshot of {} bytes is nearly blank", bytes.len());

    // The DOM the browser built.
    let (dom, log) = chromium(&profile, &page, &["--dump-dom"]);
    assert!(!log.contains(":CONSOLE"), "the page logged to the console: {log}");
    let at = |needle: &str| dom.find(needle).unwrap_or_else(|| panic!("no {needle:?} in the page"));
    let missed = summary.targets.iter().filter(|t| !t.pass).count();
    assert!(missed > 0, "region-outage misses targets, so the banner has something to say");
    let banner = at(&format!("{missed} of {} targets missed:", summary.targets.len()));
    assert!(at("<h1>region-outage</h1>") < banner && banner < at("<h2>Targets</h2>"), "the verdict comes first");
    for t in summary.targets.iter().filter(|t| !t.pass) {
        at(&format!("<code>{}</code>: simulated {}", t.name.key(), t.name.show_opt(t.actual)));
    }
    assert_eq!(dom.matches("<span class=\"fail\">FAIL</span>").count(), missed);
    assert_eq!(dom.matches("<span class=\"pass\">pass</span>").count(), summary.targets.len() - missed);
    // Every chart written is inline, in a figure with a caption; none is linked.
    let charts = common::walk(&out.join("charts")).len();
    assert_eq!(charts, 5, "region-outage has five charts");
    assert_eq!(dom.matches("<figure>").count(), charts);
    assert_eq!(dom.matches("<figcaption>").count(), charts);
    assert_eq!(dom.matches("<svg ").count(), charts);
    assert!(!dom.contains("<img"), "a chart was linked, not inlined");
    assert!(!dom.contains("<script"));
}
