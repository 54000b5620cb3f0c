#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build and install the tcp_repair kselftest suite against a kernel tree the
# kselftest way; the result (run_kselftest.sh and the binaries) lands in
# build/kselftest/$BASE-<flavour>.
# Usage: suite-build.sh patched|base [extra make variables...]
set -eu
. "$(dirname "$0")/common.sh"

flavour=${1:?usage: suite-build.sh patched|base}
shift
tree=$(flavour_src "$flavour")
hdr=$BUILD/obj/headers-$BASE-$flavour
out=$BUILD/kselftest/$BASE-$flavour

[ -f "$tree/Makefile" ] || die "no kernel tree at $tree: run scripts/kernel-src.sh first"

# A tree carrying the series has the suite from its selftests patch (which
# check-static.sh proves identical to this repository's); the pristine tree
# gets a copy of this repository's suite, untracked there.
if ! git -C "$tree" ls-files --error-unmatch "$SUITE/Makefile" >/dev/null 2>&1; then
	mkdir -p "$tree/$SUITE"
	rsync -a --delete --exclude-from="$TOP/$SUITE/.gitignore" \
		"$TOP/$SUITE/" "$tree/$SUITE/"
fi

if [ ! -f "$hdr/.ok" ]; then
	step "installing UAPI headers of $flavour tree"
	rm -rf "$hdr"
	make -s -C "$tree" O="$hdr" headers >/dev/null
	touch "$hdr/.ok"
fi

step "building the suite ($flavour)"
rm -rf "$out"
make -s -C "$tree/tools/testing/selftests" TARGETS=net/tcp_repair \
	KHDR_INCLUDES="-isystem $hdr/usr/include" "$@" \
	install INSTALL_PATH="$out" >&2
for t in $(sed -n 's/^net\/tcp_repair://p' "$out/kselftest-list.txt"); do
	[ -x "$out/net/tcp_repair/$t" ] || die "test binary $t missing after build"
done
step "suite installed in $out"
