# SPDX-License-Identifier: MIT
# Shared helpers for tests/*/test-*.sh. Each test runs in its own temporary directory.
set -euo pipefail
: "${TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BUILD:=build}"
: "${MEMPROF:=$TOP/$BUILD/memprof}" "${LIBMEMPROF:=$TOP/$BUILD/libmemprof.so}"
SAMPLES=$TOP/$BUILD/samples
TESTBIN=$TOP/$BUILD/tests
# Reports fit $COLUMNS when it is set: the tests read them at the width of a pipe, 80.
unset COLUMNS
T=$(mktemp -d /tmp/memprof-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skipped: $*"; exit 77; }
# expect_match REGEX FILE: FILE must contain a line matching the extended REGEX.
expect_match() { grep -Eq -- "$1" "$2" || { echo "--- $2:"; cat "$2"; fail "no line matching /$1/ in $2"; }; }
expect_no_match() { ! grep -Eq -- "$1" "$2" || { echo "--- $2:"; cat "$2"; fail "unexpected /$1/ in $2"; }; }
# profile OUT CMD...: run CMD under the preload with the snapshot written to OUT.
profile() { local out=$1; shift; MEMPROF_OUTPUT=$out LD_PRELOAD=$LIBMEMPROF "$@"; }
