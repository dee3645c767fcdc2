#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make tsan: the unit tests (the live and trace tables, the timeline, the per-thread counts read
# while threads move them) built with ThreadSanitizer (clang) and run with halt_on_error=1, so
# a data race fails. Its own build, in $BUILD-tsan.
# test-timeout: 300
source "$(dirname "$0")/../lib/lib.sh"
TSAN_CC=${TSAN_CC:-clang}
command -v "$TSAN_CC" >/dev/null || skip "$TSAN_CC not found (make deps installs it)"
echo 'int main(void) { return 0; }' >probe.c
"$TSAN_CC" -fsanitize=thread -o probe probe.c >probe.log 2>&1 && ./probe >>probe.log 2>&1 ||
	skip "no TSan runtime: $(tail -n 1 probe.log)"
MAKEFLAGS= make -s -C "$TOP" -j2 BUILD="$BUILD" TSAN_CC="$TSAN_CC" tsan >tsan.log 2>&1 ||
	{ cat tsan.log; fail "make tsan failed"; }
cat tsan.log
expect_match '^[0-9]+ passed, 0 failed' tsan.log
[ "$(sed -n 's/^\([0-9]*\) passed.*/\1/p' tsan.log)" -ge 5 ] || fail "make tsan ran too few tests"
