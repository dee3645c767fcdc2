#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A shared library rebuilt after the snapshot (its build-id differs from the recorded one)
# is not read: one warning on stderr, whatever the number of its frames, and module+offset
# frames for it, never names or lines from the new file. The unchanged executable is still
# symbolized.
source "$(dirname "$0")/../lib/lib.sh"
cat >foo.c <<'END'
#include <stdlib.h>
__attribute__((noinline)) void *foo_alloc(size_t n) { return malloc(n); }
__attribute__((noinline)) void *foo_alloc_twice(size_t n) { free(foo_alloc(n)); return foo_alloc(n); }
END
cat >main.c <<'END'
void *foo_alloc(unsigned long n);
void *foo_alloc_twice(unsigned long n);
int main(void) { foo_alloc(100); foo_alloc_twice(200); return 0; }
END
cc -shared -fPIC -O1 -g -Wl,--build-id -o libfoo.so foo.c || fail "cannot build libfoo.so"
cc -O1 -g -o prog main.c -L. -lfoo -Wl,-rpath,"$T" || fail "cannot build prog"
profile "$T/snap.gz" ./prog || fail "prog failed under the preload"

"$MEMPROF" report snap.gz >before.txt 2>before.err
[ ! -s before.err ] || { cat before.err; fail "warning before the library changed"; }
expect_match '^    at 0x[0-9a-f]+: foo_alloc \(foo\.c:2\)$' before.txt

# Same size and layout, different code: a different build-id.
sed -i 's/return malloc(n);/return calloc(1, n);/' foo.c
cc -shared -fPIC -O1 -g -Wl,--build-id -o libfoo.so foo.c || fail "cannot rebuild libfoo.so"
"$MEMPROF" report snap.gz >after.txt 2>after.err
[ "$(wc -l <after.err)" -eq 1 ] || { cat after.err; fail "not exactly one warning line"; }
expect_match "^memprof: warning: $T/libfoo\\.so has changed since the snapshot \\(build-id differs\\); its frames are shown as module\\+offset\$" after.err
expect_match '^    at 0x[0-9a-f]+: libfoo\.so\+0x[0-9a-f]+$' after.txt
expect_no_match 'foo_alloc|foo\.c' after.txt
expect_match '^    at 0x[0-9a-f]+: main \(main\.c:3\)$' after.txt
