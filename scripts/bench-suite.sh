#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Suite runtime per test program in the guest, from the time-stamped guest
# logs the runs of the suite left (build/results/*/output.log):
# a run_kselftest.sh log gives each program's span from its "# selftests:"
# line to its "ok"/"not ok" line; a log of one program run directly gives
# its first to last line. Runs that did not finish (no exit-code) are left
# out; the newest log wins per program and kernel; a results folder named
# *base* is the unpatched kernel. Prints markdown.
set -eu
. "$(dirname "$0")/common.sh"

# every program of the suite, one per source file
progs=$(cd "$TOP/$SUITE" && ls -- *.c | sed 's/\.c$//')
progs=$(echo $progs)
logs=$(ls -tr "$BUILD"/results/*/output.log 2>/dev/null || true)
[ -n "$logs" ] || die "no guest logs under $BUILD/results: run make or make check first"

for log in $logs; do
	dir=$(dirname "$log")
	[ -f "$dir/exit-code" ] || continue	# unfinished or killed
	case ${dir##*/} in *base*) kernel=unpatched ;; *) kernel=patched ;; esac
	single=$(sed -n 1p "$dir/cmd" 2>/dev/null)
	single=${single##*/}
	awk -v kernel="$kernel" -v single="$single" -v progs="$progs" \
	    -v src="${dir#"$BUILD"/}" -v date="$(date -r "$log" +%F\ %H:%M)" '
	BEGIN { split(progs, p, " "); for (i in p) known[p[i]] = 1 }
	NR == 1 { first = $1 }
	{ last = $1 }
	/^[0-9.]+ # selftests: net\/tcp_repair: / { start[$NF] = $1 }
	/^[0-9.]+ (not )?ok [0-9]+ selftests: net\/tcp_repair: / {
		sub(/ #.*$/, "")
		if ($NF in start)
			printf "%s\t%s\t%.1f\t%s\t%s\n", $NF, kernel, $1 - start[$NF], src, date
		found = 1
	}
	END {
		if (!found && (single in known) && NR > 1)
			printf "%s\t%s\t%.1f\t%s\t%s\n", single, kernel, last - first, src, date
	}' "$log"
done | awk -F'\t' -v progs="$progs" '
{ t[$1, $2] = $3; s[$1, $2] = $4 " (" $5 ")" }
END {
	print "| program | unpatched s | patched s | logs (unpatched; patched) |"
	print "| --- | ---: | ---: | --- |"
	n = split(progs, p, " ")
	for (i = 1; i <= n; i++) {
		b = (p[i], "unpatched") in t ? t[p[i], "unpatched"] : "-"
		q = (p[i], "patched") in t ? t[p[i], "patched"] : "-"
		printf "| %s | %s | %s | %s; %s |\n", p[i], b, q,
			s[p[i], "unpatched"], s[p[i], "patched"]
	}
}'
