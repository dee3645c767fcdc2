#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --suppressions silences exactly the loss records its entries name, in memcheck's format
# (obj:/fun: lines with * and ?, "...", match-leak-kinds, leading allocator lines, other
# tools' entries skipped) and in LSan's (leak:PATTERN with *, ^ and $, other sanitizers'
# lines skipped): suppressed bytes leave their kind for the "suppressed:" line, the first
# matching suppression gets the credit, and used_suppression lines say so.
# Snapshot: mksnap full. Trace 1 (/usr/bin/leaky, then libc.so.6, then leaky) has record 1
# (reachable, 6,144 bytes in 6 blocks) and 4 (definite, 4,096 direct); trace 3 (14 frames,
# all in leaky) has records 2 (possible, 1,000,000) and 3 (indirect, 2,000,000 in 2).
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

mksnap_gz full full.gz
# suppressed FILE... : the numbers of the records the files suppress, as "1 4", checked
# against the LEAK SUMMARY's suppressed line.
suppressed() {
	local args=() f
	for f; do args+=(--suppressions "$f"); done
	"$MEMPROF" report --no-color --show-leak-kinds=all "${args[@]}" full.gz >out.txt || fail "report with $* failed"
	local shown left=() n bytes=(6144 1000000 2000000 4096) blocks=(6 1 2 4) sb=0 sk=0
	shown=$(grep -o 'in loss record . of 4' out.txt | cut -d' ' -f4 | tr '\n' ' ')
	for n in 1 2 3 4; do
		case " $shown" in *" $n "*) ;; *) left+=("$n"); sb=$((sb + bytes[n - 1])); sk=$((sk + blocks[n - 1]));; esac
	done
	grep -Eq "^        suppressed: [0-9,]+ bytes in $sk blocks$" out.txt || { cat out.txt; fail "suppressed line for $*"; }
	[ "$(sed -n 's/^        suppressed: \([0-9,]*\) bytes.*/\1/p' out.txt | tr -d ,)" = "$sb" ] ||
		{ cat out.txt; fail "suppressed bytes for $* (want $sb)"; }
	echo "${left[*]}"
}
# expect FILE WANTED: the records FILE suppresses are exactly WANTED.
expect() { local got; got=$(suppressed "$1"); [ "$got" = "$2" ] || { cat "$1"; fail "$1 suppresses '$got', not '$2'"; }; }

cat >trace1.supp <<'END'
# trace 1: a leaky frame, then libc
{
   trace1
   Memcheck:Leak
   obj:*/leaky
   obj:/lib/*/libc.so.6
}
END
expect trace1.supp "1 4"
expect_match '^   definitely lost: 0 bytes in 0 blocks$' out.txt
expect_match '^   still reachable: 0 bytes in 0 blocks$' out.txt
expect_match '^   indirectly lost: 2,000,000 bytes in 2 blocks$' out.txt
expect_match '^used_suppression:      2 trace1 trace1.supp:2 suppressed: 10,240 bytes in 10 blocks$' out.txt

cat >kinds.supp <<'END'
{
   only-reachable
   Memcheck:Leak
   match-leak-kinds: reachable
   obj:*leaky
   obj:*libc.so.6
}
{
   possible-or-indirect
   Memcheck:Leak
   match-leak-kinds: possible,indirect
   ...
}
END
expect kinds.supp "1 2 3"
expect_match 'are definitely lost in loss record 4 of 4$' out.txt
cat >dots.supp <<'END'
{
   libc-anywhere
   Memcheck:Leak
   ...
   obj:*libc.so.6
   ...
}
END
expect dots.supp "1 4"
cat >nodots.supp <<'END'
{
   libc-first
   Memcheck:Leak
   obj:*libc.so.6
}
END
expect nodots.supp ""
cat >question.supp <<'END'
{
   q
   Memcheck:Leak
   obj:/usr/bin/leak?
   obj:/lib/x86_64-linux-gnu/libc.so.?
}
{
   too-few-chars
   Memcheck:Leak
   obj:/usr/bin/lea?
}
END
expect question.supp "1 4"
# Frames without a function are "???": fun:* matches them, fun:main does not.
printf '{\n any\n Memcheck:Leak\n fun:*\n obj:*libc.so.6\n}\n' >funstar.supp
expect funstar.supp "1 4"
printf '{\n main\n Memcheck:Leak\n ...\n fun:main\n}\n' >main.supp
expect main.supp ""
# Trace 3 has 14 frames: 14 lines match, 15 do not, unless the rest is "...".
{ echo '{'; echo ' fourteen'; echo ' Memcheck:Leak'; for i in $(seq 14); do echo ' obj:/usr/bin/leaky'; done; echo '}'; } >14.supp
expect 14.supp "2 3"
sed 's/^}$/ obj:\/usr\/bin\/leaky\n}/' 14.supp >15.supp
expect 15.supp ""
sed 's/^}$/ ...\n}/' 14.supp >14dots.supp
expect 14dots.supp "2 3"
# memcheck's stacks start in the allocator: leading allocator lines may stand for it.
cat >alloc.supp <<'END'
{
   from-memcheck
   Memcheck:Leak
   match-leak-kinds: definite
   fun:malloc
   obj:*/leaky
   obj:*/libc.so.6
}
{
   strdup-from-memcheck
   Memcheck:Leak
   match-leak-kinds: possible
   fun:malloc
   fun:strdup
   obj:*/leaky
}
{
   calloc-wildcard
   Memcheck:Leak
   match-leak-kinds: indirect
   fun:*calloc
   ...
}
END
expect alloc.supp "2 3 4"
printf '{\n not-an-allocator\n Memcheck:Leak\n fun:parse\n obj:*leaky\n}\n' >parse.supp
expect parse.supp ""
# Other tools' and kinds' entries are read and skipped, whatever their lines.
cat >others.supp <<'END'
{
   race
   Helgrind:Race
   fun:worker
   obj:*
}
{
   param
   Memcheck:Param
   write(buf)
   fun:write
}
{
   cond
   Memcheck,Helgrind:Cond
   ...
}
END
expect others.supp ""
printf '{\n both\n Helgrind,Memcheck:Leak\n ...\n}\n' >list.supp
expect list.supp "1 2 3 4"
# The first match wins, across files in the order given.
expect_match '^used_suppression:      4 both list.supp:1 suppressed: 3,010,240 bytes in 13 blocks$' out.txt
got=$(suppressed trace1.supp list.supp)
[ "$got" = "1 2 3 4" ] || fail "two files suppress '$got'"
expect_match '^used_suppression:      2 trace1 trace1.supp:2 ' out.txt
expect_match '^used_suppression:      2 both list.supp:1 suppressed: 3,000,000 bytes in 3 blocks$' out.txt

# LSan: a pattern anywhere in a frame's module path (or function, or file).
printf '# LSan\nleak:libc.so\n' >lsan-libc.supp
expect lsan-libc.supp "1 4"
expect_match '^used_suppression:      2 leak:libc.so lsan-libc.supp:2 ' out.txt
printf 'leak:^/usr/bin/leaky$\n' >lsan-anchored.supp
expect lsan-anchored.supp "1 2 3 4"
printf 'leak:^leaky\nleak:/usr/bin$\nleak:leak?\n' >lsan-nomatch.supp
expect lsan-nomatch.supp ""
printf 'leak:leaky$\n' >lsan-end.supp
expect lsan-end.supp "1 2 3 4"
printf 'race:foo\nsigned-integer-overflow:bar.c\ncalled_from_lib:libz.so\n\nleak:/lib/*/libc\n' >lsan-mixed.supp
expect lsan-mixed.supp "1 4"
# Both formats together.
got=$(suppressed lsan-libc.supp kinds.supp)
[ "$got" = "1 2 3 4" ] || fail "memcheck and LSan files together suppress '$got'"
exit 0
