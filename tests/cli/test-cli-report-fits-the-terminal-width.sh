#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof report's frame lines and charts fit the width of the screen: $COLUMNS, else the
# terminal's width, else 80 columns (a pipe). A frame too long loses the middle of its
# function's name ("…") and keeps its start and its file:line; the bars take the room that
# is left, so a wider screen has longer bars. Widths count characters, not bytes ("…" is
# one). The C++ sample's report has frames of more than 100 columns at full length.
source "$(dirname "$0")/../lib/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
profile "$T/snap.gz" "$SAMPLES/cpp-new-delete-exceptions" >/dev/null || fail "the C++ sample failed under the preload"

# too_wide FILE WIDTH: prints the frame and chart lines of FILE wider than WIDTH characters.
too_wide() {
	python3 - "$1" "$2" <<'PY'
import sys
w = int(sys.argv[2])
for l in open(sys.argv[1], encoding="utf-8").read().splitlines():
    if len(l) > w and (l.startswith("    at ") or "|" in l or " +-" in l or l.startswith("  # ")):
        print(len(l), l)
PY
}
# bar FILE: the length of the first bar of the LIVE BYTES BY SITE chart.
bar() { sed -n '/^LIVE BYTES BY SITE:/{n;p;q}' "$1" | sed -E 's/^[^|]*\|(#*).*/\1/' | tr -d '\n' | wc -c; }

COLUMNS=1000 "$MEMPROF" report --full-names --full-stacks snap.gz >full.txt
[ -n "$(too_wide full.txt 100)" ] || fail "the sample has no frame longer than 100 columns: the test tests nothing"
for w in 40 60 80 132; do
	COLUMNS=$w "$MEMPROF" report snap.gz >w$w.txt
	COLUMNS=$w "$MEMPROF" report --full-names --full-stacks snap.gz >full$w.txt
	bad=$(too_wide w$w.txt $w; too_wide full$w.txt $w)
	[ -z "$bad" ] || { echo "$bad"; fail "lines wider than COLUMNS=$w"; }
	[ "$w" -lt 80 ] || expect_match '^    at 0x[0-9a-f]+: main \(cpp-new-delete-exceptions\.cc:[0-9]+\)$' w$w.txt
done
# A shortened frame keeps its start and its location.
expect_match '^    at 0x[0-9a-f]+: std::[^ ]*… \(vector\.tcc:[0-9]+\)( \[inlined\])?$' full80.txt
# Piped with no COLUMNS: 80 columns, the same as COLUMNS=80.
env -u COLUMNS "$MEMPROF" report snap.gz >piped.txt
cmp -s piped.txt w80.txt || { diff w80.txt piped.txt | head; fail "a pipe without COLUMNS is not 80 columns"; }
[ "$(bar w132.txt)" -gt "$(bar w80.txt)" ] && [ "$(bar w40.txt)" -lt "$(bar w80.txt)" ] ||
	fail "the bars do not follow the width: $(bar w40.txt) $(bar w80.txt) $(bar w132.txt)"
# A terminal's own width when COLUMNS is not set.
if command -v script >/dev/null; then
	env -u COLUMNS script -qec "stty cols 100 rows 50; $MEMPROF report --no-color snap.gz" /dev/null | tr -d '\r' >tty.txt
	bad=$(too_wide tty.txt 100)
	[ -z "$bad" ] || { echo "$bad"; fail "lines wider than the terminal's 100 columns"; }
	[ "$(bar tty.txt)" -gt "$(bar w80.txt)" ] || fail "the terminal's 100 columns are not used"
fi
exit 0
