#!/usr/bin/env bash
# A lost cycle is one definitely lost block and the rest indirect; a lost tree is its root
# definitely lost and every node below it indirect; reachable ones are still reachable:
# the same four figures as valgrind --leak-check=full.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/leak-lib.sh"
same_as_memcheck "$TESTBIN/prog-leak-cases" cycle
grep -q "definite 48 1 indirect 96 2" mp.txt || fail "a lost 3-cycle of 48-byte blocks is 1 definite + 2 indirect"
same_as_memcheck "$TESTBIN/prog-leak-cases" tree
grep -q "definite 48 1 indirect 672 14" mp.txt || fail "a lost 15-node tree is 1 definite + 14 indirect"
