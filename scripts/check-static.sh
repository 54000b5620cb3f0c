#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Static checks of the series and the suite:
#  - patches/$BASE is what scripts/series-gen.sh makes of this repository;
#  - the series applies with git am semantics to the pristine tree, and the
#    patched tree used by the bench is exactly pristine + series;
#  - checkpatch.pl --strict --codespell is clean on every patch;
#  - the suite builds with -Wall -Werror;
#  - Documentation/networking/tcp_repair.rst builds without new Sphinx
#    warnings.
set -eu
. "$(dirname "$0")/common.sh"

need codespell codespell
for m in ply:python3-ply git:python3-git; do
	/usr/bin/python3 -c "import ${m%%:*}" 2>/dev/null ||
		die "python3 cannot import ${m%%:*} (checkpatch's SPDX check): install the Debian package ${m#*:}"
done
[ -f "$SRC/.pristine-ok" ] || die "no pristine tree: run scripts/kernel-src.sh"

step "checking that the series applies to linux-source-$BASE"
index=$(mktemp)
trap 'rm -f "$index"' EXIT
export GIT_INDEX_FILE=$index
git -C "$SRC" read-tree pristine
while read -r p; do
	case $p in ''|'#'*) continue ;; esac
	git -C "$SRC" apply --cached "$SERIES_DIR/$p" ||
		die "patch $p does not apply to linux-source-$BASE"
done < "$SERIES_DIR/series"
tree=$(git -C "$SRC" write-tree)
unset GIT_INDEX_FILE
[ "$tree" = "$(git -C "$PATCHED" rev-parse 'HEAD^{tree}')" ] ||
	die "$PATCHED is not pristine + series: run scripts/kernel-src.sh"

step "checking that patches/$BASE is in sync with the repository"
gen=$(mktemp -d)
trap 'rm -rf "$index" "$gen"' EXIT
"$TOP/scripts/series-gen.sh" "$gen"
diff -ru "$SERIES_DIR" "$gen" >&2 ||
	die "patches/$BASE is out of sync with the suite or documentation: run scripts/series-gen.sh"

step "checkpatch --strict --codespell on the series"
# The Fixes: hashes are upstream commits, unknown to the history-less
# Debian tree; passt is a proper noun, not a misspelling of "past".
dict=$(dpkg -L codespell 2>/dev/null | grep '/data/dictionary\.txt$' | head -n 1)
[ -f "$dict" ] || die "codespell dictionary not found: install the Debian package codespell"
mkdir -p "$BUILD"
grep -v '^passt->' "$dict" > "$BUILD/codespell-dictionary.txt"
bad=0
while read -r p; do
	case $p in ''|'#'*) continue ;; esac
	# spdxcheck.py needs Debian's python3 with python3-ply, not another
	# python3 (pyenv, venv) first in PATH.
	if ! PATH=/usr/bin:$PATH "$SRC/scripts/checkpatch.pl" --strict --codespell -q \
			--codespellfile "$BUILD/codespell-dictionary.txt" \
			--ignore UNKNOWN_COMMIT_ID "$SERIES_DIR/$p"; then
		echo "checkpatch: $p has style problems" >&2
		bad=1
	fi
done < "$SERIES_DIR/series"
[ "$bad" -eq 0 ] || die "checkpatch found problems"

step "building the suite with -Werror"
"$TOP/scripts/suite-build.sh" patched CC="gcc -Werror"
step "building the documentation with Sphinx"
"$TOP/scripts/check-docs.sh"
step "static checks passed"
