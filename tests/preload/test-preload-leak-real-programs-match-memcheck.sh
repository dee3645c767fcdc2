#!/usr/bin/env bash
# Real programs that valgrind calls clean (or nearly): memprof's exit scan gives the same four
# LEAK SUMMARY figures as valgrind --leak-check=full, in particular no false "definitely
# lost". glibc's own blocks (stdio buffers, NSS, locale data, setenv's copies) are what
# memcheck frees with __libc_freeres; memprof counts them apart. Programs that are missing
# are left out; the test skips when none is there.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/leak-lib.sh"
export PYTHONMALLOC=malloc # python's own allocator would hide its blocks from both tools
ran=0
if command -v sqlite3 >/dev/null; then same_as_memcheck sqlite3 :memory: "select 1"; ran=1; fi
if command -v jq >/dev/null; then same_as_memcheck jq -n '[1,2]|add'; ran=1; fi
if command -v git >/dev/null; then
	git init -q repo && git -C repo -c user.name=t -c user.email=t@t commit -q --allow-empty -m one
	same_as_memcheck git -C repo log --oneline
	ran=1
fi
if [ -x /usr/bin/python3 ]; then same_as_memcheck /usr/bin/python3 -c pass; ran=1; fi
# coreutils: gettext's and the locale's caches (libc's, freed by __libc_freeres) and sort's
# one real 16-byte leak
if [ -x /usr/bin/ls ]; then same_as_memcheck /usr/bin/ls -la /usr; ran=1; fi
if [ -x /usr/bin/sort ]; then same_as_memcheck /usr/bin/sort /etc/passwd; ran=1; fi
[ $ran = 1 ] || skip "none of sqlite3, jq, git, python3 is installed"
