#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof trend reads its snapshots one at a time and keeps only each site's series: 200
# snapshots of 2000 sites of 64 frames (1.1 MB each uncompressed) fit in 128 MiB of address
# space, where keeping every parsed snapshot took 230 MB. Given in glob order (1, 10, 100,
# 101, ...), they are still analysed in time order, and the leak is found with its frames.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

LIMIT_KB=131072
if ! (ulimit -v $LIMIT_KB; "$MEMPROF" --version) >/dev/null 2>&1; then
	skip "memprof cannot run with ulimit -v $LIMIT_KB (sanitizer build?)"
fi
for k in $(seq 200); do
	"$MKSNAP" series-wide "$k" | gzip -1 >"w.$k.gz"
done

(ulimit -v $LIMIT_KB; exec "$MEMPROF" trend --no-symbols 'w.*.gz') >out.txt 2>err.txt ||
	{ cat err.txt; fail "trend of 200 snapshots failed under ulimit -v $LIMIT_KB"; }
[ ! -s err.txt ] || { cat err.txt; fail "trend wrote on stderr"; }
expect_match '^memprof trend of 200 snapshots of /usr/bin/wide \(pid 9000\)$' out.txt
expect_match '^     1\.000 s         200,900        2,000  w\.1\.gz$' out.txt
expect_match '^   200\.000 s         399,900        2,000  w\.200\.gz$' out.txt
expect_match '^  live bytes change by \+1,000 bytes/s \(least squares\)$' out.txt
expect_match '^#1 \+1,000 bytes/s, \+0 blocks/s, grew in 199 of 199 intervals: 1,000 -> 200,000 bytes$' out.txt
expect_match '^    at 0x400000: wide\+0x0$' out.txt
expect_no_match '^#2 ' out.txt

# JSON: the series of the suspect in time order, its frames from the last snapshot.
(ulimit -v $LIMIT_KB; exec "$MEMPROF" trend --no-symbols --format json --frames 2 w.*.gz) >out.json ||
	fail "trend --format json of 200 snapshots failed under ulimit -v $LIMIT_KB"
expect_match '"live_bytes":\[1000,2000,3000,' out.json
expect_match ',199000,200000\],' out.json
expect_match '"n_frames":64,' out.json
echo "200 snapshots analysed within ${LIMIT_KB} KiB"
