/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the suppression-file reader and matcher (src/suppress.c): `make
 * fuzz-suppressions` runs it for long, tests/torture/test-fuzz-suppressions-short.sh for a few
 * seconds.
 *
 * The input is a suppression file, in either format. It goes through mp_supp_parse(), the
 * code --suppressions uses after reading the file; a file that parses is then matched, for
 * every leak kind, against a few fixed stacks (C and C++ frames, frames without function or
 * module, no frame at all, a deep recursion). Checked besides memory safety: a rejected file
 * leaves one line that names it and its line and keeps nothing; a parsed one is matched in
 * bounded time (the matchers never backtrack more than once per pattern position).
 * Also fed to the two small parsers that take user text: the leak-kind set of
 * --show-leak-kinds and match-leak-kinds, and the wildcard matcher (first line as the
 * pattern, the rest as the name).
 *
 * Seeds: tests/fuzz-corpus-suppressions/. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_format.h"
#include "suppress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const mp_supp_frame_t cxx_stack[] = {
	{ "_ZN6parser5cacheEm", "parser::cache(unsigned long)", "/src/parser/cache.cc", 41,
	  "/usr/lib/libparser.so.1" },
	{ "_ZN6parser5parseEPKc", "parser::parse(char const*)", "/src/parser/parse.cc", 7,
	  "/usr/lib/libparser.so.1" },
	{ "inlined_helper", "inlined_helper", "/src/app/main.c", 20, "/usr/bin/app" },
	{ "main", "main", "/src/app/main.c", 33, "/usr/bin/app" },
	{ "__libc_start_call_main", "__libc_start_call_main", NULL, 0, "/lib/x86_64-linux-gnu/libc.so.6" },
	{ NULL, NULL, NULL, 0, "/usr/bin/app" },
	{ NULL, NULL, NULL, 0, NULL },
};

static mp_supp_frame_t deep_stack[300];

static void init_deep_stack(void)
{
	for (size_t i = 0; i < sizeof(deep_stack) / sizeof(deep_stack[0]); i++)
		deep_stack[i] = (mp_supp_frame_t){
			.function = i % 3 ? "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab" : "recurse",
			.demangled = i % 3 ? "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab" : "recurse",
			.file = "/src/deep/recurse.c",
			.line = (uint32_t)i,
			.module = i % 2 ? "/usr/lib/libdeep.so" : "/usr/bin/deep",
		};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;
	mp_supp_set_t set = { 0 };
	char err[512], *text, *nl;
	uint32_t kinds;

	if (!initialized) {
		init_deep_stack();
		initialized = 1;
	}
	if (size > 1 << 16)
		return 0; /* a suppression file is a few KiB; longer inputs only slow the search */
	err[0] = '\0';
	if (mp_supp_parse(&set, "fuzz.supp", (const char *)data, size, err, sizeof(err)) == 0) {
		for (uint32_t kind = MP_LEAK_REACHABLE; kind <= MP_LEAK_DEFINITE; kind++) {
			const mp_supp_t *found[3] = {
				mp_supp_match(&set, kind, cxx_stack, sizeof(cxx_stack) / sizeof(cxx_stack[0])),
				mp_supp_match(&set, kind, NULL, 0),
				mp_supp_match(&set, kind, deep_stack, sizeof(deep_stack) / sizeof(deep_stack[0])),
			};

			/* A match is one of the set's, for that kind. */
			for (int i = 0; i < 3; i++)
				if (found[i] && (found[i] < set.supps || found[i] >= set.supps + set.n_supps ||
						 !(found[i]->kinds & MP_LEAK_KIND_BIT(kind))))
					abort();
		}
		for (size_t i = 0; i < set.n_supps; i++)
			if (!set.supps[i].name || strcmp(set.supps[i].path, "fuzz.supp") != 0 || set.supps[i].line == 0)
				abort();
	} else if (set.n_supps != 0 || strncmp(err, "fuzz.supp", 9) != 0 || strchr(err, '\n')) {
		abort(); /* nothing kept; one line naming the file */
	}
	mp_supp_free(&set);

	/* The small parsers, on NUL-terminated copies. */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (mp_parse_leak_kinds(text, &kinds) == 0 && (kinds & ~MP_LEAK_KINDS_ALL))
		abort();
	nl = strchr(text, '\n');
	if (nl) {
		*nl = '\0';
		/* A pattern matches itself when it has no wildcard. */
		if (!strpbrk(text, "*?") && !mp_wildcard_match(text, text))
			abort();
		mp_wildcard_match(text, nl + 1);
	}
	free(text);
	return 0;
}
