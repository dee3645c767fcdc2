#!/usr/bin/env bash
# exit() while 3 threads keep allocating from 60 call sites: the snapshot's totals are the sum
# of its per-site figures (each counter is read once per snapshot).
source "$(dirname "$0")/../lib/lib.sh"
command -v jq >/dev/null || skip "jq is not installed"
for i in 1 2 3; do
	profile "$T/snap$i.gz" "$TESTBIN/prog-process-life" busy-exit || fail "exit status changed"
	"$MEMPROF" report --no-symbols --format json --top 1000000 "$T/snap$i.gz" >r.json
	jq -e '([.sites[].allocs] | add) == .totals.allocs and ([.sites[].frees] | add) == .totals.frees
		and ([.sites[].bytes_allocated] | add) == .totals.bytes_allocated' r.json >/dev/null \
		|| { jq -c '.totals, ([.sites[].allocs] | add)' r.json; fail "totals differ from the sum of the sites (run $i)"; }
done
