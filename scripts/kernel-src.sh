#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unpack Debian's linux-source package of $BASE into build/src/linux-$BASE,
# a git tree whose root commit is the pristine source (tag "pristine"), and
# keep its branch "kernel" = pristine + the kernel patches (tcp: ...) of
# patches/$BASE, committed the git am way without touching the working
# tree. Both flavours are built from this one tree (kernel-build.sh checks
# out the flavour's commit under the build lock), so that ccache hits for
# every object the series does not change. The selftests and docs patches
# are not in the tree: the suite is built from this repository
# (suite-build.sh), so that editing a test never rebuilds any of the kernel.
# Redoes the branch only when the kernel patches changed; never reuses a
# half-made tree; never touches the edit worktree (series-edit.sh).
set -eu
. "$(dirname "$0")/common.sh"

[ -f "$TARBALL" ] || die "$TARBALL missing: install the Debian package $SOURCE_PKG"
need git git
need make make

if [ ! -f "$SRC/.pristine-ok" ]; then
	step "unpacking $TARBALL (about a minute)"
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xJf "$TARBALL" -C "$SRC" --strip-components=1
	step "committing the pristine tree"
	git -C "$SRC" init -q -b base
	# The tarball's .gitignore hides parts of the tree: force them in.
	git -C "$SRC" add -A -f
	git -C "$SRC" -c user.name=bench -c user.email=bench@localhost \
		commit -q -m "Debian $SOURCE_PKG $(make -s -C "$SRC" kernelversion)"
	git -C "$SRC" tag -f pristine >/dev/null
	git -C "$SRC" checkout -q --detach pristine
	stat -c '%s %Y' "$TARBALL" > "$SRC/.pristine-ok"
fi
# A tree is never unpacked again by itself: the edit worktree lives in it.
[ -s "$SRC/.pristine-ok" ] || stat -c '%s %Y' "$TARBALL" > "$SRC/.pristine-ok"	# older layout
[ "$(cat "$SRC/.pristine-ok")" = "$(stat -c '%s %Y' "$TARBALL")" ] ||
	step "warning: $TARBALL changed since $SRC was unpacked ($(kernel_version)); make distclean (or remove $SRC) to start from the new one"

mapfile -t kernel < <(kernel_patches)
[ "${#kernel[@]}" -gt 0 ] || die "no kernel patch (Subject: $KERNEL_SUBJECT...) in $SERIES_DIR"
digest=$(files_digest "${kernel[@]}")
stamp=$BUILD/src/.kernel-$BASE
if [ "$(cat "$stamp" 2>/dev/null)" = "$digest" ] &&
   git -C "$SRC" rev-parse -q --verify "$KERNEL_BRANCH" >/dev/null; then
	step "kernel patches unchanged: ${KERNEL_BRANCH#refs/heads/} of $SRC ($(kernel_version))"
	exit 0
fi
rm -f "$stamp"

step "committing ${#kernel[@]} kernel patches on pristine ($(kernel_version)) as ${KERNEL_BRANCH#refs/heads/}"
head=$(commit_patches pristine "${kernel[@]}") ||
	die "the kernel patches of $SERIES_DIR do not apply to $SOURCE_PKG"
# The branch may be checked out (detached HEAD is the rule; an old layout
# had it elsewhere): update the ref only.
git -C "$SRC" update-ref "$KERNEL_BRANCH" "$head"
echo "$digest" > "$stamp"
step "${KERNEL_BRANCH#refs/heads/} at $(git -C "$SRC" rev-parse --short=12 "$head")"
