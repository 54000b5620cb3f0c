# SPDX-License-Identifier: GPL-2.0
# Shared settings and helpers for the bench scripts; sourced, not run.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE=${BASE:-6.12}
BUILD=${BUILD:-$TOP/build}
SRC=$BUILD/src/linux-$BASE		# pristine tree (git, first commit)
PATCHED=$BUILD/src/linux-$BASE-patched	# git worktree with the series
SERIES_DIR=$TOP/patches/$BASE
SUITE=tools/testing/selftests/net/tcp_repair

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

# Tree and object directory of a flavour: "patched" or "base", optionally
# with a variant suffix ("patched-debug") that adds kconfig/<variant>.config.
flavour_src()
{
	case $1 in
	patched|patched-*) echo "$PATCHED" ;;
	base|base-*) echo "$SRC" ;;
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

# Digest of the series files in order, empty series included.
series_digest()
{
	local p

	[ -f "$SERIES_DIR/series" ] || die "no series file in $SERIES_DIR"
	{
		cat "$SERIES_DIR/series"
		while read -r p; do
			case $p in ''|'#'*) continue ;; esac
			cat "$SERIES_DIR/$p" || die "series names missing patch $p"
		done < "$SERIES_DIR/series"
	} | sha256sum | cut -d' ' -f1
}

# The guest's command for a suite installed in $1: run_kselftest.sh on the
# given programs (all if none), then kmemleak's findings on a kernel that
# has it, and the kernel log. KSFT_TIMEOUT overrides the suite's timeout.
suite_cmd()
{
	local inst=$1 t

	shift
	echo "cd '$inst' || exit 1"
	printf './run_kselftest.sh'
	[ -z "${KSFT_TIMEOUT:-}" ] || printf ' -o %s' "$KSFT_TIMEOUT"
	for t in "$@"; do printf ' -t net/tcp_repair:%s' "$t"; done
	echo
	echo 'rc=$?'
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
