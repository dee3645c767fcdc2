/* SPDX-License-Identifier: MIT */
/* memprof.h: ask the memprof heap profiler for a snapshot or a leak check from inside a
 * program. Header only: nothing to link. Every call does nothing and returns -1 when the
 * program runs without libmemprof.so preloaded, so the calls can stay in release builds.
 *
 *   #include <memprof.h>
 *   memprof_snapshot("after warm-up");      // a snapshot file now, labelled
 *   if (memprof_leak_check() > 0) ...       // lost bytes, by a reachability scan
 *
 * See libmemprof(3). */
#ifndef MEMPROF_H
#define MEMPROF_H

#include <dlfcn.h>

#define MEMPROF_API_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

/* Looks up one of libmemprof.so's entry points once; NULL when it is not loaded. */
static inline void *memprof_api_lookup_(const char *name, void **cache, int *looked)
{
	if (!__atomic_load_n(looked, __ATOMIC_ACQUIRE)) {
#ifdef RTLD_DEFAULT
		void *fn = dlsym(RTLD_DEFAULT, name);
#else
		void *fn = dlsym((void *)0, name); /* RTLD_DEFAULT without _GNU_SOURCE */
#endif
		__atomic_store_n(cache, fn, __ATOMIC_RELAXED);
		__atomic_store_n(looked, 1, __ATOMIC_RELEASE);
	}
	return __atomic_load_n(cache, __ATOMIC_RELAXED);
}

/* Writes a complete snapshot now (the next file of MEMPROF_OUTPUT's %n sequence), with
 * `label` (may be NULL) in it. Returns 0 when the file was written, -1 otherwise. */
static inline int memprof_snapshot(const char *label)
{
	static void *cache;
	static int looked;
	void *fn = memprof_api_lookup_("memprof_api_snapshot", &cache, &looked);
	return fn ? (__extension__(int (*)(const char *))fn)(label) : -1;
}

/* Stops the other threads, classifies every live block as memcheck does (definitely,
 * indirectly, possibly lost, still reachable) and writes a snapshot holding the result.
 * Returns the bytes definitely and indirectly lost (0: no leak), -1 when not profiled. */
static inline long long memprof_leak_check(void)
{
	static void *cache;
	static int looked;
	void *fn = memprof_api_lookup_("memprof_api_leak_check", &cache, &looked);
	return fn ? (__extension__(long long (*)(void))fn)() : -1;
}

#ifdef __cplusplus
}
#endif

#endif
