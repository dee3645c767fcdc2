# SPDX-License-Identifier: MIT
# Helpers for tests/cli/test-cli-*.sh, sourced after lib.sh: snapshots from tests/progs/mksnap.c and
# checks for the CLI's one-line errors.

# The generator comes from `make check` ($TESTBIN/mksnap); a test run on its own builds a
# private copy.
MKSNAP=$TESTBIN/mksnap
if [ ! -x "$MKSNAP" ]; then
	MKSNAP=$T/mksnap
	cc -std=gnu11 -O1 -Wall -I"$TOP/src" -o "$MKSNAP" "$TOP/tests/progs/mksnap.c" || fail "cannot build mksnap"
fi

# mksnap_gz CASE FILE: writes the gzip-compressed snapshot of mksnap case CASE to FILE.
mksnap_gz() { "$MKSNAP" "$1" | gzip -c >"$2"; }

# expect_error REGEX CMD...: CMD must exit 2, print nothing on stdout and exactly one line on
# stderr, "memprof: " followed by text matching REGEX.
expect_error() {
	local regex=$1 rc=0
	shift
	"$@" >err.stdout 2>err.stderr || rc=$?
	[ "$rc" -eq 2 ] || { cat err.stderr; fail "$* exited $rc, not 2"; }
	[ ! -s err.stdout ] || { cat err.stdout; fail "$* printed on stdout"; }
	[ "$(wc -l <err.stderr)" -eq 1 ] || { cat err.stderr; fail "$* printed $(wc -l <err.stderr) lines on stderr, not 1"; }
	expect_match "^memprof: $regex" err.stderr
}
