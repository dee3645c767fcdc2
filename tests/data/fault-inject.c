/* SPDX-License-Identifier: MIT */
/* A fault injector preloaded after libmemprof.so: the real allocator as the profiler sees it
 * refuses requests of two chosen sizes (777777 and 888888 bytes) with ENOMEM, the way an
 * exhausted allocator would. Keyed on size, not on a call count, so that the profiler's own
 * allocations cannot move the failures. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

static int refused(size_t n)
{
	return n == 777777 || n == 888888;
}

void *malloc(size_t n)
{
	static void *(*next)(size_t);
	if (!next)
		next = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	if (refused(n)) {
		errno = ENOMEM;
		return NULL;
	}
	return next(n);
}

void *calloc(size_t k, size_t n)
{
	static void *(*next)(size_t, size_t);
	if (!next)
		next = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	if (refused(k * n)) {
		errno = ENOMEM;
		return NULL;
	}
	return next(k, n);
}

void *realloc(void *p, size_t n)
{
	static void *(*next)(void *, size_t);
	if (!next)
		next = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	if (refused(n)) {
		errno = ENOMEM;
		return NULL;
	}
	return next(p, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	static int (*next)(void **, size_t, size_t);
	if (!next)
		next = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
	if (refused(n))
		return ENOMEM;
	return next(out, align, n);
}
