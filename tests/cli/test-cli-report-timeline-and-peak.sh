#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof report draws the TIMELINE section as a heap over time chart (peak marked, time axis
# with units, within 80 columns; one point and no point give sensible output) and lists the
# PEAK section's sites with their stacks, noting a capture below TOTALS' peak; --sort peak,
# --top, --frames and --filter apply to that list; the JSON output carries both sections. A
# snapshot without the sections prints neither.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
export TZ=UTC
command -v jq >/dev/null || skip "jq is not installed"

mksnap_gz full full.gz
"$MEMPROF" report --sort peak --frames 3 full.gz >out.txt
sed -n '/^TOP SITES AT THE PEAK:/,/^LIVE BYTES BY SITE:/p' out.txt >peak.txt
cat >expected-peak.txt <<'END'
TOP SITES AT THE PEAK:
peak captured at 1.000 s: 3,400,000 bytes in 856 blocks
note: 100,000 bytes below the highest peak (3,500,000 bytes at 1.000 s): a new
      capture needs the heap to grow by a margin

#1 3,000,000 bytes in 3 blocks (88.2% of the peak), live now 3,000,000 bytes
    at 0x401100: leaky+0x1100
    at 0x401110: leaky+0x1110
    at 0x401120: leaky+0x1120
    ... 11 more frames (--frames)

#2 379,904 bytes in 371 blocks (11.2% of the peak), live now 10,240 bytes
    at 0x401234: leaky+0x1234
    at 0x7f0000001100: libc.so.6+0x1100
    at 0x401000: leaky+0x1000

#3 20,096 bytes in 482 blocks (0.6% of the peak), live now 0 bytes
    at 0x401500: leaky+0x1500
    at 0xdeadbeef: ???

LIVE BYTES BY SITE:
END
diff -u expected-peak.txt peak.txt || fail "peak list differs"
sed -n '/^HEAP OVER TIME:/,/^$/p' out.txt >chart.txt
cat >expected-chart.txt <<'END'
HEAP OVER TIME:
  # live bytes (. less than half a row), : highest since the previous point,
  - RSS, @ peak
   7.6 MiB |                                          ---------------------
           |                                                               -
           |
           |                     ---------------------
           |
           |
   3.8 MiB |    -----------------
           |                                          @#####################
           |                                          ######################
           |                     ###########################################
           |                     ###########################################
           |    ############################################################
       0 B +------------------------------------------^---------------------
            0                            0.75 s                        1.5 s
  5 points; peak (^) 3,500,000 bytes at 1 s

END
diff -u expected-chart.txt chart.txt || fail "heap over time chart differs"
awk 'length($0) > 80 { print; bad = 1 } END { exit bad }' peak.txt chart.txt || fail "a line is wider than 80 columns"

# The capture at TOTALS' peak has no note; --sort peak shows that list alone, --top 1 one
# site, --filter only matching sites.
mksnap_gz peak-exact exact.gz
"$MEMPROF" report --sort peak --top 1 --frames 1 exact.gz >exact.txt
expect_no_match '^note:' exact.txt
[ "$(grep -E '^(TOP|LIVE|HEAP OVER|ALLOCATION)' exact.txt | tr '\n' '|')" = \
  "TOP SITES AT THE PEAK:|LIVE BYTES BY SITE:|HEAP OVER TIME:|ALLOCATION SIZES (all sites):|" ] ||
	fail "--sort peak shows other lists"
expect_match '^#1 3,000,000 bytes in 3 blocks \(85\.7% of the peak\), live now 3,000,000 bytes$' exact.txt
expect_no_match '^#2 ' exact.txt
expect_match '^\.\.\. 2 more sites \(--top\)$' exact.txt
"$MEMPROF" report --sort peak --filter libc.so.6 full.gz >filter.txt
[ "$(grep -c '^#' filter.txt)" -eq 1 ] || fail "--filter libc.so.6 should keep one peak site"
expect_match '^#1 379,904 bytes in 371 blocks' filter.txt
"$MEMPROF" report --sort live full.gz >live.txt
expect_no_match 'TOP SITES AT THE PEAK' live.txt

# One point: one column, at its time; no point: said so.
mksnap_gz timeline-one-point one.gz
"$MEMPROF" report one.gz | sed -n '/^HEAP OVER TIME:/,/^$/p' >one.txt
[ "$(grep -c '#' one.txt)" -eq 6 ] || fail "one point should fill one column of 5 rows (plus the legend)"
expect_no_match '^ +\| {0,62}[#.]' one.txt
expect_match '^ +\| {63}#$' one.txt
expect_match '^  1 point; peak' one.txt
mksnap_gz timeline-empty empty.gz
"$MEMPROF" report empty.gz | sed -n '/^HEAP OVER TIME:/,/^$/p' >empty.txt
expect_match '^    \(no points\)$' empty.txt

# Time labels in plain digits: %.3g wrote a run of 999.7 ms as "1e+03 ms".
mksnap_gz timeline-999ms short.gz
"$MEMPROF" report short.gz | sed -n '/^HEAP OVER TIME:/,/^$/p' >short.txt
expect_no_match '[0-9]e[+-]?[0-9]' short.txt
expect_match '^ +0 +500 ms +1000 ms$' short.txt
expect_match '^  5 points; peak \(\^\) 3,500,000 bytes at 1000 ms$' short.txt

# Without the sections (an older writer): neither part.
mksnap_gz valid valid.gz
"$MEMPROF" report valid.gz >valid.txt
expect_no_match 'HEAP OVER TIME|AT THE PEAK' valid.txt
"$MEMPROF" report --sort peak valid.gz >valid-peak.txt
expect_match '^    \(the snapshot has no PEAK section\)$' valid-peak.txt

# JSON: both sections, the peak's sites among "sites".
"$MEMPROF" report --format json --top 2 full.gz >r.json
jq -e '.timeline | length == 5 and .[2].time_ns == 1000000000 and .[2].max_live_bytes == 3500000 and
	.[4].rss_bytes == 7500000' r.json >/dev/null || fail "JSON timeline"
jq -e '.peak | .peak_bytes == 3400000 and .peak_time_ns == 1000000000 and .total_sites == 3 and
	(.sites | map(.id)) == [3, 1] and .sites[1].live_bytes == 379904 and .sites[1].live_blocks == 371' \
	r.json >/dev/null || fail "JSON peak"
"$MEMPROF" report --format json --sort peak --top 3 full.gz >p.json
jq -e '.tables == {} and (.sites | map(.id)) == [1, 2, 3]' p.json >/dev/null || fail "JSON --sort peak"
"$MEMPROF" report --format json valid.gz >v.json
jq -e '.timeline == null and .peak == null' v.json >/dev/null || fail "JSON without the sections"
expect_error "report: --sort wants live, allocs, bytes, temporary, peak or leaks, not 'pk'" "$MEMPROF" report --sort pk full.gz
