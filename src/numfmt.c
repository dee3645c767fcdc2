/* SPDX-License-Identifier: MIT */
/* Number formatting shared by every memprof output: thousands separators, durations,
 * short byte sizes. */
#include "numfmt.h"

#include <inttypes.h>
#include <stdio.h>

char *mp_fmt_u64(uint64_t v, char buf[MP_FMT_U64_BYTES])
{
	char digits[21];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
	int out = 0;

	for (int i = 0; i < n; i++) {
		/* A separator goes before every digit that starts a group of three. */
		if (i > 0 && (n - i) % 3 == 0)
			buf[out++] = ',';
		buf[out++] = digits[i];
	}
	buf[out] = '\0';
	return buf;
}

char *mp_fmt_duration(uint64_t t_ns, char *buf, size_t buf_bytes)
{
	uint64_t ms = t_ns / 1000000u;

	snprintf(buf, buf_bytes, "%" PRIu64 ".%03u s", ms / 1000u, (unsigned)(ms % 1000u));
	return buf;
}

void mp_fmt_bytes_short(uint64_t v, char *buf, size_t buf_bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double d = (double)v;
	size_t u = 0;

	if (v < 1024) {
		snprintf(buf, buf_bytes, "%" PRIu64 " B", v);
		return;
	}
	d /= 1024;
	while (d >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		d /= 1024;
		u++;
	}
	snprintf(buf, buf_bytes, "%.1f %s", d, units[u]);
}
