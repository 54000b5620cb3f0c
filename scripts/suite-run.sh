#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the kernel of a flavour and the suite, run the suite in a QEMU guest
# the kselftest way (run_kselftest.sh), print the results table and compare
# the failures with the expected ones.
# Usage: suite-run.sh patched|base [EXPECTED_FAILURES_FILE]
# Environment: TESTS="prog ..." runs only those programs.
set -eu
. "$(dirname "$0")/common.sh"

flavour=${1:?usage: suite-run.sh patched|base [EXPECTED_FAILURES]}
expected=${2:-}
obj=$(flavour_obj "$flavour")
inst=$BUILD/kselftest/$BASE-$flavour
results=$BUILD/results/$BASE-$flavour
label="$BASE $([ "$flavour" = base ] && echo unpatched || echo patched)"

rm -f "$results/summary"
"$TOP/scripts/kernel-build.sh" "$flavour"
"$TOP/scripts/suite-build.sh" "$flavour"

cmd=$(mktemp)
trap 'rm -f "$cmd"' EXIT
{
	echo "cd '$inst' || exit 1"
	if [ -n "${TESTS:-}" ]; then
		printf "./run_kselftest.sh"
		for t in $TESTS; do printf ' -t net/tcp_repair:%s' "$t"; done
		echo
	else
		echo "./run_kselftest.sh"
	fi
	echo 'rc=$?'
	echo 'dmesg > "$RESULTS/dmesg.log" 2>/dev/null'
	echo 'exit $rc'
} > "$cmd"

step "running the suite on the $label kernel"
start=$(date +%s)
# The verdict comes from the KTAP output, not from run_kselftest's status.
"$TOP/scripts/vm-run.sh" "$obj/arch/x86/boot/bzImage" "$results" "$cmd" ||
	[ -f "$results/exit-code" ] || exit 1
step "suite finished in $(( $(date +%s) - start )) s (log: $results/output.log)"
SUMMARY=$results/summary "$TOP/scripts/results.sh" "$results/output.log" \
	"$label" $expected
