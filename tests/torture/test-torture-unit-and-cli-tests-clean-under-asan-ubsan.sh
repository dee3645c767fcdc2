#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make asan: the CLI and the unit tests built with AddressSanitizer and UBSan (the first UBSan
# report aborts), then the unit tests and the CLI tests that need no profiled run, run with
# them; any report fails a test there and so this one. Its own build, in $BUILD-asan.
# test-timeout: 420
source "$(dirname "$0")/../lib/lib.sh"
echo 'int main(void) { return 0; }' >probe.c
cc -fsanitize=address,undefined -o probe probe.c >probe.log 2>&1 || skip "no ASan/UBSan runtime: $(tail -n 1 probe.log)"
MAKEFLAGS= make -s -C "$TOP" -j2 BUILD="$BUILD" asan >asan.log 2>&1 || { cat asan.log; fail "make asan failed"; }
cat asan.log
expect_match '^[0-9]+ passed, 0 failed' asan.log
[ "$(sed -n 's/^\([0-9]*\) passed.*/\1/p' asan.log)" -ge 15 ] || fail "make asan ran too few tests"
