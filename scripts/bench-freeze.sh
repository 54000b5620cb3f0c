#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Freeze cost on the patched kernel: TCP_REPAIR_ON against an nftables drop
# rule (new nft process, running nft -i) and a blackhole route (ip, netlink),
# in one guest run, methods taking turns (bench/freeze_cost.c says what is
# timed). Prints a markdown section.
# Environment: BENCH_FREEZE_ROUNDS (default 100).
# BENCH_FLAVOUR: the kernel (default patched-bench).
set -eu
. "$(dirname "$0")/common.sh"

flavour=${BENCH_FLAVOUR:-patched-bench}
rounds=${BENCH_FREEZE_ROUNDS:-100}
bin=$BUILD/bench/bin/freeze_cost

need nft nftables
need ip iproute2
[ -x "$bin" ] || die "$bin missing: run make -C bench"
cmd=$(mktemp)
trap 'rm -f "$cmd"' EXIT
cat > "$cmd" <<EOT
set -e
'$TOP/scripts/bench-netns.sh'
# Strict reverse-path filtering: a blackhole route to the peer drops the
# peer's packets on input too.
ip netns exec a sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.va.rp_filter=1
ip netns exec a '$bin' -n /run/netns/b -l 198.51.100.1 -r 198.51.100.2 -i $rounds
EOT

load=$(cut -d' ' -f1 /proc/loadavg)
step "freeze cost: $rounds rounds of 5 methods on the $flavour kernel (host load $load)"
out=$("$TOP/scripts/bench-vm.sh" "$flavour" freeze "$cmd")
echo "Freezing an established IPv4 connection over veth in the guest ($flavour kernel, $rounds rounds, methods in turn; host load $load before the boot)."
echo "Latency: from the request until it returned: the setsockopt() syscall; a new nft or ip process from spawn to exit (fork, exec, loading the program and its libraries from the host root over 9p without cache, parsing, netlink transaction); a running \`nft -e -i\` from the command line written to its echo of the new ruleset generation (parse, netlink transaction, commit); one RTM_NEWROUTE from send to ack."
echo "Scope: TCP_REPAIR_ON freezes one socket; the nft rule matches the peer's address and port; the blackhole route (with strict rp_filter) cuts every connection to the peer's address."
echo "Last column: after the rounds, the peer sent 100 bytes while frozen; \"yes\" = none arrived within 300 ms."
echo
echo "$out" | grep '^|'
