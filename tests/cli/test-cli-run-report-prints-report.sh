#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof run --report: the program's stdout is byte for byte what it is without memprof,
# the report of its snapshot (what memprof report prints) comes on stderr after the
# "snapshot written to" line, and the exit status is the program's, also when it dies of a
# signal or its snapshot cannot be read.
source "$(dirname "$0")/../lib/lib.sh"
unset MEMPROF_LIB LD_PRELOAD NO_COLOR
[ -e "$LIBMEMPROF" ] || fail "$LIBMEMPROF is not built"

cat >prog.c <<'C'
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static void *volatile sink;
int main(int argc, char **argv)
{
	for (int i = 0; i < 3; i++)
		sink = malloc(1000);
	printf("line one\nline two: %d\n", 42);
	fprintf(stderr, "prog's own stderr\n");
	fflush(stdout);
	/* The library writes no snapshot for a fatal signal; a fork child's exit writes one. */
	if (argc > 1 && strcmp(argv[1], "kill") == 0) {
		pid_t pid = fork();

		if (pid == 0)
			exit(0);
		waitpid(pid, NULL, 0);
		raise(SIGTERM);
	}
	/* Empties the fork child's snapshot, argv[2] with %d for its pid, before exiting. */
	if (argc > 2 && strcmp(argv[1], "spoil") == 0) {
		pid_t pid = fork();
		char path[4096];

		if (pid == 0)
			exit(0);
		waitpid(pid, NULL, 0);
		snprintf(path, sizeof(path), argv[2], (int)pid);
		if (truncate(path, 0) != 0)
			perror(path);
	}
	return 5;
}
C
cc -std=gnu11 -O0 -g -o prog prog.c || fail "cannot build the test program"

rc=0
./prog >expected.out 2>/dev/null || rc=$?
[ $rc -eq 5 ] || fail "prog alone exited $rc, not 5"

rc=0
"$MEMPROF" run --report --output "$T/snap.%p.gz" -- ./prog >out.txt 2>err.txt || rc=$?
[ $rc -eq 5 ] || { cat err.txt; fail "exit status $rc, not 5"; }
cmp expected.out out.txt || { diff expected.out out.txt; fail "the program's stdout changed"; }
expect_match "^prog's own stderr$" err.txt
expect_match "^memprof: snapshot written to $T/snap\.[0-9]+\.gz$" err.txt
expect_match '^HEAP SUMMARY:$' err.txt
expect_match '^    in use at exit: [0-9,]+ bytes in [0-9,]+ blocks$' err.txt
expect_match '^TOP SITES \(each once; --sort KEY for one list\):$' err.txt
expect_match '^    at 0x[0-9a-f]+: main \(prog\.c:[0-9]+\)$' err.txt
expect_no_match '\[1m' err.txt
# The report is what memprof report prints for that snapshot, right after its announcement.
snap=$(sed -n 's/^memprof: snapshot written to //p' err.txt)
[ "$(echo "$snap" | wc -l)" -eq 1 ] || fail "expected one snapshot, got: $snap"
"$MEMPROF" report "$snap" >report.txt || fail "memprof report rejected $snap"
sed -n '/^memprof: snapshot written to /,$p' err.txt | tail -n +2 >reported.txt
cmp report.txt reported.txt || { diff report.txt reported.txt | head -20; fail "run --report differs from memprof report"; }

# Without --report: no report.
"$MEMPROF" run --output "$T/plain.%p.gz" -- ./prog >/dev/null 2>plain.txt || true
expect_no_match 'HEAP SUMMARY' plain.txt

# Killed by a signal: the report of the fork child's snapshot still comes, then memprof dies
# of the same signal.
rc=0
"$MEMPROF" run --report --output "$T/kill.%p.gz" -- ./prog kill >out.txt 2>err.txt || rc=$?
[ $rc -eq 143 ] || { cat err.txt; fail "exit status $rc after SIGTERM, not 143"; }
cmp expected.out out.txt || fail "the program's stdout changed (signal case)"
expect_match '^HEAP SUMMARY:$' err.txt
expect_match '^memprof: \./prog killed by signal 15 \(SIGTERM\)$' err.txt

# A snapshot that cannot be read gives memprof report's one-line error; the other is still
# reported, and the status is still the program's.
rc=0
"$MEMPROF" run --report --output "$T/spoil.%p.gz" -- ./prog spoil "$T/spoil.%d.gz" >out.txt 2>err.txt || rc=$?
[ $rc -eq 5 ] || { cat err.txt; fail "exit status $rc with an unreadable snapshot, not 5"; }
cmp expected.out out.txt || fail "the program's stdout changed (unreadable snapshot)"
expect_match "^memprof: $T/spoil\.[0-9]+\.gz: empty file$" err.txt
[ "$(grep -c '^HEAP SUMMARY:$' err.txt)" -eq 1 ] || { cat err.txt; fail "expected one report"; }
echo "report on stderr, stdout unchanged, status kept"
