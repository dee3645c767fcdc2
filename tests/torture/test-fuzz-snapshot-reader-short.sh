#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The snapshot reader and the report printers survive 15 seconds of libFuzzer with ASan and
# UBSan, starting from the seeds in tests/fuzz-corpus/ (make fuzz runs it for longer). The
# fuzzer is built through make; a crash leaves its input in $BUILD/fuzz/artifacts/.
# Skipped only when clang or its libFuzzer runtime (libclang-rt-14-dev) is missing.
source "$(dirname "$0")/../lib/lib.sh"
FUZZ_CC=${FUZZ_CC:-clang}
command -v "$FUZZ_CC" >/dev/null || skip "$FUZZ_CC not found (make deps installs it)"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >probe.c
"$FUZZ_CC" -fsanitize=fuzzer,address,undefined -o probe probe.c >probe.log 2>&1 ||
	{ cat probe.log; skip "$FUZZ_CC cannot link a libFuzzer target (libclang-rt-14-dev missing?)"; }

make -s -C "$TOP" BUILD="$BUILD" FUZZ_CC="$FUZZ_CC" fuzz-build >make.log 2>&1 ||
	{ cat make.log; fail "make fuzz-build failed"; }
fuzzer=$TOP/$BUILD/fuzz/fuzz-snapshot-reader
artifacts=$TOP/$BUILD/fuzz/artifacts
mkdir -p corpus "$artifacts"
n_seeds=$(ls "$TOP/tests/fuzz-corpus" | wc -l)
[ "$n_seeds" -ge 20 ] || fail "only $n_seeds seeds in tests/fuzz-corpus"

# New inputs go to the private corpus, never into the source tree.
rc=0
"$fuzzer" -max_total_time="${FUZZ_SHORT_SECONDS:-15}" -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$artifacts/" -print_final_stats=1 corpus "$TOP/tests/fuzz-corpus" \
	>fuzz.log 2>&1 || rc=$?
if [ $rc -ne 0 ]; then
	grep -E 'ERROR|SUMMARY|Test unit written|runtime error' fuzz.log | head -n 20
	tail -n 40 fuzz.log
	fail "fuzzer exited $rc (crash input in $artifacts/)"
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' fuzz.log)
[ "${runs:-0}" -gt 1000 ] || { tail -n 20 fuzz.log; fail "only ${runs:-0} inputs run"; }
# The seeds were all read: every one is a valid snapshot or a defect the reader rejects.
grep -q 'INITED' fuzz.log || { tail -n 20 fuzz.log; fail "fuzzer did not load the seed corpus"; }
echo "$runs inputs, no crash"
