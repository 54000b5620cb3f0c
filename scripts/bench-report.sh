#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Results writer of `make bench`: assemble the sections the bench-*.sh jobs
# left in build/bench/*.md into bench/results.md, with the conditions of the
# run, and print it.
set -eu
. "$(dirname "$0")/common.sh"

dir=$BUILD/bench
out=$TOP/bench/results.md
release=$(cat "$(flavour_obj patched-bench)/include/config/kernel.release" 2>/dev/null || echo "$BASE")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)

section()
{
	local title=$1 file=$dir/$2

	echo
	echo "## $title"
	echo
	if [ -s "$file" ]; then
		cat "$file"
	else
		echo "Not measured in this run ($2 missing)."
	fi
}

elapsed=
if [ -f "$dir/start" ]; then
	s=$(( $(date +%s) - $(cat "$dir/start") ))
	elapsed=" \`make bench\` took $((s / 60)) min $((s % 60)) s."
fi

{
	echo "# Benchmarks of the TCP_REPAIR series"
	echo
	echo "Written by \`make bench\` (scripts/bench-*.sh, bench/*.c) on $(date -u '+%F %H:%M UTC'):"
	echo "Debian linux-source-$BASE ($release), unpatched and patched. Each section names"
	echo "its kernels: \`make bench\` uses the flavours base-bench and patched-bench, the"
	echo "suite's configuration plus kconfig/bench.config (nftables, -O2). Guests under QEMU"
	echo "TCG with ${VM_CPUS:-2} vCPUs and ${VM_MEM:-2G}; host: $(nproc) x $cpu, shared with"
	echo "other builds (host load is given per measurement).$elapsed"
	echo "Benchmarks print figures; nothing here passes or fails on a threshold."
	[ -z "${BENCH_NOTE:-}" ] || { echo; echo "$BENCH_NOTE"; }
	section "Fast path: machine code of the TCP hot functions" fastpath.md
	section "Fast path: iperf3 throughput, patched / unpatched" iperf.md
	section "Freeze cost: TCP_REPAIR_ON against an nftables rule and a blackhole route" freeze.md
	section "Migration downtime: dump + restore per connection" migrate.md
	section "Suite runtime per test program in the guest" suite.md
	section "Build time" build.md
} > "$out"
cat "$out"
step "results written to $out"
