/* SPDX-License-Identifier: MIT */
/* The real allocator functions, found with dlsym(RTLD_NEXT), and the static arena that serves
 * the requests dlsym makes while it finds them. */
#include "bootstrap.h"

#include "arch.h"
#include "util.h"

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

struct mp_real mp_real;
atomic_int mp_resolved;
static MP_TLS int in_resolve;

_Alignas(64) char mp_boot[MP_BOOT_BYTES];
static atomic_size_t boot_used;

/* Each block has its size in the 16 bytes before it. Never freed; zeroed by being static. */
void *mp_boot_alloc(size_t size, size_t align)
{
	if (align < 16)
		align = 16;
	for (;;) {
		size_t used = atomic_load(&boot_used);
		size_t start = (used + 16 + align - 1) & ~(align - 1);
		if (size > sizeof(mp_boot) || start + size > sizeof(mp_boot))
			return NULL;
		if (atomic_compare_exchange_weak(&boot_used, &used, start + size)) {
			*(size_t *)(mp_boot + start - 16) = size;
			return mp_boot + start;
		}
	}
}

size_t mp_boot_size(const void *p)
{
	return *(const size_t *)((const char *)p - 16);
}

#define RESOLVE(name) mp_real.name = (__typeof__(mp_real.name))dlsym(RTLD_NEXT, #name)

int mp_resolve_slow(void)
{
	if (in_resolve)
		return 0;
	int expected = 0;
	if (!atomic_compare_exchange_strong(&mp_resolved, &expected, 1)) {
		while (atomic_load(&mp_resolved) != 2) /* another thread is resolving */
			mp_cpu_relax();
		return 1;
	}
	in_resolve = 1;
	RESOLVE(malloc);
	RESOLVE(free);
	RESOLVE(calloc);
	RESOLVE(realloc);
	RESOLVE(posix_memalign);
	RESOLVE(aligned_alloc);
	RESOLVE(memalign);
	RESOLVE(valloc);
	RESOLVE(pvalloc);
	RESOLVE(malloc_usable_size);
	mp_real.exit_ = (void (*)(int))dlsym(RTLD_NEXT, "_exit");
	mp_real.Exit_ = (void (*)(int))dlsym(RTLD_NEXT, "_Exit");
	RESOLVE(dlclose);
	RESOLVE(pthread_getattr_np);
	in_resolve = 0;
	if (!mp_real.malloc || !mp_real.free || !mp_real.calloc || !mp_real.realloc) {
		mp_log("cannot find the real malloc with dlsym", NULL, NULL);
		syscall(SYS_exit_group, 127);
	}
	atomic_store_explicit(&mp_resolved, 2, memory_order_release);
	return 1;
}
