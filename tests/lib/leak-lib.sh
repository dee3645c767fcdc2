# SPDX-License-Identifier: MIT
# Helpers for the leak tests: the four LEAK SUMMARY figures of valgrind --leak-check=full and
# of libmemprof.so for the same command, as one line each:
#   "definite BYTES BLOCKS indirect BYTES BLOCKS possible BYTES BLOCKS reachable BYTES BLOCKS"
# Sourced after lib.sh.
command -v valgrind >/dev/null 2>&1 || skip "valgrind is not installed"

# memcheck calls a thread's DTV (allocated by ld.so, pointed to at dtv+1) "possibly lost";
# memprof counts it INTERNAL (see libmemprof(3)). Those loss records are taken out of
# valgrind's figures: the one documented difference.
# --fair-sched=yes: valgrind runs one thread at a time, and its default lock lets a thread
# that never blocks (one looping on realloc) starve the others for minutes.
vg_figures() { # vg_figures OUT CMD...
	local out=$1; shift
	valgrind --fair-sched=yes --leak-check=full --show-leak-kinds=all --log-file=vg.log "$@" >/dev/null 2>&1 || true
	grep -q "ERROR SUMMARY" vg.log || { cat vg.log; fail "valgrind did not finish: $*"; }
	awk '
	function num(s) { gsub(/,/, "", s); return s + 0 }
	function flush() { if (kind != "" && !dtv) { bytes[kind] += rb; blocks[kind] += rn }; kind = "" }
	/ are (definitely|indirectly|possibly) lost in loss record| are still reachable in loss record/ {
		flush(); sub(/^==[0-9]+== */, "")
		rb = num($1)
		if (match($0, /\([0-9,]+ direct/)) rb = num(substr($0, RSTART + 1, RLENGTH - 8))
		match($0, /[0-9,]+ blocks are/); rn = num(substr($0, RSTART, RLENGTH - 11))
		kind = ($0 ~ /definitely/) ? "definite" : ($0 ~ /indirectly/) ? "indirect" : ($0 ~ /possibly/) ? "possible" : "reachable"
		dtv = 0; next
	}
	/_dl_allocate_tls|allocate_dtv/ { dtv = 1 }
	/^==[0-9]+== *$/ { flush() }
	END { flush(); printf "definite %d %d indirect %d %d possible %d %d reachable %d %d\n",
		bytes["definite"], blocks["definite"], bytes["indirect"], blocks["indirect"],
		bytes["possible"], blocks["possible"], bytes["reachable"], blocks["reachable"] }
	' vg.log >"$out"
}

# The summary from a memprof snapshot's report (zeros for a kind the report leaves out).
report_figures() { # report_figures SNAPSHOT OUT
	"$MEMPROF" report "$1" >report.txt || fail "memprof report $1 failed"
	grep -q "LEAK SUMMARY" report.txt || { cat report.txt; fail "no LEAK SUMMARY in the report of $1"; }
	awk '
	function num(s) { gsub(/,/, "", s); return s + 0 }
	/^ *definitely lost:/ { d = num($3); dn = num($6) }
	/^ *indirectly lost:/ { i = num($3); in_ = num($6) }
	/^ *possibly lost:/ { p = num($3); pn = num($6) }
	/^ *still reachable:/ { r = num($3); rn = num($6) }
	END { printf "definite %d %d indirect %d %d possible %d %d reachable %d %d\n", d, dn, i, in_, p, pn, r, rn }
	' report.txt >"$2"
}

mp_figures() { # mp_figures OUT CMD...
	local out=$1; shift
	rm -f mp.gz
	MEMPROF_OUTPUT=$PWD/mp.gz LD_PRELOAD=$LIBMEMPROF "$@" >/dev/null 2>mp.err || true
	[ -s mp.gz ] || { cat mp.err; fail "no snapshot from: $*"; }
	report_figures mp.gz "$out"
}

# same_as_memcheck CMD...: the four figures must be equal.
same_as_memcheck() {
	vg_figures vg.txt "$@"
	mp_figures mp.txt "$@"
	if ! diff vg.txt mp.txt >/dev/null; then
		echo "valgrind: $(cat vg.txt)"
		echo "memprof:  $(cat mp.txt)"
		cat report.txt
		fail "LEAK SUMMARY differs from memcheck's for: $*"
	fi
	echo "ok: $* -> $(cat mp.txt)"
}
