# SPDX-License-Identifier: MIT
# Helpers for tests/real/test-real-*.sh, sourced after lib.sh: run a real program bare and under
# the preload, demand byte-identical output, and check the snapshots the profiled run left.

# run_capture NAME CMD...: runs CMD (a command or a shell function) with stdout and stderr in
# $T/NAME.out and $T/NAME.err and its exit status in $T/NAME.rc. Never fails itself.
run_capture() {
	local name=$1 rc=0
	shift
	"$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
	echo "$rc" >"$T/$name.rc"
}

# same_output A B: the two captured runs printed the same bytes and exited the same way.
same_output() {
	local a=$1 b=$2 part
	for part in out err rc; do
		if ! cmp -s "$T/$a.$part" "$T/$b.$part"; then
			echo "--- $part of the $a run vs the $b run (first lines of the diff):"
			diff -u "$T/$a.$part" "$T/$b.$part" | head -n 40 || true
			fail "$part differs between the $a run and the $b run"
		fi
	done
}

# num TEXT: the digits of a number printed with thousands separators ("1,234" -> 1234).
num() { tr -d ', ' <<<"$1"; }

# check_snapshot FILE: `memprof report FILE` succeeds, and its counters agree:
# allocs = frees + blocks in use at exit, and "total heap usage" repeats allocs= and frees=.
# Sets SNAP_ALLOCS to the allocation count and SNAP_LIVE_BYTES to the bytes in use at exit.
check_snapshot() {
	local snap=$1 rep line allocs frees blocks tu_allocs tu_frees
	rep="$T/report.$(basename "$snap").txt"
	if ! "$MEMPROF" report "$snap" >"$rep" 2>&1; then
		echo "--- memprof report $snap:"
		head -n 40 "$rep"
		fail "memprof report $snap exited non-zero"
	fi
	line=$(grep -Eo 'allocs=[0-9,]+ frees=[0-9,]+' "$rep" | head -n 1 || true)
	[ -n "$line" ] || { cat "$rep"; fail "no allocs=A frees=F line in the report of $snap"; }
	allocs=$(num "$(sed -E 's/^allocs=([0-9,]+) .*/\1/' <<<"$line")")
	frees=$(num "$(sed -E 's/.* frees=([0-9,]+)$/\1/' <<<"$line")")
	line=$(grep -Eo 'in use at exit: [0-9,]+ bytes? in [0-9,]+ blocks?' "$rep" | head -n 1 || true)
	[ -n "$line" ] || { cat "$rep"; fail "no 'in use at exit: X bytes in Y blocks' line in the report of $snap"; }
	blocks=$(num "$(sed -E 's/.* in ([0-9,]+) blocks?$/\1/' <<<"$line")")
	SNAP_LIVE_BYTES=$(num "$(sed -E 's/^in use at exit: ([0-9,]+) bytes?.*/\1/' <<<"$line")")
	if [ "$allocs" -ne $((frees + blocks)) ]; then
		grep -E 'in use at exit|total heap usage|allocs=' "$rep"
		fail "$snap: allocs ($allocs) != frees ($frees) + blocks in use at exit ($blocks)"
	fi
	line=$(grep -Eo 'total heap usage: [0-9,]+ allocs, [0-9,]+ frees' "$rep" | head -n 1 || true)
	[ -n "$line" ] || { cat "$rep"; fail "no 'total heap usage: A allocs, F frees' line in the report of $snap"; }
	tu_allocs=$(num "$(sed -E 's/^total heap usage: ([0-9,]+) allocs.*/\1/' <<<"$line")")
	tu_frees=$(num "$(sed -E 's/.*allocs, ([0-9,]+) frees$/\1/' <<<"$line")")
	if [ "$tu_allocs" -ne "$allocs" ] || [ "$tu_frees" -ne "$frees" ]; then
		grep -E 'total heap usage|allocs=' "$rep"
		fail "$snap: 'total heap usage' ($tu_allocs allocs, $tu_frees frees) disagrees with allocs=$allocs frees=$frees"
	fi
	echo "$(basename "$snap"): allocs=$allocs frees=$frees in use at exit: $blocks blocks"
	SNAP_ALLOCS=$allocs
}

# check_snapshots MIN_COUNT MIN_ALLOCS: at least MIN_COUNT snapshots $T/snap.*.gz exist, each
# passes check_snapshot, and the largest records more than MIN_ALLOCS allocations (a
# profiler that misses most of a real program's allocations should not pass).
check_snapshots() {
	local min_count=$1 min_allocs=$2 snap max=0 n=0
	local snaps=()
	shopt -s nullglob
	snaps=("$T"/snap.*.gz)
	shopt -u nullglob
	[ ${#snaps[@]} -ge "$min_count" ] ||
		{ ls -la "$T"; fail "expected at least $min_count snapshot(s) $T/snap.*.gz, found ${#snaps[@]}"; }
	for snap in "${snaps[@]}"; do
		check_snapshot "$snap"
		n=$((n + 1))
		[ "$SNAP_ALLOCS" -gt "$max" ] && max=$SNAP_ALLOCS
	done
	[ "$max" -gt "$min_allocs" ] ||
		fail "the largest of $n snapshot(s) records $max allocations; a run like this makes more than $min_allocs"
}

# need PROGRAM: skip the test when a program it runs is not installed.
need() { command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"; }

# compare_with_heaptrack PERCENT CMD...: runs CMD under the preload and under heaptrack (the
# test is skipped when heaptrack is missing), both with the same fixed environment, and
# demands that memprof's allocation count and bytes in use at exit agree with heaptrack's
# "calls to allocation functions" and "total memory leaked" within PERCENT per cent. Sets
# SNAP_ALLOCS and SNAP_LIVE_BYTES to memprof's figures.
# The environment is fixed because what a program allocates depends on it, and heaptrack
# does not see all of it: a bash without SHELL or HOME asks getpwuid, whose NSS module
# records (about 3 KB, in use at exit) memprof and memcheck count and heaptrack does not.
# Both interpose the same functions from LD_PRELOAD; they may differ by what runs before
# each one's constructor. heaptrack_interpret is kept to 2 GB of address space (it can
# balloon).
compare_with_heaptrack() {
	local pct=$1 ht_allocs diff
	shift
	need heaptrack
	need heaptrack_print
	local env=(env -i PATH="$PATH" HOME="$T" SHELL=/bin/sh USER=memprof LOGNAME=memprof LC_ALL=C)
	"${env[@]}" MEMPROF_OUTPUT="$T/cmp.gz" LD_PRELOAD="$LIBMEMPROF" "$@" >"$T/cmp.out" 2>&1 ||
		{ tail -n 20 "$T/cmp.out"; fail "$* failed under the preload in the fixed environment"; }
	check_snapshot "$T/cmp.gz"
	(ulimit -v 2000000 && "${env[@]}" heaptrack -o "$T/ht" "$@") >"$T/ht.out" 2>&1 ||
		{ tail -n 20 "$T/ht.out"; fail "heaptrack $* failed"; }
	heaptrack_print -f "$T"/ht.*zst >"$T/ht.txt" 2>&1 || heaptrack_print -f "$T"/ht.*gz >"$T/ht.txt" 2>&1 ||
		{ tail -n 20 "$T/ht.txt"; fail "heaptrack_print failed"; }
	ht_allocs=$(sed -nE 's/^calls to allocation functions: ([0-9]+).*/\1/p' "$T/ht.txt")
	[ -n "$ht_allocs" ] || { tail -n 20 "$T/ht.txt"; fail "no 'calls to allocation functions' in heaptrack_print's output"; }
	diff=$((ht_allocs > SNAP_ALLOCS ? ht_allocs - SNAP_ALLOCS : SNAP_ALLOCS - ht_allocs))
	echo "allocations: memprof $SNAP_ALLOCS, heaptrack $ht_allocs (difference $diff)"
	[ $((diff * 100)) -le $((ht_allocs * pct)) ] ||
		fail "memprof counts $SNAP_ALLOCS allocations, heaptrack $ht_allocs: more than $pct% apart"
	# "total memory leaked: 91.60K" (units of 1000): the bytes in use at exit, to its rounding
	# plus PERCENT. (Its peak is no yardstick: it includes heaptrack's own C++ runtime's
	# 72.7 KB emergency pool.)
	local leaked
	leaked=$(sed -nE 's/^total memory leaked: ([0-9.]+)([BKMG]).*/\1 \2/p' "$T/ht.txt" |
		awk '{ m = $2 == "K" ? 1e3 : $2 == "M" ? 1e6 : $2 == "G" ? 1e9 : 1; printf "%d", $1 * m }')
	[ -n "$leaked" ] || { tail -n 20 "$T/ht.txt"; fail "no 'total memory leaked' in heaptrack_print's output"; }
	# libstdc++'s emergency exception pool (one block of 72,704 bytes from its constructor)
	# is freed at exit by heaptrack (__gnu_cxx::__freeres) and kept, like memcheck's
	# "still reachable", by memprof: it is added to heaptrack's figure when memprof saw it.
	"$MEMPROF" report --sort live "$T/cmp.gz" >"$T/live.cmp.gz.txt" 2>&1 || true
	if awk '/^#[0-9]+ live 72,704 bytes in 1 blocks/ { getline; if (/libstdc\+\+\.so/) found = 1 }
		END { exit !found }' "$T/live.cmp.gz.txt"; then
		leaked=$((leaked + 72704))
	fi
	diff=$((leaked > SNAP_LIVE_BYTES ? leaked - SNAP_LIVE_BYTES : SNAP_LIVE_BYTES - leaked))
	echo "in use at exit: memprof $SNAP_LIVE_BYTES bytes, heaptrack about $leaked"
	[ $((diff * 100)) -le $((leaked * pct + 1000)) ] ||
		fail "memprof has $SNAP_LIVE_BYTES bytes in use at exit, heaptrack $leaked: more than $pct% apart"
}

# bare_and_profiled SNAPSHOT CMD...: runs CMD bare and under the preload (the snapshot pattern
# SNAPSHOT), and demands the same output and exit status (captures "bare" and "prof").
bare_and_profiled() {
	local snap=$1
	shift
	run_capture bare "$@"
	run_capture prof profile "$snap" "$@"
	same_output bare prof
}
