/* SPDX-License-Identifier: MIT */
/* Short C++ names for the text report: template arguments and parameter lists elided, as
 * heaptrack shortens them ("std::vector<…>::push_back"). */
#ifndef MEMPROF_SHORT_NAME_H
#define MEMPROF_SHORT_NAME_H

#include <stddef.h>

/* Writes the short form of the demangled name `name` into buf (always NUL-terminated,
 * truncated to buf_bytes); a C name comes out as it went in. */
void mp_short_name(const char *name, char *buf, size_t buf_bytes);

#endif
