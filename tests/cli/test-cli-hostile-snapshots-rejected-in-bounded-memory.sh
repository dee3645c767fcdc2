#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Snapshots no writer can produce (more modules, points or trace ids than libmemprof.so ever
# writes; sections whose lengths add up past the cap on the whole stream; gzip bombs of
# zero-filled modules, traces and timeline points) are rejected by every command that reads
# snapshots, with exit 2 and one line naming the file and the reason, under an address-space
# limit that the reader used to exceed (a 64 KiB bomb of zero-filled modules took 300 MB),
# and with nothing written on stdout (a timeline bomb used to make report --format json
# write 86 MB). A snapshot at the limits is still read and its output stays small.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

LIMIT_KB=196608 # 192 MiB: the old reader needed more for each bomb, memprof itself ~20 MiB
if ! (ulimit -v $LIMIT_KB; "$MEMPROF" --version) >/dev/null 2>&1; then
	skip "memprof cannot run with ulimit -v $LIMIT_KB (sanitizer build?)"
fi

declare -A reason=(
	[modules-over-limit]='corrupt MODULES section: 8193 modules \(limit 8192\)$'
	[timeline-over-limit]='corrupt TIMELINE section: 1026 points \(limit 1025\)$'
	[trace-id-over-limit]='corrupt TRACES section: trace id 16777216 is out of range \(limit 16777215\)$'
	[peak-more-than-traces]='corrupt PEAK section: 5 entries, more than 1 per trace \(4\)$'
	[unknown-past-total]='section of unknown type 206 of 1073741824 bytes takes the snapshot past the 1073741824 bytes allowed in all$'
	[bomb-modules]='MODULES section of 67108864 bytes is larger than the 34373636 bytes allowed$'
	[bomb-timeline]='TIMELINE section of 48000004 bytes is larger than the 65536 bytes allowed$'
	[bomb-traces]='corrupt TRACES section: trace id 0 appears twice$'
)

# bounded CMD...: CMD under the address-space limit and a generous timeout (a hang fails
# the test; the limits are not timings).
bounded() { (ulimit -v $LIMIT_KB; exec timeout 120 "$@"); }

mksnap_gz series-1 s1.gz
mksnap_gz series-2 s2.gz
mksnap_gz valid good.gz
n=0
for c in "${!reason[@]}"; do
	mksnap_gz "$c" "$c.gz"
	# A bomb is small on disk: that is the point.
	[ "$(wc -c <"$c.gz")" -lt 200000 ] || fail "$c.gz is $(wc -c <"$c.gz") bytes"
	r="$c\\.gz: ${reason[$c]}"
	expect_error "$r" bounded "$MEMPROF" report "$c.gz"
	expect_error "$r" bounded "$MEMPROF" report --format json "$c.gz"
	expect_error "$r" bounded "$MEMPROF" check "$c.gz"
	expect_error "$r" bounded "$MEMPROF" diff good.gz "$c.gz"
	expect_error "$r" bounded "$MEMPROF" diff "$c.gz" "$c.gz"
	expect_error "$r" bounded "$MEMPROF" trend s1.gz s2.gz "$c.gz"
	for f in folded massif json; do
		expect_error "$r" bounded "$MEMPROF" export --format $f "$c.gz"
	done
	n=$((n + 1))
done

# At the limits: 1025 points are read, and the output grows with them, not beyond.
"$MKSNAP" timeline-at-limit | gzip -c >edge.gz
bounded "$MEMPROF" report --format json edge.gz >edge.json || fail "1025 points rejected"
[ "$(grep -c '"time_ns"' edge.json)" -eq 1025 ] || fail "report --format json does not list 1025 points"
[ "$(wc -c <edge.json)" -lt 400000 ] || fail "report --format json of 1025 points wrote $(wc -c <edge.json) bytes"
bounded "$MEMPROF" export --format massif edge.gz >edge.massif || fail "export of 1025 points failed"
[ "$(wc -c <edge.massif)" -lt 400000 ] || fail "export --format massif of 1025 points wrote $(wc -c <edge.massif) bytes"
bounded "$MEMPROF" report edge.gz >edge.txt || fail "report of 1025 points failed"
[ "$(wc -c <edge.txt)" -lt 100000 ] || fail "report of 1025 points wrote $(wc -c <edge.txt) bytes"

# 8192 loads of one file (the most the writer records), a trace in each: the file is opened
# once for all of them (once per load took 1.1 GB and failed under the limit), and each
# frame is named from it as the first load's would be.
if command -v nm >/dev/null; then
	main=$(nm "$MKSNAP" | awk '$3 == "main" { print $1 }')
	[ -n "$main" ] || fail "no main in $MKSNAP"
	"$MKSNAP" modules-repeated "$MKSNAP" $((0x$main + 1)) | gzip -c >repeated.gz
	bounded "$MEMPROF" export --format folded repeated.gz >repeated.folded ||
		fail "export of 8192 loads of one file failed under ulimit -v $LIMIT_KB"
	[ "$(cat repeated.folded)" = "main 131072" ] || { cat repeated.folded; fail "8192 loads not named main"; }
	bounded "$MEMPROF" report --top 3 repeated.gz >repeated.txt || fail "report of 8192 loads failed"
	expect_match '^    at 0x10000201b?[0-9a-f]*: main \(mksnap\.c:[0-9]+\)$' repeated.txt
else
	echo "no nm: repeated modules not checked"
fi
echo "$n hostile snapshots rejected by every command"
