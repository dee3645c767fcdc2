#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# setjmp/longjmp out of recursion 1 to 60 frames deep, every frame allocating, 2000 times:
# the stack unwinds without returns, which the per-thread trace cache must not be fooled by
# (MEMPROF_VERIFY_TRACES compares every cache hit with a fresh unwind). Output as bare; every
# block the program frees is counted freed.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-torture
bare_and_profiled "$T/snap.gz" "$P" longjmp
expect_match '^longjmp: 2000 jumps, 60600 frame blocks freed$' prof.out
check_snapshot "$T/snap.gz"
# 60,600 frame blocks and as many scratch blocks, all freed; stdout's buffer may stay.
[ "$SNAP_ALLOCS" -ge 121200 ] || fail "only $SNAP_ALLOCS allocations recorded, the program makes 121,200"
"$MEMPROF" report --no-symbols snap.gz >r.txt
expect_match 'in use at exit: (0 bytes in 0 blocks|4,096 bytes in 1 blocks)$' r.txt
MEMPROF_VERIFY_TRACES=1 profile "$T/v.gz" "$P" longjmp >/dev/null 2>v.err || fail "exit status changed"
expect_match 'trace cache: [0-9]+ hits, [0-9]+ misses, 0 mismatches' v.err
