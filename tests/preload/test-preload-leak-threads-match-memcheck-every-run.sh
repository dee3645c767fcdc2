#!/usr/bin/env bash
# Threaded leak cases (tests/progs/prog-leak-threads.c): ended threads' leaks, arguments, return
# values and TLS are lost; pointers held only by live threads' registers, stacks, TLS and
# pthread_setspecific slots are roots; a stale pointer below a live thread's stack pointer is
# not. memprof's four LEAK SUMMARY figures equal valgrind --leak-check=full's on the same
# binary, on every one of REPEAT runs (20; make soak runs more). The race cases (a thread
# inside realloc, calloc and free while the exit scan or memprof_leak_check() runs) must
# find nothing lost; what is still reachable there depends on timing in memcheck too (the
# calloc'd block may be live), so only its block count is bounded.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/leak-lib.sh"
REPEAT=${REPEAT:-20}
prog=$TESTBIN/prog-leak-threads
# The program of each case: prog-leak-threads.c's, or prog-leak-cases.c's "register".
prog_of() { [ "$1" = register ] && echo "$TESTBIN/prog-leak-cases" || echo "$prog"; }
lost_only() { cut -d" " -f1-9 "$1"; } # definite, indirect, possible
# The heap the snapshot reports is the heap the scan classified: the blocks in use at exit
# are the four kinds' and the not-counted ones, even while another thread allocates.
adds_up() {
	awk 'function num(s) { gsub(/,/, "", s); return s + 0 }
	/in use at exit:/ { use = num($8) }
	/^ *(definitely|indirectly|possibly) lost:|^ *still reachable:/ { sum += num($6) }
	/^ *not counted:/ { sum += num($6) }
	END { exit !(use == sum) }' report.txt || { cat report.txt; fail "$1: the blocks in use at exit are not those the scan classified"; }
}
# One profiled run in directory r$2, its figures checked; in a subshell, so two can run at once.
one_run() {
	local mode=$1 i=$2
	mkdir -p "r$i" && cd "r$i" || exit 1
	mp_figures mp.txt "$(prog_of "$mode")" "$mode"
	adds_up "$mode run $i"
	case $mode in
	*-race)
		lost_only mp.txt >got.txt
		reachable=$(cut -d' ' -f12 mp.txt)
		[ "$reachable" = 4097 ] || [ "$reachable" = 4098 ] ||
			fail "$mode run $i: $reachable blocks still reachable, not the array's 4,097 (+1 in flight)" ;;
	*) cp mp.txt got.txt ;;
	esac
	if ! diff ../want.txt got.txt >/dev/null; then
		echo "valgrind: $(cat ../vg.txt)"
		echo "memprof:  $(cat mp.txt)"
		cat report.txt
		fail "$mode, run $i of $REPEAT: LEAK SUMMARY differs from memcheck's"
	fi
}
for mode in joined detached cancelled arg retval dead-tls live-stack live-specific live-tls \
	register stale-frame pool realloc-race check-race; do
	vg_figures vg.txt "$(prog_of "$mode")" "$mode"
	case $mode in *-race) lost_only vg.txt >want.txt ;; *) cp vg.txt want.txt ;; esac
	for ((i = 1; i <= REPEAT; i += 2)); do
		(one_run "$mode" "$i") & first=$!
		second=
		if [ $((i + 1)) -le "$REPEAT" ]; then (one_run "$mode" $((i + 1))) & second=$!; fi
		wait "$first" || exit 1
		[ -z "$second" ] || wait "$second" || exit 1
	done
	echo "ok: $mode x$REPEAT -> $(cat r1/mp.txt)"
	rm -rf r*
done
# memprof_leak_check() while the thread reallocates: nothing lost, every time.
MEMPROF_OUTPUT=$PWD/c.gz LD_PRELOAD=$LIBMEMPROF "$prog" check-race >checks.txt
[ "$(grep -c '^memprof_leak_check: 0$' checks.txt)" = 20 ] || { cat checks.txt; fail "memprof_leak_check() found lost bytes while a thread reallocated"; }
echo "ok: 20 leak checks during realloc found 0 lost"
