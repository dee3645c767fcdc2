/* SPDX-License-Identifier: MIT */
/* A library loaded with RTLD_DEEPBIND: its own references to malloc and free bind to the C
 * library first, past the preloaded profiler. The program frees what it allocates and it
 * frees what the program allocates. */
#include <stdlib.h>

void *lib_alloc(size_t n)
{
	return malloc(n);
}

void lib_free(void *p)
{
	free(p);
}
