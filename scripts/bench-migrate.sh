#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Migration downtime on the patched kernel: dump and restore of 1, 100 and
# 1000 connections with TCP_REPAIR (bench/migrate.c says what is timed).
# Prints a markdown section.
# Environment: BENCH_CONNS (default "1 100 1000"), BENCH_SAMPLES (per count,
# default 1000).
# BENCH_FLAVOUR: the kernel (default patched-bench).
set -eu
. "$(dirname "$0")/common.sh"

flavour=${BENCH_FLAVOUR:-patched-bench}
conns=${BENCH_CONNS:-1 100 1000}
samples=${BENCH_SAMPLES:-1000}
bin=$BUILD/bench/bin/migrate

need ip iproute2
[ -x "$bin" ] || die "$bin missing: run make -C bench"
cmd=$(mktemp)
trap 'rm -f "$cmd"' EXIT
cat > "$cmd" <<EOT
set -e
'$TOP/scripts/bench-netns.sh'
ip netns exec a '$bin' -n /run/netns/b -l 198.51.100.1 -r 198.51.100.2 -s $samples $conns
EOT

load=$(cut -d' ' -f1 /proc/loadavg)
step "migration downtime: $conns connections on the $flavour kernel (host load $load)"
out=$("$TOP/scripts/bench-vm.sh" "$flavour" migrate "$cmd")
echo "Dump (repair on, sequences, queues, options, window) and restore (new socket, repair, bind, connect, options, queues, window, repair off) of established IPv4 connections over veth in the guest, $flavour kernel, each with 64 bytes in its receive queue; all connections dumped, the old sockets closed, then all restored, in the same namespace (no address moves). About $samples connections per row. Host load $load before the boot."
echo
echo "$out" | grep '^|'
