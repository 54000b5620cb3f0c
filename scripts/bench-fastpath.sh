#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Compare the machine code of the TCP hot paths in the unpatched and patched
# vmlinux: every function the series could touch on the way of a segment in
# or out, or of a read or write. Addresses, call and branch targets and
# RIP-relative displacements are normalised, since code moves between
# builds (a kernel address in a displacement, a jump target's offset);
# everything else is compared instruction by instruction. A
# function the compiler inlined or cloned is found under its clone's name
# (foo.isra.0, foo.constprop.0); one that is inlined everywhere has no code
# of its own and is reported as such. With a VARIANT ("bench"), the
# base-VARIANT and patched-VARIANT builds are compared. Prints the figures
# (markdown); it does not pass or fail on them.
# Usage: bench-fastpath.sh [VARIANT]
# Environment: FUNCS overrides the list of functions; a function whose
# code differs in more than DIFF_MAX (30) instructions gets only its new
# tests printed, unless DIFF=1.
set -eu
. "$(dirname "$0")/common.sh"

FUNCS=${FUNCS:-"tcp_v4_rcv tcp_v6_rcv tcp_rcv_established tcp_ack
	tcp_write_xmit __tcp_transmit_skb tcp_sendmsg_locked
	tcp_recvmsg_locked tcp_cleanup_rbuf __tcp_cleanup_rbuf"}
variant=${1:+-$1}
need objdump binutils
need nm binutils
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

base=base$variant
patched=patched$variant
for f in "$base" "$patched"; do
	v=$(flavour_obj "$f")/vmlinux
	[ -f "$v" ] || die "$v missing: run scripts/kernel-build.sh $f"
	nm "$v" > "$tmp/$f.nm"
done

# The symbol that holds FUNC's code in flavour $1: FUNC itself, or one
# clone of it; nothing when it is inlined everywhere.
symbol()	# flavour func
{
	awk -v f="$2" '$2 ~ /^[tT]$/ && ($3 == f || index($3, f ".") == 1) {
		print $3; exit }' "$tmp/$1.nm"
}

# Normalised disassembly of symbol $2 of flavour $1, into $3.
disasm()	# flavour symbol out
{
	objdump -d --no-show-raw-insn --disassemble="$2" \
		"$(flavour_obj "$1")/vmlinux" |
		grep -E '^ffffffff[0-9a-f]+:' |
		sed -E 's/^[0-9a-f]+:[[:space:]]+//
			s/[0-9a-f]{16} <([^>]*)>/<\1>/
			s/<([^>+]*)\+0x[0-9a-f]+>/<\1+OFF>/g
			s/-?0x[0-9a-f]+\(%rip\)/REL(%rip)/g
			s/-0x7[0-9a-f]{7}\(/ADDR(/g
			s/ffffffff[0-9a-f]{8}/ADDR/g
			s/[[:space:]]+#.*$//' > "$3"
}

echo "Kernels: \`$base\` ($(kernel_version)) and \`$patched\`, \`objdump -d\` of each function's symbol, normalised."
echo
# Conditions on memory (test, cmp, bt with a memory operand) that the
# patched code has more of than the unpatched one: the new checks, whatever
# registers the compiler chose around them.
new_tests()	# base-file patched-file
{
	grep -hE '^(test|cmp|bt)[a-z]*[[:space:]].*\(%' "$1" | sort > "$tmp/t.base" || true
	grep -hE '^(test|cmp|bt)[a-z]*[[:space:]].*\(%' "$2" | sort > "$tmp/t.patched" || true
	comm -13 "$tmp/t.base" "$tmp/t.patched"
}

echo "| function | symbol | unpatched insns | patched insns | added | instructions differing | new tests on memory |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
changed=
for fn in $FUNCS; do
	sb=$(symbol "$base" "$fn")
	sp=$(symbol "$patched" "$fn")
	if [ -z "$sb" ] || [ -z "$sp" ]; then
		echo "| \`$fn\` | inlined into its callers | - | - | - | - | - |"
		continue
	fi
	disasm "$base" "$sb" "$tmp/$fn.base"
	disasm "$patched" "$sp" "$tmp/$fn.patched"
	nb=$(wc -l < "$tmp/$fn.base")
	np=$(wc -l < "$tmp/$fn.patched")
	nd=$(diff "$tmp/$fn.base" "$tmp/$fn.patched" | grep -c '^>' || true)
	new_tests "$tmp/$fn.base" "$tmp/$fn.patched" > "$tmp/$fn.tests"
	echo "| \`$fn\` | \`$sp\` | $nb | $np | $((np - nb)) | $nd | $(wc -l < "$tmp/$fn.tests") |"
	[ "$nd" -eq 0 ] || changed="$changed $fn"
done
for fn in $changed; do
	echo
	if [ -s "$tmp/$fn.tests" ]; then
		echo "\`$fn\`, new tests (where they sit: see the full diff, DIFF=1):"
		echo
		echo '```'
		cat "$tmp/$fn.tests"
		echo '```'
	fi
	nd=$(diff "$tmp/$fn.base" "$tmp/$fn.patched" | grep -c '^>' || true)
	if [ "$nd" -gt "${DIFF_MAX:-30}" ] && [ -z "${DIFF:-}" ]; then
		echo
		echo "\`$fn\`: $nd instructions differ, beyond the new tests mostly other registers and moved blocks; DIFF=1 prints them."
		continue
	fi
	echo
	echo "\`$fn\`, differing instructions (\`<\` unpatched, \`>\` patched):"
	echo
	echo '```'
	diff "$tmp/$fn.base" "$tmp/$fn.patched" | grep '^[<>]'
	echo '```'
done
