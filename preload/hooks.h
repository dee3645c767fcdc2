/* SPDX-License-Identifier: MIT */
/* The interposed allocator functions (malloc, free, calloc, realloc, the aligned family,
 * reallocarray, strdup, strndup, malloc_usable_size, dlclose, pthread_getattr_np): their prototypes are the C
 * library's, and nothing inside the library calls them by name. */
#ifndef MEMPROF_HOOKS_H
#define MEMPROF_HOOKS_H

#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#endif
