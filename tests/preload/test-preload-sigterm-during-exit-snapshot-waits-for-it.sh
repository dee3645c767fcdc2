#!/usr/bin/env bash
# A SIGTERM that arrives while the final snapshot is written (a process with a million live
# blocks, signalled once the snapshot is all but renamed into place; a shim preloaded before
# the library holds the rename until the signal is sent) waits for the snapshot, which is left
# complete, and then the process ends as it would bare at that point:
#   after _exit(0): bare, the process is gone, status 0, whatever handler it has;
#   in exit(0): bare, the signal finds it in exit(): it dies of SIGTERM, or its own handler
#   runs (here _exit(1)).
# The same with three more threads, on one of which the process-directed signal may land.
source "$(dirname "$0")/../lib/lib.sh"
cc -shared -fPIC -O1 -o "$T/stall.so" "$TOP/tests/data/stall-rename.c" -ldl
P=$TESTBIN/prog-host-life
mkfifo "$T/fifo" "$T/go"

# signalled NAME EXPECTED_STATUS ARGS...: profiled, SIGTERM while the snapshot is written.
signalled() {
	local name=$1 want=$2 snap=$T/$1.gz pid rc=0 line=
	shift 2
	env STALL_TARGET="$snap" STALL_FIFO="$T/fifo" STALL_GO="$T/go" MEMPROF_OUTPUT="$snap" \
		LD_PRELOAD="$T/stall.so:$LIBMEMPROF" "$P" "$@" >"$T/$name.out" &
	pid=$!
	read -t 120 -r line <"$T/fifo" || { kill -KILL $pid; fail "$name: the snapshot was never renamed"; }
	kill -TERM $pid
	# Lets the rename go on; a process the signal killed never opens the FIFO again.
	timeout 20 bash -c ': >"$1"' - "$T/go" || true
	wait $pid || rc=$?
	[ "$rc" = "$want" ] || fail "$name ($*): exit status $rc, bare would give $want"
	[ "$(cat "$T/$name.out")" = ready ] || fail "$name: output changed"
	[ -s "$snap" ] || fail "$name: no snapshot"
	"$MEMPROF" report "$snap" >"$T/$name.txt" || fail "$name: memprof report cannot read the snapshot"
	expect_match 'in use at exit: 24,0[0-9,]+ bytes in 1,000,0[0-9]{2} blocks' "$T/$name.txt"
	ls "$T" | grep -q '\.tmp\.' && fail "$name: a temporary file was left"
	echo "$name: status $rc, snapshot complete"
}

# What bare does when nothing signals it: status 0, the same output.
bare_out=$(timeout 60 "$P" million _exit) || fail "bare run failed"
[ "$bare_out" = ready ] || fail "bare output is $bare_out"

for threads in 0 3; do
	signalled underscore-$threads 0 million _exit - $threads
	signalled underscore-handler-$threads 0 million _exit handler $threads
	signalled exit-$threads 143 million exit - $threads
	signalled exit-handler-$threads 1 million exit handler $threads
done
expect_match 'reason: +_exit' "$T/underscore-0.txt"
expect_match 'reason: +exit' "$T/exit-0.txt"
