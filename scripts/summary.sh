#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One closing line for check runs: a test "passed" when its outcome was the
# expected one (fail on the unpatched kernel if listed in the
# expected-failures file, pass otherwise); the static checks and the
# virtme-ng run count as one more each.
# Usage: summary.sh [BASE[:FLAVOURS]...]   (default: $BASE, flavours
# $FLAVOURS or "base patched"; FLAVOURS in an argument are comma-separated)
set -eu
. "$(dirname "$0")/common.sh"

good=0
bad=0
for b in "${@:-$BASE}"; do
	base=${b%%:*}
	fl=${FLAVOURS:-base patched}
	case $b in *:*) fl=$(echo "${b#*:}" | tr , ' ') ;; esac
	files="$BUILD/results/$base-static.summary"
	for f in $fl; do
		files="$files $BUILD/results/$base-$f/summary"
	done
	case " $fl " in *" patched "*) files="$files $BUILD/results/$base-vng.summary" ;; esac
	for s in $files; do
		if [ -f "$s" ]; then
			read -r g n < "$s"
		else
			g=0 n=1		# the run did not get as far as a result
		fi
		good=$((good + g))
		bad=$((bad + n))
	done
done
echo "check: $good passed, $bad failed"
[ "$bad" -eq 0 ]
