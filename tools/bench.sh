#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: wall time, peak RSS and output size of three workloads run bare, under memprof,
# heaptrack, LeakSanitizer (preloaded) and valgrind memcheck, printed as a table.
#
# Workloads are built here into $BUILD/bench and can be run on their own:
#   $BUILD/bench/churn [PAIRS]      single-threaded malloc/free churn from varied stacks
#   $BUILD/bench/prodcons [BLOCKS]  producer mallocs, consumer frees (cross-thread frees)
#   PYTHONMALLOC=malloc /usr/bin/python3 tools/bench/workload.py [ROUNDS]
#   $BUILD/bench/leakscan [BLOCKS]  times memprof_leak_check() on 1M live blocks, 1 GiB of heap
# Sizes can be changed through the environment (CHURN_N, BIG_CHURN_N, PRODCONS_N, PY_ROUNDS,
# VG_CHURN_N, VG_PRODCONS_N, VG_PY_ROUNDS, LIVE_N, LEAK_N, RUN_TIMEOUT_S, HEAPTRACK_VMEM_KB). A tool that is missing or fails is reported in
# the table and the run carries on; the whole run stops starting new measurements after
# BENCH_BUDGET_S seconds (default 540) so that it stays under 10 minutes.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
B=$PWD/$BUILD/bench
LIBMEMPROF=$PWD/$BUILD/libmemprof.so
MEMPROF=$PWD/$BUILD/memprof
LSAN_LIB=/usr/lib/x86_64-linux-gnu/liblsan.so.0
PY=/usr/bin/python3 # not a pyenv shim: the real interpreter, so LD_PRELOAD reaches it
CC=${CC:-cc}

CHURN_N=${CHURN_N:-30000000}
BIG_CHURN_N=${BIG_CHURN_N:-45000000}
PRODCONS_N=${PRODCONS_N:-5000000}
PY_ROUNDS=${PY_ROUNDS:-150}
# valgrind is 30-80x slower: it runs smaller sizes, compared with a bare run of the same size.
VG_CHURN_N=${VG_CHURN_N:-2000000}
VG_PRODCONS_N=${VG_PRODCONS_N:-200000}
VG_PY_ROUNDS=${VG_PY_ROUNDS:-10}
RUN_TIMEOUT_S=${RUN_TIMEOUT_S:-150}
HEAPTRACK_VMEM_KB=${HEAPTRACK_VMEM_KB:-4194304}
BENCH_BUDGET_S=${BENCH_BUDGET_S:-540}

TMP=$(mktemp -d /tmp/memprof-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
T_START=$(date +%s)

# ---- building the workloads ----
mkdir -p "$B"
build() { # build NAME EXTRA_LIBS...
	local name=$1; shift
	if ! "$CC" -std=gnu11 -O2 -g -Wall -Wextra -o "$B/$name" "tools/bench/$name.c" "$@"; then
		echo "bench: cannot build $B/$name" >&2
		exit 1
	fi
}
build churn
build prodcons -lpthread
build liveblocks
build leakscan -ldl

# ---- which tools exist ----
have_memprof=1 memprof_why=""
[ -f "$LIBMEMPROF" ] || { have_memprof=0; memprof_why="no $BUILD/libmemprof.so"; }
have_heaptrack=1; command -v heaptrack >/dev/null 2>&1 || have_heaptrack=0
have_lsan=1; [ -f "$LSAN_LIB" ] || have_lsan=0
have_valgrind=1; command -v valgrind >/dev/null 2>&1 || have_valgrind=0
have_time=1; [ -x /usr/bin/time ] || have_time=0
have_py=1; [ -x "$PY" ] || have_py=0

# ---- measuring ----
# run_one TAG CMD...: runs CMD with a timeout, stdout/stderr to $TMP/TAG.{out,err}.
# Sets R_NS (wall time), R_KB (peak RSS in KiB, or "" if unknown) and R_RC (exit status).
run_one() {
	local tag=$1; shift
	local t0 t1
	t0=$(date +%s%N)
	if [ $have_time = 1 ]; then
		/usr/bin/time -f %M -o "$TMP/$tag.rss" timeout -k 5 "$RUN_TIMEOUT_S" "$@" \
			>"$TMP/$tag.out" 2>"$TMP/$tag.err"
	else
		timeout -k 5 "$RUN_TIMEOUT_S" "$@" >"$TMP/$tag.out" 2>"$TMP/$tag.err"
	fi
	R_RC=$?
	t1=$(date +%s%N)
	R_NS=$((t1 - t0))
	R_KB=""
	[ -s "$TMP/$tag.rss" ] && R_KB=$(tail -n 1 "$TMP/$tag.rss" | tr -cd '0-9')
}

over_budget() { [ $(( $(date +%s) - T_START )) -ge "$BENCH_BUDGET_S" ]; }

secs() { awk -v ns="$1" 'BEGIN { printf "%.2f s", ns / 1e9 }'; }
ratio() { # ratio NS BASE_NS -> "2.10x"
	awk -v a="$1" -v b="$2" 'BEGIN { r = a / b; if (r < 10) printf "%.2fx", r;
		else if (r < 100) printf "%.1fx", r; else printf "%.0fx", r }'
}
percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
human_kb() { # KiB -> "12.3 MB"
	[ -n "$1" ] || { echo "n/a"; return; }
	awk -v k="$1" 'BEGIN { if (k < 1024) printf "%d KB", k; else if (k < 1048576)
		printf "%.1f MB", k / 1024; else printf "%.2f GB", k / 1048576 }'
}
human_bytes() { # bytes -> "123 KB"
	awk -v b="$1" 'BEGIN { if (b < 1024) printf "%d B", b; else if (b < 1048576)
		printf "%.1f KB", b / 1024; else printf "%.1f MB", b / 1048576 }'
}
# files_bytes GLOB...: total size of the files that exist, or empty if none.
files_bytes() {
	local total=0 found=0 f
	for f in "$@"; do [ -f "$f" ] && { total=$((total + $(stat -c %s "$f"))); found=1; }; done
	[ $found = 1 ] && echo "$total"
}
# A short reason for a failed run: exit status and the last line of its stderr.
why_failed() {
	local tag=$1 rc=$2 msg
	msg=$(grep -v '^Command exited' "$TMP/$tag.err" 2>/dev/null | tail -n 1 | cut -c1-100)
	case $rc in
	124|137) echo "timed out after ${RUN_TIMEOUT_S} s" ;;
	*) if [ "$rc" -gt 128 ]; then echo "killed by signal $((rc - 128))${msg:+: $msg}";
	   else echo "exit $rc${msg:+: $msg}"; fi ;;
	esac
}

# Per-workload results, filled by measure().
declare -A NS KB RC OUT_BYTES NOTE
NOTES=()

# measure WORKLOAD TOOL ENV_ASSIGNMENTS -- CMD...: runs CMD under TOOL and records the result
# as NS[TOOL] etc. The environment assignments go to the program (and to the tool around it).
measure() {
	local w=$1 tool=$2; shift 2
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	local tag=$w-$tool dir=$TMP/$w-$tool wrap=()
	mkdir -p "$dir"
	case $tool in
	bare|vgbare) wrap=() ;;
	memprof) wrap=(env "MEMPROF_OUTPUT=$dir/mp.%p.gz" "LD_PRELOAD=$LIBMEMPROF") ;;
	# heaptrack_interpret 1.4 can balloon (18 GB, then std::bad_alloc) on deep stacks such as
	# churn's: cap its address space so that it fails fast instead of eating the machine.
	heaptrack) wrap=(bash -c 'ulimit -v "$0" && exec "$@"' "$HEAPTRACK_VMEM_KB" heaptrack -o "$dir/ht") ;;
	lsan) wrap=(env "LD_PRELOAD=$LSAN_LIB" "LSAN_OPTIONS=detect_leaks=1:exitcode=0") ;;
	valgrind) wrap=(valgrind --leak-check=full -q) ;;
	esac
	if over_budget; then
		RC[$tool]=skip
		return
	fi
	run_one "$tag" env "${envs[@]}" "${wrap[@]}" "$@"
	NS[$tool]=$R_NS KB[$tool]=$R_KB RC[$tool]=$R_RC
	OUT_BYTES[$tool]=""
	case $tool in
	memprof) OUT_BYTES[$tool]=$(files_bytes "$dir"/mp.*.gz) ;;
	heaptrack) OUT_BYTES[$tool]=$(files_bytes "$dir"/ht*) ;;
	esac
	if [ "$R_RC" != 0 ]; then
		NOTES+=("    $tool on $w failed: $(why_failed "$tag" "$R_RC")")
	fi
	if [ $tool = memprof ] && [ "$R_RC" = 0 ] && [ -z "${OUT_BYTES[$tool]}" ]; then
		NOTES+=("    memprof on $w wrote no snapshot in $dir")
	fi
}

# cell TOOL BASE_TOOL: "2.10x", or why there is no number.
cell() {
	local tool=$1 base=$2
	case ${RC[$tool]:-} in
	"") echo "n/a" ;;
	skip) echo "skipped (time budget)" ;;
	0) if [ "${RC[$base]:-}" = 0 ]; then ratio "${NS[$tool]}" "${NS[$base]}"; else echo "n/a"; fi ;;
	*) echo "FAILED" ;;
	esac
}
rss_cell() { if [ "${RC[$1]:-}" = 0 ]; then human_kb "${KB[$1]}"; else echo "n/a"; fi; }
out_cell() {
	if [ "${RC[$1]:-}" = 0 ] && [ -n "${OUT_BYTES[$1]}" ]; then human_bytes "${OUT_BYTES[$1]}";
	else echo "n/a"; fi
}

# run_workload NAME VG_NOTE ENVS -- CMD... -- VG_CMD...: every tool on one workload.
# VG_CMD is the smaller command valgrind runs; it is compared with a bare run of itself.
run_workload() {
	local w=$1 vg_note=$2; shift 2
	local envs=() cmd=() vgcmd=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
	while [ "$1" != "--" ]; do cmd+=("$1"); shift; done; shift
	vgcmd=("$@")
	NS=() KB=() RC=() OUT_BYTES=() NOTES=()
	measure "$w" bare "${envs[@]}" -- "${cmd[@]}"
	if [ "${RC[bare]}" != 0 ]; then
		printf '%-10s bare FAILED (%s): skipping the tools\n' "$w" "$(why_failed "$w-bare" "${RC[bare]}")"
		return
	fi
	if [ $have_memprof = 1 ]; then measure "$w" memprof "${envs[@]}" -- "${cmd[@]}"; fi
	if [ $have_heaptrack = 1 ]; then measure "$w" heaptrack "${envs[@]}" -- "${cmd[@]}"; fi
	if [ $have_lsan = 1 ]; then measure "$w" lsan "${envs[@]}" -- "${cmd[@]}"; fi
	if [ $have_valgrind = 1 ] && [ ${#vgcmd[@]} -gt 0 ]; then
		measure "$w" vgbare "${envs[@]}" -- "${vgcmd[@]}"
		measure "$w" valgrind "${envs[@]}" -- "${vgcmd[@]}"
	fi

	local mp ht ls vg
	mp=$(cell memprof bare); [ $have_memprof = 1 ] || mp="n/a ($memprof_why)"
	ht=$(cell heaptrack bare)
	ls=$(cell lsan bare)
	vg=$(cell valgrind vgbare)
	[ "${RC[valgrind]:-}" = 0 ] && vg="$vg ($vg_note)"
	printf '%-10s bare 1.00x (%s)  memprof %s  heaptrack %s  lsan %s  valgrind %s\n' \
		"$w" "$(secs "${NS[bare]}")" "$mp" "$ht" "$ls" "$vg"
	printf '%-10s peak RSS: bare %s  memprof %s  heaptrack %s  lsan %s  valgrind %s\n' "" \
		"$(rss_cell bare)" "$(rss_cell memprof)" "$(rss_cell heaptrack)" "$(rss_cell lsan)" \
		"$(rss_cell valgrind)"
	printf '%-10s output:   memprof snapshot %s  heaptrack file %s\n' "" \
		"$(out_cell memprof)" "$(out_cell heaptrack)"
	if [ "$w" = prodcons ]; then prodcons_line; fi
	local n
	for n in "${NOTES[@]}"; do echo "$n"; done
}

# Throughput as reported by prodcons itself (thread start to join), as % of bare.
ops_per_s() { sed -nE 's/.* ([0-9.]+) ops\/s$/\1/p' "$TMP/prodcons-$1.out" 2>/dev/null | head -n 1; }
prodcons_line() {
	local base line="" tool ops
	base=$(ops_per_s bare)
	line=$(printf 'throughput: bare 100%% (%s ops/s)' "$(awk -v o="$base" 'BEGIN { printf "%.2fM", o / 1e6 }')")
	for tool in memprof heaptrack lsan valgrind; do
		ops=$(ops_per_s "$tool")
		if [ "${RC[$tool]:-}" = 0 ] && [ -n "$ops" ]; then
			if [ $tool = valgrind ]; then
				line+="  $tool $(percent "$ops" "$(ops_per_s vgbare)") ($VG_PRODCONS_N blocks)"
			else
				line+="  $tool $(percent "$ops" "$base")"
			fi
		else
			line+="  $tool n/a"
		fi
	done
	printf '%-10s %s\n' "" "$line"
}

# ---- the table ----
echo "memprof bench: $(nproc) cores, $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "ratios are wall time / bare wall time (lower is better); peak RSS from /usr/bin/time %M"
echo "(for heaptrack: the largest single process, the app or heaptrack_interpret)."
[ $have_memprof = 1 ] || echo "memprof: n/a ($memprof_why): build it with make all"
[ $have_heaptrack = 1 ] || echo "heaptrack: not installed (n/a)"
[ $have_lsan = 1 ] || echo "lsan: $LSAN_LIB not found (n/a)"
[ $have_valgrind = 1 ] || echo "valgrind: not installed (n/a)"
[ $have_time = 1 ] || echo "peak RSS: /usr/bin/time not installed (n/a)"
echo

echo "churn: $CHURN_N malloc/free pairs (sizes 8..256, 1/8 calloc, 1/8 realloc), stacks 3..30 deep;"
echo "       valgrind runs $VG_CHURN_N pairs and is compared with a bare run of $VG_CHURN_N pairs"
run_workload churn "at $VG_CHURN_N pairs, not $CHURN_N" -- "$B/churn" "$CHURN_N" -- "$B/churn" "$VG_CHURN_N"
echo

echo "prodcons: $PRODCONS_N blocks malloc'ed by one thread and freed by another;"
echo "       valgrind runs $VG_PRODCONS_N blocks (it serialises threads) against a bare run of the same;"
echo "       bare glibc is bound by arena-lock contention (producer malloc and consumer free meet on one"
echo "       arena), so a tool that slows the producer can look free, and LSan's own allocator is faster"
run_workload prodcons "at $VG_PRODCONS_N blocks" -- "$B/prodcons" "$PRODCONS_N" -- \
	"$B/prodcons" "$VG_PRODCONS_N"
echo

if [ $have_py = 1 ]; then
	echo "python: $PY tools/bench/workload.py $PY_ROUNDS with PYTHONMALLOC=malloc;"
	echo "       valgrind runs $VG_PY_ROUNDS rounds against a bare run of $VG_PY_ROUNDS rounds"
	run_workload python "at $VG_PY_ROUNDS rounds, not $PY_ROUNDS" PYTHONMALLOC=malloc PYTHONHASHSEED=0 -- \
		"$PY" tools/bench/workload.py "$PY_ROUNDS" -- "$PY" tools/bench/workload.py "$VG_PY_ROUNDS"
else
	echo "python: n/a ($PY not found)"
fi
echo

# ---- profiler memory per live block ----
LIVE_N=${LIVE_N:-2000000}
if [ $have_memprof = 1 ] && [ $have_time = 1 ] && ! over_budget; then
	run_one live-bare "$B/liveblocks" "$LIVE_N"
	bare_kb=$R_KB
	# Recording only: the exit leak scan's transient memory (about 37 bytes per live block,
	# given back after the scan) is left out of this figure.
	run_one live-mp env MEMPROF_LEAK_CHECK=0 "MEMPROF_OUTPUT=$TMP/live.%p.gz" "LD_PRELOAD=$LIBMEMPROF" "$B/liveblocks" "$LIVE_N"
	if [ "$R_RC" = 0 ] && [ -n "$bare_kb" ] && [ -n "$R_KB" ]; then
		per=$(awk -v a="$R_KB" -v b="$bare_kb" -v n="$LIVE_N" 'BEGIN { printf "%.1f", (a - b) * 1024 / n }')
		verdict="OK"; awk -v p="$per" 'BEGIN { exit !(p > 48) }' && verdict="OVER the 48-byte target"
		echo "live blocks: $LIVE_N x 32 bytes kept: peak RSS bare $(human_kb "$bare_kb"), memprof $(human_kb "$R_KB"):"
		echo "             $per bytes of profiler memory per live block, all tables included (target <= 48: $verdict)"
	else
		echo "live blocks: memprof run FAILED ($(why_failed live-mp "$R_RC"))"
	fi
	echo
fi

# ---- the leak scan on a big heap ----
LEAK_N=${LEAK_N:-1000000}
if [ $have_memprof = 1 ] && ! over_budget; then
	# The exit scan is turned off: the workload times one scan, through memprof_leak_check().
	run_one leakscan env MEMPROF_LEAK_CHECK=0 "MEMPROF_OUTPUT=$TMP/leak.%p.%n.gz" "LD_PRELOAD=$LIBMEMPROF" \
		"$B/leakscan" "$LEAK_N"
	if [ "$R_RC" = 0 ] && grep -q '^leakscan: ' "$TMP/leakscan.out"; then
		echo "leak scan: $(sed -n 's/^leakscan: //p' "$TMP/leakscan.out")"
		echo "           (threads stopped, roots and heap scanned, blocks classified, snapshot written; target < 2 s)"
	else
		echo "leak scan: FAILED ($(why_failed leakscan "$R_RC"))"
	fi
	echo
fi

# ---- the 90M-call snapshot ----
if [ $have_memprof = 0 ]; then
	echo "90M-call snapshot: n/a ($memprof_why)"
elif over_budget; then
	echo "90M-call snapshot: skipped (time budget)"
else
	dir=$TMP/big
	mkdir -p "$dir"
	run_one big env "MEMPROF_OUTPUT=$dir/mp.%p.gz" "LD_PRELOAD=$LIBMEMPROF" "$B/churn" "$BIG_CHURN_N"
	if [ "$R_RC" != 0 ]; then
		echo "90M-call snapshot: churn $BIG_CHURN_N under memprof FAILED ($(why_failed big "$R_RC"))"
	else
		size=$(files_bytes "$dir"/mp.*.gz)
		if [ -z "$size" ]; then
			echo "90M-call snapshot: churn $BIG_CHURN_N under memprof wrote no snapshot"
		else
			verdict="OK"; [ "$size" -lt 1048576 ] || verdict="OVER the 1 MB target"
			echo "90M-call snapshot: churn $BIG_CHURN_N pairs (~$((BIG_CHURN_N * 2 / 1000000))M calls)" \
				"under memprof in $(secs "$R_NS"): snapshot $(human_bytes "$size") (target < 1 MB: $verdict)"
			if [ -x "$MEMPROF" ]; then
				snap=$(ls "$dir"/mp.*.gz | head -n 1)
				if timeout 60 "$MEMPROF" report "$snap" >"$TMP/big.report" 2>&1; then
					line=$(grep -Eo 'allocs=[0-9,]+ frees=[0-9,]+( peak=[0-9,]+)?' "$TMP/big.report" | head -n 1)
					echo "                   memprof report: ${line:-no allocs= line in the report}"
				else
					echo "                   memprof report FAILED: $(tail -n 1 "$TMP/big.report")"
				fi
			fi
		fi
	fi
fi
echo "total bench time: $(( $(date +%s) - T_START )) s"
