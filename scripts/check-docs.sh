#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build Documentation/networking/tcp_repair.rst with the kernel's own Sphinx
# machinery (make htmldocs SPHINXDIRS=networking) and fail on any warning.
#
# The build runs in a scratch tree under build/docs: symlinks to the kernel
# tree, except Documentation/, which is written out (the build writes the
# netlink spec pages into it) from the tree's kernel branch (pristine + the
# kernel patches), with this repository's copy of the new file and its
# index entry. The kernel tree itself is never modified.
#
# SPHINXOPTS=-W cannot be used: a build limited to networking/ always warns
# about labels defined in other books (netdev-faq, auxiliary_bus), and about
# dot(1) when graphviz is missing. So a second scratch tree, whose
# Documentation/ comes from the pristine tree (without the new file and
# without the series' other documentation changes), is built at the same
# time, and the check fails on every warning that this baseline does not
# have. About 150 s on 2 idle cores for the pair.
#
# Usage: scripts/check-docs.sh

set -eu
. "$(dirname "$0")/common.sh"

DOC=Documentation/networking/tcp_repair.rst
INDEX=Documentation/networking/index.rst
DOCS=$BUILD/docs-$BASE
# The index entry the new one follows (6.12 and mainline: tcp_ao)
case $BASE in
6.1) ANCHOR=tc-actions-env-rules ;;
*) ANCHOR=tcp_ao ;;
esac
SPHINXBUILD=${SPHINXBUILD:-sphinx-build}

need make make
need perl perl
need "$SPHINXBUILD" python3-sphinx

# Run every Python of the build (sphinx-build, the YNL page generator, the
# jobserver wrapper) with the interpreter sphinx-build was installed for, so
# that a python3 earlier in PATH (pyenv, venv) does not shadow Debian's.
PY=$(sed -n '1s/^#![[:space:]]*//p' "$(command -v "$SPHINXBUILD")")
case $PY in
*/python3*) [ -x "${PY%% *}" ] || PY=python3 ;;
*) PY=python3 ;;
esac
PY=${PY%% *}
"$PY" -c 'import sphinx' 2>/dev/null ||
	die "$PY cannot import sphinx: install the Debian package 'python3-sphinx'"
"$PY" -c 'import yaml' 2>/dev/null ||
	die "$PY cannot import yaml: install the Debian package 'python3-yaml'"

[ -f "$TOP/$DOC" ] || die "$DOC is missing"
[ -f "$SRC/.pristine-ok" ] || die "no kernel tree in $SRC: run scripts/kernel-src.sh first"
git -C "$SRC" cat-file -e "pristine:$DOC" 2>/dev/null &&
	die "the pristine tree has $DOC: the baseline must be without it"
git -C "$SRC" show "$KERNEL_BRANCH:$INDEX" | grep -q "^   $ANCHOR\$" ||
	die "no '$ANCHOR' entry in $INDEX to place the new entry after"

mkdir -p "$DOCS/bin"
ln -sfn "$(command -v "$PY")" "$DOCS/bin/python3"

# $1: scratch tree to (re)create, $2: "doc" for the patched documentation
# with the new document, "base" for the pristine one
make_tree()
{
	local tree=$1 e name commit=pristine

	mkdir -p "$tree"
	for e in "$SRC"/* "$SRC"/.[!.]*; do
		name=${e##*/}
		case $name in
		Documentation|.git|'.[!.]*') continue ;;
		esac
		ln -sfn "$e" "$tree/$name"
	done
	[ "$2" = doc ] && commit=$KERNEL_BRANCH
	rm -rf "$tree/Documentation"
	git -C "$SRC" archive "$commit" Documentation | tar -x -C "$tree"
	if [ "$2" = doc ]; then
		cp "$TOP/$DOC" "$tree/$DOC"
		grep -q '^   tcp_repair$' "$tree/$INDEX" ||
			sed -i "s/^   $ANCHOR\$/&\\n   tcp_repair/" "$tree/$INDEX"
	fi
}

# $1: flavour (base or doc); output in $DOCS/$1.log, status in $DOCS/$1.rc
build()
{
	local rc=0

	# Full build: an incremental one would not repeat the warnings of the
	# pages it does not read again.
	rm -rf "$DOCS/obj-$1/Documentation/output"
	PATH=$DOCS/bin:$PATH make -C "$DOCS/tree-$1" O="$DOCS/obj-$1" \
		PYTHON3="$PY" SPHINXBUILD="$SPHINXBUILD" \
		SPHINXDIRS=networking htmldocs >"$DOCS/$1.log" 2>&1 || rc=$?
	echo "$rc" >"$DOCS/$1.rc"
}

# Warnings of a build, with the scratch paths and the line numbers in the
# index (shifted by the new entry) taken out so that both builds compare.
warnings()
{
	grep -iE 'warning|error|critical' "$DOCS/$1.log" |
		sed -e "s|$DOCS/tree-$1|TREE|g" -e "s|$DOCS/obj-$1|OBJ|g" \
		    -e 's|\(networking/index\.rst\):[0-9]*:|\1:N:|' |
		sort -u
}

start=$SECONDS
step "preparing scratch trees in $DOCS"
make_tree "$DOCS/tree-base" base
make_tree "$DOCS/tree-doc" doc

step "building networking/ with and without $DOC (Sphinx $("$PY" -c 'import sphinx; print(sphinx.__version__)'))"
build base &
base_pid=$!
build doc
wait "$base_pid" || true

for f in base doc; do
	if [ "$(cat "$DOCS/$f.rc")" != 0 ]; then
		tail -n 30 "$DOCS/$f.log" >&2
		die "htmldocs failed for the $f tree (log: $DOCS/$f.log)"
	fi
done

html=$DOCS/obj-doc/Documentation/output/networking/tcp_repair.html
[ -s "$html" ] || die "Sphinx produced no $html"

warnings base >"$DOCS/base.warnings"
warnings doc >"$DOCS/doc.warnings"
new=$(comm -13 "$DOCS/base.warnings" "$DOCS/doc.warnings")
if [ -n "$new" ]; then
	printf '%s\n' "$new" >&2
	die "$DOC: $(printf '%s\n' "$new" | wc -l) new Sphinx warning(s) (log: $DOCS/doc.log)"
fi

step "ok: $DOC builds without warnings ($(wc -l <"$DOCS/base.warnings") pre-existing in networking/ ignored), $((SECONDS - start)) s; $html"
