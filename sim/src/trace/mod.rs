//! Request traces: reading them in constant memory, writing them, and replaying them through one
//! cache.
//!
//! Two formats, each optionally zstd-compressed (recognised by its magic number, whatever the
//! file is called):
//! * **oracleGeneral**, libCacheSim's binary format: packed little-endian 24-byte records
//!   `<u32 time (s), u64 object id, u32 size (bytes), i64 next access (virtual time, -1 none)>`;
//! * **CSV** with configurable columns for time, object id, size and an optional geography
//!   ([`CsvSpec`]).
//!
//! Reading is batched ([`TraceReader::next_batch`]) from a fixed buffer, so memory does not grow
//! with the trace. A bad record (a truncated binary record, a malformed CSV row) stops reading
//! with a [`TraceError`] naming the file, the record number and the byte offset, or, with
//! `skip_bad`, is counted in [`ReadStats::bad_records`] and skipped. Object ids become dense
//! ids through an [`IdMap`] in the consumers.

mod csv;
pub mod fit;
pub mod generate;
mod idmap;
pub mod import;
pub mod logs;
mod oracle;
pub mod replay;
mod size;

pub use csv::{Col, CsvSpec, CsvWriter, HeaderMode, COLS_MAX};
pub use idmap::{IdMap, IDS_MAX};
pub use oracle::{OracleWriter, RECORD_BYTES};
pub use size::{parse_cache_size, CacheSize};

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Requests per batch.
pub const BATCH: usize = 4096;

/// The geography of a request without one.
pub const NO_GEO: u32 = u32::MAX;

/// One request as read from a trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// Trace time in seconds.
    pub time: u64,
    /// The object id as written in the trace (a CSV id that is not a number is hashed).
    pub id: u64,
    /// Bytes.
    pub size: u64,
    /// Index into [`TraceReader::geo_names`], or [`NO_GEO`].
    pub geo: u32,
    /// The CDN's own result for it, an [`Observed`] (an imported log's `cache` column). A `u32`
    /// beside `geo`, so that a reader without either writes both in one 8-byte store.
    pub cache: u32,
}

/// The CDN's own cache result for a request, as a trace of an access log records it, for
/// putting observed beside simulated (`clipsim run --trace`'s calibration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Observed {
    /// Not recorded (or no cache column).
    Unknown = 0,
    /// Served from the edge's cache: `hit` (and `stale`, served from cache too).
    Hit = 1,
    /// Not served from the edge's cache: `miss`, `expired`, `revalidated` (the origin was asked).
    Miss = 2,
    /// Neither: `bypass` (not cacheable), `error`. Left out of the comparison.
    Other = 3,
}

impl Observed {
    /// The result a trace's `cache` field names (`None`: not a cache result).
    pub fn parse(field: &[u8]) -> Option<Observed> {
        let lower = |w: &str| field.eq_ignore_ascii_case(w.as_bytes());
        Some(if field.is_empty() || lower("-") {
            Observed::Unknown
        } else if lower("hit") || lower("stale") {
            Observed::Hit
        } else if lower("miss") || lower("expired") || lower("revalidated") {
            Observed::Miss
        } else if lower("bypass") || lower("error") {
            Observed::Other
        } else {
            return None;
        })
    }
}

/// A trace format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated (or another delimiter) text.
    Csv,
    /// libCacheSim's oracleGeneral binary records.
    OracleGeneral,
}

impl Format {
    /// Names accepted by `--format`.
    pub const NAMES: [&'static str; 2] = ["csv", "oracle-general"];

    /// The format with this name.
    pub fn parse(name: &str) -> Option<Format> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "csv" => Some(Format::Csv),
            "oracle-general" | "oraclegeneral" | "oracle" | "bin" => Some(Format::OracleGeneral),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::OracleGeneral => "oracle-general",
        }
    }

    /// The format a file name implies, `.zst` aside: `*.csv` is CSV; `*.oracleGeneral*` and
    /// `*.bin` are oracleGeneral.
    pub fn infer(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let name = name.strip_suffix(".zst").unwrap_or(&name);
        if name.ends_with(".csv") {
            Some(Format::Csv)
        } else if name.contains("oraclegeneral") || name.ends_with(".bin") {
            Some(Format::OracleGeneral)
        } else {
            None
        }
    }
}

/// Whether a path names a zstd-compressed file (`*.zst`).
pub fn is_zst_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zst"))
}

/// A problem reading or writing a trace, located as precisely as known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The file.
    pub file: PathBuf,
    /// 1-based record number (for CSV: data rows, the header not counted).
    pub record: Option<u64>,
    /// 1-based line (CSV).
    pub line: Option<u64>,
    /// Byte offset of the record's first byte (in the decompressed stream when compressed).
    pub byte_offset: Option<u64>,
    /// Whether offsets are in a decompressed stream.
    pub compressed: bool,
    /// What was expected, and what was found.
    pub expected: String,
}

impl TraceError {
    /// An error about the whole file.
    pub fn file(path: &Path, expected: impl Into<String>) -> Self {
        TraceError {
            file: path.to_path_buf(),
            record: None,
            line: None,
            byte_offset: None,
            compressed: false,
            expected: expected.into(),
        }
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        let mut place = Vec::new();
        if let Some(r) = self.record {
            place.push(format!("record {r}"));
        }
        if let Some(l) = self.line {
            place.push(format!("line {l}"));
        }
        if let Some(b) = self.byte_offset {
            place.push(if self.compressed {
                format!("byte offset {b} of the decompressed data")
            } else {
                format!("byte offset {b}")
            });
        }
        if !place.is_empty() {
            write!(f, ": {}", place.join(", "))?;
        }
        write!(f, ": {}", self.expected)
    }
}

impl std::error::Error for TraceError {}

/// What a reader has seen so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Records read, bad ones included.
    pub records: u64,
    /// Bad records skipped (only with `skip_bad`).
    pub bad_records: u64,
    /// Bytes of the (decompressed) input consumed.
    pub bytes: u64,
}

/// How to read a trace.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// The format; `None`: from the file name.
    pub format: Option<Format>,
    /// CSV columns.
    pub csv: CsvSpec,
    /// Count and skip bad records instead of stopping.
    pub skip_bad: bool,
}

/// The bytes of a trace file, decompressed if they are zstd.
pub(crate) struct Source {
    inner: Box<dyn Read>,
    pub path: PathBuf,
    pub compressed: bool,
}

impl Source {
    /// Opens `path`, looking at its first bytes for zstd's magic number.
    pub fn open(path: &Path) -> Result<Source, TraceError> {
        let fail = |e: io::Error| TraceError::file(path, format!("a readable file ({e})"));
        let meta = std::fs::metadata(path).map_err(fail)?;
        if meta.is_dir() {
            return Err(TraceError::file(path, "a file, not a directory"));
        }
        let mut file = File::open(path).map_err(fail)?;
        let mut magic = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match file.read(&mut magic[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(fail(e)),
            }
        }
        let head = io::Cursor::new(magic[..got].to_vec()).chain(file);
        let compressed = got == 4 && magic == [0x28, 0xB5, 0x2F, 0xFD];
        let inner: Box<dyn Read> = if compressed {
            Box::new(
                zstd::stream::read::Decoder::new(head)
                    .map_err(|e| TraceError::file(path, format!("a zstd stream that can be decoded ({e})")))?,
            )
        } else {
            Box::new(head)
        };
        Ok(Source { inner, path: path.to_path_buf(), compressed })
    }

    /// Reads into `buf` until it is full or the input ends; returns the bytes read.
    pub fn fill(&mut self, buf: &mut [u8], offset: u64) -> Result<usize, TraceError> {
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(TraceError {
                        file: self.path.clone(),
                        record: None,
                        line: None,
                        byte_offset: Some(offset + got as u64),
                        compressed: self.compressed,
                        expected: if self.compressed {
                            format!("a complete, valid zstd stream ({e})")
                        } else {
                            format!("a readable file ({e})")
                        },
                    })
                }
            }
        }
        Ok(got)
    }
}

enum Inner {
    Oracle(oracle::OracleReader),
    Csv(csv::CsvReader),
}

/// A trace reader.
pub struct TraceReader {
    inner: Inner,
    format: Format,
}

impl TraceReader {
    /// Opens a trace.
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<TraceReader, TraceError> {
        let format = match opts.format.or_else(|| Format::infer(path)) {
            Some(f) => f,
            None => {
                return Err(TraceError::file(
                    path,
                    "a file name ending in .csv, .bin or containing oracleGeneral (optionally .zst), or name the format with --format csv|oracle-general",
                ))
            }
        };
        let src = Source::open(path)?;
        let inner = match format {
            Format::OracleGeneral => Inner::Oracle(oracle::OracleReader::new(src, opts.skip_bad)),
            Format::Csv => Inner::Csv(csv::CsvReader::new(src, &opts.csv, opts.skip_bad)?),
        };
        Ok(TraceReader { inner, format })
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Fills `out` (cleared first) with up to [`BATCH`] requests; `Ok(false)` at the end.
    pub fn next_batch(&mut self, out: &mut Vec<Request>) -> Result<bool, TraceError> {
        out.clear();
        match &mut self.inner {
            Inner::Oracle(r) => r.next_batch(out),
            Inner::Csv(r) => r.next_batch(out),
        }?;
        Ok(!out.is_empty())
    }

    /// What has been read so far.
    pub fn stats(&self) -> ReadStats {
        match &self.inner {
            Inner::Oracle(r) => r.stats,
            Inner::Csv(r) => r.stats,
        }
    }

    /// Geography labels, indexed by [`Request::geo`] (CSV with a geography column).
    pub fn geo_names(&self) -> Vec<String> {
        match &self.inner {
            Inner::Oracle(_) => Vec::new(),
            Inner::Csv(r) => r.geo_names(),
        }
    }

    /// Whether requests carry the CDN's cache result (a CSV `cache` column).
    pub fn has_cache(&self) -> bool {
        match &self.inner {
            Inner::Oracle(_) => false,
            Inner::Csv(r) => r.has_cache,
        }
    }

    /// Whether requests carry a geography.
    pub fn has_geo(&self) -> bool {
        match &self.inner {
            Inner::Oracle(_) => false,
            Inner::Csv(r) => r.has_geo,
        }
    }

    /// The index of a geography label, if seen so far.
    pub fn geo_index(&self, name: &str) -> Option<u32> {
        match &self.inner {
            Inner::Oracle(_) => None,
            Inner::Csv(r) => r.geo_index(name.as_bytes()),
        }
    }
}
