/* SPDX-License-Identifier: MIT */
/* What the leak test programs (prog-leak-*.c) share: keeping the compiler's hands off a
 * pointer, and leaving no stale copy of one where memcheck would see it and memprof not (or
 * the other way round) before exit. */
#ifndef MEMPROF_TESTS_LEAK_PROG_H
#define MEMPROF_TESTS_LEAK_PROG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Opaque to the optimizer: returns p unchanged. */
__attribute__((noinline, unused)) static void *launder(void *p)
{
	__asm__ volatile("" : "+r"(p));
	return p;
}

/* Overwrites the stack below the caller (dead frames of setup code; kept with keep_dead) and
 * clears the callee-saved registers, then exit(0). */
__attribute__((noinline, noreturn, unused)) static void scrub_and_exit(int keep_dead)
{
	if (!keep_dead) {
		volatile char wipe[64 * 1024];
		memset((char *)wipe, 0, sizeof(wipe));
	}
	fflush(stdout);
	__asm__ volatile("xor %%ebx, %%ebx\n\txor %%r12d, %%r12d\n\txor %%r13d, %%r13d\n\t"
			 "xor %%r14d, %%r14d\n\txor %%r15d, %%r15d"
			 ::: "rbx", "r12", "r13", "r14", "r15");
	exit(0);
}

#endif
