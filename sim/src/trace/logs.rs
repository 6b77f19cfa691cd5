//! CDN and web-server access logs, one line at a time: CloudFront standard logs (W3C extended,
//! tab-separated, with a `#Fields:` header), Cloudflare Logpush HTTP request records (NDJSON) and
//! nginx's `combined` format, and CSV request logs with a header naming their columns. Each line
//! becomes a [`LogRecord`] (time, decoded URI path, bytes sent,
//! status, the CDN's cache result, the viewer's country and the edge location where the log has
//! them), a line to skip (a comment, a header, a blank), or a reason it is malformed. The field
//! lists are the formats' published ones (CloudFront developer guide "Standard logging" field
//! list; Cloudflare Logpush `http_requests` dataset; nginx `log_format combined`).

use serde::Deserialize;

/// A log format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// CloudFront standard (access) logs.
    CloudFront,
    /// Cloudflare Logpush HTTP requests, one JSON object per line.
    Cloudflare,
    /// nginx `combined` (also Apache's).
    Nginx,
    /// Comma-separated, with a header line naming the columns (see [`CsvCols`]).
    Csv,
}

impl LogFormat {
    /// Every format's name.
    pub const NAMES: [&'static str; 4] = ["cloudfront", "cloudflare", "nginx", "csv"];

    /// The format named `name`.
    pub fn parse(name: &str) -> Option<LogFormat> {
        match name {
            "cloudfront" => Some(LogFormat::CloudFront),
            "cloudflare" => Some(LogFormat::Cloudflare),
            "nginx" => Some(LogFormat::Nginx),
            "csv" => Some(LogFormat::Csv),
            _ => None,
        }
    }
}

/// The CDN's own cache result for a request, normalized across CDNs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CacheResult {
    /// Served from the edge's cache.
    Hit,
    /// Fetched from the origin.
    Miss,
    /// An expired copy revalidated with the origin (CloudFront `RefreshHit`, Cloudflare
    /// `revalidated`).
    Revalidated,
    /// An expired copy fetched again (Cloudflare `expired`).
    Expired,
    /// A stale copy served while it is updated (Cloudflare `stale`, `updating`).
    Stale,
    /// Not cacheable or not cached by configuration (Cloudflare `bypass`, `dynamic`).
    Bypass,
    /// The edge failed the request (CloudFront `Error`, `LimitExceeded`, `CapacityExceeded`).
    Error,
    /// The log does not say.
    Unknown,
}

impl CacheResult {
    /// Its name in a trace's `cache` column.
    pub fn name(self) -> &'static str {
        match self {
            CacheResult::Hit => "hit",
            CacheResult::Miss => "miss",
            CacheResult::Revalidated => "revalidated",
            CacheResult::Expired => "expired",
            CacheResult::Stale => "stale",
            CacheResult::Bypass => "bypass",
            CacheResult::Error => "error",
            CacheResult::Unknown => "",
        }
    }

    /// Every result, in the order of [`CacheResult::index`].
    pub const ALL: [CacheResult; 8] = [
        CacheResult::Hit,
        CacheResult::Miss,
        CacheResult::Revalidated,
        CacheResult::Expired,
        CacheResult::Stale,
        CacheResult::Bypass,
        CacheResult::Error,
        CacheResult::Unknown,
    ];

    /// Its position in [`CacheResult::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    fn cloudfront(v: &[u8]) -> CacheResult {
        match v {
            b"Hit" => CacheResult::Hit,
            b"RefreshHit" => CacheResult::Revalidated,
            b"Miss" => CacheResult::Miss,
            b"Error" | b"LimitExceeded" | b"CapacityExceeded" => CacheResult::Error,
            _ => CacheResult::Unknown,
        }
    }

    fn cloudflare(v: &str) -> CacheResult {
        match v.to_ascii_lowercase().as_str() {
            "hit" => CacheResult::Hit,
            "miss" => CacheResult::Miss,
            "revalidated" => CacheResult::Revalidated,
            "expired" => CacheResult::Expired,
            "stale" | "updating" => CacheResult::Stale,
            "bypass" | "dynamic" => CacheResult::Bypass,
            "error" => CacheResult::Error,
            _ => CacheResult::Unknown,
        }
    }
}

/// A short code (a country, an edge location), at most 16 bytes, kept inline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Code {
    bytes: [u8; 16],
    len: u8,
}

impl Code {
    fn of(v: &[u8]) -> Option<Code> {
        if v.is_empty() || v == b"-" || v.len() > 16 {
            return None;
        }
        let mut c = Code { bytes: [0; 16], len: v.len() as u8 };
        c.bytes[..v.len()].copy_from_slice(v);
        Some(c)
    }

    /// The code's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// One request of a log. The URI path is in the buffer the parser was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// Unix time, seconds.
    pub time_s: u64,
    /// Bytes sent to the viewer (headers included where the log counts them).
    pub bytes: u64,
    /// HTTP status.
    pub status: u16,
    /// The CDN's cache result.
    pub cache: CacheResult,
    /// The viewer's country (ISO 3166-1 alpha-2, lower case), when the log has it.
    pub country: Option<Code>,
    /// The edge location that served it, when the log has it.
    pub edge: Option<Code>,
    /// The last byte of the object the response covered (a range's end), when the log says.
    pub range_end: Option<u64>,
}

/// CloudFront's standard log fields, in their published order (used until a `#Fields:` line
/// says otherwise).
const CLOUDFRONT_FIELDS: &str = "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status \
    cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header \
    cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type \
    cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type \
    sc-content-type sc-content-len sc-range-start sc-range-end";

/// Positions of the CloudFront fields a record needs.
#[derive(Clone, Copy, Debug)]
struct CfFields {
    date: usize,
    time: usize,
    edge: usize,
    bytes: usize,
    uri: usize,
    status: usize,
    result: Option<usize>,
    range_end: Option<usize>,
    count: usize,
}

impl CfFields {
    fn from_names(names: &str) -> Result<CfFields, String> {
        let names: Vec<&str> = names.split_whitespace().collect();
        let at = |n: &str| names.iter().position(|&x| x == n);
        let need = |n: &str| at(n).ok_or_else(|| format!("a #Fields: line that names `{n}`"));
        Ok(CfFields {
            date: need("date")?,
            time: need("time")?,
            edge: need("x-edge-location")?,
            bytes: need("sc-bytes")?,
            uri: need("cs-uri-stem")?,
            status: need("sc-status")?,
            result: at("x-edge-result-type"),
            range_end: at("sc-range-end"),
            count: names.len(),
        })
    }
}

/// The most fields of a CloudFront line.
const CF_FIELDS_MAX: usize = 64;

/// Parses lines of one format; keeps what a file's header said (CloudFront's `#Fields:`, a CSV
/// log's header line).
pub struct LogParser {
    format: LogFormat,
    cf: CfFields,
    csv: Option<CsvCols>,
}

/// The columns of a CSV request log, found by the header's names (case aside): the time
/// (`time`, `timestamp`: Unix seconds, milli-, micro- or nanoseconds, a fraction dropped, or RFC
/// 3339), the URI path (`uri`, `url`, `path`), the bytes sent (`bytes`, `resp_bytes`,
/// `sc-bytes`, `size`); optional: `status` (200 without), `cache` (`cache_status`: hit, miss,
/// revalidated, expired, stale, bypass, error, as Cloudflare names them), `country`, `edge`
/// (`pop`, `colo`). Fields are split at commas (no quoted commas); surrounding quotes are dropped.
#[derive(Clone, Copy, Debug)]
pub struct CsvCols {
    time: usize,
    uri: usize,
    bytes: usize,
    status: Option<usize>,
    cache: Option<usize>,
    country: Option<usize>,
    edge: Option<usize>,
    count: usize,
}

impl CsvCols {
    fn from_header(line: &[u8]) -> Result<CsvCols, String> {
        let names: Vec<String> = line
            .split(|&b| b == b',')
            .map(|f| String::from_utf8_lossy(unquote(f)).trim().to_ascii_lowercase())
            .collect();
        let at = |options: &[&str]| names.iter().position(|n| options.contains(&n.as_str()));
        let need = |options: &[&str]| {
            at(options).ok_or_else(|| {
                format!("a header naming a column {} (the header has: {})", options.join(" or "), names.join(","))
            })
        };
        Ok(CsvCols {
            time: need(&["time", "timestamp"])?,
            uri: need(&["uri", "url", "path"])?,
            bytes: need(&["bytes", "resp_bytes", "sc-bytes", "size"])?,
            status: at(&["status"]),
            cache: at(&["cache", "cache_status"]),
            country: at(&["country"]),
            edge: at(&["edge", "pop", "colo"]),
            count: names.len(),
        })
    }
}

fn unquote(f: &[u8]) -> &[u8] {
    let f = f.strip_suffix(b"\r").unwrap_or(f);
    if f.len() >= 2 && f[0] == b'"' && f[f.len() - 1] == b'"' {
        &f[1..f.len() - 1]
    } else {
        f
    }
}

/// A CSV log's time: Unix seconds (or milli-, micro-, nanoseconds; a fraction dropped) or RFC 3339.
fn csv_time(v: &[u8]) -> Option<u64> {
    let whole = &v[..memchr::memchr(b'.', v).unwrap_or(v.len())];
    match number(whole) {
        Some(t) => Some(unix_seconds(t)),
        None => rfc3339(std::str::from_utf8(v).ok()?),
    }
}

/// A Cloudflare record's fields that matter (others are ignored).
#[derive(Deserialize)]
struct CfRecord<'a> {
    #[serde(rename = "EdgeStartTimestamp")]
    ts: Option<Timestamp<'a>>,
    #[serde(rename = "ClientRequestURI", borrow)]
    uri: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "EdgeResponseBytes")]
    bytes: Option<u64>,
    #[serde(rename = "EdgeResponseStatus")]
    status: Option<u16>,
    #[serde(rename = "CacheCacheStatus", borrow)]
    cache: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "ClientCountry", borrow)]
    country: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "EdgeColoCode", borrow)]
    colo: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Timestamp<'a> {
    Int(u64),
    Str(#[serde(borrow)] std::borrow::Cow<'a, str>),
}

impl LogParser {
    /// A parser of `format`.
    pub fn new(format: LogFormat) -> LogParser {
        LogParser { format, cf: CfFields::from_names(CLOUDFRONT_FIELDS).expect("the published field list"), csv: None }
    }

    /// A new file starts: CloudFront's field list goes back to the published one until the
    /// file's own `#Fields:` line.
    pub fn new_file(&mut self) {
        *self = LogParser::new(self.format);
    }

    /// Parses one line (without its line end). `Ok(None)`: a line to skip (comment, header,
    /// blank); `Err`: what is wrong with it. The URI path, percent-decoded and without its
    /// query, is left in `path`.
    pub fn parse(&mut self, line: &[u8], path: &mut Vec<u8>) -> Result<Option<LogRecord>, String> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        match self.format {
            LogFormat::CloudFront => self.cloudfront(line, path),
            LogFormat::Cloudflare => cloudflare(line, path),
            LogFormat::Nginx => nginx(line, path),
            LogFormat::Csv => self.csv_line(line, path),
        }
    }

    fn cloudfront(&mut self, line: &[u8], path: &mut Vec<u8>) -> Result<Option<LogRecord>, String> {
        if let Some(rest) = line.strip_prefix(b"#") {
            if let Some(names) = rest.strip_prefix(b"Fields:") {
                self.cf = CfFields::from_names(&String::from_utf8_lossy(names))?;
            }
            return Ok(None);
        }
        let mut f: [&[u8]; CF_FIELDS_MAX] = [&[]; CF_FIELDS_MAX];
        let mut n = 0;
        for part in line.split(|&b| b == b'\t') {
            if n == CF_FIELDS_MAX {
                return Err(format!("at most {CF_FIELDS_MAX} tab-separated fields"));
            }
            f[n] = part;
            n += 1;
        }
        let cf = self.cf;
        if n < cf.count {
            return Err(format!("{} tab-separated fields (the #Fields: line names {}); {n} found", cf.count, cf.count));
        }
        let time_s = date_time(f[cf.date], f[cf.time]).ok_or_else(|| {
            format!("a date and time like 2024-12-03 21:02:31, not {} {}", show(f[cf.date]), show(f[cf.time]))
        })?;
        let bytes = number(f[cf.bytes]).ok_or_else(|| format!("sc-bytes a whole number, not {}", show(f[cf.bytes])))?;
        let status = status(f[cf.status])?;
        // CloudFront encodes the stem's `%` again (a space is `%2520`): decoded twice.
        let mut once = std::mem::take(path);
        decode_path(f[cf.uri], &mut once);
        if memchr::memchr(b'%', &once).is_some() {
            decode_path(&once, path);
        } else {
            std::mem::swap(path, &mut once);
        }
        if path.is_empty() {
            return Err("a cs-uri-stem".into());
        }
        Ok(Some(LogRecord {
            time_s,
            bytes,
            status,
            cache: cf.result.map_or(CacheResult::Unknown, |i| CacheResult::cloudfront(f[i])),
            country: None,
            edge: Code::of(f[cf.edge]),
            range_end: cf.range_end.and_then(|i| number(f[i])),
        }))
    }
}

impl LogParser {
    fn csv_line(&mut self, line: &[u8], path: &mut Vec<u8>) -> Result<Option<LogRecord>, String> {
        let Some(cols) = self.csv else {
            self.csv = Some(CsvCols::from_header(line)?);
            return Ok(None);
        };
        let mut f: [&[u8]; CF_FIELDS_MAX] = [&[]; CF_FIELDS_MAX];
        let mut n = 0;
        for part in line.split(|&b| b == b',') {
            if n == CF_FIELDS_MAX {
                return Err(format!("at most {CF_FIELDS_MAX} fields"));
            }
            f[n] = unquote(part);
            n += 1;
        }
        if n < cols.count {
            return Err(format!("{} comma-separated fields (the header names {}); {n} found", cols.count, cols.count));
        }
        let time_s = csv_time(f[cols.time])
            .ok_or_else(|| format!("a time (Unix seconds or RFC 3339), not {}", show(f[cols.time])))?;
        let bytes =
            number(f[cols.bytes]).ok_or_else(|| format!("bytes a whole number, not {}", show(f[cols.bytes])))?;
        let status = match cols.status {
            Some(i) => status(f[i])?,
            None => 200,
        };
        decode_path(f[cols.uri], path);
        if path.is_empty() {
            return Err("a URI path".into());
        }
        let cache =
            cols.cache.map_or(CacheResult::Unknown, |i| CacheResult::cloudflare(&String::from_utf8_lossy(f[i])));
        let lower = |v: &[u8]| Code::of(&v.to_ascii_lowercase());
        Ok(Some(LogRecord {
            time_s,
            bytes,
            status,
            cache,
            country: cols.country.and_then(|i| lower(f[i])),
            edge: cols.edge.and_then(|i| Code::of(&f[i].to_ascii_uppercase())),
            range_end: None,
        }))
    }
}

fn cloudflare(line: &[u8], path: &mut Vec<u8>) -> Result<Option<LogRecord>, String> {
    let r: CfRecord = serde_json::from_slice(line).map_err(|e| format!("a JSON object ({e})"))?;
    let time_s = match r.ts {
        Some(Timestamp::Int(t)) => unix_seconds(t),
        Some(Timestamp::Str(s)) => rfc3339(&s).ok_or_else(|| format!("EdgeStartTimestamp a time, not {s:?}"))?,
        None => return Err("EdgeStartTimestamp".into()),
    };
    let uri = r.uri.ok_or("ClientRequestURI")?;
    decode_path(uri.as_bytes(), path);
    if path.is_empty() {
        return Err("a ClientRequestURI".into());
    }
    let status = r.status.ok_or("EdgeResponseStatus")?;
    if !(100..=599).contains(&status) {
        return Err(format!("EdgeResponseStatus an HTTP status, not {status}"));
    }
    let lower = |s: &str| {
        let l = s.to_ascii_lowercase();
        Code::of(l.as_bytes())
    };
    Ok(Some(LogRecord {
        time_s,
        bytes: r.bytes.ok_or("EdgeResponseBytes")?,
        status,
        cache: r.cache.as_deref().map_or(CacheResult::Unknown, CacheResult::cloudflare),
        country: r.country.as_deref().and_then(lower),
        edge: r.colo.as_deref().and_then(|c| Code::of(c.as_bytes())),
        range_end: None,
    }))
}

/// `remote - user [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 2326 "referer" "agent"`.
fn nginx(line: &[u8], path: &mut Vec<u8>) -> Result<Option<LogRecord>, String> {
    let open = memchr::memchr(b'[', line).ok_or("a [time] field")?;
    let close = open + memchr::memchr(b']', &line[open..]).ok_or("a closing ] after the time")?;
    let time_s = clf_time(&line[open + 1..close])
        .ok_or_else(|| format!("a time like 10/Oct/2000:13:55:36 -0700, not {}", show(&line[open + 1..close])))?;
    let rest = &line[close + 1..];
    let q1 = memchr::memchr(b'"', rest).ok_or("a quoted request")?;
    let q2 = q1 + 1 + memchr::memchr(b'"', &rest[q1 + 1..]).ok_or("a closing quote after the request")?;
    let request = &rest[q1 + 1..q2];
    let mut parts = request.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let _method = parts.next().ok_or("a request method")?;
    let target = parts.next().ok_or_else(|| format!("a request target in {}", show(request)))?;
    decode_path(target, path);
    if path.is_empty() {
        return Err("a request path".into());
    }
    let mut after = rest[q2 + 1..].split(|&b| b == b' ').filter(|p| !p.is_empty());
    let status = status(after.next().ok_or("a status")?)?;
    let b = after.next().ok_or("a byte count")?;
    let bytes = if b == b"-" { 0 } else { number(b).ok_or_else(|| format!("a byte count, not {}", show(b)))? };
    Ok(Some(LogRecord {
        time_s,
        bytes,
        status,
        cache: CacheResult::Unknown,
        country: None,
        edge: None,
        range_end: None,
    }))
}

fn show(v: &[u8]) -> String {
    let s = String::from_utf8_lossy(&v[..v.len().min(60)]).into_owned();
    format!("{s:?}")
}

fn number(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0u64, |n, &d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

fn status(v: &[u8]) -> Result<u16, String> {
    match number(v) {
        Some(s @ 100..=599) => Ok(s as u16),
        _ => Err(format!("an HTTP status, not {}", show(v))),
    }
}

/// Percent-decodes a URI's path (up to `?`) into `out`. A `%` not followed by two hex digits is
/// kept as it is.
fn decode_path(uri: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let uri = &uri[..memchr::memchr(b'?', uri).unwrap_or(uri.len())];
    if uri == b"-" {
        return;
    }
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < uri.len() {
        if uri[i] == b'%' && i + 2 < uri.len() {
            if let (Some(h), Some(l)) = (hex(uri[i + 1]), hex(uri[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(uri[i]);
        i += 1;
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(v: &[u8]) -> Option<i64> {
    number(v).map(|n| n as i64)
}

/// Unix seconds of a calendar time, `None` when out of range (before 1970, or a field out of
/// its range).
fn civil(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    let ok = (1..=12).contains(&mo) && (1..=31).contains(&d) && (0..=23).contains(&h) && (0..=59).contains(&mi);
    (ok && (0..=60).contains(&s)).then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// `2024-12-03` and `21:02:31` (UTC).
fn date_time(date: &[u8], time: &[u8]) -> Option<u64> {
    if date.len() != 10 || time.len() < 8 || date[4] != b'-' || date[7] != b'-' || time[2] != b':' || time[5] != b':' {
        return None;
    }
    let t = civil(
        digits(&date[0..4])?,
        digits(&date[5..7])?,
        digits(&date[8..10])?,
        digits(&time[0..2])?,
        digits(&time[3..5])?,
        digits(&time[6..8])?,
    )?;
    u64::try_from(t).ok()
}

/// `2024-12-03T21:02:31Z`, with an optional fraction and an offset (`+01:00`) instead of `Z`.
fn rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
        return None;
    }
    let base = civil(
        digits(&b[0..4])?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )?;
    let mut rest = &b[19..];
    if let Some(r) = rest.strip_prefix(b".") {
        let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
        rest = &r[n..];
    }
    let offset = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let o = digits(&[*h1, *h2])? * 3600 + digits(&[*m1, *m2])? * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    u64::try_from(base - offset).ok()
}

/// A Logpush integer timestamp (`unixnano` by default; `unix` seconds; milli- or microseconds
/// told apart by size) as Unix seconds.
fn unix_seconds(t: u64) -> u64 {
    match t {
        t if t >= 100_000_000_000_000_000 => t / 1_000_000_000,
        t if t >= 100_000_000_000_000 => t / 1_000_000,
        t if t >= 100_000_000_000 => t / 1_000,
        t => t,
    }
}

/// `10/Oct/2000:13:55:36 -0700`.
fn clf_time(v: &[u8]) -> Option<u64> {
    const MONTHS: [&[u8; 3]; 12] =
        [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
    if v.len() != 26 || v[2] != b'/' || v[6] != b'/' || v[11] != b':' || v[20] != b' ' {
        return None;
    }
    let mo = MONTHS.iter().position(|m| m[..] == v[3..6])? as i64 + 1;
    let base = civil(
        digits(&v[7..11])?,
        mo,
        digits(&v[0..2])?,
        digits(&v[12..14])?,
        digits(&v[15..17])?,
        digits(&v[18..20])?,
    )?;
    let o = digits(&v[22..24])? * 3600 + digits(&v[24..26])? * 60;
    let offset = match v[21] {
        b'+' => o,
        b'-' => -o,
        _ => return None,
    };
    u64::try_from(base - offset).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_match_hand_arithmetic() {
        // 2000-10-10 is day 11,240 since 1970 (30 years of 365 days and 7 leap days, plus 283
        // days into 2000, a leap year: 31+29+31+30+31+30+31+31+30 + 9).
        assert_eq!(days_from_civil(2000, 10, 10), 11_240);
        let noon = 11_240 * 86_400 + 13 * 3600 + 55 * 60 + 36;
        assert_eq!(clf_time(b"10/Oct/2000:13:55:36 -0700"), Some(noon + 7 * 3600));
        assert_eq!(clf_time(b"10/Oct/2000:13:55:36 +0000"), Some(noon));
        assert_eq!(date_time(b"2000-10-10", b"13:55:36"), Some(noon));
        assert_eq!(rfc3339("2000-10-10T13:55:36Z"), Some(noon));
        assert_eq!(rfc3339("2000-10-10T13:55:36.123456+01:00"), Some(noon - 3600));
        assert_eq!(unix_seconds(noon * 1_000_000_000 + 5), noon);
        assert_eq!(unix_seconds(noon), noon);
        assert_eq!(date_time(b"2000-13-10", b"13:55:36"), None);
        assert_eq!(clf_time(b"10/Foo/2000:13:55:36 -0700"), None);
    }

    #[test]
    fn paths_are_decoded_without_their_query() {
        let mut p = Vec::new();
        decode_path(b"/clips/a%20b.mp4?token=1", &mut p);
        assert_eq!(p, b"/clips/a b.mp4");
        decode_path(b"/x%2", &mut p);
        assert_eq!(p, b"/x%2");
        decode_path(b"/%zz%41", &mut p);
        assert_eq!(p, b"/%zzA");
    }
}
