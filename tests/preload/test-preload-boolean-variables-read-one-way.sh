#!/usr/bin/env bash
# Every yes/no variable reads the same way: 1, yes, on, true (any case) turn it on; 0, no, off,
# false turn it off; unset or empty is its default; anything else is its default with one
# warning. Each spelling is checked by the variable's effect (MEMPROF_FOLLOW_CHILDREN=off once
# turned following on, and MEMPROF_DISABLE=no disabled profiling).
source "$(dirname "$0")/../lib/lib.sh"
ON="1 yes on true YES On TRUE"
OFF="0 no off false NO Off FALSE"
# spelled VAR VALUE: the environment for one run ("unset": the variable left out).
spelled() { [ "$2" = unset ] && echo "-u $1" || echo "$1=$2"; }
# NAME_on VALUE: runs with the variable so spelled; succeeds when its effect is on.
disable_on() { # 1 when profiling was disabled: no snapshot
	rm -f d.gz; env $(spelled MEMPROF_DISABLE "$1") MEMPROF_OUTPUT="$T/d.gz" LD_PRELOAD="$LIBMEMPROF" /bin/true 2>err.txt
	[ ! -e d.gz ]
}
follow_on() { # 1 when exec'd programs were followed: more than one snapshot
	rm -f f.*.gz
	env $(spelled MEMPROF_FOLLOW_CHILDREN "$1") MEMPROF_OUTPUT="$T/f.%p.gz" LD_PRELOAD="$LIBMEMPROF" \
		sh -c '/bin/true; /bin/true' 2>err.txt
	[ "$(ls f.*.gz | wc -l)" -gt 1 ]
}
follow_exec_on() { # 1 when an exec in place stayed profiled: the snapshot of the true sh became
	rm -f e.*.gz
	env $(spelled MEMPROF_FOLLOW_EXEC "$1") MEMPROF_OUTPUT="$T/e.%p.gz" LD_PRELOAD="$LIBMEMPROF" \
		sh -c 'exec /bin/true' 2>err.txt
	[ "$(ls e.*.gz 2>/dev/null | wc -l)" -eq 1 ]
}
verify_on() { # 1 when the trace cache was checked: its line on stderr
	env $(spelled MEMPROF_VERIFY_TRACES "$1") MEMPROF_OUTPUT="$T/v.gz" LD_PRELOAD="$LIBMEMPROF" /bin/true 2>err.txt
	grep -q 'trace cache:' err.txt
}
leak_on() { # 1 when the final snapshot holds a leak scan
	env $(spelled MEMPROF_LEAK_CHECK "$1") MEMPROF_OUTPUT="$T/l.gz" LD_PRELOAD="$LIBMEMPROF" /bin/true 2>err.txt
	"$MEMPROF" report "$T/l.gz" >l.txt
	grep -q 'LEAK SUMMARY' l.txt
}
fatal_on() { # 1 when a process dying of SIGSEGV wrote a snapshot
	rm -f s.gz
	env $(spelled MEMPROF_FATAL_SIGNALS "$1") MEMPROF_OUTPUT="$T/s.gz" LD_PRELOAD="$LIBMEMPROF" \
		sh -c 'kill -SEGV $$' 2>err.txt || true
	[ -e s.gz ]
}
# check NAME VAR DEFAULT [READERS]: every spelling of VAR has its effect; a bogus one warns
# once in each of the READERS processes that read it (default 1).
check() {
	local fn=$1 var=$2 dflt=$3 readers=${4:-1} v got
	for v in $ON $OFF unset "" bogus; do
		case " $ON " in *" $v "*) want=1 ;; *) case " $OFF " in *" $v "*) want=0 ;; *) want=$dflt ;; esac ;; esac
		if "$fn" "$v"; then got=1; else got=0; fi
		[ "$got" = "$want" ] || fail "$var='$v': effect $got, wanted $want"
		if [ "$v" = bogus ]; then
			[ "$(grep -c "$var wants 1, yes, on or true, or 0, no, off or false" err.txt)" = "$readers" ] ||
				{ cat err.txt; fail "$var=bogus: no single warning"; }
		else
			! grep -q "$var wants" err.txt || { cat err.txt; fail "$var='$v': warned"; }
		fi
	done
}
check disable_on MEMPROF_DISABLE 0
check follow_on MEMPROF_FOLLOW_CHILDREN 0
check follow_exec_on MEMPROF_FOLLOW_EXEC 1 2 # sh, then the true it became
check verify_on MEMPROF_VERIFY_TRACES 0
check leak_on MEMPROF_LEAK_CHECK 1
check fatal_on MEMPROF_FATAL_SIGNALS 1
