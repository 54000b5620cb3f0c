#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Suite runtime per test program in the guest, from the time-stamped guest
# logs the runs of the suite left (build/results/*/output.log):
# a run_kselftest.sh log gives each program's span from its "# selftests:"
# line to its "ok"/"not ok" line; a log of one program run directly gives
# its first to last line. Runs that did not finish (no exit-code) are left
# out; the newest log wins per program and kernel. A results folder named
# *debug* is the patched kernel with kconfig/debug.config, one named *base*
# the unpatched kernel, any other the patched one. Then the default run
# (the programs of TEST_GEN_PROGS, what run_kselftest.sh runs), from the
# newest log that has all of them, against the targets. Prints markdown.
set -eu
. "$(dirname "$0")/common.sh"

# The targets, in seconds: the default run in the guest under TCG
TARGET_UNPATCHED=90
TARGET_PATCHED=60
TARGET_DEBUG=600

# the programs: the default ones, then those installed but run directly
defaults=$(sed -n 's/^TEST_GEN_PROGS[[:space:]]*[:+]*=[[:space:]]*//p' "$TOP/$SUITE/Makefile")
defaults=$(echo $defaults)
extra=$(sed -n 's/^TEST_\(GEN_\)\{0,1\}PROGS_EXTENDED[[:space:]]*[:+]*=[[:space:]]*//p' "$TOP/$SUITE/Makefile")
progs=$(echo $defaults $extra)
logs=$(ls -tr "$BUILD"/results/"$BASE"-*/output.log 2>/dev/null || true)
[ -n "$logs" ] || die "no guest logs of $BASE under $BUILD/results: run make or make check first"

for log in $logs; do
	dir=$(dirname "$log")
	[ -f "$dir/exit-code" ] || continue	# unfinished or killed
	case ${dir##*/} in
	*debug*) kernel=debug ;;
	*base*) kernel=unpatched ;;
	*) kernel=patched ;;
	esac
	single=$(sed -n 1p "$dir/cmd" 2>/dev/null)
	single=${single##*/}
	awk -v kernel="$kernel" -v single="$single" -v progs="$progs" \
	    -v defaults="$defaults" \
	    -v src="${dir#"$BUILD"/}" -v date="$(date -r "$log" +%F\ %H:%M)" '
	BEGIN {
		split(progs, p, " "); for (i in p) known[p[i]] = 1
		ndef = split(defaults, d, " ")
	}
	NR == 1 { first = $1 }
	{ last = $1 }
	/^[0-9.]+ # selftests: net\/tcp_repair: / { start[$NF] = $1 }
	/^[0-9.]+ (not )?ok [0-9]+ selftests: net\/tcp_repair: / {
		sub(/ #.*$/, "")
		if ($NF in start) {
			end[$NF] = $1
			printf "%s\t%s\t%.1f\t%s\t%s\n", $NF, kernel, $1 - start[$NF], src, date
		}
		found = 1
	}
	END {
		if (!found && (single in known) && NR > 1)
			printf "%s\t%s\t%.1f\t%s\t%s\n", single, kernel, last - first, src, date
		# the default run: from its first program start to its last end
		for (i = 1; i <= ndef; i++) {
			if (!(d[i] in end))
				exit
			if (i == 1 || start[d[i]] < s0)
				s0 = start[d[i]]
			if (i == 1 || end[d[i]] > e0)
				e0 = end[d[i]]
		}
		printf "%s\t%s\t%.1f\t%s\t%s\n", "(default run)", kernel, e0 - s0, src, date
	}' "$log"
done | awk -F'\t' -v progs="$progs" -v tu=$TARGET_UNPATCHED -v tp=$TARGET_PATCHED \
	-v td=$TARGET_DEBUG '
function cell(prog, k) { return (prog, k) in t ? t[prog, k] : "-" }
function from(prog, k) { return (prog, k) in s ? s[prog, k] : "-" }
{ t[$1, $2] = $3; s[$1, $2] = $4 " (" $5 ")" }
END {
	print "| program | unpatched s | patched s | patched, debug kernel s | logs (unpatched; patched; debug) |"
	print "| --- | ---: | ---: | ---: | --- |"
	n = split(progs, p, " ")
	p[++n] = "(default run)"
	for (i = 1; i <= n; i++)
		printf "| %s | %s | %s | %s | %s; %s; %s |\n", p[i],
			cell(p[i], "unpatched"), cell(p[i], "patched"),
			cell(p[i], "debug"), from(p[i], "unpatched"),
			from(p[i], "patched"), from(p[i], "debug")
	printf "| target for the default run | %d | %d | %d | in the guest, under TCG |\n", tu, tp, td
}'
