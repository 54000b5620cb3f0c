#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Check that the series is bisectable: the kernel builds after every kernel
# patch, not only after the last one (which the bench builds anyway). Each
# intermediate state is built in its own worktree and object folder, with
# ccache, so a re-run only rebuilds what changed.
set -eu
. "$(dirname "$0")/common.sh"

[ -f "$SRC/.pristine-ok" ] || die "no pristine tree: run scripts/kernel-src.sh"
wt=$BUILD/src/linux-$BASE-bisect
obj=$BUILD/obj/$BASE-bisect

mapfile -t kernel < <(grep -l '^Subject: \[PATCH\] tcp: ' "$SERIES_DIR"/*.patch |
	grep -v '/0000-' | sort)
[ "${#kernel[@]}" -gt 0 ] || die "no kernel patch in $SERIES_DIR"

if [ ! -d "$wt" ]; then
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q -f --detach "$wt" pristine
fi
git -C "$wt" am --abort >/dev/null 2>&1 || true
git -C "$wt" checkout -q --detach pristine
git -C "$wt" reset -q --hard pristine
git -C "$wt" clean -q -f -d -x

# The last state is the patched kernel the bench builds: stop before it.
for ((i = 0; i < ${#kernel[@]} - 1; i++)); do
	p=${kernel[$i]}
	git -C "$wt" -c user.name=bench -c user.email=bench@localhost \
		am -q "$p" || die "$(basename "$p") does not apply"
	step "building the kernel after $(basename "$p")"
	mkdir -p "$obj"
	if [ ! -f "$obj/.config" ]; then
		cp "$(flavour_obj patched)/.config" "$obj/.config" ||
			die "no patched .config to start from: run make first"
	fi
	make -s -C "$wt" O="$obj" olddefconfig >/dev/null
	make -C "$wt" O="$obj" CC="ccache gcc" -j"$(nproc)" bzImage \
		> "$obj/build.log" 2>&1 ||
		{ tail -n 20 "$obj/build.log" >&2; die "build fails after $(basename "$p")"; }
done
step "every kernel patch builds"
