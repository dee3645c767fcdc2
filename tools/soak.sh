#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make soak: runs the torture scenarios under the preload over and over for SOAK_SECONDS
# (default 600), each run compared with the scenario's bare run (stdout and exit status) and
# every snapshot it leaves checked (the report reads it; allocs = frees + blocks in use at
# exit). Ends with a table: scenario, runs, failures, and what the failures were.
# Scenarios whose program is missing are left out. Exit status 1 if anything failed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
TOP=$PWD
MEMPROF=$TOP/$BUILD/memprof
LIB=$TOP/$BUILD/libmemprof.so
P=$TOP/$BUILD/tests/prog-torture
L=$TOP/$BUILD/tests/prog-process-life
CPP=$TOP/$BUILD/tests/prog-cpp-exceptions
SECONDS_WANTED=${SOAK_SECONDS:-600}
RUN_TIMEOUT=${SOAK_RUN_TIMEOUT:-120}
for f in "$MEMPROF" "$LIB" "$P" "$L" "$CPP"; do
	[ -x "$f" ] || [ -f "$f" ] || { echo "soak: $f is missing (make all samples check builds it)" >&2; exit 2; }
done
W=$(mktemp -d /tmp/memprof-soak.XXXXXX)
trap '[ -n "${SOAK_KEEP:-}" ] || rm -rf "$W"' EXIT
cc -shared -fPIC -O1 -g -o "$W/libplugin.so" tests/data/plugin-allocates.c
cc -shared -fPIC -O1 -g -o "$W/libdeepbind.so" tests/data/deepbind-lib.c
cc -shared -fPIC -O1 -o "$W/fault-inject.so" tests/data/fault-inject.c -ldl
cat >"$W/work.sql" <<'EOF'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)
INSERT INTO t SELECT x, 'name-' || x, x % 17 FROM c;
CREATE INDEX t_grp ON t(grp);
SELECT grp, count(*), sum(length(name)) FROM t GROUP BY grp ORDER BY grp;
UPDATE t SET name = upper(name) WHERE grp = 3;
SELECT count(*) FROM t WHERE name LIKE 'NAME-%';
EOF
cat >"$W/work.py" <<'EOF'
import json
d = {str(i): [i, str(i) * 3, {"k": i}] for i in range(20000)}
s = json.dumps(d)
print(len(s), len(json.loads(s)), sum(len(v[1]) for v in d.values()))
EOF

# Each scenario: NAME|SNAPSHOTS|COMMAND... SNAPSHOTS is "some" (at least one must be written),
# "none" (none may be) or "any". The command runs with $W/out as its working directory and,
# under the preload, MEMPROF_OUTPUT=$W/out/snap.%p.gz; FOLLOW=1 in front follows children.
scenarios=(
	"storm: 144 threads in waves, cross-thread frees|some|$P storm"
	"longjmp out of deep allocating frames|some|$P longjmp"
	"dlopen/dlclose 200 times|some|$P dlloop $W/libplugin.so 200"
	"RTLD_DEEPBIND library|some|$P deepbind $W/libdeepbind.so"
	"exec chain by fork, followed|some|FOLLOW=1 $P chain 3 fork"
	"posix_spawn, followed|some|FOLLOW=1 $P spawn"
	"fork while 4 threads allocate (20 forks)|some|$L fork-threads"
	"fork while 4 threads start threads that unwind, with stdio (200 forks)|some|$L fork-unwinding"
	"signal handler allocating during malloc|some|$L sigfree"
	"vfork + failed exec + _exit|some|$L vfork"
	"exit while 3 threads allocate|some|$L busy-exit"
	"C++ exceptions, new[]/delete[], 4 threads|some|$CPP"
	"real allocator refusing (injector)|some|INJECT=1 $P nulls injected"
	"abort()|some|$P abort"
	"SIGSEGV|some|$P segv"
	"file size limit (ulimit -f 1)|none|FSIZE=1 $L deep"
)
command -v sqlite3 >/dev/null && scenarios+=("sqlite3 inserts, index, queries|some|sqlite3 :memory: -init $W/work.sql .quit")
[ -x /usr/bin/python3 ] && scenarios+=("python3 (PYTHONMALLOC=malloc)|some|PYMALLOC=1 /usr/bin/python3 $W/work.py")
command -v gcc >/dev/null && scenarios+=("gcc -O2 -c, followed|some|FOLLOW=1 gcc -O2 -c $TOP/tests/progs/prog-torture.c -o $W/out/t.o")

# run_one MODE SPEC: runs a scenario bare (MODE bare) or profiled (MODE prof) in $W/out,
# output in $W/MODE.out, exit status in $W/MODE.rc.
run_one() {
	local mode=$1 spec=$2 env_pre=() env_prof=() words limit=
	read -r -a words <<<"$spec"
	while [[ ${words[0]} == *=* ]]; do
		case ${words[0]} in
		FOLLOW=1) env_prof+=(MEMPROF_FOLLOW_CHILDREN=1) ;;
		INJECT=1) env_pre=(LD_PRELOAD="$W/fault-inject.so") ;;
		PYMALLOC=1) env_pre=(PYTHONMALLOC=malloc PYTHONHASHSEED=0) ;;
		FSIZE=1) limit=1 ;;
		esac
		words=("${words[@]:1}")
	done
	if [ "$mode" = prof ]; then
		local pre="$LIB"
		for e in "${env_pre[@]}"; do [[ $e == LD_PRELOAD=* ]] && pre="$LIB ${e#LD_PRELOAD=}"; done
		env_prof+=(MEMPROF_OUTPUT="$W/out/snap.%p.gz" LD_PRELOAD="$pre")
	fi
	rm -rf "$W/out" && mkdir "$W/out"
	# The outer braces take the shell's own "Aborted" and "Segmentation fault" lines.
	{
		(
			cd "$W/out" || exit 1
			[ -n "$limit" ] && ulimit -f "$limit"
			exec timeout -k 5 "$RUN_TIMEOUT" env "${env_pre[@]}" "${env_prof[@]}" "${words[@]}"
		) >"$W/$mode.out" 2>"$W/$mode.err"
		echo $? >"$W/$mode.rc"
	} 2>/dev/null
}

# check_snaps EXPECT: prints a failure reason, or nothing when the snapshots are right.
check_snaps() {
	local expect=$1 n=0 f rep allocs frees blocks
	for f in "$W"/out/snap.*.gz; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		rep=$("$MEMPROF" report --no-symbols "$f" 2>&1) || { echo "report failed: ${rep%%$'\n'*}"; return; }
		allocs=$(sed -nE 's/^allocs=([0-9]+) frees=([0-9]+).*/\1/p' <<<"$rep")
		frees=$(sed -nE 's/^allocs=([0-9]+) frees=([0-9]+).*/\2/p' <<<"$rep")
		blocks=$(sed -nE 's/.*in use at exit: [0-9,]+ bytes? in ([0-9,]+) blocks?$/\1/p' <<<"$rep" | tr -d ,)
		[ -n "$allocs" ] && [ -n "$blocks" ] && [ "$allocs" -eq $((frees + blocks)) ] ||
			{ echo "counts disagree in $(basename "$f")"; return; }
	done
	[ -z "$(find "$W/out" -name '*.tmp.*')" ] || { echo "temporary file left"; return; }
	case $expect in
	some) [ $n -gt 0 ] || echo "no snapshot written" ;;
	none) [ $n -eq 0 ] || echo "$n snapshot(s) written" ;;
	esac
}

# Bare runs first: what every profiled run must print and return. Indexed by scenario.
runs=() fails=() why=() bare_rc=()
start=$(date +%s)
echo "soak: ${#scenarios[@]} scenarios for ${SECONDS_WANTED}s ($BUILD)"
for i in "${!scenarios[@]}"; do
	rest=${scenarios[$i]#*|}
	run_one bare "${rest#*|}"
	bare_rc[$i]=$(cat "$W/bare.rc")
	cp "$W/bare.out" "$W/bare.$i.out"
	runs[$i]=0 fails[$i]=0 why[$i]=
done
round=0
while [ $(($(date +%s) - start)) -lt "$SECONDS_WANTED" ]; do
	round=$((round + 1))
	for i in "${!scenarios[@]}"; do
		[ $(($(date +%s) - start)) -lt "$SECONDS_WANTED" ] || break
		name=${scenarios[$i]%%|*}
		rest=${scenarios[$i]#*|}
		expect=${rest%%|*}
		run_one prof "${rest#*|}"
		runs[$i]=$((runs[$i] + 1))
		rc=$(cat "$W/prof.rc")
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			problem="hang (killed after ${RUN_TIMEOUT}s)"
		elif [ "$rc" != "${bare_rc[$i]}" ]; then
			problem="exit status $rc, bare ${bare_rc[$i]}"
		elif ! cmp -s "$W/prof.out" "$W/bare.$i.out"; then
			problem="stdout differs"
		else
			problem=$(check_snaps "$expect")
		fi
		if [ -n "$problem" ]; then
			fails[$i]=$((fails[$i] + 1))
			why[$i]=$problem
			echo "round $round: $name: $problem" >&2
			cp -r "$W/out" "$TOP/$BUILD/soak-failure-$round-$i" 2>/dev/null || true
		fi
	done
done
elapsed=$(($(date +%s) - start))
total_runs=0 total_fails=0
echo
echo "soak: $elapsed s, $round rounds"
echo "| scenario | runs | failures | |"
echo "|---|---|---|---|"
for i in "${!scenarios[@]}"; do
	total_runs=$((total_runs + runs[$i]))
	total_fails=$((total_fails + fails[$i]))
	printf '| %s | %d | %d | %s |\n' "${scenarios[$i]%%|*}" "${runs[$i]}" "${fails[$i]}" "${why[$i]}"
done
echo "total: $total_runs runs, $total_fails failures"
[ "$total_fails" -eq 0 ]
