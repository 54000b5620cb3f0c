#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The suite on the patched kernel built with the debug options netdev CI
# uses (kconfig/debug.config: KASAN, lockdep, atomic-sleep checks, kmemleak,
# UBSAN): every test must pass and the kernel must report nothing.
set -eu
. "$(dirname "$0")/common.sh"

flavour=patched-debug
results=$BUILD/results/$BASE-$flavour
rc=0

# Everything runs several times slower under KASAN and lockdep. Under
# emulation on a busy host a vCPU can be starved for tens of seconds: RCU
# stall warnings would then report the host, not the kernel; their
# threshold goes to its maximum.
export KSFT_TIMEOUT=${KSFT_TIMEOUT:-3600} VM_TIMEOUT=${VM_TIMEOUT:-7200}
export VM_MEM=${VM_MEM:-3G}
export VM_APPEND="rcupdate.rcu_cpu_stall_timeout=300 ${VM_APPEND:-}"
"$TOP/scripts/suite-run.sh" "$flavour" || rc=1
step "scanning the debug kernel's log"
"$TOP/scripts/dmesg-scan.sh" "$results" || rc=1
exit $rc
