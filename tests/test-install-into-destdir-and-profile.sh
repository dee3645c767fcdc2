#!/usr/bin/env bash
# make install with DESTDIR and PREFIX puts the command, the library and the man pages in
# place; the installed memprof finds the installed library (PREFIX/lib) with nothing from the
# build tree; make uninstall removes every file it installed.
source "$(dirname "$0")/lib.sh"
dest=$T/dest
make -s -C "$TOP" BUILD="$BUILD" install DESTDIR="$dest" PREFIX=/opt/mp >install.log 2>&1 || { cat install.log; fail "make install failed"; }
for f in bin/memprof lib/libmemprof.so share/man/man1/memprof.1 share/man/man3/libmemprof.3 share/man/man5/memprof-snapshot.5; do
	[ -f "$dest/opt/mp/$f" ] || fail "not installed: $f"
done
cp "$SAMPLES/leaky-parser" prog
env -u MEMPROF_LIB "$dest/opt/mp/bin/memprof" run --output "$T/snap.gz" -- ./prog >out 2>err || { cat err; fail "installed memprof run failed"; }
expect_match 'snapshot written to .*/snap.gz' err
"$dest/opt/mp/bin/memprof" report --no-symbols "$T/snap.gz" >r.txt
expect_match 'in use at exit: 144 bytes in 3 blocks' r.txt
make -s -C "$TOP" BUILD="$BUILD" uninstall DESTDIR="$dest" PREFIX=/opt/mp >/dev/null
left=$(find "$dest" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
