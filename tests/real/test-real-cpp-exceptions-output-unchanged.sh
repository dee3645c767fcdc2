#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# C++ (tests/progs/prog-cpp-exceptions.cc): exceptions thrown through 1 to 41 frames that each own
# strings, vectors, unique_ptrs and new[] arrays, caught, rethrown, carried across threads in
# exception_ptr; new[]/delete[] of objects with destructors; 4 threads. Output and exit
# status as bare, the snapshot adds up, nearly everything is freed, and the allocation count
# agrees with heaptrack's on the same program within 1%.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-cpp-exceptions
[ -x "$P" ] || fail "$P is missing (make check builds it)"
run_capture bare "$P"
run_capture prof profile "$T/snap.%p.gz" "$P"
[ "$(cat bare.rc)" = 0 ] || { cat bare.err; fail "the program itself fails"; }
same_output bare prof
expect_match '^checksum [0-9]+ over 1500 rounds in 4 threads$' prof.out
check_snapshots 1 1000000
# What stays: the C library's and the C++ runtime's own few blocks, never the frames' memory.
"$MEMPROF" report --no-symbols snap.*.gz >r.txt
blocks=$(sed -nE 's/.*in use at exit: [0-9,]+ bytes? in ([0-9,]+) blocks?$/\1/p' r.txt | tr -d ,)
[ "$blocks" -le 20 ] || { head -n 30 r.txt; fail "$blocks blocks in use at exit: unwinding's frees were missed"; }
compare_with_heaptrack 1 "$P"
