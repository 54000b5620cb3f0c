#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Generate the selftests and documentation patches of the series, and its
# cover letter, from this repository's files, so that the repository stays
# the one source of truth. On top of the kernel patches (subject "tcp: ...")
# of patches/$BASE:
#  - the selftests, as the patches that patches/msg/selftests.split lists
#    (each adds some of the suite's files, with the suite's Makefile and
#    .gitignore trimmed to the programs present so far); the first one also
#    adds the suite to tools/testing/selftests/Makefile and to the
#    NETWORKING [TCP] entry of MAINTAINERS;
#  - Documentation/networking/tcp_repair.rst, in the networking index and
#    in MAINTAINERS (commit message patches/msg/docs);
#  - the cover letter, from patches/msg/cover-$BASE (else patches/msg/cover).
# Dropping new kernel patches into patches/$BASE and running this script is
# enough to regenerate the rest. The generated patches carry the identity
# (From, Signed-off-by) of the first kernel patch: one placeholder, whoever
# runs this script.
# Usage: series-gen.sh [OUTPUT_DIR]   (default: patches/$BASE, rewritten)
set -eu
. "$(dirname "$0")/common.sh"

out=${1:-$SERIES_DIR}
DOC=Documentation/networking/tcp_repair.rst
SPLIT=$TOP/patches/msg/selftests.split
[ -f "$SRC/.pristine-ok" ] || die "no pristine tree: run scripts/kernel-src.sh"
[ -f "$SPLIT" ] || die "$SPLIT missing"

mapfile -t kernel < <(kernel_patches)
[ "${#kernel[@]}" -gt 0 ] || die "no kernel patch (Subject: $KERNEL_SUBJECT...) in $SERIES_DIR"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
g() { GIT_INDEX_FILE=$tmp/index git -C "$SRC" "$@"; }	# the series' index

# Fixed identity and dates: the same inputs give the same patch files.
g mailinfo "$tmp/m" "$tmp/p" < "${kernel[0]}" > "$tmp/info"
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
GIT_AUTHOR_NAME=$(sed -n 's/^Author: //p' "$tmp/info")
GIT_AUTHOR_EMAIL=$(sed -n 's/^Email: //p' "$tmp/info")
[ -n "$GIT_AUTHOR_NAME" ] && [ -n "$GIT_AUTHOR_EMAIL" ] ||
	die "no author in ${kernel[0]}"
GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME
GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
export GIT_AUTHOR_DATE="2026-11-25 12:00:00 +0000"
export GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE

msg()	# message file -> message with the sign-off
{
	[ -f "$TOP/patches/msg/$1" ] || die "commit message patches/msg/$1 missing"
	cat "$TOP/patches/msg/$1"
	printf '\nSigned-off-by: %s <%s>\n' "$GIT_AUTHOR_NAME" "$GIT_AUTHOR_EMAIL"
}

# The kernel patches become commits again, with their own author, date and
# message, so that format-patch writes the cover letter for the whole
# series (and rewrites them identically).
first=$(g rev-parse 'pristine^{commit}')
last=$(commit_patches pristine "${kernel[@]}") ||
	die "the kernel patches of $SERIES_DIR do not apply to $SOURCE_PKG"

g read-tree "$last"

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
# 6.12 and mainline (7.3) have the same anchor lines; their contexts differ,
# which the generation takes from each tree.
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

# The suite's tracked files (relative to the suite folder), and how the
# split file shares them out: "NAME<TAB>file" lines in $tmp/plan.
(cd "$TOP/$SUITE" && git ls-files) | grep -vxE 'Makefile|\.gitignore' > "$tmp/files"
[ -s "$tmp/files" ] || die "no tracked file in $SUITE"
git -C "$TOP" ls-files --error-unmatch "$SUITE/Makefile" >/dev/null 2>&1 ||
	die "$SUITE/Makefile is not tracked"
awk -v splitf="${SPLIT#"$TOP"/}" '
	FNR == NR { files[++n] = $0; next }
	/^[[:space:]]*(#|$)/ { next }
	$1 == "patch" && NF == 2 { name = $2; order[++np] = name; next }
	$1 == "local" && NF == 1 { name = "-local"; next }
	name == "" { printf "%s:%d: a path before any \"patch\" line\n", splitf, FNR > "/dev/stderr"; bad = 1; next }
	{
		pat = $1; hit = 0; optional = sub(/^\?/, "", pat)
		for (i = 1; i <= n; i++) {
			if (taken[i] != "") continue
			if (match_glob(files[i], pat)) {
				taken[i] = name; hit = 1
				if (optional) printf "%s:%d: note: %s goes to %s, place it\n", splitf, FNR, files[i], name > "/dev/stderr"
			}
		}
		if (!hit && !optional) { printf "%s:%d: \"%s\" matches no file left\n", splitf, FNR, pat > "/dev/stderr"; bad = 1 }
	}
	function match_glob(s, p,   r) {
		r = p
		gsub(/[.+^$(){}|\\]/, "\\\\&", r)
		gsub(/\*/, ".*", r); gsub(/\?/, ".", r)
		return s ~ ("^" r "$")
	}
	END {
		for (i = 1; i <= n; i++)
			if (taken[i] == "") { printf "%s: no patch takes %s\n", splitf, files[i] > "/dev/stderr"; bad = 1 }
		if (bad) exit 1
		for (k = 1; k <= np; k++)
			for (i = 1; i <= n; i++)
				if (taken[i] == order[k]) printf "%s\t%s\n", order[k], files[i]
		for (i = 1; i <= n; i++)
			if (taken[i] == "-local") printf "-local\t%s\n", files[i]
	}' "$tmp/files" "$SPLIT" > "$tmp/plan" || die "$SPLIT does not share out the suite's files"
mapfile -t names < <(awk '$1 == "patch" && NF == 2 { print $2 }' "$SPLIT")

# The suite's Makefile and .gitignore as a prefix of the series has them,
# without what names a program or file still to come (a program is still
# to come while its .c is; a word also names lib/WORD): in an assignment
# ("LIBSRC += a.c b.c"), the words; if none is left, or in any other line,
# the whole line, with the comment lines right above it.
trim()	# file absent-names-file > trimmed
{
	awk -v absentf="$2" '
	BEGIN { while ((getline l < absentf) > 0) absent[l] = 1 }
	function gone(w) {
		sub(/^\$\(OUTPUT\)\//, "", w)
		return (w in absent) || (("lib/" w) in absent)
	}
	{ lines[NR] = $0 }
	END {
		for (i = 1; i <= NR; i++) {
			l = lines[i]
			if (match(l, /^[A-Za-z_]+[[:space:]]*[:+]?=[[:space:]]*/) && l !~ /\$\(|\\$/) {
				head = substr(l, 1, RLENGTH)
				n = split(substr(l, RLENGTH + 1), w, /[[:space:]]+/)
				kept = ""; cut = 0
				for (j = 1; j <= n; j++) {
					if (w[j] == "") continue
					if (gone(w[j])) { cut = 1; continue }
					kept = kept (kept == "" ? "" : " ") w[j]
				}
				if (cut && kept == "") drop[i] = 1
				else if (cut) lines[i] = head kept
			} else {
				n = split(l, w, /[[:space:]:=,]+/)
				for (j = 1; j <= n; j++)
					if (gone(w[j])) { drop[i] = 1; break }
			}
			# a comment block right above a dropped line goes with it
			if (drop[i])
				for (k = i - 1; k > 0 && lines[k] ~ /^#/ && lines[k] !~ /SPDX-License-Identifier/; k--)
					drop[k] = 1
		}
		for (i = 1; i <= NR; i++) if (!drop[i]) print lines[i]
	}' "$1"
}
programs=$(sed -n 's/^\(TEST_GEN_PROGS\|TEST_GEN_PROGS_EXTENDED\|TEST_PROGS\)[[:space:]]*[:+]\?=//p' \
	"$TOP/$SUITE/Makefile" | tr -s ' \t' '\n' | sed '/^$/d')

parent=$last
nth=0
for name in "${names[@]}"; do
	grep -q "^$name	" "$tmp/plan" || continue	# a patch left empty
	nth=$((nth + 1))
	awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$tmp/plan" >> "$tmp/present"
	while IFS= read -r f; do
		add_file "$SUITE/$f" "$TOP/$SUITE/$f"
	done < <(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$tmp/plan")
	# what is still to come: files, and programs whose source is
	sort -u "$tmp/present" > "$tmp/present.s"
	comm -23 <(sort -u "$tmp/files") "$tmp/present.s" > "$tmp/absent"
	sort -u "$tmp/absent" > "$tmp/absent.s"
	for p in $programs; do
		grep -qxF "$p.c" "$tmp/absent" && echo "$p" >> "$tmp/absent"
	done
	for f in Makefile .gitignore; do
		[ -f "$TOP/$SUITE/$f" ] || continue
		trim "$TOP/$SUITE/$f" "$tmp/absent" > "$tmp/trimmed"
		add_file "$SUITE/$f" "$tmp/trimmed"
	done
	if [ "$nth" -eq 1 ]; then
		insert_after tools/testing/selftests/Makefile "$targets_anchor" \
			"TARGETS += net/tcp_repair"
		insert_after MAINTAINERS "$(printf 'F:\tnet/ipv6/tcp*.c')" \
			"$(printf 'F:\t%s/' "$SUITE")"
	fi
	parent=$(g commit-tree "$(g write-tree)" -p "$parent" -m "$(msg "$name")")
done
# What is left is this repository's own (the split file's "local" part)
awk -F'\t' '$1 == "-local" { print $2 }' "$tmp/plan" | sort -u > "$tmp/local"
for p in $programs; do
	grep -qxF "$p.c" "$tmp/local" && echo "$p" >> "$tmp/local"
done
[ -z "$(comm -23 "$tmp/absent.s" <(sort -u "$tmp/local"))" ] ||
	die "internal: files left after the last selftests patch"
trim "$TOP/$SUITE/Makefile" "$tmp/local" > "$tmp/trimmed"
cmp -s <(g show ":$SUITE/Makefile") "$tmp/trimmed" ||
	die "internal: the last selftests patch does not give the suite's Makefile"

# Documentation, when the document exists.
if [ -n "$(git -C "$TOP" ls-files "$DOC")" ]; then
	add_file "$DOC" "$TOP/$DOC"
	insert_after Documentation/networking/index.rst "$index_anchor" \
		"   tcp_repair"
	insert_after MAINTAINERS "$maint_doc_anchor" \
		"$(printf 'F:\t%s' "$DOC")" "$maint_doc_where"
	parent=$(g commit-tree "$(g write-tree)" -p "$parent" -m "$(msg docs)")
fi

# Subjects are not numbered ("[PATCH]"): the series file gives the order,
# numbers are added when it is posted. The cover letter is not part of the
# series file (it is no patch).
mkdir -p "$out"
rm -f "$out"/*.patch
# The mainline series names its target tree (the cover letter says why).
case $BASE in
mainline) prefix="PATCH net-next" ;;
*) prefix=PATCH ;;
esac
g -c core.abbrev=12 format-patch -q -N --zero-commit --no-signature --cover-letter \
	--subject-prefix="$prefix" -o "$out" "$first..$parent"
cover=$out/0000-cover-letter.patch
# The cover letter of a base, when it has its own.
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
	echo "# Series for Debian $SOURCE_PKG, applied in this order."
	(cd "$out" && ls -1 ./*.patch | sed 's|^\./||' | grep -v '^0000-')
} > "$out/series"

# Review size: the selftests patches should stay under about 1000 lines.
for p in "$out"/*.patch; do
	n=$(wc -l < "$p")
	case ${p##*/} in 0000-*) continue ;; esac
	[ "$n" -le 1100 ] || step "note: ${p##*/} has $n lines (aim: under about 1000)"
done
