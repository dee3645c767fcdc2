#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A program that calls abort() or dies of SIGSEGV dies the same way under the preload: same
# signal, same output; and it leaves a complete snapshot, reason fatal-signal, with the
# blocks it held. No partial file is left.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-torture
for how in abort segv; do
	# Both through env, so that the shell's "Aborted" line lands in the same place.
	run_capture bare env "$P" $how
	run_capture prof env MEMPROF_OUTPUT="$T/$how.gz" LD_PRELOAD="$LIBMEMPROF" "$P" $how
	same_output bare prof
	case $how in
	abort) [ "$(cat prof.rc)" = 134 ] || fail "abort: exit status $(cat prof.rc), expected 134 (SIGABRT)" ;;
	segv) [ "$(cat prof.rc)" = 139 ] || fail "segv: exit status $(cat prof.rc), expected 139 (SIGSEGV)" ;;
	esac
	expect_match "^about to" prof.out
	[ -e "$how.gz" ] || fail "$how: no snapshot"
	check_snapshot "$T/$how.gz"
	"$MEMPROF" report --no-symbols "$T/$how.gz" >$how.txt
	expect_match "^reason: +fatal-signal \(killed by SIG(ABRT|SEGV)\)$" $how.txt
	expect_match "in use at exit: 5,120 bytes in 5 blocks" $how.txt # and stdout's buffer
	[ -z "$(find "$T" -name '*.tmp.*')" ] || fail "$how: temporary file left behind"
done
