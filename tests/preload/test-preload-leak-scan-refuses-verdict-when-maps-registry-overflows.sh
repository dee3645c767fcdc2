#!/usr/bin/env bash
# The leak scan leaves the profiler's own mappings out of the roots by a registry of them. When
# that registry is full, an unregistered mapping (the live table's, say) would be scanned as a
# root and hide every leak: the scan then gives no verdict instead of a wrong one. Forced with
# MEMPROF_TEST_MAPS_MAX, a registry of 4 slots.
source "$(dirname "$0")/../lib/lib.sh"
MEMPROF_TEST_MAPS_MAX=4 MEMPROF_OUTPUT=$PWD/m.gz LD_PRELOAD=$LIBMEMPROF \
	"$TESTBIN/prog-leak-cases" api >out.txt 2>err.txt || { cat err.txt; fail "the program failed"; }
expect_match '^memprof_leak_check: -1$' out.txt
expect_match 'leak scan: .*no leak verdict' err.txt
[ "$(grep -c 'no leak verdict' err.txt)" = 1 ] || { cat err.txt; fail "the warning was not said once"; }
"$MEMPROF" report m.gz >report.txt
expect_match '^   no verdict: the leak scan could not tell' report.txt
expect_no_match 'definitely lost' report.txt
"$MEMPROF" report --format json m.gz >report.json
expect_match '"leaks":\{"undecided":true\}' report.json
rc=0
"$MEMPROF" check m.gz >check.txt 2>check.err || rc=$?
[ "$rc" = 2 ] || { cat check.txt check.err; fail "check exited $rc, not 2, on a scan without a verdict"; }
expect_match 'no verdict' check.err
# The same program with the registry at its size gives its verdict.
MEMPROF_OUTPUT=$PWD/ok.gz LD_PRELOAD=$LIBMEMPROF "$TESTBIN/prog-leak-cases" api >out.txt
expect_match '^memprof_leak_check: [1-9]' out.txt
"$MEMPROF" report ok.gz >ok.txt
expect_match '^   definitely lost: [1-9]' ok.txt
echo "ok: a full registry gives no verdict, never a wrong one"
