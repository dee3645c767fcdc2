/* SPDX-License-Identifier: MIT */
/* A module for the dlopen/dlclose scenario: it allocates on behalf of its caller. */
#include <stdlib.h>

__attribute__((noinline)) static void *plugin_inner(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");
	return p;
}

void *plugin_alloc(size_t n)
{
	void *p = plugin_inner(n);
	__asm__ volatile("" ::: "memory");
	return p;
}
