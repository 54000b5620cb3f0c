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

# Tree and object directory of a flavour: "patched" or "base".
flavour_src()
{
	case $1 in
	patched) echo "$PATCHED" ;;
	base) echo "$SRC" ;;
	*) die "unknown flavour '$1' (patched or base)" ;;
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
