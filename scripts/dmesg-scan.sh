#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Scan the kernel log (and kmemleak's report) a guest left in a results
# folder for what the debug options report: BUG, WARNING, lockdep, KASAN,
# UBSAN, kmemleak. Prints each report's first lines; exit 1 if any.
# Usage: dmesg-scan.sh RESULTS_DIR
set -eu
. "$(dirname "$0")/common.sh"

results=${1:?usage: dmesg-scan.sh RESULTS_DIR}
log=$results/dmesg.log
leaks=$results/kmemleak.log
[ -s "$log" ] || die "no kernel log at $log: did the guest finish?"

# The first line of every report these options print
pattern='(BUG: |WARNING: |kernel BUG at|Oops|general protection fault|Kernel panic|INFO: |UBSAN: |KASAN: |possible (circular|recursive) locking|inconsistent lock state|suspicious RCU usage|unreferenced object)'

n=$(grep -cE "$pattern" "$log" || true)
if [ "$n" -gt 0 ]; then
	echo "kernel log: $n report(s):"
	grep -E -A 12 "$pattern" "$log" | head -n 80
fi
m=0
if [ -f "$leaks" ]; then
	m=$(grep -c '^unreferenced object' "$leaks" || true)
	if [ "$m" -gt 0 ]; then
		echo "kmemleak: $m unreferenced object(s):"
		head -n 40 "$leaks"
	fi
else
	echo "note: no kmemleak report in $results (kernel without kmemleak?)"
fi
echo "debug reports: $n in the kernel log, $m from kmemleak"
[ "$n" -eq 0 ] && [ "$m" -eq 0 ]
