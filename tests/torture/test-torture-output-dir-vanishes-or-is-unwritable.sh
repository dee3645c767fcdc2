#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The output directory removed while the program runs (the program removes it itself, so the
# order is certain), and a directory the user may not write to: the program's output and exit
# status are as bare, one warning line, nothing written elsewhere.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-torture
mkdir gone
run_capture bare "$P" rmdir "$T/gone"
mkdir gone
run_capture prof profile "$T/gone/snap.gz" "$P" rmdir "$T/gone"
[ "$(cat prof.rc)" = 0 ] && [ "$(cat bare.rc)" = 0 ] || fail "exit status $(cat prof.rc), bare $(cat bare.rc)"
cmp -s bare.out prof.out || fail "stdout changed"
[ "$(wc -l <prof.err)" -eq 1 ] || { cat prof.err; fail "expected exactly one warning line"; }
expect_match '^memprof: cannot write snapshot .*/gone/snap.gz: No such file or directory' prof.err
[ ! -e gone ] || fail "the directory came back"

# Unwritable: root writes anywhere, so run as nobody.
[ "$(id -u)" = 0 ] || skip "the unwritable-directory half needs root (to run a program as nobody)"
command -v setpriv >/dev/null || skip "setpriv is not installed"
chmod 755 "$T"
mkdir ro && chmod 555 ro
asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
asnobody true || skip "cannot run a program as nobody here"
run_capture bare asnobody "$TESTBIN/prog-process-life" leaf
run_capture prof asnobody env MEMPROF_OUTPUT="$T/ro/snap.gz" LD_PRELOAD="$LIBMEMPROF" "$TESTBIN/prog-process-life" leaf
[ "$(cat prof.rc)" = "$(cat bare.rc)" ] || fail "exit status $(cat prof.rc), bare $(cat bare.rc)"
[ "$(wc -l <prof.err)" -eq 1 ] || { cat prof.err; fail "expected exactly one warning line"; }
expect_match '^memprof: cannot write snapshot .*/ro/snap.gz: Permission denied' prof.err
[ -z "$(ls -A ro)" ] || fail "something was written into the read-only directory"
