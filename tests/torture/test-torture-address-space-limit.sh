#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An address-space limit (ulimit -v). Too small for the profiler's tables: one warning, and
# the program runs unprofiled with its bare output. Large enough to start but too small for
# the table of live blocks to grow: one warning, the program runs to its end, and no snapshot
# is written (frees after the failure go unseen, so it would report blocks in use that are
# not). The profiler's own memory counts against the limit, so the program may see NULL
# sooner than bare: that much is unavoidable.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-torture
vlimit() { local kb=$1; shift; (ulimit -v "$kb" && "$@"); }
run_capture bare vlimit 60000 "$P" longjmp
[ "$(cat bare.rc)" = 0 ] || { cat bare.err; skip "longjmp does not run bare in 60 MB of address space here"; }
run_capture prof vlimit 60000 env MEMPROF_OUTPUT="$T/small.gz" LD_PRELOAD="$LIBMEMPROF" "$P" longjmp
same_output_but_err() { cmp -s bare.out prof.out && [ "$(cat bare.rc)" = "$(cat prof.rc)" ]; }
same_output_but_err || { cat prof.err; fail "output or exit status changed under a 60 MB limit"; }
[ "$(wc -l <prof.err)" -eq 1 ] || { cat prof.err; fail "expected exactly one warning line"; }
expect_match '^memprof: cannot start .*the program runs unprofiled$' prof.err
[ ! -e small.gz ] || fail "a snapshot was written by a profiler that did not start"

# Find a limit at which the profiler starts and then fails to grow its table (3 million live
# blocks need more than the 2 million the first limits leave room for).
hit=
for kb in 200000 180000 250000 300000; do
	run_capture prof vlimit $kb env MEMPROF_OUTPUT="$T/grow.$kb.gz" LD_PRELOAD="$LIBMEMPROF" "$P" grow 3000000
	if grep -q 'internal failure' prof.err; then hit=$kb; break; fi
done
[ -n "$hit" ] || { cat prof.err; skip "no limit tried made the live-block table fail to grow"; }
echo "table growth failed under ulimit -v $hit"
[ "$(cat prof.rc)" = 0 ] || { cat prof.err; fail "exit status $(cat prof.rc) after the profiler's failure"; }
expect_match '^grow: [0-9]+ of 3000000$' prof.out
[ "$(wc -l <prof.err)" -eq 1 ] || { cat prof.err; fail "expected exactly one warning line"; }
expect_match '^memprof: internal failure: out of memory for the table of live blocks; recording stopped, no snapshot will be written' prof.err
[ ! -e "grow.$hit.gz" ] || fail "a snapshot was written after recording stopped"
[ -z "$(find "$T" -name '*.tmp.*')" ] || fail "temporary file left behind"
