#!/usr/bin/env bash
# Runs every bench/*.sh except this one against the build folder $1 (as
# `make bench` builds it: Release), one after another so they do not
# compete for the CPU. Exit 1 if any of them failed.
set -u
BUILD=${1:?usage: bench/run.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd) || exit 2
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for s in "$here"/*.sh; do
    [ "$(basename "$s")" = run.sh ] && continue
    echo "## $(basename "$s" .sh)"
    echo
    if ! bash "$s" "$BUILD"; then
        echo "bench: $(basename "$s") failed" >&2
        rc=1
    fi
    echo
done
exit $rc
