//! `report.md`: what a planner reads. Targets first, then the bill, then how it was served.

use super::charts::Chart;
use super::format::{self, count, money as dollars};
use super::summary::{cost_by_category, Summary};
use crate::pricing::PriceKey;
use crate::world::RunResult;
use clipsim_engine::units::BYTES_PER_GB;
use clipsim_engine::{Category, Meter, MoneyNanos, ServedFrom, SimTime};
use std::fmt::Write as _;

/// With two CDNs (`summary.json`'s `cdns`): each one's requests answered, share of both, and
/// bill over the whole run, e.g. `cloudflare 99,605 (10.0 %), $58.72; bunny 899,671 (90.0 %),
/// $123.45`.
fn requests_by_cdn(s: &Summary) -> Option<String> {
    let cdns = s.cdns.as_ref()?;
    let total: u64 = cdns.iter().map(|c| c.requests).sum();
    let parts: Vec<String> = cdns
        .iter()
        .map(|c| {
            let share =
                if total > 0 { format!("{:.1} %", c.requests as f64 * 100.0 / total as f64) } else { "n/a".into() };
            format!("{} {} ({share}), {}", c.provider, count(c.requests), dollars(MoneyNanos(c.cost_nanodollars)))
        })
        .collect();
    Some(parts.join("; "))
}

fn pct(v: Option<f64>) -> String {
    format::or_na(v, |x| format::percent(x, 2))
}

fn ms(v: Option<f64>) -> String {
    format::or_na(v, format::ms)
}

/// Usage of a category over the whole run in its price unit, and the unit's name.
fn category_usage(r: &RunResult, c: Category) -> (f64, &'static str) {
    // A plan's fee is metered in time, not bytes: it is not usage of delivery. A retrieval fee
    // is on bytes already counted as origin egress (or inter-region copies).
    let lines = r
        .measured_bills()
        .iter()
        .flat_map(|b| &b.lines)
        .filter(|l| l.key.meter.category() == c && !matches!(l.key.meter, Meter::CdnPlan | Meter::Retrieval));
    let total: u128 = lines.map(|l| l.usage).sum();
    match c {
        Category::Storage => (total as f64 / clipsim_engine::billing::BYTE_MICROS_PER_GB_MONTH as f64, "GB-month"),
        Category::Requests => (total as f64 / 10_000.0, "10,000 requests"),
        _ => (total as f64 / BYTES_PER_GB as f64, "GB"),
    }
}

/// `q` of a price unit as a planner reads it: `3043 GB-month`, and requests counted one by one
/// (`1,870,034 requests`, not `187 10,000 requests`).
fn usage_text(q: f64, unit: &str) -> String {
    match unit.strip_prefix("10,000 ") {
        Some(what) => format!("{} {what}", count((q * 10_000.0).round() as u64)),
        None => format!("{q:.0} {unit}"),
    }
}

/// A sentence for each measured month in which a CDN delivered more than its flat-rate plan
/// includes (the plan bills nothing more: the provider throttles or asks for a higher plan).
fn plan_overruns(r: &RunResult) -> Vec<String> {
    let sc = &r.scenario;
    let second = sc.engine.second_cdn.map(|s| s.provider);
    sc.engine.cdn_provider.into_iter().chain(second).flat_map(|cdn| plan_overruns_of(r, cdn)).collect()
}

/// [`plan_overruns`] of one CDN, from its own lines.
fn plan_overruns_of(r: &RunResult, cdn: clipsim_engine::ProviderId) -> Vec<String> {
    let sc = &r.scenario;
    let name = &sc.engine.providers[cdn.index()];
    let Some(inc) = sc.providers.iter().find(|p| &p.name == name).and_then(|p| p.plan_includes) else { return vec![] };
    let mut out = Vec::new();
    for bill in r.measured_bills() {
        let used = |m: Meter| {
            bill.lines.iter().filter(|l| l.key.meter == m && l.key.provider == cdn).map(|l| l.usage).sum::<u128>()
        };
        let (bytes, requests) = (used(Meter::CdnEgress), used(Meter::CdnRequests));
        let (bytes_in, requests_in) = (u128::from(inc.egress_gb) * u128::from(BYTES_PER_GB), u128::from(inc.requests));
        if bytes > bytes_in || requests > requests_in {
            out.push(format!(
                "**Over the `{name}` plan in month {}**: {} delivered of {} included, {} requests of {}. The plan \
                 bills nothing more: the provider throttles or asks for a higher plan, which this run does not model.",
                bill.month + 1,
                format::bytes(bytes as f64),
                format::bytes(bytes_in as f64),
                count(requests.min(u128::from(u64::MAX)) as u64),
                count(inc.requests)
            ));
        }
    }
    out
}

/// `units` base units of a bill line's meter as a planner reads them.
fn line_usage(meter: Meter, units: u128) -> String {
    match meter {
        Meter::StorageByteTime | Meter::StorageInfrequent => {
            format!("{:.1} GB-month", units as f64 / clipsim_engine::billing::BYTE_MICROS_PER_GB_MONTH as f64)
        }
        Meter::CdnRequests | Meter::OriginRequests | Meter::RequestsInfrequent => {
            format!("{} requests", count(units.min(u128::from(u64::MAX)) as u64))
        }
        Meter::CdnPlan => format!("{:.2} months", units as f64 / clipsim_engine::billing::MICROS_PER_PLAN_MONTH as f64),
        Meter::CdnEgress
        | Meter::OriginEgressDirect
        | Meter::OriginEgressToCdn
        | Meter::InterRegion
        | Meter::Retrieval => format::bytes(units as f64),
    }
}

/// A free allowance of `n` price units of `key`: `1,024 GB of egress`, `10,000,000 requests`.
fn free_price_units(key: PriceKey, n: u64) -> String {
    match key {
        PriceKey::StoragePerGbMonth => format!("{} GB-month of storage", count(n)),
        PriceKey::RequestsPer10k => format!("{} requests", count(n.saturating_mul(10_000))),
        _ => format!("{} GB of egress", count(n)),
    }
}

/// The report text, linking `charts` (each with what to read from it).
pub fn report_md(r: &RunResult, s: &Summary, charts: &[Chart]) -> String {
    let sc = &r.scenario;
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", sc.name);
    if let Some(d) = &sc.description {
        let _ = writeln!(o, "{d}\n");
    }
    // What was simulated: the whole duration, or up to the interruption.
    let simulated = if r.interrupted { format::time(r.end) } else { sc.duration.to_string() };
    if r.interrupted {
        let _ = writeln!(
            o,
            "> **Interrupted** at simulated time {simulated} of the planned {}: every figure below covers only the simulated part.\n",
            sc.duration
        );
    }
    let _ = writeln!(
        o,
        "Simulated {} with seed {} ({} requests, {} after the {} warm-up). Scenario SHA-256 `{}`, clipsim {} (commit `{}`).\n",
        simulated,
        sc.seed,
        count(s.requests.simulated),
        count(s.requests.total),
        sc.warmup,
        &sc.sha256[..16],
        s.version,
        &s.git_commit[..s.git_commit.len().min(12)]
    );
    match &s.trace {
        Some(t) => {
            let _ = writeln!(o, "{}\n", trace_paragraph(t, sc.duration));
        }
        None => {
            let _ = writeln!(o, "{}\n", measured_period(sc));
        }
    }
    if let Some(env) = &sc.env {
        let set: Vec<String> = env.applied.iter().map(|(name, value)| format!("`{name}={value}`")).collect();
        let _ = writeln!(
            o,
            "Overrides from `{}`: {}.\n",
            env.file.display(),
            if set.is_empty() { "none applied".to_string() } else { set.join(", ") }
        );
    }

    // Targets.
    let _ = writeln!(o, "## Targets\n");
    if s.targets.is_empty() {
        let _ = writeln!(o, "No targets were set.\n");
    } else {
        let _ = writeln!(o, "| target | required | simulated | verdict |\n| --- | --- | --- | --- |");
        for t in &s.targets {
            let _ = writeln!(
                o,
                "| `{}` | {} {} | {} | {} |",
                t.name,
                t.direction.replace("<=", "≤").replace(">=", "≥"),
                t.name.show(t.target),
                t.name.show_opt(t.actual),
                if t.pass { "pass" } else { "**FAIL**" }
            );
        }
        let failed = s.targets.iter().filter(|t| !t.pass).count();
        let _ = writeln!(o, "\n{} of {} targets met.\n", s.targets.len() - failed, s.targets.len());
    }

    o.push_str(&super::robust::section(s));
    if let Some(rollout) = &s.rollout {
        o.push_str(&crate::rollout::report::section(rollout));
    }

    // Headline.
    let costs = cost_by_category(r);
    let total = costs.iter().fold(MoneyNanos::ZERO, |a, &b| a + b);
    let _ = writeln!(o, "## At a glance\n");
    let _ = writeln!(o, "| figure | value |\n| --- | --- |");
    let billed = match sc.pre_run() {
        p if p > clipsim_engine::SimDuration::ZERO && !r.interrupted => {
            format!("{} after the pre-run", clipsim_engine::SimDuration(sc.duration.as_micros() - p.as_micros()))
        }
        _ => format!("simulated {simulated}"),
    };
    let _ = writeln!(o, "| bill for the {billed} | {} |", dollars(total));
    let _ =
        writeln!(o, "| cost per GB delivered | {} |", s.cost_per_gb_usd.map_or("n/a".into(), |c| format!("${c:.4}")));
    let _ = writeln!(o, "| delivered | {} |", format::bytes(s.bytes_served as f64));
    let _ = writeln!(
        o,
        "| availability | {} ({} failed) |",
        crate::report::target::Target::Availability.show_opt(s.availability),
        count(s.requests.failed)
    );
    let _ = writeln!(
        o,
        "| load time P50 / P95 / P99 | {} / {} / {} |",
        ms(s.latency_ms.p50),
        ms(s.latency_ms.p95),
        ms(s.latency_ms.p99)
    );
    let _ = writeln!(o, "| CDN edge hit rate | {} |", pct(s.hit_rates.cdn_cache));
    if let Some(by_cdn) = requests_by_cdn(s) {
        let _ = writeln!(o, "| requests and bill by CDN (whole run) | {by_cdn} |");
    }
    if s.requests.cdn_revalidated > 0 {
        let _ = writeln!(
            o,
            "| CDN revalidations (expired edge copies confirmed with an origin, no body fetched) | {} |",
            count(s.requests.cdn_revalidated)
        );
    }
    let _ = writeln!(
        o,
        "| mirror hit rate (all / top 100 clips) | {} / {} |",
        pct(s.hit_rates.mirror),
        pct(s.hit_rates.mirror_top100)
    );
    if sc.mirror_min_hit_rate > 0.0 {
        if let Some(h) = s.hit_rates.mirror {
            if h < sc.mirror_min_hit_rate {
                let _ = writeln!(
                    o,
                    "| `MIRROR_MIN_HIT_RATE` ({:.0} %) | **below**: {} |",
                    sc.mirror_min_hit_rate * 100.0,
                    pct(Some(h))
                );
            }
        }
    }
    let _ = writeln!(o, "| failovers | {} |", count(s.failovers));
    let _ = writeln!(o, "| cost alerts | {} |\n", s.cost_alerts);

    if let Some(c) = &s.calibration {
        o.push_str(&calibration_section(c));
    }

    // Expected vs simulated.
    if let Some(e) = &sc.expected {
        let months = (r.end - (SimTime::ZERO + sc.pre_run())).as_secs_f64() / sc.engine.billing.month.as_secs_f64();
        let _ = writeln!(o, "## The estimate beside the simulation\n");
        if let Some(src) = &e.source {
            let _ = writeln!(o, "Estimate: {src}. The simulated bill covers {months:.2} billing month(s).\n");
        }
        let _ = writeln!(o, "| category | estimate | simulated | difference |\n| --- | --- | --- | --- |");
        for (i, c) in Category::ALL.iter().enumerate() {
            let est = e.categories.iter().find(|(k, _)| k == c).map(|(_, n)| MoneyNanos(*n as i64));
            if est.is_none() && costs[i] == MoneyNanos::ZERO {
                continue;
            }
            let diff = est.map_or("".into(), |x| dollars(MoneyNanos(costs[i].0 - x.0)));
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                c.name(),
                est.map_or("not estimated".into(), dollars),
                dollars(costs[i]),
                diff
            );
        }
        if let Some(t) = e.total_nanos {
            let _ = writeln!(
                o,
                "| **total** | **{}** | **{}** | **{}** |",
                dollars(MoneyNanos(t as i64)),
                dollars(total),
                dollars(MoneyNanos(total.0 - t as i64))
            );
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "What the figures mean in usage (at the simulated effective rate of each category):\n");
        for (i, c) in Category::ALL.iter().enumerate() {
            let (usage, unit) = category_usage(r, *c);
            let est = e.categories.iter().find(|(k, _)| k == c).map(|(_, n)| *n as f64 / 1e9);
            if usage <= 0.0 || costs[i].0 <= 0 {
                if let Some(est) = est {
                    let _ = writeln!(o, "- {}: the estimate has ${est:.2}; the simulation used none.", c.name());
                }
                continue;
            }
            let rate = costs[i].as_usd_f64() / usage;
            let line = match est {
                Some(est) => format!(
                    "the estimate's ${est:.2} buys {} at ${rate:.4} per {unit}; the simulation used {} (${:.2})",
                    usage_text(est / rate, unit),
                    usage_text(usage, unit),
                    costs[i].as_usd_f64()
                ),
                None => format!(
                    "not in the estimate; the simulation used {} at ${rate:.4} per {unit} (${:.2})",
                    usage_text(usage, unit),
                    costs[i].as_usd_f64()
                ),
            };
            let _ = writeln!(o, "- {}: {line}.", c.name());
        }
        let _ = writeln!(o);
        if !e.notes.is_empty() {
            let _ = writeln!(o, "Why they differ:\n");
            for n in &e.notes {
                let _ = writeln!(o, "- {n}");
            }
            let _ = writeln!(o);
        }
    }

    // Bill.
    let _ = writeln!(o, "## The bill\n");
    let _ = writeln!(o, "Usage is metered exactly in bytes, byte-time and requests; each line is priced with its provider's tiered rates (tiers reset each billing month) and rounded down once to the nanodollar.\n");
    let _ = writeln!(o, "| month | line | provider | zone | usage | cost (exact, to the nanodollar) |\n| --- | --- | --- | --- | --- | --- |");
    for bill in r.measured_bills() {
        for l in bill.lines.iter().filter(|l| l.usage > 0 || l.cost != MoneyNanos::ZERO) {
            let provider = cell(&sc.engine.providers[l.key.provider.index()]);
            let zone = cell(sc.engine.zone_name(l.key.meter, l.key.zone));
            let usage = match l.free {
                0 => line_usage(l.key.meter, l.usage),
                free => format!("{} ({} free)", line_usage(l.key.meter, l.usage), line_usage(l.key.meter, free)),
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                bill.month + 1,
                l.key.meter.name(),
                provider,
                zone,
                usage,
                format::money_exact(l.cost)
            );
        }
        let _ = writeln!(o, "| {} | **total** | | | | **{}** |", bill.month + 1, format::money_exact(bill.total()));
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "By category: {}.\n",
        Category::ALL
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} {}", c.name(), dollars(costs[i])))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(o, "Prices:\n");
    for p in &sc.providers {
        let free: Vec<String> =
            p.free_per_month.iter().filter(|(_, n)| *n > 0).map(|&(k, n)| free_price_units(k, n)).collect();
        let free = match free.is_empty() {
            true => String::new(),
            false => format!(". Free each month, every zone together: {}", free.join(", ")),
        };
        let _ = writeln!(o, "- `{}` ({}): {}{free}", p.name, p.kind.name(), p.source);
    }
    for line in plan_overruns(r) {
        let _ = writeln!(o, "\n{line}");
    }
    if !sc.price_changes.is_empty() {
        let _ = writeln!(
            o,
            "\nThese are the prices at the start: {} price change(s) during the run (in the timeline) re-price usage from their time on, so a line that spans one blends the two rates.",
            sc.price_changes.len()
        );
    }
    let _ = writeln!(o);

    // Regions.
    let _ = writeln!(o, "## Regions\n");
    let _ = writeln!(o, "| region | storage | stored at end | origin requests served | bytes served | storage cost | egress cost |\n| --- | --- | --- | --- | --- | --- | --- |");
    let metrics = r.engine.metrics(r.end);
    for (i, reg) in sc.engine.regions.iter().enumerate() {
        let (req, bytes) = r.recorder.region_served[i];
        let cost_of = |pred: &dyn Fn(Meter) -> bool| {
            r.measured_bills()
                .iter()
                .flat_map(|b| &b.lines)
                .filter(|l| !l.key.meter.zone_is_geo() && l.key.zone == i as u32 && pred(l.key.meter))
                .fold(MoneyNanos::ZERO, |a, l| a + l.cost)
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&reg.name),
            cell(&sc.engine.providers[reg.storage_provider.index()]),
            format::bytes(metrics.regions[i].stored_bytes as f64),
            count(req),
            format::bytes(bytes as f64),
            dollars(cost_of(&|m| m.category() == Category::Storage)),
            dollars(cost_of(&|m| m.category() == Category::OriginEgress))
        );
    }
    if sc.engine.lifecycle.is_some() {
        let _ = writeln!(
            o,
            "\nWith the `[lifecycle]` rule, storage cost counts both storage classes and egress cost includes the infrequent-access class's retrieval fee."
        );
    }
    if sc.warmup.as_micros() > 0 {
        let _ = writeln!(
            o,
            "\nRequests and bytes served count after the {} warm-up, like every request figure; costs, like the bill, cover the whole run (after a steady-state pre-run, only the months after it).",
            sc.warmup
        );
    }
    let _ = writeln!(o);

    // Delivery.
    let _ = writeln!(o, "## How requests were served\n");
    let _ = writeln!(o, "| source | requests | share |\n| --- | --- | --- |");
    for f in ServedFrom::ALL {
        let n = r.recorder.total.served(f);
        let _ = writeln!(o, "| {} | {} | {} |", f.name(), count(n), pct(crate::record::ratio(n, s.requests.total)));
    }
    let _ = writeln!(o, "\n| geography | share of views | P50 | P95 | P99 |\n| --- | --- | --- | --- | --- |");
    for (g, name) in sc.geos.iter().enumerate() {
        let l = &s.latency_ms_by_geo[name];
        let _ = writeln!(
            o,
            "| {} | {:.0} % | {} | {} | {} |",
            cell(name),
            sc.traffic.geo_shares[g] * 100.0,
            ms(l.p50),
            ms(l.p95),
            ms(l.p99)
        );
    }
    let m = &s.mirrors;
    // The policies beyond the seed say what they did, when they did anything.
    let predicted = if m.predicted > 0 {
        format!(" ({} of them by predictive mirroring, below the threshold)", m.predicted)
    } else {
        String::new()
    };
    let withheld = if m.withheld > 0 {
        format!(
            " Cost-capped replication withheld copies {} times (clips and syncs) while the cost alert was raised.",
            m.withheld
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "\nMirrors: {} ordered{predicted}, {} completed, {} expired ({} deleted by cleanup), {} abandoned; at most {} held storage at once, {} serveable at the end.{withheld}\n",
        m.created, m.activated, m.expired, m.deleted, m.abandoned, m.active_peak, m.active_at_end
    );

    // Charts.
    if !charts.is_empty() {
        let _ = writeln!(o, "## Charts\n");
        for c in charts {
            let _ = writeln!(o, "### {}\n\n![{}]({})\n\n{}\n", c.caption, c.caption, c.file, c.read);
        }
    }

    // Timeline.
    let timeline = &r.recorder.timeline;
    if !timeline.is_empty() || !r.recorder.at_end.is_empty() {
        let _ = writeln!(o, "## Timeline\n");
        const SHOWN: usize = 60;
        for n in timeline.iter().take(SHOWN) {
            let _ = writeln!(o, "- {}: {}", format::time(n.at), super::timeline::describe(sc, &n.event));
        }
        if timeline.len() > SHOWN {
            let _ = writeln!(o, "- ... and {} more", timeline.len() - SHOWN);
        }
        // What was still in force at the end, however long the timeline.
        for &what in &r.recorder.at_end {
            let what = super::timeline::describe_in_force(sc, what);
            let _ = writeln!(o, "- {}: {what} at the end", format::time(r.end));
        }
        let _ = writeln!(o);
    }

    let env = sc.env.as_ref().map_or(String::new(), |e| format!(" --env {}", e.file.display()));
    let trace = sc.traffic.trace.as_ref().map_or(String::new(), |t| format!(" --trace {}", t.path.display()));
    let _ = writeln!(o, "## Reproduce\n\n```sh\nclipsim run {}{env}{trace} --seed {}\n```", sc.path.display(), sc.seed);
    o
}

/// Where a trace-driven run's requests came from, and what of the trace it served.
fn trace_paragraph(t: &super::summary::TraceSummary, duration: clipsim_engine::SimDuration) -> String {
    // Times that read as Unix seconds (after 2001) are shown as dates.
    let when = |s: u64| {
        if s >= 1_000_000_000 {
            let d = s % 86_400;
            format!("{} {:02}:{:02}:{:02} UTC", format::civil_date(s / 86_400), d / 3600, d % 3600 / 60, d % 60)
        } else {
            format!("{s} s")
        }
    };
    let uploads = match t.uploads.as_str() {
        "start" => "every clip uploaded at the start (`trace_uploads = \"start\"`)",
        _ => "each clip uploaded at its first view",
    };
    let mut p = format!(
        "Serves the trace `{}` ({}): {} requests for {} clips from {} to {}, {uploads}; the run's time 0 is {}. \
         The scenario's synthetic traffic (rate, popularity, catalog, history, uploads, spikes) is not used.",
        t.file,
        t.format,
        count(t.requests),
        count(t.clips),
        when(t.first_s),
        when(t.last_s),
        when(t.origin_s),
    );
    if t.served < t.requests {
        let _ = write!(
            p,
            " **{} requests past the run's {duration} were not served** (a longer `scenario.duration` serves them).",
            count(t.requests - t.served)
        );
    }
    let span = t.last_s.saturating_sub(t.origin_s);
    if span < duration.as_secs() / 2 {
        let _ = write!(p, " The trace covers less than half of the run: the rest has no views but is billed.");
    }
    if t.out_of_order > 0 {
        let _ = write!(
            p,
            " {} requests were earlier than the one before them and were served at that one's time.",
            count(t.out_of_order)
        );
    }
    p
}

/// The CDN's own results beside the simulated edge's, on the same requests.
fn calibration_section(c: &super::summary::CalibrationSummary) -> String {
    let pct = |v: Option<f64>| format::or_na(v, |v| format::percent(v, 2));
    let points = |v: f64| format!("{:+.2}", v * 100.0);
    let mut o = String::from(
        "## Observed beside simulated

",
    );
    o.push_str(
        "The trace carries the CDN's own cache results: on the same requests (after the warm-up, those the CDN \
         logged as a hit or a miss), its edge hit rate beside the simulated edge's. Each request weighs its clip's \
         size in the byte hit rates. The difference is in percentage points, simulated minus observed, with a 95 % \
         interval over the days. `docs/calibration.md` in clipsim's repository says how to tune \
         `cdn.edge_capacity_gb` and `cdn.cache_ttl` until they agree.\n\n",
    );
    o.push_str(
        "| geography | requests | hit rate, observed | simulated | difference (points) | byte hit rate, observed | simulated | bytes past the edge, observed | simulated |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in &c.by_geo {
        let diff = match (r.difference, r.difference_ci95) {
            (Some(d), Some((lo, hi))) => format!("{} ({} to {})", points(d), points(lo), points(hi)),
            (Some(d), None) => points(d),
            _ => "n/a".into(),
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {diff} | {} | {} | {} | {} |",
            cell(&r.geo),
            count(r.requests),
            pct(r.observed_hit_rate),
            pct(r.simulated_hit_rate),
            pct(r.observed_byte_hit_rate),
            pct(r.simulated_byte_hit_rate),
            format::bytes(r.observed_bytes_past_edge as f64),
            format::bytes(r.simulated_bytes_past_edge as f64),
        );
    }
    if let Some(all) = c.by_geo.last() {
        let verdict = match (all.difference, all.difference_ci95) {
            (Some(_), Some((lo, hi))) if lo <= 0.0 && 0.0 <= hi => {
                "The simulated edge agrees with the real one within the day-to-day noise.".to_string()
            }
            (Some(d), _) if d < 0.0 => {
                "**The simulated edge is colder than the real one**: it hits less often. A larger \
                `cdn.edge_capacity_gb` or a longer `cdn.cache_ttl` warms it."
                    .to_string()
            }
            (Some(_), _) => "**The simulated edge is warmer than the real one**: it hits more often. A smaller \
                `cdn.edge_capacity_gb` or a shorter `cdn.cache_ttl` cools it."
                .to_string(),
            _ => String::new(),
        };
        let _ = writeln!(o, "\n{verdict}\n");
    }
    if c.by_day.len() > 1 {
        o.push_str("| day | requests | hit rate, observed | simulated | difference (points) |\n| --- | --- | --- | --- | --- |\n");
        for r in &c.by_day {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                r.geo,
                count(r.requests),
                pct(r.observed_hit_rate),
                pct(r.simulated_hit_rate),
                r.difference.map_or("n/a".into(), points)
            );
        }
        o.push('\n');
    }
    o
}

/// A name as a Markdown table cell: a `|` in it would end the cell.
fn cell(name: &str) -> String {
    name.replace('|', "\\|")
}

/// Which part of the catalog's life the figures measure: a launch month, or a catalog with a
/// history (steady state), from the end of the warm-up to the end of the run.
fn measured_period(sc: &crate::scenario::Scenario) -> String {
    let from = sc.catalog.history + sc.warmup;
    let to = sc.catalog.history + sc.duration;
    if let Some(s) = sc.steady_state.as_ref().and_then(|s| s.settled.as_ref()) {
        let pct = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{:.1} %", 100.0 * v));
        let weeks = format!(
            "a mean of {:.1} active mirrors against {:.1} the week before, edge hit rate {} against {}",
            s.mirrors.0,
            s.mirrors.1,
            pct(s.edge_hit.0),
            pct(s.edge_hit.1)
        );
        let criterion = "weekly means within 2 % (or 2 mirrors), edge hit rates within 1 point";
        return match s.steady_after {
            Some(after) => format!(
                "Measures a steady state (`scenario.steady_state`): a pilot run without the scripted events held still after \
                 {after} ({weeks}; the criterion: {criterion}), so a pre-run of {} (whole billing months) came first. The \
                 figures cover {from} to {to} of the catalog's life and the bill only the months after the pre-run.",
                s.pre_run
            ),
            None => format!(
                "**Not a steady state**: the pilot run did not hold still within `steady_state_max` ({weeks} at its end; \
                 the criterion: {criterion}). The figures cover {from} to {to} of the catalog's life, after a pre-run of {}, \
                 and the bill only the months after it; a score that never forgets (the lifetime count) keeps growing the \
                 mirror set.",
                s.pre_run
            ),
        };
    }
    if sc.catalog.history == clipsim_engine::SimDuration::ZERO {
        format!(
            "Measures a launch: every catalog clip starts with no views, and the figures cover {from} to {to} after it \
             (set `catalog.history` or `scenario.steady_state` to measure a catalog in its steady state)."
        )
    } else {
        format!(
            "Measures a catalog viewed for {} before the run (`catalog.history`): the figures cover {from} to {to} of its life.",
            sc.catalog.history
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The measured period counts from the catalog's start: after the warm-up of a launch, or
    /// after the history and the warm-up.
    #[test]
    fn the_report_names_the_period_it_measures() {
        let text = "[scenario]\nname = \"p\"\nduration = \"30d\"\nwarmup = \"1d\"\n[catalog]\nclips = 10\n";
        let load = |t: &str| crate::scenario::from_str(std::path::Path::new("p.toml"), t, &Default::default()).unwrap();
        let launch = measured_period(&load(text));
        assert!(launch.starts_with("Measures a launch") && launch.contains("cover 1d to 30d after it"), "{launch}");
        let steady = measured_period(&load(&text.replace("clips = 10\n", "clips = 10\nhistory = \"60d\"\n")));
        assert!(
            steady.starts_with("Measures a catalog viewed for 60d") && steady.contains("cover 61d to 90d"),
            "{steady}"
        );
    }

    /// A month over a flat-rate plan's included delivery or requests is named, with both
    /// figures; a month within it, or a CDN without a plan, is not; and the plan's line reads in
    /// months. 1,000 views of 1 MB clips a month through a plan that includes 1 GB and 500
    /// requests, then 2 GB and 2,000 requests.
    #[test]
    fn a_month_over_the_plan_is_named() {
        let text = |includes: &str| {
            format!(
                "[scenario]\nname = \"p\"\nduration = \"30d\"\n[catalog]\nclips = 10\nsize = {{ dist = \"fixed\", mb = 1.0 }}\n\
                 [traffic]\nviews_per_month = 1000\n[cdn]\nenabled = true\nprovider = \"edgy\"\n\
                 [providers.edgy]\nkind = \"cdn\"\negress_per_gb = 0\nplan_per_month = 20\n{includes}"
            )
        };
        let run = |t: &str| {
            let sc = crate::scenario::from_str(std::path::Path::new("p.toml"), t, &Default::default()).unwrap();
            crate::run_scenario(sc).unwrap()
        };
        let over = plan_overruns(&run(&text("plan_includes = { egress_gb = 1, requests = 500 }\n")));
        assert_eq!(over.len(), 1, "{over:?}");
        assert!(over[0].starts_with("**Over the `edgy` plan in month 1**") && over[0].contains("of 500"), "{over:?}");
        assert!(plan_overruns(&run(&text("plan_includes = { egress_gb = 2, requests = 2000 }\n"))).is_empty());
        assert!(plan_overruns(&run(&text(""))).is_empty(), "a plan that says nothing of what it includes");
        assert_eq!(line_usage(Meter::CdnPlan, clipsim_engine::billing::MICROS_PER_PLAN_MONTH / 2), "0.50 months");
    }

    #[test]
    fn usage_reads_in_plain_units() {
        assert_eq!(usage_text(187.0216, "10,000 requests"), "1,870,216 requests");
        assert_eq!(usage_text(3043.48, "GB-month"), "3043 GB-month");
        assert_eq!(usage_text(9802.6, "GB"), "9803 GB");
    }

    #[test]
    fn a_pipe_in_a_name_stays_in_its_cell() {
        let row = format!("| {} | x |", cell("eu|west"));
        // Cells split at unescaped pipes only.
        let cells = row.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 3, "{row}");
        assert_eq!(cell("plain"), "plain");
    }
}
