#!/usr/bin/env bash
# memcheck's interior-pointer heuristics (new[] arrays, multiple inheritance, length64,
# std::string's old layout): a block kept only through such a pointer is still reachable, as
# in valgrind --leak-check=full; a plain interior pointer leaves it possibly lost.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/leak-lib.sh"
for m in newarray mi length64 stdstring plain; do
	same_as_memcheck "$TESTBIN/prog-leak-heuristics" "$m"
	case $m in
	plain) want="possible [1-9][0-9]* 1 reachable 0 0" ;;
	*) want="possible 0 0 reachable [1-9][0-9]* 1" ;;
	esac
	grep -Eq "$want" mp.txt || fail "$m: expected '$want' in: $(cat mp.txt)"
done
