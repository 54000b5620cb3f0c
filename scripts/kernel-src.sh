#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unpack Debian's linux-source-$BASE into a git tree whose first commit is
# the pristine source, and keep a worktree with the series applied by git am.
# Reuses both when the series did not change; never reuses a half-made tree.
set -eu
. "$(dirname "$0")/common.sh"

tarball=/usr/src/linux-source-$BASE.tar.xz
[ -f "$tarball" ] || die "$tarball missing: install the Debian package linux-source-$BASE"
need git git

if [ ! -f "$SRC/.pristine-ok" ]; then
	step "unpacking $tarball (about a minute)"
	rm -rf "$SRC" "$PATCHED"
	mkdir -p "$SRC"
	tar -xJf "$tarball" -C "$SRC" --strip-components=1
	step "committing the pristine tree"
	git -C "$SRC" init -q -b base
	# The tarball's .gitignore hides parts of the tree: force them in.
	git -C "$SRC" add -A -f
	git -C "$SRC" -c user.name=bench -c user.email=bench@localhost \
		commit -q -m "Debian linux-source-$BASE $(make -s -C "$SRC" kernelversion)"
	git -C "$SRC" tag -f pristine >/dev/null
	touch "$SRC/.pristine-ok"
fi

digest=$(series_digest)
stamp=$BUILD/src/.series-$BASE
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ] && [ -d "$PATCHED" ]; then
	step "series unchanged, reusing $PATCHED"
	exit 0
fi
rm -f "$stamp"

if [ ! -d "$PATCHED" ]; then
	step "creating the patched worktree"
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q -f -B patched "$PATCHED" pristine
fi

step "applying the series to $PATCHED"
git -C "$PATCHED" am --abort >/dev/null 2>&1 || true
git -C "$PATCHED" reset -q --hard pristine
git -C "$PATCHED" clean -q -f -d -x	# builds go to O= folders: nothing lost
n=0
while read -r p; do
	case $p in ''|'#'*) continue ;; esac
	if ! git -C "$PATCHED" -c user.name=bench -c user.email=bench@localhost \
			am -q --keep-cr "$SERIES_DIR/$p"; then
		git -C "$PATCHED" am --abort >/dev/null 2>&1 || true
		die "patch $p does not apply to linux-source-$BASE"
	fi
	n=$((n + 1))
done < "$SERIES_DIR/series"
echo "$digest" > "$stamp"
step "applied $n patches"
