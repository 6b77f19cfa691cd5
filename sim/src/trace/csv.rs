//! CSV traces: one request per line, columns chosen by number (1-based) or by header name.
//!
//! Without explicit columns, a file with a header finds them by name (time: `time`,
//! `timestamp`, `clock_time`, `ts`; object id: `obj_id`, `object_id`, `id`, `key`; size: `size`,
//! `obj_size`, `object_size`, `bytes`; geography: `geo`, `geography`, `region`), and a file
//! without one reads time, id and size from columns 1, 2 and 3. Whether the first line is a
//! header is detected (it is when its size field is not a whole number) unless told. Times are
//! seconds (a fraction is dropped); ids that are not whole numbers are hashed (FNV-1a, 64 bits);
//! a field wrapped in double quotes loses its quotes (a quoted field may not hold the
//! delimiter). Blank lines are ignored; `\r\n` line ends are accepted.

use super::{Observed, ReadStats, Request, Source, TraceError, BATCH, NO_GEO};
use crate::report::StagedFile;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Read buffer; also the longest line accepted.
const BUF_BYTES: usize = 1 << 20;
/// The most distinct geography labels in one trace.
const GEOS_MAX: usize = 4096;
/// The highest column number accepted (`--time-col 10000`): far beyond any real trace's width,
/// and low enough that a column number in a message or in arithmetic is an ordinary number.
pub const COLS_MAX: usize = 10_000;

/// A column, by 1-based number or by header name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Col {
    /// 1-based column number.
    Index(usize),
    /// Header name.
    Name(String),
}

impl Col {
    /// Digits are a column number, from 1 to [`COLS_MAX`]; anything else a header name.
    /// `Err(what was expected)` for a number out of that range.
    pub fn parse(s: &str) -> Result<Col, String> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Col::Name(s.to_string()));
        }
        match s.parse::<usize>() {
            Ok(n) if (1..=COLS_MAX).contains(&n) => Ok(Col::Index(n)),
            _ => Err(Self::expected()),
        }
    }

    /// What a column number must be.
    fn expected() -> String {
        format!("a column number from 1 to {COLS_MAX} (or a header name)")
    }
}

/// Whether the first line is a header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeaderMode {
    /// Detect: a header when its size field is not a whole number.
    #[default]
    Auto,
    /// The first line is a header.
    Yes,
    /// There is no header.
    No,
}

/// Which columns hold what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvSpec {
    /// Time column (seconds).
    pub time: Option<Col>,
    /// Object id column.
    pub id: Option<Col>,
    /// Size column (bytes).
    pub size: Option<Col>,
    /// Geography column, if any.
    pub geo: Option<Col>,
    /// The CDN's cache result column, if any (an imported log's `cache`).
    pub cache: Option<Col>,
    /// Field delimiter.
    pub delimiter: u8,
    /// Header handling.
    pub header: HeaderMode,
}

impl Default for CsvSpec {
    fn default() -> Self {
        CsvSpec { time: None, id: None, size: None, geo: None, cache: None, delimiter: b',', header: HeaderMode::Auto }
    }
}

const TIME_NAMES: [&str; 4] = ["time", "timestamp", "clock_time", "ts"];
const ID_NAMES: [&str; 4] = ["obj_id", "object_id", "id", "key"];
const SIZE_NAMES: [&str; 4] = ["size", "obj_size", "object_size", "bytes"];
const GEO_NAMES: [&str; 3] = ["geo", "geography", "region"];
const CACHE_NAMES: [&str; 3] = ["cache", "cache_status", "x-edge-result-type"];

/// Slots of the fields a row needs.
const TIME: usize = 0;
const ID: usize = 1;
const SIZE: usize = 2;
const GEO: usize = 3;
const CACHE: usize = 4;
/// Field slots.
const SLOTS: usize = 5;
const WHAT: [&str; SLOTS] = ["time", "object id", "size", "geography", "cache result"];

fn unquote(f: &[u8]) -> &[u8] {
    if f.len() >= 2 && f[0] == b'"' && f[f.len() - 1] == b'"' {
        &f[1..f.len() - 1]
    } else {
        f
    }
}

/// The little-endian `u64` in an 8-byte slice (one unaligned load).
#[inline(always)]
pub(crate) fn le_u64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))
}

/// Eight ASCII digits (the first in the lowest byte) as a number, or `None` if any byte is not
/// a digit (SWAR, as in Lemire's "parse eight digits").
#[inline]
fn parse8(chunk: u64) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    if chunk & HIGH != ZEROS || (chunk.wrapping_add(0x0606_0606_0606_0606)) & HIGH != ZEROS {
        return None;
    }
    let v = chunk - ZEROS;
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let v = ((v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32)))
        .wrapping_add(((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32)))
        >> 32;
    Some(v)
}

/// A whole number: ASCII digits only, no overflow.
#[inline]
pub(crate) fn parse_u64(f: &[u8]) -> Option<u64> {
    if f.is_empty() || f.len() > 20 {
        return None;
    }
    let mut v: u128 = 0;
    let mut rest = f;
    while rest.len() >= 8 {
        let chunk = le_u64(&rest[..8]);
        v = v * 100_000_000 + u128::from(parse8(chunk)?);
        rest = &rest[8..];
    }
    for &b in rest {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u128::from(d);
    }
    u64::try_from(v).ok()
}

/// Seconds, a fraction dropped: `123` or `123.45`.
#[inline]
fn parse_time(f: &[u8]) -> Option<u64> {
    match f.iter().position(|&b| b == b'.') {
        None => parse_u64(f),
        Some(dot) => {
            let (int, frac) = (&f[..dot], &f[dot + 1..]);
            if !frac.iter().all(u8::is_ascii_digit) || (int.is_empty() && frac.is_empty()) {
                return None;
            }
            if int.is_empty() {
                Some(0)
            } else {
                parse_u64(int)
            }
        }
    }
}

/// FNV-1a, 64 bits, for ids that are not numbers.
fn hash_id(f: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in f {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn show(f: &[u8]) -> String {
    let s = String::from_utf8_lossy(f);
    if s.chars().count() > 40 {
        format!("\"{}...\"", s.chars().take(40).collect::<String>())
    } else {
        format!("\"{s}\"")
    }
}

pub(crate) struct CsvReader {
    src: Source,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    eof: bool,
    /// Lines consumed.
    line: u64,
    skip_bad: bool,
    delim: u8,
    /// The wanted columns in column order: (0-based column, field slot: TIME, ID, SIZE or GEO),
    /// `wanted_len` of them. A fixed array, so that no column number allocates.
    wanted: [(usize, u8); SLOTS],
    wanted_len: usize,
    /// 0-based column of each slot (GEO, CACHE: usize::MAX when absent).
    cols: [usize; SLOTS],
    pub has_geo: bool,
    pub has_cache: bool,
    geos: Vec<Vec<u8>>,
    geo_keys: Vec<u64>,
    pub stats: ReadStats,
}

enum Line {
    /// (start, end) in `buf`, end excluding the newline.
    Found(usize, usize),
    TooLong,
    End,
}

impl CsvReader {
    pub fn new(src: Source, spec: &CsvSpec, skip_bad: bool) -> Result<CsvReader, TraceError> {
        let mut r = CsvReader {
            src,
            buf: vec![0; BUF_BYTES],
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            line: 0,
            skip_bad,
            delim: spec.delimiter,
            wanted: [(usize::MAX, u8::MAX); SLOTS],
            wanted_len: 0,
            cols: [0, 1, 2, usize::MAX, usize::MAX],
            has_geo: false,
            has_cache: false,
            geos: Vec::new(),
            geo_keys: Vec::new(),
            stats: ReadStats::default(),
        };
        r.setup(spec)?;
        Ok(r)
    }

    fn file_error(&self, line: Option<u64>, expected: String) -> TraceError {
        TraceError {
            file: self.src.path.clone(),
            record: None,
            line,
            byte_offset: line.map(|_| 0),
            compressed: self.src.compressed,
            expected,
        }
    }

    /// Reads the first line, decides on the header and resolves the columns.
    fn setup(&mut self, spec: &CsvSpec) -> Result<(), TraceError> {
        let first: Option<Vec<Vec<u8>>> = match self.peek_line()? {
            Line::Found(s, e) => {
                Some(self.buf[s..e].split(|&b| b == self.delim).map(|f| unquote(f).to_vec()).collect())
            }
            Line::TooLong => None,
            Line::End => None,
        };
        let specs = [&spec.time, &spec.id, &spec.size, &spec.geo, &spec.cache];
        let flags = ["--time-col", "--id-col", "--size-col", "--geo-col", "--cache-col"];
        for (flag, c) in flags.iter().zip(specs) {
            if let Some(Col::Index(i)) = c {
                if !(1..=COLS_MAX).contains(i) {
                    return Err(self.file_error(None, format!("{flag} {i}: {}", Col::expected())));
                }
            }
        }
        let named = specs.iter().any(|c| matches!(c, Some(Col::Name(_))));
        let header = match (spec.header, &first) {
            (HeaderMode::Yes, _) => true,
            (HeaderMode::No, _) => false,
            (HeaderMode::Auto, None) => false,
            (HeaderMode::Auto, Some(fields)) => {
                if named {
                    true
                } else {
                    let size_col = match &spec.size {
                        Some(Col::Index(i)) => i - 1,
                        _ => 2,
                    };
                    let by_name = fields.iter().any(|f| {
                        let f = String::from_utf8_lossy(f).trim().to_ascii_lowercase();
                        SIZE_NAMES.contains(&f.as_str()) || ID_NAMES.contains(&f.as_str())
                    });
                    by_name || fields.get(size_col).is_none_or(|f| parse_u64(f).is_none())
                }
            }
        };
        let names: Vec<String> = match (&first, header) {
            (Some(fields), true) => fields.iter().map(|f| String::from_utf8_lossy(f).trim().to_string()).collect(),
            _ => Vec::new(),
        };
        if named && !header {
            return Err(
                self.file_error(None, "a header line, since a column is given by name (or give column numbers)".into())
            );
        }
        let defaults: [&[&str]; SLOTS] = [&TIME_NAMES, &ID_NAMES, &SIZE_NAMES, &GEO_NAMES, &CACHE_NAMES];
        for slot in 0..SLOTS {
            let col = match specs[slot] {
                Some(Col::Index(i)) => Some(i - 1),
                Some(Col::Name(n)) => match names.iter().position(|h| h.eq_ignore_ascii_case(n)) {
                    Some(i) => Some(i),
                    None => {
                        return Err(self.file_error(
                            Some(1),
                            format!(
                                "a column named \"{n}\" for the {} ({}); the header has: {}",
                                WHAT[slot],
                                flags[slot],
                                names.join(",")
                            ),
                        ))
                    }
                },
                None if header => {
                    let found = names.iter().position(|h| defaults[slot].contains(&h.to_ascii_lowercase().as_str()));
                    if found.is_none() && slot < GEO {
                        return Err(self.file_error(
                            Some(1),
                            format!(
                                "a header naming the {} column ({}), or give it with {}; the header has: {}",
                                WHAT[slot],
                                defaults[slot].join(", "),
                                flags[slot],
                                names.join(",")
                            ),
                        ));
                    }
                    found
                }
                None => (slot < GEO).then_some(slot),
            };
            match col {
                Some(c) => self.cols[slot] = c,
                None => self.cols[slot] = usize::MAX,
            }
        }
        self.has_geo = self.cols[GEO] != usize::MAX;
        self.has_cache = self.cols[CACHE] != usize::MAX;
        let cols = self.cols;
        for (slot, &col) in cols.iter().enumerate() {
            if let Some(other) = cols[..slot].iter().position(|&c| c == col && col != usize::MAX) {
                return Err(self.file_error(
                    None,
                    format!(
                        "different columns for the {} and the {} (both are column {})",
                        WHAT[other],
                        WHAT[slot],
                        col + 1
                    ),
                ));
            }
        }
        for (slot, &col) in cols.iter().enumerate() {
            if col != usize::MAX {
                self.wanted[self.wanted_len] = (col, slot as u8);
                self.wanted_len += 1;
            }
        }
        self.wanted[..self.wanted_len].sort_unstable();
        if header {
            if let Line::Found(_, e) = self.peek_line()? {
                self.consume_line(e);
            }
        }
        Ok(())
    }

    fn refill(&mut self) -> Result<(), TraceError> {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        let end = self.end;
        let got = self.src.fill(&mut self.buf[end..], self.offset + end as u64)?;
        self.end += got;
        if got == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// The next line in the buffer (refilling as needed), not consumed.
    fn peek_line(&mut self) -> Result<Line, TraceError> {
        loop {
            if let Some(p) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                return Ok(Line::Found(self.start, self.start + p));
            }
            if self.eof {
                return Ok(if self.start < self.end { Line::Found(self.start, self.end) } else { Line::End });
            }
            if self.start == 0 && self.end == self.buf.len() {
                return Ok(Line::TooLong);
            }
            self.refill()?;
        }
    }

    /// Consumes the line ending at `e` (and its newline).
    fn consume_line(&mut self, e: usize) {
        let next = if e < self.end { e + 1 } else { e };
        self.consume_to(next);
    }

    /// Consumes the input up to `next`, the start of the next line.
    #[inline]
    fn consume_to(&mut self, next: usize) {
        self.offset += (next - self.start) as u64;
        self.stats.bytes += (next - self.start) as u64;
        self.start = next;
        self.line += 1;
    }

    fn bad(&self, line_offset: u64, expected: String) -> TraceError {
        TraceError {
            file: self.src.path.clone(),
            record: Some(self.stats.records),
            line: Some(self.line + 1),
            byte_offset: Some(line_offset),
            compressed: self.src.compressed,
            expected,
        }
    }

    pub fn geo_names(&self) -> Vec<String> {
        self.geos.iter().map(|g| String::from_utf8_lossy(g).into_owned()).collect()
    }

    pub fn geo_index(&self, name: &[u8]) -> Option<u32> {
        self.geos.iter().position(|g| g == name).map(|i| i as u32)
    }

    /// Splits the line starting at `self.start` in one pass: fills `fields` (absolute ranges)
    /// for the wanted columns and returns the index of the line's newline (`None` when the
    /// buffer holds none; at the end of the input the last line then runs to `self.end`) and the
    /// number of wanted fields found.
    #[inline]
    fn split_line(&self, fields: &mut [(usize, usize); SLOTS]) -> (Option<usize>, usize) {
        const LO: u64 = 0x0101_0101_0101_0101;
        const HI: u64 = 0x8080_8080_8080_8080;
        let buf = &self.buf[..self.end];
        let delim = self.delim;
        let (dl, nl) = (LO * u64::from(delim), LO * u64::from(b'\n'));
        let mut i = self.start;
        let mut field_start = i;
        let mut col = 0usize;
        let mut found = 0usize;
        loop {
            // Find the next delimiter or newline, eight bytes at a time (SWAR).
            let mut at = None;
            while i + 8 <= buf.len() {
                let w = le_u64(&buf[i..i + 8]);
                let (a, b) = (w ^ dl, w ^ nl);
                let m = (a.wrapping_sub(LO) & !a | b.wrapping_sub(LO) & !b) & HI;
                if m != 0 {
                    // The lowest flagged byte is exact (a borrow can only flag bytes above it).
                    at = Some(i + (m.trailing_zeros() / 8) as usize);
                    break;
                }
                i += 8;
            }
            if at.is_none() {
                at = buf[i..].iter().position(|&b| b == delim || b == b'\n').map(|p| i + p);
            }
            let Some(p) = at else { break };
            let b = buf[p];
            // `found` wanted columns are behind: the next one is `wanted[found]`.
            let (next, slot) = self.wanted[found];
            if col == next {
                fields[slot as usize] = (field_start, p);
                found += 1;
            }
            col += 1;
            if b == b'\n' {
                return (Some(p), found);
            }
            if found == self.wanted_len {
                return (memchr::memchr(b'\n', &buf[p..]).map(|q| p + q), found);
            }
            i = p + 1;
            field_start = i;
        }
        // No newline: at the end of the input, the last field runs to the end.
        let (next, slot) = self.wanted[found];
        if col == next {
            fields[slot as usize] = (field_start, buf.len());
            found += 1;
        }
        (None, found)
    }

    /// The row in `s..e` with its wanted fields at `fields`; `Err(what was expected)` when
    /// malformed.
    #[inline]
    fn parse_row(
        &mut self,
        s: usize,
        e: usize,
        fields: &[(usize, usize); SLOTS],
        found: usize,
        out: &mut Request,
    ) -> Result<(), String> {
        if found < self.wanted_len {
            let columns = self.buf[s..e].split(|&b| b == self.delim).count();
            let wanted = &self.wanted[..self.wanted_len];
            let missing = wanted.iter().map(|w| w.0).filter(|&c| c >= columns).max().unwrap_or(0);
            return Err(format!(
                "at least {} columns (column {} holds the {}), found {columns}",
                missing + 1,
                missing + 1,
                WHAT[wanted.iter().find(|w| w.0 == missing).map_or(0, |w| usize::from(w.1))]
            ));
        }
        let field = |slot: usize| {
            let (a, mut b) = fields[slot];
            if b == e && b > a && self.buf[b - 1] == b'\r' {
                b -= 1;
            }
            unquote(&self.buf[a..b])
        };
        let tf = field(TIME);
        let time = parse_time(tf)
            .ok_or_else(|| format!("column {} (time): a number of seconds, found {}", self.cols[TIME] + 1, show(tf)))?;
        let sf = field(SIZE);
        let size = parse_u64(sf).ok_or_else(|| {
            format!("column {} (size): a whole number of bytes, found {}", self.cols[SIZE] + 1, show(sf))
        })?;
        let idf = field(ID);
        if idf.is_empty() {
            return Err(format!("column {} (object id): an id, found an empty field", self.cols[ID] + 1));
        }
        let id = parse_u64(idf).unwrap_or_else(|| hash_id(idf));
        let geo = if self.has_geo {
            let (a, mut b) = fields[GEO];
            if b == e && b > a && self.buf[b - 1] == b'\r' {
                b -= 1;
            }
            let g = unquote(&self.buf[a..b]);
            match intern_geo(&mut self.geos, &mut self.geo_keys, g) {
                Some(i) => i,
                None => {
                    return Err(format!(
                        "column {} (geography): at most {GEOS_MAX} distinct geographies, found another: {}",
                        self.cols[GEO] + 1,
                        show(g)
                    ))
                }
            }
        } else {
            NO_GEO
        };
        let cache = if self.has_cache {
            let (a, mut b) = fields[CACHE];
            if b == e && b > a && self.buf[b - 1] == b'\r' {
                b -= 1;
            }
            let c = unquote(&self.buf[a..b]);
            Observed::parse(c).ok_or_else(|| {
                format!(
                    "column {} (cache result): hit, stale, miss, expired, revalidated, bypass, error or empty, found {}",
                    self.cols[CACHE] + 1,
                    show(c)
                )
            })? as u32
        } else {
            Observed::Unknown as u32
        };
        // Field by field: building a Request and copying it stalls on store forwarding.
        out.time = time;
        out.id = id;
        out.size = size;
        out.geo = geo;
        out.cache = cache;
        Ok(())
    }

    pub fn next_batch(&mut self, out: &mut Vec<Request>) -> Result<(), TraceError> {
        let mut fields = [(0usize, 0usize); SLOTS];
        let mut n = out.len();
        out.resize(BATCH, Request::default());
        let result = self.fill(out, &mut n, &mut fields);
        out.truncate(n);
        result
    }

    /// Fills `out[*n..]` with parsed rows, advancing `*n`.
    #[inline]
    fn fill(
        &mut self,
        out: &mut [Request],
        n: &mut usize,
        fields: &mut [(usize, usize); SLOTS],
    ) -> Result<(), TraceError> {
        while *n < out.len() {
            let (nl, found) = self.split_line(fields);
            let (s, e, next) = match nl {
                Some(e) => (self.start, e, e + 1),
                None if self.eof => {
                    if self.start == self.end {
                        break;
                    }
                    (self.start, self.end, self.end)
                }
                None if self.start > 0 || self.end < self.buf.len() => {
                    self.refill()?;
                    continue;
                }
                None => {
                    self.stats.records += 1;
                    let err = self.bad(self.offset, format!("a line of at most {BUF_BYTES} bytes"));
                    if !self.skip_bad {
                        return Err(err);
                    }
                    self.stats.bad_records += 1;
                    // Drop everything up to the next newline.
                    loop {
                        let n = self.end - self.start;
                        self.offset += n as u64;
                        self.stats.bytes += n as u64;
                        self.start = self.end;
                        self.refill()?;
                        if let Some(p) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                            self.consume_to(self.start + p + 1);
                            break;
                        }
                        if self.eof {
                            break;
                        }
                    }
                    continue;
                }
            };
            let line_offset = self.offset;
            if found < self.wanted_len && self.buf[s..e].iter().all(|b| b.is_ascii_whitespace()) {
                self.consume_to(next);
                continue;
            }
            self.stats.records += 1;
            match self.parse_row(s, e, fields, found, &mut out[*n]) {
                Ok(()) => *n += 1,
                Err(what) => {
                    if !self.skip_bad {
                        return Err(self.bad(line_offset, what));
                    }
                    self.stats.bad_records += 1;
                }
            }
            self.consume_to(next);
        }
        Ok(())
    }
}

/// The index of geography label `g`, added if new (`None`: too many labels).
#[inline]
fn intern_geo(geos: &mut Vec<Vec<u8>>, keys: &mut Vec<u64>, g: &[u8]) -> Option<u32> {
    let key = geo_key(g);
    for (i, (k, name)) in keys.iter().zip(geos.iter()).enumerate() {
        if *k == key && (g.len() < 8 || name.as_slice() == g) {
            return Some(i as u32);
        }
    }
    if geos.len() >= GEOS_MAX {
        return None;
    }
    geos.push(g.to_vec());
    keys.push(key);
    Some((geos.len() - 1) as u32)
}

/// A short geography label packed into an integer (labels of up to 7 bytes compare by it alone).
#[inline]
fn geo_key(g: &[u8]) -> u64 {
    let mut k = (g.len().min(255) as u64) << 56;
    for (i, &b) in g.iter().take(7).enumerate() {
        k |= u64::from(b) << (8 * i);
    }
    k
}

enum Sink {
    Plain(BufWriter<File>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
}

/// Writes a CSV trace: header `time,obj_id,size` (and `,geo`); zstd-compressed if the name ends
/// in `.zst`.
pub struct CsvWriter {
    out: Sink,
    path: PathBuf,
    with_geo: bool,
    records: u64,
}

impl CsvWriter {
    /// Creates (truncates) `path`.
    pub fn create(path: &Path, with_geo: bool) -> Result<CsvWriter, TraceError> {
        Self::open(path, File::create(path), with_geo)
    }

    /// Writes the trace for `out`'s destination (compressed if its name ends in `.zst`, named in
    /// messages) into `out`'s file.
    pub fn create_staged(out: &StagedFile, with_geo: bool) -> Result<CsvWriter, TraceError> {
        Self::open(out.dest(), out.create(), with_geo)
    }

    /// Writes lines of another text format for `out`'s destination (compressed if its name ends
    /// in `.zst`), starting with `header` (its lines, each ending in a line feed):
    /// [`CsvWriter::write_line`] appends the records.
    pub fn create_staged_text(out: &StagedFile, header: &str) -> Result<CsvWriter, TraceError> {
        Self::open_with(out.dest(), out.create(), false, header)
    }

    /// Appends one record of a text format (a line, with its line feed).
    pub fn write_line(&mut self, args: std::fmt::Arguments<'_>) -> Result<(), TraceError> {
        self.put(args)?;
        self.records += 1;
        Ok(())
    }

    /// Writes into `file` (just opened) the trace for the destination `path`.
    fn open(path: &Path, file: std::io::Result<File>, with_geo: bool) -> Result<CsvWriter, TraceError> {
        let header: &str = if with_geo { "time,obj_id,size,geo\n" } else { "time,obj_id,size\n" };
        Self::open_with(path, file, with_geo, header)
    }

    fn open_with(
        path: &Path,
        file: std::io::Result<File>,
        with_geo: bool,
        header: &str,
    ) -> Result<CsvWriter, TraceError> {
        let fail = |e: std::io::Error| TraceError::file(path, format!("a file that can be created ({e})"));
        let f = BufWriter::with_capacity(1 << 20, file.map_err(fail)?);
        let out = if super::is_zst_name(path) {
            Sink::Zstd(zstd::stream::write::Encoder::new(f, 3).map_err(fail)?)
        } else {
            Sink::Plain(f)
        };
        let mut w = CsvWriter { out, path: path.to_path_buf(), with_geo, records: 0 };
        w.put(format_args!("{header}"))?;
        Ok(w)
    }

    fn put(&mut self, args: std::fmt::Arguments<'_>) -> Result<(), TraceError> {
        let r = match &mut self.out {
            Sink::Plain(w) => w.write_fmt(args),
            Sink::Zstd(w) => w.write_fmt(args),
        };
        r.map_err(|e| TraceError::file(&self.path, format!("a writable file ({e})")))
    }

    /// Appends one request.
    pub fn write(&mut self, time_s: u64, id: u64, size: u64, geo: Option<&str>) -> Result<(), TraceError> {
        if self.with_geo {
            self.put(format_args!("{time_s},{id},{size},{}\n", geo.unwrap_or("")))?;
        } else {
            self.put(format_args!("{time_s},{id},{size}\n"))?;
        }
        self.records += 1;
        Ok(())
    }

    /// Flushes and closes; returns the records written.
    pub fn finish(self) -> Result<u64, TraceError> {
        let path = self.path;
        let fail = |e: std::io::Error| TraceError::file(&path, format!("a writable file ({e})"));
        match self.out {
            Sink::Plain(mut w) => w.flush().map_err(fail)?,
            Sink::Zstd(enc) => enc.finish().map_err(fail)?.flush().map_err(fail)?,
        }
        Ok(self.records)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ReadOptions, TraceReader};
    use super::*;

    fn read(text: &str, spec: CsvSpec, skip_bad: bool) -> Result<(Vec<Request>, ReadStats, Vec<String>), TraceError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let opts = ReadOptions { csv: spec, skip_bad, ..Default::default() };
        let mut r = TraceReader::open(&path, &opts)?;
        let mut all = Vec::new();
        let mut batch = Vec::new();
        while r.next_batch(&mut batch)? {
            all.extend_from_slice(&batch);
        }
        Ok((all, r.stats(), r.geo_names()))
    }

    #[test]
    fn headers_are_detected_and_columns_found_by_name() {
        let (reqs, stats, geos) =
            read("time,obj_id,size,geo\n1,10,100,eu\n2,abc,200,na\r\n\n3.7,10,100,eu", CsvSpec::default(), false)
                .unwrap();
        assert_eq!(stats.records, 3);
        assert_eq!(reqs[0], Request { time: 1, id: 10, size: 100, geo: 0, cache: 0 });
        assert_eq!(reqs[1].id, hash_id(b"abc"));
        assert_eq!((reqs[1].geo, reqs[2].time), (1, 3));
        assert_eq!(geos, ["eu", "na"]);
        // No header: columns 1, 2, 3.
        let (reqs, ..) = read("5,6,7\n8,9,10\n", CsvSpec::default(), false).unwrap();
        assert_eq!(reqs[1], Request { time: 8, id: 9, size: 10, geo: NO_GEO, cache: 0 });
    }

    #[test]
    fn columns_by_number_or_name() {
        let text = "version,time,op,size,lbn\n1,5633898,2a,512,42932745\n1,5633899,2a,6656,7\n";
        let err = read(text, CsvSpec::default(), false).unwrap_err();
        assert!(err.to_string().contains("--id-col"), "{err}");
        let spec = CsvSpec { id: Some(Col::parse("lbn").unwrap()), ..Default::default() };
        let (reqs, ..) = read(text, spec, false).unwrap();
        assert_eq!(reqs[0], Request { time: 5633898, id: 42932745, size: 512, geo: NO_GEO, cache: 0 });
        let spec = CsvSpec {
            time: Some(Col::parse("2").unwrap()),
            id: Some(Col::parse("5").unwrap()),
            size: Some(Col::parse("4").unwrap()),
            ..Default::default()
        };
        let (reqs, ..) = read(text, spec, false).unwrap();
        assert_eq!(reqs[1], Request { time: 5633899, id: 7, size: 6656, geo: NO_GEO, cache: 0 });
    }

    /// Digits are a column number from 1 to `COLS_MAX`, refused beyond (not taken for a header
    /// name); a column handed to the reader directly beyond the limit is refused too, before
    /// anything is read or allocated for it (a table per column number used to be).
    #[test]
    fn column_numbers_are_bounded() {
        assert_eq!(Col::parse(" 7 "), Ok(Col::Index(7)));
        assert_eq!(Col::parse("10000"), Ok(Col::Index(COLS_MAX)));
        assert_eq!(Col::parse("lbn"), Ok(Col::Name("lbn".into())));
        for bad in ["0", "10001", "18446744073709551615", "99999999999999999999999"] {
            assert!(Col::parse(bad).unwrap_err().contains("a column number from 1 to 10000"), "{bad}");
        }
        for i in [0, COLS_MAX + 1, usize::MAX] {
            let spec = CsvSpec { time: Some(Col::Index(i)), ..Default::default() };
            let err = read("1,2,3\n", spec, false).unwrap_err().to_string();
            assert!(err.contains(&format!("--time-col {i}: a column number from 1 to 10000")), "{err}");
        }
    }

    #[test]
    fn malformed_rows_are_located_or_counted() {
        let text = "time,obj_id,size\n1,1,10\n2,2,ten\n3,3\n4,4,40\n";
        let err = read(text, CsvSpec::default(), false).unwrap_err();
        assert_eq!((err.record, err.line, err.byte_offset), (Some(2), Some(3), Some(24)));
        assert!(err.to_string().contains("column 3 (size): a whole number of bytes, found \"ten\""), "{err}");
        let (reqs, stats, _) = read(text, CsvSpec::default(), true).unwrap();
        assert_eq!(reqs.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 4]);
        assert_eq!((stats.records, stats.bad_records), (4, 2));
        let err = read("1,1,10\n2,2\n", CsvSpec::default(), false).unwrap_err();
        assert!(err.to_string().contains("at least 3 columns (column 3 holds the size), found 2"), "{err}");
        assert!(read("1,,5\n", CsvSpec::default(), false).unwrap_err().to_string().contains("empty"));
        assert!(read("-1,1,5\n", CsvSpec::default(), false).is_err());
    }

    #[test]
    fn numbers_parse_exactly() {
        for n in [0u64, 7, 42, 12_345_678, 123_456_789, 9_999_999_999_999_999, u64::MAX, u64::MAX - 1, 10u64.pow(19)] {
            assert_eq!(parse_u64(n.to_string().as_bytes()), Some(n), "{n}");
        }
        assert_eq!(parse_u64(b"0000000000000000042"), Some(42));
        for bad in [
            "",
            "18446744073709551616",
            "99999999999999999999",
            "123456789012345678901",
            "1234567a",
            "12345678:",
            "-1",
            "1 2",
            "+5",
            "12345678/",
        ] {
            assert_eq!(parse_u64(bad.as_bytes()), None, "{bad}");
        }
        for i in 0..1000u64 {
            let n = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (i % 64);
            assert_eq!(parse_u64(n.to_string().as_bytes()), Some(n));
        }
    }

    #[test]
    fn overlong_lines_are_bad_records() {
        let long = "9".repeat(BUF_BYTES + 10);
        let text = format!("1,1,10\n2,{long},10\n3,3,30\n");
        let err = read(&text, CsvSpec::default(), false).unwrap_err();
        assert_eq!(err.record, Some(2));
        let (reqs, stats, _) = read(&text, CsvSpec::default(), true).unwrap();
        assert_eq!((reqs.len(), stats.bad_records), (2, 1));
        assert_eq!(reqs[1].id, 3);
    }

    #[test]
    fn writer_round_trips_plain_and_compressed() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["w.csv", "w.csv.zst"] {
            let path = dir.path().join(name);
            let mut w = CsvWriter::create(&path, true).unwrap();
            w.write(1, 2, 3, Some("eu")).unwrap();
            w.write(4, 5, 6, None).unwrap();
            assert_eq!(w.finish().unwrap(), 2);
            let mut r = TraceReader::open(&path, &ReadOptions::default()).unwrap();
            let mut b = Vec::new();
            assert!(r.next_batch(&mut b).unwrap());
            assert_eq!(b[0], Request { time: 1, id: 2, size: 3, geo: 0, cache: 0 });
            assert_eq!(b[1].geo, 1);
            assert_eq!(r.geo_names(), ["eu", ""]);
        }
    }
}
