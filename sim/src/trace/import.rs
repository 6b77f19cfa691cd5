//! `clipsim trace import`: access logs into a trace that `replay`, `mrc` and the other trace
//! tools read.
//!
//! Every input (plain, gzip or zstd, told by its first bytes) is read line by line in constant
//! memory ([`super::logs`] parses each line). A request's URI path becomes a clip: the first
//! capture group of `--clip-pattern` (a regular expression) or, without one, the whole path; a
//! path the pattern does not match is not a clip and is counted apart. Clips are numbered 1, 2,
//! ... in order of first appearance. Its geography comes from the viewer's country or else the
//! edge location, through the geography table (`sim/data/geo-table.toml`, or `--geo-table`).
//!
//! Two passes: the first parses the logs, keeps one table entry per clip (its largest response,
//! or the end of the largest range served) and writes each request as a fixed-size record to a
//! scratch file; the second writes the trace from the scratch file with each clip's size. So
//! memory grows with the clips, never with the requests. The trace is CSV:
//! `time,obj_id,size,geo,resp_bytes,status,cache,edge` (Unix seconds, the clip number, the
//! clip's size, the geography, the bytes this response sent, its HTTP status, the CDN's cache
//! result and the edge location), `.zst`-compressed when its name ends so.
//!
//! A malformed line is counted, the first few are kept with their file and line number, and it
//! is skipped; with `max_bad` set, one more than that many is an error.

use super::logs::{CacheResult, LogFormat, LogParser, LogRecord};
use super::TraceError;
use crate::report::StagedFile;
use indexmap::IndexMap;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The built-in geography table (its text is `sim/data/geo-table.toml`).
pub const GEO_TABLE: &str = include_str!("../../data/geo-table.toml");
/// Malformed lines kept to show.
pub const BAD_SHOWN: usize = 5;
/// The most clips one import may number (ids are 32-bit in the scratch records).
pub const CLIPS_MAX: usize = u32::MAX as usize - 1;
/// The most distinct edge locations.
const EDGES_MAX: usize = u16::MAX as usize;

/// Countries and edge locations to geographies.
#[derive(Clone, Debug, Default)]
pub struct GeoTable {
    /// The geographies, in file order.
    pub geos: Vec<String>,
    countries: BTreeMap<Vec<u8>, u8>,
    edges: BTreeMap<Vec<u8>, u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGeoTable {
    #[serde(default)]
    countries: IndexMap<String, Vec<String>>,
    #[serde(default)]
    edges: IndexMap<String, Vec<String>>,
}

impl GeoTable {
    /// The alphabetically first edge location of geography `geo`, if it has any.
    pub fn first_edge(&self, geo: &str) -> Option<String> {
        let g = self.geos.iter().position(|x| x == geo)?;
        self.edges.iter().find(|(_, &v)| usize::from(v) == g).map(|(k, _)| String::from_utf8_lossy(k).into_owned())
    }

    /// Reads a table's text (`path` names it in errors).
    pub fn parse(path: &Path, text: &str) -> Result<GeoTable, crate::scenario::InputError> {
        let raw: RawGeoTable = crate::sweep::spec::parse_shape(path, text)?;
        let loc = crate::scenario::error::Locator::new(path, text);
        let mut t = GeoTable::default();
        for (section, lists) in [("countries", &raw.countries), ("edges", &raw.edges)] {
            for (geo, codes) in lists {
                let g = match t.geos.iter().position(|x| x == geo) {
                    Some(g) => g,
                    None => {
                        if t.geos.len() == usize::from(u8::MAX) {
                            return Err(loc.error(&format!("{section}.{geo}"), "at most 255 geographies"));
                        }
                        t.geos.push(geo.clone());
                        t.geos.len() - 1
                    }
                };
                for (i, c) in codes.iter().enumerate() {
                    let key = if section == "countries" { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() };
                    let map = if section == "countries" { &mut t.countries } else { &mut t.edges };
                    if let Some(&other) = map.get(key.as_bytes()) {
                        return Err(loc.error(
                            &format!("{section}.{geo}[{i}]"),
                            format!("a code in one geography only (it is also in \"{}\")", t.geos[usize::from(other)]),
                        ));
                    }
                    map.insert(key.into_bytes(), g as u8);
                }
            }
        }
        Ok(t)
    }

    /// The built-in table.
    pub fn builtin() -> GeoTable {
        GeoTable::parse(Path::new("geo-table.toml (built in)"), GEO_TABLE).expect("the built-in table is valid")
    }

    /// The geography of a request: by its country, else by its edge location (the letters
    /// before the first digit or `-`: `IAD89-C1` is `IAD`). `Err(code)` when the log names a
    /// code the table does not have; `Ok(None)` when it names none.
    fn of<'a>(&self, r: &'a LogRecord) -> Result<Option<u8>, &'a [u8]> {
        if let Some(c) = &r.country {
            return self.countries.get(c.as_bytes()).map(|&g| Some(g)).ok_or(c.as_bytes());
        }
        if let Some(e) = &r.edge {
            let b = e.as_bytes();
            let n = b.iter().position(|c| c.is_ascii_digit() || *c == b'-').unwrap_or(b.len());
            let key = b[..n].to_ascii_uppercase();
            return self.edges.get(&key).map(|&g| Some(g)).ok_or(b);
        }
        Ok(None)
    }
}

/// Compiles a `--clip-pattern`: a regular expression on the URI path whose first capture
/// group (or whole match) is the clip.
pub fn clip_pattern(p: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::Regex::new(p).map_err(|e| format!("a regular expression ({e})"))
}

/// How to import.
pub struct ImportOptions {
    /// The logs' format.
    pub format: LogFormat,
    /// The clip of a path: its first capture group (or the whole match).
    pub clip_pattern: Option<regex::bytes::Regex>,
    /// Countries and edges to geographies.
    pub geo: GeoTable,
    /// More malformed lines than this is an error (`None`: any number).
    pub max_bad: Option<u64>,
}

/// A malformed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// Its file.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

/// What an import read and wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportStats {
    /// Lines read (headers, comments and bad lines included).
    pub lines: u64,
    /// Requests written.
    pub requests: u64,
    /// Distinct clips.
    pub clips: u64,
    /// Lines that were comments, headers or blank.
    pub skipped: u64,
    /// Requests whose path the clip pattern did not match (not written).
    pub not_clips: u64,
    /// Malformed lines (not written).
    pub bad: u64,
    /// The first [`BAD_SHOWN`] of them.
    pub bad_shown: Vec<BadLine>,
    /// Requests per geography (the table's names; `""`: none).
    pub by_geo: BTreeMap<String, u64>,
    /// Codes the geography table does not have, with their requests.
    pub unknown_codes: BTreeMap<String, u64>,
    /// Requests per cache result (`""`: the log does not say).
    pub by_cache: BTreeMap<&'static str, u64>,
    /// Requests per HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Bytes sent, every request.
    pub bytes: u64,
    /// Whether Ctrl-C stopped it (nothing is written then).
    pub interrupted: bool,
}

/// A fast, deterministic hasher for the clip table (FxHash's multiply-rotate over 8-byte words):
/// the keys are URL paths from the operator's own logs, not an adversary's input, and SipHash
/// was a tenth of an import's time.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.add(u64::from_le_bytes(tail) ^ bytes.len() as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

fn fx(key: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = FxHasher::default();
    h.write(key);
    // The multiply leaves the low bits weak: fold the high ones in for the slot index.
    h.finish() ^ (h.finish() >> 29)
}

/// Clip keys to numbers `0, 1, 2, ...` in order of first appearance. Open addressing with linear
/// probing over one `u64` per slot (the key hash's high 32 bits and the number plus one; 0 is
/// empty), load at most a half, the keys end to end in one byte arena: a lookup reads its slot
/// and, only when the hash bits match, the key. Never iterated.
struct ClipTable {
    slots: Vec<u64>,
    arena: Vec<u8>,
    /// Where each clip's key ends in `arena` (it starts where the previous one ends).
    ends: Vec<usize>,
}

impl ClipTable {
    fn new() -> Self {
        ClipTable { slots: vec![0; 1 << 16], arena: Vec::new(), ends: Vec::new() }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn key(&self, i: usize) -> &[u8] {
        &self.arena[if i == 0 { 0 } else { self.ends[i - 1] }..self.ends[i]]
    }

    /// The number of `key`, and whether it is new (numbered now).
    #[inline]
    fn get_or_insert(&mut self, key: &[u8]) -> (u32, bool) {
        let h = fx(key);
        let tag = h >> 32 << 32;
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let v = self.slots[i];
            if v == 0 {
                break;
            }
            if v >> 32 << 32 == tag {
                let n = (v as u32 - 1) as usize;
                if self.key(n) == key {
                    return (n as u32, false);
                }
            }
            i = (i + 1) & mask;
        }
        let n = self.ends.len();
        self.arena.extend_from_slice(key);
        self.ends.push(self.arena.len());
        self.slots[i] = tag | (n as u64 + 1);
        if self.ends.len() * 2 > self.slots.len() {
            self.grow();
        }
        (n as u32, true)
    }

    fn grow(&mut self) {
        let mut slots = vec![0u64; self.slots.len() * 2];
        let mask = slots.len() - 1;
        for &v in &self.slots {
            if v != 0 {
                let h = fx(self.key((v as u32 - 1) as usize));
                let mut i = h as usize & mask;
                while slots[i] != 0 {
                    i = (i + 1) & mask;
                }
                slots[i] = v;
            }
        }
        self.slots = slots;
    }
}

/// One request in the scratch file: time, clip, bytes, status, cache, geography, edge.
const RECORD: usize = 32;

fn encode(time_s: u64, clip: u32, bytes: u64, status: u16, cache: u8, geo: u8, edge: u16) -> [u8; RECORD] {
    let mut b = [0u8; RECORD];
    b[0..8].copy_from_slice(&time_s.to_le_bytes());
    b[8..12].copy_from_slice(&clip.to_le_bytes());
    b[12..20].copy_from_slice(&bytes.to_le_bytes());
    b[20..22].copy_from_slice(&status.to_le_bytes());
    b[22] = cache;
    b[23] = geo;
    b[24..26].copy_from_slice(&edge.to_le_bytes());
    b
}

/// Opens a log, decompressing gzip or zstd (told by the first bytes).
fn open(path: &Path) -> Result<Box<dyn BufRead>, TraceError> {
    let fail = |e: io::Error| TraceError::file(path, format!("a readable file ({e})"));
    if std::fs::metadata(path).map_err(fail)?.is_dir() {
        return Err(TraceError::file(path, "a file, not a directory"));
    }
    let mut file = BufReader::with_capacity(1 << 20, File::open(path).map_err(fail)?);
    let head = file.fill_buf().map_err(fail)?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(1 << 20, flate2::bufread::MultiGzDecoder::new(file)))
    } else if head.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        Box::new(BufReader::with_capacity(
            1 << 20,
            zstd::stream::read::Decoder::with_buffer(file)
                .map_err(|e| TraceError::file(path, format!("a zstd stream that can be decoded ({e})")))?,
        ))
    } else {
        Box::new(file)
    })
}

/// Imports `inputs` into the trace `out`. Returns what was read; nothing is committed when
/// `stop` is set (the caller drops `out`).
pub fn import(
    inputs: &[PathBuf],
    out: &mut StagedFile,
    opts: &ImportOptions,
    stop: &AtomicBool,
) -> Result<ImportStats, TraceError> {
    let scratch_path = out.scratch("records");
    let scratch_fail = |e: io::Error| TraceError::file(&scratch_path, format!("a writable scratch file ({e})"));
    let mut scratch = BufWriter::with_capacity(1 << 20, File::create(&scratch_path).map_err(scratch_fail)?);
    let mut stats = ImportStats::default();
    // Never iterated: only looked up; a clip's number is its insertion index.
    let mut clips = ClipTable::new();
    let mut sizes: Vec<u64> = Vec::new();
    let mut edges: IndexMap<Vec<u8>, ()> = IndexMap::new();
    let mut by_cache = [0u64; CacheResult::ALL.len()];
    let mut by_geo = vec![0u64; opts.geo.geos.len() + 1];
    let mut parser = LogParser::new(opts.format);
    let (mut line, mut path) = (Vec::new(), Vec::new());
    let mut locations = opts.clip_pattern.as_ref().map(regex::bytes::Regex::capture_locations);
    for input in inputs {
        let mut r = open(input)?;
        parser.new_file();
        let mut line_no = 0u64;
        // Bytes of the line taken last, consumed at the top of the loop (a `continue` goes there).
        let mut taken = 0;
        loop {
            r.consume(taken);
            taken = 0;
            let read_fail = |e: io::Error| TraceError {
                file: input.clone(),
                record: None,
                line: Some(line_no + 1),
                byte_offset: None,
                compressed: false,
                expected: format!("a readable, complete file ({e})"),
            };
            // A line within the reader's buffer is parsed where it is; one across its end (or
            // the last, without a newline) is copied out.
            let newline = memchr::memchr(b'\n', r.fill_buf().map_err(read_fail)?);
            let text: &[u8] = match newline {
                Some(i) => {
                    taken = i + 1;
                    &r.fill_buf().map_err(read_fail)?[..i]
                }
                None => {
                    line.clear();
                    if r.read_until(b'\n', &mut line).map_err(read_fail)? == 0 {
                        break;
                    }
                    line.strip_suffix(b"\n").unwrap_or(&line)
                }
            };
            line_no += 1;
            stats.lines += 1;
            if stats.lines % 65_536 == 0 && stop.load(Ordering::Relaxed) {
                stats.interrupted = true;
                return Ok(stats);
            }
            let rec = match parser.parse(text, &mut path) {
                Ok(Some(rec)) => rec,
                Ok(None) => {
                    stats.skipped += 1;
                    continue;
                }
                Err(reason) => {
                    stats.bad += 1;
                    if stats.bad_shown.len() < BAD_SHOWN {
                        stats.bad_shown.push(BadLine { file: input.clone(), line: line_no, reason: reason.clone() });
                    }
                    if opts.max_bad.is_some_and(|m| stats.bad > m) {
                        return Err(TraceError {
                            file: input.clone(),
                            record: None,
                            line: Some(line_no),
                            byte_offset: None,
                            compressed: false,
                            expected: format!(
                                "at most {} malformed lines (--max-bad); this one: {reason}",
                                opts.max_bad.unwrap_or(0)
                            ),
                        });
                    }
                    continue;
                }
            };
            let key: &[u8] = match (&opts.clip_pattern, &mut locations) {
                // Capture positions into one reused set: `captures` would allocate per line.
                (Some(re), Some(loc)) => match re.captures_read(loc, &path) {
                    // The first group, or the whole match when it took no part.
                    Some(whole) => loc.get(1).map_or(&path[whole.start()..whole.end()], |(a, b)| &path[a..b]),
                    None => {
                        stats.not_clips += 1;
                        continue;
                    }
                },
                _ => &path,
            };
            let (clip, new) = clips.get_or_insert(key);
            if new {
                if clips.len() > CLIPS_MAX {
                    return Err(TraceError::file(input, format!("at most {CLIPS_MAX} distinct clips")));
                }
                sizes.push(0);
            }
            let size = &mut sizes[clip as usize];
            *size = (*size).max(rec.bytes).max(rec.range_end.map_or(0, |e| e.saturating_add(1)));
            let geo = match opts.geo.of(&rec) {
                Ok(Some(g)) => g,
                Ok(None) => u8::MAX,
                Err(code) => {
                    *stats.unknown_codes.entry(String::from_utf8_lossy(code).into_owned()).or_default() += 1;
                    u8::MAX
                }
            };
            let edge = match &rec.edge {
                None => u16::MAX,
                Some(e) => match edges.get_index_of(e.as_bytes()) {
                    Some(i) => i as u16,
                    None if edges.len() < EDGES_MAX - 1 => {
                        edges.insert(e.as_bytes().to_vec(), ());
                        (edges.len() - 1) as u16
                    }
                    None => return Err(TraceError::file(input, format!("at most {} edge locations", EDGES_MAX - 1))),
                },
            };
            by_cache[rec.cache.index()] += 1;
            by_geo[if geo == u8::MAX { opts.geo.geos.len() } else { usize::from(geo) }] += 1;
            *stats.by_status.entry(rec.status).or_default() += 1;
            stats.bytes = stats.bytes.saturating_add(rec.bytes);
            stats.requests += 1;
            let b = encode(rec.time_s, clip + 1, rec.bytes, rec.status, rec.cache.index() as u8, geo, edge);
            scratch.write_all(&b).map_err(scratch_fail)?;
        }
    }
    scratch.flush().map_err(scratch_fail)?;
    drop(scratch);
    stats.clips = clips.len() as u64;
    drop(clips);
    for (i, c) in CacheResult::ALL.iter().enumerate() {
        if by_cache[i] > 0 {
            stats.by_cache.insert(c.name(), by_cache[i]);
        }
    }
    for (i, n) in by_geo.iter().enumerate().filter(|(_, n)| **n > 0) {
        let name = opts.geo.geos.get(i).cloned().unwrap_or_default();
        stats.by_geo.insert(name, *n);
    }
    write_trace(&scratch_path, out, &sizes, &edges, &opts.geo)?;
    Ok(stats)
}

/// The second pass: the scratch records as the trace's CSV.
fn write_trace(
    scratch: &Path,
    out: &StagedFile,
    sizes: &[u64],
    edges: &IndexMap<Vec<u8>, ()>,
    geo: &GeoTable,
) -> Result<(), TraceError> {
    let dest = out.dest().to_path_buf();
    let fail = |e: io::Error| TraceError::file(&dest, format!("a writable file ({e})"));
    let file = BufWriter::with_capacity(1 << 20, out.create().map_err(fail)?);
    let r = BufReader::with_capacity(1 << 20, File::open(scratch).map_err(fail)?);
    if super::is_zst_name(&dest) {
        let mut enc = zstd::stream::write::Encoder::new(file, 3).map_err(fail)?;
        emit(r, &mut enc, sizes, edges, geo).map_err(fail)?;
        enc.finish().map_err(fail)?.flush().map_err(fail)
    } else {
        let mut file = file;
        emit(r, &mut file, sizes, edges, geo).map_err(fail)?;
        file.flush().map_err(fail)
    }
}

/// Writes the CSV of the scratch records read from `r`.
fn emit(
    mut r: impl Read,
    w: &mut impl Write,
    sizes: &[u64],
    edges: &IndexMap<Vec<u8>, ()>,
    geo: &GeoTable,
) -> io::Result<()> {
    w.write_all(b"time,obj_id,size,geo,resp_bytes,status,cache,edge\n")?;
    let mut b = [0u8; RECORD];
    let mut line = Vec::with_capacity(128);
    let u64_at = |b: &[u8; RECORD], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    loop {
        match r.read_exact(&mut b) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let clip = u32::from_le_bytes(b[8..12].try_into().expect("4 bytes"));
        let status = u16::from_le_bytes(b[20..22].try_into().expect("2 bytes"));
        let edge = u16::from_le_bytes(b[24..26].try_into().expect("2 bytes"));
        let geo_name = geo.geos.get(usize::from(b[23])).map_or("", String::as_str);
        let edge_name = edges.get_index(usize::from(edge)).map_or(&b""[..], |(k, _)| k.as_slice());
        line.clear();
        push_u64(&mut line, u64_at(&b, 0));
        line.push(b',');
        push_u64(&mut line, u64::from(clip));
        line.push(b',');
        push_u64(&mut line, sizes[clip as usize - 1]);
        line.push(b',');
        line.extend_from_slice(geo_name.as_bytes());
        line.push(b',');
        push_u64(&mut line, u64_at(&b, 12));
        line.push(b',');
        push_u64(&mut line, u64::from(status));
        line.push(b',');
        line.extend_from_slice(CacheResult::ALL[usize::from(b[22])].name().as_bytes());
        line.push(b',');
        line.extend_from_slice(edge_name);
        line.push(b'\n');
        w.write_all(&line)?;
    }
}

/// Appends `n` in decimal.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::ClipTable;

    /// The table numbers keys as an insertion-ordered map does, through several growths and
    /// with keys that share prefixes, differ only in length or in one byte, and are empty.
    #[test]
    fn the_clip_table_numbers_keys_by_first_appearance() {
        let mut table = ClipTable::new();
        let mut reference: indexmap::IndexMap<Vec<u8>, u32> = indexmap::IndexMap::new();
        let mut x: u64 = 1;
        for i in 0..300_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = match i % 4 {
                0 => format!("/clips/{}/video.mp4", x % 150_000).into_bytes(),
                1 => format!("/c/{}", x % 1000).into_bytes(),
                2 => vec![b'a'; (x % 40) as usize],
                _ => (x % 90_000).to_le_bytes()[..(x % 9) as usize].to_vec(),
            };
            let next = reference.len() as u32;
            let want = *reference.entry(key.clone()).or_insert(next);
            assert_eq!(table.get_or_insert(&key), (want, want == next), "key {i}");
        }
        assert_eq!(table.len(), reference.len());
        // The first table holds 32,768 keys: past 65,536 it grew twice.
        assert!(table.len() > 65_536, "the table grew: {}", table.len());
    }
}
