#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A program that re-execs itself 20 times while 4 threads allocate, under --interval 5ms with
# a %p.%n pattern: no snapshot name is written twice (the new image numbers on from the old
# one's) and no temporary file is left (an exec never cuts a snapshot off). Before the exec
# held the snapshot lock, every run of a hostile tester's version had both. A FIFO as the
# manifest, with no reader, never holds a process up (it did, at exit, until SIGKILL).
source "$(dirname "$0")/../lib/lib.sh"
cat >reexec.c <<'EOC'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static void *churn(void *a)
{
	for (;;) {
		void *p[64];
		for (int i = 0; i < 64; i++)
			p[i] = malloc(16 + (size_t)i * 8);
		for (int i = 0; i < 64; i++)
			free(p[i]);
	}
	return a;
}
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	usleep(20000);
	if (n < 20) {
		char next[16];
		snprintf(next, sizeof(next), "%d", n + 1);
		char *args[] = { argv[0], next, NULL };
		execv(argv[0], args);
		return 9;
	}
	printf("done %d\n", n);
	fflush(stdout);
	_exit(5);
}
EOC
cc -O1 -o reexec reexec.c -lpthread || fail "cannot build the test program"
for run in 1 2; do
	rm -rf out && mkdir out
	rc=0
	timeout 120 "$MEMPROF" run --interval 5ms --output "$T/out/snap.%p.%n.gz" -- ./reexec >o.txt 2>e.txt || rc=$?
	[ $rc = 5 ] || { tail e.txt; fail "run $run: exit status $rc, not the program's 5"; }
	grep -qx 'done 20' o.txt || fail "run $run: the program did not reach its last image"
	announced=$(grep -c 'snapshot written to' e.txt)
	dups=$(sed -n 's/^memprof: snapshot written to //p' e.txt | sort | uniq -d)
	[ -z "$dups" ] || fail "run $run: announced twice: $dups"
	[ "$(ls out | wc -l)" -eq "$announced" ] || { ls out; fail "run $run: $(ls out | wc -l) files for $announced snapshots (temporary files left?)"; }
	[ "$announced" -ge 2 ] || fail "run $run: only $announced snapshots"
done
mkfifo "$T/fifo"
rc=0
timeout -s KILL 20 env MEMPROF_MANIFEST="$T/fifo" MEMPROF_OUTPUT="$T/ff.%p.gz" LD_PRELOAD="$LIBMEMPROF" \
	sh -c 'exec /bin/true' || rc=$?
[ $rc = 0 ] || fail "a FIFO manifest without a reader held the program up (status $rc)"
[ "$(ls ff.*.gz | wc -l)" -eq 1 ] || fail "no snapshot with a FIFO manifest"
