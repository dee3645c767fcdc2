#!/usr/bin/env bash
# A fault inside free() or realloc() that the program catches and leaves with siglongjmp (the
# abort() of glibc's double-free check, a SIGSEGV on a pointer whose header cannot be read)
# leaves the hook's guard set: the library sees that the hook's frame is gone at the thread's
# next call and records again. The 12,345-byte leak that follows is in the report (before,
# nothing more was recorded and it showed no allocations).
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
run_capture bare timeout 60 "$TESTBIN/prog-host-life" fault
run_capture profiled timeout 60 env MEMPROF_OUTPUT="$T/snap.gz" LD_PRELOAD="$LIBMEMPROF" "$TESTBIN/prog-host-life" fault
same_output bare profiled
expect_match 'caught 2 faults' "$T/bare.out"
"$MEMPROF" report --show-leak-kinds=all "$T/snap.gz" >r.txt
expect_match '^12,345 bytes in 1 blocks are still reachable' r.txt
expect_match 'total heap usage: [3-9] allocs' r.txt
