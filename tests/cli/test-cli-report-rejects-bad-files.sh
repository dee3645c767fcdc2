#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof report fails cleanly (exit 2, one "memprof: " line on stderr, nothing on stdout) on
# files that are not snapshots at all: missing, empty, a directory, plain text, random bytes,
# a gzip stream cut at any point, a gzip stream with a flipped byte, two snapshots
# concatenated.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

expect_error 'cannot open missing.gz: No such file or directory$' "$MEMPROF" report missing.gz
: >empty.gz
expect_error 'empty.gz: empty file$' "$MEMPROF" report empty.gz
mkdir dir.gz
expect_error 'dir.gz: Is a directory$' "$MEMPROF" report dir.gz
echo "just some text" >text.gz
expect_error 'text.gz: not a gzip file$' "$MEMPROF" report text.gz
expect_error 'null: empty file|null: not a gzip file' "$MEMPROF" report /dev/null

# Random bytes, with and without a gzip magic in front.
for seed in 1 2 3 4 5; do
	head -c $((seed * 1000)) /dev/urandom >random.gz
	expect_error 'random.gz: ' "$MEMPROF" report random.gz
	{ printf '\037\213\010\000\000\000\000\000\000\003'; head -c 500 /dev/urandom; } >random.gz
	expect_error 'random.gz: ' "$MEMPROF" report random.gz
done

# A valid snapshot cut anywhere, including inside the gzip trailer.
mksnap_gz valid full.gz
size=$(stat -c %s full.gz)
for n in 1 2 10 11 20 50 $((size / 2)) $((size - 8)) $((size - 4)) $((size - 1)); do
	head -c "$n" full.gz >cut.gz
	# One byte cannot even hold the two-byte gzip magic.
	[ "$n" -eq 1 ] && want='not a gzip file$' || want='truncated gzip stream \(unexpected end of file\)$'
	expect_error "cut.gz: $want" "$MEMPROF" report cut.gz
done

# One flipped byte in the compressed data, then in the CRC.
python3 - <<'END' || fail "python3 failed"
d = bytearray(open('full.gz', 'rb').read())
for name, at in (('flip-data.gz', len(d) // 2), ('flip-crc.gz', len(d) - 6)):
    e = bytearray(d)
    e[at] ^= 0x55
    open(name, 'wb').write(e)
END
expect_error 'flip-data.gz: (corrupt|truncated)' "$MEMPROF" report flip-data.gz
expect_error 'flip-crc.gz: corrupt gzip stream \(incorrect data check\)$' "$MEMPROF" report flip-crc.gz

cat full.gz full.gz >twice.gz
expect_error 'twice.gz: unexpected data after the END section$' "$MEMPROF" report twice.gz

# The intact file is accepted: the cases above failed for their defect, not for the setup.
"$MEMPROF" report full.gz >/dev/null || fail "the intact snapshot was rejected"
