#!/usr/bin/env bash
# The program and the programs it execs see the environment they would see bare. Bare and
# profiled, the program prints environ and /proc/self/environ, then execs itself in place as a
# child that prints its own: all equal, but for the two /proc/self/environ (the block the
# kernel put on the stack, which keeps LD_PRELOAD and whatever memprof run set: the
# documented difference; the exec in place carries them, as it stays profiled). LD_PRELOAD is unset, not left empty, when only the library was in
# it; another library the user preloads stays; under `memprof run`, the MEMPROF_* variables it
# set (MEMPROF_OUTPUT, MEMPROF_MANIFEST, ...) are gone, while one the user set stays.
source "$(dirname "$0")/../lib/lib.sh"
P=$TESTBIN/prog-host-life
base=(env -i PATH=/usr/bin:/bin HOME=/nonexistent LANG=C)
other=$(ldd /bin/true | awk '/libc\.so/ {print $3}')
[ -e "$other" ] || skip "cannot find libc.so for a second preloaded library"

# compare NAME: NAME.bare and NAME.prof equal, except for the /proc/self/environ lines, where
# the profiled run may have LD_PRELOAD and MEMPROF_* entries more (the child's in another
# order: the exec put them back at the end).
compare() {
	grep -v '^[a-z]* /proc/self/environ: ' "$1.bare" >a || true
	grep -v '^[a-z]* /proc/self/environ: ' "$1.prof" >b || true
	diff -u a b || fail "$1: environment differs from the bare run's"
	grep '^[a-z]* /proc/self/environ: ' "$1.bare" |
		grep -Ev '^[a-z]* /proc/self/environ: (LD_PRELOAD|MEMPROF_[A-Z_]+)=' | sort >a || true
	grep '^[a-z]* /proc/self/environ: ' "$1.prof" |
		grep -Ev '^[a-z]* /proc/self/environ: (LD_PRELOAD|MEMPROF_[A-Z_]+)=' | sort >b || true
	diff -u a b || fail "$1: a /proc/self/environ differs beyond LD_PRELOAD and MEMPROF_*"
	grep -q '^child environ: PATH=' "$1.bare" || fail "$1: the child printed nothing"
	expect_no_match '^(program|child) environ: LD_PRELOAD=$' "$1.prof"
}

# Only the library preloaded, and a MEMPROF_ variable of the user's.
"${base[@]}" MEMPROF_OUTPUT="$T/a.gz" "$P" env >only.bare
"${base[@]}" MEMPROF_OUTPUT="$T/a.gz" LD_PRELOAD="$LIBMEMPROF" "$P" env >only.prof
compare only
expect_no_match '^(program environ|child environ): LD_PRELOAD' only.prof
expect_match '^child environ: MEMPROF_OUTPUT=' only.prof

# Another library preloaded after it: that one stays.
"${base[@]}" MEMPROF_OUTPUT="$T/b.gz" LD_PRELOAD="$other" "$P" env >two.bare
"${base[@]}" MEMPROF_OUTPUT="$T/b.gz" LD_PRELOAD="$LIBMEMPROF:$other" "$P" env >two.prof
compare two
expect_match "^child environ: LD_PRELOAD=$other\$" two.prof

# memprof run: what it sets goes; the user's own MEMPROF_DEPTH stays.
"${base[@]}" MEMPROF_DEPTH=32 "$P" env >run.bare
"${base[@]}" MEMPROF_DEPTH=32 "$MEMPROF" run --output "$T/c.gz" --interval 10m -- "$P" env >run.prof 2>run.err ||
	{ cat run.err; fail "memprof run failed"; }
compare run
expect_no_match '^(program environ|child environ): (LD_PRELOAD|MEMPROF_OUTPUT|MEMPROF_MANIFEST|MEMPROF_INTERVAL|MEMPROF_RUN_VARS|MEMPROF_SEQ)=' run.prof
expect_match '^child environ: MEMPROF_DEPTH=32$' run.prof
