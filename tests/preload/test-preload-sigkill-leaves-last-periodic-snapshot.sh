#!/usr/bin/env bash
# A process killed with SIGKILL writes nothing more, but every periodic snapshot it wrote is
# complete (written to a temporary file and renamed): the last one reads as a valid snapshot.
source "$(dirname "$0")/../lib/lib.sh"
MEMPROF_INTERVAL=50ms MEMPROF_OUTPUT="$T/s.%n.gz" LD_PRELOAD=$LIBMEMPROF "$TESTBIN/prog-timeline" run "$T" >out.txt &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 600); do [ -f "$T/s.2.gz" ] && break; sleep 0.1; done
kill -KILL $pid
set +e
wait $pid
rc=$?
set -e
[ $rc -eq 137 ] || fail "exit status $rc, expected death by SIGKILL (137)"
[ -f "$T/s.2.gz" ] || { ls "$T"; fail "no periodic snapshots before the kill"; }
last=$(ls "$T" | sed -n 's/^s\.\([0-9]*\)\.gz$/\1/p' | sort -n | tail -1)
for f in "$T"/s.*.gz; do
	"$MEMPROF" report "$f" >r.txt || fail "memprof report cannot read $f"
done
"$TESTBIN/snapshot-sections" "$T/s.$last.gz" >s.txt
expect_match "^meta seq=$last reason=interval label=$" s.txt
expect_match '^point ' s.txt
exit 0
