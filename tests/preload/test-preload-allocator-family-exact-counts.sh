#!/usr/bin/env bash
# Every hooked function and its edge cases behave as glibc's (the program checks itself), and
# the snapshot counts exactly the allocations the program made: 12 allocs, 10 frees, 5,374
# bytes, 106 bytes in 2 blocks left, each counted once (strdup, realloc, pvalloc included).
source "$(dirname "$0")/../lib/lib.sh"
profile "$T/snap.gz" "$TESTBIN/prog-allocator-family" 2>err.txt || { cat err.txt; fail "the program saw a wrong result under the preload"; }
[ ! -s err.txt ] || { cat err.txt; fail "unexpected output on stderr"; }
"$TESTBIN/prog-allocator-family" || fail "the program fails even without the preload"
"$MEMPROF" report --no-symbols "$T/snap.gz" >report.txt
expect_match '^ +in use at exit: 106 bytes in 2 blocks$' report.txt
expect_match '^ +total heap usage: 12 allocs, 10 frees, 5,374 bytes allocated$' report.txt
expect_match '^allocs=12 frees=10 peak=' report.txt
# The sites are in the program itself, not in the profiler.
expect_match 'prog-allocator-family\+0x' report.txt
expect_no_match 'libmemprof' report.txt
