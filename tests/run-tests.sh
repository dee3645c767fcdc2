#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test, each in its own process with a timeout, and ends with "N passed, N failed".
# Tests by folder: unit (tests/unit/unit-NAME.c, run as the $BUILD/tests/unit-NAME binary),
# cli, preload, real and torture (tests/FOLDER/test-*.sh). A test passes when it exits 0; exit 77
# means skipped (a tool it needs is missing). Arguments pick a subset, each a path to a test, a
# bare test name (test-preload-fork-child-gets-own-snapshot, with or without .sh, or
# unit-live-table) or a folder (preload, tests/preload).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD MEMPROF="$PWD/$BUILD/memprof" LIBMEMPROF="$PWD/$BUILD/libmemprof.so" TOP="$PWD"
TIMEOUT=${TEST_TIMEOUT:-180}
FOLDERS="unit cli preload real torture"
pass=0 fail=0 skip=0 failed=()
tests=()
# add_folder FOLDER: every test of FOLDER, in name order. A unit test whose binary is missing
# is still listed, and so fails: it was not built.
add_folder() {
	local t
	if [ "$1" = unit ]; then
		for t in tests/unit/unit-*.c; do [ -e "$t" ] && tests+=("$BUILD/tests/$(basename "$t" .c)"); done
	else
		for t in tests/"$1"/test-*.sh; do [ -e "$t" ] && tests+=("$t"); done
	fi
	return 0
}
# add ARG: a path, a folder or a bare name; 1 when ARG names nothing.
add() {
	local a=${1%/} f
	a=${a#tests/}
	for f in $FOLDERS; do [ "$a" = "$f" ] && { add_folder "$f"; return 0; }; done
	[ -f "$1" ] && { tests+=("$1"); return 0; }
	[ -f "tests/$a" ] && { tests+=("tests/$a"); return 0; }
	a=${a%.sh}
	case $a in
	unit-*) [ -e "tests/unit/$a.c" ] && { tests+=("$BUILD/tests/$a"); return 0; } ;;
	*) for f in $FOLDERS; do
		[ -e "tests/$f/$a.sh" ] && { tests+=("tests/$f/$a.sh"); return 0; }
	done ;;
	esac
	return 1
}
if [ $# -gt 0 ]; then
	for a in "$@"; do add "$a" || { echo "run-tests: no test or folder named $a" >&2; exit 2; }; done
else
	for f in $FOLDERS; do add_folder "$f"; done
	# A test outside the folders would never run: say so, as a failure. (One in a folder that is
	# not executable runs, and fails.)
	while IFS= read -r t; do
		case $t in
		tests/unit/unit-*.c | tests/cli/test-*.sh | tests/preload/test-*.sh | tests/real/test-*.sh | \
			tests/torture/test-*.sh) continue ;;
		esac
		echo "FAIL $t: not in a test folder ($FOLDERS), so it would not run"
		fail=$((fail + 1)); failed+=("$t")
	done < <(find tests -path tests/data -prune -o \( -name 'test-*.sh' -o -name 'unit-*.c' \) -print | sort)
fi
logdir=$BUILD/test-logs
mkdir -p "$logdir"
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	start=$(date +%s)
	# A script may ask for more time with a line "# test-timeout: SECONDS" (a whole build inside).
	limit=$(sed -n 's/^# test-timeout: \([0-9][0-9]*\)$/\1/p' "$t" 2>/dev/null | head -n 1)
	[ -n "$limit" ] && [ "$limit" -gt "$TIMEOUT" ] || limit=$TIMEOUT
	timeout -k 5 "$limit" "$t" >"$logdir/$name.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ $rc -eq 0 ]; then pass=$((pass + 1)); printf 'PASS %s (%ss)\n' "$name" "$secs"
	elif [ $rc -eq 77 ]; then skip=$((skip + 1)); printf 'SKIP %s: %s\n' "$name" "$(tail -n 1 "$logdir/$name.log")"
	else
		fail=$((fail + 1)); failed+=("$name")
		[ $rc -eq 124 ] && echo "FAIL $name (timed out after ${limit}s)" || echo "FAIL $name (exit $rc)"
		# The reason first (a reader of a cut-off log still sees it), then the log's end.
		grep -m 1 '^FAIL: ' "$logdir/$name.log" | sed 's/^/    reason: /' || true
		sed 's/^/    | /' "$logdir/$name.log" | tail -n 25
	fi
done
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
