// SPDX-License-Identifier: MIT
// memcheck's four heuristics for interior pointers, one per mode: the block is kept only by
// a pointer into its middle, which memcheck (and memprof) take as "still reachable" when the
// block's layout matches, "possibly lost" otherwise.
//
//   newarray   new T[3] of a type with a destructor: the pointer is 8 bytes past the count
//   mi         a C++ object with two bases, kept through the second base's pointer
//   length64   a block whose first 8 bytes hold the size of the rest, kept from offset 8
//   stdstring  the old std::string layout (length, capacity, refcount, characters), kept
//              through the characters
//   plain      a zeroed block kept from offset 16: no heuristic applies (possibly lost)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

struct WithDtor {
	long v[3];
	~WithDtor() { v[0] = 0; }
};

struct Left {
	virtual ~Left() {}
	virtual long left() { return 1; }
	long a = 1;
};
struct Right {
	virtual ~Right() {}
	virtual long right() { return 2; }
	long b = 2;
};
struct Both : Left, Right {
	long c = 3;
};

static void *volatile root;

__attribute__((noinline)) static void *launder(void *p)
{
	__asm__ volatile("" : "+r"(p));
	return p;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "newarray")) {
		root = launder(new WithDtor[3]);
	} else if (!strcmp(m, "mi")) {
		Right *r = new Both;
		root = launder(r);
	} else if (!strcmp(m, "length64")) {
		uint64_t *b = (uint64_t *)calloc(1, 64);
		b[0] = 56;
		root = launder(b + 1);
	} else if (!strcmp(m, "stdstring")) {
		size_t cap = 31;
		char *b = (char *)calloc(1, 24 + cap + 1);
		((size_t *)b)[0] = 5; // length
		((size_t *)b)[1] = cap;
		memcpy(b + 24, "hello", 6);
		root = launder(b + 24);
	} else if (!strcmp(m, "plain")) {
		root = launder((char *)calloc(1, 64) + 16);
	} else {
		fprintf(stderr, "usage: %s newarray|mi|length64|stdstring|plain\n", argv[0]);
		return 2;
	}
	return 0;
}
