#!/usr/bin/env bash
# _exit bypasses atexit and destructors (heaptrack loses everything there): memprof still
# writes the final snapshot, and the exit status is the program's.
source "$(dirname "$0")/../lib/lib.sh"
set +e
profile "$T/snap.gz" "$TESTBIN/prog-process-life" _exit
rc=$?
set -e
[ $rc -eq 3 ] || fail "exit status $rc, expected 3"
"$MEMPROF" report "$T/snap.gz" >r.txt
expect_match 'reason: +_exit' r.txt
expect_match 'in use at exit: 320 bytes in 5 blocks' r.txt
