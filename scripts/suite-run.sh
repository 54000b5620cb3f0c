#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the kernel of a flavour and the suite (as the working copy has it),
# run the suite in a QEMU guest the kselftest way (run_kselftest.sh), print
# the results table and compare the failures with the expected ones.
# Usage: suite-run.sh patched|base[-variant] [EXPECTED_FAILURES_FILE]
# Environment:
#   TESTS="prog ..."  only those programs
#   KSFT_TIMEOUT      overrides the per-program timeout of the suite (s)
#   SUITE_NAME        the suite's scratch tree (suite-build.sh; default
#                     main); another name also gives its own results folder
#   SUITE_RESULTS     the results folder (default build/results/BASE-FLAVOUR)
#   KERNEL_BUILD=0    use the kernel as built (for working on tests while
#                     another build runs); the suite is still brought up to
#                     date
#   NO_BUILD=1        use the kernel and suite as built (guests in parallel)
set -eu
. "$(dirname "$0")/common.sh"

flavour=${1:?usage: suite-run.sh patched|base [EXPECTED_FAILURES]}
expected=${2:-}
obj=$(flavour_obj "$flavour")
image=$obj/arch/x86/boot/bzImage
inst=$(suite_inst)
name=${SUITE_NAME:-main}
results=$BUILD/results/$BASE-$flavour
[ "$name" = main ] || results=$results-$name
results=${SUITE_RESULTS:-$results}

rm -f "$results/summary"
TESTS=${TESTS:-}
if [ "${NO_BUILD:-0}" = 1 ]; then
	[ -f "$image" ] && [ -x "$inst/run_kselftest.sh" ] ||
		die "NO_BUILD=1 but the $flavour kernel or the suite is not built"
else
	if [ "${KERNEL_BUILD:-1}" = 0 ]; then
		[ -f "$image" ] || die "KERNEL_BUILD=0 but no $flavour kernel: run scripts/kernel-build.sh $flavour"
	else
		"$TOP/scripts/kernel-build.sh" "$flavour"
	fi
	"$TOP/scripts/suite-build.sh"
fi

cmd=$(mktemp)
trap 'rm -f "$cmd"' EXIT
suite_cmd "$inst" $TESTS > "$cmd"

version=$(kernel_version)
label=$(flavour_label "$flavour" "$version")
step "running the suite on the $label kernel"
start=$(date +%s)
# The verdict comes from the KTAP output, not from run_kselftest's status.
"$TOP/scripts/vm-run.sh" "$image" "$results" "$cmd" ||
	[ -f "$results/exit-code" ] || exit 1
secs=$(( $(date +%s) - start ))
# What ran: for tables and loops that accumulate runs.
{
	echo "base $BASE"
	echo "flavour $flavour"
	echo "kernel $version"
	echo "repo $(repo_commit)"
	echo "suite $(cat "$inst/.digest" 2>/dev/null | cut -c1-12)"
	echo "date $(date -u '+%F %H:%M')"
	echo "seconds $secs"
} > "$results/meta"
step "suite finished in $secs s (log: $results/output.log)"
SUMMARY=$results/summary "$TOP/scripts/results.sh" "$results/output.log" \
	"$label" $expected
