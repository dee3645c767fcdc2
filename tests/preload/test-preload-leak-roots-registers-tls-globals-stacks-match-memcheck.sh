#!/usr/bin/env bash
# Where a pointer can be: only in another (running) thread's register, only in a __thread
# variable of this or of another thread, only in a global, or only in a stack frame that has
# returned (below the stack pointer: not a root, so the block is lost). Each gives the same
# four figures as valgrind --leak-check=full, and the scan stopped every thread.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/leak-lib.sh"
for m in register tls thread-tls global dead-frame; do
	same_as_memcheck "$TESTBIN/prog-leak-cases" "$m"
	expect_no_match "not every thread could be stopped" report.txt
	# The figures that make each case meaningful, beyond agreeing with memcheck:
	case $m in
	register) want="reachable 200 1" ;;   # the block held only in r12 of a spinning thread
	tls | thread-tls) want="reachable 300 1" ;;
	global) want="definite 600 1 indirect 0 0 possible 0 0 reachable 500 1" ;;
	dead-frame) want="definite 400 1" ;;  # below the stack pointer is not a root
	esac
	grep -q "$want" mp.txt || fail "$m: expected '$want' in: $(cat mp.txt)"
done
