#!/usr/bin/env bash
# An unwritable output path costs one warning line and nothing else: same output, same exit
# status. A symlink planted at the output path is replaced, never followed.
source "$(dirname "$0")/../lib/lib.sh"
"$TESTBIN/prog-process-life" leaf >bare.out 2>bare.err; bare_rc=$?
touch notadir
set +e
profile "$T/notadir/snap.gz" "$TESTBIN/prog-process-life" leaf >out 2>err; rc=$?
set -e
[ $rc -eq $bare_rc ] || fail "exit status $rc, bare $bare_rc"
cmp -s out bare.out || fail "stdout changed"
[ "$(wc -l <err)" -eq 1 ] || { cat err; fail "expected exactly one warning line"; }
expect_match '^memprof: cannot write snapshot .*notadir/snap.gz: Not a directory' err
[ -z "$(find "$T" -name "*.tmp.*")" ] || fail "temporary file left behind"
# A symlink at the output path: the victim is untouched, the path becomes a regular file.
echo precious >victim
ln -s "$T/victim" planted.gz
profile "$T/planted.gz" "$TESTBIN/prog-process-life" leaf || fail "exit status changed"
[ "$(cat victim)" = precious ] || fail "the symlink was followed: victim overwritten"
[ -f planted.gz ] && [ ! -L planted.gz ] || fail "planted.gz is not a regular snapshot file"
"$MEMPROF" report planted.gz >/dev/null
[ "$(stat -c %a planted.gz)" = 600 ] || fail "snapshot mode is $(stat -c %a planted.gz), expected 600"
# Something that is not a file at the path (as /dev/null would be) is left as it is.
mkfifo fifo.gz
profile "$T/fifo.gz" "$TESTBIN/prog-process-life" leaf >/dev/null 2>err || fail "exit status changed"
[ -p fifo.gz ] || fail "the FIFO at the output path was replaced"
expect_match '^memprof: cannot write snapshot .*fifo.gz: not a regular file' err
mkdir dir.gz
profile "$T/dir.gz" "$TESTBIN/prog-process-life" leaf >/dev/null 2>err || fail "exit status changed"
[ -d dir.gz ] || fail "the directory at the output path was replaced"
# Default name: memprof.<program>.<pid>.gz in the starting directory, even after a chdir.
mkdir sub && (cd sub && LD_PRELOAD=$LIBMEMPROF "$TESTBIN/prog-process-life" leaf)
ls sub/memprof.prog-process-life.*.gz >/dev/null || fail "no memprof.%e.%p.gz in the working directory"
