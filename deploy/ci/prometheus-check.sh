#!/usr/bin/env bash
# prometheus-check.sh -- backfill simulator metrics (OpenMetrics text, simulated
# time) into a Prometheus TSDB with promtool, serve it with a throw-away
# prometheus on 127.0.0.1, and run PromQL instant queries against it.
#
#   prometheus-check.sh backfill FILE DATADIR          promtool create-blocks-from openmetrics
#   prometheus-check.sh start    DATADIR PORT          start prometheus, wait for /-/ready, print pid
#   prometheus-check.sh stop     DATADIR               stop it (pid file)
#   prometheus-check.sh query    PORT 'PROMQL' [UNIX_TIME]   print /api/v1/query JSON
#   prometheus-check.sh value    PORT 'PROMQL' UNIX_TIME     print the single sample value only
#                                                      (fails unless exactly one series/scalar)
#   prometheus-check.sh selftest [PORT]                end-to-end check with a hand-written file
#
# Environment knobs:
#   MAX_BLOCK_DURATION  promtool --max-block-duration (default 8760h; Go duration, NO "d" unit)
#   ALLOW_DROPPED=1     don't fail backfill when promtool stored fewer samples than the file has
#   RETENTION           --storage.tsdb.retention.time (default 100y)
#   LOOKBACK            --query.lookback-delta (default 5m, prometheus' default)
#   READY_TIMEOUT       seconds to wait for /-/ready (default 120)
#   PROMETHEUS, PROMTOOL  binaries (default: from PATH; Debian 12 package = 2.42.0+ds)
#
# Files for DATADIR=/x/y/tsdb are kept next to it, in /x/y:
#   tsdb.prometheus-check.yml (config), .pid, .log
#
# ---------------------------------------------------------------------------
# FINDINGS (verified by hand with Debian 12 prometheus/promtool 2.42.0+ds, Dec 2026)
# ---------------------------------------------------------------------------
# Backfill (promtool tsdb create-blocks-from openmetrics FILE [OUTDIR]):
#  * OUTDIR defaults to ./data. Flags: -q (no block table), -r (human-readable).
#    --max-block-duration=DUR is a HIDDEN flag (not in --help) but it works. It takes
#    a Go duration: "24h", "8760h"; "7d"/"1y" fail with
#      promtool: error: time: unknown unit "d" in duration "7d", try --help
#    The actual block window is the largest of 2h*3^n (2h,6h,18h,54h,162h,486h,
#    1458h,4374h) <= the flag, aligned to the Unix epoch: 24h -> 18h blocks
#    (printed as "17h0m0.001s"), 744h -> 486h, 8760h -> 4374h.
#  * promtool RE-PARSES THE WHOLE FILE FOR EVERY BLOCK WINDOW. For 30 days x 24 h
#    x 50 series (36,000 samples, 2.2 MB): default 2h windows -> 360 blocks,
#    ~34 s (2 busy cores); 24h -> 40 blocks, 3.0 s; 168h -> 5 blocks, 0.56 s;
#    8760h -> 1 block, 0.22 s. Hence the default MAX_BLOCK_DURATION=8760h here.
#    With 360 small blocks prometheus also starts compacting them ~1 min after
#    start (175 compactions, ~5 s CPU); with one big block it does nothing.
#  * Timestamps are SECONDS (int, float, or exponent "1.7672256e9" all accepted);
#    sub-millisecond digits are TRUNCATED (1767229200.9999 -> ...200999 ms).
#    Millisecond integers are NOT rejected: 1767225600000 is stored as year ~57970.
#    Negative timestamps: rc=0 and no block at all (silently nothing).
#  * A sample without timestamp is rejected:
#      getting min and max timestamp: expected timestamp for series got none
#  * "# EOF" is required, must be the very last line (a trailing newline after
#    it is fine, a missing final newline too, but an extra blank line is not):
#      getting min and max timestamp: next: data does not end with # EOF
#      getting min and max timestamp: next: unexpected data after # EOF
#    "#EOF" (no space): next: "INVALID" "E" is not a valid start token
#    An empty file: mmap, size 0: invalid argument.  "# EOF" only: rc=0, no blocks.
#  * UNIT: the name on the "# UNIT name unit" line must end with "_<unit>" (the
#    underscore is required: clipsim_xbytes/bytes and bytes/bytes are rejected);
#    it is checked only against the name written on the UNIT line itself:
#      # TYPE clipsim_requests counter / # UNIT clipsim_requests bytes
#        -> getting min and max timestamp: next: unit not a suffix of metric "clipsim_requests"
#      # UNIT clipsim_edge_egress_bytes_total bytes
#        -> unit not a suffix of metric "clipsim_edge_egress_bytes_total"
#      (so for counters: family name clipsim_edge_egress_bytes, sample name
#       clipsim_edge_egress_bytes_total)
#      "# UNIT name" with empty unit -> next: expected text in UNIT
#    NOT checked: UNIT line name vs TYPE name (mismatch accepted), UNIT before TYPE.
#  * NOT checked at all (accepted, stored verbatim): counter samples without
#    "_total" (stored as clipsim_requests), TYPE name with _total
#    ("# TYPE x_total counter" + "x_total" -> x_total; "x_total_total" also fine),
#    sample names unrelated to the TYPE line, gauges named *_total, no TYPE/HELP
#    at all, TYPE after the samples, duplicate TYPE lines, HELP before TYPE,
#    _created samples (stored as ordinary series), exemplars (dropped), NaN/+Inf,
#    "+1", 1.5e+03, negative counter values, UTF-8 and \" \\ \n escapes in label values.
#  * Families need NOT be contiguous and series need NOT be contiguous: interleaving
#    families (even re-declaring TYPE) and interleaving series line by line is fine.
#  * !! ORDER WITHIN A SERIES: timestamps must increase within each block window.
#    A sample older than (or equal to) one already seen for the same series in the
#    same window is SILENTLY DROPPED (rc=0, no message): "15@01:00 then 10@00:00"
#    keeps only 15; duplicate timestamp with a different value keeps the FIRST.
#    With larger --max-block-duration more of the file is one window, so more can
#    be dropped (20@03:00,10@00:00,15@01:00: 2h blocks keep all three, 24h keeps 1).
#    => backfill below compares promtool's NUM SAMPLES total with the number of
#    sample lines in the file and fails on a mismatch.
#  * Syntax errors (examples):
#      blank line            -> next: "INVALID" "\n" is not a valid start token
#      "# free comment"      -> next: "INVALID" "j" is not a valid start token
#      "# TYPE x countr"     -> next: invalid metric type "countr"
#      CRLF line endings     -> next: invalid metric type "gauge\r"
#      tab or 2 spaces between fields -> next: expected value after metric, got "INVALID"
#      {a="1", b="2"} (space after comma) -> next: expected label name, got "INVALID"
#      {a="1",} trailing comma -> next: expected label name, got "BCLOSE"
#      {a='1'}               -> next: expected label value, got "INVALID"
#      "# TYPE clipsim-x gauge" -> next: expected text in TYPE
#      "# HELP x" (no text)  -> next: expected text in HELP
#    All of these are reported by a first pass ("getting min and max timestamp")
#    before any block is written. Errors found later, e.g. duplicate label name
#      block creation: process blocks: add sample: label name "a" is not unique: invalid sample
#    leave the already-written blocks in OUTDIR -> backfill below writes to a temp
#    dir and only moves the blocks into DATADIR when promtool succeeded.
#  * Backfilling the same file twice into one DATADIR makes overlapping blocks;
#    queries merge and de-duplicate them (sum and count_over_time unchanged).
#    Backfilling DIFFERENT values for the same series/timestamps -> wipe DATADIR.
#  * Backfilling into the data dir of a RUNNING prometheus works; the new block
#    became queryable after 35 s (next block reload, every 1 min).
#  * `promtool tsdb dump DIR` fails with "read WAL: find last checkpoint: open
#    DIR/wal: no such file or directory" on a fresh backfill dir; mkdir DIR/wal first.
#
# Prometheus:
#  * Time retention is measured against the NEWEST BLOCK's max time, NOT the wall
#    clock: with data 2026-01-01..2026-01-30 and today = 2026-12-04, the default
#    15d retention deleted the 179 oldest 2h blocks (everything before Jan 16;
#    "Deleting obsolete block" in the log, prometheus_tsdb_time_retentions_total=1)
#    and kept Jan 16..30. It happens synchronously at startup, before /-/ready.
#    So retention must exceed the simulated span; we use 100y and check
#    prometheus_tsdb_time_retentions_total == 0 after start. (If prometheus itself
#    scraped something for > 3 h, a block at "now" would appear and then
#    everything older than now-retention would go -- another reason for 100y and
#    no scrape targets.) No warning is printed for 100y.
#  * Startup over 1 block or 360 blocks: /-/ready after ~0.15-1 s.
#  * Do not use /etc/prometheus/prometheus.yml (it scrapes itself and node
#    exporter); we write "scrape_configs: []". Default listen is 0.0.0.0:9090; we
#    bind 127.0.0.1:PORT.
#
# PromQL on backfilled hourly data (instant query /api/v1/query, time in seconds;
# RFC3339 also accepted; no time = now -> empty result because data is in the past):
#  * Lookback is 5m and the window is CLOSED in 2.42: a query at T..T+300 sees the
#    sample at T, at T+301 (or anywhere between hourly samples) -> result [] (no
#    error!). There are no staleness markers in backfilled data. Query exactly at
#    sample timestamps.
#  * EXACT (verified equal to totals computed from the file):
#      sum(clipsim_requests_total)                      at the last sample ts
#      sum by (region) (clipsim_requests_total)         at the last sample ts
#      sum(clipsim_edge_hits_total) / sum(clipsim_requests_total) (ratio, bit-identical
#        to python's hits/requests), and the same with "sum by (region)" on both sides
#      sum(last_over_time(x[31d])) / sum(max_over_time(x[31d])) (works at any time
#        up to 31d after the last sample; max only for monotonic counters)
#      sum(x @ 1769814000) (@ modifier enabled), sum(x) - sum(x offset 1d)
#      values: integers up to 2^53 exact (3600000025200 printed as "3600000025200"),
#        floats printed in shortest round-trip form.
#  * increase()/rate() EXTRAPOLATE: sum(increase(x[30d])) at the last ts gave
#    7965521.99 for a true total of 7967133 (and increase() never counts the first
#    sample's value -- emit a 0 sample at sim start if you want increase from 0).
#    increase(x[1d]) at an hour-aligned time WAS exact (263714) because samples
#    sit exactly on both window edges (closed range in 2.x; Prometheus 3.x makes
#    the range left-open, so this would break there). Prefer x - x offset 1d.
#  * avg_over_time of a gauge: float rounding (0.9499999999999997), compare with
#    a tolerance.
# ---------------------------------------------------------------------------
set -euo pipefail

PROMETHEUS=${PROMETHEUS:-prometheus}
PROMTOOL=${PROMTOOL:-promtool}
MAX_BLOCK_DURATION=${MAX_BLOCK_DURATION:-8760h}
RETENTION=${RETENTION:-100y}
LOOKBACK=${LOOKBACK:-5m}
READY_TIMEOUT=${READY_TIMEOUT:-120}

die() { echo "prometheus-check: $*" >&2; exit 1; }
info() { echo "prometheus-check: $*" >&2; }

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# absolute path of DATADIR (need not exist yet) and the sibling file prefix
abs_dir() {
  local d=$1 parent
  parent=$(dirname -- "$d")
  mkdir -p -- "$parent"
  echo "$(cd -- "$parent" && pwd)/$(basename -- "$d")"
}
side_prefix() { echo "$(dirname -- "$1")/$(basename -- "$1").prometheus-check"; }

http_get() { # URL [--data-urlencode args...] -> prints body, returns 0 on HTTP 200
  local url=$1; shift
  if command -v curl >/dev/null 2>&1; then
    local out code
    out=$(curl -sS -G "$url" "$@" -w '\n%{http_code}') || return 1
    code=${out##*$'\n'}
    printf '%s\n' "${out%$'\n'*}"
    [ "$code" = 200 ]
  else
    # curl not installed: python3 fallback (args are pairs: --data-urlencode k=v)
    python3 - "$url" "$@" <<'PY'
import sys, urllib.parse, urllib.request, urllib.error
url, args = sys.argv[1], sys.argv[2:]
kv = [tuple(a.split("=", 1)) for a in args if a != "--data-urlencode"]
if kv: url += "?" + urllib.parse.urlencode(kv)
try:
    with urllib.request.urlopen(url, timeout=30) as r: print(r.read().decode()); sys.exit(0)
except urllib.error.HTTPError as e:
    print(e.read().decode()); sys.exit(1)
except Exception as e:
    print(e, file=sys.stderr); sys.exit(1)
PY
  fi
}

cmd_backfill() {
  [ $# -eq 2 ] || usage
  local file=$1 datadir tmp out rc nlines nstored
  [ -s "$file" ] || die "backfill: $file missing or empty"
  datadir=$(abs_dir "$2")
  tail -n 1 -- "$file" | grep -qx '# EOF' ||
    info "warning: last line of $file is not '# EOF' (promtool will reject it)"
  tmp=$(mktemp -d "$(dirname -- "$datadir")/.backfill.XXXXXX")
  set +e
  out=$("$PROMTOOL" tsdb create-blocks-from openmetrics \
          --max-block-duration="$MAX_BLOCK_DURATION" -- "$file" "$tmp" 2>&1)
  rc=$?
  set -e
  printf '%s\n' "$out"
  if [ $rc -ne 0 ]; then
    rm -rf -- "$tmp"
    die "backfill: promtool failed (rc=$rc); nothing written to $datadir"
  fi
  # promtool silently drops out-of-order / duplicate-timestamp samples: compare counts
  nlines=$(grep -cv '^#' -- "$file" || true)
  nstored=$(printf '%s\n' "$out" | awk 'length($1) == 26 && $1 ~ /^[0-9A-Z]+$/ {s += $5} END {print s+0}')
  info "backfill: promtool stored $nstored samples; $file has $nlines sample lines (max-block-duration=$MAX_BLOCK_DURATION)"
  if [ "$nstored" != "$nlines" ]; then
    if [ "${ALLOW_DROPPED:-0}" = 1 ]; then
      info "warning: $((nlines - nstored)) samples dropped (out-of-order / duplicate timestamps?)"
    else
      rm -rf -- "$tmp"
      die "backfill: $((nlines - nstored)) samples silently dropped by promtool (out-of-order or duplicate timestamps within a series); nothing written to $datadir; set ALLOW_DROPPED=1 to accept"
    fi
  fi
  mkdir -p -- "$datadir"
  if [ -n "$(ls -A -- "$datadir" 2>/dev/null | grep -E '^[0-9A-Z]{26}$' || true)" ]; then
    info "warning: $datadir already has blocks; overlapping data is merged at query time"
  fi
  find "$tmp" -mindepth 1 -maxdepth 1 -type d -exec mv -t "$datadir" {} +
  rm -rf -- "$tmp"
  info "backfill: blocks moved into $datadir"
}

cmd_start() {
  [ $# -eq 2 ] || usage
  local datadir port pre conf pidf logf pid t0 ret
  datadir=$(abs_dir "$1"); port=$2
  [[ $port =~ ^[0-9]+$ ]] || die "start: bad port $port"
  [ -d "$datadir" ] || die "start: $datadir does not exist (backfill first)"
  pre=$(side_prefix "$datadir"); conf=$pre.yml; pidf=$pre.pid; logf=$pre.log
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
    die "start: already running, pid $(cat "$pidf") ($pidf)"
  fi
  if http_get "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1; then
    die "start: something already answers on 127.0.0.1:$port"
  fi
  cat >"$conf" <<'EOF'
# written by prometheus-check.sh: no scrape targets, data comes from backfilled blocks
global:
  scrape_interval: 1m
  evaluation_interval: 1m
scrape_configs: []
EOF
  t0=$(date +%s.%N)
  setsid "$PROMETHEUS" \
    --config.file="$conf" \
    --storage.tsdb.path="$datadir" \
    --storage.tsdb.retention.time="$RETENTION" \
    --query.lookback-delta="$LOOKBACK" \
    --web.listen-address="127.0.0.1:$port" \
    </dev/null >"$logf" 2>&1 &
  pid=$!
  echo "$pid" >"$pidf"
  local deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until http_get "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f -- "$pidf"; tail -n 20 "$logf" >&2
      die "start: prometheus exited (log: $logf)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 20 "$logf" >&2
      die "start: not ready after ${READY_TIMEOUT}s (pid $pid still running; log: $logf)"
    fi
    sleep 0.2
  done
  ret=$(http_get "http://127.0.0.1:$port/metrics" |
        awk '$1 == "prometheus_tsdb_time_retentions_total" {print $2}')
  info "ready on 127.0.0.1:$port after $(python3 -c "print(round($(date +%s.%N)-$t0,2))")s; log $logf; blocks loaded: $(http_get "http://127.0.0.1:$port/metrics" | awk '$1 == "prometheus_tsdb_blocks_loaded" {print $2}')"
  if [ "${ret:-0}" != 0 ]; then
    cmd_stop "$datadir"
    die "start: retention DELETED blocks at startup (prometheus_tsdb_time_retentions_total=$ret): RETENTION=$RETENTION is shorter than the data span; the data in $datadir is now incomplete, re-backfill it"
  fi
  echo "$pid"
}

cmd_stop() {
  [ $# -eq 1 ] || usage
  local datadir pidf pid i
  datadir=$(abs_dir "$1"); pidf=$(side_prefix "$datadir").pid
  [ -f "$pidf" ] || { info "stop: no pid file $pidf (not running?)"; return 0; }
  pid=$(cat "$pidf")
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f -- "$pidf"; info "stop: pid $pid not running"; return 0
  fi
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--storage.tsdb.path=$datadir" ||
    die "stop: pid $pid is not our prometheus for $datadir"
  kill -TERM "$pid"
  for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then info "stop: SIGKILL $pid"; kill -KILL "$pid"; fi
  rm -f -- "$pidf"
  info "stopped $pid"
}

cmd_query() {
  [ $# -ge 2 ] && [ $# -le 3 ] || usage
  local port=$1 q=$2
  if [ $# -eq 3 ]; then
    http_get "http://127.0.0.1:$port/api/v1/query" --data-urlencode "query=$q" --data-urlencode "time=$3"
  else
    info "warning: no time given -> evaluated at wall-clock now (backfilled past data gives [])"
    http_get "http://127.0.0.1:$port/api/v1/query" --data-urlencode "query=$q"
  fi
}

cmd_value() {
  [ $# -eq 3 ] || usage
  local json
  json=$(cmd_query "$@") || { printf '%s\n' "$json" >&2; die "value: query failed"; }
  printf '%s' "$json" | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
r = d["result"]
if d["resultType"] == "scalar": print(r[1]); sys.exit(0)
if len(r) != 1:
    sys.exit("prometheus-check: value: expected exactly 1 series, got %d: %s" % (len(r), json.dumps(r)[:500]))
print(r[0]["value"][1])'
}

cmd_selftest() {
  local port=${1:-19190} dir rc=0 got
  dir=$(mktemp -d /tmp/prometheus-check-selftest.XXXXXX)
  cat >"$dir/m.om" <<'EOF'
# TYPE clipsim_requests counter
# UNIT clipsim_requests requests
# HELP clipsim_requests Requests seen by the edge.
clipsim_requests_total{region="us-east-1"} 10 1767225600
clipsim_requests_total{region="us-east-1"} 25 1767229200
clipsim_requests_total{region="us-east-1"} 40 1767232800
clipsim_requests_total{region="eu-west-1"} 4 1767225600
clipsim_requests_total{region="eu-west-1"} 8 1767229200
clipsim_requests_total{region="eu-west-1"} 10 1767232800
# TYPE clipsim_edge_hits counter
clipsim_edge_hits_total{region="us-east-1"} 5 1767225600
clipsim_edge_hits_total{region="us-east-1"} 20 1767229200
clipsim_edge_hits_total{region="us-east-1"} 30 1767232800
clipsim_edge_hits_total{region="eu-west-1"} 2 1767225600
clipsim_edge_hits_total{region="eu-west-1"} 4 1767229200
clipsim_edge_hits_total{region="eu-west-1"} 5 1767232800
# TYPE clipsim_edge_egress_bytes counter
# UNIT clipsim_edge_egress_bytes bytes
clipsim_edge_egress_bytes_total{region="us-east-1"} 1000000007 1767225600
clipsim_edge_egress_bytes_total{region="us-east-1"} 3000000021 1767232800
# TYPE clipsim_p50_latency_seconds gauge
# UNIT clipsim_p50_latency_seconds seconds
clipsim_p50_latency_seconds{region="us-east-1"} 0.6 1767225600
clipsim_p50_latency_seconds{region="us-east-1"} 0.7 1767229200
# EOF
EOF
  cmd_backfill "$dir/m.om" "$dir/tsdb"
  cmd_start "$dir/tsdb" "$port" >/dev/null
  check() { # EXPECTED QUERY TIME
    got=$(cmd_value "$port" "$2" "$3" 2>&1) || true
    if [ "$got" = "$1" ]; then echo "ok   $2 @ $3 = $got"
    else echo "FAIL $2 @ $3: got '$got', want '$1'"; rc=1; fi
  }
  check 50 'sum(clipsim_requests_total)' 1767232800
  check 40 'sum by (region) (clipsim_requests_total{region="us-east-1"})' 1767232800
  check 0.7 'sum(clipsim_edge_hits_total) / sum(clipsim_requests_total)' 1767232800
  check 50 'sum(last_over_time(clipsim_requests_total[31d]))' 1769000000
  check 3000000021 'sum(clipsim_edge_egress_bytes_total)' 1767233100   # +300s: still seen
  check 0.7 'clipsim_p50_latency_seconds' 1767229200
  check 17 'sum(clipsim_requests_total - clipsim_requests_total offset 1h)' 1767232800
  got=$(cmd_query "$port" 'sum(clipsim_requests_total)' 1767233101)       # +301s: gone
  if [[ $got == *'"result":[]'* ]]; then echo "ok   lookback: empty at last+301s"
  else echo "FAIL lookback: $got"; rc=1; fi
  cmd_stop "$dir/tsdb"
  [ $rc -eq 0 ] && rm -rf -- "$dir" || echo "kept $dir"
  return $rc
}

[ $# -ge 1 ] || usage
sub=$1; shift
case $sub in
  backfill) cmd_backfill "$@" ;;
  start)    cmd_start "$@" ;;
  stop)     cmd_stop "$@" ;;
  query)    cmd_query "$@" ;;
  value)    cmd_value "$@" ;;
  selftest) cmd_selftest "$@" ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
