#!/usr/bin/env bash
# A fork child writes its own snapshot, named with its own pid, holding its own leak; the
# parent's snapshot does not have the child's allocations.
source "$(dirname "$0")/../lib/lib.sh"
profile "$T/snap.%p.gz" "$TESTBIN/prog-process-life" fork || fail "exit status changed"
n=$(ls "$T"/snap.*.gz | wc -l)
[ "$n" -eq 2 ] || { ls -la "$T"; fail "expected 2 snapshots (parent, child), found $n"; }
found_child=0
for f in "$T"/snap.*.gz; do
	"$MEMPROF" report --sort live "$f" >r.txt
	if grep -q 'parent\|fork' r.txt && grep -Eq 'live 3,000 bytes in 3 blocks' r.txt; then found_child=1; fi
done
[ $found_child -eq 1 ] || { cat r.txt; fail "no snapshot shows the child's 3 x 1000 bytes leak"; }
