#!/usr/bin/env bash
# Runs each libFuzzer target of a fuzz build for SECONDS, starting from a
# scratch copy of its seed corpus (the committed corpus is not modified).
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
build=$1 seconds=$2
src=$(cd "$(dirname "$0")/.." && pwd)
found=0
for bin in "$build"/tests/fuzz_*; do
  [ -x "$bin" ] || continue
  found=1
  name=$(basename "$bin"); short=${name#fuzz_}
  work=$(mktemp -d)
  cp -r "$src/tests/fuzz/corpus/$short/." "$work/" 2>/dev/null || true
  echo "== $name for ${seconds}s"
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 "$work"
  rm -rf "$work"
done
[ $found -eq 1 ] || { echo "no fuzz targets in $build/tests" >&2; exit 1; }
