# SPDX-License-Identifier: GPL-2.0
# Shared settings and helpers for the bench scripts; sourced, not run.
#
# Layout (see README, "How the bench works"):
#   build/src/linux-$BASE       the one kernel tree of a base: a git tree whose
#                               root commit is the pristine source (tag
#                               "pristine") and whose branch "kernel" is
#                               pristine + the kernel patches (tcp: ...) of
#                               the series. Both flavours build from this
#                               path, the flavour's commit checked out (under
#                               the build lock, by kernel-build.sh).
#   build/src/linux-$BASE-edit  worktree where the kernel patches are edited
#                               as commits (series-edit.sh, series-export.sh)
#   build/obj/$BASE-<flavour>   object folder of each flavour, same depth
#   build/suite/$BASE-<name>/   the suite, built once from a scratch tree
#                               (pristine + this repository's suite) and
#                               used on every kernel

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE=${BASE:-6.12}
BUILD=${BUILD:-$TOP/build}
SRC=$BUILD/src/linux-$BASE		# the build tree (git)
EDIT=${EDIT_TREE:-$BUILD/src/linux-$BASE-edit}	# where kernel patches are edited
SERIES_DIR=$TOP/patches/$BASE
SUITE=tools/testing/selftests/net/tcp_repair
KERNEL_BRANCH=refs/heads/kernel	# pristine + kernel patches, in $SRC
# Subject of the kernel patches of a series (the others are generated)
KERNEL_SUBJECT='tcp: '

# Debian package holding the source of a base. Mainline is the newest
# tree Debian has (experimental; MAINLINE_SOURCE names another one).
case $BASE in
mainline) SOURCE_PKG=${MAINLINE_SOURCE:-linux-source-7.3} ;;
*) SOURCE_PKG=linux-source-$BASE ;;
esac
TARBALL=/usr/src/$SOURCE_PKG.tar.xz

die()
{
	echo "error: $*" >&2
	exit 1
}

step()
{
	printf '==> [%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

need()
{
	local cmd=$1 pkg=$2

	command -v "$cmd" >/dev/null 2>&1 ||
		die "'$cmd' not found: install the Debian package '$pkg'"
}

# Release of the base as its tree says (e.g. 6.12.118, 7.3.0-rc7): never
# assume one, Debian moves its packages to new stable releases.
kernel_version()
{
	[ -f "$SRC/Makefile" ] || die "no kernel tree in $SRC: run scripts/kernel-src.sh"
	make -s -C "$SRC" kernelversion 2>/dev/null || die "make kernelversion failed in $SRC"
}

# The commit a flavour builds: "patched" or "base", optionally with a
# variant suffix ("patched-debug") that adds kconfig/<variant>.config.
flavour_commit()
{
	case $1 in
	patched|patched-*) echo "$KERNEL_BRANCH" ;;
	base|base-*) echo pristine ;;
	*) die "unknown flavour '$1' (patched or base, optionally -<variant>)" ;;
	esac
}

# Extra config fragment of a variant flavour, nothing for plain ones.
flavour_fragment()
{
	local frag

	case $1 in
	*-*)
		frag=$TOP/kconfig/${1#*-}.config
		[ -f "$frag" ] || die "flavour '$1' needs $frag"
		echo "$frag"
		;;
	esac
}

flavour_obj()
{
	echo "$BUILD/obj/$BASE-$1"
}

# "unpatched 6.12.118", "patched 7.3.0-rc7 (debug)"
flavour_label()	# flavour version
{
	local l

	case $1 in
	base*) l="unpatched $2" ;;
	*) l="patched $2" ;;
	esac
	case $1 in *-*) l="$l (${1#*-})" ;; esac
	echo "$l"
}

# The patches of the series, in order, one path a line.
series_patches()
{
	local p

	[ -f "$SERIES_DIR/series" ] || die "no series file in $SERIES_DIR"
	while read -r p; do
		case $p in ''|'#'*) continue ;; esac
		[ -f "$SERIES_DIR/$p" ] || die "series names missing patch $p"
		echo "$SERIES_DIR/$p"
	done < "$SERIES_DIR/series"
}

# The kernel patches (subject "tcp: ...") of a folder, in file name order.
kernel_patches()	# [dir]
{
	local dir=${1:-$SERIES_DIR} p

	for p in "$dir"/[0-9]*.patch; do
		[ -f "$p" ] || continue
		case $p in */0000-*) continue ;; esac
		grep -qE "^Subject: (\[[^]]*\] )?$KERNEL_SUBJECT" "$p" && echo "$p"
	done
	return 0
}

# Digest of files, names included.
files_digest()
{
	local f

	for f in "$@"; do
		echo "${f##*/}"
		cat "$f"
	done | sha256sum | cut -d' ' -f1
}

# Commit patches on top of a commit of $SRC the way git am does (mailinfo,
# then apply to the index), without touching any working tree; prints the
# last commit. Author, date and message come from each patch; the
# committer is fixed, so the same patches give the same commits.
commit_patches()	# base-commit patch...
{
	local base=$1 p tmp index info

	shift
	tmp=$(mktemp -d)
	index=$tmp/index
	GIT_INDEX_FILE=$index git -C "$SRC" read-tree "$base" || { rm -rf "$tmp"; return 1; }
	base=$(git -C "$SRC" rev-parse "$base^{commit}")
	for p in "$@"; do
		if ! GIT_INDEX_FILE=$index git -C "$SRC" apply --cached "$p" ||
		   ! git -C "$SRC" mailinfo "$tmp/msg" "$tmp/diff" < "$p" > "$tmp/info"; then
			echo "error: ${p##*/} does not apply" >&2
			rm -rf "$tmp"
			return 1
		fi
		info=$tmp/info
		base=$(
			export GIT_INDEX_FILE=$index
			GIT_AUTHOR_NAME=$(sed -n 's/^Author: //p' "$info")
			GIT_AUTHOR_EMAIL=$(sed -n 's/^Email: //p' "$info")
			GIT_AUTHOR_DATE=$(sed -n 's/^Date: //p' "$info")
			export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_AUTHOR_DATE
			export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost
			export GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE
			{ sed -n 's/^Subject: //p' "$info"; echo; cat "$tmp/msg"; } |
				git -C "$SRC" commit-tree "$(git -C "$SRC" write-tree)" -p "$base" -F -
		) || { rm -rf "$tmp"; return 1; }
	done
	rm -rf "$tmp"
	echo "$base"
}

# Where the suite of scratch tree NAME (default: SUITE_NAME or "main") is
# installed: run_kselftest.sh and the binaries.
suite_inst()
{
	echo "$BUILD/suite/$BASE-${1:-${SUITE_NAME:-main}}/inst"
}

# The guest's command for a suite installed in $1: run_kselftest.sh on the
# given programs (all if none), then kmemleak's findings on a kernel that
# has it, and the kernel log. KSFT_TIMEOUT overrides the suite's timeout.
# A program that run_kselftest.sh does not list (migrate_iperf3, installed
# but not run by default), or any program when PROG_ARGS is set (harness
# options: "-v ipv4", "-r migrate.ipv4.iperf3"), runs directly, with the
# suite's timeout (DIRECT_TIMEOUT overrides it), its output wrapped the way
# run_kselftest.sh wraps it, exit 4 reported as a skip. EXTRA_TESTS names
# programs run that way after the others (after the whole suite when no
# program is given): make check's criu_migrate.sh.
suite_cmd()
{
	suite_cmd_run "$@"
	suite_cmd_tail
}

# The part of suite_cmd() that runs the programs; status in $rc.
suite_cmd_run()
{
	local inst=$1 t listed=() direct=() timeout

	shift
	for t in "$@"; do
		if [ -z "${PROG_ARGS:-}" ] &&
		   grep -qxF "net/tcp_repair:$t" "$inst/kselftest-list.txt" 2>/dev/null; then
			listed+=("$t")
		else
			direct+=("$t")
		fi
	done
	for t in ${EXTRA_TESTS:-}; do
		direct+=("$t")
	done
	timeout=${KSFT_TIMEOUT:-$(sed -n 's/^timeout=//p' "$inst/net/tcp_repair/settings" 2>/dev/null)}
	timeout=${DIRECT_TIMEOUT:-$timeout}
	echo "cd '$inst' || exit 1"
	echo 'rc=${rc:-0}'
	if [ $# -eq 0 ] || [ ${#listed[@]} -gt 0 ]; then
		printf './run_kselftest.sh'
		[ -z "${KSFT_TIMEOUT:-}" ] || printf ' -o %s' "$KSFT_TIMEOUT"
		for t in "${listed[@]}"; do printf ' -t net/tcp_repair:%s' "$t"; done
		echo ' || rc=$?'
	fi
	for t in "${direct[@]}"; do
		echo "echo '# selftests: net/tcp_repair: $t'"
		echo "(cd net/tcp_repair && timeout -k 5 ${timeout:-45} ./$t ${PROG_ARGS:-}) 2>&1 | sed -u 's/^/# /'"
		echo 's=${PIPESTATUS[0]}'
		echo "if [ \$s -eq 0 ]; then echo 'ok 1 selftests: net/tcp_repair: $t'"
		echo "elif [ \$s -eq 4 ]; then echo 'ok 1 selftests: net/tcp_repair: $t # SKIP'"
		echo "else echo \"not ok 1 selftests: net/tcp_repair: $t # exit=\$s\"; rc=1; fi"
	done
}

suite_cmd_tail()
{
	# kmemleak reports objects unreferenced for 5 s, at its second scan
	echo 'mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null'
	echo 'if [ -w /sys/kernel/debug/kmemleak ]; then'
	echo '	sleep 6'
	echo '	echo scan > /sys/kernel/debug/kmemleak'
	echo '	echo scan > /sys/kernel/debug/kmemleak'
	echo '	cat /sys/kernel/debug/kmemleak > "$RESULTS/kmemleak.log"'
	echo 'fi'
	echo 'dmesg > "$RESULTS/dmesg.log" 2>/dev/null'
	echo 'exit $rc'
}

# This repository's commit, "+" when the working copy differs from it.
repo_commit()
{
	local c

	c=$(git -C "$TOP" rev-parse --short=12 HEAD 2>/dev/null) || { echo unknown; return; }
	git -C "$TOP" diff --quiet HEAD -- 2>/dev/null || c="$c+"
	echo "$c"
}
