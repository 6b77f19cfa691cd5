//! libCacheSim's oracleGeneral format: packed little-endian 24-byte records
//! `<u32 time (s), u64 object id, u32 size (bytes), i64 next access>`. The next access is the
//! 1-based virtual time (record number) of the next request for the same object, -1 if none.

use super::{IdMap, ReadStats, Request, Source, TraceError, BATCH, NO_GEO};
use crate::report::StagedFile;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Bytes per record.
pub const RECORD_BYTES: usize = 24;

/// Records per read buffer (about 1 MiB).
const BUF_RECORDS: usize = 43_690;

pub(crate) struct OracleReader {
    src: Source,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    eof: bool,
    skip_bad: bool,
    pub stats: ReadStats,
}

impl OracleReader {
    pub fn new(src: Source, skip_bad: bool) -> Self {
        OracleReader {
            src,
            buf: vec![0; BUF_RECORDS * RECORD_BYTES],
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            skip_bad,
            stats: ReadStats::default(),
        }
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

    pub fn next_batch(&mut self, out: &mut Vec<Request>) -> Result<(), TraceError> {
        while out.len() < BATCH {
            if self.end - self.start < RECORD_BYTES {
                if !self.eof {
                    self.refill()?;
                    continue;
                }
                if self.start == self.end {
                    break;
                }
                // A truncated last record.
                let have = self.end - self.start;
                self.stats.records += 1;
                if self.skip_bad {
                    self.stats.bad_records += 1;
                    self.stats.bytes += have as u64;
                    self.offset += have as u64;
                    self.start = self.end;
                    break;
                }
                return Err(TraceError {
                    file: self.src.path.clone(),
                    record: Some(self.stats.records),
                    line: None,
                    byte_offset: Some(self.offset),
                    compressed: self.src.compressed,
                    expected: format!(
                        "a whole {RECORD_BYTES}-byte oracleGeneral record (u32 time, u64 id, u32 size, i64 next access), found only {have} bytes before the end of the file"
                    ),
                });
            }
            let n = ((self.end - self.start) / RECORD_BYTES).min(BATCH - out.len());
            let bytes = &self.buf[self.start..self.start + n * RECORD_BYTES];
            out.extend(bytes.chunks_exact(RECORD_BYTES).map(|r| {
                let time = u32::from_le_bytes(r[0..4].try_into().unwrap_or([0; 4]));
                let id = u64::from_le_bytes(r[4..12].try_into().unwrap_or([0; 8]));
                let size = u32::from_le_bytes(r[12..16].try_into().unwrap_or([0; 4]));
                Request { time: u64::from(time), id, size: u64::from(size), geo: NO_GEO, cache: 0 }
            }));
            self.start += n * RECORD_BYTES;
            self.offset += (n * RECORD_BYTES) as u64;
            self.stats.records += n as u64;
            self.stats.bytes += (n * RECORD_BYTES) as u64;
        }
        Ok(())
    }
}

/// Writes oracleGeneral records. The next-access field is filled in by [`OracleWriter::finish`]
/// with a backward pass over the records (memory grows with the distinct objects, not with the
/// records), so they go first to a file that can be read back and rewritten: the output itself
/// when it is a plain file, otherwise (a `.zst` output, a device or a pipe) a scratch file,
/// compressed or copied into the output at the end.
pub struct OracleWriter {
    out: BufWriter<File>,
    /// The records being written, uncompressed.
    raw_path: PathBuf,
    /// Where the finished trace goes when not written in place at `raw_path`.
    target: Option<File>,
    /// The destination, named in messages; a name ending in `.zst` compresses.
    path: PathBuf,
    records: u64,
}

fn io_err(path: &Path, what: &str, e: io::Error) -> TraceError {
    TraceError::file(path, format!("{what} ({e})"))
}

impl OracleWriter {
    /// Creates (truncates) `path`; compressed with zstd if it ends in `.zst` (through
    /// `PATH.partial` beside it).
    pub fn create(path: &Path) -> Result<OracleWriter, TraceError> {
        if !super::is_zst_name(path) {
            return Self::open(path, None, path.to_path_buf());
        }
        let mut raw = path.as_os_str().to_owned();
        raw.push(".partial");
        let target = File::create(path).map_err(|e| io_err(path, "a file that can be created", e))?;
        Self::open(path, Some(target), PathBuf::from(raw))
    }

    /// Writes the trace for `out`'s destination (compressed if its name ends in `.zst`) into
    /// `out`'s file, through a scratch file of `out`'s when it cannot be written in place.
    pub fn create_staged(out: &mut StagedFile) -> Result<OracleWriter, TraceError> {
        if !super::is_zst_name(out.dest()) && !out.is_direct() {
            return Self::open(out.dest(), None, out.path().to_path_buf());
        }
        let target = out.create().map_err(|e| io_err(out.dest(), "a file that can be created", e))?;
        let raw_path = out.scratch("records");
        Self::open(out.dest(), Some(target), raw_path)
    }

    /// Writes the records at `raw_path`, then into `target` if there is one.
    fn open(dest: &Path, target: Option<File>, raw_path: PathBuf) -> Result<OracleWriter, TraceError> {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&raw_path)
            .map_err(|e| io_err(&raw_path, "a file that can be created", e))?;
        let out = BufWriter::with_capacity(1 << 20, f);
        Ok(OracleWriter { out, raw_path, target, path: dest.to_path_buf(), records: 0 })
    }

    /// The records' file as named in messages: the destination when written in place.
    fn raw_shown(&self) -> &Path {
        if self.target.is_none() {
            &self.path
        } else {
            &self.raw_path
        }
    }

    /// Appends one request. Sizes and times must fit the format's `u32` fields.
    pub fn write(&mut self, time_s: u64, id: u64, size: u64) -> Result<(), TraceError> {
        let record = self.records + 1;
        let fail = |what: String| TraceError {
            file: self.path.clone(),
            record: Some(record),
            line: None,
            byte_offset: Some(self.records * RECORD_BYTES as u64),
            compressed: false,
            expected: what,
        };
        let time = u32::try_from(time_s)
            .map_err(|_| fail(format!("a time of at most {} s for the u32 time field, not {time_s}", u32::MAX)))?;
        let size = u32::try_from(size)
            .map_err(|_| fail(format!("a size of at most {} bytes for the u32 size field, not {size}", u32::MAX)))?;
        let mut rec = [0u8; RECORD_BYTES];
        rec[0..4].copy_from_slice(&time.to_le_bytes());
        rec[4..12].copy_from_slice(&id.to_le_bytes());
        rec[12..16].copy_from_slice(&size.to_le_bytes());
        rec[16..24].copy_from_slice(&(-1i64).to_le_bytes());
        self.out.write_all(&rec).map_err(|e| io_err(self.raw_shown(), "a writable file", e))?;
        self.records += 1;
        Ok(())
    }

    /// Records written.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Fills in the next-access fields, compresses or copies into the output if need be, and
    /// closes the files.
    pub fn finish(self) -> Result<u64, TraceError> {
        let shown = self.raw_shown().to_path_buf();
        let OracleWriter { out, raw_path, target, path, records } = self;
        let wf = |e: io::Error| io_err(&shown, "a writable file", e);
        let mut f = out.into_inner().map_err(|e| io_err(&shown, "a writable file", e.into_error()))?;
        let mut next_of: Vec<i64> = Vec::new();
        let mut ids = IdMap::new();
        let mut buf = vec![0u8; BUF_RECORDS * RECORD_BYTES];
        let mut hi = records;
        while hi > 0 {
            let lo = hi.saturating_sub(BUF_RECORDS as u64);
            let n = (hi - lo) as usize;
            let block = &mut buf[..n * RECORD_BYTES];
            f.seek(SeekFrom::Start(lo * RECORD_BYTES as u64)).map_err(wf)?;
            f.read_exact(block).map_err(wf)?;
            for j in (0..n).rev() {
                let r = &mut block[j * RECORD_BYTES..(j + 1) * RECORD_BYTES];
                let id = u64::from_le_bytes(r[4..12].try_into().unwrap_or([0; 8]));
                let (dense, new) = ids
                    .get_or_insert(id)
                    .ok_or_else(|| TraceError::file(&path, format!("at most {} distinct objects", super::IDS_MAX)))?;
                if new {
                    next_of.push(-1);
                }
                let vtime = (lo + j as u64 + 1) as i64;
                r[16..24].copy_from_slice(&next_of[dense as usize].to_le_bytes());
                next_of[dense as usize] = vtime;
            }
            f.seek(SeekFrom::Start(lo * RECORD_BYTES as u64)).map_err(wf)?;
            f.write_all(block).map_err(wf)?;
            hi = lo;
        }
        f.flush().map_err(wf)?;
        drop(f);
        if let Some(target) = target {
            deliver(&raw_path, target, &path)?;
            std::fs::remove_file(&raw_path).map_err(|e| io_err(&raw_path, "a file that can be removed", e))?;
        }
        Ok(records)
    }
}

/// Writes the records in `from` to `out`, the destination `dest` (named in messages):
/// compressed with zstd (level 3) when `dest`'s name ends in `.zst`, else as they are.
fn deliver(from: &Path, out: File, dest: &Path) -> Result<(), TraceError> {
    let mut input = File::open(from).map_err(|e| io_err(from, "a readable file", e))?;
    let wf = |e: io::Error| io_err(dest, "a writable file", e);
    let mut w = BufWriter::new(out);
    if super::is_zst_name(dest) {
        let mut enc = zstd::stream::write::Encoder::new(w, 3).map_err(|e| io_err(dest, "a zstd encoder", e))?;
        io::copy(&mut input, &mut enc).map_err(wf)?;
        w = enc.finish().map_err(wf)?;
    } else {
        io::copy(&mut input, &mut w).map_err(wf)?;
    }
    w.flush().map_err(wf)
}

#[cfg(test)]
mod tests {
    use super::super::{ReadOptions, TraceReader};
    use super::*;

    fn read_all(path: &Path, skip_bad: bool) -> Result<(Vec<Request>, ReadStats), TraceError> {
        let opts = ReadOptions { skip_bad, ..Default::default() };
        let mut r = TraceReader::open(path, &opts)?;
        let mut all = Vec::new();
        let mut batch = Vec::new();
        while r.next_batch(&mut batch)? {
            all.extend_from_slice(&batch);
        }
        Ok((all, r.stats()))
    }

    #[test]
    fn writes_and_reads_back_with_next_access_times() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["t.oracleGeneral.bin", "t.oracleGeneral.bin.zst"] {
            let path = dir.path().join(name);
            let mut w = OracleWriter::create(&path).unwrap();
            for (i, id) in [5u64, 9, 5, 7, 9, 5].iter().enumerate() {
                w.write(i as u64, *id, 100 + id).unwrap();
            }
            assert_eq!(w.finish().unwrap(), 6);
            let (reqs, stats) = read_all(&path, false).unwrap();
            assert_eq!(reqs.iter().map(|r| r.id).collect::<Vec<_>>(), [5, 9, 5, 7, 9, 5]);
            assert_eq!(reqs[3], Request { time: 3, id: 7, size: 107, geo: NO_GEO, cache: 0 });
            assert_eq!(stats.records, 6);
            if name.ends_with(".bin") {
                let bytes = std::fs::read(&path).unwrap();
                let next: Vec<i64> = bytes
                    .chunks_exact(RECORD_BYTES)
                    .map(|r| i64::from_le_bytes(r[16..24].try_into().unwrap()))
                    .collect();
                assert_eq!(next, [3, 5, 6, -1, -1, -1]);
            } else {
                assert!(!dir.path().join("t.oracleGeneral.bin.zst.partial").exists());
            }
        }
    }

    #[test]
    fn a_truncated_record_is_located_or_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.oracleGeneral.bin");
        let mut bytes = Vec::new();
        for i in 0..3u64 {
            bytes.extend_from_slice(&(i as u32).to_le_bytes());
            bytes.extend_from_slice(&i.to_le_bytes());
            bytes.extend_from_slice(&10u32.to_le_bytes());
            bytes.extend_from_slice(&(-1i64).to_le_bytes());
        }
        bytes.truncate(2 * RECORD_BYTES + 7);
        std::fs::write(&path, &bytes).unwrap();
        let err = read_all(&path, false).unwrap_err();
        assert_eq!((err.record, err.byte_offset), (Some(3), Some(48)));
        assert!(err.to_string().contains("record 3, byte offset 48"), "{err}");
        let (reqs, stats) = read_all(&path, true).unwrap();
        assert_eq!((reqs.len(), stats.records, stats.bad_records), (2, 3, 1));
    }

    #[test]
    fn sizes_that_do_not_fit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = OracleWriter::create(&dir.path().join("x.bin")).unwrap();
        assert!(w.write(0, 1, 1 << 32).unwrap_err().to_string().contains("u32 size"));
        assert!(w.write(1 << 32, 1, 1).is_err());
    }
}
