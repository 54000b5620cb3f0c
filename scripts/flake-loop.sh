#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bench's one loop: run the suite (or some programs) on one kernel, one
# guest boot per run, and count per test how often the outcome was not the
# expected one, with the reasons the tests give (stall, reset...).
#   patched: every test must pass every time.
#   base:    by default the programs that reproduce the bugs (those named in
#            the expected-failures file); each listed test must fail every
#            time (reproduction is deterministic), every other one pass.
#   host:    this machine's kernel, no guest (needs root); every test must
#            pass unless EXPECTED names a file.
# Runs accumulate: each run leaves its folder in build/flake/<set>/run-N
# (KTAP log, meta: kernel version, this repository's commit, suite digest,
# date), and a later call continues the count, up to RUNS in all; the table
# counts every accumulated run, with the commits they ran on. FLAKE_RESET=1
# starts the count again (the old runs go to <set>.old-<date>).
# Usage: flake-loop.sh patched|base|host RUNS
# Environment: TESTS the programs (default: all on patched and host, the
# reproducers on base); PROG_ARGS harness options, the programs then run
# directly ("-v ipv4"); FLAKE_JOBS=N boots N guests at a time (default 1;
# with VM_CPUS=1, two guests share 2 host cores).
set -eu
. "$(dirname "$0")/common.sh"

flavour=${1:?usage: flake-loop.sh patched|base|host RUNS}
runs=${2:?missing number of runs}
case $runs in ''|*[!0-9]*) die "RUNS must be a number" ;; esac
expected=${EXPECTED:-}
case $flavour in
patched|host) ;;
base) expected=${expected:-$TOP/expected-failures/$BASE-unpatched} ;;
*) die "flake-loop.sh runs on patched, base or host, not '$flavour'" ;;
esac
if [ -z "${TESTS:-}" ] && [ "$flavour" = base ]; then
	TESTS=$(sed -n 's/^\([a-z_0-9]*\):.*/\1/p' "$expected" | sort -u | tr '\n' ' ')
fi
TESTS=$(echo ${TESTS:-})
jobs=${FLAKE_JOBS:-1}
case $jobs in ''|*[!0-9]*|0) die "FLAKE_JOBS must be a positive number" ;; esac

# One accumulation per kernel and selection of programs
set_name=$BASE-$flavour
[ -z "$TESTS" ] || set_name=$set_name-$(echo "$TESTS" | tr ' ' '+')
[ -z "${PROG_ARGS:-}" ] || set_name=$set_name-args$(echo "$PROG_ARGS" | sha256sum | cut -c1-8)
out=$BUILD/flake/$set_name
if [ "${FLAKE_RESET:-0}" = 1 ] && [ -d "$out" ]; then
	mv "$out" "$out.old-$(date +%Y%m%d-%H%M%S)"
fi
mkdir -p "$out"

inst=$(suite_inst)
if [ "$flavour" = host ]; then
	need ip iproute2
	[ "$(id -u)" = 0 ] || die "the host loop needs root"
	"$TOP/scripts/suite-build.sh"
else
	"$TOP/scripts/kernel-build.sh" "$flavour"
	"$TOP/scripts/suite-build.sh"
fi
done_runs=$(find "$out" -maxdepth 2 -name meta -path '*/run-*/meta' | wc -l)
last=$(find "$out" -maxdepth 1 -regex '.*/run-[0-9]+' -printf '%f\n' | sed 's/^run-//' | sort -n | tail -n 1)
last=${last:-0}
todo=$((runs - done_runs))
[ "$todo" -gt 0 ] || todo=0
step "$set_name: $done_runs runs accumulated, $todo to go for $runs"

cmd=$(mktemp)
trap 'rm -f "$cmd"' EXIT
suite_cmd "$inst" $TESTS > "$cmd"

# One run into $1 (a run-N folder).
one_run()
{
	local dir=$1 results start rc=0

	start=$(date +%s)
	if [ "$flavour" = host ]; then
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		RESULTS=$dir.tmp bash "$cmd" 2>&1 | while IFS= read -r l; do
			printf '%s %s\n' "$EPOCHREALTIME" "$l"
		done > "$dir.tmp/output.log"
		results=$dir.tmp
	else
		results=$dir.tmp
		"$TOP/scripts/vm-run.sh" "$(flavour_obj "$flavour")/arch/x86/boot/bzImage" \
			"$results" "$cmd" > "$results.console" 2>&1 || rc=$?
		mv "$results.console" "$results/vm-run.log" 2>/dev/null || true
	fi
	{
		echo "kernel $([ "$flavour" = host ] && uname -r || kernel_version)"
		echo "repo $(repo_commit)"
		echo "suite $(cut -c1-12 "$inst/.digest")"
		echo "date $(date -u '+%F %H:%M')"
		echo "seconds $(( $(date +%s) - start ))"
		echo "vm-exit $rc"
	} > "$results/meta"
	rm -rf "$dir"
	mv "$results" "$dir"
}

# Worker $1 does runs last+$1, last+$1+jobs, ... up to last+todo.
worker()
{
	local i

	for i in $(seq $((last + $1)) "$jobs" $((last + todo))); do
		step "run $i (of $runs) on the $flavour kernel${TESTS:+ ($TESTS)}"
		one_run "$out/run-$i"
	done
}

if [ "$todo" -gt 0 ]; then
	# Each worker in its own process group, so that an interrupted loop
	# stops the guests too. A run that did not finish leaves no meta and
	# is done again by the next call.
	set -m
	pids=
	for w in $(seq 1 "$jobs"); do
		worker "$w" &
		pids="$pids $!"
	done
	set +m
	trap 'for p in $pids; do kill -- -"$p" 2>/dev/null; done; rm -f "$cmd"' EXIT
	trap 'exit 130' INT TERM
	for p in $pids; do
		wait "$p" || true
	done
	trap 'rm -f "$cmd"' EXIT
fi

# Per test: runs, failures, reasons, commits; a test is flaky unless it
# failed in none of its runs, or in all of them for an expected failure. A
# run whose guest died shows as "missing runs" for the tests it lacks.
want=$([ -z "$expected" ] || sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$expected")
total=$(find "$out" -maxdepth 2 -path '*/run-*/meta' | wc -l)
for m in "$out"/run-*/meta; do
	[ -f "$m" ] || continue
	d=${m%/meta}
	c=$(sed -n 's/^repo //p' "$m")
	[ -f "$d/output.log" ] || continue
	awk -f "$TOP/scripts/results.awk" "$d/output.log" | sed "s/\$/\t$c/"
done | awk -F'\t' -v runs="$total" -v want="$want" '
BEGIN { n = split(want, w, "\n"); for (i = 1; i <= n; i++) listed[w[i]] = 1 }
{
	n = split($2, a, "."); t = a[1] "." $3
	for (i = 2; i <= n; i++) t = t "." a[i]
	if ($3 == "-") t = $2
	t = $1 ":" t
	seen[t]++
	on[t, $7]++
	if (!((t, $7) in oseen)) { oseen[t, $7] = 1; commits[t] = commits[t] " " $7 }
	if ($4 != "PASS") {
		failed[t]++
		if ($6 != "-") why[t, $6]++
		if (!((t, $6) in wseen) && $6 != "-") { wseen[t, $6] = 1; whys[t] = whys[t] " " $6 }
	}
}
END {
	for (t in seen) {
		f = failed[t] + 0
		v = (t in listed) ? (f == seen[t] ? "reproduces" : "FLAKY") : \
				 (f == 0 ? "stable" : "FLAKY")
		if (seen[t] < runs) v = v " (missing runs)"
		r = ""
		m = split(whys[t], ws, " ")
		for (i = 1; i <= m; i++) r = r (r == "" ? "" : ", ") ws[i] " x" why[t, ws[i]]
		c = ""
		m = split(commits[t], cs, " ")
		for (i = 1; i <= m; i++) c = c (c == "" ? "" : ",") cs[i] ":" on[t, cs[i]]
		printf "%-58s %5d %6d  %-12s %s%s\n", t, seen[t], f, v, c, (r == "" ? "" : "  (" r ")")
	}
}' | sort -k1,1 > "$out/table.txt"
printf '%-58s %5s %6s  %-12s %s\n' test runs failed verdict 'commit:runs'
cat "$out/table.txt"
[ -s "$out/table.txt" ] || die "no test result in any run (logs: $out)"
flaky=$(grep -c 'FLAKY\|missing' "$out/table.txt" || true)
commits=$(sed -n 's/^repo //p' "$out"/run-*/meta | sort | uniq -c | awk '{ printf "%s%s (%d)", s, $2, $1; s = ", " }')
kernels=$(sed -n 's/^kernel //p' "$out"/run-*/meta | sort -u | tr '\n' ' ')
echo "flake loop: $set_name, $total runs accumulated (kernel ${kernels% }; commits $commits), $flaky flaky test(s); folder $out"
[ "$total" -ge "$runs" ] || step "only $total of $runs runs: run again to continue the count"
[ "$flaky" -eq 0 ]
