/* SPDX-License-Identifier: MIT */
/* Process life (constructor, destructor, _exit, _Exit, fork's handlers, daemon): their
 * prototypes are the C library's, and nothing inside the library calls them. */
#ifndef MEMPROF_LIFECYCLE_H
#define MEMPROF_LIFECYCLE_H

#include <stdlib.h>
#include <unistd.h>

#endif
