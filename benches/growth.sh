#!/usr/bin/env bash
# How the whole simulator's running time grows with the request count and with the catalog
# (docs/benchmarks.md, "Growth"). Variants of scenarios/bench/full-10m.toml:
#
#   requests x10:  1,000,000 clips, 10 M requests vs 100 M requests (the same day, 10x the rate)
#   catalog x100:  10 M requests, 100,000 clips vs 10,000,000 clips
#
# each run RUNS times (default 3) with `clipsim run -q`; prints the median wall time, the median
# set-up time (the same variant with almost no requests: catalog, alias table, report), the
# time per request net of set-up, the peak RSS, the median user and system CPU times, and the
# edges' hit rate (of the last run).
#
# Usage: bash benches/growth.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cargo build --release --quiet
bin=target/release/clipsim
base=scenarios/bench/full-10m.toml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# variant NAME CLIPS REQUESTS_PER_SECOND: writes $tmp/NAME.toml
variant() {
    sed -e "s/^clips = .*/clips = $2/" -e "s/^requests_per_second = .*/requests_per_second = $3/" \
        -e "0,/^name = .*/s//name = \"growth-$1\"/" "$base" >"$tmp/$1.toml"
}

# measure NAME: prints "wall_s peak_rss_kb user_s sys_s", each the median over $runs runs
measure() {
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e %M %U %S" "$bin" run "$tmp/$1.toml" --out "$tmp/out-$1" --force -q 2>&1 >/dev/null | tail -1
    done >"$tmp/times"
    for col in 1 2 3 4; do
        cut -d' ' -f"$col" "$tmp/times" | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2)'
    done | paste -sd' '
}

# The kernel's time (sys_s: mostly faulting in and zeroing the tables' memory) varies between
# runs on this VM by up to ~0.7 s at 10 M clips; user_s is the simulator's own work.
printf '%-12s %12s %12s %10s %10s %14s %10s %8s %8s %9s\n' variant clips requests wall_s setup_s ns_per_request rss_mb user_s sys_s edge_hit
row() { # NAME CLIPS RATE
    variant "$1" "$2" "$3"
    variant "$1-setup" "$2" 0.000001
    read -r wall rss user sys < <(measure "$1")
    read -r setup _ < <(measure "$1-setup")
    requests=$(grep -o '"simulated": [0-9]*' "$tmp/out-$1/summary.json" | grep -o '[0-9]*$')
    # The edges' hit rate: a larger catalog sends more views to the origin, which is more work
    # per request (docs/benchmarks.md, "Why").
    hit=$(grep -o '"cdn_cache": [0-9.e-]*' "$tmp/out-$1/summary.json" | grep -o '[0-9.e-]*$')
    awk -v n="$1" -v c="$2" -v r="$requests" -v w="$wall" -v s="$setup" -v m="$rss" -v u="$user" -v k="$sys" -v h="$hit" \
        'BEGIN { printf "%-12s %12d %12d %10.2f %10.2f %14.1f %10.0f %8.2f %8.2f %8.1f%%\n", n, c, r, w, s, (w - s) * 1e9 / r, m / 1024, u, k, h * 100 }'
}
row r10m 1000000 115.740740740
row r100m 1000000 1157.40740740
row c100k 100000 115.740740740
row c10m 10000000 115.740740740
