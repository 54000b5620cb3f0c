#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Check that the series is bisectable:
#  - the kernel builds after every kernel patch (the last state is the
#    patched kernel, built as usual); each state is built from the one
#    kernel tree into build/obj/$BASE-bisect, with ccache;
#  - after every selftests patch, the suite as that prefix of the series
#    has it builds (-Werror), in a scratch tree at that prefix
#    (build/src/linux-$BASE-bisect), and the programs it adds pass on the
#    patched kernel, all prefixes in one guest boot: the kernel patches
#    come first, so every selftests prefix has the same kernel. A selftests
#    patch only adds files (and the Makefile lines of its programs), so a
#    program's code is the same in every later prefix: running it once, in
#    the prefix that adds it, covers them all.
# BISECT_SUITE_ONLY=1 only builds the suite after each selftests patch (no
# kernel build, no guest).
set -eu
. "$(dirname "$0")/common.sh"

[ -f "$SRC/.pristine-ok" ] || die "no pristine tree: run scripts/kernel-src.sh"
mapfile -t series < <(series_patches)
mapfile -t kernel < <(kernel_patches)
nk=${#kernel[@]}
[ "$nk" -gt 0 ] || die "no kernel patch in $SERIES_DIR"

only=${BISECT_SUITE_ONLY:-0}
# Kernel: every state but the last (the patched kernel).
for ((i = 1; i < nk && only == 0; i++)); do
	c=$(commit_patches pristine "${kernel[@]:0:$i}") || die "the kernel patches do not apply"
	step "kernel after ${kernel[$((i - 1))]##*/}"
	KBUILD_COMMIT=$c KBUILD_OBJ=$(flavour_obj bisect) \
		"$TOP/scripts/kernel-build.sh" patched ||
		die "the kernel does not build after ${kernel[$((i - 1))]##*/}"
done
[ "$only" = 1 ] || "$TOP/scripts/kernel-build.sh" patched
"$TOP/scripts/suite-build.sh"	# the pristine UAPI headers, among others
hdr=$BUILD/obj/$BASE-headers

# Selftests: each prefix that ends with a selftests patch.
wt=$BUILD/src/linux-$BASE-bisect
out=$BUILD/bisect/$BASE
ok=$BUILD/src/.bisect-$BASE-ok
if [ ! -f "$ok" ] || [ ! -e "$wt/.git" ]; then
	step "creating the scratch tree $wt (about a minute)"
	rm -rf "$wt"
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q -f --detach "$wt" pristine
	touch "$ok"
fi
rm -rf "$out"
mkdir -p "$out"
cmd=$out/cmd
: > "$cmd"
prev=
nprefix=0
for ((i = nk; i < ${#series[@]}; i++)); do
	p=${series[$i]}
	grep -q "^+++ b/$SUITE/" "$p" || continue
	nprefix=$((nprefix + 1))
	c=$(commit_patches pristine "${series[@]:0:$((i + 1))}") ||
		die "the series does not apply up to ${p##*/}"
	git -C "$wt" checkout -q -f --detach "$c"
	git -C "$wt" clean -q -f -d -x -- "$SUITE"
	inst=$out/${p##*/}
	inst=${inst%.patch}
	step "suite after ${p##*/}"
	make -s -C "$wt/tools/testing/selftests" TARGETS=net/tcp_repair \
		KHDR_INCLUDES="-isystem $hdr/usr/include" CC="gcc -Werror" \
		install INSTALL_PATH="$inst" >&2 ||
		die "the suite does not build after ${p##*/}"
	# The library too, which no program may use yet
	if grep -q '^LIB[[:space:]]*:=[[:space:]]*$(LIBDIR)/' "$wt/$SUITE/Makefile"; then
		lib=$(sed -n 's/^LIB[[:space:]]*:=[[:space:]]*$(LIBDIR)\///p' "$wt/$SUITE/Makefile")
		# OUTPUT: lib.mk sets it only at make level 0, and make bisect
		# runs this from the top-level Makefile
		make -s -C "$wt/$SUITE" KHDR_INCLUDES="-isystem $hdr/usr/include" \
			OUTPUT="$wt/$SUITE" CC="gcc -Werror" \
			"$wt/$SUITE/lib/$lib" >&2 ||
			die "the suite's library does not build after ${p##*/}"
	fi
	progs=$(sed -n 's/^net\/tcp_repair://p' "$inst/kselftest-list.txt" | sort)
	new=$(comm -13 <(printf '%s\n' $prev | sort) <(printf '%s\n' $progs) | tr '\n' ' ')
	prev=$progs
	step "  programs: $(echo $progs); new: ${new:-none}"
	[ -n "${new// }" ] || continue
	{
		echo "echo '### prefix ${p##*/}'"
		suite_cmd_run "$inst" $new
	} >> "$cmd"
done
[ "$nprefix" -gt 0 ] || die "no selftests patch in $SERIES_DIR"
suite_cmd_tail >> "$cmd"
if [ "$only" = 1 ]; then
	step "the suite builds after each of the $nprefix selftests patches"
	exit 0
fi

step "running the programs of each prefix on the patched kernel"
results=$BUILD/results/$BASE-bisect
"$TOP/scripts/vm-run.sh" "$(flavour_obj patched)/arch/x86/boot/bzImage" "$results" "$cmd" ||
	[ -f "$results/exit-code" ] || exit 1
bad=0
awk -v dir="$out" '
	/^[0-9.]+ ### prefix / { f = dir "/" $4 ".log"; next }
	f != "" { print > f }' "$results/output.log"
for log in "$out"/*.log; do
	[ -f "$log" ] || continue
	name=${log##*/}
	"$TOP/scripts/results.sh" "$log" "patched $(kernel_version) after ${name%.log}" || bad=1
done
[ "$bad" -eq 0 ] || die "some programs fail at the prefix that adds them"
step "every kernel prefix builds; every selftests prefix builds and its programs pass"
