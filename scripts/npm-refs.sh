#!/usr/bin/env bash
# Installs the IPFS reference packages (the JS importer, the CAR library,
# multiformats) that tests/ref/*.mjs use, into a cache
# folder outside the repo. Idempotent and quick when already present.
# Usage: scripts/npm-refs.sh [DIR]   prints DIR (the --prefix) on stdout.
# DIR defaults to $IA_NPM_CACHE, else ~/.cache/ipfs-accelerate/npm-refs.
set -euo pipefail

DIR=${1:-${IA_NPM_CACHE:-$HOME/.cache/ipfs-accelerate/npm-refs}}
# Exact versions: interop results must not change under us when a new
# release appears. Bump deliberately (ipfs-unixfs-importer stays on 17.x,
# the line DESIGN.md's profiles were checked against).
PKGS=(
  ipfs-unixfs-importer@17.1.1
  @ipld/car@5.4.7
  multiformats@14.0.5
)

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "npm-refs: node and npm are required (scripts/install-deps.sh installs them)" >&2
  exit 1
fi

stamp="$DIR/.ia-npm-refs"
want="${PKGS[*]}"
if [ -f "$DIR/node_modules/.package-lock.json" ] && [ -f "$stamp" ] &&
   [ "$(cat "$stamp")" = "$want" ]; then
  echo "$DIR"
  exit 0
fi

mkdir -p "$DIR"
# A package.json of our own keeps npm from walking up into some other
# project's package.json above DIR.
[ -f "$DIR/package.json" ] || echo '{"name":"ia-npm-refs","private":true}' >"$DIR/package.json"
if ! npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error "${PKGS[@]}" >&2; then
  echo "npm-refs: npm install into $DIR failed (is the npm registry reachable?)" >&2
  exit 1
fi
printf '%s' "$want" >"$stamp"
echo "$DIR"
