#!/usr/bin/env bash
# The signal that stops threads for a scan is one that no thread keeps blocked: a program
# whose threads block SIGRTMAX and wait for it with sigtimedwait never receives the
# profiler's signal, and the scans still stop every thread and find the one leak.
source "$(dirname "$0")/../lib/lib.sh"
timeout 60 env MEMPROF_OUTPUT="$PWD/sw.%n.gz" LD_PRELOAD="$LIBMEMPROF" "$TESTBIN/prog-leak-cases" sigwait >out.txt 2>err.txt ||
	{ cat err.txt; fail "the program failed or hung"; }
expect_no_match "waiter received" out.txt
[ "$(grep -c '^memprof_leak_check: 1234$' out.txt)" = 5 ] || { cat out.txt; fail "expected five checks finding 1234 bytes"; }
"$MEMPROF" report sw.4.gz >r.txt
expect_no_match "not every thread could be stopped" r.txt
