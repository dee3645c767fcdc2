#!/usr/bin/env bash
# MEMPROF_SIGNAL=SIGUSR2: each SIGUSR2 makes a snapshot (the pattern has no %n: s.0.gz, s.1.gz,
# then s.gz at exit), and the program's output, standard error and exit status are those of
# a run without the library.
source "$(dirname "$0")/../lib/lib.sh"
wait_for() { for _ in $(seq 600); do [ -e "$1" ] && return 0; sleep 0.1; done; fail "no $1"; }
set +e
MEMPROF_SIGNAL=SIGUSR2 MEMPROF_OUTPUT="$T/s.gz" LD_PRELOAD=$LIBMEMPROF "$TESTBIN/prog-timeline" run "$T" >out.txt 2>err.txt &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$T"' EXIT
wait_for "$T/ready"
kill -USR2 $pid
wait_for "$T/s.0.gz"
kill -USR2 $pid
wait_for "$T/s.1.gz"
touch "$T/stop"
wait $pid
rc=$?
rm -f "$T/stop" "$T/ready"
"$TESTBIN/prog-timeline" run "$T" >bare-out.txt 2>bare-err.txt &
bare=$!
wait_for "$T/ready"
touch "$T/stop"
wait $bare
bare_rc=$?
set -e
[ $rc -eq $bare_rc ] || fail "exit status $rc under the library, $bare_rc without"
cmp out.txt bare-out.txt || fail "standard output differs"
cmp err.txt bare-err.txt || { cat err.txt; fail "standard error differs"; }
"$TESTBIN/snapshot-sections" "$T/s.0.gz" >s0.txt
expect_match '^meta seq=0 reason=signal label=$' s0.txt
"$TESTBIN/snapshot-sections" "$T/s.1.gz" >s1.txt
expect_match '^meta seq=1 reason=signal label=$' s1.txt
"$TESTBIN/snapshot-sections" "$T/s.gz" >final.txt
expect_match '^meta seq=2 reason=exit label=$' final.txt

# A name that is no signal: one warning, and the program runs as it was.
rm -f "$T/stop" "$T/ready" "$T"/s*.gz
( sleep 0.3; touch "$T/stop" ) &
set +e
MEMPROF_SIGNAL=USR9 profile "$T/s.gz" "$TESTBIN/prog-timeline" run "$T" >out3.txt 2>err3.txt
rc=$?
set -e
[ $rc -eq 3 ] || fail "exit status $rc with a bad MEMPROF_SIGNAL"
[ "$(wc -l <err3.txt)" -eq 1 ] || { cat err3.txt; fail "expected one warning"; }
expect_match 'MEMPROF_SIGNAL.*USR9' err3.txt
exit 0
