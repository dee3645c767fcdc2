#!/usr/bin/env bash
# 8 threads allocate 10,000 blocks each and free another thread's: every allocation and every
# free is counted, nothing of the program's is left live, and cached traces match a fresh
# unwind every time (MEMPROF_VERIFY_TRACES).
source "$(dirname "$0")/../lib/lib.sh"
MEMPROF_VERIFY_TRACES=1 profile "$T/snap.gz" "$TESTBIN/prog-process-life" threads 2>err.txt || fail "exit status changed"
expect_match 'trace cache: [0-9]+ hits, [0-9]+ misses, 0 mismatches' err.txt
"$MEMPROF" report --sort live "$T/snap.gz" >r.txt
allocs=$(sed -n 's/^allocs=\([0-9]*\) frees=\([0-9]*\).*/\1/p' r.txt)
frees=$(sed -n 's/^allocs=\([0-9]*\) frees=\([0-9]*\).*/\2/p' r.txt)
blocks=$(sed -n 's/.*in use at exit: .* bytes in \([0-9,]*\) blocks/\1/p' r.txt | tr -d ,)
[ "$allocs" -ge 80000 ] || fail "allocs=$allocs, expected at least 80000"
[ "$frees" -ge 80000 ] || fail "frees=$frees, expected at least 80000"
[ "$allocs" -eq $((frees + blocks)) ] || fail "allocs ($allocs) != frees ($frees) + live blocks ($blocks)"
# Nothing the threads allocated is live (what is left belongs to libc: thread stacks' TLS).
expect_no_match 'live [0-9,]+ bytes in [0-9,]+ blocks, 10,000 allocs' r.txt
