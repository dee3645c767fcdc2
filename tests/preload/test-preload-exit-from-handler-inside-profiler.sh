#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A program whose SIGALRM handler calls _exit(3), or exit(3) (not async-signal-safe, but
# common), while the library is writing a snapshot (the program asked for one with
# memprof_snapshot(), over and over): the final snapshot would wait for the lock this very
# thread holds. The program must end as bare, status 3, within seconds, with one warning line
# instead of the final snapshot (or with the final snapshot, when the signal happened to land
# outside the library). It hung forever before.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-fatal
[ -x "$P" ] || fail "$P is missing (make check builds it)"
for run in _exit _exit exit exit; do
	how=$([ $run = exit ] && echo exit || true)
	run_capture bare timeout 30 "$P" exit-in-snapshot $how
	[ "$(cat bare.rc)" = 3 ] || fail "bare run: status $(cat bare.rc), expected 3"
	rm -f "$T"/e.*.gz "$T"/e.gz
	run_capture prof timeout 30 env MEMPROF_OUTPUT="$T/e.gz" LD_PRELOAD="$LIBMEMPROF" "$P" exit-in-snapshot $how
	rc=$(cat prof.rc)
	[ "$rc" != 124 ] || fail "run $run: the program hung (killed by timeout after 30 s)"
	[ "$rc" = 3 ] || { cat prof.err; fail "run $run: status $rc, expected 3 as bare"; }
	cmp -s bare.out prof.out || fail "run $run: stdout differs from the bare run"
	if grep -q 'interrupted the profiler' prof.err; then
		[ "$(wc -l <prof.err)" = 1 ] || { cat prof.err; fail "run $run: more than the one warning on stderr"; }
		[ ! -e e.gz ] || fail "run $run: a final snapshot after the warning that there is none"
		echo "run $run: status 3, the one warning, no final snapshot"
	else
		[ ! -s prof.err ] || { cat prof.err; fail "run $run: unexpected stderr"; }
		"$TESTBIN/snapshot-sections" e.gz | grep -q "^meta seq=[0-9]* reason=$run " ||
			fail "run $run: no warning and no final snapshot of reason $run"
		echo "run $run: status 3, final snapshot written (the signal landed outside the library)"
	fi
	ls e.*.gz >/dev/null 2>&1 || fail "run $run: no snapshot from memprof_snapshot() at all"
done
