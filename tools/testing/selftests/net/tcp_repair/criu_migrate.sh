#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint and restore TCP connections with the real tool: criu dumps a
# process holding a connection in each TCP state CRIU handles
# (ESTABLISHED with data queued both ways, CLOSE_WAIT, FIN_WAIT1,
# FIN_WAIT2, LAST_ACK, CLOSING, SYN_SENT, a listener with a connection it
# accepted), over IPv4, IPv6 and IPv4-mapped IPv6, and restores it
# (--tcp-established, --restore-detached) twice in a row, while its peer,
# in another network namespace, keeps the other ends. Every state, queue,
# SO_REUSEADDR value and byte of the streams must come back, and nothing
# may be reset. See criu_tcp.c for the details.
#
# Groups (MODE:LOCK), each a process of its own, dumped and restored
# twice: quiet (nothing is sent while CRIU works; every queue must come
# back to the byte) or sending (the peer keeps sending throughout dump and
# restore), under CRIU's network lock of kind LOCK, iptables (CRIU's
# default) or nftables. The default, quiet:nftables sending:iptables
# sending:nftables, takes 2-4 minutes under TCG: the iptables lock runs
# an iptables process per connection and direction, and the restored
# sockets stay in repair mode while it is undone one rule at a time
# (20-30 s, with the peer's data arriving: the case of the series' rule
# for sockets being rebuilt).
#
# This guards the series against breaking CRIU: it must pass on the
# unpatched kernel and on the patched one alike. It needs the criu binary
# (Debian 12: criu 3.17.1, which runs on kernels up to 6.12 only) and a
# kernel with what CRIU needs (kconfig/vm.config of the bench lists it);
# without them every case is reported as skipped, with the reason.
#
# Usage: criu_migrate.sh [-v] [MODE:LOCK...]
#   CRIU=path   the criu binary to use (default: criu from PATH)
set -u
cd "$(dirname "$0")" || exit 1

prog=./criu_tcp
groups=()
opts=()
for a in "$@"; do
	case $a in
	*:*) groups+=("$a") ;;
	*) opts+=("$a") ;;
	esac
done
[ ${#groups[@]} -gt 0 ] || groups=(quiet:nftables sending:iptables sending:nftables)
criu=${CRIU:-criu}

# Every case reported as skipped, with the reason; exit 4
skip()
{
	"$prog" --skip "$*" "${groups[@]}"
	exit
}

[ -x "$prog" ] || { echo "# $prog not built"; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (criu, namespaces, nftables)"

# Everything runs in a PID namespace and a mount namespace of its own.
# The process criu restores is detached (its own session, reparented to
# criu_tcp): when we end, however (a failure, the kselftest timeout's
# SIGTERM or SIGKILL), the namespace's init dies with us (--kill-child)
# and takes every process of the run along, the restored one included.
# And criu needs a writable /tmp: its start-up probe of move_mount() makes
# a directory there, whatever TMPDIR says, and the bench's guests share
# the host's /tmp read-only. /tmp gets a tmpfs of its own (criu's images
# go away with it), and the program runs from a copy in it: this
# directory may be under the /tmp it hides (an overlay would not do: criu
# refuses a mapped file whose device differs from its path's).
if [ -z "${CRIU_MIGRATE_NS:-}" ]; then
	command -v unshare >/dev/null 2>&1 ||
		skip "unshare not found (Debian 12: apt install util-linux)"
	export CRIU_MIGRATE_NS=1
	exec unshare --mount --propagation private --pid --fork --kill-child \
		--mount-proc "$PWD/${0##*/}" "$@"
fi
exec 9< "$prog"
mount -t tmpfs -o mode=1777 criu_migrate /tmp ||
	skip "no tmpfs can go over /tmp (criu writes there)"
cat <&9 > /tmp/criu_tcp && chmod 755 /tmp/criu_tcp || skip "cannot copy $prog to /tmp"
exec 9<&-
prog=/tmp/criu_tcp
cd /tmp || exit 1
unset TMPDIR

for c in "$criu" nft iptables ip6tables; do
	command -v "$c" >/dev/null 2>&1 ||
		skip "$c not found (Debian 12: apt install criu nftables iptables util-linux)"
done

# criu refuses kernels it does not know: criu 3.17 stops at "Unexpected rt
# vDSO area bounds" from 6.13 on, and at missing kernel options: a skip.
# But its check of TCP repair (repair mode, TCP_TIMESTAMP) is what this
# program guards: that one failing is a failure.
if ! out=$("$criu" check 2>&1); then
	why=$(printf '%s\n' "$out" | grep -m1 -E 'Error|error' | sed 's/^Error ([^)]*): //')
	if printf '%s\n' "$out" | grep -qiE 'tcp|repair'; then
		printf '%s\n' "$out" | sed 's/^/# /'
		echo "# '$criu check' fails on TCP repair on $(uname -r): ${why:-see above}"
		exit 1
	fi
	skip "'$criu check' fails on $(uname -r): ${why:-see criu check}"
fi
vers=$("$criu" --version 2>/dev/null | sed -n 's/^Version: //p')
echo "# criu ${vers:-?} ($(command -v "$criu")), kernel $(uname -r)"

# CRIU's iptables lock and our own nftables table, in a scratch namespace
if ! out=$(unshare -n sh -c 'iptables -w -t filter -I INPUT -p tcp -m mark ! --mark 0xC114 --dport 1 -j DROP &&
		ip6tables -w -t filter -I INPUT -p tcp -m mark ! --mark 0xC114 --dport 1 -j DROP &&
		nft add table inet criu_migrate_probe' 2>&1); then
	skip "iptables/ip6tables/nft cannot add rules: kernel without NF_TABLES, NFT_COMPAT, NETFILTER_XT_MARK? ($(printf '%s' "$out" | head -n1))"
fi

# --network-lock nftables needs a criu built with libnftables
if ! "$criu" check --feature network_lock_nftables >/dev/null 2>&1; then
	for g in "${groups[@]}"; do
		case $g in
		*:nftables)
			opts+=(--exclude "${g/:/_}=criu $vers has no nftables network lock (criu check --feature network_lock_nftables)")
			;;
		esac
	done
fi

"$prog" "${opts[@]}" "${groups[@]}"
