#!/usr/bin/env bash
# A shared library the program links is initialised before libmemprof.so's constructor runs;
# its constructor's 1,000 allocations (100 of them leaked) are recorded all the same, from the
# first call into the hooks: the counts and the leak summary equal memcheck's.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/leak-lib.sh"
cc -shared -fPIC -O0 -g -o "$T/libctor-allocates.so" "$TOP/tests/data/ctor-allocates.c"
cc -std=gnu11 -O1 -g -o "$T/prog" "$TOP/tests/progs/prog-host-life.c" -Wl,--no-as-needed \
	-L"$T" -lctor-allocates -Wl,-rpath,"$T" -lpthread
run() { "$T/prog" lib; }
run >bare.out || fail "bare run failed"
profile "$T/snap.gz" "$T/prog" lib >profiled.out || fail "profiled run failed"
cmp -s bare.out profiled.out || fail "output changed"
"$MEMPROF" report "$T/snap.gz" >r.txt
# 1,000 + 1 in the constructor, 7 in main.
valgrind --leak-check=full --log-file=vg.log "$T/prog" lib >/dev/null 2>&1
vg=$(grep -Eo 'total heap usage: [0-9,]+ allocs, [0-9,]+ frees, [0-9,]+ bytes allocated' vg.log)
mp=$(grep -Eo 'total heap usage: [0-9,]+ allocs, [0-9,]+ frees, [0-9,]+ bytes allocated' r.txt)
echo "memcheck: $vg"
echo "memprof:  $mp"
[ "$vg" = "$mp" ] || fail "memprof's heap usage differs from memcheck's"
expect_match '^4,000 bytes in 100 blocks are definitely lost' r.txt
same_as_memcheck "$T/prog" lib
