#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A suppression file that cannot be read or does not parse is rejected with one line naming
# the file and the line of the defect, exit status 2 and nothing on stdout, whichever
# --suppressions it is; a good file before it changes nothing.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

mksnap_gz full full.gz
printf '{\n ok\n Memcheck:Leak\n ...\n}\n' >good.supp
# bad REGEX CONTENT: a file with CONTENT (printf format) is rejected with "bad.supp:REGEX".
bad() {
	printf "$2" >bad.supp
	expect_error "bad.supp:$1" "$MEMPROF" report --suppressions good.supp --suppressions bad.supp full.gz
}
bad "5: expected fun:, obj:, src:, ... or \} in suppression 'x', not 'bogus'$" \
	'# comment\n{\n x\n Memcheck:Leak\n bogus\n}\n'
bad "1: suppression not ended by '\}'$" '{\n x\n Memcheck:Leak\n fun:main\n'
bad "1: suppression not ended by '\}'$" '{\n x\n'
bad "4: expected fun:, obj:, src:, ... or \} in suppression 'a', not '\{'$" '{\n a\n Memcheck:Leak\n{\n b\n'
bad "1: suppression not ended by '\}'$" '{\n b\n Helgrind:Race\n fun:x\n'
bad "2: expected the name of the suppression started on line 1$" '{\n}\n'
bad "3: expected TOOL:KIND \(Memcheck:Leak\) in suppression 'x', not 'Leak'$" '{\n x\n Leak\n fun:a\n}\n'
bad "3: expected TOOL:KIND \(Memcheck:Leak\) in suppression 'x', not '\}'$" '{\n x\n}\n'
bad "4: match-leak-kinds wants definite, indirect, possible, reachable \(comma-separated\), all or none, not 'lost'$" \
	'{\n x\n Memcheck:Leak\n match-leak-kinds: lost\n fun:a\n}\n'
bad "4: suppression 'x' has no fun:, obj:, src: or ... line$" '{\n x\n Memcheck:Leak\n}\n'
bad "4: empty pattern in 'fun:'$" '{\n x\n Memcheck:Leak\n fun:\n}\n'
bad "4: bad line number in 'src:a.c:0'$" '{\n x\n Memcheck:Leak\n src:a.c:0\n}\n'
bad "6: expected '\{' to start a suppression, not 'leak:foo'$" '{\n x\n Memcheck:Leak\n ...\n}\nleak:foo\n'
bad "2: NUL byte \(not a text file\?\)$" '{\n x\0y\n'
# LSan's format.
bad "2: expected leak:PATTERN \(or '\{' for memcheck's format\), not 'malloc'$" 'leak:a\nmalloc\n'
bad "1: expected leak:PATTERN \(or '\{' for memcheck's format\), not ':x'$" ':x\n'
bad "3: unknown suppression type 'lek' \(expected leak:PATTERN\)$" '# x\n\nlek:foo\n'
bad "1: unknown suppression type 'fun' \(expected leak:PATTERN\)$" 'fun:malloc\n'
bad "1: empty pattern in 'leak:'$" 'leak:\n'
bad "1: empty pattern in 'leak:\^\\$'$" 'leak:^$\n'

expect_error "cannot open missing.supp: No such file or directory$" \
	"$MEMPROF" report --suppressions missing.supp full.gz
mkdir dir.supp
expect_error "dir.supp: not a regular file$" "$MEMPROF" report --suppressions dir.supp full.gz
expect_error "report: option '--suppressions' needs an argument" "$MEMPROF" report full.gz --suppressions
# Empty files and files of comments only suppress nothing and are fine.
: >empty.supp
printf '# nothing here\n\n' >comments.supp
"$MEMPROF" report --suppressions empty.supp --suppressions comments.supp full.gz >out.txt ||
	fail "empty suppression files rejected"
expect_match '^        suppressed: 0 bytes in 0 blocks$' out.txt
exit 0
