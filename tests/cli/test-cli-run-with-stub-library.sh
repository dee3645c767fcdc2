#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof run, checked with a stub in place of libmemprof.so (MEMPROF_LIB), so that it does
# not depend on the real library: LD_PRELOAD and the option variables reach the program,
# every path the stub appends to MEMPROF_MANIFEST is announced in order and the manifest is
# removed, the program's exit status or fatal signal is passed on, a missing or
# non-executable program gives 127 or 126, and SIGINT does not kill memprof while it waits.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
command -v cc >/dev/null || skip "no C compiler to build the stub library"

# The stub appends each word of $STUB_SNAPSHOTS, made absolute, to the manifest, then
# clears the variable so that programs started later do not repeat them.
cat >stub.c <<'END'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
__attribute__((constructor)) static void stub_init(void)
{
	const char *manifest = getenv("MEMPROF_MANIFEST"), *list = getenv("STUB_SNAPSHOTS");
	char words[4096], line[8192], cwd[4096];
	int fd;

	if (!manifest || !list || !getcwd(cwd, sizeof(cwd)))
		return;
	fd = open(manifest, O_WRONLY | O_APPEND);
	if (fd < 0)
		return;
	snprintf(words, sizeof(words), "%s", list);
	for (char *w = strtok(words, " "); w; w = strtok(NULL, " ")) {
		int n = snprintf(line, sizeof(line), "%s/%s\n", cwd, w);
		if (write(fd, line, (size_t)n) != n)
			break;
	}
	close(fd);
	unsetenv("STUB_SNAPSHOTS");
}
END
cc -shared -fPIC -o "$T/stub lib.so" stub.c 2>/dev/null || true # a path ld.so cannot preload
cc -shared -fPIC -o "$T/libstub.so" stub.c || fail "cannot build the stub library"
export MEMPROF_LIB=$T/libstub.so TMPDIR=$T/tmp
mkdir "$TMPDIR"
unset LD_PRELOAD MEMPROF_OUTPUT MEMPROF_DEPTH MEMPROF_FOLLOW_CHILDREN

# Exit status, announced snapshots in manifest order, manifest removed.
rc=0
STUB_SNAPSHOTS="one.gz two.gz" "$MEMPROF" run -- sh -c 'exit 7' >out.txt 2>err.txt || rc=$?
[ $rc -eq 7 ] || { cat err.txt; fail "exit status $rc, not 7"; }
printf 'memprof: snapshot written to %s\n' "$T/one.gz" "$T/two.gz" | diff -u - err.txt ||
	fail "snapshot lines differ"
[ -z "$(ls "$TMPDIR")" ] || fail "manifest left behind: $(ls "$TMPDIR")"

# No snapshot: said so, status still the program's.
rc=0
"$MEMPROF" run -- sh -c 'exit 3' 2>err.txt || rc=$?
[ $rc -eq 3 ] || fail "exit status $rc, not 3"
# The stub writes no "#start" line to the manifest: to memprof run, the library never loaded.
echo 'memprof: no snapshot was written: sh never loaded libmemprof.so: LD_PRELOAD was taken out of its environment' |
	diff -u - err.txt || fail "no-snapshot message differs"
"$MEMPROF" run -- true 2>err.txt || fail "memprof run -- true failed"

# Environment seen by the program: the library first in LD_PRELOAD, then the user's.
"$MEMPROF" run --output 'snap.%p.gz' --depth 17 --follow-children -- \
	sh -c 'echo "$LD_PRELOAD|$MEMPROF_OUTPUT|$MEMPROF_DEPTH|$MEMPROF_FOLLOW_CHILDREN"; test -f "$MEMPROF_MANIFEST"' \
	>env.txt 2>/dev/null || fail "option run failed (or the manifest did not exist)"
echo "$T/libstub.so|$T/snap.%p.gz|17|1" | diff -u - env.txt || fail "environment differs (the pattern made absolute)"
LD_PRELOAD=/lib/x86_64-linux-gnu/libc.so.6 "$MEMPROF" run -- sh -c 'echo "$LD_PRELOAD"' >env.txt 2>/dev/null
echo "$T/libstub.so:/lib/x86_64-linux-gnu/libc.so.6" | diff -u - env.txt || fail "LD_PRELOAD not prepended"
# Options end at PROGRAM: its own options are passed to it.
"$MEMPROF" run sh -c 'echo "$0 $1"' --depth x >args.txt 2>/dev/null || fail "run without -- failed"
echo "--depth x" | diff -u - args.txt || fail "arguments after PROGRAM were not passed on"

# SIGCHLD ignored by the caller must not hide the program's status.
rc=0
env --ignore-signal=CHLD "$MEMPROF" run -- sh -c 'exit 9' 2>/dev/null || rc=$?
[ $rc -eq 9 ] || fail "with SIGCHLD ignored: exit status $rc, not 9"

# Death by a signal: the message, then memprof dies of the same signal (139 = 128 + SEGV).
rc=0
STUB_SNAPSHOTS=crash.gz "$MEMPROF" run -- sh -c 'kill -SEGV $$' 2>err.txt || rc=$?
[ $rc -eq 139 ] || { cat err.txt; fail "exit status $rc, not 139"; }
printf '%s\n' "memprof: snapshot written to $T/crash.gz" 'memprof: sh killed by signal 11 (SIGSEGV)' |
	diff -u - err.txt || fail "signal messages differ"
rc=0
"$MEMPROF" run -- sh -c 'kill -TERM $$' 2>err.txt || rc=$?
[ $rc -eq 143 ] || fail "exit status $rc after SIGTERM, not 143"
expect_match '^memprof: sh killed by signal 15 \(SIGTERM\)$' err.txt

# Programs that cannot run: one line, shell-like status, no snapshot message.
rc=0
"$MEMPROF" run -- ./no-such-program 2>err.txt || rc=$?
[ $rc -eq 127 ] || fail "missing program: exit $rc, not 127"
echo 'memprof: cannot run ./no-such-program: No such file or directory' | diff -u - err.txt ||
	fail "missing program message differs"
printf '#!/bin/sh\n' >not-executable && chmod 644 not-executable
rc=0
"$MEMPROF" run -- ./not-executable 2>err.txt || rc=$?
[ $rc -eq 126 ] || fail "non-executable program: exit $rc, not 126"
echo 'memprof: cannot run ./not-executable: Permission denied' | diff -u - err.txt ||
	fail "non-executable message differs"
[ -z "$(ls "$TMPDIR")" ] || fail "manifest left behind after a failed exec"

# SIGINT to memprof while it waits is ignored; the program finishes and its status comes
# back. env --default-signal undoes the SIG_IGN bash gives background jobs.
rm -f started
env --default-signal=INT,QUIT "$MEMPROF" run -- sh -c ': >started; sleep 1; exit 5' 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ -e started ] && break; sleep 0.05; done
[ -e started ] || fail "the program did not start"
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ $rc -eq 5 ] || fail "after SIGINT to memprof: exit $rc, not 5"

# Library lookup failures are usage errors.
MEMPROF_LIB=$T/missing.so expect_error "cannot find libmemprof.so \(looked in MEMPROF_LIB=$T/missing.so: No such file or directory\)$" \
	"$MEMPROF" run -- true
if [ -e "$T/stub lib.so" ]; then
	MEMPROF_LIB="$T/stub lib.so" expect_error "cannot preload .*: LD_PRELOAD cannot hold a path with a space or colon$" \
		"$MEMPROF" run -- true
fi
