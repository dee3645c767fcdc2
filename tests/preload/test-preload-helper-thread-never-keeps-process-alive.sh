#!/usr/bin/env bash
# With MEMPROF_INTERVAL the library runs a helper thread. When main calls pthread_exit, the
# process must still end when its last own thread ends, with status 0, as without the library,
# and write its final snapshot.
source "$(dirname "$0")/../lib/lib.sh"
MEMPROF_INTERVAL=10s MEMPROF_OUTPUT="$T/s.gz" timeout -s KILL 60 env LD_PRELOAD="$LIBMEMPROF" "$TESTBIN/prog-timeline" main-exit "$T" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 600); do [ -e "$T/ready" ] && break; sleep 0.1; done
touch "$T/stop"
set +e
wait $pid
rc=$?
set -e
[ $rc -ne 137 ] || fail "the process did not end when its last thread did (killed by timeout)"
[ $rc -eq 0 ] || fail "exit status $rc, expected 0"
"$TESTBIN/snapshot-sections" "$T/s.gz" >s.txt || fail "no readable final snapshot"
expect_match '^meta seq=0 reason=exit label=$' s.txt
"$MEMPROF" report "$T/s.gz" >r.txt
expect_match '^program: .*/prog-timeline$' r.txt
exit 0
