#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A snapshot whose module paths name a FIFO or a file that is not ELF (a crafted or stale
# snapshot) still gives a report, promptly, with module+offset frames: the symbolizer opens
# regular files only and survives ones it cannot parse.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
# mksnap's modules are at /usr/bin/leaky; the same-length path below replaces it.
fake=/tmp/mp-fifo.$$
fake=${fake:0:14}
[ ${#fake} -eq 14 ] || skip "cannot make a 14-character path"
rm -f "$fake"
trap 'rm -rf "$T" "$fake"' EXIT
"$MKSNAP" valid | LC_ALL=C perl -pe "s{/usr/bin/leaky}{$fake}g" | gzip -c >snap.gz
mkfifo "$fake"
timeout 20 "$MEMPROF" report snap.gz >fifo.txt 2>fifo.err || fail "report with a FIFO module exited $?"
[ ! -s fifo.err ] || { cat fifo.err; fail "unexpected stderr"; }
expect_match '^    at 0x401234: mp-fifo\.[0-9]+\+0x1234$' fifo.txt
rm -f "$fake"
echo "not an ELF file" >"$fake"
timeout 20 "$MEMPROF" report snap.gz >text.txt 2>text.err || fail "report with a non-ELF module exited $?"
expect_match '^    at 0x401234: mp-fifo\.[0-9]+\+0x1234$' text.txt
