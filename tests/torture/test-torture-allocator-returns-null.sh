#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The real allocator refusing requests: sizes no allocator can give (1 << 62 bytes, overflowing
# counts), and a fault injector preloaded behind the profiler that refuses two sizes as an
# exhausted allocator would, 10,000 times between ordinary allocations. Every call returns
# what it returns bare (NULL, errno ENOMEM, the old block kept by a failed realloc), the
# output and exit status are the same, there is no warning, and the snapshot adds up.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-torture
bare_and_profiled "$T/plain.gz" "$P" nulls
expect_match '^malloc\(1<<62\) +NULL errno=ENOMEM$' prof.out
expect_match '^kept block intact: yes$' prof.out
check_snapshot "$T/plain.gz"

cc -shared -fPIC -O1 -o fault-inject.so "$TOP/tests/data/fault-inject.c" -ldl
run_capture bare env LD_PRELOAD="$T/fault-inject.so" "$P" nulls injected
run_capture prof env MEMPROF_OUTPUT="$T/snap.%p.gz" LD_PRELOAD="$LIBMEMPROF $T/fault-inject.so" "$P" nulls injected
same_output bare prof
expect_match '^malloc\(777777\) +NULL errno=ENOMEM$' prof.out
expect_match '^realloc\(keep, 777777\) +NULL errno=ENOMEM$' prof.out
expect_match '^churn done$' prof.out
check_snapshots 1 10000
# Refused requests are not allocations: 10,000 ordinary ones in the churn, a few besides.
[ "$SNAP_ALLOCS" -lt 10100 ] || fail "$SNAP_ALLOCS allocations recorded: refused requests were counted"
