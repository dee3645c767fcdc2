#!/usr/bin/env bash
# A module that allocates, dlopen'ed and dlclose'd three times: its allocations are counted,
# and the snapshot still knows the module (path, address) after dlclose, so the leaked
# block's frames resolve to it.
source "$(dirname "$0")/../lib/lib.sh"
cc -shared -fPIC -O1 -g -o "$T/libplugin-allocates.so" "$TOP/tests/data/plugin-allocates.c"
profile "$T/snap.gz" "$TESTBIN/prog-process-life" dlopen "$T/libplugin-allocates.so" || fail "exit status changed"
"$MEMPROF" report --sort live --no-symbols "$T/snap.gz" >r.txt
# Loaded at the same address each time, so the three calls share one trace; one block leaked.
expect_match 'live 4,242 bytes in 1 blocks, 3 allocs \(12,726 bytes\)' r.txt
expect_match 'libplugin-allocates\.so\+0x[0-9a-f]+ \(unloaded\)' r.txt
