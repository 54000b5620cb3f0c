#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the kernel of a flavour and the suite, run the suite in a QEMU guest
# the kselftest way (run_kselftest.sh), print the results table and compare
# the failures with the expected ones.
# Usage: suite-run.sh patched|base[-variant] [EXPECTED_FAILURES_FILE]
# Environment: TESTS="prog ..." runs only those programs; KSFT_TIMEOUT
# overrides the per-program timeout of the suite's settings (seconds);
# SUITE_RESULTS is the results folder (default build/results/BASE-FLAVOUR);
# NO_BUILD=1 uses the kernel and suite as built, for guests run in parallel.
set -eu
. "$(dirname "$0")/common.sh"

flavour=${1:?usage: suite-run.sh patched|base [EXPECTED_FAILURES]}
expected=${2:-}
obj=$(flavour_obj "$flavour")
inst=$BUILD/kselftest/$BASE-$flavour
results=${SUITE_RESULTS:-$BUILD/results/$BASE-$flavour}
case $flavour in
base*) label="$BASE unpatched" ;;
*) label="$BASE patched" ;;
esac
case $flavour in *-*) label="$label (${flavour#*-})" ;; esac

rm -f "$results/summary"
TESTS=${TESTS:-}
if [ "${NO_BUILD:-0}" = 1 ]; then
	[ -f "$obj/arch/x86/boot/bzImage" ] && [ -x "$inst/run_kselftest.sh" ] ||
		die "NO_BUILD=1 but the $flavour kernel or suite is not built"
else
	"$TOP/scripts/kernel-build.sh" "$flavour"
	"$TOP/scripts/suite-build.sh" "$flavour"
fi

cmd=$(mktemp)
trap 'rm -f "$cmd"' EXIT
suite_cmd "$inst" $TESTS > "$cmd"

step "running the suite on the $label kernel"
start=$(date +%s)
# The verdict comes from the KTAP output, not from run_kselftest's status.
"$TOP/scripts/vm-run.sh" "$obj/arch/x86/boot/bzImage" "$results" "$cmd" ||
	[ -f "$results/exit-code" ] || exit 1
step "suite finished in $(( $(date +%s) - start )) s (log: $results/output.log)"
SUMMARY=$results/summary "$TOP/scripts/results.sh" "$results/output.log" \
	"$label" $expected
