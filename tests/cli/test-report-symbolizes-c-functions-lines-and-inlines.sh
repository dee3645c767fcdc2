#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof report names the functions and file:line of a C program built with -g (the line of
# the call, not the one after it), shows an inlined call as its own line before the
# function it was inlined into, lists a site whose blocks were all freed as temporary, and
# shows the same stacks as module+offset with --no-symbols. Addresses are masked.
source "$(dirname "$0")/../lib/lib.sh"
export TZ=UTC
cat >prog.c <<'END'
#include <stdlib.h>
#include <string.h>

static inline __attribute__((always_inline)) char *inlined_alloc(size_t n)
{
	return malloc(n);
}

__attribute__((noinline)) char *leak_here(size_t n)
{
	char *p = malloc(n);
	memset(p, 1, n);
	return p;
}

__attribute__((noinline)) char *via_inline(size_t n)
{
	char *p = inlined_alloc(n);
	p[0] = 1;
	return p;
}

__attribute__((noinline)) void churn(void)
{
	for (int i = 0; i < 50; i++) {
		char *volatile p = malloc(24);
		free(p);
	}
}

int main(void)
{
	leak_here(1000);
	via_inline(64);
	churn();
	return 0;
}
END
cc -std=gnu11 -O1 -g -fno-omit-frame-pointer -o prog prog.c || fail "cannot build prog.c"
profile "$T/snap.gz" ./prog || fail "prog failed under the preload"
"$MEMPROF" report --frames 2 snap.gz >report.txt 2>err.txt
[ ! -s err.txt ] || { cat err.txt; fail "unexpected output on stderr"; }
mask() { sed -E 's/at 0x[0-9a-f]+:/at ADDR:/'; }
"$MEMPROF" report --sort live --frames 2 snap.gz | sed -n '/^TOP SITES BY LIVE BYTES:/,/^LIVE BYTES BY SITE/p' | mask >live.txt
cat >expected-live.txt <<'END'
TOP SITES BY LIVE BYTES:
#1 live 1,000 bytes in 1 blocks, 1 allocs (1,000 bytes) total
    at ADDR: leak_here (prog.c:11)
    at ADDR: main (prog.c:33)

#2 live 64 bytes in 1 blocks, 1 allocs (64 bytes) total
    at ADDR: inlined_alloc (prog.c:6) [inlined]
    at ADDR: via_inline (prog.c:18)
    ... 1 more frame (--frames)

LIVE BYTES BY SITE:
END
diff -u expected-live.txt live.txt || fail "live sites differ from the expected symbolized text"

"$MEMPROF" report --sort temporary --frames 2 snap.gz | sed -n '/^TOP TEMPORARY SITES/,/^$/p' | mask >temp.txt
cat >expected-temp.txt <<'END'
TOP TEMPORARY SITES (ALL BLOCKS FREED):
#1 live 0 bytes in 0 blocks, 50 allocs (1,200 bytes) total
    at ADDR: churn (prog.c:26)
    at ADDR: main (prog.c:35)

END
diff -u expected-temp.txt temp.txt || fail "temporary sites differ"

# Below main, as memcheck's --show-below-main=yes: the C library's start-up frames, and
# --frames counts every line printed.
"$MEMPROF" report --sort temporary --show-below-main --frames 5 snap.gz | sed -n '/^TOP TEMPORARY SITES/,/^$/p' | mask >below.txt
expect_match '^    at ADDR: main \(prog\.c:35\)$' below.txt
expect_match '^    at ADDR: __libc_start_call_main ' below.txt
[ "$(grep -c '^    at ' below.txt)" -eq 5 ] || { cat below.txt; fail "--frames 5 printed other than 5 lines"; }
"$MEMPROF" report --sort temporary --show-below-main=no snap.gz | sed -n '/^TOP TEMPORARY SITES/,/^$/p' | mask >above.txt
expect_no_match '__libc_start|_start' above.txt

# The default report lists each site once, in one table, with its stack after it.
[ "$(grep -c '^#[0-9]* *[0-9.]* [KM]*i*B ' report.txt)" -eq 3 ] || { cat report.txt; fail "the table has other than the 3 sites"; }
expect_match '^#1 +1000 B +1 +[0-9]+% +1 +1000 B +0  leak_here( \(prog\.c:11\))?$' report.txt
expect_match '^#3 +0 B +0 +[0-9]+% +50 +1.2 KiB +50  churn( \(prog\.c:26\))?$' report.txt
[ "$(sed -n '/^TOP SITES/,/^LIVE BYTES BY SITE/p' report.txt | grep -c ': leak_here (prog\.c:11)$')" -eq 1 ] ||
	fail "leak_here's stack is not printed once in the table's part"

# The chart names each site after its innermost function.
expect_match '^  leak_here +\|#+ +1000 B$' report.txt
expect_match '^  inlined_alloc +\|#+ +64 B$' report.txt

"$MEMPROF" report --no-symbols --frames 2 snap.gz >raw.txt
expect_no_match 'leak_here|prog\.c' raw.txt
expect_match '^    at 0x[0-9a-f]+: prog\+0x[0-9a-f]+$' raw.txt

# The exports keep an inlined call's caller: in massif's tree the inlined function's node has
# one child, the function it was inlined into, one level deeper (ms_print reads it); folded
# stacks have both, outermost first.
"$MEMPROF" export --format massif snap.gz >massif.out
grep -A1 ': inlined_alloc (prog\.c:6) \[inlined\]$' massif.out | head -2 >chain.txt
[ "$(sed -n 1p chain.txt | sed -E 's/^( *)n1: 64 0x[0-9a-f]+: inlined_alloc.*/\1/' | wc -c)" -eq \
  "$(($(sed -n 2p chain.txt | sed -E 's/^( *)n[0-9]+: 64 0x[0-9a-f]+: via_inline \(prog\.c:18\)$/\1/' | wc -c) - 1))" ] ||
	{ cat chain.txt; fail "massif: via_inline is not the child of the inlined inlined_alloc"; }
if command -v ms_print >/dev/null; then
	ms_print massif.out >ms.txt || fail "ms_print rejected the massif export"
	expect_match 'via_inline \(prog\.c:18\)' ms.txt
fi
"$MEMPROF" export --format folded snap.gz >folded.txt
expect_match 'main \(prog\.c:34\);via_inline \(prog\.c:18\);inlined_alloc \(prog\.c:6\) [0-9]+$|main;via_inline;inlined_alloc [0-9]+$' folded.txt
