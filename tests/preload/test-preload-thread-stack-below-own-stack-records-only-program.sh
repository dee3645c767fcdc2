#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A thread whose stack is an array in .bss (pthread_attr_setstack), below every mapping, so
# that the profiler's own stack for that thread lies above it: the allocations glibc makes
# inside the profiler's unwind (pthread_getattr_np) are not recorded as the program's, and
# the allocation count equals memcheck's. They were: the guard set by the hook looked stale
# from the own stack (its address above the hook's frame), so recording went on inside it,
# 3 allocations more, with the profiler's own frames in their stacks.
source "$(dirname "$0")/../lib/lib.sh"
command -v valgrind >/dev/null || skip "valgrind is not installed"
cat >lowstack.c <<'EOC'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
static char stk[1 << 20] __attribute__((aligned(4096)));
void *volatile sink;
static void *worker(void *a)
{
	(void)a;
	sink = malloc(100);
	free(sink);
	sink = malloc(200);
	return NULL;
}
int main(void)
{
	pthread_attr_t at;
	pthread_t t;
	pthread_attr_init(&at);
	pthread_attr_setstack(&at, stk, sizeof stk);
	if (pthread_create(&t, &at, worker, NULL) != 0)
		return 1;
	pthread_join(t, NULL);
	puts("ok");
	return 0;
}
EOC
cc -O1 -g -o lowstack lowstack.c -lpthread || fail "cannot build the test program"
profile "$T/s.gz" ./lowstack >out.txt || fail "the profiled program failed"
"$MEMPROF" report "$T/s.gz" >r.txt || fail "cannot read the snapshot"
valgrind ./lowstack 2>vg.txt >/dev/null || fail "valgrind failed"
ours=$(sed -nE 's/.*total heap usage: ([0-9,]+) allocs.*/\1/p' r.txt)
theirs=$(sed -nE 's/.*total heap usage: ([0-9,]+) allocs.*/\1/p' vg.txt)
[ -n "$ours" ] && [ "$ours" = "$theirs" ] || { cat r.txt; fail "$ours allocations recorded, memcheck counts $theirs"; }
expect_no_match 'find_stack_bounds|mp_run_on_stack|miss_path' r.txt
