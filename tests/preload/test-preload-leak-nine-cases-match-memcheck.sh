#!/usr/bin/env bash
# The nine reachability cases of memcheck's manual (start and interior pointers, through
# one or two blocks, from a global root or from nowhere): memprof's exit scan gives the same
# four LEAK SUMMARY figures as valgrind --leak-check=full on the same binary.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/leak-lib.sh"
for c in 1 2 3 4 5 6 7 8 9; do
	same_as_memcheck "$TESTBIN/prog-leak-cases" "case$c"
done
