#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the results table of a suite run and compare its failures with an
# expected-failures file.
# Usage: results.sh OUTPUT_LOG LABEL [EXPECTED_FAILURES_FILE]
# With SUMMARY=file, write there how many outcomes were as expected and not.
# Exit 0 when the failing tests are exactly the expected ones (none when no
# file is given) and nothing was skipped; 1 otherwise.
set -eu
. "$(dirname "$0")/common.sh"

log=${1:?usage: results.sh OUTPUT_LOG LABEL [EXPECTED_FAILURES]}
label=${2:?missing label}
expected=${3:-}

[ -f "$log" ] || die "no suite output at $log"
rows=$(awk -f "$TOP/scripts/results.awk" "$log")
[ -n "$rows" ] || die "no test result found in $log"

printf '\nResults on the %s kernel:\n' "$label"
printf '%-10s %-46s %-7s %-6s %7s\n' program test variant result seconds
printf '%s\n' "$rows" | while IFS=$'\t' read -r p t v r s why; do
	[ "$why" = - ] && why= || why="  ($why)"
	printf '%-10s %-46s %-7s %-6s %7s%s\n' "$p" "$t" "$v" "$r" "$s" "$why"
done

pass=$(printf '%s\n' "$rows" | awk -F'\t' '$4 == "PASS"' | wc -l)
fail=$(printf '%s\n' "$rows" | awk -F'\t' '$4 == "FAIL"' | wc -l)
skip=$(printf '%s\n' "$rows" | awk -F'\t' '$4 == "SKIP"' | wc -l)

# "program:fixture.variant.test" of every failure, as the expected file has.
got=$(printf '%s\n' "$rows" | awk -F'\t' '$4 == "FAIL" {
	n = split($2, a, "."); t = a[1] "." $3
	for (i = 2; i <= n; i++) t = t "." a[i]
	if ($3 == "-") t = $2
	print $1 ":" t }' | sort -u)
want=
if [ -n "$expected" ]; then
	[ -f "$expected" ] || die "expected-failures file $expected missing"
	want=$(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$expected" | sort -u)
fi

ok=0
unexpected=$(comm -23 <(printf '%s\n' "$got" | sed '/^$/d') <(printf '%s\n' "$want" | sed '/^$/d'))
missing=$(comm -13 <(printf '%s\n' "$got" | sed '/^$/d') <(printf '%s\n' "$want" | sed '/^$/d'))
if [ -n "$unexpected" ]; then
	echo "Unexpected failures on the $label kernel:"
	printf '  %s\n' $unexpected
	ok=1
fi
if [ -n "$missing" ]; then
	echo "Expected to fail on the $label kernel, but did not:"
	printf '  %s\n' $missing
	ok=1
fi
if [ "$skip" -gt 0 ]; then
	echo "Skipped tests on the $label kernel count as a failure of the run."
	ok=1
fi
nwant=$(printf '%s\n' "$want" | sed '/^$/d' | wc -l)
nbad=$(( $(printf '%s\n' "$unexpected" "$missing" | sed '/^$/d' | wc -l) + skip ))
echo "$label kernel: $pass pass, $fail fail ($nwant expected to fail), $skip skip"
# For the caller's summary: tests whose outcome was as expected, and not.
[ -z "${SUMMARY:-}" ] || echo "$((pass + fail + skip - nbad)) $nbad" > "$SUMMARY"
exit $ok
