#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build this repository's suite, as it is in the working copy, in a private
# scratch tree (build/dev/NAME) and optionally run some of its programs in a
# guest. For working on tests while someone else uses the main trees.
# Usage: suite-dev.sh NAME [FLAVOUR [PROG...]]
#   FLAVOUR: a kernel flavour already built (base, patched, patched-debug...)
set -eu
. "$(dirname "$0")/common.sh"

name=${1:?usage: suite-dev.sh NAME [FLAVOUR [PROG...]]}
shift
flavour=${1:-}
[ $# -eq 0 ] || shift
dev=$BUILD/dev/$BASE-$name
tree=$dev/linux
hdr=$BUILD/obj/headers-$BASE-base
inst=$dev/inst

[ -f "$SRC/.pristine-ok" ] || die "no pristine tree: run scripts/kernel-src.sh first"
if [ ! -f "$tree/Makefile" ]; then
	step "creating the scratch tree $tree"
	rm -rf "$tree"
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$tree" pristine
fi
mkdir -p "$tree/$SUITE"
rsync -a --delete --exclude-from="$TOP/$SUITE/.gitignore" \
	"$TOP/$SUITE/" "$tree/$SUITE/"

if [ ! -f "$hdr/.ok" ]; then
	step "installing UAPI headers of the pristine tree"
	rm -rf "$hdr"
	make -s -C "$SRC" O="$hdr" headers >/dev/null
	touch "$hdr/.ok"
fi

step "building the suite in $tree"
rm -rf "$inst"
make -s -C "$tree/tools/testing/selftests" TARGETS=net/tcp_repair \
	KHDR_INCLUDES="-isystem $hdr/usr/include" \
	install INSTALL_PATH="$inst" >&2
step "suite installed in $inst"
[ -n "$flavour" ] || exit 0

image=$(flavour_obj "$flavour")/arch/x86/boot/bzImage
[ -f "$image" ] || die "no $flavour kernel: run scripts/kernel-build.sh $flavour"
results=$dev/results-$flavour
cmd=$(mktemp)
trap 'rm -f "$cmd"' EXIT
suite_cmd "$inst" "$@" > "$cmd"
"$TOP/scripts/vm-run.sh" "$image" "$results" "$cmd" ||
	[ -f "$results/exit-code" ] || exit 1
"$TOP/scripts/results.sh" "$results/output.log" "$BASE $flavour (dev)"
