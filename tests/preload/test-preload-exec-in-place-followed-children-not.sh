#!/usr/bin/env bash
# exec in place: the new image stays profiled (MEMPROF_FOLLOW_EXEC, on by default), and is
# not with MEMPROF_FOLLOW_EXEC=0, unless MEMPROF_FOLLOW_CHILDREN=1 (valgrind's
# --trace-children) asks for every program; the profiler removes only its own entry from
# LD_PRELOAD for the programs started in other processes.
source "$(dirname "$0")/../lib/lib.sh"
MEMPROF_FOLLOW_EXEC=0 profile "$T/a.%p.gz" "$TESTBIN/prog-process-life" exec || fail "exit status changed"
n=$(find "$T" -name "a.*.gz" | wc -l)
[ "$n" -eq 0 ] || fail "exec'd image was profiled ($n snapshots) with MEMPROF_FOLLOW_EXEC=0"
profile "$T/d.%p.gz" "$TESTBIN/prog-process-life" exec || fail "exit status changed"
n=$(find "$T" -name "d.*.gz" | wc -l)
[ "$n" -eq 1 ] || fail "expected the exec'd image's snapshot by default, found $n"
"$MEMPROF" report "$T"/d.*.gz >r.txt
expect_match 'in use at exit: 2,100 bytes in 7 blocks' r.txt
MEMPROF_FOLLOW_CHILDREN=1 profile "$T/b.%p.gz" "$TESTBIN/prog-process-life" exec || fail "exit status changed"
n=$(find "$T" -name "b.*.gz" | wc -l)
[ "$n" -eq 1 ] || fail "expected the exec'd image's snapshot, found $n"
"$MEMPROF" report "$T"/b.*.gz >r.txt
expect_match 'in use at exit: 2,100 bytes in 7 blocks' r.txt
# Our entry is stripped, another preloaded library stays.
LD_PRELOAD="$LIBMEMPROF /lib/x86_64-linux-gnu/libdl.so.2" MEMPROF_OUTPUT="$T/c.gz" \
	sh -c 'echo "$LD_PRELOAD"' >env.txt
expect_match '^/lib/x86_64-linux-gnu/libdl.so.2$' env.txt
