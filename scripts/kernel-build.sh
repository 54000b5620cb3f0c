#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Configure and build the bzImage of a flavour with ccache; the one place
# that runs the kernel's make. Skips the build when neither the flavour's
# commit nor the config inputs changed since the last successful build.
#
# Both flavours build from the same tree (build/src/linux-$BASE), into
# object folders at the same depth (build/obj/$BASE-<flavour>), and
# CCACHE_BASEDIR makes the paths ccache sees relative: every object the
# series does not change hits ccache, whatever the flavour, and a clone of
# this repository at another path hits the same cache entries.
#
# Usage: kernel-build.sh patched|base[-variant] [fragment...]
# Environment (for check-bisect.sh and bench-build.sh):
#   KBUILD_COMMIT  build this commit of the tree instead of the flavour's
#   KBUILD_OBJ     object folder instead of build/obj/$BASE-<flavour>
set -eu
. "$(dirname "$0")/common.sh"

flavour=${1:?usage: kernel-build.sh patched|base[-variant] [fragment...]}
shift
frag=$(flavour_fragment "$flavour")
[ -z "$frag" ] || set -- "$frag" "$@"
commit=${KBUILD_COMMIT:-$(flavour_commit "$flavour")}
obj=${KBUILD_OBJ:-$(flavour_obj "$flavour")}
image=$obj/arch/x86/boot/bzImage
stamp=$obj/.bench-stamp
built_from=$obj/.bench-commit	# commit whose sources the objects come from
log=$obj/build.log

need gcc build-essential
need flex flex
need bison bison
need bc bc
need ccache ccache
[ -f /usr/include/libelf.h ] || die "libelf.h missing: install libelf-dev"
[ -f /usr/include/openssl/ssl.h ] || die "openssl headers missing: install libssl-dev"
[ -f "$SRC/.pristine-ok" ] || die "no kernel tree at $SRC: run scripts/kernel-src.sh"
commit=$(git -C "$SRC" rev-parse -q --verify "$commit^{commit}") ||
	die "no commit '${KBUILD_COMMIT:-$(flavour_commit "$flavour")}' in $SRC: run scripts/kernel-src.sh"

# ccache keys on paths relative to this folder: the same key for the same
# object from any flavour, and from a clone at another path.
export CCACHE_BASEDIR=$BUILD

digest=$({
	echo "$commit"
	cat "$TOP/kconfig/vm.config" "$TOP/$SUITE/config" "$@" "$0" \
		"$TOP/scripts/kernel-config.sh"
} | sha256sum | cut -d' ' -f1)

# Up to date: no need to wait for the lock (a suite run only checks).
if [ -f "$image" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$digest" ]; then
	step "$flavour kernel up to date ($image)"
	exit 0
fi

# One kernel build at a time on this machine, whatever the base, flavour or
# checkout: a machine-wide lock, then the lock of this build folder, which
# also covers the checkout of the flavour's commit (one tree, one build).
# Always in this order.
mkdir -p "$BUILD"
exec 7> "${KERNEL_BUILD_LOCK:-/tmp/tcp-repair-kernel-build.lock}"
exec 9> "$BUILD/.kernel-build.lock"
if ! flock -n 7 || ! flock -n 9; then
	step "waiting for another kernel build to finish"
	flock 7
	flock 9
fi

# Someone may have built it meanwhile.
if [ -f "$image" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
	step "$flavour kernel up to date ($image)"
	exit 0
fi
rm -f "$stamp"

# Check out the commit. git gives the files it rewrites the current time,
# so that make rebuilds what depends on them. A file whose content is back
# to what this object folder was built from (the other flavour's change
# undone) goes back to an old time instead: its objects are up to date, and
# switching flavours only rebuilds what differs from this folder's last
# build. A file that differs from that build but that the checkout did not
# rewrite (the series changed meanwhile) gets the current time.
head=$(git -C "$SRC" rev-parse HEAD)
last=$(cat "$built_from" 2>/dev/null || true)
git -C "$SRC" cat-file -e "$last^{commit}" 2>/dev/null || last=
if [ "$head" != "$commit" ] || ! git -C "$SRC" diff --quiet HEAD; then
	step "checking out $(git -C "$SRC" log -1 --format='%h (%s)' "$commit") in $SRC"
	git -C "$SRC" checkout -q -f --detach "$commit"
fi
mkdir -p "$obj"
if [ -f "$obj/.config" ]; then
	old=$(git -C "$SRC" log -1 --format=%ct pristine)	# before any object
	if [ -n "$last" ]; then
		comm -23 <(git -C "$SRC" diff --name-only "$head" "$commit" | sort) \
			 <(git -C "$SRC" diff --name-only "$last" "$commit" | sort) |
			(cd "$SRC" && xargs -r -d '\n' touch -c -d "@$old")
		git -C "$SRC" diff --name-only "$last" "$commit" |
			(cd "$SRC" && xargs -r -d '\n' touch -c)
	else
		# Objects of unknown origin: whatever the series touches is new.
		git -C "$SRC" diff --name-only pristine "$commit" |
			(cd "$SRC" && xargs -r -d '\n' touch -c)
	fi
fi
echo "$commit" > "$built_from"

"$TOP/scripts/kernel-config.sh" "$obj" "$@"

step "building $flavour kernel, $(kernel_version) (12-18 minutes from scratch with an empty ccache; log: $log)"
start=$(date +%s)
make -C "$SRC" O="$obj" CC="ccache gcc" -j"$(nproc)" bzImage > "$log" 2>&1 &
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
secs=$(( $(date +%s) - start ))
echo "$secs" > "$obj/.bench-seconds"
step "$flavour kernel built in $secs s ($(grep -c '^  CC' "$log" || true) objects compiled)"
