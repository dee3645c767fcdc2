#!/usr/bin/env bash
# memprof_leak_check() called 20 times while four threads malloc, realloc and free without
# pause (so they are stopped inside glibc's allocator and inside the profiler's hooks) and a
# fifth thread blocks every signal (so it cannot be stopped): no deadlock, no crash, every
# call finds exactly the one block the program leaked (1,234 bytes) and the churning threads'
# blocks still reachable, and the snapshots say that one thread could not be stopped.
source "$(dirname "$0")/../lib/lib.sh"
timeout 60 env MEMPROF_OUTPUT="$PWD/busy.%n.gz" LD_PRELOAD="$LIBMEMPROF" "$TESTBIN/prog-leak-cases" busy >out.txt 2>err.txt ||
	{ cat err.txt; fail "the program failed or hung (status $?)"; }
[ "$(grep -c '^memprof_leak_check: ' out.txt)" = 20 ] || { cat out.txt; fail "expected 20 results"; }
if grep '^memprof_leak_check: ' out.txt | grep -v ': 1234$'; then
	fail "every leak check must return the 1,234 bytes leaked"
fi
"$MEMPROF" report busy.19.gz >r.txt
expect_match "reason: *leak-check" r.txt
expect_match "definitely lost: 1,234 bytes in 1 blocks" r.txt
expect_match "still reachable: [0-9,]+ bytes in [1-9][0-9]* blocks" r.txt
expect_match "not every thread could be stopped" r.txt
