#!/usr/bin/env bash
# A temporary file NAME.tmp.PID.N left by a run killed while writing (in a container every run
# has the same pid) must not block the snapshot: another name is taken, the stale files are
# left as they are, no warning.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
run_capture bare timeout 60 "$TESTBIN/prog-host-life" stale-tmp "$T/bare.gz"
run_capture profiled timeout 60 env MEMPROF_OUTPUT="$T/snap.gz" LD_PRELOAD="$LIBMEMPROF" \
	"$TESTBIN/prog-host-life" stale-tmp "$T/snap.gz"
same_output bare profiled
[ -s "$T/snap.gz" ] || { ls "$T"; fail "no snapshot"; }
"$MEMPROF" report "$T/snap.gz" >r.txt
expect_match 'in use at exit: .* bytes in [0-9]+ blocks' r.txt
expect_match 'at .*: stale_tmp \(prog-host-life.c' r.txt
n=$(ls "$T" | grep -c '^snap\.gz\.tmp\.' || true)
[ "$n" -eq 2 ] || { ls "$T"; fail "$n temporary files, expected the 2 stale ones"; }
