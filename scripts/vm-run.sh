#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a kernel under QEMU with the host root shared read-only, run a command
# file in the guest and return its exit code. TCG unless a probe boot shows
# that KVM works here. A guest that does not finish in VM_TIMEOUT seconds is
# killed. Works without a TTY or stdin.
# Usage: vm-run.sh BZIMAGE RESULTS_DIR CMD_FILE
set -eu
. "$(dirname "$0")/common.sh"

image=${1:?usage: vm-run.sh BZIMAGE RESULTS_DIR CMD_FILE}
results=${2:?missing results folder}
cmd=${3:?missing command file}
VM_TIMEOUT=${VM_TIMEOUT:-1800}
VM_MEM=${VM_MEM:-2G}
VM_APPEND=${VM_APPEND:-}	# more kernel command line
VM_CPUS=${VM_CPUS:-2}

need qemu-system-x86_64 qemu-system-x86
need timeout coreutils
[ -f "$image" ] || die "kernel image $image missing"
[ -f "$cmd" ] || die "command file $cmd missing"

rm -rf "$results"
mkdir -p "$results"
cp "$cmd" "$results/cmd"

qemu()
{
	local accel=$1 res=$2

	qemu-system-x86_64 -accel "$accel" -cpu max -m "$VM_MEM" \
		-smp "$VM_CPUS" -kernel "$image" -nodefaults -no-reboot \
		-display none -serial stdio -monitor none \
		-device virtio-rng-pci \
		-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root \
		-fsdev local,id=res,path="$res",security_model=none,multidevs=remap \
		-device virtio-9p-pci,fsdev=res,mount_tag=results \
		-append "console=ttyS0 root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,cache=none ro init=$TOP/scripts/vm-init.sh panic=-1 loglevel=4 $VM_APPEND" \
		</dev/null
}

# KVM hangs at kernel entry on some hosts: use it only after a probe boot
# finished in time. The verdict is kept per host kernel.
accel=tcg,thread=multi
probe=$BUILD/kvm-probe
if [ -w /dev/kvm ] && [ "${VM_KVM:-probe}" != no ]; then
	if [ "$(sed -n 1p "$probe" 2>/dev/null)" != "$(uname -r)" ]; then
		step "probing KVM with a test boot (20 s at most)"
		tmp=$(mktemp -d)
		echo 'true' > "$tmp/cmd"
		verdict=tcg
		timeout -k 5 20 bash -c "$(declare -f qemu); TOP='$TOP' image='$image' VM_MEM=512M VM_CPUS=1 VM_APPEND= qemu kvm '$tmp'" \
			>/dev/null 2>&1 && [ -f "$tmp/exit-code" ] && verdict=kvm
		rm -rf "$tmp"
		mkdir -p "$BUILD"
		printf '%s\n%s\n' "$(uname -r)" "$verdict" > "$probe"
		step "KVM probe: using $verdict"
	fi
	[ "$(sed -n 2p "$probe")" = kvm ] && accel=kvm
fi

step "booting $image under ${accel%%,*} (timeout ${VM_TIMEOUT} s)"
set +e
timeout -k 10 "$VM_TIMEOUT" bash -c "$(declare -f qemu); TOP='$TOP' image='$image' VM_MEM='$VM_MEM' VM_CPUS='$VM_CPUS' VM_APPEND='$VM_APPEND' qemu '$accel' '$results'" \
	2>&1 | tee "$results/console.log" | grep --line-buffered -v '^\[' >&2
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	die "guest did not finish within ${VM_TIMEOUT} s: killed (console: $results/console.log)"
fi
[ "$rc" -eq 0 ] || die "qemu failed with exit code $rc (console: $results/console.log)"
[ -f "$results/exit-code" ] ||
	die "guest stopped without finishing the command: boot failure or crash (console: $results/console.log)"
exit "$(cat "$results/exit-code")"
