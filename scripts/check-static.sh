#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Static checks of the series and the suite:
#  - the series applies with git am semantics to the pristine tree, its
#    kernel patches (tcp: ...) first, and the bench's kernel branch is
#    exactly pristine + those;
#  - patches/$BASE is what scripts/series-gen.sh makes of this repository;
#  - checkpatch.pl --strict --codespell is clean on every patch;
#  - the suite builds with -Wall -Werror (suite-build.sh);
#  - Documentation/networking/tcp_repair.rst builds without new Sphinx
#    warnings (check-docs.sh);
#  - the commands README.md gives for applying the series work as written
#    on a pristine tree (check-readme.sh).
set -eu
. "$(dirname "$0")/common.sh"

need codespell codespell
for m in ply:python3-ply git:python3-git; do
	/usr/bin/python3 -c "import ${m%%:*}" 2>/dev/null ||
		die "python3 cannot import ${m%%:*} (checkpatch's SPDX check): install the Debian package ${m#*:}"
done
[ -f "$SRC/.pristine-ok" ] || die "no pristine tree: run scripts/kernel-src.sh"

step "checking that the series applies to $SOURCE_PKG ($(kernel_version))"
mapfile -t series < <(series_patches)
mapfile -t kernel < <(kernel_patches)
[ "${#kernel[@]}" -gt 0 ] || die "no kernel patch in $SERIES_DIR"
commit_patches pristine "${series[@]}" >/dev/null ||
	die "the series does not apply to $SOURCE_PKG"
[ "${series[*]:0:${#kernel[@]}}" = "${kernel[*]}" ] ||
	die "the series must start with its kernel patches (${kernel[*]##*/})"
[ "$(git -C "$SRC" rev-parse "$KERNEL_BRANCH^{tree}")" = \
  "$(git -C "$SRC" rev-parse "$(commit_patches pristine "${kernel[@]}")^{tree}")" ] ||
	die "branch $KERNEL_BRANCH of $SRC is not pristine + the kernel patches: run scripts/kernel-src.sh"

step "checking that patches/$BASE is in sync with the repository"
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
"$TOP/scripts/series-gen.sh" "$gen"
# (README: notes of a base, written by hand)
diff -ru --exclude=README "$SERIES_DIR" "$gen" >&2 ||
	die "patches/$BASE is out of sync with the suite or documentation: run scripts/series-gen.sh"

step "checkpatch --strict --codespell on the series"
# The Fixes: hashes are upstream commits, unknown to the history-less
# Debian tree. The selftests patches after the first add files to a folder
# whose MAINTAINERS entry the first one adds (FILE_PATH_CHANGES). passt is
# a proper noun, not a misspelling of "past"; nd, the usual name of a
# struct ndmsg (neighbour discovery), not one of "and".
dict=$(dpkg -L codespell 2>/dev/null | grep '/data/dictionary\.txt$' | head -n 1)
[ -f "$dict" ] || die "codespell dictionary not found: install the Debian package codespell"
mkdir -p "$BUILD"
grep -v -e '^passt->' -e '^nd->' "$dict" > "$BUILD/codespell-dictionary.txt"
bad=0
for p in "${series[@]}"; do
	# spdxcheck.py needs Debian's python3 with python3-ply, not another
	# python3 (pyenv, venv) first in PATH. checkpatch.pl is the same in
	# both commits of the tree: whichever is checked out will do.
	if ! PATH=/usr/bin:$PATH "$SRC/scripts/checkpatch.pl" --strict --codespell -q \
			--codespellfile "$BUILD/codespell-dictionary.txt" \
			--ignore UNKNOWN_COMMIT_ID,FILE_PATH_CHANGES "$p"; then
		echo "checkpatch: ${p##*/} has style problems" >&2
		bad=1
	fi
done
[ "$bad" -eq 0 ] || die "checkpatch found problems"

step "building the suite with -Werror"
"$TOP/scripts/suite-build.sh"
step "building the documentation with Sphinx"
"$TOP/scripts/check-docs.sh"
step "running README's commands for applying the series"
"$TOP/scripts/check-readme.sh"
step "static checks passed"
