#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A program that dies of a signal leaves a snapshot (reason fatal-signal, labelled with the
# signal) and dies exactly as bare: killed by SIGTERM or SIGHUP while it waits, by SIGPIPE
# when its reader goes, by SIGSEGV in four threads at once (one snapshot). The handlers are
# invisible: sigaction() and the signal() family tell the program what they tell it bare. No
# snapshot where it would not be safe (glibc aborting inside free() on a double free) or
# when MEMPROF_FATAL_SIGNALS=0; a signal ignored when the program started stays ignored; a
# program's own handler runs, and its exit() writes the ordinary final snapshot; a signal that
# arrives while the final snapshot is being written waits for it. A thread with the smallest
# stack dies of its abort(); a SIGTERM that lands inside malloc still leaves a snapshot; a
# second SIGTERM that finds a thread inside the profiler does not hang the program.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-fatal
[ -x "$P" ] || fail "$P is missing (make check builds it)"

# reason_of SNAPSHOT: the report's reason line, without "reason:".
reason_of() { "$MEMPROF" report --no-symbols "$1" | sed -nE 's/^reason: +//p'; }

bare_and_profiled "$T/show.gz" "$P" show
expect_match '^TERM: DFL flags 0$' prof.out
expect_match '^signal\(TERM, DFL\) was ours$' prof.out
expect_match '^SIGQUIT went to the program' prof.out

# Killed while it waits; SIGINT, ignored by the shell for a background job, stays ignored.
for sig in TERM HUP; do
	rm -f "$T/wait.gz"
	MEMPROF_OUTPUT="$T/wait.gz" LD_PRELOAD="$LIBMEMPROF" "$P" wait >wait.out &
	pid=$!
	for _ in $(seq 1 100); do grep -q ready wait.out && break; sleep 0.05; done
	kill -INT $pid
	sleep 0.2
	kill -0 $pid 2>/dev/null || fail "SIGINT, ignored when the program started, killed it"
	kill -$sig $pid
	rc=0
	wait $pid || rc=$?
	[ $rc -eq $((128 + $(kill -l $sig))) ] || fail "killed by SIG$sig: exit status $rc"
	[ -f "$T/wait.gz" ] || fail "no snapshot after SIG$sig"
	check_snapshot "$T/wait.gz"
	[ "$(reason_of "$T/wait.gz")" = "fatal-signal (killed by SIG$sig)" ] ||
		fail "reason: $(reason_of "$T/wait.gz")"
	"$MEMPROF" report --no-symbols "$T/wait.gz" >wait.txt
	grep -q 'in use at exit: [0-9,]* bytes in [4-9] blocks' wait.txt ||
		fail "the three blocks the program holds (and stdout's buffer) are not in use at exit"
done

# The CI gate cannot judge leaks without a scan, and says why; sizes it can check.
rc=0
"$MEMPROF" check "$T/wait.gz" >check.out 2>&1 || rc=$?
[ $rc -eq 2 ] || { cat check.out; fail "check of a fatal-signal snapshot: exit status $rc, expected 2"; }
expect_match 'no leak scan in this snapshot \(the program died of a signal\)' check.out
"$MEMPROF" check --fail-on none "$T/wait.gz" >check.out 2>&1 || { cat check.out; fail "check --fail-on none failed"; }

# SIGPIPE: the reader of its output goes away.
rm -f "$T/pipe.gz"
set +o pipefail
MEMPROF_OUTPUT="$T/pipe.gz" LD_PRELOAD="$LIBMEMPROF" "$P" pipe | head -c 100 >/dev/null
rc=${PIPESTATUS[0]}
set -o pipefail
[ "$rc" -eq 141 ] || fail "pipe: exit status $rc, expected 141 (SIGPIPE)"
check_snapshot "$T/pipe.gz"
[ "$(reason_of "$T/pipe.gz")" = "fatal-signal (killed by SIGPIPE)" ] || fail "reason: $(reason_of "$T/pipe.gz")"

# Four threads fault at once: one complete snapshot, with every thread's block.
for round in 1 2 3; do
	rm -f "$T"/segv.gz*
	run_capture bare env "$P" threads-segv
	run_capture prof env MEMPROF_OUTPUT="$T/segv.gz" LD_PRELOAD="$LIBMEMPROF" "$P" threads-segv
	same_output bare prof
	[ "$(ls "$T"/segv.gz* | wc -l)" -eq 1 ] || { ls -la "$T"; fail "threads-segv: not exactly one file"; }
	check_snapshot "$T/segv.gz"
	[ "$(reason_of "$T/segv.gz")" = "fatal-signal (killed by SIGSEGV)" ] || fail "reason: $(reason_of "$T/segv.gz")"
	"$MEMPROF" report --sort live --no-symbols "$T/segv.gz" >segv.txt
	grep -q 'live 4,006 bytes in 4 blocks' segv.txt ||
		fail "the faulting threads' blocks are missing"
done

# memprof run announces and reports it, and dies of the same signal.
rc=0
(cd "$T" && "$MEMPROF" run --report -- "$P" threads-segv) >run.out 2>&1 || rc=$?
[ $rc -eq 139 ] || { cat run.out; fail "memprof run: exit status $rc, expected 139"; }
expect_match '^memprof: snapshot written to ' run.out
expect_match '^reason: +fatal-signal \(killed by SIGSEGV\)$' run.out
expect_match 'killed by signal 11 \(SIGSEGV\)$' run.out
"$MEMPROF" report --format json "$T/segv.gz" >segv.json
expect_match '"reason": *"fatal-signal"' segv.json
expect_match '"label": *"SIGSEGV"' segv.json

# A SIGTERM taken by another thread while main's exit() writes the final snapshot (a
# million blocks to scan) waits for it: one complete snapshot, never a lost one. Whether the
# process ends first or the signal does depends on timing: either way is as bare.
for round in 1 2; do
	rm -f "$T"/exit.gz*
	rc=0
	MEMPROF_OUTPUT="$T/exit.gz" LD_PRELOAD="$LIBMEMPROF" "$P" term-in-exit >/dev/null 2>&1 || rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 143 ] || fail "term-in-exit: exit status $rc"
	[ -f "$T/exit.gz" ] || { ls -la "$T"; fail "term-in-exit: the final snapshot was lost"; }
	check_snapshot "$T/exit.gz"
	[ "$SNAP_ALLOCS" -gt 1000000 ] || fail "term-in-exit: only $SNAP_ALLOCS allocations"
	[ -z "$(find "$T" -name 'exit.gz.tmp.*')" ] || fail "term-in-exit: temporary file left behind"
done

# A double free: glibc aborts inside free(), in the middle of the profiler's hook: no
# snapshot is safe there, and the program dies as bare.
rm -f "$T"/df.gz*
run_capture bare env "$P" double-free
run_capture prof env MEMPROF_OUTPUT="$T/df.gz" LD_PRELOAD="$LIBMEMPROF" "$P" double-free
same_output bare prof
[ "$(cat prof.rc)" = 134 ] || fail "double free: exit status $(cat prof.rc), expected 134"
[ -z "$(find "$T" -name 'df.gz*')" ] || fail "double free: a snapshot or a partial file was written"

# The program's own handler runs and exits: the ordinary final snapshot.
rm -f "$T/h.gz"
bare_and_profiled "$T/h.gz" "$P" handler-exit
[ "$(cat prof.rc)" = 3 ] || fail "handler-exit: exit status $(cat prof.rc)"
[ "$(reason_of "$T/h.gz")" = exit ] || fail "handler-exit: reason $(reason_of "$T/h.gz")"

# Switched off.
rm -f "$T/off.gz"
MEMPROF_FATAL_SIGNALS=0 MEMPROF_OUTPUT="$T/off.gz" LD_PRELOAD="$LIBMEMPROF" "$P" threads-segv 2>/dev/null && fail "threads-segv did not die"
[ ! -e "$T/off.gz" ] || fail "MEMPROF_FATAL_SIGNALS=0 still wrote a snapshot"

# A thread with the smallest stack aborts: it dies of SIGABRT (the writer has a stack of its
# own), not of an overflow in the writer.
rm -f "$T/small.gz"
run_capture prof env MEMPROF_OUTPUT="$T/small.gz" LD_PRELOAD="$LIBMEMPROF" "$P" small-stack
[ "$(cat prof.rc)" = 134 ] || fail "small-stack: exit status $(cat prof.rc), expected 134 (SIGABRT)"
check_snapshot "$T/small.gz"
[ "$(reason_of "$T/small.gz")" = "fatal-signal (killed by SIGABRT)" ] || fail "reason: $(reason_of "$T/small.gz")"

# Killed from outside while it is inside malloc or free nearly all the time: the signal waits
# for the end of the hook, and every run leaves its snapshot.
for round in 1 2 3 4 5; do
	rm -f "$T/loop.gz" loop.out
	MEMPROF_OUTPUT="$T/loop.gz" LD_PRELOAD="$LIBMEMPROF" "$P" alloc-loop >loop.out &
	pid=$!
	for _ in $(seq 1 100); do grep -q ready loop.out && break; sleep 0.05; done
	kill -TERM $pid
	rc=0
	wait $pid || rc=$?
	[ $rc -eq 143 ] || fail "alloc-loop killed by SIGTERM: exit status $rc"
	[ -f "$T/loop.gz" ] || fail "alloc-loop, round $round: no snapshot (SIGTERM arrived inside malloc?)"
	check_snapshot "$T/loop.gz"
done

# A second SIGTERM reaches a thread inside the profiler (writing memprof_snapshot()s in a
# loop, the snapshot lock held, with a FIFO as the manifest: it once stuck there, and its open
# no longer waits) while the main thread, taken by the first, waits for that lock: the thread
# must not wait for the main thread in turn (it did, for 30 s); the program dies of SIGTERM
# at once, as bare.
mkfifo "$T/manifest.fifo"
MEMPROF_MANIFEST="$T/manifest.fifo" MEMPROF_OUTPUT="$T/sl.gz" LD_PRELOAD="$LIBMEMPROF" "$P" snapshot-loop >sl.out &
pid=$!
for _ in $(seq 1 200); do [ -f "$T/sl.0.gz" ] && break; sleep 0.05; done
[ -f "$T/sl.0.gz" ] || fail "snapshot-loop wrote no snapshot"
kill -TERM $pid # to the main thread, the one waiting in pause()
blocked() { sed -nE 's/^SigBlk:[[:space:]]*//p' "/proc/$pid/task/$pid/status" 2>/dev/null || echo gone; }
for _ in $(seq 1 200); do [ "$(blocked)" != 0000000000000000 ] && break; sleep 0.05; done
kill -TERM $pid 2>/dev/null || true # the main thread blocks it in its handler: to the other one
for _ in $(seq 1 200); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
if kill -0 $pid 2>/dev/null; then
	kill -KILL $pid
	fail "snapshot-loop still alive 10 s after its second SIGTERM"
fi
rc=0
wait $pid || rc=$?
[ $rc -eq 143 ] || fail "snapshot-loop killed by SIGTERM: exit status $rc"
rm -f "$T"/sl.*

# python3 sees the dispositions it sees bare, and a python3 killed by SIGTERM leaves its heap.
PY=/usr/bin/python3 # the real interpreter, not a pyenv shim script
if [ -x $PY ]; then
	cat >sig.py <<'EOF'
import signal, sys
for s in (signal.SIGSEGV, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE, signal.SIGINT):
    print(s.name, signal.getsignal(s))
signal.signal(signal.SIGTERM, lambda *a: sys.exit(5))
signal.raise_signal(signal.SIGTERM)
EOF
	bare_and_profiled "$T/py.gz" env PYTHONMALLOC=malloc $PY sig.py
	[ "$(cat prof.rc)" = 5 ] || fail "python3: exit status $(cat prof.rc)"
	rm -f "$T/py.gz"
	run_capture prof env PYTHONMALLOC=malloc MEMPROF_OUTPUT="$T/py.gz" LD_PRELOAD="$LIBMEMPROF" \
		$PY -c 'import os, signal; x = [str(i) for i in range(10000)]; os.kill(os.getpid(), signal.SIGTERM)'
	[ "$(cat prof.rc)" = 143 ] || fail "python3 killed by SIGTERM: exit status $(cat prof.rc)"
	check_snapshot "$T/py.gz"
	[ "$SNAP_ALLOCS" -gt 10000 ] || fail "python3: only $SNAP_ALLOCS allocations"
fi
[ -z "$(find "$T" -name '*.tmp.*')" ] || fail "temporary file left behind"
exit 0
