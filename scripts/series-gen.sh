#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Generate the selftests and documentation patches of the series from this
# repository's files, so that the repository stays the one source of truth:
# on top of the kernel patches (subject "tcp: ..."), one commit adds the
# suite and wires it into tools/testing/selftests/Makefile, one adds
# Documentation/networking/tcp_repair.rst to the networking index; both
# add their files to the NETWORKING [TCP] entry of MAINTAINERS. Their
# commit messages are patches/msg/selftests and patches/msg/docs.
# Usage: series-gen.sh [OUTPUT_DIR]   (default: patches/$BASE, rewritten)
set -eu
. "$(dirname "$0")/common.sh"

out=${1:-$SERIES_DIR}
DOC=Documentation/networking/tcp_repair.rst
[ -f "$SRC/.pristine-ok" ] || die "no pristine tree: run scripts/kernel-src.sh"

# Fixed identity and dates: the same inputs give the same patch files.
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
GIT_AUTHOR_NAME=$(git -C "$TOP" config user.name) || die "git user.name not set"
GIT_AUTHOR_EMAIL=$(git -C "$TOP" config user.email) || die "git user.email not set"
GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME
GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
export GIT_AUTHOR_DATE="2026-11-25 12:00:00 +0000"
export GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE

kernel=$(grep -l '^Subject: \[PATCH\] tcp: ' "$SERIES_DIR"/*.patch | grep -v '/0000-' | sort)
[ -n "$kernel" ] || die "no kernel patch (Subject: tcp: ...) in $SERIES_DIR"

# Files of this repository that go into the series (as tracked by git).
suite_files=$(git -C "$TOP" ls-files "$SUITE")
[ -n "$suite_files" ] || die "no tracked file in $SUITE"
doc_tracked=$(git -C "$TOP" ls-files "$DOC")

index=$(mktemp)
tmp=$(mktemp -d)
trap 'rm -rf "$index" "$tmp"' EXIT
export GIT_INDEX_FILE=$index
g() { git -C "$SRC" "$@"; }
msg()	# message file -> message with the sign-off
{
	cat "$TOP/patches/msg/$1"
	printf '\nSigned-off-by: %s <%s>\n' "$GIT_AUTHOR_NAME" "$GIT_AUTHOR_EMAIL"
}

# The kernel patches become commits again, with their own author, date and
# message, so that format-patch can write the cover letter for the whole
# series (and rewrites them identically).
g read-tree pristine
base=$(g rev-parse pristine)
for p in $kernel; do
	g apply --cached "$p" || die "$(basename "$p") does not apply"
	g mailinfo "$tmp/msg" "$tmp/diff" < "$p" > "$tmp/info"
	base=$(
		GIT_AUTHOR_NAME=$(sed -n 's/^Author: //p' "$tmp/info")
		GIT_AUTHOR_EMAIL=$(sed -n 's/^Email: //p' "$tmp/info")
		GIT_AUTHOR_DATE=$(sed -n 's/^Date: //p' "$tmp/info")
		{ sed -n 's/^Subject: //p' "$tmp/info"; echo; cat "$tmp/msg"; } |
			g commit-tree "$(g write-tree)" -p "$base" -F -
	)
done
first=$(g rev-parse pristine)

add_file()	# path-in-tree file-on-disk
{
	local mode=100644

	[ -x "$2" ] && mode=100755
	g update-index --add --cacheinfo "$mode,$(g hash-object -w "$2"),$1"
}

# Insert a line after (or before) another one, failing if the anchor is
# missing or not unique.
insert_after()	# path-in-tree anchor-line new-line [before]
{
	local where=${4:-after}

	g show ":$1" > "$tmp/f"
	grep -qxF "$2" "$tmp/f" || die "$1 has no line '$2' to insert $where"
	[ "$(grep -cxF "$2" "$tmp/f")" -eq 1 ] || die "$1: '$2' is not unique"
	awk -v a="$2" -v n="$3" -v w="$where" '
		w == "before" && $0 == a { print n }
		{ print }
		w == "after" && $0 == a { print n }' "$tmp/f" > "$tmp/g"
	add_file "$1" "$tmp/g"
}

# Where the new lines go in the files the base trees have differently: the
# line each one follows (or precedes: MAINTAINERS of 6.1 has no Documentation
# line in the NETWORKING [TCP] entry, the document's line goes first there).
case $BASE in
6.1)
	targets_anchor="TARGETS += net/openvswitch"
	index_anchor="   tc-actions-env-rules"
	maint_doc_anchor=$(printf 'F:\tinclude/linux/tcp.h')
	maint_doc_where=before
	;;
*)
	targets_anchor="TARGETS += net/tcp_ao"
	index_anchor="   tcp_ao"
	maint_doc_anchor=$(printf 'F:\tDocumentation/networking/net_cachelines/tcp_sock.rst')
	maint_doc_where=after
	;;
esac

# Selftests: the suite's tracked files, and the TARGETS entry.
for f in $suite_files; do
	add_file "$f" "$TOP/$f"
done
insert_after tools/testing/selftests/Makefile "$targets_anchor" \
	"TARGETS += net/tcp_repair"
insert_after MAINTAINERS "$(printf 'F:\tnet/ipv6/tcp*.c')" \
	"$(printf 'F:\t%s/' "$SUITE")"
st=$(g commit-tree "$(g write-tree)" -p "$base" -m "$(msg selftests)")
last=$st

# Documentation, when the document exists.
if [ -n "$doc_tracked" ]; then
	add_file "$DOC" "$TOP/$DOC"
	insert_after Documentation/networking/index.rst "$index_anchor" \
		"   tcp_repair"
	insert_after MAINTAINERS "$maint_doc_anchor" \
		"$(printf 'F:\t%s' "$DOC")" "$maint_doc_where"
	last=$(g commit-tree "$(g write-tree)" -p "$st" -m "$(msg docs)")
fi
unset GIT_INDEX_FILE

# Subjects are not numbered ("[PATCH]"): the series file gives the order,
# numbers are added when it is posted. The cover letter is not part of the
# series file (it is no patch).
mkdir -p "$out"
rm -f "$out"/*.patch
g -c core.abbrev=12 format-patch -q -N --zero-commit --no-signature --cover-letter \
	-o "$out" "$first..$last"
cover=$out/0000-cover-letter.patch
# The cover letter of a base, when it has its own (its testing paragraph).
cover_msg=$TOP/patches/msg/cover
[ ! -f "$cover_msg-$BASE" ] || cover_msg=$cover_msg-$BASE
awk -v f="$cover_msg" '
	/\*\*\* SUBJECT HERE \*\*\*/ {
		getline s < f
		sub(/\*\*\* SUBJECT HERE \*\*\*/, s)
	}
	/^\*\*\* BLURB HERE \*\*\*$/ {
		while ((getline l < f) > 0)	# after the subject line
			print l
		next
	}
	{ print }' "$cover" > "$tmp/cover"
mv "$tmp/cover" "$cover"
{
	echo "# Series for Debian linux-source-$BASE, applied in this order."
	(cd "$out" && ls -1 ./*.patch | sed 's|^\./||' | grep -v '^0000-')
} > "$out/series"
