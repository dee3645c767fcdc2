#!/usr/bin/env bash
# Under `ulimit -n 64` a profiled program opens as many files as bare (the profiler keeps no
# descriptor open between snapshots; libunwind 1.6's validation pipe took two), and says
# why its exit leak scan failed when no descriptor was left for /proc/self/maps.
source "$(dirname "$0")/../lib/lib.sh"
P=$TESTBIN/prog-fd-reuse
bare=$(ulimit -n 64 && "$P" count) || fail "bare run failed"
prof=$(ulimit -n 64 && MEMPROF_OUTPUT="$T/s.gz" LD_PRELOAD=$LIBMEMPROF "$P" count 2>err.txt) || fail "profiled run failed"
[ "$bare" = "$prof" ] || fail "bare: '$bare', profiled: '$prof'"
case $bare in "opened "[0-9]*" descriptors before EMFILE") ;; *) fail "unexpected output '$bare'" ;; esac
expect_no_match 'out of memory' err.txt
expect_match 'leak scan failed: .*Too many open files' err.txt
