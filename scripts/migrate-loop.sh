#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the live-migration scenario (the suite's `migrate` program) LOOPS
# times on each kernel and print, per kernel and test, how many runs failed
# and why (stall, reset, byte mismatch, timeout, migration).
# Usage: migrate-loop.sh [KERNEL...]
#   KERNEL: base, patched (built flavours, booted under QEMU), or host (this
#   machine's kernel, needs root). Default: base patched.
# Environment:
#   LOOPS=20              runs per kernel
#   MIGRATE_PROG=migrate  or migrate_iperf3 (iperf3 client and server)
#   MIGRATE_ARGS="..."    arguments of the program, e.g. "-v ipv4" or
#                         "-r migrate.ipv4.iperf3" (kselftest_harness
#                         filters); default all its tests
#   VM_TIMEOUT            seconds for a guest; default LOOPS * 400
#   INST=dir              an installed suite to use instead of building one
#                         (the guest must see it: under build/)
#   OUT=dir               where the logs go (build/results/migrate-loop)
# Logs: $OUT/<prog>/<kernel>.log, the summary next to them
set -eu
. "$(dirname "$0")/common.sh"

LOOPS=${LOOPS:-20}
MIGRATE_PROG=${MIGRATE_PROG:-migrate}
MIGRATE_ARGS=${MIGRATE_ARGS:-}
kernels=${*:-base patched}
out=${OUT:-$BUILD/results/migrate-loop}/$MIGRATE_PROG
inst=${INST:-$BUILD/dev/$BASE-migrate-loop/inst}
prog=$inst/net/tcp_repair/$MIGRATE_PROG

need ip iproute2
[ "$MIGRATE_PROG" != migrate_iperf3 ] || need iperf3 iperf3
mkdir -p "$out"

if [ -z "${INST:-}" ]; then
	step "building the suite"
	"$TOP/scripts/suite-dev.sh" migrate-loop
fi
[ -x "$prog" ] || die "$prog was not built"

# The loop, as it runs in the guest or here
loop_cmd()
{
	echo "cd '$inst/net/tcp_repair' || exit 1"
	echo "for i in \$(seq 1 $LOOPS); do"
	echo "	echo \"### run \$i\""
	echo "	./$MIGRATE_PROG $MIGRATE_ARGS 2>&1"
	echo "	echo \"### exit \$?\""
	echo "done"
}

# Per test: runs, failures and their reasons
summarize()
{
	local kernel=$1 log=$2

	awk -v kernel="$kernel" '
	/^### run / { runs++ }
	/^(ok|not ok) [0-9]+ migrate\./ {
		name = $0
		sub(/^(ok|not ok) [0-9]+ /, "", name)
		sub(/ .*/, "", name)
		if (!(name in seen)) { seen[name] = 1; order[n++] = name }
		total[name]++
		if ($0 ~ /^not ok/ && $0 !~ /# SKIP/) {
			fail[name]++
			r = pending != "" ? pending : "unknown"
			why[name] = why[name] (why[name] == "" ? "" : ", ") r
		}
		if ($0 ~ /# SKIP/)
			skip[name]++
		pending = ""
	}
	/:FAIL: / {
		pending = $0
		sub(/.*:FAIL: /, "", pending)
		sub(/:.*/, "", pending)
	}
	END {
		nf = 0
		printf "%s: %d runs\n", kernel, runs
		for (i = 0; i < n; i++) {
			t = order[i]
			nf += fail[t]
			printf "  %-32s %2d/%-2d failed", t, fail[t], total[t]
			if (skip[t])
				printf ", %d skipped", skip[t]
			if (fail[t]) {
				split(why[t], w, ", ")
				delete c
				for (j in w) c[w[j]]++
				s = ""
				for (k in c) s = s (s == "" ? "" : ", ") k " x" c[k]
				printf " (%s)", s
			}
			printf "\n"
		}
		printf "  %s: %d failed tests in %d runs\n", kernel, nf, runs
	}' "$log"
}

summary=$out/summary
: > "$summary"
for kernel in $kernels; do
	log=$out/$kernel.log
	start=$(date +%s)
	case $kernel in
	host)
		step "running $MIGRATE_PROG $LOOPS times on the host ($(uname -r))"
		bash -c "$(loop_cmd)" > "$log" 2>&1 || true
		;;
	base|patched)
		image=$(flavour_obj "$kernel")/arch/x86/boot/bzImage
		[ -f "$image" ] ||
			die "no $kernel kernel: run scripts/kernel-build.sh $kernel"
		cmd=$(mktemp)
		loop_cmd > "$cmd"
		step "running $MIGRATE_PROG $LOOPS times on the $kernel kernel (QEMU)"
		VM_TIMEOUT=${VM_TIMEOUT:-$((LOOPS * 400))} \
			"$TOP/scripts/vm-run.sh" "$image" "$out/vm-$kernel" \
			"$cmd" > /dev/null 2>&1 || true
		rm -f "$cmd"
		[ -f "$out/vm-$kernel/output.log" ] ||
			die "the $kernel guest left no output ($out/vm-$kernel)"
		# drop the guest's time stamps
		sed 's/^[0-9.]* //' "$out/vm-$kernel/output.log" > "$log"
		;;
	*)
		die "unknown kernel '$kernel' (base, patched or host)"
		;;
	esac
	step "$kernel: $(( $(date +%s) - start )) s"
	summarize "$kernel" "$log" | tee -a "$summary"
done
echo
cat "$summary"
