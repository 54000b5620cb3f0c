#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Hunt flakes: run the suite RUNS times on one kernel, one guest boot per
# run, and count per test how often the outcome was not the expected one.
#   patched: the whole suite; every test must pass every time.
#   base:    the programs that reproduce the bugs (those named in the
#            expected-failures file); each listed test must fail every time
#            (reproduction is deterministic), every other one pass.
# Usage: flake-loop.sh patched|base RUNS
# Environment: TESTS overrides the programs run.
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

out=$BUILD/flake/$BASE-$flavour
results=$BUILD/results/$BASE-$flavour
rm -rf "$out"
mkdir -p "$out"
bad_runs=0
for i in $(seq 1 "$runs"); do
	step "run $i of $runs on the $flavour kernel${TESTS:+ ($TESTS)}"
	if ! "$TOP/scripts/suite-run.sh" "$flavour" $expected > "$out/run-$i.txt" 2>&1; then
		bad_runs=$((bad_runs + 1))
		step "  run $i: outcome not as expected (see $out/run-$i.txt)"
	fi
	cp "$results/output.log" "$out/run-$i.log" 2>/dev/null || true
done

# Per test: runs in which it failed; a test is flaky unless that is 0 or
# all of them for an expected failure.
want=$([ -z "$expected" ] || sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$expected")
for i in $(seq 1 "$runs"); do
	[ -f "$out/run-$i.log" ] && awk -f "$TOP/scripts/results.awk" "$out/run-$i.log"
done | awk -F'\t' -v runs="$runs" -v want="$want" '
BEGIN { n = split(want, w, "\n"); for (i = 1; i <= n; i++) exp[w[i]] = 1 }
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
		v = (t in exp) ? (f == seen[t] ? "reproduces" : "FLAKY") : \
				 (f == 0 ? "stable" : "FLAKY")
		if (seen[t] < runs) v = v " (missing runs)"
		printf "%-60s %5d %6d  %s\n", t, seen[t], f, v
	}
}' | sort -k1,1 > "$out/table.txt"
printf '%-60s %5s %6s  %s\n' test runs failed verdict
cat "$out/table.txt"
flaky=$(grep -c 'FLAKY\|missing' "$out/table.txt" || true)
echo "flake loop: $BASE $flavour, $runs runs, $bad_runs with an unexpected outcome, $flaky flaky test(s)"
[ "$bad_runs" -eq 0 ] && [ "$flaky" -eq 0 ]
