/* SPDX-License-Identifier: MIT */
/* Number formatting shared by every memprof output: thousands separators, durations,
 * short byte sizes. */
#ifndef MEMPROF_NUMFMT_H
#define MEMPROF_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

/* 20 digits, 6 separators and the NUL of the largest uint64_t. */
#define MP_FMT_U64_BYTES 27

/* Writes v with a comma every three digits ("1,234,567") into buf and returns buf. */
char *mp_fmt_u64(uint64_t v, char buf[MP_FMT_U64_BYTES]);

/* Writes a duration in nanoseconds as seconds with millisecond precision ("1.234 s"). */
char *mp_fmt_duration(uint64_t t_ns, char *buf, size_t buf_bytes);

/* "1023 B", "1.5 KiB", "12.0 MiB": at most 10 characters. */
void mp_fmt_bytes_short(uint64_t v, char *buf, size_t buf_bytes);

#endif
