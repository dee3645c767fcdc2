#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof report prints the exact expected text for a snapshot of known content: header,
# HEAP SUMMARY in memcheck's words with thousands separators, the allocs/frees/peak line, and
# both site rankings with module+offset frames; --top and --frames limit them; a section of
# unknown type is skipped without changing the report.
source "$(dirname "$0")/lib.sh"
source "$TOP/tests/cli-lib.sh"
export TZ=UTC

mksnap_gz valid snap.gz
"$MEMPROF" report snap.gz >out.txt
cat >expected.txt <<'END'
memprof report of snap.gz
program:  /usr/bin/leaky
command:  leaky --count 'three words'
pid:      4242 (parent 1)
run time: 1.500 s
reason:   exit
date:     2023-11-14 22:13:21 +0000

HEAP SUMMARY:
    in use at exit: 3,010,248 bytes in 14 blocks
  total heap usage: 1,201,008 allocs, 1,200,994 frees, 54,024,040 bytes allocated

allocs=1201008 frees=1200994 peak=3500000

TOP SITES BY LIVE BYTES:
#1 live 3,000,000 bytes in 3 blocks, 3 allocs (3,000,000 bytes) total
    at 0x401100: leaky+0x1100
    at 0x401110: leaky+0x1110
    at 0x401120: leaky+0x1120
    at 0x401130: leaky+0x1130
    at 0x401140: leaky+0x1140
    at 0x401150: leaky+0x1150
    at 0x401160: leaky+0x1160
    at 0x401170: leaky+0x1170
    at 0x401180: leaky+0x1180
    at 0x401190: leaky+0x1190
    at 0x4011a0: leaky+0x11a0
    at 0x4011b0: leaky+0x11b0
    ... 2 more frames (--frames)

#2 live 10,240 bytes in 10 blocks, 1,000 allocs (1,024,000 bytes) total
    at 0x401234: leaky+0x1234
    at 0x7f0000001100: libc.so.6+0x1100
    at 0x401000: leaky+0x1000

#3 live 8 bytes in 1 blocks, 5 allocs (40 bytes) total
    (no stack trace)

TOP SITES BY NUMBER OF ALLOCATIONS:
#1 live 0 bytes in 0 blocks, 1,200,000 allocs (50,000,000 bytes) total
    at 0x401500: leaky+0x1500
    at 0xdeadbeef: ???

#2 live 10,240 bytes in 10 blocks, 1,000 allocs (1,024,000 bytes) total
    at 0x401234: leaky+0x1234
    at 0x7f0000001100: libc.so.6+0x1100
    at 0x401000: leaky+0x1000

#3 live 8 bytes in 1 blocks, 5 allocs (40 bytes) total
    (no stack trace)

#4 live 3,000,000 bytes in 3 blocks, 3 allocs (3,000,000 bytes) total
    at 0x401100: leaky+0x1100
    at 0x401110: leaky+0x1110
    at 0x401120: leaky+0x1120
    at 0x401130: leaky+0x1130
    at 0x401140: leaky+0x1140
    at 0x401150: leaky+0x1150
    at 0x401160: leaky+0x1160
    at 0x401170: leaky+0x1170
    at 0x401180: leaky+0x1180
    at 0x401190: leaky+0x1190
    at 0x4011a0: leaky+0x11a0
    at 0x4011b0: leaky+0x11b0
    ... 2 more frames (--frames)
END
diff -u expected.txt out.txt || fail "report differs from the golden text"

# --top 1 --frames 2: one site per list, two frames each.
"$MEMPROF" report --top 1 --frames 2 snap.gz >top.txt
sed -n '/^TOP SITES BY LIVE BYTES:/,$p' top.txt >top-sites.txt
cat >expected-top.txt <<'END'
TOP SITES BY LIVE BYTES:
#1 live 3,000,000 bytes in 3 blocks, 3 allocs (3,000,000 bytes) total
    at 0x401100: leaky+0x1100
    at 0x401110: leaky+0x1110
    ... 12 more frames (--frames)

... 2 more sites (--top)

TOP SITES BY NUMBER OF ALLOCATIONS:
#1 live 0 bytes in 0 blocks, 1,200,000 allocs (50,000,000 bytes) total
    at 0x401500: leaky+0x1500
    at 0xdeadbeef: ???

... 3 more sites (--top)
END
diff -u expected-top.txt top-sites.txt || fail "--top 1 --frames 2 output differs"

# The same snapshot with an extra section of unknown type reads the same.
mksnap_gz unknown-section unknown.gz
"$MEMPROF" report unknown.gz 2>stderr.txt | sed 1d >unknown.txt
[ ! -s stderr.txt ] || { cat stderr.txt; fail "unknown section caused output on stderr"; }
sed 1d out.txt | diff -u - unknown.txt || fail "an unknown section changed the report"
