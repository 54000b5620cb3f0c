#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The suite on the patched kernel built with the debug options netdev CI
# uses (kconfig/debug.config: KASAN, lockdep, atomic-sleep checks, kmemleak,
# UBSAN): every test must pass and the kernel must report nothing.
set -eu
. "$(dirname "$0")/common.sh"

flavour=patched-debug
results=$BUILD/results/$BASE-$flavour
# suite-run.sh's folder: another suite than main has its own
[ "${SUITE_NAME:-main}" = main ] || results=$results-$SUITE_NAME
rc=0

# Everything runs several times slower under KASAN and lockdep. Under
# emulation on a busy host a vCPU can be starved for tens of seconds: RCU
# stall warnings would then report the host, not the kernel; their
# threshold goes to its maximum.
export KSFT_TIMEOUT=${KSFT_TIMEOUT:-3600} VM_TIMEOUT=${VM_TIMEOUT:-7200}
export VM_MEM=${VM_MEM:-3G}
# The debug kernel's ACPI interpreter is slow enough under TCG to hit its
# loop timeout on QEMU's PCI routing tables (AE_AML_LOOP_TIMEOUT in _PRT)
# and hang the boot: PCI interrupts are routed without ACPI.
export VM_APPEND="rcupdate.rcu_cpu_stall_timeout=300 pci=noacpi ${VM_APPEND:-}"
"$TOP/scripts/suite-run.sh" "$flavour" || rc=1
step "scanning the debug kernel's log"
"$TOP/scripts/dmesg-scan.sh" "$results" || rc=1
exit $rc
