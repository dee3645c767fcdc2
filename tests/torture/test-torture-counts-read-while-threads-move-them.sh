#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Snapshots written without pause while 32 threads allocate and free from 1200 stacks (more
# than a thread's 1024 pending counters, so counts keep moving into the shared records) and
# exit, and while exit() writes the final snapshot: the program keeps 1000 blocks of 64
# bytes. No snapshot counts anything twice: the allocation counts never go down from one
# snapshot to the next, none holds much more than the 1000 blocks, and each is consistent.
# (The race is narrow; build/tests/unit-trace-counts hammers the same reads directly.)
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-torture
run_capture bare "$P" counts
run_capture prof env MEMPROF_OUTPUT="$T/s.%n.gz" LD_PRELOAD="$LIBMEMPROF" "$P" counts
same_output bare prof
prev=0 n=0
for f in $(cd "$T" && ls s.*.gz | sort -t. -k2 -n); do
	line=$("$TESTBIN/snapshot-sections" "$T/$f" | grep '^totals ') || fail "$f: no totals"
	allocs=$(sed -E 's/.* allocs=([0-9]+) .*/\1/' <<<"$line")
	live=$(sed -E 's/.* live_bytes=([0-9]+) .*/\1/' <<<"$line")
	[ "$allocs" -ge "$prev" ] || fail "$f counts $allocs allocations, the snapshot before it $prev"
	# 64,000 kept, a few blocks in the workers' hands, stdout's buffer, threads' own bits.
	[ "$live" -le 100000 ] || fail "$f: $live bytes live, the program never holds more than about 70,000"
	prev=$allocs n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "only $n snapshots written"
last=$(cd "$T" && ls s.*.gz | sort -t. -k2 -n | tail -n 1)
"$TESTBIN/snapshot-sections" "$T/$last" | grep -q '^meta seq=[0-9]* reason=exit ' || fail "$last is not the exit snapshot"
check_snapshot "$T/$last"
[ "$SNAP_ALLOCS" -ge 193000 ] || fail "$SNAP_ALLOCS allocations at exit, the program makes 193,000"
echo "$n snapshots, allocation counts never going down"
