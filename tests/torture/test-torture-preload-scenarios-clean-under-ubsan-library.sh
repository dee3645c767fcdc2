#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make ubsan: libmemprof.so, the CLI and the unit tests built with UBSan (-fno-sanitize-recover:
# the first report aborts the profiled program, and so fails its test), then the unit tests and
# a set of preload scenarios (fork, vfork, threads, caught signals, exit from a handler, periodic
# snapshots, leak checks, dlopen) run with that library. ASan and TSan cannot be used for the
# preload library: their runtimes interpose malloc, as it does. Its own build, in $BUILD-ubsan.
# test-timeout: 420
source "$(dirname "$0")/../lib/lib.sh"
echo 'int main(void) { return 0; }' >probe.c
cc -fsanitize=undefined -o probe probe.c >probe.log 2>&1 || skip "no UBSan runtime: $(tail -n 1 probe.log)"
MAKEFLAGS= make -s -C "$TOP" -j2 BUILD="$BUILD" ubsan >ubsan.log 2>&1 || { cat ubsan.log; fail "make ubsan failed"; }
cat ubsan.log
expect_match '^[0-9]+ passed, 0 failed' ubsan.log
[ "$(sed -n 's/^\([0-9]*\) passed.*/\1/p' ubsan.log)" -ge 20 ] || fail "make ubsan ran too few tests"
# The library really was built with UBSan (else the above proves nothing).
nm -D "$TOP/$BUILD-ubsan/libmemprof.so" >syms.txt
grep -q __ubsan_handle syms.txt || fail "$BUILD-ubsan/libmemprof.so has no UBSan checks"
