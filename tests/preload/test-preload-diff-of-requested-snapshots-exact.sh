#!/usr/bin/env bash
# Two memprof_snapshot() calls around known allocations (3 x 1000 bytes kept from diff_grow,
# 2 of diff_shrink's 4 x 500 bytes freed): memprof diff gives exactly those changes, per site
# and in total.
source "$(dirname "$0")/../lib/lib.sh"
profile "$T/d.%n.gz" "$TESTBIN/prog-timeline" diff >out.txt
expect_match '^0 0$' out.txt
"$TESTBIN/snapshot-sections" "$T/d.0.gz" | grep -q '^meta seq=0 reason=request label=before$' || fail "d.0.gz is not 'before'"
"$TESTBIN/snapshot-sections" "$T/d.1.gz" | grep -q '^meta seq=1 reason=request label=after$' || fail "d.1.gz is not 'after'"
"$MEMPROF" diff --frames 1 "$T/d.0.gz" "$T/d.1.gz" >diff.txt
expect_match '^  live bytes: .* \(\+2,000\)$' diff.txt
expect_match '^  live blocks: .* \(\+1\)$' diff.txt
grep -A1 -E '^#[0-9]+ \+3,000 bytes, \+3 blocks: 0 -> 3,000 bytes, 0 -> 3 blocks' diff.txt | grep -q 'diff_grow (prog-timeline.c' ||
	{ cat diff.txt; fail "diff_grow's change is not +3,000 bytes in 3 blocks"; }
grep -A1 -E '^#[0-9]+ -1,000 bytes, -2 blocks: 2,000 -> 1,000 bytes, 4 -> 2 blocks' diff.txt | grep -q 'diff_shrink (prog-timeline.c' ||
	{ cat diff.txt; fail "diff_shrink's change is not -1,000 bytes in 2 blocks"; }
[ "$(grep -c '^#' diff.txt)" -eq 2 ] || { cat diff.txt; fail "other sites changed"; }
exit 0
