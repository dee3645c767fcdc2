#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A file size limit (ulimit -f) too small for the snapshot: the write fails with EFBIG and the
# kernel raises SIGXFSZ, which would kill the program. The profiled program exits as it does
# bare, with one warning and no temporary file left; its own SIGXFSZ still reaches it.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-process-life
limited() { (ulimit -f 1 && "$@"); } # 1 block of 1024 bytes; the snapshot of "deep" is larger
run_capture bare limited "$P" deep
run_capture prof limited env MEMPROF_OUTPUT="$T/snap.gz" LD_PRELOAD="$LIBMEMPROF" "$P" deep
[ "$(cat prof.rc)" = "$(cat bare.rc)" ] || { cat prof.err; fail "exit status $(cat prof.rc), bare $(cat bare.rc) (killed by SIGXFSZ is 153)"; }
cmp -s bare.out prof.out || fail "stdout changed"
[ "$(wc -l <prof.err)" -eq 1 ] || { cat prof.err; fail "expected exactly one warning line"; }
expect_match '^memprof: cannot write snapshot .*snap.gz: File too large \(the program runs on\)$' prof.err
[ ! -e snap.gz ] || fail "a snapshot was left though it could not be written whole"
[ -z "$(find "$T" -name '*.tmp.*')" ] || fail "temporary file left behind"
# The program's own write past the limit still gets its SIGXFSZ (here: killed, as bare).
writer() { (ulimit -f 1 && exec "$@" head -c 4096 /dev/zero >big); }
run_capture bare writer
run_capture prof writer env MEMPROF_OUTPUT="$T/w.gz" LD_PRELOAD="$LIBMEMPROF"
[ "$(cat bare.rc)" != 0 ] || fail "the bare writer was not stopped by its file size limit"
[ "$(cat prof.rc)" = "$(cat bare.rc)" ] || fail "writer: exit status $(cat prof.rc), bare $(cat bare.rc)"
# With room for it, the same limit lets a complete snapshot through.
(ulimit -f 1000 && profile "$T/ok.gz" "$P" deep) || fail "exit status changed with room for the snapshot"
check_snapshot "$T/ok.gz"
