/* SPDX-License-Identifier: MIT */
/* Sample: indirect leaks. A doubly linked ring of 4 nodes and a binary tree of 7 nodes are
 * built, then the only pointers to them are dropped. Nothing outside points into either, so:
 *
 *   the tree's root           definitely lost (48 bytes), its 6 descendants indirectly lost
 *   one node of the ring      definitely lost (32 bytes), the other 3 indirectly lost
 *
 * memcheck --leak-check=full and memprof both report:
 *   definitely lost: 80 bytes in 2 blocks, indirectly lost: 384 bytes in 9 blocks.
 * Fix the root (free the tree, break the ring) and the indirect leaks go with it. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

struct ring_node {
	struct ring_node *next, *prev;
	long id, pad;
};

struct tree_node {
	struct tree_node *left, *right;
	long key, depth, weight, pad;
};

static NOINLINE struct ring_node *make_ring(int n)
{
	struct ring_node *first = NULL, *last = NULL;

	for (int i = 0; i < n; i++) {
		struct ring_node *node = calloc(1, sizeof(*node));

		if (!node)
			exit(1);
		node->id = i;
		if (!first)
			first = node;
		else {
			last->next = node;
			node->prev = last;
		}
		last = node;
	}
	last->next = first;
	first->prev = last;
	return first;
}

static NOINLINE struct tree_node *make_tree(long key, int depth)
{
	struct tree_node *node;

	if (depth == 0)
		return NULL;
	node = calloc(1, sizeof(*node));
	if (!node)
		exit(1);
	node->key = key;
	node->depth = depth;
	node->left = make_tree(2 * key, depth - 1);
	node->right = make_tree(2 * key + 1, depth - 1);
	return node;
}

static NOINLINE long walk(const struct tree_node *t)
{
	return t ? t->key + walk(t->left) + walk(t->right) : 0;
}

/* Builds both structures, uses them, and returns without freeing: the last pointers to
 * them die with this frame. */
static NOINLINE long use_and_forget(void)
{
	struct ring_node *ring = make_ring(4);
	struct tree_node *tree = make_tree(1, 3);
	long sum = walk(tree) + ring->next->next->id;

	ring = NULL;
	tree = NULL;
	return sum;
}

/* Overwrites the stack area use_and_forget() used, so that no stale copy of its pointers
 * survives below the stack pointer (memcheck would not look there, memprof neither). */
static NOINLINE void scrub_stack(void)
{
	volatile char junk[4096];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = 0;
}

int main(void)
{
	char line[64];
	long sum = use_and_forget();
	int n;

	scrub_stack();
	n = snprintf(line, sizeof(line), "checksum %ld\n", sum);
	if (write(1, line, (size_t)n) != n)
		return 1;
	return 0;
}
