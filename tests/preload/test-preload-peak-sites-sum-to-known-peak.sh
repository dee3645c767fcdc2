#!/usr/bin/env bash
# The PEAK section of a program with a known peak (10 x 1 MiB from one site, 5 x 1 MiB from
# another, then all freed): the two sites with their exact bytes and blocks, summing to the
# section's peak_bytes, which is the peak of TOTALS; the timeline's maximum saw it too.
source "$(dirname "$0")/../lib/lib.sh"
profile "$T/snap.gz" "$TESTBIN/prog-timeline" peak >out.txt
expect_match '^done$' out.txt
"$TESTBIN/snapshot-sections" "$T/snap.gz" >s.txt
MiB=1048576
grep -q "^site trace=[0-9]* live_bytes=$((10 * MiB)) live_blocks=10$" s.txt || { cat s.txt; fail "no site with 10 x 1 MiB"; }
grep -q "^site trace=[0-9]* live_bytes=$((5 * MiB)) live_blocks=5$" s.txt || { cat s.txt; fail "no site with 5 x 1 MiB"; }
awk -v want=$((15 * MiB)) '
	/^totals/ { split($5, a, "="); totals_peak = a[2] }
	/^peak / { split($2, a, "="); peak = a[2] }
	/^site / { split($3, a, "="); sum += a[2] }
	/^point / { split($4, a, "="); if (a[2] > maxpoint) maxpoint = a[2] }
	END {
		if (peak != sum) { print "sites sum to " sum ", peak_bytes is " peak; exit 1 }
		if (peak < want || peak > want + 65536) { print "peak_bytes " peak ", expected 15 MiB and a little"; exit 1 }
		if (peak != totals_peak) { print "PEAK says " peak ", TOTALS " totals_peak; exit 1 }
		if (maxpoint != totals_peak) { print "timeline maximum " maxpoint ", peak " totals_peak; exit 1 }
	}' s.txt || { cat s.txt; fail "peak figures disagree"; }
"$MEMPROF" report "$T/snap.gz" >r.txt || fail "memprof report cannot read the snapshot"
exit 0
