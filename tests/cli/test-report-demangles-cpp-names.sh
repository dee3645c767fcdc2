#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof report shows C++ functions with demangled names: from the debug information with
# file:line (make_widget(int) (prog.cpp:N)), and from the symbol table alone for a program
# built without -g (name+0x.. (in path)). The bar chart cuts a long name to fit 80 columns.
source "$(dirname "$0")/../lib/lib.sh"
command -v g++ >/dev/null || skip "g++ is not installed"
cat >prog.cpp <<'END'
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

int main()
{
	std::vector<Widget *> keep;
	for (int i = 0; i < 3; i++)
		keep.push_back(make_widget(i));
	keep.push_back(factory::very_long_template_name_for_a_builder<Widget>::build(7));
	return keep.size() == 4 ? 0 : 1;
}
END
g++ -O1 -g -fno-omit-frame-pointer -o prog prog.cpp || fail "cannot build prog.cpp"
profile "$T/snap.gz" ./prog || fail "prog failed under the preload"
"$MEMPROF" report snap.gz >report.txt 2>err.txt
[ ! -s err.txt ] || { cat err.txt; fail "unexpected output on stderr"; }
expect_match '^    at 0x[0-9a-f]+: make_widget\(int\) \(prog\.cpp:16\)$' report.txt
expect_match '^    at 0x[0-9a-f]+: factory::very_long_template_name_for_a_builder<Widget>::build\(int\) \(prog\.cpp:10\)$' report.txt
expect_no_match '_Z[0-9A-Za-z_]+' report.txt
# Chart: the site is named after make_widget, not operator new in libstdc++.
expect_match '^  make_widget\(int\) +\|#+ +192 B$' report.txt
expect_match '^  factory::very_long_template\.\.\. \|#+ +64 B$' report.txt
sed -n '/^LIVE BYTES BY SITE:/,$p' report.txt | awk 'length > 80 { print; bad = 1 } END { exit bad }' ||
	fail "a chart line is wider than 80 columns"

# Without debug information: the symbol table still names the function.
g++ -O1 -fno-omit-frame-pointer -o prog-nodebug prog.cpp && strip --strip-debug prog-nodebug
profile "$T/nodebug.gz" ./prog-nodebug || fail "prog-nodebug failed under the preload"
"$MEMPROF" report nodebug.gz >nodebug.txt
expect_match "^    at 0x[0-9a-f]+: make_widget\(int\)\+0x[0-9a-f]+ \(in $T/prog-nodebug\)\$" nodebug.txt
