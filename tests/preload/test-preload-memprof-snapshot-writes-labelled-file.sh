#!/usr/bin/env bash
# memprof_snapshot("label") from memprof.h writes a snapshot at once, labelled, with what was
# live then (4 x 100 bytes); the pattern has no %n, so it gets ".0" before ".gz" and the final
# snapshot keeps the pattern's own name. Without the library the call does nothing and
# returns -1.
source "$(dirname "$0")/../lib/lib.sh"
profile "$T/snap.gz" "$TESTBIN/prog-timeline" label "after warm-up" >out.txt
expect_match '^memprof_snapshot returned 0$' out.txt
[ -f "$T/snap.0.gz" ] || { ls "$T"; fail "no snap.0.gz for the requested snapshot"; }
[ -f "$T/snap.gz" ] || { ls "$T"; fail "no final snapshot at snap.gz"; }
"$TESTBIN/snapshot-sections" "$T/snap.0.gz" >req.txt
expect_match '^meta seq=0 reason=request label=after warm-up$' req.txt
"$MEMPROF" report "$T/snap.0.gz" >r.txt
expect_match 'label: +after warm-up' r.txt
expect_match 'in use at snapshot: 400 bytes in 4 blocks' r.txt
"$TESTBIN/snapshot-sections" "$T/snap.gz" >final.txt
expect_match '^meta seq=1 reason=exit label=$' final.txt
"$TESTBIN/prog-timeline" label "not profiled" >bare.txt
expect_match '^memprof_snapshot returned -1$' bare.txt
exit 0
