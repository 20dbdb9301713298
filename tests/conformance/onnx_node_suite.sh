#!/bin/bash
# The official ONNX node test suite through onnx_node_runner.
#
# Generates the suite with Debian's python3-onnx into
# ${IA_CONF_CACHE:-$HOME/.cache/ipfs-accelerate}/onnx-node-suite (once; again
# when the folder is missing), runs every case (each in its own process,
# IA_CONF_JOBS at a time, default 2), prints the per-op table, and fails
# when (a) any case crashed or timed out, (b) an op listed in
# node_suite_expected.txt has a case that does not pass, or (c) fewer cases
# pass than that file's min_pass floor.
#
# Usage: onnx_node_suite.sh [RUNNER]   (default $IA_BUILD_DIR/onnx_node_runner)
set -u
here=$(cd "$(dirname "$0")" && pwd)
runner=${1:-${IA_BUILD_DIR:-}/onnx_node_runner}
if [ ! -x "$runner" ]; then
    echo "FAIL: no runner at '$runner' (build the onnx_node_runner target, or pass its path)" >&2
    exit 1
fi
cache=${IA_CONF_CACHE:-$HOME/.cache/ipfs-accelerate}/onnx-node-suite

if [ ! -d "$cache/node" ]; then
    if ! /usr/bin/python3 -c 'import onnx, numpy' 2>/dev/null; then
        echo "FAIL: /usr/bin/python3 cannot import onnx and numpy (apt install python3-onnx)" >&2
        exit 1
    fi
    echo "generating the ONNX node suite into $cache"
    tmp="$cache.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    # Old onnx releases use numpy aliases that numpy 1.24 removed.
    if ! /usr/bin/python3 -c "
import numpy as np
[setattr(np, a, b) for a, b in (('float', float), ('int', int), ('bool', bool), ('object', object)) if not hasattr(np, a)]
import sys
from onnx.backend.test.cmd_tools import main
sys.argv = ['x', 'generate-data', '-o', sys.argv[1]]
main()" "$tmp" >"$tmp.log" 2>&1; then
        echo "FAIL: generating the suite failed:" >&2
        tail -20 "$tmp.log" >&2
        rm -rf "$tmp" "$tmp.log"
        exit 1
    fi
    rm -f "$tmp.log"
    if [ ! -d "$tmp/node" ]; then
        echo "FAIL: the generator wrote no node/ folder" >&2
        rm -rf "$tmp"
        exit 1
    fi
    rm -rf "$cache"
    mv "$tmp" "$cache"
fi
n_cases=$(find "$cache/node" -mindepth 2 -maxdepth 2 -name model.onnx | wc -l)
echo "running $n_cases cases from $cache/node"

"$runner" -j "${IA_CONF_JOBS:-2}" -q -s -t "${IA_CONF_TIMEOUT:-120}" \
    -r "$here/required_ops.txt" -e "$here/node_suite_expected.txt" "$cache/node"
rc=$?
if [ $rc -ne 0 ]; then
    echo "FAIL: node suite (crash/timeout, or an expectation in node_suite_expected.txt broke)"
    exit 1
fi
echo "ok   node suite"
