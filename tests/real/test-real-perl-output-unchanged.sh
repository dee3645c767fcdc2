#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# perl building hashes, sorting, matching and substituting with regexes: the preload changes
# neither output nor exit status, and the snapshot adds up.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
need perl
[ -f "$LIBMEMPROF" ] || fail "$LIBMEMPROF is missing (make all)"

cat >work.pl <<'EOF'
use strict;
use warnings;
my %count;
my @lines;
for my $i (1 .. 40000) {
    my $line = sprintf("user%05d logged in from 10.%d.%d.%d at %02d:%02d",
                       $i % 997, $i % 256, ($i * 7) % 256, ($i * 13) % 256, $i % 24, $i % 60);
    push @lines, $line;
}
for my $line (@lines) {
    if ($line =~ /^(user\d+) logged in from (\d+)\.(\d+)\.\d+\.\d+ at (\d\d):/) {
        $count{$1}{hits}++;
        $count{$1}{nets}{"$2.$3"} = 1;
        $count{hour}{$4}++;
    }
}
my @top = (sort { $count{$b}{hits} <=> $count{$a}{hits} || $a cmp $b } grep { /^user/ } keys %count)[0 .. 4];
print "top: @top\n";
my %rev = map { scalar reverse($_) => length $_ } @lines[0 .. 999];
print "reversed keys: ", scalar(keys %rev), "\n";
(my $joined = join(";", @lines[0 .. 2999])) =~ s/(\d+)\.(\d+)/$2.$1/g;
print "joined length: ", length($joined), " digits: ", ($joined =~ tr/0-9//), "\n";
my @words = split /\s+/, $joined;
my %seen;
my @uniq = grep { !$seen{$_}++ } @words;
print "words: ", scalar(@words), " unique: ", scalar(@uniq), "\n";
print "hours: ", join(",", map { "$_=$count{hour}{$_}" } sort keys %{ $count{hour} }), "\n";
warn "done\n";
EOF

export PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0
run_capture bare perl work.pl
run_capture prof profile "$T/snap.%p.gz" perl work.pl
[ "$(cat bare.rc)" = 0 ] || { cat bare.err; fail "the workload itself is broken: perl exited $(cat bare.rc)"; }
same_output bare prof
check_snapshots 1 10000
