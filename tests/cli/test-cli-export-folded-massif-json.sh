#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof export: folded stacks sum to the snapshot's totals for each value (live bytes,
# bytes allocated, allocations, leaked bytes), outermost frame first; ms_print from the
# valgrind package reads the massif output, with the PEAK section as its peak snapshot; the
# JSON export parses and holds every site; bad options and files are one-line errors.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

mksnap_gz full full.gz
mksnap_gz valid valid.gz
sum() { awk '{ s += $NF } END { print s + 0 }' "$1"; }
for v in live:3010248 allocated:54024040 allocs:1201008 leaked:2004096; do
	"$MEMPROF" export --format folded --value "${v%%:*}" full.gz >folded.txt || fail "folded --value ${v%%:*} failed"
	[ "$(sum folded.txt)" = "${v#*:}" ] || { cat folded.txt; fail "folded ${v%%:*} sums to $(sum folded.txt), not ${v#*:}"; }
done
"$MEMPROF" export --format folded full.gz >folded.txt
# Trace 1 is leaky+0x1234 called from libc, called from leaky+0x1000: outermost first.
expect_match '^leaky\+0x1000;libc\.so\.6\+0x1100;leaky\+0x1234 10240$' folded.txt
expect_error 'export: valid.gz has no leak scan' "$MEMPROF" export --format folded --value leaked valid.gz

if command -v ms_print >/dev/null; then
	"$MEMPROF" export --format massif full.gz >full.massif || fail "massif export failed"
	ms_print full.massif >ms.txt 2>ms.err || { cat ms.err; fail "ms_print rejected the massif output"; }
	expect_match 'Detailed snapshots: \[3 \(peak\), 7\]' ms.txt
	expect_match '^100\.00% \(3,400,000B\) \(heap allocation functions\)' ms.txt
	expect_match '^->88\.24% \(3,000,000B\) 0x401100: leaky\+0x1100' ms.txt
	# Sites holding more than the heap figure (PEAK's sites above its peak_bytes, the traces
	# above TOTALS' live bytes): ms_print dies on a tree node above mem_heap_B.
	mksnap_gz peak-sites-exceed exceed.gz
	"$MEMPROF" export --format massif exceed.gz >exceed.massif || fail "massif export failed"
	ms_print exceed.massif >ms.txt 2>ms.err || { cat ms.err; fail "ms_print rejected a tree above mem_heap_B"; }
	expect_match '^100\.00% \(3,400,000B\) \(heap allocation functions\)' ms.txt
fi
# A PEAK capture stamped after META's run time is still massif's peak snapshot, the last
# but the detailed one, at the run time.
mksnap_gz peak-after-run late.gz
"$MEMPROF" export --format massif late.gz >late.massif || fail "massif export failed"
[ "$(grep -c '^heap_tree=peak$' late.massif)" -eq 1 ] || fail "no peak snapshot for a capture after the run time"
awk -F= '/^time=/ { if ($2 + 0 < last) bad = 1; last = $2 + 0 } END { exit bad }' late.massif ||
	fail "massif snapshot times go back"
if command -v ms_print >/dev/null; then
	ms_print late.massif >late.ms 2>ms.err || { cat ms.err; fail "ms_print rejected the output"; }
	expect_match 'Detailed snapshots: \[[0-9]+ \(peak\), [0-9]+\]' late.ms
fi
# Without ms_print too: no heap tree node holds more than its snapshot's mem_heap_B.
mksnap_gz peak-sites-exceed exceed.gz
"$MEMPROF" export --format massif exceed.gz | awk -F'[=: ]+' '
	/^mem_heap_B=/ { heap = $2 }
	/^ *n[0-9]+: / { for (i = 1; i <= NF; i++) if ($i ~ /^n[0-9]+$/) { if ($(i + 1) + 0 > heap + 0) bad = 1; break } }
	END { exit bad }' || fail "a massif heap tree node holds more than mem_heap_B"

# A real program: its leaking function in the folded stacks and in ms_print's tree.
profile "$T/real.gz" "$SAMPLES/leaky-parser" >/dev/null || fail "leaky-parser failed under the profiler"
"$MEMPROF" export --format folded "$T/real.gz" >real.folded || fail "folded export of a real snapshot failed"
expect_match '^(.*;)?main;(.*;)?remember_include 144$' real.folded
if command -v ms_print >/dev/null; then
	"$MEMPROF" export --format massif "$T/real.gz" >real.massif
	ms_print real.massif >real.ms || fail "ms_print rejected the massif output of a real snapshot"
	expect_match 'remember_include \(leaky-parser\.c:[0-9]+\)' real.ms
fi

"$MEMPROF" export --format json full.gz >full.json || fail "json export failed"
python3 - full.json <<'PY' || fail "the JSON export is not what it should be"
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(s["id"] for s in d["sites"]) == [1, 2, 3, 4], d["sites"]
assert all(len(s["frames"]) >= s["n_frames"] for s in d["sites"])
assert d["totals"]["live_bytes"] == 3010248
# Every loss record, of every kind.
assert [r["record"] for r in d["leaks"]["records"]] == [1, 2, 3, 4], d["leaks"]
PY

expect_error 'export: --format is required' "$MEMPROF" export full.gz
expect_error "export: --format wants folded, massif or json, not 'svg'" "$MEMPROF" export --format svg full.gz
expect_error 'export: --value applies to --format folded only' "$MEMPROF" export --format massif --value allocs full.gz
expect_error "export: --value wants live, allocated, allocs or leaked, not 'x'" "$MEMPROF" export --format folded --value x full.gz
expect_error 'export: no snapshot given' "$MEMPROF" export --format folded
expect_error 'cannot open missing.gz: No such file or directory' "$MEMPROF" export --format folded missing.gz
exit 0
