#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the commands README.md gives for applying the series, as written, on
# a pristine tree, and check that each gives pristine + the whole series.
# The blocks run are the ```sh blocks that follow a line
# "<!-- check-readme: NAME -->" (NAME: git-am or quilt); in them,
# "/path/to/this/repo" stands for this repository, "patches/6.12" for
# patches/$BASE and "cd linux" for the scratch tree
# (build/src/linux-$BASE-readme, a worktree at pristine).
# Usage: check-readme.sh
set -eu
. "$(dirname "$0")/common.sh"

readme=$TOP/README.md
wt=$BUILD/src/linux-$BASE-readme
need quilt quilt
[ -f "$SRC/.pristine-ok" ] || die "no pristine tree: run scripts/kernel-src.sh"

mapfile -t series < <(series_patches)
want=$(git -C "$SRC" rev-parse "$(commit_patches pristine "${series[@]}")^{tree}")

block()	# NAME: the block's lines, as they run here
{
	awk -v name="$1" '
		$0 == "<!-- check-readme: " name " -->" { armed = 1; next }
		armed && /^```sh$/ { inside = 1; armed = 0; next }
		inside && /^```$/ { exit }
		inside { print }' "$readme" |
	sed -e "s|/path/to/this/repo|$TOP|g" -e "s|patches/6\\.12|patches/$BASE|g" \
	    -e "s|^cd linux\\([[:space:]].*\\)\\?$|cd '$wt'|"
}

ok=$BUILD/src/.readme-$BASE-ok
if [ ! -f "$ok" ] || [ ! -e "$wt/.git" ]; then
	step "creating the scratch tree $wt (pristine, about a minute)"
	rm -rf "$wt"
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$wt" pristine
	touch "$ok"
fi

reset_tree()
{
	git -C "$wt" am --abort >/dev/null 2>&1 || true
	git -C "$wt" checkout -q -f --detach pristine
	git -C "$wt" clean -q -f -d -x
}

# The user's identity: a new user has one.
export GIT_COMMITTER_NAME="README user" GIT_COMMITTER_EMAIL=user@localhost
for name in git-am quilt; do
	cmds=$(block "$name")
	[ -n "$cmds" ] || die "README.md has no block marked <!-- check-readme: $name -->"
	reset_tree
	step "README, $name: $(printf '%s' "$cmds" | grep -v "^cd '" | tr '\n' ';' | sed 's/;$//')"
	(cd / && bash -e -c "$cmds") > "$BUILD/readme-$BASE-$name.log" 2>&1 || {
		cat "$BUILD/readme-$BASE-$name.log" >&2
		die "README's $name commands fail (log: $BUILD/readme-$BASE-$name.log)"
	}
	case $name in
	git-am)
		got=$(git -C "$wt" rev-parse 'HEAD^{tree}')
		n=$(git -C "$wt" rev-list --count pristine..HEAD)
		[ "$n" -eq "${#series[@]}" ] ||
			die "README's git am made $n commits, the series has ${#series[@]} patches"
		;;
	quilt)
		# the files quilt changed, into a scratch index
		idx=$(mktemp)
		GIT_INDEX_FILE=$idx git -C "$wt" read-tree pristine
		git -C "$wt" status --porcelain -uall --ignored | cut -c4- |
			grep -v '^\.pc/' | (cd "$wt" && GIT_INDEX_FILE=$idx xargs -r -d '\n' git add -A -f --)
		got=$(GIT_INDEX_FILE=$idx git -C "$wt" write-tree)
		rm -f "$idx"
		;;
	esac
	[ "$got" = "$want" ] || die "README's $name commands do not give pristine + the series"
done
reset_tree
step "README's commands apply the series as written (git am, quilt)"
