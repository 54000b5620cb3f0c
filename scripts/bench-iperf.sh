#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# TCP throughput over veth inside the guest, unpatched against patched
# kernel, alternated (A B A B ...): one boot per run, iperf3 from netns a to
# netns b. Under TCG the emulation dominates the figures, so what counts is
# the ratio patched / unpatched within each pair; the host load (1-minute
# average, before each boot) is recorded to judge the noise.
# Prints a markdown section on stdout; the runs go to build/bench/iperf*.tsv.
# Environment: BENCH_PAIRS (default 5), BENCH_IPERF_TIME (seconds, 10),
# BENCH_VARIANT (flavour suffix, default "bench"; empty: the plain kernels).
set -eu
. "$(dirname "$0")/common.sh"

pairs=${BENCH_PAIRS:-5}
secs=${BENCH_IPERF_TIME:-10}
variant=${BENCH_VARIANT-bench}
tsv=$BUILD/bench/iperf${BENCH_VARIANT-bench}.tsv

need iperf3 iperf3
need ip iproute2
mkdir -p "$BUILD/bench"
cmd=$(mktemp)
trap 'rm -f "$cmd"' EXIT
cat > "$cmd" <<EOT
set -e
'$TOP/scripts/bench-netns.sh'
ip netns exec b iperf3 -s -1 -B 198.51.100.2 >/dev/null 2>&1 &
for i in \$(seq 50); do
	ip netns exec b ss -Hltn 'sport = 5201' | grep -q . && break
	sleep 0.1
done
ip netns exec a iperf3 -c 198.51.100.2 -t $secs -O 1 -f m
EOT

printf 'pair\tkernel\tMbit/s\thost_load\n' > "$tsv"
for i in $(seq "$pairs"); do
	for k in base patched; do
		load=$(cut -d' ' -f1 /proc/loadavg)
		step "iperf3 pair $i/$pairs, $k kernel (host load $load)"
		mbit=$("$TOP/scripts/bench-vm.sh" "$k${variant:+-$variant}" "iperf-$k-$i" "$cmd" |
			awk '/receiver$/ { for (f = 1; f < NF; f++)
				if ($(f + 1) == "Mbits/sec") print $f }')
		[ -n "$mbit" ] || die "no iperf3 result in $BUILD/bench/vm/iperf-$k-$i/output.log"
		step "  $mbit Mbit/s"
		printf '%s\t%s\t%s\t%s\n' "$i" "$k" "$mbit" "$load" >> "$tsv"
	done
done

awk -F'\t' -v secs="$secs" -v variant="${variant:+-$variant}" '
NR == 1 { next }
{ mb[$1, $2] = $3; load[$1, $2] = $4; if ($1 > n) n = $1 }
END {
	print "iperf3 over veth in the guest (kernels: base" variant ", patched" variant "), " secs " s per run (first second omitted), one boot per run, unpatched and patched alternated; host load: 1-minute average before each boot."
	print ""
	print "| pair | unpatched Mbit/s | host load | patched Mbit/s | host load | patched / unpatched |"
	print "| ---: | ---: | ---: | ---: | ---: | ---: |"
	for (i = 1; i <= n; i++) {
		r[i] = mb[i, "patched"] / mb[i, "base"]
		printf "| %d | %s | %s | %s | %s | %.3f |\n", i, mb[i, "base"],
			load[i, "base"], mb[i, "patched"], load[i, "patched"], r[i]
	}
	# insertion sort of the ratios
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && r[j - 1] > r[j]; j--) {
			t = r[j]; r[j] = r[j - 1]; r[j - 1] = t
		}
	med = (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
	print ""
	printf "Ratio patched / unpatched over %d pairs: min %.3f, median %.3f, max %.3f.\n", n, r[1], med, r[n]
}' "$tsv"
