#!/usr/bin/env bash
# Programs that allocate on small stacks run profiled wherever they run bare: swapcontext
# coroutines of 4 to 7.5 KiB, a signal handler on an 8 KiB sigaltstack, 16 KiB threads at a
# modest depth (one, and eight after another, which reuse the profiler's thread states), and
# a coroutine in a fork child. Every stack has a guard page below it. The hooks unwind on a
# stack of their own; before, they needed some 4.5 KiB more than glibc's malloc and these
# died of SIGSEGV. Output and exit status are compared with the bare run's.
source "$(dirname "$0")/../lib/lib.sh"
P=$TESTBIN/prog-small-stacks
cases=()
for kib in 4096 4608 5120 5632 6144 6656 7168 7680; do cases+=("coroutine $kib"); done
cases+=("sigaltstack 8192" "thread 16384 40" "threads 16384 40" "fork 4096")
for c in "${cases[@]}"; do
	rc=0
	timeout -k 2 60 $P $c >bare.out 2>bare.err || rc=$?
	# The sizes are chosen so that the bare program works: otherwise this proves nothing.
	[ $rc -eq 0 ] || fail "$c: the bare run exited $rc"
	prc=0
	timeout -k 2 60 env MEMPROF_OUTPUT="$T/s.%p.gz" LD_PRELOAD=$LIBMEMPROF $P $c >prof.out 2>prof.err || prc=$?
	[ $prc -eq $rc ] || { cat prof.err; fail "$c: exit status $prc profiled, $rc bare"; }
	cmp bare.out prof.out || fail "$c: output differs"
	cmp bare.err prof.err || { cat prof.err; fail "$c: standard error differs"; }
done
# The traces taken on the profiler's stack are the whole stacks, down to the thread's start.
"$MEMPROF" report --frames 60 "$(ls "$T"/s.*.gz | head -1)" >r.txt
expect_match 'at 0x[0-9a-f]+: family \(prog-small-stacks\.c' r.txt
expect_match 'at 0x[0-9a-f]+: chain_a \(prog-small-stacks\.c' r.txt
