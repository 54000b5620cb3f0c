#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the bench guest. The host's root is mounted read-only over 9p;
# the host's results folder (tag "results") holds the command to run, "cmd".
# Its output goes to the console and to results/output.log, one line each
# prefixed with the guest's time, and its exit code to results/exit-code.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
export RESULTS=/run/results	# for the command: where to leave files

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
# devtmpfs has no /dev/fd or /dev/std*; kselftest's runner writes to
# /dev/stdout.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs run /run
# /tmp stays the host's, read-only: the project itself may live there (CI
# clones anywhere). Temporary files go to a tmpfs through TMPDIR.
mkdir -p /run/tmp
export TMPDIR=/run/tmp
mount -t tmpfs shm /dev/shm
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p /run/results
mount -t 9p -o trans=virtio,version=9p2000.L results /run/results ||
	echo "vm-init: cannot mount the results folder"
ip link set lo up
hostname bench-guest 2>/dev/null

stamp()
{
	local line

	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line"
	done
}

if [ -f /run/results/cmd ]; then
	echo "vm-init: running $(uname -r) on $(nproc) CPUs"
	cd /run/results || exit 1
	bash ./cmd 2>&1 | stamp | tee output.log
	echo "${PIPESTATUS[0]}" > exit-code
	sync
else
	echo "vm-init: no command to run"
fi
reboot -f -d 2>/dev/null
