#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Each sample that shows a leak kind (samples/*.c headers state the figures) gets the same
# four LEAK SUMMARY lines from memprof as from valgrind --leak-check=full on the same binary:
# the samples and the guide teach what memcheck would say.
source "$(dirname "$0")/../lib/lib.sh"
command -v valgrind >/dev/null || skip "valgrind is not installed"
kinds='definitely lost|indirectly lost|possibly lost|still reachable'
for s in leaky-parser lost-cycle-and-tree interior-pointer reachable-cache plugin-host \
	cpp-new-delete-exceptions; do
	valgrind --leak-check=full --log-file="$s.vg" "$SAMPLES/$s" >/dev/null 2>&1 ||
		fail "$s failed under valgrind"
	if grep -q 'no leaks are possible' "$s.vg"; then
		printf '%s: 0 bytes in 0 blocks\n' 'definitely lost' 'indirectly lost' 'possibly lost' \
			'still reachable' >"$s.want"
	else
		grep -E "($kinds):" "$s.vg" | sed -E 's/^==[0-9]+== +//' >"$s.want"
	fi
	profile "$T/$s.gz" "$SAMPLES/$s" >/dev/null || fail "$s failed under memprof"
	"$MEMPROF" report --no-symbols "$T/$s.gz" | grep -E "^ *($kinds):" | sed -E 's/^ +//' >"$s.got"
	[ "$(wc -l <"$s.got")" -eq 4 ] || { cat "$s.got"; fail "$s: no LEAK SUMMARY from memprof"; }
	diff "$s.want" "$s.got" || fail "$s: memprof's LEAK SUMMARY differs from valgrind's (left: valgrind)"
done
exit 0
