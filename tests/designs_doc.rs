//! `docs/designs.md` quotes the shipped designs sweep (`docs/sweeps/designs/sweep.csv`): every
//! figure of its table is the sweep's, rounded as shown, and the design it recommends is the
//! sweep's cheapest point meeting every target. Regenerating the sweep (the command in
//! `scenarios/sweeps/designs.toml`) without updating the page fails here.

mod common;

use std::collections::BTreeMap;

/// The sweep's rows by point number, each as {column: cell}.
fn sweep_rows() -> BTreeMap<usize, BTreeMap<String, String>> {
    let path = common::root().join("docs/sweeps/designs/sweep.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let row: BTreeMap<String, String> =
                header.iter().zip(r.iter()).map(|(h, c)| (h.into(), c.into())).collect();
            (row["point"].parse().unwrap(), row)
        })
        .collect()
}

/// `mean (low to high)` of a column, formatted by `show`.
fn interval(row: &BTreeMap<String, String>, column: &str, show: impl Fn(f64) -> String) -> String {
    let cell = |suffix: &str| row[&format!("{column}_{suffix}")].parse::<f64>().unwrap();
    format!("{} ({} to {})", show(cell("mean")), show(cell("ci95_low")), show(cell("ci95_high")))
}

/// Dollars with cents and thousands separators: `$1,023.52`.
fn usd(x: f64) -> String {
    let cents = (x * 100.0).round() as u64;
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("${grouped}.{:02}", cents % 100)
}

#[test]
fn the_designs_page_quotes_the_shipped_sweep() {
    let page = std::fs::read_to_string(common::root().join("docs/designs.md")).unwrap();
    let rows = sweep_rows();
    let table = page.split("## The designs side by side").nth(1).expect("the table's section");
    let mut checked = 0;
    let mut recommended = Vec::new();
    for line in table.lines().take_while(|l| !l.starts_with("## ")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let Some(point) = cells.get(1).and_then(|c| c.parse::<usize>().ok()) else { continue };
        let row = &rows[&point];
        let want = [
            interval(row, "bill_usd", usd),
            interval(row, "cost_per_gb_usd", |x| format!("${x:.4}")),
            interval(row, "p50_load_ms", |x| format!("{x:.0}")),
            interval(row, "p95_load_ms", |x| format!("{x:.0}")),
            interval(row, "availability", |x| format!("{:.4} %", x * 100.0)),
            interval(row, "top100_mirror_hit_rate", |x| format!("{:.1} %", x * 100.0)),
        ];
        assert_eq!(cells[2..8], want, "point {point}: docs/designs.md (left) against sweep.csv (right)");
        let missed: Vec<&str> = [
            ("target_p50_load_ms", "P50"),
            ("target_availability", "availability"),
            ("target_cost_per_gb", "cost"),
            ("target_top100_mirror_hit_rate", "top-100"),
        ]
        .into_iter()
        .filter(|(column, _)| row[*column] != "pass")
        .map(|(_, name)| name)
        .collect();
        let shown: Vec<&str> = cells[8].split(", ").filter(|m| *m != "none").collect();
        assert_eq!(shown.iter().collect::<std::collections::BTreeSet<_>>(), missed.iter().collect(), "point {point}");
        if cells[0].contains("**recommended**") {
            recommended.push(point);
        }
        checked += 1;
    }
    assert!(checked >= 10, "the table quotes {checked} designs");
    // The sweep's recommendation: the cheapest mean bill among the points meeting every target.
    let cheapest = rows
        .values()
        .filter(|r| r["all_targets"] == "pass")
        .min_by(|a, b| a["bill_usd_mean"].parse::<f64>().unwrap().total_cmp(&b["bill_usd_mean"].parse().unwrap()))
        .map(|r| r["point"].parse::<usize>().unwrap());
    assert_eq!(
        recommended,
        Vec::from_iter(cheapest),
        "the page recommends one design: the sweep's cheapest meeting every target"
    );
    assert!(page.contains(&format!("(point {})", cheapest.unwrap())), "the recommendation's text names its point");
}
