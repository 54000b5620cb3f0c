#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make the worktree where the kernel patches of the series are edited as
# commits: build/src/linux-$BASE-edit, branch "edit", starting at pristine
# + the kernel patches of patches/$BASE. Edit the commits there (git commit
# --amend, git rebase -i pristine, new commits with a "tcp: " subject),
# then run scripts/series-export.sh, which writes them to patches/$BASE and
# regenerates the selftests and docs patches and the cover letter. The
# bench never builds, resets or checks out anything in this worktree.
# Usage: series-edit.sh          (does nothing when the worktree exists)
set -eu
. "$(dirname "$0")/common.sh"

"$TOP/scripts/kernel-src.sh"
if [ -e "$EDIT/.git" ]; then
	step "$EDIT exists (branch $(git -C "$EDIT" rev-parse --abbrev-ref HEAD), $(git -C "$EDIT" rev-list --count pristine..HEAD) commits on pristine): left as it is"
	exit 0
fi
git -C "$SRC" worktree prune
git -C "$SRC" rev-parse -q --verify refs/heads/edit >/dev/null &&
	die "branch 'edit' exists in $SRC without its worktree: remove it (git -C $SRC branch -D edit) or use EDIT_TREE"
step "creating $EDIT at the kernel patches of patches/$BASE (about a minute)"
git -C "$SRC" worktree add -q -b edit "$EDIT" "$KERNEL_BRANCH"
step "edit the kernel commits in $EDIT, then run scripts/series-export.sh"
