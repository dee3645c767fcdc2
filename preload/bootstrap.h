/* SPDX-License-Identifier: MIT */
/* The real allocator functions, found with dlsym(RTLD_NEXT), and the static arena that serves
 * requests made before they are found (by dlsym itself). */
#ifndef MEMPROF_BOOTSTRAP_H
#define MEMPROF_BOOTSTRAP_H

#include "state.h"

#include <pthread.h>
#include <stddef.h>

struct mp_real {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
	void (*exit_)(int);
	void (*Exit_)(int);
	int (*dlclose)(void *);
	int (*pthread_getattr_np)(pthread_t, pthread_attr_t *);
};
extern struct mp_real mp_real; /* complete once mp_resolve() has returned 1 */

extern atomic_int mp_resolved; /* 0: not yet, 1: in progress, 2: done */
int mp_resolve_slow(void);
/* Returns 1 when the real functions are there; 0 for a caller that must use the bootstrap
 * (a call made by dlsym itself, on this thread). */
static inline int mp_resolve(void)
{
	if (MP_LIKELY(atomic_load_explicit(&mp_resolved, memory_order_acquire) == 2))
		return 1;
	return mp_resolve_slow();
}

#define MP_BOOT_BYTES (128 * 1024)
extern char mp_boot[MP_BOOT_BYTES];
static inline int mp_is_boot(const void *p)
{
	return (const char *)p >= mp_boot && (const char *)p < mp_boot + MP_BOOT_BYTES;
}
/* A block of the bootstrap arena (never freed, zeroed); NULL when the arena is full. */
void *mp_boot_alloc(size_t size, size_t align);
size_t mp_boot_size(const void *p); /* the requested size of a bootstrap block */

#endif
