#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End to end on a real leaking program built with -g (its frames have names): memprof
# report's loss records read as memcheck's (the same lines as valgrind's for the same
# program, when valgrind is installed); each --gen-suppressions block, fed back, suppresses
# its own record and only records with the same block; the suppressions valgrind itself
# generates (which start at fun:malloc) suppress every record; fun:/src: patterns with
# wildcards and LSan's leak: lines match functions, inlined functions and files; a C++
# record is matched by its mangled name.
source "$(dirname "$0")/../lib/lib.sh"
command -v cc >/dev/null || skip "no C compiler"

cat >leak.c <<'END'
#include <stdlib.h>
#include <string.h>
struct node { struct node *next; char pad[24]; };
void *keep;
static void *reachable;
__attribute__((noinline)) void *make(size_t n) { return malloc(n); }
__attribute__((noinline)) void lose_list(void)
{
	struct node *a = make(sizeof *a);
	a->next = make(sizeof *a);
	a->next->next = NULL;
}
__attribute__((noinline)) void possible(void)
{
	char *p = malloc(100);
	keep = p + 10;
}
static inline __attribute__((always_inline)) void *inlined_alloc(size_t n) { return calloc(1, n); }
int main(void)
{
	lose_list();
	lose_list();
	possible();
	reachable = malloc(50);
	if (!inlined_alloc(7) || !strdup("twelve bytes"))
		return 1;
	return 0;
}
END
cc -O0 -g -fno-omit-frame-pointer -o leak leak.c || fail "cannot build leak.c"
profile snap.gz ./leak || fail "leak exited non-zero"
"$MEMPROF" report --no-color --show-leak-kinds=all --gen-suppressions snap.gz >all.txt || fail "report failed"
grep 'in loss record' all.txt >records.txt || { cat all.txt; fail "no loss records (was the leak scan run?)"; }
cat >expected.txt <<'END'
7 bytes in 1 blocks are definitely lost in loss record 1 of 8
13 bytes in 1 blocks are definitely lost in loss record 2 of 8
32 bytes in 1 blocks are indirectly lost in loss record 3 of 8
32 bytes in 1 blocks are indirectly lost in loss record 4 of 8
50 bytes in 1 blocks are still reachable in loss record 5 of 8
64 (32 direct, 32 indirect) bytes in 1 blocks are definitely lost in loss record 6 of 8
64 (32 direct, 32 indirect) bytes in 1 blocks are definitely lost in loss record 7 of 8
100 bytes in 1 blocks are possibly lost in loss record 8 of 8
END
diff records.txt expected.txt || fail "loss records differ (left: printed)"
if command -v valgrind >/dev/null; then
	valgrind --leak-check=full --show-leak-kinds=all --gen-suppressions=all --log-file=vg.log ./leak ||
		fail "valgrind failed"
	sed -n 's/^==[0-9]*== //p' vg.log | grep 'in loss record' | diff records.txt - ||
		fail "memcheck's loss records differ (right: memcheck's)"
fi
# Record 1 is calloc'd by an inlined function: its own frame, then main, at one address.
sed -n '/loss record 1 of 8$/,/^}$/p' all.txt >rec1.txt
grep -A1 ': inlined_alloc (leak.c:18) \[inlined\]$' rec1.txt | grep -q ': main (leak.c:25)$' || { cat rec1.txt; fail "inlined frame"; }
tail -n 3 rec1.txt | diff - <(printf '   fun:inlined_alloc\n   fun:main\n}\n') || fail "record 1's suppression"

# split: the block after "loss record N of" to supp.N.
awk '/in loss record [0-9]+ of/ { for (i = 1; i <= NF; i++) if ($i == "record") n = $(i + 1) }
     /^\{$/ { out = "supp." n } out { print > out } /^\}$/ { out = "" }' all.txt
# left SUPP...: the numbers of the records listed with these suppression files.
left() {
	local args=() f
	for f; do args+=(--suppressions "$f"); done
	"$MEMPROF" report --no-color --show-leak-kinds=all "${args[@]}" snap.gz >fed.txt || fail "report with $* failed"
	grep -o 'in loss record [0-9]* of' fed.txt | cut -d' ' -f4 | tr '\n' ' '
}
for n in 1 2 3 4 5 6 7 8; do
	want=$(for m in 1 2 3 4 5 6 7 8; do cmp -s supp.$n supp.$m || printf '%s ' $m; done)
	got=$(left supp.$n)
	[ "$got" = "$want" ] || { cat supp.$n; fail "record $n's suppression leaves '$got', not '$want'"; }
done
# Records 6 and 7 differ only in main's line, as in memcheck: one block for both.
cmp -s supp.6 supp.7 || fail "records 6 and 7 got different suppressions"
grep -q '^   fun:strdup$' supp.2 && fail "strdup is memprof's allocator: it is no frame"
expect_match '^   fun:main$' supp.2

if command -v valgrind >/dev/null; then
	sed 's/^==[0-9]*== //' vg.log | sed -n '/^{$/,/^}$/p' >vg.supp
	grep -q '^   fun:malloc$' vg.supp || fail "valgrind's suppressions do not start at malloc"
	[ -z "$(left vg.supp)" ] || { cat fed.txt; fail "valgrind's own suppressions leave records"; }
	expect_match '^        suppressed: 298 bytes in 8 blocks$' fed.txt
fi

# Hand-written patterns on real names.
cat >hand.supp <<'END'
{
   lists-by-wildcard
   Memcheck:Leak
   match-leak-kinds: definite
   fun:ma?e
   fun:lose_*
}
{
   the-possible-one-by-line
   Memcheck:Leak
   ...
   src:leak.c:15
}
{
   inlined-then-caller
   Memcheck:Leak
   fun:calloc
   fun:inlined_alloc
   fun:main
}
END
[ "$(left hand.supp)" = "2 3 4 5 " ] || fail "hand.supp leaves '$(left hand.supp)'"
expect_match '^used_suppression:      2 lists-by-wildcard hand.supp:1 suppressed: 64 bytes in 2 blocks$' fed.txt
printf '{\n not-first\n Memcheck:Leak\n fun:main\n}\n' >main.supp
[ "$(left main.supp)" = "1 3 4 6 7 8 " ] || fail "fun:main first suppresses '$(left main.supp)'"
printf 'leak:^lose_list$\nleak:inlined_\n' >lsan.supp
[ "$(left lsan.supp)" = "2 5 8 " ] || fail "lsan.supp leaves '$(left lsan.supp)'"
printf 'leak:/leak.c\n' >file.supp
[ -z "$(left file.supp)" ] || fail "a source file pattern leaves records"

command -v c++ >/dev/null || { echo "no C++ compiler: mangled names not checked"; exit 0; }
cat >leak.cc <<'END'
namespace app { struct Item { long v[4]; }; __attribute__((noinline)) Item *make_item() { return new Item(); } }
int main() { return app::make_item() ? 0 : 1; }
END
c++ -O0 -g -o leakxx leak.cc || fail "cannot build leak.cc"
profile xx.gz ./leakxx || fail "leakxx exited non-zero"
"$MEMPROF" report --no-color --gen-suppressions xx.gz >xx.txt || fail "report failed"
expect_match '^32 bytes in 1 blocks are definitely lost in loss record 1 of 1$' xx.txt
expect_match ': app::make_item \(leak.cc:1\)$' xx.txt
expect_match '^   fun:_ZN3app9make_itemEv$' xx.txt
# memcheck's form: its operator new frame, then the mangled caller.
printf '{\n cxx\n Memcheck:Leak\n fun:_Znwm\n fun:_ZN3app9make_itemEv\n fun:main\n}\n' >xx.supp
"$MEMPROF" report --no-color --suppressions xx.supp xx.gz >xxs.txt || fail "report failed"
expect_match '^        suppressed: 32 bytes in 1 blocks$' xxs.txt
printf '{\n demangled\n Memcheck:Leak\n ...\n fun:app::make_item*\n}\n' >dm.supp
"$MEMPROF" report --no-color --suppressions dm.supp xx.gz >dm.txt || fail "report failed"
expect_match '^        suppressed: 32 bytes in 1 blocks$' dm.txt
exit 0
