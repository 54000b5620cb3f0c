#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Kernel build time of the patched kernel (patched-bench config), built by
# kernel-build.sh from scratch into an empty object folder
# (build/obj/$BASE-bench-scratch; the main builds are left alone). Prints
# markdown. Environment BENCH_BUILD:
#   full (default)  with an empty private ccache (build/bench/ccache), then
#                   again with it warm: about 7 + 1 minutes on 2 idle cores;
#   warm            only the warm build, with the shared ccache that the
#                   bench flavour's own build filled;
#   0               no build.
# Every mode also gives the last build of each bench flavour (from the times
# of its object folder: .config created, bzImage written) and the up-to-date
# check of scripts/kernel-build.sh.
set -eu
. "$(dirname "$0")/common.sh"

mode=${BENCH_BUILD:-full}
flavour=patched-bench
# at the same depth as the other object folders: the same ccache keys
obj=$BUILD/obj/$BASE-bench-scratch

need ccache ccache

# Prints "seconds hits misses load": kernel-build.sh into an empty object
# folder (the time includes the configuration, a few seconds).
build()
{
	local start load st

	rm -rf "$obj"
	ccache -z >/dev/null
	load=$(cut -d' ' -f1 /proc/loadavg)
	start=$(date +%s)
	KBUILD_OBJ=$obj "$TOP/scripts/kernel-build.sh" "$flavour" >&2 ||
		die "build failed, see $obj/build.log"
	st=$(ccache --print-stats)
	echo "$(( $(date +%s) - start ))" \
		"$(echo "$st" | awk '/^(direct|preprocessed)_cache_hit\t/ { h += $2 } END { print h + 0 }')" \
		"$(echo "$st" | awk '/^cache_miss\t/ { print $2 }')" "$load"
}

echo "Kernel build (bzImage; tinyconfig + kconfig/vm.config + the suite's config + kconfig/bench.config; \`make -j$(nproc)\` with ccache) into an empty object folder. Host load: 1-minute average at the start."
echo
echo "| build | seconds | ccache hits | ccache misses | host load |"
echo "| --- | ---: | ---: | ---: | ---: |"
case $mode in
full)
	export CCACHE_DIR=$BUILD/bench/ccache
	rm -rf "$CCACHE_DIR"
	step "kernel build from scratch, empty ccache (about 7 minutes)"
	r=$(build)
	set -- $r
	echo "| from scratch, ccache empty | $1 | $2 | $3 | $4 |"
	;;
esac
case $mode in
full|warm)
	step "kernel build from scratch, ccache warm"
	r=$(build)
	set -- $r
	echo "| from scratch, ccache warm | $1 | $2 | $3 | $4 |"
	rm -rf "$obj"
	;;
esac
for f in base-bench patched-bench; do
	o=$(flavour_obj "$f")
	[ -f "$o/arch/x86/boot/bzImage" ] || continue
	echo "| last build of $f (\`scripts/kernel-build.sh $f\`, $(date -r "$o/arch/x86/boot/bzImage" '+%F %H:%M')) | $(( $(stat -c %Y "$o/arch/x86/boot/bzImage") - $(stat -c %W "$o/.config") )) | - | - | - |"
done
start=$(date +%s%N)
"$TOP/scripts/kernel-build.sh" "$flavour" 2>/dev/null
ms=$(( ($(date +%s%N) - start) / 1000000 ))
printf '| `scripts/kernel-build.sh %s`, up to date | %d.%03d | - | - | %s |\n' \
	"$flavour" $((ms / 1000)) $((ms % 1000)) "$(cut -d' ' -f1 /proc/loadavg)"
