#!/usr/bin/env bash
# fork() 200 times while 4 other threads keep starting threads whose allocations libunwind
# unwinds afresh (each new thread takes libunwind's own lock for every frame of its first
# unwind), one thread allocates stdio buffers under their file's lock through frames never
# cached, one starts threads whose first allocation is a stream's buffer (a new thread's
# state of the profiler's, taken under the file's lock), and one flushes every stream: no
# child hangs in its first unwind on a lock
# inherited held, the parent does not hang in fork, and every child writes its snapshot.
# Before fork's handlers closed a gate in front of libunwind, about one run in three had a
# child hang; while that gate made captures wait, the parent hung in fork (a thread waited at
# the gate holding a file's lock that fork's flush of the streams needed; the same held for the
# lock of the free thread states, which fork's handlers no longer take). The children's leak
# scans are left out: they would take most of the time.
source "$(dirname "$0")/../lib/lib.sh"
rc=0
out=$(timeout 120 env MEMPROF_LEAK_CHECK=0 MEMPROF_OUTPUT="$T/snap.%p.gz" LD_PRELOAD="$LIBMEMPROF" \
	"$TESTBIN/prog-process-life" fork-unwinding 2>&1) || rc=$?
[ $rc -eq 0 ] || fail "exit status $rc (3: a child hung; 124: the parent did): $out"
n=$(find "$T" -name 'snap.*.gz' | wc -l)
[ "$n" -eq 201 ] || fail "expected 201 snapshots (parent + 200 children), found $n"
for f in $(find "$T" -name 'snap.*.gz' | head -5); do
	"$MEMPROF" report "$f" >/dev/null || fail "unreadable snapshot $f"
done
