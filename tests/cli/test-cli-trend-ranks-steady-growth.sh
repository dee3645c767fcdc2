#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof trend on a series of snapshots of one process (mksnap series-1..5, given in any
# order or as a glob): the site that leaks 1000 bytes/s comes first, then the slow one; the
# site that grows faster but is released before the last snapshot and the one that goes up
# and down are not flagged; fewer than 3 snapshots, snapshots of two processes and one
# snapshot given twice are one-line errors.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
command -v jq >/dev/null || skip "jq is not installed"

for k in 1 2 3 4 5; do mksnap_gz series-$k s.7000.$k.gz; done
mksnap_gz series-other other.gz
"$MEMPROF" trend s.7000.3.gz s.7000.5.gz s.7000.1.gz s.7000.4.gz s.7000.2.gz >out.txt
cat >expected.txt <<'END'
memprof trend of 5 snapshots of /usr/bin/server (pid 7000)

HEAP ACROSS THE SNAPSHOTS:
    run time      live bytes  live blocks  snapshot
     1.000 s       3,007,100       30,071  s.7000.1.gz
     2.000 s       3,015,100       30,151  s.7000.2.gz
     3.000 s       3,026,200       30,262  s.7000.3.gz
     4.000 s       3,034,300       30,343  s.7000.4.gz
     5.000 s       3,015,400       30,154  s.7000.5.gz
  live bytes change by +3,580 bytes/s (least squares)

LEAK SUSPECTS (sites whose live bytes grow steadily), fastest first:
#1 +1,000 bytes/s, +10 blocks/s, grew in 4 of 4 intervals: 1,000 -> 5,000 bytes
    at 0x401234: server+0x1234
    at 0x7f0000001100: libc.so.6+0x1100
    at 0x401000: server+0x1000

#2 +80 bytes/s, +0.8 blocks/s, grew in 3 of 4 intervals: 100 -> 400 bytes
    at 0x401500: server+0x1500
    at 0xdeadbeef: ???

2 other sites grew from the first snapshot to the last, not steadily
END
diff -u expected.txt out.txt || fail "trend output differs"

# A glob (quoted: trend expands it) gives the same; --top 1 keeps the leak.
"$MEMPROF" trend 's.7000.*.gz' >glob.txt
diff -u out.txt glob.txt || fail "a glob gives another result"
"$MEMPROF" trend --top 1 --frames 1 s.7000.*.gz >top.txt
expect_match '^#1 \+1,000 bytes/s' top.txt
expect_no_match '^#2 ' top.txt
expect_match '^\.\.\. 1 more site \(--top\)$' top.txt

# Without the release at 5 s, the fast site is the first suspect.
"$MEMPROF" trend s.7000.1.gz s.7000.2.gz s.7000.3.gz s.7000.4.gz >grow.txt
expect_match '^#1 \+8,000 bytes/s, \+80 blocks/s, grew in 3 of 3 intervals: 1,000 -> 25,000 bytes$' grow.txt
sed -n '/^#1 /,/^$/p' grow.txt >grow1.txt
expect_match 'server\+0x1100' grow1.txt

"$MEMPROF" trend --format json s.7000.*.gz >t.json
jq -e '(.snapshots | map(.seq)) == [0,1,2,3,4] and .total_suspects == 2 and .other_sites_grew == 2 and
	.suspects[0].bytes_per_second == 1000 and .suspects[0].live_bytes == [1000,2000,3000,4000,5000] and
	.suspects[0].intervals_grew == 4 and .suspects[1].name == "server+0x1500" and
	.suspects[1].bytes_per_second == 80 and .live_bytes_per_second == 3580' t.json >/dev/null ||
	fail "JSON trend"

expect_error 'trend: needs at least 3 snapshots of one process, got 2 \(memprof diff compares two\)$' \
	"$MEMPROF" trend s.7000.1.gz s.7000.2.gz
expect_error 'trend: other\.gz \(pid 7001\) is of another process than s\.7000\.1\.gz \(pid 7000\)' \
	"$MEMPROF" trend s.7000.1.gz s.7000.2.gz other.gz
expect_error 'trend: s\.7000\.2\.gz and s\.7000\.2\.gz are the same snapshot' \
	"$MEMPROF" trend s.7000.1.gz s.7000.2.gz s.7000.2.gz
expect_error "trend: no file matches 'nothing\\*\\.gz'$" "$MEMPROF" trend 'nothing*.gz' s.7000.1.gz
