#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# valgrind's option spellings give what the native options give, as --opt=value and as
# --opt value: report's --num-callers, --gen-suppressions=all|yes|no, --leak-check=summary;
# check's --errors-for-leak-kinds and --error-exitcode; run's -o, --num-callers,
# --trace-children, --leak-check=no and --show-leak-kinds. An unknown option near a known
# one gets a "did you mean".
source "$(dirname "$0")/../lib/lib.sh"
S=$SAMPLES/leaky-parser
"$MEMPROF" run --output "$T/base.gz" -- "$S" >/dev/null 2>&1 || fail "cannot profile $S"
# same OUTFILE CMD...: CMD's stdout and status equal those of the run saved in OUTFILE.
same() {
	local want=$1 rc=0
	shift
	"$@" >got.txt 2>&1 || rc=$?
	echo "$rc" >>got.txt
	diff -u "$want" got.txt || fail "$* differs from the native spelling"
}
native() { local out=$1 rc=0; shift; "$@" >"$out" 2>&1 || rc=$?; echo "$rc" >>"$out"; }

native frames.txt "$MEMPROF" report --no-symbols --frames 3 base.gz
same frames.txt "$MEMPROF" report --no-symbols --num-callers=3 base.gz
same frames.txt "$MEMPROF" report --no-symbols --num-callers 3 base.gz
native gen.txt "$MEMPROF" report --no-symbols --gen-suppressions base.gz
grep -q 'Memcheck:Leak' gen.txt || fail "--gen-suppressions printed no suppression"
same gen.txt "$MEMPROF" report --no-symbols --gen-suppressions=all base.gz
same gen.txt "$MEMPROF" report --no-symbols --gen-suppressions=yes base.gz
native plain.txt "$MEMPROF" report --no-symbols base.gz
same plain.txt "$MEMPROF" report --no-symbols --gen-suppressions=no base.gz
native none.txt "$MEMPROF" report --no-symbols --show-leak-kinds none base.gz
same none.txt "$MEMPROF" report --no-symbols --leak-check=summary base.gz
same plain.txt "$MEMPROF" report --no-symbols --leak-check=full base.gz
native all.txt "$MEMPROF" report --no-symbols --show-leak-kinds all base.gz
same all.txt "$MEMPROF" report --no-symbols --show-leak-kinds=all base.gz

native failon.txt "$MEMPROF" check --no-symbols --fail-on all base.gz
grep -qx 1 <(tail -1 failon.txt) || fail "check --fail-on all passed a leaking sample"
same failon.txt "$MEMPROF" check --no-symbols --errors-for-leak-kinds=all base.gz
rc=0; "$MEMPROF" check --no-symbols --error-exitcode=7 base.gz >/dev/null || rc=$?
[ $rc = 7 ] || fail "check --error-exitcode=7 exited $rc"
rc=0; "$MEMPROF" check --no-symbols --error-exitcode 7 --fail-on none base.gz >/dev/null || rc=$?
[ $rc = 0 ] || fail "a passing check with --error-exitcode exited $rc"

# run: -o is --output; --num-callers is --depth (the same stacks, as module+offset).
"$MEMPROF" run -o "$T/o.gz" --num-callers=3 -- "$S" >/dev/null 2>err.txt || { cat err.txt; fail "run -o failed"; }
"$MEMPROF" run --output "$T/d.gz" --depth 3 -- "$S" >/dev/null 2>&1 || fail "run --depth failed"
"$MEMPROF" export --format folded --value allocs --no-symbols o.gz >o.folded
"$MEMPROF" export --format folded --value allocs --no-symbols d.gz >d.folded
[ -s o.folded ] && diff -u d.folded o.folded || fail "--num-callers=3 and --depth 3 recorded different stacks"
[ "$(awk -F';' '{ if (NF > m) m = NF } END { print m }' o.folded)" -le 3 ] || fail "more than 3 frames kept"
# --trace-children=yes|no is --follow-children or not.
for v in yes no; do
	rm -f tc.*.gz
	"$MEMPROF" run --trace-children=$v --output "$T/tc.%p.gz" -- sh -c '/bin/true; /bin/true' 2>/dev/null ||
		fail "run --trace-children=$v failed"
	n=$(ls tc.*.gz | wc -l)
	[ "$n" = "$([ $v = yes ] && echo 3 || echo 1)" ] || fail "--trace-children=$v: $n snapshots"
done
# --leak-check=no: no scan; --show-leak-kinds for --report's output.
"$MEMPROF" run --leak-check=no --output "$T/nl.gz" -- "$S" >/dev/null 2>&1 || fail "run --leak-check=no failed"
"$MEMPROF" report --no-symbols nl.gz >nl.txt
expect_no_match 'LEAK SUMMARY' nl.txt
# ... and with --check, no leak rule (valgrind reports no leak errors then).
"$MEMPROF" run --check --leak-check=no --output "$T/nc.gz" -- "$S" >/dev/null 2>nc.txt ||
	{ cat nc.txt; fail "run --check --leak-check=no failed the gate"; }
"$MEMPROF" run --report --show-leak-kinds=all --output "$T/sk.gz" -- "$S" >/dev/null 2>sk.txt || fail "run --report failed"
expect_match 'are indirectly lost in loss record' sk.txt
"$MEMPROF" run --report --leak-check=summary --output "$T/ls.gz" -- "$S" >/dev/null 2>ls.txt || fail "run --report failed"
expect_match 'LEAK SUMMARY' ls.txt
expect_no_match 'in loss record' ls.txt

rc=0; "$MEMPROF" report --show-leek-kinds=all base.gz 2>dym.txt || rc=$?
[ $rc = 2 ] || fail "a misspelt option exited $rc"
echo "memprof: report: unknown option '--show-leek-kinds'; did you mean '--show-leak-kinds'? (see 'memprof report --help')" |
	diff -u - dym.txt || fail "no 'did you mean'"
"$MEMPROF" run --folow-children -- true 2>dym.txt && fail "run took a misspelt option"
expect_match "did you mean '--follow-children'" dym.txt
"$MEMPROF" check --zzzz base.gz 2>dym.txt && fail "check took an unknown option"
expect_no_match 'did you mean' dym.txt
