# SPDX-License-Identifier: GPL-2.0
# Turn the time-stamped KTAP output of run_kselftest.sh (one line each,
# "<epoch seconds> <KTAP line>", as written by vm-init.sh) into result rows:
#   <program> <TAB> <fixture.test> <TAB> <variant> <TAB> PASS|FAIL|SKIP <TAB> <s>
#   <TAB> <reason>
# A program that fails without a failing test of its own (timeout, crash)
# gets a row with test "(program)"; a test that started but never reported
# gets a FAIL row. The reason of a failure is what its last "FAIL: REASON:"
# line says (the migration tests name stall, reset, byte mismatch...), "-"
# without one. The one parser of KTAP output of the bench: results.sh,
# flake-loop.sh and bench-suite.sh read these rows.

function flush_started(   t) {
	for (t in started) {
		row(prog, t, "FAIL", last - started[t])
		delete started[t]
	}
}

function row(p, name, res, secs,   n, parts, test, variant, why) {
	n = split(name, parts, ".")
	if (n >= 3) {
		variant = parts[2]
		test = parts[1] "." parts[3]
		for (i = 4; i <= n; i++)
			test = test "." parts[i]
	} else {
		variant = "-"
		test = name
	}
	why = (res == "FAIL" && (name in reason)) ? reason[name] : "-"
	delete reason[name]
	printf "%s\t%s\t%s\t%s\t%.1f\t%s\n", p, test, variant, res, secs, why
	if (res == "FAIL")
		failed[p] = 1
}

{
	ts = $1 + 0
	last = ts
	line = substr($0, index($0, " ") + 1)
}

line ~ /^# selftests: net\/tcp_repair: / {
	prog = line
	sub(/^# selftests: net\/tcp_repair: /, "", prog)
	delete started
	next
}

line ~ /^# # +RUN +/ {
	name = line
	sub(/^# # +RUN +/, "", name)
	sub(/ \.\.\.$/, "", name)
	started[name] = ts
	current = name
	next
}

line ~ /FAIL: [^:]+: / && current != "" {
	why = line
	sub(/.*FAIL: /, "", why)
	sub(/: .*/, "", why)
	reason[current] = why
}

line ~ /^# (not )?ok [0-9]+ / {
	res = (line ~ /^# not ok/) ? "FAIL" : "PASS"
	if (line ~ /# SKIP/)
		res = "SKIP"
	name = line
	sub(/^# (not )?ok [0-9]+ /, "", name)
	sub(/ # .*$/, "", name)
	secs = (name in started) ? ts - started[name] : 0
	delete started[name]
	row(prog, name, res, secs)
	next
}

line ~ /^(not )?ok [0-9]+ selftests: net\/tcp_repair: / {
	p = line
	sub(/^(not )?ok [0-9]+ selftests: net\/tcp_repair: /, "", p)
	why = ""
	if (p ~ / # /) {
		why = p
		sub(/^[^#]*# /, "", why)
		sub(/ # .*$/, "", p)
	}
	flush_started()
	if (line ~ /^not ok/ && !(p in failed))
		row(p, "(program: " (why == "" ? "failed" : why) ")", "FAIL", 0)
	prog = ""
	next
}

END {
	flush_started()
}
