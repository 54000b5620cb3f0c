#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make a minimal .config in an object folder: tinyconfig + the VM fragment +
# the suite's config (+ extra fragments given as arguments), then check that
# every option the fragments ask for really ended up set. Run by
# kernel-build.sh, under its lock, with the flavour's commit checked out.
# Usage: kernel-config.sh OBJ_DIR [fragment...]
set -eu
. "$(dirname "$0")/common.sh"

obj=${1:?usage: kernel-config.sh OBJ_DIR [fragment...]}
shift
frags=("$TOP/kconfig/vm.config" "$TOP/$SUITE/config" "$@")

for f in "${frags[@]}"; do
	[ -f "$f" ] || die "config fragment $f missing"
done
mkdir -p "$obj"
step "configuring ${obj##*/} (tinyconfig + ${#frags[@]} fragments)"
make -s -C "$SRC" O="$obj" tinyconfig >/dev/null
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" \
	"${frags[@]}" >/dev/null
make -s -C "$SRC" O="$obj" olddefconfig >/dev/null

# merge_config only warns; a dependency it could not meet is an error here.
# An option this tree does not have at all is skipped with a note: the
# fragments serve every base, and Kconfig symbols get renamed
# (PROC_SYSCTL became SYSCTL in 7.3).
known=$(cd "$SRC" && find . -name 'Kconfig*' -not -path './.git/*' -print0 |
	xargs -0 sed -n 's/^[[:space:]]*\(menu\)\?config[[:space:]]\+\([A-Za-z0-9_]\+\).*/\2/p' |
	sort -u)
missing=$(cat "${frags[@]}" | grep -E '^CONFIG_[A-Z0-9_]+=' | sort -u |
	while IFS= read -r opt; do
		sym=${opt%%=*}
		if ! grep -qxF "${sym#CONFIG_}" <<< "$known"; then
			step "note: $sym does not exist in this tree, skipped" >&2
			continue
		fi
		grep -qxF "$opt" "$obj/.config" || echo "$opt"
	done)
[ -z "$missing" ] || die "options not set in $obj/.config:" $missing
