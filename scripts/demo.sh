#!/usr/bin/env bash
# The main job on the embedded defaults. For now: the hardware report that
# every later result is keyed by.
set -euo pipefail
cli=${1:-build/ipfs-accelerate}
echo "== ipfs-accelerate demo: hardware at hand"
"$cli" hw
