#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof report shows C++ functions with demangled names: from the debug information with
# file:line (make_widget (prog.cpp:N)), and from the symbol table alone for a program built
# without -g (name+0x.. (in path)). Names are short by default, as heaptrack's: template
# arguments and parameter lists elided (std::vector<…>::push_back); --full-names and JSON
# keep them whole. A site is named after its first frame in the program's own code, not
# std:: code inlined into it. The bar chart cuts a long name to fit 80 columns.
source "$(dirname "$0")/../lib/lib.sh"
command -v g++ >/dev/null || skip "g++ is not installed"
cat >prog.cpp <<'END'
#include <map>
#include <string>
#include <vector>

struct Widget {
	int id;
	char payload[60];
};

namespace factory {
template <typename T> struct very_long_template_name_for_a_builder {
	__attribute__((noinline)) static T *build(int id) { return new T{ id, {} }; }
};
}

__attribute__((noinline)) Widget *make_widget(int id)
{
	return new Widget{ id, {} };
}

__attribute__((noinline)) void register_name(const char *name)
{
	/* Never destroyed: its blocks are live in the exit snapshot. */
	static auto *registry = new std::map<std::string, std::vector<int>>;
	(*registry)[name].push_back(1);
}

int main()
{
	register_name("a-key-longer-than-fifteen-characters");
	std::vector<Widget *> keep;
	for (int i = 0; i < 3; i++)
		keep.push_back(make_widget(i));
	keep.push_back(factory::very_long_template_name_for_a_builder<Widget>::build(7));
	return keep.size() == 4 ? 0 : 1;
}
END
g++ -O1 -g -fno-omit-frame-pointer -o prog prog.cpp || fail "cannot build prog.cpp"
profile "$T/snap.gz" ./prog || fail "prog failed under the preload"
# Wide enough for every frame whole (frames wider than the screen lose their middle).
COLUMNS=200 "$MEMPROF" report snap.gz >report.txt 2>err.txt
[ ! -s err.txt ] || { cat err.txt; fail "unexpected output on stderr"; }
expect_match '^    at 0x[0-9a-f]+: make_widget \(prog\.cpp:18\)$' report.txt
expect_match '^    at 0x[0-9a-f]+: factory::very_long_template_name_for_a_builder<…>::build \(prog\.cpp:12\)$' report.txt
expect_match '^    at 0x[0-9a-f]+: std::vector<…>::push_back \(stl_vector\.h:[0-9]+\) \[inlined\]$' report.txt
expect_match '^    at 0x[0-9a-f]+: register_name \(prog\.cpp:25\)$' report.txt
expect_no_match '_Z[0-9A-Za-z_]+' report.txt
expect_no_match '^    at .*(std::allocator<|\(int\))' report.txt
# Chart (at 80 columns, a pipe's): the site is named after make_widget, not operator new in
# libstdc++, and the map's and the vector's blocks after register_name, not the std:: code
# inlined into it.
"$MEMPROF" report snap.gz >report80.txt
expect_match '^  make_widget +\|#+ +192 B$' report80.txt
expect_match '^  factory::very_long_template\.\.\. \|#+ +64 B$' report80.txt
expect_match '^  register_name +\|#+ ' report80.txt
expect_no_match '^  std::' report80.txt
# Inside the allocator and std::, the first line and the program's call are shown, and one
# line for those between; --full-stacks shows them all.
expect_match '^    \.\.\. [0-9]+ frames in the allocator and the C/C\+\+ runtime \(--full-stacks\)$' report.txt
expect_match '^    at 0x[0-9a-f]+: std::map<…>::operator\[\] \(stl_map\.h:[0-9]+\) \[inlined\]$' report.txt
expect_no_match '_Rb_tree' report.txt
COLUMNS=200 "$MEMPROF" report --full-stacks snap.gz >stacks.txt
expect_match '^    at 0x[0-9a-f]+: std::_Rb_tree<…>::_M_emplace_hint_unique<…> ' stacks.txt
expect_no_match 'frames in the allocator' stacks.txt
COLUMNS=200 "$MEMPROF" report --full-names --full-stacks snap.gz >full.txt
expect_match '^    at 0x[0-9a-f]+: make_widget\(int\) \(prog\.cpp:18\)$' full.txt
expect_match '^    at 0x[0-9a-f]+: factory::very_long_template_name_for_a_builder<Widget>::build\(int\) \(prog\.cpp:12\)$' full.txt
expect_match '^    at 0x[0-9a-f]+: std::vector<int, std::allocator<int> >::push_back\(int(const)?&&?\)' full.txt
"$MEMPROF" report --format json snap.gz >report.json
grep -q '"function":"make_widget(int)"' report.json || fail "JSON does not keep the full name"
grep -q '"name":"make_widget(int)"' report.json || fail "JSON does not keep the site's full name"
sed -n '/^LIVE BYTES BY SITE:/,$p' report80.txt | awk 'length > 80 { print; bad = 1 } END { exit bad }' ||
	fail "a chart line is wider than 80 columns"

# Without debug information: the symbol table still names the function.
g++ -O1 -fno-omit-frame-pointer -o prog-nodebug prog.cpp && strip --strip-debug prog-nodebug
profile "$T/nodebug.gz" ./prog-nodebug || fail "prog-nodebug failed under the preload"
COLUMNS=200 "$MEMPROF" report nodebug.gz >nodebug.txt
expect_match "^    at 0x[0-9a-f]+: make_widget\+0x[0-9a-f]+ \(in $T/prog-nodebug\)\$" nodebug.txt
