#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the bench guest: two network namespaces, "a" (198.51.100.1) and "b"
# (198.51.100.2), joined by a veth pair, with static neighbour entries, both
# ends up before it returns. The benchmarks run in "a" against a peer in "b".
set -eu

ip netns add a
ip netns add b
ip link add va type veth peer name vb
ip link set va netns a
ip link set vb netns b
ip -n a addr add 198.51.100.1/24 dev va
ip -n b addr add 198.51.100.2/24 dev vb
for ns in a b; do
	ip -n "$ns" link set lo up
done
ip -n a link set va up
ip -n b link set vb up
ip -n a neigh replace 198.51.100.2 dev va nud permanent \
	lladdr "$(ip -n b -br link show vb | awk '{ print $3 }')"
ip -n b neigh replace 198.51.100.1 dev vb nud permanent \
	lladdr "$(ip -n a -br link show va | awk '{ print $3 }')"

# A new veth drops what it sends until link-watch marked it up.
for i in $(seq 50); do
	ip -n a -br link show va | grep -q ' UP ' &&
		ip -n b -br link show vb | grep -q ' UP ' && exit 0
	sleep 0.1
done
echo "bench-netns: veth did not come up" >&2
exit 1
