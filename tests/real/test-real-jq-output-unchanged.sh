#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# jq on a generated JSON document of a few MB (select, group_by, sort_by, a full
# re-serialisation): the preload changes neither output nor exit status, and the snapshot adds up.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
need jq
need awk
[ -f "$LIBMEMPROF" ] || fail "$LIBMEMPROF is missing (make all)"

awk 'BEGIN {
	printf "[";
	for (i = 0; i < 30000; i++) {
		printf "%s{\"id\":%d,\"name\":\"item-%d\",\"n\":%d,\"tags\":[\"t%d\",\"g%d\"],", \
			(i ? "," : ""), i, i, (i * 7919) % 10007, i % 13, i % 5;
		printf "\"nested\":{\"x\":%d.5,\"y\":[%d,%d,%d],\"note\":\"%s\"}}", \
			i % 101, i, i * 2, i * 3, (i % 2 ? "odd number here" : "even");
	}
	printf "]\n";
}' >doc.json
[ "$(stat -c %s doc.json)" -gt 2000000 ] || fail "generated document too small"

prog='([.[] | select(.n % 7 == 0) | {id, name, t: (.tags | join(","))}] | length),
      (group_by(.n % 10) | map({k: (.[0].n % 10), c: length})),
      (map(.nested.x) | add),
      (sort_by(-.n, .id) | .[0:3] | map(.id)),
      (tojson | length),
      (map(.nested) | tostring | fromjson | length)'
run_capture bare jq -c "$prog" doc.json
run_capture prof profile "$T/snap.%p.gz" jq -c "$prog" doc.json
[ "$(cat bare.rc)" = 0 ] || { cat bare.err; fail "the workload itself is broken: jq exited $(cat bare.rc)"; }
same_output bare prof
check_snapshots 1 100000
