#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Export the kernel commits (subject "tcp: ...") of the edit worktree, on
# top of the pristine tree, to patches/$BASE in git format-patch form, then
# regenerate the rest of the series (series-gen.sh). The next bench run
# commits the new kernel patches in the build tree by itself.
# The edit worktree is build/src/linux-$BASE-edit (scripts/series-edit.sh
# makes it), or EDIT_TREE; a tree of the old layout,
# build/src/linux-$BASE-patched, is used when there is no other.
# Usage: series-export.sh
set -eu
. "$(dirname "$0")/common.sh"

tree=$EDIT
if [ ! -e "$tree/.git" ] && [ -z "${EDIT_TREE:-}" ] &&
   [ -e "$BUILD/src/linux-$BASE-patched/.git" ]; then
	tree=$BUILD/src/linux-$BASE-patched
	step "no $EDIT: exporting from the old-layout worktree $tree"
fi
[ -e "$tree/.git" ] || die "no edit worktree $tree: run scripts/series-edit.sh"
git -C "$tree" diff --quiet HEAD || die "uncommitted changes in $tree"

# Only the kernel commits: the selftests and documentation patches are
# generated from the repository by series-gen.sh.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
for c in $(git -C "$tree" rev-list --reverse pristine..HEAD); do
	case $(git -C "$tree" log -1 --format=%s "$c") in
	"$KERNEL_SUBJECT"*) ;;
	*) continue ;;
	esac
	i=$((i + 1))
	git -C "$tree" -c core.abbrev=12 format-patch -q -N --zero-commit --no-signature \
		--start-number "$i" -o "$tmp" -1 "$c"
done
[ "$i" -gt 0 ] || die "no kernel commit ($KERNEL_SUBJECT...) in $tree"
mkdir -p "$SERIES_DIR"
rm -f "$SERIES_DIR"/*.patch
mv "$tmp"/*.patch "$SERIES_DIR/"
"$TOP/scripts/series-gen.sh"
step "exported $i kernel patches from $tree to $SERIES_DIR, regenerated the others"
