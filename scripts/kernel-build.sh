#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Configure and build the bzImage of a flavour with ccache; skip the build
# when neither the tree (series) nor the config inputs changed since the
# last successful build.
# Usage: kernel-build.sh patched|base[-variant] [fragment...]
set -eu
. "$(dirname "$0")/common.sh"

flavour=${1:?usage: kernel-build.sh patched|base[-variant] [fragment...]}
shift
frag=$(flavour_fragment "$flavour")
[ -z "$frag" ] || set -- "$frag" "$@"
tree=$(flavour_src "$flavour")
obj=$(flavour_obj "$flavour")
image=$obj/arch/x86/boot/bzImage
stamp=$obj/.bench-stamp
log=$obj/build.log

need gcc build-essential
need flex flex
need bison bison
need bc bc
need ccache ccache
[ -f /usr/include/libelf.h ] || die "libelf.h missing: install libelf-dev"
[ -f /usr/include/openssl/ssl.h ] || die "openssl headers missing: install libssl-dev"
[ -f "$tree/Makefile" ] || die "no kernel tree at $tree: run scripts/kernel-src.sh"

# One kernel build at a time on this machine, whatever the base or flavour
# (several checkouts or sessions may share it).
mkdir -p "$BUILD"
exec 9> "$BUILD/.kernel-build.lock"
if ! flock -n 9; then
	step "waiting for another kernel build to finish"
	flock 9
fi

digest=$({
	git -C "$tree" rev-parse HEAD
	cat "$TOP/kconfig/vm.config" "$TOP/$SUITE/config" "$@" "$0" \
		"$TOP/scripts/kernel-config.sh"
} | sha256sum | cut -d' ' -f1)

if [ -f "$image" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
	step "$flavour kernel up to date ($image)"
	exit 0
fi
rm -f "$stamp"

"$TOP/scripts/kernel-config.sh" "$flavour" "$@"

step "building $flavour kernel (about 6 minutes from scratch; log: $log)"
start=$(date +%s)
make -C "$tree" O="$obj" CC="ccache gcc" -j"$(nproc)" bzImage > "$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
	sleep 30
	kill -0 "$pid" 2>/dev/null || break
	step "  ... $(grep -c '^  CC' "$log" || true) objects compiled"
done
if ! wait "$pid"; then
	tail -n 30 "$log" >&2
	die "$flavour kernel failed to build (see $log)"
fi
[ -f "$image" ] || die "$flavour build finished without $image"
echo "$digest" > "$stamp"
step "$flavour kernel built in $(( $(date +%s) - start )) s"
