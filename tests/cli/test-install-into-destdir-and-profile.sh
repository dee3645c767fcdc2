#!/usr/bin/env bash
# make install with DESTDIR and PREFIX puts the command, the library, memprof.h with its
# pkg-config file and the man pages in place; a program built with `pkg-config memprof`
# compiles and its memprof.h calls do nothing without the library; the installed memprof
# finds the installed library (PREFIX/lib) with nothing from the build tree; make uninstall
# removes every file it installed.
source "$(dirname "$0")/../lib/lib.sh"
dest=$T/dest
make -s -C "$TOP" BUILD="$BUILD" install DESTDIR="$dest" PREFIX=/opt/mp >install.log 2>&1 || { cat install.log; fail "make install failed"; }
for f in bin/memprof lib/libmemprof.so include/memprof.h lib/pkgconfig/memprof.pc share/man/man1/memprof.1 share/man/man3/libmemprof.3 share/man/man5/memprof-snapshot.5; do
	[ -f "$dest/opt/mp/$f" ] || fail "not installed: $f"
done
cat >api.c <<'END'
#include <memprof.h>
#include <stdio.h>
int main(void)
{
	printf("snapshot %d leak check %lld\n", memprof_snapshot("here"), memprof_leak_check());
	return 0;
}
END
export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$dest/opt/mp/lib/pkgconfig
flags=$(pkg-config --cflags --libs memprof) || fail "pkg-config does not know the installed memprof.pc"
expect_match "^memprof .*$(sed -n 's/^#define MP_VERSION "\(.*\)"/\1/p' "$TOP/src/cli.h")" <(echo memprof "$(pkg-config --modversion memprof)")
# shellcheck disable=SC2086
cc -Wall -Werror -o api api.c $flags || fail "a program using memprof.h does not build with pkg-config's flags"
./api >api.out || fail "the memprof.h program failed without the library"
expect_match '^snapshot -1 leak check -1$' api.out
cp "$SAMPLES/leaky-parser" prog
env -u MEMPROF_LIB "$dest/opt/mp/bin/memprof" run --output "$T/snap.gz" -- ./prog >out 2>err || { cat err; fail "installed memprof run failed"; }
expect_match 'snapshot written to .*/snap.gz' err
"$dest/opt/mp/bin/memprof" report --no-symbols "$T/snap.gz" >r.txt
expect_match 'in use at exit: 144 bytes in 3 blocks' r.txt
make -s -C "$TOP" BUILD="$BUILD" uninstall DESTDIR="$dest" PREFIX=/opt/mp >/dev/null
left=$(find "$dest" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
