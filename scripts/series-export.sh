#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Export the kernel commits of the patched worktree (on top of the pristine
# tree) to patches/$BASE in git format-patch form, then regenerate the rest
# of the series. Run scripts/kernel-src.sh afterwards to apply it anew.
set -eu
. "$(dirname "$0")/common.sh"

[ -d "$PATCHED" ] || die "no patched worktree: run scripts/kernel-src.sh"
git -C "$PATCHED" diff --quiet HEAD || die "uncommitted changes in $PATCHED"

# Only the kernel commits ("tcp: ..."): the selftests and documentation
# patches are generated from the repository by series-gen.sh.
rm -f "$SERIES_DIR"/*.patch
i=0
for c in $(git -C "$PATCHED" rev-list --reverse pristine..HEAD); do
	case $(git -C "$PATCHED" log -1 --format=%s "$c") in
	"tcp: "*) ;;
	*) continue ;;
	esac
	i=$((i + 1))
	git -C "$PATCHED" -c core.abbrev=12 format-patch -q -N --zero-commit --no-signature \
		--start-number "$i" -o "$SERIES_DIR" -1 "$c"
done
[ "$i" -gt 0 ] || die "no kernel commit (tcp: ...) in $PATCHED"
"$TOP/scripts/series-gen.sh"
step "exported $i kernel patches to $SERIES_DIR, regenerated the others"
