#!/usr/bin/env bash
# The helper thread does not survive fork: the child starts its own, so that both the parent
# (waiting for the child) and the child write periodic snapshots under their own pids.
source "$(dirname "$0")/../lib/lib.sh"
MEMPROF_INTERVAL=50ms MEMPROF_OUTPUT="$T/s.%p.%n.gz" LD_PRELOAD=$LIBMEMPROF "$TESTBIN/prog-timeline" fork "$T" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$T"' EXIT
pids() { ls "$T" | sed -n 's/^s\.\([0-9]*\)\.[0-9]*\.gz$/\1/p' | sort | uniq -c | awk '$1 >= 2' | wc -l; }
for _ in $(seq 600); do [ "$(pids)" -ge 2 ] && break; sleep 0.1; done
touch "$T/stop"
set +e
wait $pid
rc=$?
set -e
[ $rc -eq 3 ] || fail "exit status $rc, expected the child's 3"
[ "$(pids)" -ge 2 ] || { ls "$T"; fail "periodic snapshots from fewer than two processes"; }
child=$(ls "$T" | sed -n 's/^s\.\([0-9]*\)\.[0-9]*\.gz$/\1/p' | sort -u | grep -v "^$pid$" | head -1)
[ -n "$child" ] || { ls "$T"; fail "no snapshots from the child"; }
for p in $pid $child; do
	f=$T/$(ls "$T" | grep "^s\.$p\.[0-9]*\.gz$" | sort -t. -k3,3n | head -1) # the lowest number
	"$TESTBIN/snapshot-sections" "$f" >s.txt || fail "cannot read $f"
	expect_match '^meta seq=[0-9]+ reason=interval label=$' s.txt
done
exit 0
