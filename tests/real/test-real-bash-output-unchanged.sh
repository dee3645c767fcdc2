#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bash running a script: functions, recursion, indexed and associative arrays, string
# operations, arithmetic, here-strings, printf -v, command substitution and a pipeline
# (forked subshells, which write their own snapshots), an external program (exec'd, not
# followed) and a non-zero exit. Output and exit status as bare, every snapshot adds up, and
# a run without forks agrees with heaptrack (allocation count, bytes in use at exit) within 1%.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
BASH_BIN=/bin/bash
[ -x "$BASH_BIN" ] || skip "$BASH_BIN is not installed"

cat >work.sh <<'EOS'
fib() { local n=$1; if ((n < 2)); then echo "$n"; else echo $(( $(fib $((n - 1))) + $(fib $((n - 2))) )); fi; }
declare -A count
declare -a words
text="the quick brown fox jumps over the lazy dog and the dog sleeps"
for round in $(seq 1 100); do
	for w in $text; do
		count[$w]=$(( ${count[$w]:-0} + 1 ))
		words+=("${w^^}-$round")
	done
done
for k in $(printf '%s\n' "${!count[@]}" | sort); do printf '%s=%d\n' "$k" "${count[$k]}"; done
echo "words: ${#words[@]} last: ${words[-1]} sliced: ${words[*]:100:3}"
s=""
for i in {1..2000}; do s+="${i: -1}"; done
echo "length ${#s}, replaced ${#s//1/xx}"
printf -v padded '%08d|%-6s|%x' 42 ab 255
echo "$padded"
read -r a b c <<<"one two three"
echo "$c $b $a"
echo "fib 7 = $(fib 7)"
echo "sorted by pipeline: $(printf '%s\n' "${!count[@]}" | sort -r | head -n 3 | tr '\n' ' ')"
[[ ${FORKS:-1} = 1 ]] && echo "external: $(/bin/echo via exec)"
echo "to stderr" >&2
exit 4
EOS
cat >noforks.sh <<'EOS'
declare -A count
text="the quick brown fox jumps over the lazy dog and the dog sleeps"
for round in {1..600}; do
	for w in $text; do count[$w]=$(( ${count[$w]:-0} + 1 )); s+="${w:0:1}"; done
done
for k in "${!count[@]}"; do v+="$k=${count[$k]} "; done
echo "${#s} ${#v}"
EOS
export LC_ALL=C
run_capture bare "$BASH_BIN" work.sh
run_capture prof profile "$T/snap.%p.gz" "$BASH_BIN" work.sh
[ "$(cat bare.rc)" = 4 ] || { cat bare.err; fail "the script itself is broken: exit $(cat bare.rc), expected 4"; }
expect_match '^fib 7 = 13$' bare.out
same_output bare prof
# The first bash and its forked subshells each wrote one.
check_snapshots 10 5000

rm -f "$T"/snap.*.gz
bare_and_profiled "$T/snap.%p.gz" "$BASH_BIN" noforks.sh
check_snapshots 1 20000
[ "$(ls "$T"/snap.*.gz | wc -l)" -eq 1 ] || fail "a script without forks left several snapshots"
compare_with_heaptrack 1 "$BASH_BIN" noforks.sh
