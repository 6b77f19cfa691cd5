//! Conformance vectors: every input a run handed the engine and every output the engine
//! produced, as versioned JSON Lines, for a production service written in another language to
//! replay (`clipsim conformance`; the schema is docs/conformance.md).
//!
//! A run records its calls into the engine ([`record::Recording`]); [`write`] replays them
//! through a fresh engine of the same configuration and writes each with what the engine
//! answered; [`check`] replays a vectors file through the engine of this clipsim and reports the
//! first line where the engine answers otherwise. The vectors are written from the replay, so a
//! file that [`write`] made is one that [`check`] passes, by construction of the same code path,
//! and the run's own outcomes are compared with the replay's in the tests.

pub mod json;
pub mod record;

use crate::scenario::Scenario;
use clipsim_engine::{Engine, EngineError, Output, Request, ServedFrom, SimDuration, SimTime, Step};
use record::{Answer, Event, Recording};
use serde_json::{json, Value};
use std::io::Write;

/// The vectors' format name, in the header line.
pub const FORMAT: &str = "clipsim-conformance";
/// The schema version: a reader refuses others.
pub const VERSION: u64 = 1;

/// What writing or checking vectors found wrong.
#[derive(Debug)]
pub enum VectorError {
    /// Reading or writing failed.
    Io(std::io::Error),
    /// The file is not vectors of this version: line, message.
    Bad(usize, String),
    /// The run cannot be written as vectors (too many calls, a request of too many steps).
    Unrecordable(String),
    /// The engine answered otherwise than the vectors say: line, what differs.
    Differs(usize, String),
}

impl std::fmt::Display for VectorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VectorError::Io(e) => write!(f, "{e}"),
            VectorError::Bad(line, m) => write!(f, "line {line}: {m}"),
            VectorError::Unrecordable(m) => write!(f, "{m}"),
            VectorError::Differs(line, m) => write!(f, "line {line}: the engine differs: {m}"),
        }
    }
}

impl From<std::io::Error> for VectorError {
    fn from(e: std::io::Error) -> Self {
        VectorError::Io(e)
    }
}

/// What a replay went through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Lines, header and end included.
    pub lines: usize,
    /// Inputs.
    pub inputs: u64,
    /// Timeouts.
    pub timeouts: u64,
    /// Requests.
    pub requests: u64,
    /// Outputs.
    pub outputs: u64,
    /// Requests by outcome ([`ServedFrom`] as index).
    pub served_from: [u64; 6],
}

/// The header line of the vectors of a run of `sc`.
pub fn header(sc: &Scenario) -> Value {
    json!({
        "type": "header",
        "format": FORMAT,
        "version": VERSION,
        "clipsim": env!("CARGO_PKG_VERSION"),
        "scenario": { "name": sc.name, "seed": sc.seed, "sha256": sc.sha256, "text": sc.text },
        "config": json::config(&sc.engine, sc),
    })
}

fn answer_of(answers: u64, steps: u8, i: u8) -> Answer {
    Answer::from_code(answers >> (2 * u32::from(steps - 1 - i)))
}

/// Serves one request as the caller did (its answers), returning the steps (with answers) and
/// the outcome, or what went wrong.
fn request(
    engine: &mut Engine,
    cfg: &clipsim_engine::EngineConfig,
    t: SimTime,
    clip: clipsim_engine::ClipId,
    geo: clipsim_engine::GeoId,
    mut answer: impl FnMut(usize, &Step) -> Result<Answer, String>,
) -> Result<(Vec<Value>, ServedFrom), String> {
    let mut req: Request = engine.begin_request(t, clip, geo).map_err(|e| format!("begin_request: {e}"))?;
    let mut steps = Vec::new();
    loop {
        let step = engine.next_step(t, &req);
        let mut v = json::step(cfg, &step);
        // With two CDNs, the one a step through a CDN uses.
        if let (Some(_), Some(k)) = (cfg.second_cdn, req.cdn_index()) {
            if matches!(step, Step::Edge | Step::Origin { via_cdn: true, .. }) {
                let provider = if k == 0 { cfg.cdn_provider } else { cfg.second_cdn.map(|s| s.provider) };
                v["cdn"] = json!(provider.map(|p| &cfg.providers[p.index()]));
            }
        }
        if step == Step::Failed {
            steps.push(v);
            let from = engine.finish(&req, step).map_err(|e| format!("finish: {e}"))?;
            return Ok((steps, from));
        }
        let a = answer(steps.len(), &step)?;
        v["answer"] = json!(a.name());
        steps.push(v);
        match a {
            Answer::Served => {
                let from = engine.finish(&req, step).map_err(|e| format!("finish: {e}"))?;
                return Ok((steps, from));
            }
            Answer::Failed => engine.attempt_failed(&mut req, step).map_err(|e| format!("attempt_failed: {e}"))?,
            Answer::Expired if step == Step::Edge => req.edge_expired(),
            Answer::Missed if step == Step::Edge => req.edge_missed(),
            _ => return Err(format!("the answer {:?} to a step that is not the edge's", a.name())),
        }
    }
}

fn drain(engine: &mut Engine) -> Vec<Output> {
    std::iter::from_fn(|| engine.poll_output()).collect()
}

/// Writes the vectors of `rec` (a run of `sc`) to `out`: a header, a line per call with the
/// outputs the engine queued during it (drained after it), and an end line with the counters, the bills
/// and the mirrors held.
pub fn write(sc: &Scenario, rec: &Recording, out: &mut impl Write) -> Result<Tally, VectorError> {
    let bad = VectorError::Unrecordable;
    if rec.overflow {
        return Err(bad(format!("a request took more than {} steps: not recordable", record::STEPS_MAX)));
    }
    if rec.truncated {
        return Err(bad(format!(
            "the run made more than {} engine calls, too many for vectors: record a smaller scenario \
             (fewer views, clips or days; probes every few minutes)",
            crate::report::format::count(record::EVENTS_MAX as u64)
        )));
    }
    let mut engine = crate::world::engine_for(sc).map_err(|e| bad(e.to_string()))?;
    let cfg = engine.config().clone();
    let mut tally = Tally::default();
    let emit = |line: Value, out: &mut dyn Write, tally: &mut Tally| -> std::io::Result<()> {
        tally.lines += 1;
        serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    };
    emit(header(sc), out, &mut tally)?;
    let engine_err = |what: &str, e: EngineError| bad(format!("{what}: the engine refused a recorded call: {e}"));
    for ev in &rec.events {
        let mut line = match ev {
            Event::Input(t, input) => {
                tally.inputs += 1;
                engine.handle_input(*t, input.clone()).map_err(|e| engine_err("input", e))?;
                json!({"type": "input", "t_us": t.as_micros(), "input": json::input(&cfg, input)})
            }
            Event::Timeout(t) => {
                tally.timeouts += 1;
                engine.handle_timeout(*t).map_err(|e| engine_err("timeout", e))?;
                json!({"type": "timeout", "t_us": t.as_micros()})
            }
            Event::Request { t, clip, geo, answers, steps } => {
                tally.requests += 1;
                let (n, a) = (*steps, *answers);
                let (steps, from) = request(&mut engine, &cfg, *t, *clip, *geo, |i, _| {
                    u8::try_from(i)
                        .ok()
                        .filter(|&i| i < n)
                        .map(|i| answer_of(a, n, i))
                        .ok_or_else(|| "the engine asked for more steps than the run answered".to_string())
                })
                .map_err(bad)?;
                tally.served_from[from as usize] += 1;
                json!({
                    "type": "request", "t_us": t.as_micros(), "clip": clip.0, "geo": cfg.geos[geo.index()],
                    "steps": steps, "served": from.name(),
                })
            }
            Event::CloseBooks(t) => {
                engine.close_books(*t).map_err(|e| engine_err("close_books", e))?;
                json!({"type": "close_books", "t_us": t.as_micros()})
            }
        };
        // Drained after every call (the run drains less often; the queue's order is the same).
        let outs = drain(&mut engine);
        if !outs.is_empty() {
            tally.outputs += outs.len() as u64;
            line["outputs"] = outs.iter().map(|o| json::output(&cfg, o)).collect();
        }
        emit(line, out, &mut tally)?;
    }
    emit(end_line(&engine), out, &mut tally)?;
    Ok(tally)
}

fn end_line(engine: &Engine) -> Value {
    let cfg = engine.config();
    json!({
        "type": "end",
        "counters": json::counters(engine.counters()),
        "bills": json::bills(cfg, engine.bills()),
        "mirrors": json::mirrors(cfg, engine.all_mirrors()),
    })
}

/// Where two JSON values first differ, as `path: expected X, engine Y`.
fn diff(path: &str, want: &Value, got: &Value) -> Option<String> {
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|k| {
                diff(&format!("{path}.{k}"), a.get(k).unwrap_or(&Value::Null), b.get(k).unwrap_or(&Value::Null))
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| diff(&format!("{path}[{i}]"), x, y))
        }
        _ if want == got => None,
        _ => Some(format!("{path}: the vectors say {want}, the engine {got}")),
    }
}

/// Replays the vectors in `text` through the engine of this clipsim, built from the scenario in
/// their header; the first difference is an error naming its line.
pub fn check(text: &str) -> Result<Tally, VectorError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let parse = |n: usize, l: &str| -> Result<Value, VectorError> {
        serde_json::from_str(l).map_err(|e| VectorError::Bad(n, format!("not JSON: {e}")))
    };
    let (n, first) = lines.next().ok_or(VectorError::Bad(1, "empty: expected a header line".into()))?;
    let head = parse(n, first)?;
    if head["format"] != FORMAT || head["version"] != VERSION {
        return Err(VectorError::Bad(
            n,
            format!(
                "expected a header of format {FORMAT:?} version {VERSION}, found {} version {}",
                head["format"], head["version"]
            ),
        ));
    }
    let sc_text = head["scenario"]["text"].as_str().ok_or(VectorError::Bad(n, "no scenario.text".into()))?;
    let name = head["scenario"]["name"].as_str().unwrap_or("scenario");
    // The seed drives the workload, not the engine: its configuration is the scenario's alone.
    let overrides = crate::scenario::Overrides::default();
    // The trace a trace-driven run read is not needed (its requests are in the vectors) and may
    // not be here: the engine's configuration does not depend on it.
    let mut doc: toml_edit::DocumentMut =
        sc_text.parse().map_err(|e| VectorError::Bad(n, format!("the header's scenario is not TOML: {e}")))?;
    if let Some(traffic) = doc.get_mut("traffic").and_then(|t| t.as_table_like_mut()) {
        for key in ["trace", "trace_format", "trace_uploads"] {
            traffic.remove(key);
        }
    }
    let sc = crate::scenario::from_str(std::path::Path::new(&format!("{name}.toml")), &doc.to_string(), &overrides)
        .map_err(|e| VectorError::Bad(n, format!("the header's scenario: {e}")))?;
    if let Some(d) = diff("config", &head["config"], &json::config(&sc.engine, &sc)) {
        return Err(VectorError::Differs(n, format!("the scenario builds another configuration: {d}")));
    }
    let mut engine = crate::world::engine_for(&sc).map_err(|e| VectorError::Bad(n, e.to_string()))?;
    let cfg = engine.config().clone();
    let mut tally = Tally { lines: 1, ..Tally::default() };
    let mut ended = false;
    for (n, l) in lines {
        tally.lines += 1;
        if ended {
            return Err(VectorError::Bad(n, "a line after the end line".into()));
        }
        let v = parse(n, l)?;
        let bad = |m: String| VectorError::Bad(n, m);
        let differs = |m: String| VectorError::Differs(n, m);
        let t = || {
            v["t_us"]
                .as_u64()
                .map(|us| SimTime::ZERO + SimDuration::from_micros(us))
                .ok_or_else(|| bad("\"t_us\": expected microseconds".into()))
        };
        match v["type"].as_str().unwrap_or("") {
            "input" => {
                tally.inputs += 1;
                let input = json::parse_input(&cfg, &v["input"]).map_err(bad)?;
                engine.handle_input(t()?, input).map_err(|e| differs(format!("the engine refuses the input: {e}")))?;
            }
            "timeout" => {
                tally.timeouts += 1;
                engine.handle_timeout(t()?).map_err(|e| differs(format!("the engine refuses the timeout: {e}")))?;
            }
            "close_books" => engine.close_books(t()?).map_err(|e| differs(format!("close_books: {e}")))?,
            "request" => {
                tally.requests += 1;
                let clip = json::clip(&v).map_err(bad)?;
                let geo = json::geo_id(&cfg, &v, "geo").map_err(bad)?;
                let want = v["steps"].as_array().ok_or_else(|| bad("\"steps\": expected an array".into()))?;
                let (steps, from) = request(&mut engine, &cfg, t()?, clip, geo, |i, step| {
                    let w = want.get(i).ok_or_else(|| {
                        format!("step {i}: the engine takes {}, the vectors end", json::step(&cfg, step))
                    })?;
                    let name = w["answer"].as_str().unwrap_or("");
                    [Answer::Failed, Answer::Served, Answer::Expired, Answer::Missed]
                        .into_iter()
                        .find(|a| a.name() == name)
                        .ok_or_else(|| format!("step {i}: \"answer\": {name:?} is not an answer"))
                })
                .map_err(differs)?;
                if let Some(d) = diff("steps", &Value::Array(want.clone()), &Value::Array(steps)) {
                    return Err(differs(d));
                }
                if v["served"] != from.name() {
                    return Err(differs(format!(
                        "served: the vectors say {}, the engine {:?}",
                        v["served"],
                        from.name()
                    )));
                }
                tally.served_from[from as usize] += 1;
            }
            "end" => {
                if let Some(d) = diff("end", &v, &end_line(&engine)) {
                    return Err(differs(d));
                }
                ended = true;
                continue;
            }
            other => return Err(bad(format!("\"type\": {other:?} is not a vector type"))),
        }
        let outs: Vec<Value> = drain(&mut engine).iter().map(|o| json::output(&cfg, o)).collect();
        tally.outputs += outs.len() as u64;
        if let Some(d) = diff("outputs", v.get("outputs").unwrap_or(&json!([])), &Value::Array(outs)) {
            return Err(differs(d));
        }
    }
    if !ended {
        return Err(VectorError::Bad(tally.lines, "no end line: the vectors are cut short".into()));
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors of a small recorded run, as text.
    fn vectors() -> String {
        let r = crate::report::tables::tests::small_run_recorded();
        let mut out = Vec::new();
        let tally = write(&r.scenario, r.conformance.as_deref().unwrap(), &mut out).unwrap();
        assert_eq!(tally.requests, r.engine.counters().requests_total);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn written_vectors_check_and_cut_ones_do_not() {
        let text = vectors();
        let t = check(&text).unwrap();
        assert_eq!(t.lines, text.lines().count());
        assert!(t.requests > 1000 && t.inputs > 0 && t.timeouts > 0, "{t:?}");
        let cut: String = text.lines().take(text.lines().count() - 1).map(|l| format!("{l}\n")).collect();
        let e = check(&cut).unwrap_err();
        assert_eq!(e.to_string(), format!("line {}: no end line: the vectors are cut short", t.lines - 1));
        let served = text.replacen("\"served\":\"primary_via_cdn\"", "\"served\":\"edge\"", 1);
        assert!(matches!(check(&served), Err(VectorError::Differs(..))));
    }

    #[test]
    fn instants_of_mirrors_are_null_until_they_happen() {
        use clipsim_engine::mirrors::Mirror;
        use clipsim_engine::{ClipId, EngineConfig, RegionId, SimDuration};
        let mut cfg = EngineConfig::new();
        let p = cfg.add_provider("s3");
        cfg.add_region("us-east-1", p);
        let at = SimTime::ZERO + SimDuration::from_secs(5);
        let m = Mirror::pending(ClipId(3), RegionId(0), RegionId(0), at);
        let v = json::mirrors(&cfg, [m].iter());
        assert_eq!(v[0]["created_us"], 5_000_000);
        assert_eq!(v[0]["active_us"], Value::Null);
        assert_eq!(v[0]["expires_us"], Value::Null);
        assert_eq!(v[0]["state"], "pending");
    }
}
