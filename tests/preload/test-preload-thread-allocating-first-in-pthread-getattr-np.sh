#!/usr/bin/env bash
# glibc's pthread_getattr_np allocates while it holds the thread's own lock. A thread whose
# first allocation is made there (every Rust program's threads) must not be made to wait for
# that lock by the profiler asking for the same thread's stack bounds: the run ends as bare,
# each thread's 3 x 40 leaked bytes are counted, and its later allocations still hit the
# trace cache.
source "$(dirname "$0")/../lib/lib.sh"
timeout 60 "$TESTBIN/prog-host-life" getattr >bare.out 2>&1 || fail "bare run failed"
set +e
timeout 60 env MEMPROF_OUTPUT="$T/snap.gz" MEMPROF_VERIFY_TRACES=1 LD_PRELOAD="$LIBMEMPROF" \
	"$TESTBIN/prog-host-life" getattr >profiled.out 2>profiled.err
rc=$?
set -e
[ $rc -ne 124 ] || fail "the profiled run hung"
[ $rc -eq 0 ] || fail "exit status $rc"
cmp -s bare.out profiled.out || fail "output changed"
# The threads' later allocations are cached, and every cached trace is the fresh unwind's.
expect_match 'trace cache: [1-9][0-9]* hits, [0-9]+ misses, 0 mismatches' profiled.err
"$MEMPROF" report "$T/snap.gz" >report.txt
# 12 blocks of 40 bytes kept; the last one stored is still reachable.
expect_match 'definitely lost: 440 bytes in 11 blocks' report.txt
expect_match 'still reachable: 40 bytes in 1 blocks' report.txt
