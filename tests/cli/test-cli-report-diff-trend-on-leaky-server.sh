#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The time commands on real periodic snapshots of samples/leaky-server: the report of the
# last one draws the heap over time from its timeline and puts the response cache (which
# held most of the heap before it was dropped) first at the peak; memprof diff of the first
# and last snapshots lists the cache as shrunk and the upload leak as grown, and its
# per-site changes add up exactly to the change of the totals; memprof trend --format json
# names copy_upload_metadata first, with live bytes that never fall.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
command -v jq >/dev/null || skip "jq is not installed"

MEMPROF_INTERVAL=250ms profile "$T/srv.%n.gz" "$SAMPLES/leaky-server" 3 >server.out ||
	fail "leaky-server failed under the preload"
n=$(ls srv.*.gz | wc -l)
[ "$n" -ge 4 ] || fail "only $n snapshots written"
last=srv.$((n - 1)).gz

"$MEMPROF" report --sort peak --top 1 --frames 6 "$last" >report.txt
sed -n '/^HEAP OVER TIME:/,/^$/p' report.txt >chart.txt
expect_match '^  [0-9]+ points; peak \(\^\) [0-9,]+ bytes at ' chart.txt
expect_match '^ +0 B \+-*\^-*$' chart.txt
awk 'length($0) > 80 { print; bad = 1 } END { exit bad }' chart.txt || fail "chart wider than 80 columns"
sed -n '/^#1 /,/^$/p' report.txt >peak1.txt
expect_match 'cache_store \(leaky-server\.c:[0-9]+\)' peak1.txt

"$MEMPROF" diff --frames 6 srv.0.gz "$last" >diff.txt
sed -n '/^#1 /,/^$/p' diff.txt >diff1.txt
expect_match '^#1 -[0-9,]+ bytes' diff1.txt
expect_match 'cache_store' diff1.txt
"$MEMPROF" diff --format json --top 1000000 srv.0.gz "$last" >diff.json
jq -e '.sites | map(select(.frames | map(.function) | index("copy_upload_metadata"))) |
	length == 1 and .[0].status == "grew" and .[0].live_bytes_change > 0' diff.json >/dev/null ||
	fail "diff: the upload leak did not grow"
jq -e '(.sites | map(.live_bytes_change) | add) == .totals.live_bytes_change and
	(.sites | map(.live_blocks_change) | add) == .totals.live_blocks_change' diff.json >/dev/null ||
	fail "diff: the site changes do not add up to the change of the totals"

"$MEMPROF" trend --format json --frames 8 'srv.*.gz' >trend.json
jq -e --argjson n "$n" '(.snapshots | length) == $n and
	(.suspects[0].frames | map(.function) | index("copy_upload_metadata")) != null and
	(.suspects[0].live_bytes as $v | [range(1; $v | length) | $v[.] >= $v[. - 1]] | all) and
	.suspects[0].bytes_per_second > 0' trend.json >/dev/null || fail "trend: the first suspect"
