#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) each, one after another, and prints libFuzzer's
# closing statistics. Seeds come from fuzz/corpus/TARGET (committed); new inputs go to a work
# directory under /tmp, never into the repository. Crashes are written to fuzz/artifacts/TARGET/.
#
#   cargo install cargo-fuzz            # once
#   bash fuzz/run-all.sh [SECONDS]
#
# cargo fuzz needs nightly features; RUSTC_BOOTSTRAP=1 enables them on the stable toolchain.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
targets=(scenario env_file trace_oracle trace_csv sweep)
RUSTC_BOOTSTRAP=1 cargo fuzz build -O "${targets[@]/#/}" >/dev/null 2>&1 || RUSTC_BOOTSTRAP=1 cargo fuzz build -O
bin_dir="target/x86_64-unknown-linux-gnu/release"
for t in "${targets[@]}"; do
  work="/tmp/clipsim-fuzz-work/$t"
  mkdir -p "$work" "artifacts/$t"
  echo "== $t: ${seconds}s"
  "$bin_dir/$t" "$work" "corpus/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 2>&1 |
    grep -E "^(stat::|Done|==|SUMMARY|.*panicked|.*deadly signal)" || true
done
