#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Hunt flakes: run the suite RUNS times on one kernel, one guest boot per
# run, and count per test how often the outcome was not the expected one.
#   patched: the whole suite; every test must pass every time.
#   base:    the programs that reproduce the bugs (those named in the
#            expected-failures file); each listed test must fail every time
#            (reproduction is deterministic), every other one pass.
# Usage: flake-loop.sh patched|base RUNS
# Environment: TESTS overrides the programs run; FLAKE_JOBS=N boots N guests
# at a time (default 1; with VM_CPUS=1, two guests share 2 host cores).
set -eu
. "$(dirname "$0")/common.sh"

flavour=${1:?usage: flake-loop.sh patched|base RUNS}
runs=${2:?missing number of runs}
expected=
case $flavour in
patched) ;;
base) expected=$TOP/expected-failures/$BASE-unpatched ;;
*) die "flake-loop.sh runs on patched or base, not '$flavour'" ;;
esac
if [ -z "${TESTS:-}" ] && [ -n "$expected" ]; then
	TESTS=$(sed -n 's/^\([a-z_]*\):.*/\1/p' "$expected" | sort -u | tr '\n' ' ')
fi
export TESTS

jobs=${FLAKE_JOBS:-1}
case $jobs in ''|*[!0-9]*|0) die "FLAKE_JOBS must be a positive number" ;; esac
out=$BUILD/flake/$BASE-$flavour
rm -rf "$out"
mkdir -p "$out"
"$TOP/scripts/kernel-build.sh" "$flavour"
"$TOP/scripts/suite-build.sh" "$flavour"

# Worker $1 does runs $1, $1 + jobs, ... in its own results folder.
worker()
{
	local i results=$BUILD/results/$BASE-$flavour-flake$1

	for i in $(seq "$1" "$jobs" "$runs"); do
		step "run $i of $runs on the $flavour kernel${TESTS:+ ($TESTS)}"
		if ! SUITE_RESULTS=$results NO_BUILD=1 \
		     "$TOP/scripts/suite-run.sh" "$flavour" $expected \
		     > "$out/run-$i.txt" 2>&1; then
			touch "$out/run-$i.bad"
			step "  run $i: outcome not as expected (see $out/run-$i.txt)"
		fi
		cp "$results/output.log" "$out/run-$i.log" 2>/dev/null || true
	done
}

# Each worker in its own process group, so that an interrupted loop stops
# the guests too.
set -m
pids=
for w in $(seq 1 "$jobs"); do
	worker "$w" &
	pids="$pids $!"
done
set +m
trap 'for p in $pids; do kill -- -"$p" 2>/dev/null; done' EXIT
trap 'exit 130' INT TERM
for p in $pids; do
	wait "$p" || true
done
trap - EXIT
bad_runs=$(find "$out" -name 'run-*.bad' | wc -l)

# Per test: runs in which it failed; a test is flaky unless that is 0 or
# all of them for an expected failure.
want=$([ -z "$expected" ] || sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$expected")
for i in $(seq 1 "$runs"); do
	[ -f "$out/run-$i.log" ] && awk -f "$TOP/scripts/results.awk" "$out/run-$i.log"
done | awk -F'\t' -v runs="$runs" -v want="$want" '
BEGIN { n = split(want, w, "\n"); for (i = 1; i <= n; i++) listed[w[i]] = 1 }
{
	n = split($2, a, "."); t = a[1] "." $3
	for (i = 2; i <= n; i++) t = t "." a[i]
	if ($3 == "-") t = $2
	t = $1 ":" t
	seen[t]++
	if ($4 != "PASS") failed[t]++
}
END {
	for (t in seen) {
		f = failed[t] + 0
		v = (t in listed) ? (f == seen[t] ? "reproduces" : "FLAKY") : \
				 (f == 0 ? "stable" : "FLAKY")
		if (seen[t] < runs) v = v " (missing runs)"
		printf "%-60s %5d %6d  %s\n", t, seen[t], f, v
	}
}' | sort -k1,1 > "$out/table.txt"
printf '%-60s %5s %6s  %s\n' test runs failed verdict
cat "$out/table.txt"
flaky=$(grep -c 'FLAKY\|missing' "$out/table.txt" || true)
[ -s "$out/table.txt" ] || die "no test result in any run (logs: $out)"
echo "flake loop: $BASE $flavour, $runs runs, $bad_runs with an unexpected outcome, $flaky flaky test(s)"
[ "$bad_runs" -eq 0 ] && [ "$flaky" -eq 0 ]
