#!/usr/bin/env bash
# 300 threads, each holding a block only in a __thread variable: memprof_leak_check() stops
# every one of them (no warning) and finds all 300 blocks still reachable; the exit scan gives
# the same four figures as valgrind --leak-check=full.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/leak-lib.sh"
prog=$TESTBIN/prog-leak-cases
timeout 60 env MEMPROF_OUTPUT="$PWD/many.%n.gz" LD_PRELOAD="$LIBMEMPROF" "$prog" many-threads >out.txt 2>err.txt ||
	{ cat err.txt; fail "the program failed or hung"; }
expect_match "^memprof_leak_check: 0$" out.txt
"$MEMPROF" report many.0.gz >r.txt
expect_match "still reachable: 19,200 bytes in 300 blocks" r.txt
expect_no_match "not every thread could be stopped" r.txt
same_as_memcheck "$prog" many-threads
