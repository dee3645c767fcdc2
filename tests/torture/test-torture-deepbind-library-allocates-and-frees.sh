#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A library loaded with RTLD_DEEPBIND binds malloc and free to the C library itself, past the
# preloaded profiler (ld.so's rule; heaptrack has the same blind spot). Blocks cross the
# boundary both ways 10,000 times: the program runs as bare and the snapshot stays
# consistent; what the library allocates is simply not seen (a known limit).
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-torture
cc -shared -fPIC -O1 -g -o "$T/libdeepbind.so" "$TOP/tests/data/deepbind-lib.c"
bare_and_profiled "$T/snap.gz" "$P" deepbind "$T/libdeepbind.so"
expect_match '^deepbind: 15000 blocks crossed the library boundary$' prof.out
check_snapshot "$T/snap.gz"
# The program's own 5,000 mallocs are recorded.
[ "$SNAP_ALLOCS" -ge 5000 ] || fail "only $SNAP_ALLOCS allocations recorded"
