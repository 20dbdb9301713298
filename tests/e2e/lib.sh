# Shared helpers for end-to-end tests: source it, then call the checks.
# Each test gets a scratch folder ($T) and its own IA_HOME.
set -u
: "${IA_CLI:?IA_CLI must point at the ipfs-accelerate binary}"
T=$(mktemp -d)
export IA_HOME="$T/home"
trap 'rm -rf "$T"' EXIT
n_pass=0
n_fail=0

pass() { n_pass=$((n_pass + 1)); echo "ok   $*"; }
fail() { n_fail=$((n_fail + 1)); echo "FAIL $*" >&2; }

# expect_status STATUS DESCRIPTION -- COMMAND...: runs COMMAND, output kept
# in $T/out and $T/err, checks its exit status.
expect_status() {
    local want=$1 what=$2
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    if [ "$got" -eq "$want" ]; then pass "$what"; else
        fail "$what: exit $got, wanted $want"; sed 's/^/    stderr: /' "$T/err" | head -5 >&2
    fi
}

expect_grep() { # PATTERN FILE DESCRIPTION
    if grep -qE -- "$1" "$2"; then pass "$3"; else
        fail "$3: /$1/ not in $2"; head -5 "$2" | sed 's/^/    /' >&2
    fi
}

expect_no_grep() { # PATTERN FILE DESCRIPTION
    if grep -qE -- "$1" "$2"; then fail "$3: /$1/ found in $2"; else pass "$3"; fi
}

finish() {
    echo "$n_pass passed, $n_fail failed"
    [ "$n_fail" -eq 0 ]
}
