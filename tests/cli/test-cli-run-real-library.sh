#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof run with the real libmemprof.so, found next to the memprof binary: the program's
# exit status comes back, the snapshot the library announces through MEMPROF_MANIFEST
# exists, and memprof report reads it.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
unset MEMPROF_LIB LD_PRELOAD
[ -e "$LIBMEMPROF" ] || fail "$LIBMEMPROF is not built"

rc=0
"$MEMPROF" run --output "$T/snap.%p.gz" -- sh -c 'exit 7' 2>err.txt || rc=$?
[ $rc -eq 7 ] || { cat err.txt; fail "exit status $rc, not 7"; }
expect_match "^memprof: snapshot written to $T/snap\.[0-9]+\.gz$" err.txt
snap=$(sed -n 's/^memprof: snapshot written to //p' err.txt | head -n 1)
[ -f "$snap" ] || fail "announced snapshot $snap does not exist"

"$MEMPROF" report "$snap" >report.txt || fail "memprof report rejected the library's snapshot"
expect_match '^HEAP SUMMARY:$' report.txt
expect_match '^    in use at exit: [0-9,]+ bytes in [0-9,]+ blocks$' report.txt
expect_match '^  total heap usage: [0-9,]+ allocs, [0-9,]+ frees, [0-9,]+ bytes allocated$' report.txt
expect_match '^allocs=[0-9]+ frees=[0-9]+ peak=[0-9]+$' report.txt
expect_match '^program:  .*sh$' report.txt
