/* SPDX-License-Identifier: MIT */
/* A library whose constructor allocates before libmemprof.so's runs (it is initialised first,
 * as a program's own libraries are): 1000 blocks of 40 bytes, 900 of them freed again, 100
 * leaked (no pointer to them kept), and one block of 333 bytes kept reachable. */
#include <stdlib.h>

void *ctor_kept;

__attribute__((constructor)) static void ctor_allocates(void)
{
	void *blocks[1000];
	for (int i = 0; i < 1000; i++)
		blocks[i] = malloc(40);
	for (int i = 100; i < 1000; i++)
		free(blocks[i]);
	for (int i = 0; i < 100; i++)
		blocks[i] = NULL;
	__asm__ volatile("" : : "r"(blocks) : "memory");
	ctor_kept = malloc(333);
}
