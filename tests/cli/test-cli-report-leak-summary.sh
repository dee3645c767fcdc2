#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A snapshot with a LEAKS section gets memcheck's LEAK SUMMARY: each kind's bytes and blocks
# summed over its loss records, glibc's own blocks set apart, and a warning when the scan
# could not stop every thread, and memcheck's hint when reachable blocks are not listed; a
# snapshot without the section gets no LEAK SUMMARY.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

mksnap_gz full full.gz
"$MEMPROF" report --no-color full.gz >out.txt || fail "report of the full snapshot failed"
sed -n '/^LEAK SUMMARY:/,/^$/p' out.txt >summary.txt
cat >expected.txt <<'END'
LEAK SUMMARY:
   definitely lost: 4,096 bytes in 4 blocks
   indirectly lost: 2,000,000 bytes in 2 blocks
     possibly lost: 1,000,000 bytes in 1 blocks
   still reachable: 6,144 bytes in 6 blocks
        suppressed: 0 bytes in 0 blocks
  not counted: 8 bytes in 1 blocks (glibc's and ld.so's own)
Reachable blocks (those to which a pointer was found) are not shown.
To see them, rerun with: --show-leak-kinds=all
END
diff <(sed '/^$/d' summary.txt) expected.txt || fail "LEAK SUMMARY differs (left: printed)"
# With every kind listed there is nothing to hint at.
"$MEMPROF" report --no-color --show-leak-kinds=all full.gz >all.txt || fail "report --show-leak-kinds=all failed"
expect_match '^        suppressed: 0 bytes in 0 blocks$' all.txt
expect_no_match 'are not shown' all.txt
expect_match "^  not counted: 8 bytes in 1 blocks \\(glibc's and ld.so's own\\)$" out.txt
expect_no_match 'not every thread' out.txt

# The same loss records from a scan that could not stop every thread.
mksnap_gz leak-threads-running running.gz
"$MEMPROF" report --no-color running.gz >running.txt || fail "report failed"
expect_match '^warning: not every thread could be stopped during the scan' running.txt
mksnap_gz valid valid.gz
"$MEMPROF" report --no-color valid.gz >valid.txt || fail "report of the valid snapshot failed"
expect_no_match 'LEAK SUMMARY' valid.txt
exit 0
