#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof report --leaks (and --sort leaks, its other spelling) prints the header, the HEAP
# SUMMARY, the loss records and the LEAK SUMMARY, and no list or chart of sites: what a CI log
# wants. Its figures are the full report's. --top 0 drops the lists of sites and their chart,
# and keeps the rest. memprof run --leaks prints the same on standard error. A snapshot
# without a leak check says so instead of printing an empty LEAK SUMMARY. In JSON, --leaks
# leaves out the site tables and the peak's sites, and keeps the loss records.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
command -v jq >/dev/null || skip "jq is not installed"
cat >prog.c <<'END'
#include <stdlib.h>
struct node { struct node *next; char pad[24]; };
__attribute__((noinline)) void *lose_list(void)
{
	struct node *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	a->next = b;
	b->next = NULL;
	return a;
}
__attribute__((noinline)) void churn(void)
{
	for (int i = 0; i < 30; i++) {
		void *volatile p = malloc(100);
		free(p);
	}
}
void *kept;
int main(void)
{
	void *volatile lost = lose_list();
	lost = NULL;
	kept = malloc(4000);
	churn();
	return 0;
}
END
cc -std=gnu11 -O1 -g -o prog prog.c || fail "cannot build prog.c"
profile "$T/snap.gz" ./prog || fail "prog failed under the preload"
MEMPROF_LEAK_CHECK=0 profile "$T/nocheck.gz" ./prog || fail "prog failed under the preload"

sites='^(TOP |LIVE BYTES BY SITE|SITES AT THE PEAK|#[0-9]+ live )'
"$MEMPROF" report snap.gz >full.txt
"$MEMPROF" report --leaks snap.gz >leaks.txt
expect_match '^HEAP SUMMARY:' leaks.txt
expect_match '^    in use at exit: 4,064 bytes in 3 blocks$' leaks.txt
expect_match '^64 \(32 direct, 32 indirect\) bytes in 1 blocks are definitely lost in loss record' leaks.txt
expect_match 'lose_list \(prog\.c:5\)' leaks.txt
expect_match '^   definitely lost: 32 bytes in 1 blocks$' leaks.txt
expect_match '^   indirectly lost: 32 bytes in 1 blocks$' leaks.txt
expect_no_match "$sites" leaks.txt
expect_no_match '^(HEAP OVER TIME|ALLOCATION SIZES)' leaks.txt
# The same lines as the full report's, up to the end of its LEAK SUMMARY.
n=$(wc -l <leaks.txt)
head -n "$n" full.txt | cmp -s - leaks.txt || { diff full.txt leaks.txt; fail "--leaks differs from the full report's first part"; }
[ "$n" -lt "$(($(wc -l <full.txt) / 2))" ] || fail "--leaks ($n lines) is not much shorter than the full report"
"$MEMPROF" report --sort leaks snap.gz | cmp -s - leaks.txt || fail "--sort leaks differs from --leaks"

"$MEMPROF" report --top 0 snap.gz >top0.txt
expect_no_match "$sites" top0.txt
expect_match '^LEAK SUMMARY:' top0.txt
expect_match '^ALLOCATION SIZES' top0.txt

"$MEMPROF" run --leaks -o "$T/run.gz" -- ./prog >run.out 2>run.err || fail "memprof run --leaks failed"
[ ! -s run.out ] || fail "memprof run --leaks wrote to standard output"
grep -v '^memprof: snapshot written to' run.err | sed 's/^memprof report of .*/memprof report of X/' >run.txt
expect_match '^   definitely lost: 32 bytes in 1 blocks$' run.txt
expect_no_match "$sites" run.txt

"$MEMPROF" report --leaks nocheck.gz >nocheck.txt
expect_match '^   no leak check: this snapshot was written without one$' nocheck.txt
expect_no_match 'definitely lost' nocheck.txt

"$MEMPROF" report --format json --leaks snap.gz >leaks.json
jq -e '.tables == {} and (.peak == null or (.peak.sites | length) == 0) and
	(.leaks.records | length) >= 1 and .leaks.records[0].kind == "definite"' leaks.json >/dev/null ||
	{ jq . leaks.json | head -40; fail "JSON with --leaks"; }

expect_error "report: --sort wants live, allocs, bytes, temporary, peak or leaks, not 'size'" "$MEMPROF" report --sort size snap.gz
expect_error "report: --top wants a number from 0 to 1000000, not '-1'" "$MEMPROF" report --top -1 snap.gz
exit 0
