/* SPDX-License-Identifier: MIT */
/* Calls every hooked function once or more, with glibc's odd cases, and checks the results
 * itself (exit 1 and a line on stderr when one is wrong). Makes exactly the allocations that
 * tests/preload/test-preload-allocator-family-exact-counts.sh expects, and no stdio (which allocates). */
/* The odd cases are the point: overflowing sizes, realloc then reuse of the kept block. */
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="
#pragma GCC diagnostic ignored "-Wuse-after-free"
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failed;

static void expect(int ok, const char *what)
{
	if (!ok) {
		(void)!write(2, "prog-allocator-family: wrong: ", 30);
		(void)!write(2, what, strlen(what));
		(void)!write(2, "\n", 1);
		failed = 1;
	}
}

/* Opaque to the optimizer, so that no malloc/free pair is deleted. */
static void *volatile sink;

int main(void)
{
	errno = 1234;
	void *p1 = malloc(10);                    /* alloc 1: 10 */
	expect(p1 && errno == 1234, "malloc keeps errno");
	free(p1);                                 /* free 1 */
	expect(errno == 1234, "free keeps errno");
	free(NULL);

	char *p2 = calloc(4, 25);                 /* alloc 2: 100 */
	expect(p2 && p2[0] == 0 && p2[99] == 0, "calloc zeroes");
	char *p3 = realloc(NULL, 50);             /* alloc 3: 50 */
	expect(p3 != NULL, "realloc(NULL, n) allocates");
	memset(p3, 'x', 50);
	p3 = realloc(p3, 500);                    /* free 2 (50), alloc 4: 500 */
	expect(p3 && p3[49] == 'x', "realloc keeps contents");
	errno = 0;
	expect(realloc(p3, 0) == NULL, "realloc(p, 0) frees and returns NULL"); /* free 3 */

	char *p4 = reallocarray(NULL, 10, 10);    /* alloc 5: 100, kept */
	errno = 0;
	expect(reallocarray(p4, SIZE_MAX, 2) == NULL && errno == ENOMEM, "reallocarray overflow is ENOMEM");
	p4[99] = 1;

	void *p5 = NULL;
	expect(posix_memalign(&p5, 64, 200) == 0 && ((uintptr_t)p5 & 63) == 0, "posix_memalign aligns"); /* alloc 6 */
	void *bad = (void *)1;
	errno = 4321;
	expect(posix_memalign(&bad, 3, 10) == EINVAL && bad == (void *)1 && errno == 4321,
	       "posix_memalign(3) is EINVAL, leaves errno");
	void *p6 = aligned_alloc(128, 256);       /* alloc 7: 256 */
	expect(p6 && ((uintptr_t)p6 & 127) == 0, "aligned_alloc aligns");
	void *p7 = memalign(32, 40);              /* alloc 8: 40 */
	expect(p7 && ((uintptr_t)p7 & 31) == 0, "memalign aligns");
	void *p8 = valloc(10);                    /* alloc 9: 10 */
	expect(p8 && ((uintptr_t)p8 & 4095) == 0, "valloc aligns to a page");
	void *p9 = pvalloc(10);                   /* alloc 10: 4096 (a whole page) */
	expect(p9 && ((uintptr_t)p9 & 4095) == 0 && malloc_usable_size(p9) >= 4096, "pvalloc rounds to a page");
	char *s1 = strdup("hello");               /* alloc 11: 6 */
	expect(s1 && strcmp(s1, "hello") == 0, "strdup copies");
	char *s2 = strndup("hello world", 5);     /* alloc 12: 6, kept */
	expect(s2 && strcmp(s2, "hello") == 0, "strndup copies and ends");
	expect(malloc_usable_size(s2) >= 6, "malloc_usable_size");
	expect(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) is 0");

	errno = 0;
	expect(calloc(SIZE_MAX / 2, 4) == NULL && errno == ENOMEM, "calloc overflow is ENOMEM");
	errno = 0;
	sink = malloc(SIZE_MAX);
	expect(sink == NULL && errno == ENOMEM, "malloc(SIZE_MAX) is ENOMEM");

	free(p2);   /* frees 4..10 */
	free(p5);
	free(p6);
	free(p7);
	free(p8);
	free(p9);
	free(s1);
	sink = p4;  /* p4 (100) and s2 (6) stay live: 106 bytes in 2 blocks */
	sink = s2;
	return failed;
}
