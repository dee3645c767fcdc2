/* SPDX-License-Identifier: MIT */
/* A daemon's descriptor habits under the profiler: it closes every inherited descriptor
 * (closefrom, close_range or a close loop, by argv[1]), opens pipes and a socketpair on the
 * freed numbers, puts data in them, allocates from many call stacks (some through a frame
 * with no unwind information, which sends libunwind to its checked fallback, one of them
 * with its frame pointer at unmapped memory) and in new
 * threads, then reads the data back and prints it with the list of its open descriptors
 * (also listed before the close: a descriptor of the profiler's own would show there).
 * `prog-fd-reuse count` instead opens /dev/null until it cannot and prints how many opened.
 * The output must be the same bare and profiled. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *volatile sink;

/* Machine code with no CFI: push %rbp; mov %rsp,%rbp; mov %rdi,%rax; mov %rsi,%rdi;
 * call *%rax; pop %rbp; ret. libunwind finds no DWARF for it and walks it by its frame
 * pointer, validating what it reads. */
static const unsigned char no_cfi_code[] = { 0x55, 0x48, 0x89, 0xe5, 0x48, 0x89, 0xf8, 0x48,
					     0x89, 0xf7, 0xff, 0xd0, 0x5d, 0xc3 };
static void (*through_no_cfi)(void (*fn)(long), long arg);
/* The same with %rbp pointing at unmapped memory (0x10000, below mmap_min_addr) during the
 * call: push %rbp; movabs $0x10000,%rbp; mov %rdi,%rax; mov %rsi,%rdi; call *%rax;
 * pop %rbp; ret. The unwinder's frame-pointer walk must check before it reads there. */
static const unsigned char bad_rbp_code[] = { 0x55, 0x48, 0xbd, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
					      0x00, 0x00, 0x48, 0x89, 0xf8, 0x48, 0x89, 0xf7, 0xff,
					      0xd0, 0x5d, 0xc3 };
static void (*through_bad_rbp)(void (*fn)(long), long arg);

static __attribute__((noinline)) void alloc_leaf(long n)
{
	for (long i = 0; i < 4; i++) {
		sink = malloc((size_t)(n % 200) + 16);
		free(sink);
		sink = calloc(2, (size_t)(n % 50) + 8);
		free(sink);
	}
}

/* Distinct stacks: recursion depth d, through the frame without CFI on odd depths. */
static __attribute__((noinline)) void deep(int d, long n)
{
	if (d == 0) {
		if (through_bad_rbp && n % 5 == 0)
			through_bad_rbp(alloc_leaf, n);
		else if (through_no_cfi && (n & 1))
			through_no_cfi(alloc_leaf, n);
		else
			alloc_leaf(n);
		return;
	}
	deep(d - 1, n);
	__asm__ volatile("" ::: "memory"); /* no tail call */
}

/* Frames of a page each: the frame without CFI is then reached at many stack pages, more
 * than libunwind remembers as checked, so it checks again. */
static __attribute__((noinline)) void deep_pages(int d, long n)
{
	volatile char page[4096];
	page[0] = (char)d;
	if (d == 0) {
		if (through_no_cfi)
			through_no_cfi(alloc_leaf, n);
		return;
	}
	deep_pages(d - 1, n);
	page[1] = page[0];
}

static void allocate_a_lot(void)
{
	for (long n = 0; n < 400; n++)
		deep((int)(n % 23), n);
	for (long n = 0; n < 64; n++)
		deep_pages((int)(n % 32), n);
}

static void *thread_main(void *arg)
{
	(void)arg;
	allocate_a_lot();
	return NULL;
}

static void close_inherited(const char *how)
{
	if (strcmp(how, "closefrom") == 0) {
		closefrom(3);
	} else if (strcmp(how, "close_range") == 0) {
		if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
			perror("close_range");
			exit(2);
		}
	} else {
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	}
}

static void print_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		perror("opendir");
		exit(2);
	}
	int fds[256], n = 0, mine = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 256) {
		if (e->d_name[0] != '.' && atoi(e->d_name) != mine)
			fds[n++] = atoi(e->d_name);
	}
	closedir(d);
	for (int i = 1; i < n; i++) { /* insertion sort: readdir's order is the kernel's */
		int v = fds[i], j = i;
		for (; j > 0 && fds[j - 1] > v; j--)
			fds[j] = fds[j - 1];
		fds[j] = v;
	}
	printf("open descriptors:");
	for (int i = 0; i < n; i++)
		printf(" %d", fds[i]);
	printf("\n");
}

static void read_back(const char *what, int fd, size_t len)
{
	char buf[64] = { 0 };
	size_t got = 0;
	while (got < len) {
		ssize_t k = read(fd, buf + got, len - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	printf("%s: %zu bytes: ", what, got);
	for (size_t i = 0; i < got; i++)
		printf(buf[i] >= 32 && buf[i] < 127 ? "%c" : "\\%03o", (unsigned char)buf[i]);
	printf("\n");
}

static int count_openable(void)
{
	allocate_a_lot(); /* the unwinder is set up before the count */
	int n = 0;
	while (open("/dev/null", O_RDONLY) >= 0)
		n++;
	if (errno != EMFILE)
		perror("open");
	/* Allocation at the limit still works and is still unwound. */
	allocate_a_lot();
	printf("opened %d descriptors before EMFILE\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: prog-fd-reuse closefrom|close_range|loop|count\n");
		return 2;
	}
	void *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code != MAP_FAILED) {
		memcpy(code, no_cfi_code, sizeof(no_cfi_code));
		memcpy((char *)code + 64, bad_rbp_code, sizeof(bad_rbp_code));
		if (mprotect(code, 4096, PROT_READ | PROT_EXEC) == 0) {
			through_no_cfi = (void (*)(void (*)(long), long))code;
			through_bad_rbp = (void (*)(void (*)(long), long))((char *)code + 64);
		}
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (strcmp(argv[1], "count") == 0)
		return count_openable();

	allocate_a_lot(); /* the unwinder has its state before the descriptors go */
	print_fds();
	close_inherited(argv[1]);

	int data[2], empty[2], sv[2];
	if (pipe(data) != 0 || pipe(empty) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		perror("pipe");
		return 2;
	}
	if (write(data[1], "ABCDEFGH", 8) != 8 || write(sv[0], "request-from-peer", 17) != 17) {
		perror("write");
		return 2;
	}
	/* `empty` stays empty and blocking: a read from it would hang the program. */
	allocate_a_lot();
	/* New threads, one after another: each starts with libunwind's per-thread caches empty. */
	for (int i = 0; i < 8; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, thread_main, NULL) != 0) {
			perror("pthread_create");
			return 2;
		}
		pthread_join(t, NULL);
	}
	allocate_a_lot();
	print_fds();
	read_back("pipe", data[0], 8);
	read_back("socket", sv[1], 17);
	if (write(empty[1], "Z", 1) != 1)
		perror("write");
	read_back("empty pipe", empty[0], 1);
	return 0;
}
