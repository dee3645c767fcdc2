#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --gen-suppressions prints, after each loss record listed, a memcheck suppression in
# valgrind's layout; fed back with --suppressions, each one suppresses its own record (and
# here, where every record differs in kind or stack, no other), and all of them together
# suppress every record. The JSON report carries the same text.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

# split REPORT: writes the suppression after "loss record N of Y" to supp.N.
split() {
	rm -f supp.*
	awk '/in loss record [0-9]+ of/ { for (i = 1; i <= NF; i++) if ($i == "record") n = $(i + 1) }
	     /^\{$/ { out = "supp." n } out { print > out } /^\}$/ { out = "" }' "$1"
}
# listed SNAPSHOT SUPP...: the numbers of the records listed with these suppressions.
listed() {
	local snap=$1 args=() f
	shift
	for f; do args+=(--suppressions "$f"); done
	"$MEMPROF" report --no-color --show-leak-kinds=all "${args[@]}" "$snap" >fed.txt || fail "report with $* failed"
	grep -o 'in loss record [0-9]* of' fed.txt | cut -d' ' -f4 | tr '\n' ' '
}

mksnap_gz full full.gz
"$MEMPROF" report --no-color --show-leak-kinds=all --gen-suppressions full.gz >gen.txt || fail "report failed"
# Record 4 (definite, trace 1: leaky, libc, leaky) and its suppression.
sed -n '/loss record 4 of 4$/,/^}$/p' gen.txt >rec4.txt
diff rec4.txt - <<'END' || fail "record 4 and its suppression differ (left: printed)"
2,004,096 (4,096 direct, 2,000,000 indirect) bytes in 4 blocks are definitely lost in loss record 4 of 4
    at 0x401234: leaky+0x1234
    at 0x7f0000001100: libc.so.6+0x1100
    at 0x401000: leaky+0x1000
{
   <insert_a_suppression_name_here>
   Memcheck:Leak
   match-leak-kinds: definite
   obj:/usr/bin/leaky
   obj:/lib/x86_64-linux-gnu/libc.so.6
   obj:/usr/bin/leaky
}
END
split gen.txt
[ "$(ls supp.* | wc -l)" -eq 4 ] || fail "$(ls supp.* | wc -l) suppressions, not 4"
expect_match '^   match-leak-kinds: reachable$' supp.1
[ "$(grep -c '^   obj:/usr/bin/leaky$' supp.2)" -eq 12 ] || fail "record 2's suppression is not its 12 frames shown"
for n in 1 2 3 4; do
	want=$(for m in 1 2 3 4; do [ $m = $n ] || printf '%s ' $m; done)
	got=$(listed full.gz supp.$n)
	[ "$got" = "$want" ] || { cat supp.$n; fail "record $n's suppression leaves '$got', not '$want'"; }
done
cat supp.* >all.supp
[ -z "$(listed full.gz all.supp)" ] || fail "all suppressions together leave records"
expect_match '^        suppressed: 3,010,240 bytes in 13 blocks$' fed.txt
# --frames limits the lines (at least one).
"$MEMPROF" report --no-color --show-leak-kinds=all --gen-suppressions --frames 0 full.gz >gen0.txt
split gen0.txt
[ "$(grep -c '^   obj:' supp.4)" -eq 1 ] || fail "--frames 0 suppression is not one line"
[ "$(listed full.gz supp.4)" = "1 2 3 " ] || fail "one-line suppression of record 4"

# Ties: a stack-less record gets no suppression; a frame in no module is obj:*.
mksnap_gz leak-ties ties.gz
"$MEMPROF" report --no-color --show-leak-kinds=all --gen-suppressions ties.gz >ties.txt || fail "report failed"
split ties.txt
[ ! -e supp.5 ] || fail "a record without a stack got a suppression"
tail -n 3 supp.8 | head -n 2 >last8.txt
printf '   obj:/usr/bin/leaky\n   obj:*\n' | diff last8.txt - || fail "record 8's suppression"
for n in 1 2 3 4 6 7 8; do
	case " $(listed ties.gz supp.$n)" in *" $n "*) fail "record $n's suppression does not suppress it";; esac
done

# The JSON report: each listed record's "suppression" is the text block.
"$MEMPROF" report --format json --show-leak-kinds=all --gen-suppressions full.gz >gen.json || fail "json failed"
split gen.txt
/usr/bin/python3 - gen.json <<'END' || fail "JSON suppression text differs from the text report's"
import json, sys
d = json.load(open(sys.argv[1]))
assert [r["record"] for r in d["leaks"]["records"]] == [1, 2, 3, 4], d["leaks"]["records"]
for r in d["leaks"]["records"]:
    want = open("supp.%d" % r["record"]).read()
    assert r["suppression"] == want, (r["record"], r["suppression"], want)
END
exit 0
