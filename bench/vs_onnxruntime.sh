#!/usr/bin/env bash
# `make bench` entry for bench/vs-onnxruntime/run.sh (see there).
exec "$(dirname "$0")/vs-onnxruntime/run.sh" "$@"
