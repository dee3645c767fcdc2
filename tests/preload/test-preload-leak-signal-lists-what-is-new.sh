#!/usr/bin/env bash
# MEMPROF_LEAK_SIGNAL asks a running daemon for a leak check: each signal writes a snapshot
# with a leak scan, taken by the profiler's helper thread while the program waits in read().
# `memprof report --since EARLIER LATER` lists only the loss records that are new or grew,
# with memcheck's (+N) deltas (its leak_check increased). The whole run is under a seccomp
# filter that kills the process at any ptrace(2) call (tests/progs/prog-no-ptrace.c): the scan
# stops threads from inside, as it must in a container. Under a stricter filter that also
# refuses process_vm_readv, the scan reads memory directly while the threads are stopped, and
# threaded programs still get memcheck's figures.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/leak-lib.sh"
prog=$TESTBIN/prog-leak-daemon
# wait_for FILE: the helper writes it a moment after the signal.
wait_for() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; fail "no $1 after the signal"; }
coproc D { exec "$TESTBIN/prog-no-ptrace" env MEMPROF_OUTPUT="$PWD/d.gz" MEMPROF_LEAK_SIGNAL=USR2 \
	LD_PRELOAD="$LIBMEMPROF" "$prog" 2>err.txt; }
pid=$D_PID
ask() { echo "$1" >&"${D[1]}"; read -r -t 20 answer <&"${D[0]}" || fail "no answer to '$1'"; [ "$answer" = ok ] || fail "'$1' answered '$answer'"; }
ask "leak 3"
ask "keep 2"
kill -USR2 "$pid"
wait_for d.0.gz
ask "more 4"
ask "leak 2"
ask "keep 1"
kill -USR2 "$pid"
wait_for d.1.gz
echo quit >&"${D[1]}"
wait "$pid" || { cat err.txt; fail "the daemon did not exit 0"; }
[ -s d.gz ] || fail "no exit snapshot"
# At exit, memcheck's figures for these commands (its 272-byte "possibly lost" thread DTV
# is glibc's own, not counted: see tests/lib/leak-lib.sh).
"$MEMPROF" report d.gz >exit.txt
expect_match '^   definitely lost: 1,300 bytes in 9 blocks$' exit.txt
expect_match '^   still reachable: 900 bytes in 3 blocks$' exit.txt

"$MEMPROF" report d.0.gz >first.txt
expect_match '^reason: +leak-check' first.txt
expect_match '^   definitely lost: 300 bytes in 3 blocks$' first.txt
expect_match '^   still reachable: 600 bytes in 2 blocks$' first.txt
"$MEMPROF" report --show-leak-kinds=all --since d.0.gz d.1.gz >since.txt
expect_match '^500 \(\+200\) bytes in 5 \(\+2\) blocks are definitely lost in loss record' since.txt
expect_match '^800 \(\+800\) bytes in 4 \(\+4\) blocks are definitely lost in loss record' since.txt
expect_match '^900 \(\+300\) bytes in 3 \(\+1\) blocks are still reachable in loss record' since.txt
expect_match '^   definitely lost: 1,300 \(\+1,000\) bytes in 9 \(\+6\) blocks$' since.txt
expect_match '^   still reachable: 900 \(\+300\) bytes in 3 \(\+1\) blocks$' since.txt
[ "$(grep -c 'in loss record' since.txt)" = 3 ] || { cat since.txt; fail "records that did not grow were listed"; }
expect_match 'leak \(prog-leak-daemon.c' since.txt
# A second check with nothing new lists no record.
"$MEMPROF" report --since d.1.gz d.1.gz >same.txt
expect_no_match 'in loss record' same.txt
expect_match '^   definitely lost: 1,300 \(\+0\) bytes in 9 \(\+0\) blocks$' same.txt
# Only two leak checks of one process, the earlier first.
"$MEMPROF" report --since d.1.gz d.0.gz >/dev/null 2>bad.txt && fail "--since took a later snapshot"
expect_match 'earlier snapshot first' bad.txt
MEMPROF_OUTPUT=$PWD/other.gz LD_PRELOAD=$LIBMEMPROF "$prog" </dev/null >/dev/null
"$MEMPROF" report --since other.gz d.1.gz >/dev/null 2>bad.txt && fail "--since took another process's snapshot"
expect_match 'same process' bad.txt
for mode in joined live-stack live-tls stale-frame pool; do
	vg_figures vg.txt "$TESTBIN/prog-leak-threads" "$mode"
	mp_figures mp.txt "$TESTBIN/prog-no-ptrace" --deny-vm-read env LD_PRELOAD="$LIBMEMPROF" "$TESTBIN/prog-leak-threads" "$mode"
	diff vg.txt mp.txt >/dev/null || { echo "valgrind: $(cat vg.txt)"; echo "memprof:  $(cat mp.txt)"; cat mp.err; fail "$mode without process_vm_readv: not memcheck's figures"; }
done
echo "ok: leak checks on a signal, with what is new since the last; no ptrace, nor process_vm_readv, needed"
