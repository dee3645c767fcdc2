#!/usr/bin/env bash
# The per-thread trace cache returns exactly what libunwind would: with MEMPROF_VERIFY_TRACES=1
# every cache hit is compared with a fresh unw_backtrace. Stacks of 0..36 recursive frames
# through two call paths, so one call site is reached through many different stacks.
source "$(dirname "$0")/../lib/lib.sh"
MEMPROF_VERIFY_TRACES=1 profile "$T/snap.gz" "$TESTBIN/prog-process-life" deep 2>err.txt || fail "exit status changed"
expect_match 'trace cache: [0-9]+ hits, [0-9]+ misses, 0 mismatches' err.txt
hits=$(sed -n 's/.*trace cache: \([0-9]*\) hits.*/\1/p' err.txt)
[ "$hits" -gt 100000 ] || fail "only $hits cache hits: the cache is not being used"
"$MEMPROF" report --frames 60 "$T/snap.gz" >r.txt
# 37 depths x 2 paths of the same call site: 74 distinct traces with 200,000 allocations.
expect_match '^ +total heap usage: 2[0-9][0-9],[0-9]{3} allocs' r.txt
