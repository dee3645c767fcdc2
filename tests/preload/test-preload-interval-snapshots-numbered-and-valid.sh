#!/usr/bin/env bash
# MEMPROF_INTERVAL: while the program runs, complete snapshots appear, numbered by %n in order,
# each readable; the last one is the final snapshot. Every timeline has increasing times and
# live bytes that fit the program (1 MiB kept and touched, then growing). A bad value: one
# warning, no periodic snapshot, the program as it was.
source "$(dirname "$0")/../lib/lib.sh"
set +e
MEMPROF_INTERVAL=50ms MEMPROF_OUTPUT="$T/s.%n.gz" LD_PRELOAD=$LIBMEMPROF "$TESTBIN/prog-timeline" run "$T" >out.txt &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 600); do [ -f "$T/s.2.gz" ] && break; sleep 0.1; done
touch "$T/stop"
wait $pid
rc=$?
set -e
[ $rc -eq 3 ] || fail "exit status $rc, expected 3"
expect_match '^done growing$' out.txt
n=$(ls "$T"/s.*.gz | wc -l)
[ "$n" -ge 4 ] || { ls "$T"; fail "$n snapshots, expected at least 3 periodic ones and the final"; }
ls "$T" | grep -q tmp && fail "a temporary file was left behind"
prev_end=0
for i in $(seq 0 $((n - 1))); do
	f="$T/s.$i.gz"
	[ -f "$f" ] || { ls "$T"; fail "no s.$i.gz: sequence numbers not consecutive"; }
	"$MEMPROF" report "$f" >"r.$i.txt" || fail "memprof report cannot read s.$i.gz"
	"$TESTBIN/snapshot-sections" "$f" >"s.$i.txt"
	reason=interval
	[ "$i" -eq $((n - 1)) ] && reason=exit
	expect_match "^meta seq=$i reason=$reason label=$" "s.$i.txt"
	# Times strictly increase within the series and from one snapshot's end to the next one's;
	# live bytes never above the point's maximum; counts never decrease.
	prev_end=$(awk -v prev_end="$prev_end" -v file="s.$i.gz" '
		function val(field) { split(field, a, "="); return a[2] + 0 }
		/^point / {
			t = val($2); live = val($3); max = val($4); allocs = val($6); frees = val($7)
			if (n && t <= last_t) { print file ": time " t " after " last_t > "/dev/stderr"; bad = 1 }
			if (live > max) { print file ": live " live " above max " max > "/dev/stderr"; bad = 1 }
			if (n && (allocs < last_allocs || frees < last_frees)) { print file ": counts decrease" > "/dev/stderr"; bad = 1 }
			if (frees > allocs) { print file ": more frees than allocs" > "/dev/stderr"; bad = 1 }
			last_t = t; last_allocs = allocs; last_frees = frees; last_live = live; last_rss = val($5); n++
		}
		END {
			if (!n) { print file ": no timeline" > "/dev/stderr"; exit 1 }
			if (last_t <= prev_end) { print file ": ends at " last_t ", previous at " prev_end > "/dev/stderr"; bad = 1 }
			if (last_live < 1048576 || last_live > 64 * 1048576) { print file ": last live " last_live > "/dev/stderr"; bad = 1 }
			if (last_rss < 1048576) { print file ": RSS " last_rss " below the 1 MiB touched" > "/dev/stderr"; bad = 1 }
			if (bad) exit 1
			print last_t
		}' "s.$i.txt") || { cat "s.$i.txt"; fail "implausible timeline in s.$i.gz"; }
done
# The timeline of the final snapshot covers the run: more than one point.
[ "$(grep -c '^point ' "s.$((n - 1)).txt")" -ge 2 ] || fail "the final timeline has a single point"

rm -f "$T/stop" "$T"/s.*.gz
set +e
( sleep 0.3; touch "$T/stop" ) &
MEMPROF_INTERVAL=10parsecs profile "$T/s.%n.gz" "$TESTBIN/prog-timeline" run "$T" >out2.txt 2>err.txt
rc=$?
set -e
[ $rc -eq 3 ] || fail "exit status $rc with a bad MEMPROF_INTERVAL"
expect_match '^done growing$' out2.txt
[ "$(wc -l <err.txt)" -eq 1 ] || { cat err.txt; fail "expected one warning"; }
expect_match 'MEMPROF_INTERVAL.*10parsecs' err.txt
[ "$(ls "$T"/s.*.gz | wc -l)" -eq 1 ] || { ls "$T"; fail "periodic snapshots despite a bad MEMPROF_INTERVAL"; }
exit 0
