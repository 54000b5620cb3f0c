#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build and install this repository's tcp_repair suite, as it is in the
# working copy, the kselftest way (make -C tools/testing/selftests
# TARGETS=net/tcp_repair install), in a scratch tree: pristine kernel tree
# + the suite. The same binaries run on every kernel of the base (the suite
# needs no header of the series), so editing a test never rebuilds any of
# the kernel, and a run never uses a stale suite: the install is redone,
# from clean, whenever a file of the suite changed.
#
# Usage: suite-build.sh [NAME]
#   NAME (default SUITE_NAME, else "main"): the scratch tree, so that
#   several people can build the suite as their copy has it without
#   stepping on each other. The result lands in build/suite/$BASE-NAME/inst
#   (run_kselftest.sh and the binaries); the build uses -Wall -Werror.
set -eu
. "$(dirname "$0")/common.sh"

name=${1:-${SUITE_NAME:-main}}
dir=$BUILD/suite/$BASE-$name
tree=$dir/linux
inst=$(suite_inst "$name")
hdr=$BUILD/obj/$BASE-headers

need make make
need gcc build-essential
[ -f "$SRC/.pristine-ok" ] || die "no pristine tree: run scripts/kernel-src.sh first"
mkdir -p "$dir"
exec 8> "$dir/.lock"
flock 8

if [ ! -f "$tree/.scratch-ok" ]; then
	step "creating the scratch tree $tree (pristine, about a minute)"
	rm -rf "$tree"
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$tree" pristine
	touch "$tree/.scratch-ok"
fi

if [ ! -f "$hdr/.ok" ]; then
	step "installing the UAPI headers of the pristine tree"
	rm -rf "$hdr"
	make -s -C "$tree" O="$hdr" headers >/dev/null
	touch "$hdr/.ok"
fi

# The suite's files as the working copy has them (tracked, and new ones not
# ignored), with their modes.
mapfile -t files < <(cd "$TOP" && git ls-files -c -o --exclude-standard -- "$SUITE" |
	sort -u | while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done)
[ "${#files[@]}" -gt 0 ] || die "no file in $TOP/$SUITE"
digest=$({
	cat "$0" "$hdr/.ok"
	for f in "${files[@]}"; do
		stat -c '%n %a' "$TOP/$f" | sed "s|^$TOP/||"
		cat "$TOP/$f"
	done
} | sha256sum | cut -d' ' -f1)
if [ -x "$inst/run_kselftest.sh" ] && [ "$(cat "$inst/.digest" 2>/dev/null)" = "$digest" ]; then
	step "suite up to date ($inst)"
	exit 0
fi

step "building the suite (-Werror) in $tree"
rm -rf "$tree/$SUITE" "$inst"
(cd "$TOP" && cp --parents -p "${files[@]}" "$tree/")
make -s -C "$tree/tools/testing/selftests" TARGETS=net/tcp_repair \
	KHDR_INCLUDES="-isystem $hdr/usr/include" CC="gcc -Werror" \
	install INSTALL_PATH="$inst" >&2 || die "the suite does not build"
n=0
for t in $(sed -n 's/^net\/tcp_repair://p' "$inst/kselftest-list.txt"); do
	[ -x "$inst/net/tcp_repair/$t" ] || die "test binary $t missing after build"
	n=$((n + 1))
done
echo "$digest" > "$inst/.digest"
step "suite installed in $inst ($n programs)"
