#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 144 threads in 6 waves of 24, each wave created while the previous one still runs and then
# exits: 432,000 allocations, nearly all freed by another thread than the one that made them
# (blocks pass through a shared pool). Output as bare, every allocation counted, and the
# pool emptied at the end leaves nothing of the program's in use.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-torture
bare_and_profiled "$T/snap.gz" "$P" storm
expect_match '^storm: 432000 allocations by 144 threads in 6 waves$' prof.out
check_snapshot "$T/snap.gz"
[ "$SNAP_ALLOCS" -ge 432000 ] || fail "only $SNAP_ALLOCS allocations recorded, the program makes 432,000"
"$MEMPROF" report --no-symbols snap.gz >r.txt
# Left in use: stdout's buffer and glibc's per-thread bits (a few small blocks), never the pool.
blocks=$(sed -nE 's/.*in use at exit: [0-9,]+ bytes? in ([0-9,]+) blocks?$/\1/p' r.txt | tr -d ,)
[ "$blocks" -le 20 ] || { head -n 40 r.txt; fail "$blocks blocks in use at exit: frees from other threads were lost"; }
