#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A set-user-ID program run by another user is never profiled. Preloading cannot even reach
# one (ld.so ignores LD_PRELOAD paths with a slash in secure mode), so the library's own check
# is tested with a program linked against libmemprof.so (absolute RPATH, which ld.so honours):
# made set-user-ID root and run as nobody, it has the library loaded (it says so) and leaves
# no snapshot; the same program without the bit, run the same way, leaves one.
source "$(dirname "$0")/../lib/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (to make a set-user-ID root program and run it as nobody)"
command -v setpriv >/dev/null || skip "setpriv is not installed"
asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
asnobody true 2>/dev/null || skip "cannot run a program as nobody here"
chmod 755 "$T"
mkdir -m 777 out
cat >who.c <<'EOC'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
	char line[512];
	int loaded = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f))
		loaded |= strstr(line, "libmemprof.so") != NULL;
	void *volatile p = malloc(100);
	printf("euid %d, libmemprof %s\n", (int)geteuid(), loaded ? "loaded" : "not loaded");
	free(p);
	return 0;
}
EOC
libdir=$(dirname "$LIBMEMPROF")
cc -O1 -o linked who.c -L"$libdir" -Wl,-rpath,"$libdir" -Wl,--no-as-needed -l:libmemprof.so
cc -O1 -o plain who.c
cp linked linked-suid && chmod 4755 linked-suid
cp plain plain-suid && chmod 4755 plain-suid
asnobody ./linked-suid >suid.out 2>&1 || { cat suid.out; fail "the set-user-ID program failed"; }
grep -q '^euid 0,' suid.out || skip "set-user-ID bits do not take effect here (nosuid mount?)"

# The library is loaded, MEMPROF_OUTPUT is set, and still nothing is written.
asnobody env MEMPROF_OUTPUT="$T/out/linked-suid.gz" ./linked-suid >suid.out 2>&1
expect_match '^euid 0, libmemprof loaded$' suid.out
[ "$(wc -l <suid.out)" -eq 1 ] || { cat suid.out; fail "the library printed something"; }
[ -z "$(ls -A out)" ] || { ls -la out; fail "a set-user-ID program was profiled"; }
# Control: the same program without the bit is profiled.
asnobody env MEMPROF_OUTPUT="$T/out/linked.gz" ./linked >plain.out 2>&1
expect_match '^euid [0-9]+, libmemprof loaded$' plain.out
[ -f out/linked.gz ] || { cat plain.out; ls -la out; fail "the control run wrote no snapshot"; }
"$MEMPROF" report out/linked.gz >/dev/null
# Through LD_PRELOAD, ld.so itself refuses: not loaded, not profiled, runs as bare.
asnobody env MEMPROF_OUTPUT="$T/out/preloaded.gz" LD_PRELOAD="$LIBMEMPROF" ./plain-suid >pre.out 2>&1
expect_match '^euid 0, libmemprof not loaded$' pre.out
[ ! -e out/preloaded.gz ] || fail "a set-user-ID program was profiled through LD_PRELOAD"
