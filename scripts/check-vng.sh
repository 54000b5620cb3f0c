#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The way netdev's CI and its developers run selftests: virtme-ng. Boot the
# patched kernel with vng (TCG: --disable-kvm unless VNG_KVM=1) and run one
# program of the installed suite through run_kselftest.sh, as README says;
# pass when vng exits 0 and the program's KTAP line says ok.
# Usage: check-vng.sh [PROG]   (default: api, a few seconds)
set -eu
. "$(dirname "$0")/common.sh"

prog=${1:-api}
image=$(flavour_obj patched)/arch/x86/boot/bzImage
inst=$(suite_inst)
log=$BUILD/results/$BASE-vng.log
need vng "virtme-ng (from Debian sid: see README)"
[ -f "$image" ] || die "no patched kernel: run scripts/kernel-build.sh patched"
[ -x "$inst/run_kselftest.sh" ] || die "no suite: run scripts/suite-build.sh"
kvm=--disable-kvm
[ "${VNG_KVM:-0}" = 1 ] && kvm=

summary=$BUILD/results/$BASE-vng.summary
mkdir -p "${log%/*}"
echo "0 1" > "$summary"
step "virtme-ng: $prog on the patched kernel ($(kernel_version))"
start=$(date +%s)
set +e
timeout -k 10 "${VM_TIMEOUT:-600}" vng --run "$image" $kvm --cpus 2 --memory 2G --user root \
	-- "$inst/run_kselftest.sh" -t "net/tcp_repair:$prog" </dev/null > "$log" 2>&1
rc=$?
set -e
secs=$(( $(date +%s) - start ))
# vng's stdout and the guest's /dev/stdout are two ports: their lines can
# interleave, so the KTAP line is looked for anywhere in a line.
grep -oE '(not )?ok [0-9]+ selftests: net/tcp_repair: .*' "$log" >&2 || true
if [ "$rc" -ne 0 ] || grep -qE "not ok [0-9]+ selftests: net/tcp_repair: $prog" "$log" ||
   ! grep -qE "ok [0-9]+ selftests: net/tcp_repair: $prog\$" "$log"; then
	tail -n 30 "$log" >&2
	die "vng run of $prog failed (exit $rc, $secs s; log: $log)"
fi
echo "1 0" > "$summary"
step "virtme-ng: $prog passed in $secs s, boot included (log: $log)"
