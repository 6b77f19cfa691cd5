//! Running the points: on every core, resumable, and never leaving a half-written file.
//!
//! The output directory holds `sweep.json` (the manifest: the sweep's hash and both texts) and
//! `points/NNNNNN.json`, one file per finished point with the summary of each replica. A point
//! file is written to a hidden temporary file, flushed to disk, renamed into place and the
//! directory flushed, so a point file is either complete or absent, whatever kills the process.
//! A rerun reads the point files whose hash matches and runs only the others.
//!
//! Work is handed out by one atomic counter over (point, replica) pairs, point-major; the
//! thread that finishes a point's last replica writes its file. Nothing the threads do reaches
//! an output except through the point files, which depend only on the point and its seeds.

use super::design::Point;
use super::spec::{value_text, Spec};
use super::SweepError;
use crate::report::summarize;
use crate::report::Summary;
use crate::scenario::{self, Overrides, Scenario};
use crate::world::World;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// `format` of a point file.
pub const POINT_FORMAT: &str = "clipsim-sweep-point/2";
/// `format` of the manifest.
pub const MANIFEST_FORMAT: &str = "clipsim-sweep/1";
/// The manifest's file name.
pub const MANIFEST: &str = "sweep.json";
/// The folder of point files.
pub const POINTS_DIR: &str = "points";
/// The most worker threads.
pub const THREADS_MAX: usize = 256;
/// How often the coordinating thread looks for Ctrl-C.
const POLL: Duration = Duration::from_millis(50);

/// One finished point, as stored in `points/NNNNNN.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PointFile {
    /// [`POINT_FORMAT`].
    pub format: String,
    /// The sweep's hash ([`Spec::hash`]).
    pub sweep_sha256: String,
    /// The point's index.
    pub point: usize,
    /// Its value on each axis.
    pub assignment: Vec<Assigned>,
    /// One per replica, in replica order.
    pub replicas: Vec<ReplicaRecord>,
    /// SHA-256 of the point, its assignment and its replicas ([`PointFile::checksum`]): a file
    /// edited by hand (a figure changed, a replica dropped) is refused, not merged.
    pub content_sha256: String,
}

impl PointFile {
    /// A point file for point `point` of the sweep `sweep_sha256`, with its checksum.
    pub fn new(sweep_sha256: String, point: usize, assignment: Vec<Assigned>, replicas: Vec<ReplicaRecord>) -> Self {
        let mut pf = PointFile {
            format: POINT_FORMAT.into(),
            sweep_sha256,
            point,
            assignment,
            replicas,
            content_sha256: String::new(),
        };
        pf.content_sha256 = pf.checksum();
        pf
    }

    /// SHA-256 (hex) of the JSON of the point's index, assignment and replicas.
    pub fn checksum(&self) -> String {
        use sha2::{Digest, Sha256};
        let content = serde_json::to_string(&(self.point, &self.assignment, &self.replicas))
            .expect("plain data always serialises");
        Sha256::digest(content.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// An axis value.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Assigned {
    /// The scenario key.
    pub key: String,
    /// The value, as TOML.
    pub value: String,
}

/// One replica's run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplicaRecord {
    /// `0..K`.
    pub replica: u32,
    /// The seed it ran with.
    pub seed: u64,
    /// Its `summary.json`.
    pub summary: Summary,
}

/// `sweep.json`: what a directory of point files belongs to, with everything `merge` needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// `[sweep] name`.
    pub name: String,
    /// The sweep's hash.
    pub sweep_sha256: String,
    /// Points in the whole sweep.
    pub points: usize,
    /// Replicas per point.
    pub replicas: u32,
    /// The sweep file, as given.
    pub sweep_file: String,
    /// Its text.
    pub sweep_text: String,
    /// The base scenario's path.
    pub base_file: String,
    /// Its text.
    pub base_text: String,
}

impl Manifest {
    /// The manifest of a sweep.
    pub fn of(spec: &Spec, points: usize) -> Self {
        Manifest {
            format: MANIFEST_FORMAT.into(),
            name: spec.name.clone(),
            sweep_sha256: spec.hash.clone(),
            points,
            replicas: spec.replicas,
            sweep_file: spec.path.to_string_lossy().into_owned(),
            sweep_text: spec.text.clone(),
            base_file: spec.base_path.to_string_lossy().into_owned(),
            base_text: spec.base_text.clone(),
        }
    }
}

/// `--shard I/N`: the points whose index is `I` modulo `N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// `0..count`.
    pub index: u64,
    /// How many shards.
    pub count: u64,
}

impl Shard {
    /// Parses `I/N` with `0 <= I < N`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("--shard {s:?}: expected I/N with 0 <= I < N, such as 0/4 (the first of four shards)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether point `i` is in this shard.
    pub fn has(&self, i: usize) -> bool {
        i as u64 % self.count == self.index
    }
}

/// How to run.
pub struct RunOptions<'a> {
    /// The output directory.
    pub out: &'a Path,
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Only these points.
    pub shard: Option<Shard>,
    /// Set (by Ctrl-C) to stop: runs in progress are abandoned, finished points are kept.
    pub stop: &'a AtomicBool,
    /// Told how many points there are to run and when each one is finished.
    pub progress: Option<&'a dyn SweepProgress>,
}

/// Told how a sweep run goes (the command line draws a progress bar); called from the worker
/// threads.
pub trait SweepProgress: Sync {
    /// `points` points are to run in this run (the others were finished before).
    fn started(&self, points: usize);
    /// One more point is finished and on disk.
    fn point_done(&self);
}

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Points in the sweep.
    pub total: usize,
    /// Of those, in this shard.
    pub in_shard: usize,
    /// Found finished from an earlier run.
    pub resumed: usize,
    /// Finished by this run.
    pub ran: usize,
    /// Stopped before every point of the shard was done.
    pub stopped: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |error| SweepError::Io { path: path.to_path_buf(), error }
}

/// Writes `bytes` to `path` durably: a hidden temporary file beside it (named with `tag`),
/// flushed, renamed into place, and the directory flushed.
pub fn write_atomic(path: &Path, bytes: &[u8], tag: &str) -> Result<(), SweepError> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map_or("file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp-{tag}"));
    let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io(path))?;
    // Make the rename itself durable (not every platform can open a directory: best effort).
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A tag for temporary files unique to this process and shard (containers often share a pid).
pub fn tmp_tag(shard: Option<Shard>) -> String {
    match shard {
        Some(s) => format!("{}-s{}", std::process::id(), s.index),
        None => format!("{}", std::process::id()),
    }
}

/// The path of point `i`'s file.
pub fn point_path(out: &Path, i: usize) -> PathBuf {
    out.join(POINTS_DIR).join(format!("{i:06}.json"))
}

/// The JSON text of a value, pretty, with a trailing newline.
pub fn json_text<T: Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("plain data always serialises");
    s.push('\n');
    s
}

/// Reads a manifest, if the directory has one.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, SweepError> {
    let path = dir.join(MANIFEST);
    if !path.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path).map_err(io(&path))?;
    let m: Manifest = serde_json::from_str(&text)
        .map_err(|e| SweepError::Data { path: path.clone(), message: format!("not a sweep manifest: {e}") })?;
    if m.format != MANIFEST_FORMAT {
        return Err(SweepError::Data { path, message: format!("format {:?}, expected {MANIFEST_FORMAT:?}", m.format) });
    }
    Ok(Some(m))
}

/// Reads and checks one point file.
pub fn read_point(path: &Path, hash: &str, index: usize) -> Result<PointFile, SweepError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    let bad = |message: String| SweepError::Data {
        path: path.to_path_buf(),
        message: format!("{message}; delete the file to run the point again"),
    };
    let pf: PointFile = serde_json::from_str(&text).map_err(|e| bad(format!("not a point file: {e}")))?;
    if pf.format != POINT_FORMAT {
        return Err(bad(format!("format {:?}, expected {POINT_FORMAT:?}", pf.format)));
    }
    if pf.sweep_sha256 != hash {
        return Err(bad(format!("belongs to another sweep (hash {})", pf.sweep_sha256)));
    }
    if pf.point != index {
        return Err(bad(format!("holds point {}, not {index}", pf.point)));
    }
    if pf.checksum() != pf.content_sha256 {
        return Err(bad(
            "its contents do not match its checksum (content_sha256): it was changed after clipsim wrote it".into(),
        ));
    }
    Ok(pf)
}

/// The point files in `dir`: index → file, by name only. Hidden temporary files are skipped; a
/// point past `total` is an error.
pub fn point_files(dir: &Path, total: usize) -> Result<BTreeMap<usize, PathBuf>, SweepError> {
    let pdir = dir.join(POINTS_DIR);
    let mut out = BTreeMap::new();
    if !pdir.exists() {
        return Ok(out);
    }
    for entry in fs::read_dir(&pdir).map_err(io(&pdir))? {
        let path = entry.map_err(io(&pdir))?.path();
        let name = path.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned());
        if name.starts_with('.') {
            continue;
        }
        let Some(index) = name.strip_suffix(".json").and_then(|s| s.parse::<usize>().ok()) else {
            continue;
        };
        if index >= total {
            return Err(SweepError::Data { path, message: format!("point {index}, but the sweep has {total} points") });
        }
        out.insert(index, path);
    }
    Ok(out)
}

/// Finished points in `dir`: [`point_files`], every file read and checked.
pub fn finished_points(dir: &Path, hash: &str, total: usize) -> Result<BTreeMap<usize, PathBuf>, SweepError> {
    let files = point_files(dir, total)?;
    for (&index, path) in &files {
        read_point(path, hash, index)?;
    }
    Ok(files)
}

/// Removes temporary files a killed run left for the points in `todo`.
fn remove_stale_tmp(dir: &Path, todo: &[&Point]) -> Result<(), SweepError> {
    let pdir = dir.join(POINTS_DIR);
    let mine: std::collections::BTreeSet<usize> = todo.iter().map(|p| p.index).collect();
    for entry in fs::read_dir(&pdir).map_err(io(&pdir))? {
        let path = entry.map_err(io(&pdir))?.path();
        let name = path.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let index =
            name.strip_prefix('.').and_then(|n| n.split_once(".json.tmp-")).and_then(|(i, _)| i.parse::<usize>().ok());
        if index.is_some_and(|i| mine.contains(&i)) {
            fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// The scenario text of a point: the base with `[scale]` and the point's values set.
pub fn point_text(spec: &Spec, point: &Point) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = spec.base_text.parse().map_err(|e| format!("{e}"))?;
    for (_, segs, v) in &spec.scale {
        super::spec::apply(&mut doc, segs, v)?;
    }
    for (axis, v) in spec.axes.iter().zip(&point.values) {
        super::spec::apply(&mut doc, &axis.segs, v)?;
    }
    Ok(doc.to_string())
}

/// The note hashed into each point's scenario hash: `key=value;key=value`.
pub fn point_note(spec: &Spec, point: &Point) -> String {
    spec.axes
        .iter()
        .zip(&point.values)
        .map(|(a, v)| format!("{}={}", a.key, value_text(v)))
        .collect::<Vec<_>>()
        .join(";")
}

/// The checked scenario of one replica of a point.
pub fn point_scenario(spec: &Spec, point: &Point, replica: u32) -> Result<Scenario, SweepError> {
    let text = point_text(spec, point).map_err(|message| SweepError::Setting {
        sweep: spec.path.clone(),
        index: point.index,
        assignment: point.assignment(spec),
        message,
    })?;
    let overrides = Overrides {
        seed: Some(spec.seed.wrapping_add(u64::from(replica))),
        env_file: None,
        note: Some(point_note(spec, point)),
        trace: None,
        whole_trace: false,
    };
    scenario::from_str(&spec.base_path, &text, &overrides).map_err(|e| super::point_error(spec, point, e))
}

/// Checks every point (replica 0; the seed changes no check) before anything runs.
/// Returns the largest memory estimate of a point's run, in bytes
/// ([`crate::scenario::memory::estimate_bytes`]), with the point's index.
pub fn validate_all(spec: &Spec, points: &[Point]) -> Result<(u64, usize), SweepError> {
    let mut largest = (0, 0);
    for p in points {
        let need = crate::scenario::memory::estimate_bytes(&point_scenario(spec, p, 0)?);
        if need > largest.0 {
            largest = (need, p.index);
        }
    }
    Ok(largest)
}

/// Runs one replica; `None` when stopped before its end.
fn run_replica(spec: &Spec, point: &Point, replica: u32, halt: &AtomicBool) -> Result<Option<Summary>, SweepError> {
    let sc = point_scenario(spec, point, replica)?;
    let seed = sc.seed;
    let refused = |e: clipsim_engine::ConfigError| SweepError::Run {
        sweep: spec.path.clone(),
        index: point.index,
        assignment: point.assignment(spec),
        seed,
        message: e.to_string(),
    };
    let sc = crate::world::steady::settle(sc, halt).map_err(refused)?;
    let world = World::new(sc).map_err(refused)?;
    let result = world.run(&mut (), halt);
    if result.interrupted {
        return Ok(None);
    }
    Ok(Some(summarize(&result)))
}

/// Prepares `out` for `spec`: refuses a directory of another sweep (or not clipsim's) unless
/// `force`, then writes the manifest.
pub fn prepare_out(out: &Path, spec: &Spec, total: usize, force: bool, tag: &str) -> Result<(), SweepError> {
    if out.exists() && !out.is_dir() {
        return Err(SweepError::Data { path: out.to_path_buf(), message: "exists and is not a directory".into() });
    }
    match read_manifest(out)? {
        Some(m) if m.sweep_sha256 == spec.hash => {}
        Some(m) => {
            if !force {
                return Err(SweepError::OtherSweep { dir: out.to_path_buf(), found: m.name, hash: m.sweep_sha256 });
            }
            super::output::remove_outputs(out)?;
        }
        None => {
            let non_empty = out.exists() && fs::read_dir(out).map_err(io(out))?.next().is_some();
            if non_empty && !force {
                return Err(SweepError::Refused(out.to_path_buf()));
            }
        }
    }
    let pdir = out.join(POINTS_DIR);
    fs::create_dir_all(&pdir).map_err(io(&pdir))?;
    write_atomic(&out.join(MANIFEST), json_text(&Manifest::of(spec, total)).as_bytes(), tag)
}

/// Runs the points of the shard that `out` does not hold yet. `out` must be prepared.
pub fn run(spec: &Spec, points: &[Point], opts: &RunOptions) -> Result<Outcome, SweepError> {
    let done = finished_points(opts.out, &spec.hash, points.len())?;
    let mine: Vec<&Point> = points.iter().filter(|p| opts.shard.is_none_or(|s| s.has(p.index))).collect();
    let todo: Vec<&Point> = mine.iter().copied().filter(|p| !done.contains_key(&p.index)).collect();
    let mut outcome =
        Outcome { total: points.len(), in_shard: mine.len(), resumed: mine.len() - todo.len(), ..Outcome::default() };
    remove_stale_tmp(opts.out, &todo)?;
    if let Some(p) = opts.progress {
        p.started(todo.len());
    }
    let k = spec.replicas as usize;
    // Unit u is replica u % K of the u / K-th point to do: point-major, so points finish in order.
    let units = todo.len() * k;
    let slots: Vec<Mutex<Vec<Option<Summary>>>> = todo.iter().map(|_| Mutex::new(vec![None; k])).collect();
    let next = AtomicUsize::new(0);
    let ran = AtomicUsize::new(0);
    let halt = AtomicBool::new(false);
    let failure: Mutex<Option<SweepError>> = Mutex::new(None);
    let tag = tmp_tag(opts.shard);
    let threads = opts.threads.clamp(1, THREADS_MAX).min(units.max(1));
    let fail = |e: SweepError| {
        failure.lock().expect("no thread panics holding it").get_or_insert(e);
        halt.store(true, Ordering::SeqCst);
    };
    // Each worker holds a sender; when the last one is dropped the coordinator stops waiting.
    let (alive_tx, alive_rx) = std::sync::mpsc::channel::<()>();
    let (next, todo, slots, halt, ran, fail, tag) = (&next, &todo, &slots, &halt, &ran, &fail, &tag);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let alive = alive_tx.clone();
            s.spawn(move || {
                let _alive = alive;
                while !halt.load(Ordering::SeqCst) {
                    let u = next.fetch_add(1, Ordering::SeqCst);
                    if u >= units {
                        break;
                    }
                    let (t, r) = (u / k, (u % k) as u32);
                    let point = todo[t];
                    let summary = match run_replica(spec, point, r, halt) {
                        Ok(Some(s)) => s,
                        Ok(None) => break,
                        Err(e) => {
                            fail(e);
                            break;
                        }
                    };
                    let complete = {
                        let mut slot = slots[t].lock().expect("no thread panics holding it");
                        slot[r as usize] = Some(summary);
                        if slot.iter().all(Option::is_some) {
                            Some(std::mem::take(&mut *slot))
                        } else {
                            None
                        }
                    };
                    if let Some(summaries) = complete {
                        let pf = point_file(spec, point, summaries);
                        match write_atomic(&point_path(opts.out, point.index), json_text(&pf).as_bytes(), tag) {
                            Ok(()) => {
                                ran.fetch_add(1, Ordering::SeqCst);
                                if let Some(p) = opts.progress {
                                    p.point_done();
                                }
                            }
                            Err(e) => fail(e),
                        }
                    }
                }
            });
        }
        drop(alive_tx);
        // Ctrl-C sets `stop` from a signal thread; runs in progress watch `halt`.
        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = alive_rx.recv_timeout(POLL) {
            if opts.stop.load(Ordering::SeqCst) {
                halt.store(true, Ordering::SeqCst);
            }
        }
    });
    if let Some(e) = failure.into_inner().expect("no thread panics holding it") {
        return Err(e);
    }
    outcome.ran = ran.load(Ordering::SeqCst);
    outcome.stopped = outcome.resumed + outcome.ran < outcome.in_shard;
    Ok(outcome)
}

fn point_file(spec: &Spec, point: &Point, summaries: Vec<Option<Summary>>) -> PointFile {
    PointFile::new(
        spec.hash.clone(),
        point.index,
        spec.axes
            .iter()
            .zip(&point.values)
            .map(|(a, v)| Assigned { key: a.key.clone(), value: value_text(v) })
            .collect(),
        summaries
            .into_iter()
            .enumerate()
            .map(|(r, s)| ReplicaRecord {
                replica: r as u32,
                seed: spec.seed.wrapping_add(r as u64),
                summary: s.expect("a point is written only when every replica is in"),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_points() {
        let shards: Vec<Shard> = (0..3).map(|i| Shard::parse(&format!("{i}/3")).unwrap()).collect();
        for p in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.has(p)).count(), 1);
        }
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn atomic_writes_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        write_atomic(&p, b"one", "t").unwrap();
        write_atomic(&p, b"two", "t").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
