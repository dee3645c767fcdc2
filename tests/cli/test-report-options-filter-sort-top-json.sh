#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof report's options on a real snapshot: --filter keeps the sites whose frames name the
# pattern (function, file or module), --sort shows one list, --top limits each list and the
# chart, --no-color and a pipe give no escape sequences, and --format json is valid JSON
# (checked with jq) with the same numbers as the text report; bad values are usage errors.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
command -v jq >/dev/null || skip "jq is not installed"
cat >prog.c <<'END'
#include <stdlib.h>
__attribute__((noinline)) void *alpha_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void *beta_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void gamma_churn(void)
{
	for (int i = 0; i < 20; i++) {
		void *volatile p = malloc(40);
		free(p);
	}
}
int main(void)
{
	/* volatile: one call site, not an unrolled loop with five. */
	for (volatile int i = 0; i < 5; i++)
		alpha_site(1000);
	beta_site(3000);
	gamma_churn();
	return 0;
}
END
cc -std=gnu11 -O1 -g -o prog prog.c || fail "cannot build prog.c"
profile "$T/snap.gz" ./prog || fail "prog failed under the preload"

titles() { grep -E '^(TOP|LIVE BYTES|ALLOCATION SIZES)' "$1"; }

"$MEMPROF" report --filter beta_site snap.gz >beta.txt
expect_match "^sites whose stack contains 'beta_site': 1 of [0-9]+$" beta.txt
expect_match 'beta_site \(prog\.c:3\)' beta.txt
expect_no_match 'alpha_site|gamma_churn' beta.txt
"$MEMPROF" report --filter prog.c snap.gz >file.txt
expect_match 'alpha_site' file.txt
expect_match 'gamma_churn' file.txt
"$MEMPROF" report --filter no_such_function snap.gz >none.txt
expect_match "^sites whose stack contains 'no_such_function': 0 of" none.txt
[ "$(grep -c '^    (none)$' none.txt)" -eq 2 ] || fail "an empty filter result should leave the table of sites and the chart empty"

"$MEMPROF" report --sort temporary snap.gz >temp.txt
[ "$(titles temp.txt)" = "$(printf '%s\n' 'TOP TEMPORARY SITES (ALL BLOCKS FREED):' 'LIVE BYTES BY SITE:' 'ALLOCATION SIZES (all sites):')" ] ||
	{ titles temp.txt; fail "--sort temporary shows other lists"; }
expect_match '^#1 live 0 bytes in 0 blocks, 20 allocs \(800 bytes\) total$' temp.txt
expect_match 'gamma_churn \(prog\.c:7\)' temp.txt

"$MEMPROF" report --sort bytes --top 1 snap.gz >top.txt
[ "$(grep -c '^#' top.txt)" -eq 1 ] || fail "--top 1 shows more than one site"
expect_match '^#1 live 5,000 bytes in 5 blocks, 5 allocs \(5,000 bytes\) total$' top.txt
[ "$(sed -n '/^LIVE BYTES BY SITE:/,/^$/p' top.txt | grep -c '|')" -eq 1 ] || fail "--top 1 chart has more than one bar"
expect_no_match $'\033' top.txt
"$MEMPROF" report --no-color snap.gz >nocolor.txt
expect_no_match $'\033' nocolor.txt
if command -v script >/dev/null; then
	script -qec "$MEMPROF report --sort live snap.gz" /dev/null >tty.txt
	expect_match $'\033\\[1mHEAP SUMMARY:' tty.txt
	script -qec "$MEMPROF report --no-color --sort live snap.gz" /dev/null >tty-nocolor.txt
	expect_no_match $'\033' tty-nocolor.txt
fi

"$MEMPROF" report --format json snap.gz >r.json
jq -e . r.json >/dev/null || fail "--format json is not valid JSON"
jq -e '.totals.allocs == 26 and .totals.frees == 20 and .totals.live_bytes == 8000' r.json >/dev/null ||
	fail "JSON totals differ from what the program did"
jq -e '(.tables | keys) == ["allocs", "bytes", "live", "temporary"]' r.json >/dev/null || fail "JSON tables"
jq -e '.meta.pid > 0 and (.meta.exe | endswith("/prog")) and .meta.cmdline == ["./prog"]' r.json >/dev/null ||
	fail "JSON meta"
jq -e '[.size_classes[].allocs] | add == 26' r.json >/dev/null || fail "JSON size classes do not add up"
jq -e '.size_classes | map(select(.min_bytes == 512 and .max_bytes == 1023)) | .[0].allocs == 5' r.json >/dev/null ||
	fail "JSON size class 512-1023"
live=$(jq '.tables.live.site_ids[0]' r.json)
jq -e --argjson id "$live" '.sites[] | select(.id == $id) |
	.live_bytes == 5000 and .name == "alpha_site" and
	(.frames[0] | .kind == "source" and .function == "alpha_site" and .line == 2 and
	 (.file | endswith("prog.c")) and (.addr | test("^0x[0-9a-f]+$")) and .inlined == false)' r.json >/dev/null ||
	{ jq . r.json | head -60; fail "JSON site for alpha_site"; }
"$MEMPROF" report --format json --sort temporary --filter gamma snap.gz >t.json
jq -e '(.tables | keys) == ["temporary"] and .filter == "gamma" and (.sites | length) == 1 and
	.sites[0].allocs == 20' t.json >/dev/null || { cat t.json; fail "JSON with --sort and --filter"; }
"$MEMPROF" report --format json --no-symbols snap.gz | jq -e '[.sites[].frames[] | .kind] | all(. == "module" or . == "unknown")' >/dev/null ||
	fail "JSON with --no-symbols has symbolized frames"

expect_error "report: --sort wants live, allocs, bytes, temporary, peak or leaks, not 'size'" "$MEMPROF" report --sort size snap.gz
expect_error "report: --format wants text or json, not 'xml'" "$MEMPROF" report --format xml snap.gz
expect_error "report: --filter wants a non-empty pattern" "$MEMPROF" report --filter '' snap.gz
expect_error "report: option '--sort' needs an argument" "$MEMPROF" report --sort
