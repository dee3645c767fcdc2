#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Snapshots written while 4 threads keep adding new call stacks, racing to add each: every
# one reads back
# (its TRACES section holds exactly the frames its size says), and the last one, taken after
# the threads are done, holds every stack once. Before the writer read each trace once per
# snapshot, a trace added between its totals and its traces could make the section's size
# wrong: a reviewer's program with 2^20 stacks made 1 unreadable snapshot in 24. That race is
# too rare to catch in a few seconds; this test keeps the rest of the writer's concurrency
# honest.
source "$(dirname "$0")/../lib/lib.sh"
cat >stacks.c <<'EOC'
#include "memprof.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define DEPTH 15 /* 2^15 distinct stacks: one of two call sites at each level */
static atomic_int done;
static void *volatile sink;
__attribute__((noinline)) static void f(unsigned bits, int depth);
__attribute__((noinline)) static void ga(unsigned bits, int depth) { f(bits, depth); __asm__ volatile(""); }
__attribute__((noinline)) static void gb(unsigned bits, int depth) { f(bits, depth); __asm__ volatile(""); }
__attribute__((noinline)) static void f(unsigned bits, int depth)
{
	if (!depth) {
		void *p = malloc(16);
		sink = p;
		free(p);
		return;
	}
	if (bits & 1)
		ga(bits >> 1, depth - 1);
	else
		gb(bits >> 1, depth - 1);
	__asm__ volatile("");
}
/* All four make the same new stacks in the same order, racing to add each one. */
static void *worker(void *arg)
{
	(void)arg;
	struct timespec pause = { 0, 50000 };
	for (unsigned s = 0; s < (1u << DEPTH); s++) {
		f(s, DEPTH);
		if (s % 64 == 0)
			nanosleep(&pause, NULL); /* new stacks keep coming while main writes */
	}
	atomic_fetch_add(&done, 1);
	return NULL;
}
int main(void)
{
	pthread_t th[4];
	for (long t = 0; t < 4; t++)
		pthread_create(&th[t], NULL, worker, (void *)t);
	int n = 0;
	while (atomic_load(&done) < 4 && n < 100)
		n += memprof_snapshot("while adding") == 0;
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	printf("%d snapshots while adding\n", n);
	return 0;
}
EOC
cc -O1 -I"$TOP/include" -o stacks stacks.c -lpthread || fail "cannot build the test program"
MEMPROF_LEAK_CHECK=0 MEMPROF_OUTPUT="$T/snap.%n.gz" LD_PRELOAD="$LIBMEMPROF" ./stacks >out.txt 2>err.txt ||
	{ cat err.txt; fail "the program failed"; }
n=$(sed -n 's/ snapshots while adding//p' out.txt)
[ "${n:-0}" -ge 5 ] || { cat out.txt err.txt; fail "only ${n:-0} snapshots written while the threads ran"; }
bad=0
for f in snap.*.gz; do
	"$MEMPROF" report --no-symbols "$f" >/dev/null 2>rep.err || { bad=$((bad + 1)); cat rep.err; }
done
[ "$bad" -eq 0 ] || fail "$bad of $(ls snap.*.gz | wc -l) snapshots unreadable"
# The final snapshot: each of the 2^15 stacks is one site of 4 allocations, once.
final=$(ls snap.*.gz | sort -t. -k2 -n | tail -1)
"$MEMPROF" export --format folded --value allocs "$final" >folded.txt || fail "cannot export $final"
sites=$(grep -c ';f;.* 4$' folded.txt || true)
[ "$sites" -ge 32768 ] || { head folded.txt; fail "$sites stacks through f in the final snapshot, not 32768"; }
