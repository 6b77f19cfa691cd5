//! `clipsim trace import`: hand-written access logs in each format (from the formats' published
//! field lists, with the awkward lines: `-` values, IPv6 clients, escaped URIs, 304, 206, 416, a
//! malformed line and a truncated last line) imported into the trace they describe, read by hand.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn logs(name: &str) -> PathBuf {
    common::data().join("logs").join(name)
}

fn clipsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clipsim")).args(args).current_dir(common::root()).output().expect("runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Imports `log` as `format` with the clip pattern `^/clips/([^/]+)/` into a file in `dir`;
/// returns the trace's text and the command's standard output.
fn import(dir: &Path, log: &str, format: &str, extra: &[&str]) -> (String, String) {
    let out = dir.join(format!("{log}.csv"));
    let mut args: Vec<String> =
        vec!["trace".into(), "import".into(), s(&logs(log)).to_owned(), "--format".into(), format.into()];
    args.extend([
        "--out".into(),
        s(&out).to_owned(),
        "--force".into(),
        "--clip-pattern".into(),
        "^/clips/([^/]+)/".into(),
    ]);
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = clipsim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    (std::fs::read_to_string(&out).unwrap(), String::from_utf8_lossy(&o.stdout).into_owned())
}

const HEADER: &str = "time,obj_id,size,geo,resp_bytes,status,cache,edge\n";
/// 2024-12-03 00:00:00 UTC.
const DAY: u64 = 1_733_184_000;

/// One row of an imported trace: seconds after [`DAY`], clip, size, geography, bytes, status,
/// cache result, edge.
type Row<'a> = (u64, u32, u64, &'a str, u64, u16, &'a str, &'a str);

/// The trace of `rows`, with its header.
fn expected(rows: &[Row<'_>]) -> String {
    let mut text = HEADER.to_string();
    for (t, id, size, geo, bytes, status, cache, edge) in rows {
        text += &format!("{},{id},{size},{geo},{bytes},{status},{cache},{edge}\n", DAY + t);
    }
    text
}

/// The CloudFront log: eight requests, of which the favicon is not a clip and the 25:00:07 line
/// and the truncated last line are malformed. Clip 42 (first) is 10 MiB; `my clip` (its stem
/// double-encoded as CloudFront writes it) is known only from a 206 for bytes 0 to 4,194,303,
/// so 4 MiB; clip 7's largest response is 5 MiB. Geographies from the edge locations' airports.
#[test]
fn cloudfront_standard_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, out) = import(dir.path(), "cloudfront.log", "cloudfront", &[]);
    let want = [
        (1, 1, 10_485_760, "na", 10_485_760, 200, "miss", "IAD89-C1"),
        (2, 1, 10_485_760, "eu", 10_485_760, 200, "hit", "FRA56-P3"),
        (3, 2, 4_194_304, "apac", 1_048_576, 206, "revalidated", "NRT57-P2"),
        (4, 1, 10_485_760, "na", 350, 304, "hit", "IAD89-C1"),
        (5, 3, 5_242_880, "oc", 410, 416, "error", "SYD1-C1"),
        (8, 3, 5_242_880, "sa", 5_242_880, 200, "miss", "GRU3-C1"),
    ];
    assert_eq!(trace, expected(&want));
    assert!(
        out.contains(
            "6 requests for 3 clips from 11 lines (2 skipped as comments or headers, 1 not clips, 2 malformed)"
        ),
        "{out}"
    );
    assert!(out.contains("cloudfront.log:9: a date and time like"), "{out}");
    assert!(out.contains("cloudfront.log:11: 33 tab-separated fields"), "the truncated last line: {out}");
    // The same log gzipped gives the same trace.
    let (gz, _) = import(dir.path(), "cloudfront.log.gz", "cloudfront", &[]);
    assert_eq!(gz, trace);
}

/// The Cloudflare Logpush records: times in nanoseconds, seconds and RFC 3339; an escaped
/// `\u00e9` and a query string in the URI; a country in upper case; a country the table does
/// not have (`xx`: no geography, reported); a bad timestamp and a truncated last line.
#[test]
fn cloudflare_logpush_records() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, out) = import(dir.path(), "cloudflare.ndjson", "cloudflare", &[]);
    let want = [
        (1, 1, 10_485_760, "na", 10_485_760, 200, "miss", "IAD"),
        (2, 1, 10_485_760, "eu", 10_485_760, 200, "hit", "FRA"),
        (3, 2, 1_048_576, "apac", 1_048_576, 206, "revalidated", "NRT"),
        (4, 1, 10_485_760, "", 350, 304, "expired", "IAD"),
        (5, 3, 5_242_880, "oc", 410, 416, "bypass", "SYD"),
        (8, 3, 5_242_880, "sa", 5_242_880, 200, "miss", "GRU"),
    ];
    assert_eq!(trace, expected(&want));
    assert!(out.contains("codes not in the geography table (add them with --geo-table): xx 1"), "{out}");
    assert!(out.contains("cloudflare.ndjson:7: EdgeStartTimestamp a time, not \"yesterday\""), "{out}");
    let (zst, _) = import(dir.path(), "cloudflare.ndjson.zst", "cloudflare", &[]);
    assert_eq!(zst, trace, "zstd input");
    // An edited table: `xx` is a geography now.
    let table = dir.path().join("geo.toml");
    std::fs::write(&table, "[countries]\nna = [\"us\"]\nsomewhere = [\"xx\", \"de\", \"jp\", \"au\", \"br\"]\n")
        .unwrap();
    let (edited, _) = import(dir.path(), "cloudflare.ndjson", "cloudflare", &["--geo-table", s(&table)]);
    let geos: Vec<&str> = edited.lines().skip(1).map(|l| l.split(',').nth(3).unwrap()).collect();
    assert_eq!(geos, ["na", "somewhere", "somewhere", "somewhere", "somewhere", "somewhere"]);
}

/// nginx `combined`: an IPv6 client, a user, a +0100 offset, an escaped quote in the user agent,
/// a `-` byte count on a 304, a request line of `-` (malformed) and a truncated last line. No
/// geography or cache result: the format has none.
#[test]
fn nginx_combined_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, out) = import(dir.path(), "nginx.log", "nginx", &[]);
    let want = [
        (1, 1, 10_485_760, 10_485_760, 200),
        (2, 1, 10_485_760, 10_485_760, 200),
        (3, 2, 1_048_576, 1_048_576, 206),
        (4, 1, 10_485_760, 0, 304),
        (5, 3, 5_242_880, 0, 416),
        (8, 3, 5_242_880, 5_242_880, 200),
    ];
    let want = want.map(|(t, id, size, bytes, status)| (t, id, size, "", bytes, status, "", ""));
    assert_eq!(trace, expected(&want));
    assert!(out.contains("nginx.log:7: a request target in \"-\""), "{out}");
    assert!(out.contains("nginx.log:9: a closing quote after the request"), "{out}");
}

/// The imported trace is a trace like any other: `replay` finds its columns by name.
#[test]
fn the_trace_replays() {
    let dir = tempfile::tempdir().unwrap();
    import(dir.path(), "cloudfront.log", "cloudfront", &[]);
    let o =
        clipsim(&["replay", s(&dir.path().join("cloudfront.log.csv")), "--policy", "lru", "--size", "100MB", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = v.to_string();
    // Six requests of three clips: the first request of each misses, the other three hit.
    assert!(text.contains("\"requests\":6"), "{text}");
    assert!(text.contains("\"hits\":3"), "{text}");
}

/// Over the threshold of malformed lines is an error naming the line; a bad pattern and a bad
/// table are errors too; nothing is written.
#[test]
fn bad_input_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.csv");
    let o =
        clipsim(&["trace", "import", s(&logs("nginx.log")), "--format", "nginx", "--out", s(&out), "--max-bad", "1"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("nginx.log") && err.contains("line 9") && err.contains("at most 1 malformed lines"), "{err}");
    assert!(!out.exists(), "nothing written");
    let o = clipsim(&[
        "trace",
        "import",
        s(&logs("nginx.log")),
        "--format",
        "nginx",
        "--out",
        s(&out),
        "--clip-pattern",
        "(",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--clip-pattern \"(\": expected a regular expression"));
    let table = dir.path().join("geo.toml");
    std::fs::write(&table, "[countries]\nna = [\"us\"]\neu = [\"us\"]\n").unwrap();
    let o = clipsim(&[
        "trace",
        "import",
        s(&logs("nginx.log")),
        "--format",
        "nginx",
        "--out",
        s(&out),
        "--geo-table",
        s(&table),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("geo.toml:3:") && err.contains("countries.eu[0]") && err.contains("also in \"na\""), "{err}");
    let o = clipsim(&["trace", "import", s(&logs("nginx.log")), "--format", "w3c", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected one of cloudfront, cloudflare, nginx"));
}

/// A CSV request log with a header naming its columns (another order and other names than the
/// trace's): times as Unix seconds, milliseconds, RFC 3339 and with a fraction; a quoted path;
/// cache results in any case; a line with a bad byte count and one with too few fields.
#[test]
fn csv_request_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, out) = import(dir.path(), "requests.csv", "csv", &[]);
    let want = [
        (1, 1, 10_485_760, "na", 10_485_760, 200, "miss", "IAD"),
        (2, 1, 10_485_760, "eu", 10_485_760, 200, "hit", "FRA"),
        (3, 2, 5_242_880, "apac", 5_242_880, 206, "expired", "NRT"),
        (4, 2, 5_242_880, "oc", 0, 304, "revalidated", "SYD"),
        (8, 3, 4096, "sa", 4096, 200, "error", "GRU"),
    ];
    assert_eq!(trace, expected(&want));
    assert!(out.contains("requests.csv:7: bytes a whole number, not \"notanumber\""), "{out}");
    assert!(out.contains("requests.csv:8: 7 comma-separated fields"), "{out}");
    assert!(out.contains("1 not clips"), "{out}");
}
