#!/usr/bin/env bash
# memprof run --interval and --signal set MEMPROF_INTERVAL and MEMPROF_SIGNAL: periodic and
# on-signal snapshots are announced with the final one (the pattern has no %n: .N before .gz);
# values the library would refuse are usage errors.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
"$MEMPROF" run --interval 50ms --signal USR2 --output "$T/s.gz" -- "$TESTBIN/prog-timeline" run "$T" >out.txt 2>err.txt &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 600); do [ -e "$T/ready" ] && [ -e "$T/s.1.gz" ] && break; sleep 0.1; done
# The program is memprof run's only child.
prog=$(pgrep -P $pid) || fail "no program under memprof run"
kill -USR2 "$prog"
for _ in $(seq 600); do
	for f in "$T"/s.*.gz; do
		"$TESTBIN/snapshot-sections" "$f" 2>/dev/null | grep -q 'reason=signal' && break 2
	done
	sleep 0.1
done
touch "$T/stop"
set +e
wait $pid
rc=$?
set -e
[ $rc -eq 3 ] || { cat err.txt; fail "exit status $rc, expected the program's 3"; }
expect_match '^done growing$' out.txt
expect_match "^memprof: snapshot written to $T/s\\.0\\.gz$" err.txt
expect_match "^memprof: snapshot written to $T/s\\.gz$" err.txt
reasons=$(for f in "$T"/s.*.gz "$T/s.gz"; do "$TESTBIN/snapshot-sections" "$f" | sed -n 's/^meta seq=[0-9]* reason=\([a-z_]*\).*/\1/p'; done | sort | uniq -c)
echo "$reasons" | grep -q ' interval$' || { echo "$reasons"; fail "no interval snapshot"; }
echo "$reasons" | grep -q ' signal$' || { echo "$reasons"; fail "no signal snapshot"; }
echo "$reasons" | grep -q ' 1 exit$' || { echo "$reasons"; fail "not one final snapshot"; }
[ "$(grep -c '^memprof: snapshot written to' err.txt)" -eq "$(ls "$T"/s*.gz | wc -l)" ] ||
	{ cat err.txt; ls "$T"; fail "not every snapshot announced"; }

expect_error "run: --interval wants a duration such as 500ms, 10s, 2m or 1h, not '0'" "$MEMPROF" run --interval 0 -- true
expect_error "run: --interval wants a duration .*, not '10 s'" "$MEMPROF" run --interval '10 s' -- true
expect_error "run: --interval wants a duration .*, not '5d'" "$MEMPROF" run --interval 5d -- true
expect_error "run: --signal wants a signal that can be caught, such as USR2 or RTMIN\\+3, not 'KILL'" "$MEMPROF" run --signal KILL -- true
expect_error "run: --signal wants .*, not 'SIGSEGV'" "$MEMPROF" run --signal SIGSEGV -- true
expect_error "run: --signal wants .*, not 'USR9'" "$MEMPROF" run --signal USR9 -- true
expect_error "run: --signal wants .*, not 'RTMIN\\+999'" "$MEMPROF" run --signal RTMIN+999 -- true
exit 0
