#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Loss records in memcheck's words and order: sorted by total bytes, then definite, indirect,
# possible, reachable, then fewer blocks; numbered across every kind ("x of y", glibc's own
# blocks not counted); only the kinds of --show-leak-kinds listed (default definite,possible),
# only the sites --filter keeps; a bad kind set is a one-line usage error.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

mksnap_gz full full.gz
mksnap_gz leak-ties ties.gz
mksnap_gz valid valid.gz
# records REPORT-OPTIONS...: the loss-record lines of the report of full.gz.
records() { "$MEMPROF" report --no-color "$@" >out.txt || fail "report $* failed"; grep 'in loss record' out.txt || true; }

"$MEMPROF" report --no-color --show-leak-kinds=all --frames 1 full.gz >all.txt || fail "report failed"
sed -n '/^LOSS RECORDS:/,/^LEAK SUMMARY:/p' all.txt >section.txt
cat >expected.txt <<'END'
LOSS RECORDS:
6,144 bytes in 6 blocks are still reachable in loss record 1 of 4
    at 0x401234: leaky+0x1234
    ... 2 more frames (--frames)

1,000,000 bytes in 1 blocks are possibly lost in loss record 2 of 4
    at 0x401100: leaky+0x1100
    ... 13 more frames (--frames)

2,000,000 bytes in 2 blocks are indirectly lost in loss record 3 of 4
    at 0x401100: leaky+0x1100
    ... 13 more frames (--frames)

2,004,096 (4,096 direct, 2,000,000 indirect) bytes in 4 blocks are definitely lost in loss record 4 of 4
    at 0x401234: leaky+0x1234
    ... 2 more frames (--frames)

LEAK SUMMARY:
END
diff section.txt expected.txt || fail "loss records differ (left: printed)"
# They come between the heap summary and the leak summary.
[ "$(grep -n '^HEAP SUMMARY:' all.txt | cut -d: -f1)" -lt "$(grep -n '^LOSS RECORDS:' all.txt | cut -d: -f1)" ] ||
	fail "loss records before the heap summary"

# memcheck's default: definitely and possibly lost, numbered as when all are listed.
records full.gz >default.txt
diff default.txt - <<'END' || fail "default kinds differ"
1,000,000 bytes in 1 blocks are possibly lost in loss record 2 of 4
2,004,096 (4,096 direct, 2,000,000 indirect) bytes in 4 blocks are definitely lost in loss record 4 of 4
END
records --show-leak-kinds=indirect full.gz >indirect.txt
[ "$(cat indirect.txt)" = "2,000,000 bytes in 2 blocks are indirectly lost in loss record 3 of 4" ] ||
	{ cat indirect.txt; fail "--show-leak-kinds=indirect"; }
records --show-leak-kinds=reachable,definite full.gz | grep -o 'record . of 4' >rd.txt
[ "$(tr '\n' ' ' <rd.txt)" = "record 1 of 4 record 4 of 4 " ] || { cat rd.txt; fail "--show-leak-kinds=reachable,definite"; }
records --show-leak-kinds=none full.gz >none.txt
[ ! -s none.txt ] || fail "--show-leak-kinds=none listed records"
expect_no_match '^LOSS RECORDS:' out.txt
expect_match '^   definitely lost: 4,096 bytes in 4 blocks$' out.txt
# --filter keeps the sites with a libc frame: trace 1's records only.
records --show-leak-kinds=all --filter libc.so full.gz | grep -o 'record . of 4' >filtered.txt
[ "$(tr '\n' ' ' <filtered.txt)" = "record 1 of 4 record 4 of 4 " ] || { cat filtered.txt; fail "--filter"; }
expect_match '^   still reachable: 6,144 bytes in 6 blocks$' out.txt

# Ties: equal totals go definite, indirect, possible, reachable, then fewer blocks first.
records --show-leak-kinds=all ties.gz >ties.txt
diff ties.txt - <<'END' || fail "order of equal records differs (left: printed)"
40 bytes in 1 blocks are indirectly lost in loss record 1 of 8
99 bytes in 1 blocks are definitely lost in loss record 2 of 8
100 (60 direct, 40 indirect) bytes in 1 blocks are definitely lost in loss record 3 of 8
100 bytes in 1 blocks are possibly lost in loss record 4 of 8
100 bytes in 1 blocks are possibly lost in loss record 5 of 8
100 bytes in 2 blocks are possibly lost in loss record 6 of 8
100 bytes in 2 blocks are still reachable in loss record 7 of 8
200 bytes in 1 blocks are still reachable in loss record 8 of 8
END
grep -A1 'loss record 5 of 8' out.txt | grep -q '^    (no stack trace)$' || fail "record without a stack"
# No leak check, no records.
records --show-leak-kinds=all valid.gz >valid.txt
[ ! -s valid.txt ] || fail "records without a LEAKS section"

for bad in foo definite, ,definite '' all,definite Definite 'definite,,possible' internal; do
	expect_error "report: --show-leak-kinds wants definite, indirect, possible, reachable \(comma-separated\), all or none, not '$bad'$" \
		"$MEMPROF" report --show-leak-kinds="$bad" full.gz
done
expect_error "report: option '--show-leak-kinds' needs an argument" "$MEMPROF" report full.gz --show-leak-kinds
exit 0
