#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof report prints the exact expected text for a snapshot of known content: header,
# HEAP SUMMARY in memcheck's words with thousands separators, the allocs/frees/peak line, the
# table of top sites (each once, with module+offset frames: the snapshot's modules do not
# exist on disk), the live-bytes chart and the size histogram; --top and --frames limit
# them, --sort shows one list; a section of unknown type is skipped without changing the
# report.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
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

TOP SITES (each once; --sort KEY for one list):
          live  blocks peak    allocs  allocated     frees  site
#1     2.9 MiB       3    -         3    2.9 MiB         0  leaky+0x1100
#2    10.0 KiB      10    -     1,000 1000.0 KiB       990  leaky+0x1234
#3         8 B       1    -         5       40 B         4  (no stack trace)
#4         0 B       0    - 1,200,000   47.7 MiB 1,200,000  leaky+0x1500

#1 leaky+0x1100
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

#2 leaky+0x1234
    at 0x401234: leaky+0x1234
    at 0x7f0000001100: libc.so.6+0x1100
    at 0x401000: leaky+0x1000

#3 (no stack trace)
    (no stack trace)

#4 leaky+0x1500
    at 0x401500: leaky+0x1500
    at 0xdeadbeef: ???

LIVE BYTES BY SITE:
  leaky+0x1100                   |############################## 2.9 MiB
  leaky+0x1234                   |#                              10.0 KiB
  (no stack trace)               |#                              8 B

ALLOCATION SIZES (all sites):
            1 B |##                                   1,000
          2-3 B |####                                 2,000
          4-7 B |######                               3,000
         8-15 B |########                             4,000
        16-31 B |#########                            5,000
        32-63 B |###########                          6,000
       64-127 B |#############                        7,000
      128-255 B |###############                      8,000
      256-511 B |#################                    9,000
     512-1023 B |###################                  10,000
    1024-2047 B |#####################                11,000
    2048-4095 B |#######################              12,000
    4096-8191 B |#########################            13,000
   8192-16383 B |###########################          14,000
  16384-32767 B |############################         15,000
  32768-65535 B |##############################       16,000
     64-127 KiB |################################     17,000
    128-255 KiB |##################################   18,000
    256-511 KiB |#################################### 19,000
END
diff -u expected.txt out.txt || fail "report differs from the golden text"

# --top 1 --frames 2: the first site of each list (live bytes, allocations, bytes
# allocated, temporary), each once, two frames each.
"$MEMPROF" report --top 1 --frames 2 snap.gz >top.txt
sed -n '/^TOP SITES/,$p' top.txt >top-sites.txt
cat >expected-top.txt <<'END'
TOP SITES (each once; --sort KEY for one list):
          live  blocks peak    allocs  allocated     frees  site
#1     2.9 MiB       3    -         3    2.9 MiB         0  leaky+0x1100
#2         0 B       0    - 1,200,000   47.7 MiB 1,200,000  leaky+0x1500

#1 leaky+0x1100
    at 0x401100: leaky+0x1100
    at 0x401110: leaky+0x1110
    ... 12 more frames (--frames)

#2 leaky+0x1500
    at 0x401500: leaky+0x1500
    at 0xdeadbeef: ???

... 2 more sites, in no list's first 1 (--top, --sort)

LIVE BYTES BY SITE:
  leaky+0x1100                   |############################## 2.9 MiB

ALLOCATION SIZES (all sites):
            1 B |##                                   1,000
          2-3 B |####                                 2,000
          4-7 B |######                               3,000
         8-15 B |########                             4,000
        16-31 B |#########                            5,000
        32-63 B |###########                          6,000
       64-127 B |#############                        7,000
      128-255 B |###############                      8,000
      256-511 B |#################                    9,000
     512-1023 B |###################                  10,000
    1024-2047 B |#####################                11,000
    2048-4095 B |#######################              12,000
    4096-8191 B |#########################            13,000
   8192-16383 B |###########################          14,000
  16384-32767 B |############################         15,000
  32768-65535 B |##############################       16,000
     64-127 KiB |################################     17,000
    128-255 KiB |##################################   18,000
    256-511 KiB |#################################### 19,000
END
diff -u expected-top.txt top-sites.txt || fail "--top 1 --frames 2 output differs"

# --sort KEY: that list alone, in its own order, each site with its figures in words.
"$MEMPROF" report --sort allocs --frames 2 snap.gz | sed -n '/^TOP SITES BY NUMBER/,/^LIVE BYTES BY SITE/p' >allocs.txt
cat >expected-allocs.txt <<'END'
TOP SITES BY NUMBER OF ALLOCATIONS:
#1 live 0 bytes in 0 blocks, 1,200,000 allocs (50,000,000 bytes) total
    at 0x401500: leaky+0x1500
    at 0xdeadbeef: ???

#2 live 10,240 bytes in 10 blocks, 1,000 allocs (1,024,000 bytes) total
    at 0x401234: leaky+0x1234
    at 0x7f0000001100: libc.so.6+0x1100
    ... 1 more frame (--frames)

#3 live 8 bytes in 1 blocks, 5 allocs (40 bytes) total
    (no stack trace)

#4 live 3,000,000 bytes in 3 blocks, 3 allocs (3,000,000 bytes) total
    at 0x401100: leaky+0x1100
    at 0x401110: leaky+0x1110
    ... 12 more frames (--frames)

LIVE BYTES BY SITE:
END
diff -u expected-allocs.txt allocs.txt || fail "--sort allocs output differs"

# The same snapshot with an extra section of unknown type reads the same.
mksnap_gz unknown-section unknown.gz
"$MEMPROF" report unknown.gz 2>stderr.txt | sed 1d >unknown.txt
[ ! -s stderr.txt ] || { cat stderr.txt; fail "unknown section caused output on stderr"; }
sed 1d out.txt | diff -u - unknown.txt || fail "an unknown section changed the report"
