#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof diff gives the exact change of every site's live bytes and blocks, largest change
# first, with stacks and a totals line: on two hand-made snapshots of two runs (other load
# addresses and trace ids: sites match by module build-id and offset), and on two real runs
# of a program with known allocations (ASLR moves every address between the runs).
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
command -v jq >/dev/null || skip "jq is not installed"

mksnap_gz diff-old old.gz
mksnap_gz diff-new new.gz
"$MEMPROF" diff old.gz new.gz >out.txt
cat >expected.txt <<'END'
memprof diff
old: old.gz (/usr/bin/server, pid 5000, exit, at 2.000 s)
new: new.gz (/usr/bin/server, pid 5001, exit, at 2.000 s)

CHANGE IN LIVE MEMORY:
  live bytes:  3,010,704 -> 1,031,620 (-1,979,084)
  live blocks: 19 -> 38 (+19)
  sites: 2 grew, 3 shrank, 1 unchanged

SITES THAT CHANGED (largest change in live bytes first):
#1 -2,000,000 bytes, -2 blocks: 3,000,000 -> 1,000,000 bytes, 3 -> 1 blocks
    at 0x555500001100: server+0x1100
    at 0x555500001110: server+0x1110

#2 +20,480 bytes, +20 blocks: 10,240 -> 30,720 bytes, 10 -> 30 blocks
    at 0x555500001234: server+0x1234
    at 0x7f3300001100: libc.so.6+0x1100
    at 0x555500001000: server+0x1000

#3 +500 bytes, +5 blocks: 0 -> 500 bytes, 0 -> 5 blocks (new site)
    at 0x555500001600: server+0x1600

#4 -64 bytes, -2 blocks: 64 -> 0 bytes, 2 -> 0 blocks (not in NEW)
    at 0x401700: server+0x1700

#5 0 bytes, -2 blocks: 400 -> 400 bytes, 4 -> 2 blocks
    at 0x7f3300002200: libc.so.6+0x2200
    at 0x555500001800: server+0x1800
END
diff -u expected.txt out.txt || fail "diff output differs"

# --top and --frames; the reverse diff mirrors every figure.
"$MEMPROF" diff --top 2 --frames 1 old.gz new.gz >top.txt
[ "$(grep -c '^#' top.txt)" -eq 2 ] || fail "--top 2 shows other than two sites"
expect_match '^    \.\.\. 1 more frame \(--frames\)$' top.txt
expect_match '^\.\.\. 3 more sites \(--top\)$' top.txt
"$MEMPROF" diff new.gz old.gz >reverse.txt
expect_match '^  live bytes:  1,031,620 -> 3,010,704 \(\+1,979,084\)$' reverse.txt
expect_match '^#2 -20,480 bytes, -20 blocks: 30,720 -> 10,240 bytes, 30 -> 10 blocks$' reverse.txt
expect_match '^#3 -500 bytes, -5 blocks: 500 -> 0 bytes, 5 -> 0 blocks \(not in NEW\)$' reverse.txt

"$MEMPROF" diff --format json old.gz new.gz >d.json
jq -e '.totals == {"old_live_bytes":3010704,"new_live_bytes":1031620,"live_bytes_change":-1979084,
	"old_live_blocks":19,"new_live_blocks":38,"live_blocks_change":19} and
	.sites_grew == 2 and .sites_shrank == 3 and .sites_unchanged == 1' d.json >/dev/null || fail "JSON totals"
jq -e '[.sites[] | [.status, .live_bytes_change, .live_blocks_change]] ==
	[["shrank",-2000000,-2],["grew",20480,20],["new",500,5],["gone",-64,-2],["shrank",0,-2]]' d.json >/dev/null ||
	fail "JSON sites"
jq -e '.sites[1] | .name == "server+0x1234" and .old_live_bytes == 10240 and .new_live_bytes == 30720 and
	(.frames | map(.offset)) == ["0x1234","0x1100","0x1000"]' d.json >/dev/null || fail "JSON site frames"

# Two runs of a real program: N blocks of 100 bytes from grow_site, three of 1000 from
# fixed_site in both, 64 bytes from extra_site in the second run only.
cat >prog.c <<'END'
#include <stdlib.h>
__attribute__((noinline)) void *grow_site(void) { return malloc(100); }
__attribute__((noinline)) void *fixed_site(void) { return malloc(1000); }
__attribute__((noinline)) void *extra_site(void) { return malloc(64); }
void *volatile keep;
int main(int argc, char **argv)
{
	int n = atoi(argv[1]);

	for (volatile int i = 0; i < n; i++)
		keep = grow_site();
	for (volatile int i = 0; i < 3; i++)
		keep = fixed_site();
	if (n > 5)
		keep = extra_site();
	return 0;
}
END
cc -std=gnu11 -O1 -g -fPIE -pie -o prog prog.c || fail "cannot build prog.c"
"$MEMPROF" run --output run1.gz -- ./prog 2 2>/dev/null || fail "first run failed"
"$MEMPROF" run --output run2.gz -- ./prog 7 2>/dev/null || fail "second run failed"
"$MEMPROF" diff run1.gz run2.gz >real.txt
expect_match '^  live bytes:  [0-9,]+ -> [0-9,]+ \(\+564\)$' real.txt
expect_match '^  live blocks: [0-9,]+ -> [0-9,]+ \(\+6\)$' real.txt
expect_match '^  sites: 2 grew, 0 shrank, [0-9]+ unchanged$' real.txt
expect_match '^#1 \+500 bytes, \+5 blocks: 200 -> 700 bytes, 2 -> 7 blocks$' real.txt
expect_match '^#2 \+64 bytes, \+1 blocks: 0 -> 64 bytes, 0 -> 1 blocks \(new site\)$' real.txt
sed -n '/^#1 /,/^$/p' real.txt >site1.txt
expect_match 'grow_site \(prog\.c:2\)' site1.txt
expect_no_match 'fixed_site' real.txt
"$MEMPROF" diff --format json --no-symbols run1.gz run2.gz >real.json
jq -e '.sites[0].name == "prog+\(.sites[0].frames[0].offset)" and .sites[0].live_bytes_change == 500' \
	real.json >/dev/null || fail "--no-symbols JSON"

# The program rebuilt (another build-id): its sites do not match, and the diff says why.
sed 's/^void \*volatile keep;/void *volatile keep; int rebuilt = 1;/' prog.c >prog2.c
cc -std=gnu11 -O1 -g -fPIE -pie -o prog prog2.c || fail "cannot build prog2.c"
"$MEMPROF" run --output run3.gz -- ./prog 2 2>/dev/null || fail "rebuilt run failed"
"$MEMPROF" diff run1.gz run3.gz >rebuilt.txt 2>rebuilt.err
expect_match "^memprof: warning: .*/prog has changed since the snapshot" rebuilt.err
expect_match '^note: .*/prog has another build-id in NEW \(rebuilt\): its sites do not match$' rebuilt.txt
expect_match '^#[0-9] \+200 bytes, \+2 blocks: 0 -> 200 bytes, 0 -> 2 blocks \(new site\)$' rebuilt.txt
expect_no_match '^note:' real.txt
