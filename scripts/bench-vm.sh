#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run a command file in a bench guest (kernel of FLAVOUR, a -bench flavour)
# and print the guest's output, without its time stamps, on stdout. The
# guest's files stay in build/bench/vm/NAME.
# Usage: bench-vm.sh FLAVOUR NAME CMD_FILE
set -eu
. "$(dirname "$0")/common.sh"

flavour=${1:?usage: bench-vm.sh FLAVOUR NAME CMD_FILE}
name=${2:?missing run name}
cmd=${3:?missing command file}
image=$(flavour_obj "$flavour")/arch/x86/boot/bzImage
results=$BUILD/bench/vm/$name

[ -f "$image" ] || die "$image missing: run scripts/kernel-build.sh $flavour"
# Progress: vm-run's steps and the bench programs' own progress lines from
# the console; the figures come from the log. A guest that died before it
# ran the command (under TCG on a loaded host the boot's timer check can
# panic) is booted once more.
for try in 1 2; do
	set +e
	"$TOP/scripts/vm-run.sh" "$image" "$results" "$cmd" 2>&1 >/dev/null |
		grep --line-buffered -E '^==> |^[0-9.]+ (freeze_cost|migrate): ' >&2
	rc=${PIPESTATUS[0]}
	set -e
	if [ "$rc" -eq 0 ] || [ -s "$results/output.log" ] || [ "$try" = 2 ]; then
		break
	fi
	step "$name: guest died before the command ran, booting again"
done
[ -f "$results/output.log" ] && cut -d' ' -f2- "$results/output.log"
[ "$rc" -eq 0 ] || die "$name: guest command failed (exit $rc, see $results/console.log)"
