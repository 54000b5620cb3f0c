#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One closing line for a check run over both kernels: a test "passed" when
# its outcome was the expected one (fail on the unpatched kernel if listed
# in the expected-failures file, pass otherwise).
set -eu
. "$(dirname "$0")/common.sh"

good=0
bad=0
for f in base patched; do
	s=$BUILD/results/$BASE-$f/summary
	if [ -f "$s" ]; then
		read -r g b < "$s"
	else
		g=0 b=1		# the run did not get as far as a result
	fi
	good=$((good + g))
	bad=$((bad + b))
done
echo "check: $good passed, $bad failed"
[ "$bad" -eq 0 ]
