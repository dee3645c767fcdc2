#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test, each in its own process with a timeout, and ends with "N passed, N failed".
# Tests: build/tests/unit-* binaries and tests/test-*.sh scripts. A test passes when it exits 0;
# exit 77 means skipped (a tool it needs is missing). Pass test names as arguments to run a subset.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD MEMPROF="$PWD/$BUILD/memprof" LIBMEMPROF="$PWD/$BUILD/libmemprof.so" TOP="$PWD"
TIMEOUT=${TEST_TIMEOUT:-180}
pass=0 fail=0 skip=0 failed=()
tests=()
if [ $# -gt 0 ]; then tests=("$@"); else
	for t in "$BUILD"/tests/unit-* tests/test-*.sh; do [ -x "$t" ] && tests+=("$t"); done
fi
logdir=$BUILD/test-logs
mkdir -p "$logdir"
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	start=$(date +%s)
	timeout -k 5 "$TIMEOUT" "$t" >"$logdir/$name.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ $rc -eq 0 ]; then pass=$((pass + 1)); printf 'PASS %s (%ss)\n' "$name" "$secs"
	elif [ $rc -eq 77 ]; then skip=$((skip + 1)); printf 'SKIP %s: %s\n' "$name" "$(tail -n 1 "$logdir/$name.log")"
	else
		fail=$((fail + 1)); failed+=("$name")
		[ $rc -eq 124 ] && echo "FAIL $name (timed out after ${TIMEOUT}s)" || echo "FAIL $name (exit $rc)"
		# The reason first (a reader of a cut-off log still sees it), then the log's end.
		grep -m 1 '^FAIL: ' "$logdir/$name.log" | sed 's/^/    reason: /' || true
		sed 's/^/    | /' "$logdir/$name.log" | tail -n 25
	fi
done
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
