#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Compare the machine code of tcp_rcv_established() (the TCP receive fast
# path) in the unpatched and patched vmlinux. Addresses, call and branch
# targets and RIP-relative displacements are normalised, since code moves
# between builds; everything else is compared instruction by instruction.
# With a VARIANT ("bench"), the base-VARIANT and patched-VARIANT builds are
# compared, and each is also compared with the plain build of its tree when
# that exists, to show whether the variant's extra config changes the
# function. Prints the figures (markdown); it does not pass or fail on them.
# Usage: bench-fastpath.sh [VARIANT]
set -eu
. "$(dirname "$0")/common.sh"

FUNC=${FUNC:-tcp_rcv_established}
variant=${1:+-$1}
need objdump binutils
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Normalised disassembly of FUNC in the vmlinux of flavour $1, into $tmp/$1.
disasm()
{
	local v

	v=$(flavour_obj "$1")/vmlinux
	[ -f "$v" ] || die "$v missing: run scripts/kernel-build.sh $1"
	objdump -d --no-show-raw-insn --disassemble="$FUNC" "$v" |
		grep -E '^ffffffff[0-9a-f]+:' |
		sed -E 's/^[0-9a-f]+:[[:space:]]+//
			s/[0-9a-f]{16} <([^>]*)>/<\1>/
			s/-?0x[0-9a-f]+\(%rip\)/REL(%rip)/g
			s/ffffffff[0-9a-f]{8}/ADDR/g
			s/[[:space:]]+#.*$//' > "$tmp/$1"
	[ -s "$tmp/$1" ] || die "no $FUNC in $v"
}

ndiff()
{
	diff "$tmp/$1" "$tmp/$2" | grep -c '^>' || true
}

base=base$variant
patched=patched$variant
disasm "$base"
disasm "$patched"
nd=$(ndiff "$base" "$patched")
echo "| function | kernels | unpatched insns | patched insns | instructions differing |"
echo "| --- | --- | ---: | ---: | ---: |"
echo "| \`$FUNC\` | $base, $patched | $(wc -l < "$tmp/$base") | $(wc -l < "$tmp/$patched") | $nd |"
if [ "$nd" -gt 0 ]; then
	echo
	echo "Differing instructions (\`<\` unpatched, \`>\` patched):"
	echo
	echo '```'
	diff "$tmp/$base" "$tmp/$patched" | grep '^[<>]'
	echo '```'
fi
[ -n "$variant" ] || exit 0
for f in base patched; do
	[ -f "$(flavour_obj "$f")/vmlinux" ] || continue
	disasm "$f"
	echo
	echo "\`$FUNC\` of $f$variant against $f (without kconfig/${variant#-}.config): $(ndiff "$f" "$f$variant") instructions differ ($(wc -l < "$tmp/$f") in $f)."
done
