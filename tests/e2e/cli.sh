# The CLI shell: global options, exit statuses, error format, and `hw`.
. "$(dirname "$0")/lib.sh"

expect_status 0 "--help exits 0" -- "$IA_CLI" --help
expect_grep '^  hw ' "$T/out" "--help lists hw"
expect_status 0 "-h exits 0" -- "$IA_CLI" -h

expect_status 0 "--version exits 0" -- "$IA_CLI" --version
expect_grep '^ipfs-accelerate 0\.1\.0$' "$T/out" "--version prints the version"

expect_status 2 "no command is a usage error" -- "$IA_CLI"
expect_grep 'Usage: ipfs-accelerate' "$T/err" "no command prints usage on stderr"

expect_status 2 "unknown command exits 2" -- "$IA_CLI" no-such-command
expect_grep "^ipfs-accelerate: unknown command 'no-such-command'" "$T/err" "unknown command message"

expect_status 2 "unknown global option exits 2" -- "$IA_CLI" --bogus hw
expect_grep "^ipfs-accelerate: unknown option '--bogus'" "$T/err" "unknown global option message"

expect_status 0 "hw --help exits 0" -- "$IA_CLI" hw --help
expect_grep '^Usage: ipfs-accelerate hw' "$T/out" "hw --help prints usage"
expect_status 0 "hw -h exits 0" -- "$IA_CLI" hw -h

expect_status 2 "hw --bogus exits 2" -- "$IA_CLI" hw --bogus
expect_grep "^ipfs-accelerate: hw: unrecognized option '--bogus'" "$T/err" "hw --bogus message"
expect_status 2 "hw -x exits 2" -- "$IA_CLI" hw -x
expect_grep "^ipfs-accelerate: hw: invalid option '-x'" "$T/err" "hw -x message"
expect_status 2 "hw extra-arg exits 2" -- "$IA_CLI" hw extra-arg
expect_grep "^ipfs-accelerate: hw: unexpected argument 'extra-arg'" "$T/err" "hw extra-arg message"
expect_status 2 "hw --json=1 exits 2" -- "$IA_CLI" hw --json=1

expect_status 0 "hw exits 0" -- "$IA_CLI" hw
for section in CPU Features Caches Memory GPUs Browsers Fingerprint; do
    expect_grep "^$section\$" "$T/out" "hw report has a $section section"
done
expect_grep '^  SHA-256 +[0-9a-f]{64}$' "$T/out" "hw report shows the fingerprint"
expect_grep '^  Cores +[0-9]+ physical, [0-9]+ logical$' "$T/out" "hw report shows cores"
cp "$T/out" "$T/report"
if [ -s "$T/err" ]; then fail "hw writes nothing to stderr"; else pass "hw writes nothing to stderr"; fi

expect_status 0 "hw --json exits 0" -- "$IA_CLI" hw --json
if python3 -c 'import json,sys; json.load(sys.stdin)' <"$T/out" 2>"$T/pyerr"; then
    pass "hw --json is valid JSON"
else
    fail "hw --json is valid JSON: $(head -1 "$T/pyerr")"
fi
fp=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprint"])' <"$T/out" 2>/dev/null)
if [ -n "$fp" ] && grep -q "$fp" "$T/report"; then
    pass "report and JSON show the same fingerprint"
else
    fail "report and JSON show the same fingerprint ('$fp')"
fi

expect_status 0 "-q hw exits 0" -- "$IA_CLI" -q hw
expect_grep '^Fingerprint$' "$T/out" "-q hw still prints the report"
expect_status 0 "-v hw --json exits 0" -- "$IA_CLI" -v hw --json

# Browsers come from $PATH and are only looked up, never started.
mkdir -p "$T/bin"
printf '#!/bin/sh\necho started >"%s/started"\n' "$T" >"$T/bin/chromium"
chmod +x "$T/bin/chromium"
expect_status 0 "hw with a chromium on PATH exits 0" -- env PATH="$T/bin:$PATH" "$IA_CLI" hw
expect_grep "^  chromium +$T/bin/chromium\$" "$T/out" "hw finds chromium on PATH"
if [ -e "$T/started" ]; then fail "hw does not start the browser"; else pass "hw does not start the browser"; fi

finish
