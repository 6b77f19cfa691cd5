#!/usr/bin/env bash
# A/B wall-clock comparison of two clipsim binaries on one scenario (docs/benchmarks.md): runs
# them alternately RUNS times each (default 5), so that both see the same load on a shared
# machine, and prints each one's sorted times and median, their ratio, the median user and system
# CPU times, and whether the two left the same summary.json (git commit aside) and timeseries.csv.
#
# Usage: bash benches/ab.sh OLD_BINARY NEW_BINARY SCENARIO [RUNS]
# e.g.   git stash; cargo build --release; cp target/release/clipsim /tmp/clipsim-old; git stash pop
#        cargo build --release
#        bash benches/ab.sh /tmp/clipsim-old target/release/clipsim scenarios/bench/full-10m.toml
set -euo pipefail
if [ $# -lt 3 ]; then
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
old=$1 new=$2 scenario=$3 runs=${4:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for _ in $(seq "$runs"); do
    for side in old new; do
        bin=$old
        [ "$side" = new ] && bin=$new
        /usr/bin/time -f "%e %U %S" -o "$tmp/t" "$bin" run "$scenario" --out "$tmp/$side" -q --force >/dev/null
        read -r wall user sys <"$tmp/t"
        echo "$wall" >>"$tmp/$side.times"
        echo "$user" >>"$tmp/$side.user"
        echo "$sys" >>"$tmp/$side.sys"
    done
done

median() { sort -n "$1" | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
for side in old new; do
    printf '%s  median %6.2f s   runs: %s\n' "$side" "$(median "$tmp/$side.times")" "$(sort -n "$tmp/$side.times" | tr '\n' ' ')"
done
awk -v a="$(median "$tmp/old.times")" -v b="$(median "$tmp/new.times")" 'BEGIN {printf "new/old  %.3f\n", b / a}'
# User time is the simulator's own work; system time (faulting in and zeroing memory) varies
# between runs on a VM, by up to ~0.7 s for a 10 M-clip catalog.
for side in old new; do
    printf '%s  median user %6.2f s, sys %5.2f s\n' "$side" "$(median "$tmp/$side.user")" "$(median "$tmp/$side.sys")"
done
same() { cmp -s <(grep -v git_commit "$tmp/old/$1") <(grep -v git_commit "$tmp/new/$1"); }
for f in summary.json timeseries.csv; do
    if same "$f"; then echo "$f: identical"; else echo "$f: DIFFERENT"; fi
done
