#!/usr/bin/env bash
# A signal handler frees and allocates while the interrupted thread is inside a hook. The
# program runs as it does bare; every block it frees leaves the live table, so nothing of
# its own is reported in use at exit (its only live block is stdio's 4 KiB buffer, if any).
source "$(dirname "$0")/../lib/lib.sh"
"$TESTBIN/prog-process-life" sigfree || fail "the program fails bare"
profile "$T/snap.gz" "$TESTBIN/prog-process-life" sigfree || fail "exit status changed under the preload"
"$MEMPROF" report --no-symbols "$T/snap.gz" >r.txt
expect_match 'in use at exit: (0 bytes in 0 blocks|4,096 bytes in 1 blocks)$' r.txt
