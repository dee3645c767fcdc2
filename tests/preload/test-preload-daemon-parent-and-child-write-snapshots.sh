#!/usr/bin/env bash
# daemon(3) forks and its parent ends with glibc's internal _exit, which the library never
# sees: the parent still writes its final snapshot (reason _exit, its two blocks). The daemon,
# whose parent is gone when it writes, names that parent (not 1) in its report header.
source "$(dirname "$0")/../lib/lib.sh"
run_bare() { timeout 60 "$TESTBIN/prog-host-life" daemon; }
run_bare >bare.out 2>&1 || fail "bare run failed"
set +e
timeout 60 env MEMPROF_OUTPUT="$T/snap.gz" LD_PRELOAD="$LIBMEMPROF" "$TESTBIN/prog-host-life" daemon >profiled.out 2>&1
rc=$?
set -e
[ $rc -eq 0 ] || fail "exit status $rc"
cmp -s bare.out profiled.out || fail "output changed"
[ -s "$T/snap.gz" ] || fail "the parent wrote no snapshot"
"$MEMPROF" report "$T/snap.gz" >parent.txt
expect_match 'reason: +_exit' parent.txt
expect_match 'in use at exit: 1,000 bytes in 2 blocks' parent.txt
parent=$(sed -nE 's/^pid: +([0-9]+).*/\1/p' parent.txt)
for _ in $(seq 1 600); do # the daemon outlives the command: wait for its snapshot (60 s at most)
	child=$(ls "$T" | grep -E '^snap\.gz\.[0-9]+$' || true)
	[ -n "$child" ] && break
	sleep 0.1
done
[ -n "$child" ] || { ls "$T"; fail "the daemon wrote no snapshot"; }
"$MEMPROF" report "$T/$child" >child.txt
expect_match "\\(fork child of $parent\\)" child.txt
expect_match 'in use at exit: 1,280 bytes in 6 blocks' child.txt
