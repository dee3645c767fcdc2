#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof run follows a program that replaces itself: a shim script (as pyenv's is) that
# changes directory and execs a sample is profiled as the sample, with and without
# --follow-children, and its one snapshot lands in the directory memprof run started in.
# A program that changes directory and then forks children that write snapshots
# (--follow-children) leaves all of them there too, and the shim's own fork + exec'd child is
# not followed without --follow-children, as with valgrind.
source "$(dirname "$0")/../lib/lib.sh"
mkdir elsewhere
cat >shim.sh <<'EOS'
#!/bin/sh
cd "$SHIM_DIR" || exit 9
exec "$@"
EOS
chmod +x shim.sh
export SHIM_DIR=$T/elsewhere
program_of() { "$MEMPROF" report --no-symbols "$1" | sed -nE 's/^program: +//p'; }

for follow in "" --follow-children; do
	rm -f ./*.gz elsewhere/*.gz
	"$MEMPROF" run $follow -- ./shim.sh "$SAMPLES/leaky-parser" >out.txt 2>err.txt ||
		{ cat err.txt; fail "run $follow of the shim failed"; }
	n=$(find . -maxdepth 1 -name '*.gz' | wc -l)
	[ "$n" -eq 1 ] || { cat err.txt; ls -R; fail "run $follow: expected 1 snapshot here, found $n"; }
	[ -z "$(ls elsewhere)" ] || fail "run $follow: a snapshot went to the shim's directory"
	f=$(ls ./*.gz)
	case "$(program_of "$f")" in */leaky-parser*) ;; *) fail "run $follow: $f is not leaky-parser's: $(program_of "$f")" ;; esac
	grep -q "snapshot written to $T/memprof.leaky-parser." err.txt || { cat err.txt; fail "run $follow: not announced"; }
	"$MEMPROF" report "$f" >report.txt
	expect_match "definitely lost: [1-9]" report.txt
done

# A relative --output, a program that cds and forks children: every snapshot here.
rm -f ./*.gz
"$MEMPROF" run --follow-children --output 'snap.%p.gz' -- sh -c 'cd elsewhere && /bin/true && /bin/true' \
	2>err.txt || { cat err.txt; fail "run of the cd-ing sh failed"; }
[ "$(ls snap.*.gz | wc -l)" -eq 3 ] || { ls -R; fail "expected the snapshots of sh and both trues here"; }
[ -z "$(ls elsewhere)" ] || fail "a child's snapshot went to its own working directory"

# Without --follow-children, a forked child's exec is not profiled; the shim's exec in place is.
rm -f ./*.gz
"$MEMPROF" run --output 'nf.%p.gz' -- ./shim.sh sh -c '/bin/true; exit 0' 2>err.txt || fail "unfollowed run failed"
[ "$(ls nf.*.gz | wc -l)" -eq 1 ] || { ls; fail "expected only the exec'd sh's snapshot"; }
case "$(program_of nf.*.gz)" in */sh|*/dash|*/bash) ;; *) fail "nf is not sh's snapshot: $(program_of nf.*.gz)" ;; esac

# With --follow-children too, an exec in place that passes an environment without ours (env -i)
# stays profiled.
rm -f ./*.gz
"$MEMPROF" run --follow-children --output "$T/ei.%p.gz" -- env -i "$SAMPLES/leaky-parser" >/dev/null 2>err.txt ||
	{ cat err.txt; fail "run --follow-children of env -i failed"; }
case "$(program_of ei.*.gz 2>/dev/null | tr '\n' ' ')" in *leaky-parser*) ;; *) ls; fail "env -i's exec was not profiled with --follow-children" ;; esac
# The exec keeps what else the program preloads when ours is there already.
other=/lib/x86_64-linux-gnu/libdl.so.2
if [ -e "$other" ]; then
	MEMPROF_FOLLOW_CHILDREN=1 MEMPROF_OUTPUT="$T/pl.%p.gz" LD_PRELOAD="$LIBMEMPROF:$other" \
		sh -c 'exec env' >env.txt 2>/dev/null || fail "sh -c 'exec env' failed"
	expect_match "^LD_PRELOAD=$LIBMEMPROF:$other\$" env.txt
fi
