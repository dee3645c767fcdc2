#!/usr/bin/env bash
# fork() while 4 other threads are inside malloc/free, 20 times: no child deadlocks (the
# profiler takes all its locks around fork), and every child writes its own snapshot.
source "$(dirname "$0")/../lib/lib.sh"
timeout 60 env MEMPROF_OUTPUT="$T/snap.%p.gz" LD_PRELOAD="$LIBMEMPROF" "$TESTBIN/prog-process-life" fork-threads \
	|| fail "exit status $? (124: a child deadlocked)"
n=$(find "$T" -name 'snap.*.gz' | wc -l)
[ "$n" -eq 21 ] || fail "expected 21 snapshots (parent + 20 children), found $n"
for f in "$T"/snap.*.gz; do "$MEMPROF" report "$f" >/dev/null || fail "unreadable snapshot $f"; done
