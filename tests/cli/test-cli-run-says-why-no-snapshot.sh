#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# When a run writes no snapshot, memprof run says why in one line, and exits with the
# program's status: a static binary, a script whose interpreter is static, a shim that execs
# one, a set-user-ID program of another user, an exec with MEMPROF_FOLLOW_EXEC=0, an
# unwritable output path, and a program killed by SIGKILL (also after running a child).
source "$(dirname "$0")/../lib/lib.sh"
printf 'int main(void) { return 4; }\n' >s.c
cc -static -o static-prog s.c 2>/dev/null || skip "no static C library (libc6-dev's libc.a)"
printf '#!%s\n' "$T/static-prog" >script && chmod +x script
printf '#!/bin/sh\nexec "$@"\n' >shim.sh && chmod +x shim.sh
P="memprof: no snapshot was written: "
# why EXPECTED_STATUS EXPECTED_LINE CMD...: the run's status and its only stderr line.
why() {
	local want_rc=$1 want=$2 rc=0
	shift 2
	"$MEMPROF" run -- "$@" >/dev/null 2>err.txt || rc=$?
	[ "$rc" = "$want_rc" ] || { cat err.txt; fail "$*: status $rc, not $want_rc"; }
	echo "$want" | diff -u - <(grep -v 'killed by signal' err.txt) || fail "$*: message differs"
}
why 4 "${P}./static-prog is statically linked, and LD_PRELOAD reaches only dynamically linked programs" \
	./static-prog
why 4 "${P}./script is a script for $T/static-prog, which is statically linked, and LD_PRELOAD reaches only dynamically linked programs" \
	./script
why 4 "${P}./shim.sh exec'd $T/./static-prog, which is statically linked, and LD_PRELOAD reaches only dynamically linked programs" \
	./shim.sh ./static-prog
# A relative exec after a chdir: named as the program saw it.
mkdir sub && cp static-prog sub/st
printf '#include <unistd.h>\nint main(void) { return chdir("sub") ? 2 : execl("./st", "st", (char *)0); }\n' >cdrel.c
cc -o cdrel cdrel.c || fail "cannot build cdrel.c"
why 4 "${P}./cdrel exec'd $T/sub/./st, which is statically linked, and LD_PRELOAD reaches only dynamically linked programs" \
	./cdrel
MEMPROF_FOLLOW_EXEC=0 why 0 "${P}sh exec'd /bin/true, which MEMPROF_FOLLOW_EXEC=0 does not follow" \
	sh -c 'exec /bin/true'
rc=0
"$MEMPROF" run --output /nonexistent/dir/x.gz -- true 2>err.txt || rc=$?
[ $rc = 0 ] || fail "unwritable output: status $rc"
expect_match "^${P}cannot write snapshot /nonexistent/dir/x.gz: No such file or directory" err.txt
[ "$(grep -c "$P" err.txt)" = 1 ] || { cat err.txt; fail "more than one why line"; }
rc=0
"$MEMPROF" run -- sh -c 'kill -KILL $$' 2>err.txt || rc=$?
[ $rc = 137 ] || fail "SIGKILL: status $rc, not 137"
expect_match "^${P}sh was killed by SIGKILL, which ends a process before it can write one$" err.txt
why 137 "${P}sh was killed by SIGKILL, which ends a process before it can write one" \
	sh -c '/bin/true; kill -KILL $$'
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	cp /bin/true suid-true && chown nobody suid-true && chmod 4755 suid-true
	why 0 "${P}./suid-true is set-user-ID, and ld.so ignores LD_PRELOAD for such a program" ./suid-true
fi
