#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Compare the machine code of tcp_rcv_established() (the TCP receive fast
# path) in the unpatched and patched vmlinux. Addresses, call and branch
# targets and RIP-relative displacements are normalised, since code moves
# between builds; everything else is compared instruction by instruction.
# Prints the figures; it does not pass or fail on them.
set -eu
. "$(dirname "$0")/common.sh"

FUNC=${FUNC:-tcp_rcv_established}
need objdump binutils
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in base patched; do
	v=$(flavour_obj "$f")/vmlinux
	[ -f "$v" ] || die "$v missing: run make check (or scripts/kernel-build.sh $f)"
	objdump -d --no-show-raw-insn --disassemble="$FUNC" "$v" |
		grep -E '^ffffffff[0-9a-f]+:' |
		sed -E 's/^[0-9a-f]+:[[:space:]]+//
			s/[0-9a-f]{16} <([^>]*)>/<\1>/
			s/-?0x[0-9a-f]+\(%rip\)/REL(%rip)/g
			s/ffffffff[0-9a-f]{8}/ADDR/g
			s/[[:space:]]+#.*$//' > "$tmp/$f"
	[ -s "$tmp/$f" ] || die "no $FUNC in $v"
done

nb=$(wc -l < "$tmp/base")
np=$(wc -l < "$tmp/patched")
nd=$(diff "$tmp/base" "$tmp/patched" | grep -c '^>' || true)
printf '%-28s %10s %10s %22s\n' function unpatched patched "instructions differing"
printf '%-28s %10s %10s %22s\n' "$FUNC" "$nb" "$np" "$nd"
if [ "$nd" -gt 0 ]; then
	echo "Differing instructions (unpatched < > patched):"
	diff "$tmp/base" "$tmp/patched" | grep '^[<>]' | sed 's/^/  /'
fi
