#!/usr/bin/env bash
# python3's multiprocessing.Pool(4) ends its workers with SIGTERM as they leave through
# os._exit(): a worker signalled while it writes its final snapshot must keep it (each run lost
# one to three of the four before the signal was held) and exit as bare, with the same output.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is not installed"
cat >pool.py <<'PY'
import multiprocessing
def work(n):
    return sum(range(n))
if __name__ == "__main__":
    with multiprocessing.Pool(4) as p:
        print(sum(p.map(work, range(2000))))
PY
export PYTHONMALLOC=malloc
run_capture bare timeout 120 /usr/bin/python3 pool.py
for run in 1 2 3; do
	mkdir "$T/run$run"
	run_capture profiled timeout 120 env MEMPROF_OUTPUT="$T/run$run/snap.%p.gz" LD_PRELOAD="$LIBMEMPROF" \
		/usr/bin/python3 pool.py
	same_output bare profiled
	n=$(ls "$T/run$run" | grep -c '^snap\.[0-9]*\.gz$' || true)
	ls "$T/run$run" | grep -q tmp && fail "run $run: a temporary file was left: $(ls "$T/run$run")"
	[ "$n" -eq 5 ] || fail "run $run: $n snapshots, expected 5 (the pool's process and its 4 workers): $(ls "$T/run$run")"
	for s in "$T/run$run"/snap.*.gz; do
		"$MEMPROF" report "$s" >/dev/null || fail "run $run: memprof report cannot read $s"
	done
	echo "run $run: 5 snapshots"
done
