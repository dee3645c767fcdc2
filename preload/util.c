/* SPDX-License-Identifier: MIT */
/* Profiler memory from mmap, logging with write(2), clocks and spinlocks: nothing here may
 * call the allocator that libmemprof.so wraps. */
#include "util.h"

#include "arch.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Every mapping of ours, so that a leak scan never takes the profiler's own memory (the live
 * table above all) for roots. A slot is claimed by CAS on `lo` (0: free, 1: being filled).
 * `in_flight` counts mp_map/mp_unmap calls between their mmap/munmap and their registry
 * update: a scan that stops the threads retries while it is not zero. */
#define MAPS_MAX 16384
static struct {
	_Atomic uintptr_t lo;
	uintptr_t hi;
} maps[MAPS_MAX];
static atomic_size_t maps_high;
static atomic_int in_flight;
static atomic_int maps_full;

static size_t maps_cap = MAPS_MAX;

void mp_maps_limit_for_test(size_t n)
{
	if (n > 0 && n < MAPS_MAX)
		maps_cap = n;
}

static void maps_add(uintptr_t lo, uintptr_t hi)
{
	for (size_t i = 0; i < maps_cap; i++) {
		uintptr_t v = 0;
		if (atomic_load_explicit(&maps[i].lo, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong(&maps[i].lo, &v, 1)) {
			maps[i].hi = hi;
			atomic_store(&maps[i].lo, lo);
			size_t h = atomic_load(&maps_high);
			while (h < i + 1 && !atomic_compare_exchange_weak(&maps_high, &h, i + 1))
				;
			return;
		}
	}
	atomic_store(&maps_full, 1);
}

static void maps_remove(uintptr_t lo)
{
	size_t n = atomic_load(&maps_high);
	for (size_t i = 0; i < n; i++) {
		uintptr_t v = lo;
		if (atomic_compare_exchange_strong(&maps[i].lo, &v, 0))
			return;
	}
}

void *mp_map(size_t size_bytes)
{
	atomic_fetch_add(&in_flight, 1);
	void *p = mmap(NULL, size_bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != MAP_FAILED)
		maps_add((uintptr_t)p, (uintptr_t)p + size_bytes);
	atomic_fetch_sub(&in_flight, 1);
	return p == MAP_FAILED ? NULL : p;
}

void mp_unmap(void *p, size_t size_bytes)
{
	if (!p)
		return;
	atomic_fetch_add(&in_flight, 1);
	munmap(p, size_bytes);
	maps_remove((uintptr_t)p);
	atomic_fetch_sub(&in_flight, 1);
}

void mp_maps_after_fork_child(void)
{
	atomic_store(&in_flight, 0);
}

int mp_maps_in_flight(void)
{
	return atomic_load(&in_flight);
}

size_t mp_maps_list(uintptr_t (*out)[2], size_t cap)
{
	size_t n = atomic_load(&maps_high), k = 0;
	for (size_t i = 0; i < n && k < cap; i++) {
		uintptr_t lo = atomic_load(&maps[i].lo);
		if (lo > 1) {
			out[k][0] = lo;
			out[k][1] = maps[i].hi;
			k++;
		}
	}
	return k;
}

int mp_maps_overflowed(void)
{
	return atomic_load(&maps_full);
}

MP_TLS int mp_locks_held;

/* The lock-order witness of debug builds: the ranks this thread holds, one bit each. */
#ifdef MP_DEBUG
static MP_TLS unsigned ranks_held;
#define WITNESS_TAKE(l) (ranks_held |= 1u << (l)->rank)
#define WITNESS_DROP(l) (ranks_held &= ~(1u << (l)->rank))
#else
static const unsigned ranks_held;
#define WITNESS_TAKE(l) ((void)(l))
#define WITNESS_DROP(l) ((void)(l))
#endif

void mp_spin_lock(mp_spinlock_t *l)
{
	/* No lock of this rank or a higher one may be held already. */
	MP_ASSERT(l->rank < MP_RANK_COUNT && (ranks_held >> l->rank) == 0);
	for (unsigned spins = 0;; spins++) {
		int expected = 0;
		if (atomic_compare_exchange_weak_explicit(&l->locked, &expected, 1,
							  memory_order_acquire, memory_order_relaxed)) {
			mp_locks_held++;
			WITNESS_TAKE(l);
			return;
		}
		if (spins > 64)
			sched_yield();
		else
			__builtin_ia32_pause();
	}
}

int mp_spin_trylock(mp_spinlock_t *l)
{
	int expected = 0;
	if (atomic_load_explicit(&l->locked, memory_order_relaxed))
		return 0;
	if (!atomic_compare_exchange_strong_explicit(&l->locked, &expected, 1, memory_order_acquire,
						     memory_order_relaxed))
		return 0;
	mp_locks_held++;
	WITNESS_TAKE(l);
	return 1;
}

void mp_spin_unlock(mp_spinlock_t *l)
{
	MP_ASSERT(atomic_load_explicit(&l->locked, memory_order_relaxed));
	atomic_store_explicit(&l->locked, 0, memory_order_release);
	mp_locks_held--;
	WITNESS_DROP(l);
}

#define ARENA_CHUNK (4u << 20)

/* The arena's current chunk, its header at the start of its mapping. `used` only grows: a
 * request that does not fit leaves it past `size`, and the thread that maps the next chunk
 * installs it by CAS (the loser unmaps its own and takes from the winner's). No lock. */
struct arena_chunk {
	size_t size;
	atomic_size_t used;
};
static _Atomic(struct arena_chunk *) arena;

/* Called from miss paths only (new traces, new modules). */
void *mp_arena_alloc(size_t size_bytes)
{
	size_bytes = (size_bytes + MP_CACHELINE - 1) & ~(size_t)(MP_CACHELINE - 1);
	const size_t header = (sizeof(struct arena_chunk) + MP_CACHELINE - 1) & ~(size_t)(MP_CACHELINE - 1);
	struct arena_chunk *c = atomic_load_explicit(&arena, memory_order_acquire);
	for (;;) {
		if (c && atomic_load_explicit(&c->used, memory_order_relaxed) <= c->size) {
			size_t at = atomic_fetch_add_explicit(&c->used, size_bytes, memory_order_relaxed);
			if (at <= c->size && size_bytes <= c->size - at)
				return (char *)c + at;
		}
		size_t bytes = header + size_bytes > ARENA_CHUNK ? header + size_bytes : ARENA_CHUNK;
		struct arena_chunk *n = mp_map(bytes);
		if (!n)
			return NULL;
		n->size = bytes;
		atomic_store_explicit(&n->used, header + size_bytes, memory_order_relaxed);
		if (atomic_compare_exchange_strong_explicit(&arena, &c, n, memory_order_release,
							    memory_order_acquire))
			return (char *)n + header;
		mp_unmap(n, bytes); /* another thread's chunk is in: c is it now */
	}
}

void mp_assert_failed(const char *expr, const char *file, int line)
{
	char where[300];
	size_t n = 0;
	for (const char *s = " at "; *s; s++)
		where[n++] = *s;
	for (const char *s = file; *s && n < sizeof(where) - 24; s++)
		where[n++] = *s;
	where[n++] = ':';
	n += mp_utoa((uint64_t)(line > 0 ? line : 0), where + n);
	where[n] = '\0';
	mp_log("assertion failed: ", expr, where);
	/* SIGABRT at its default action, unblocked, set with the system call itself: the
	 * library's own fatal-signal handler (fatal.c, which also interposes sigaction) would
	 * write a snapshot now, with this thread's locks held. */
	struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } dfl = { 0 };
	syscall(SYS_rt_sigaction, SIGABRT, &dfl, NULL, sizeof(dfl.mask));
	sigset_t abrt;
	sigemptyset(&abrt);
	sigaddset(&abrt, SIGABRT);
	pthread_sigmask(SIG_UNBLOCK, &abrt, NULL);
	abort();
}

void mp_log(const char *a, const char *b, const char *c)
{
	char buf[1024];
	size_t n = 0;
	const char *parts[] = { "memprof: ", a, b, c, "\n" };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		for (const char *s = parts[i]; s && *s && n < sizeof(buf) - 1; s++)
			buf[n++] = *s;
	}
	if (buf[n - 1] != '\n')
		buf[n++] = '\n';
	int saved = errno;
	ssize_t w = write(STDERR_FILENO, buf, n);
	(void)w;
	errno = saved;
}

ssize_t mp_read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

size_t mp_utoa(uint64_t v, char *buf)
{
	char tmp[21];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t mp_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int mp_wait_step(int tries, uint64_t *deadline, uint64_t limit_ns)
{
	if (tries < 100) {
		sched_yield();
		return 1;
	}
	uint64_t now = mp_now_ns();
	if (!*deadline)
		*deadline = now + limit_ns;
	if (now >= *deadline)
		return 0;
	struct timespec ts = { 0, 100 * 1000 };
	nanosleep(&ts, NULL);
	return 1;
}

uint64_t mp_coarse_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

uint64_t mp_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* From here on frees go unseen, so a snapshot would report every block live at the failure
 * as in use at exit: none is written (mp_failed tells the writer). */
void mp_fail(const char *what)
{
	atomic_store(&mp_failed, 1);
	if (atomic_exchange(&mp_active, 0))
		mp_log("internal failure: ", what,
		       "; recording stopped, no snapshot will be written, the program runs on");
}
