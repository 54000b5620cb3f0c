# SPDX-License-Identifier: GPL-2.0
# Bench for the TCP_REPAIR series: build Debian's kernel with and without the
# series, boot it under QEMU and run the tcp_repair kselftest suite.
#
#   make          build the patched kernel, run the suite on it
#   make check    static checks, then the suite on the unpatched kernel
#                 (exactly the expected failures) and on the patched one
#                 (everything passes), criu_migrate.sh on both (must
#                 pass; not on mainline, which criu 3.17 refuses), and one
#                 program through virtme-ng
#   make check-all  make check for 6.12 and mainline (CI_BASES), one
#                 closing line: the test command of CI
#   make bisect   every prefix of the series: the kernel builds after each
#                 kernel patch, the suite after each selftests patch, and
#                 the programs each one adds pass
#   make bench    benchmark figures (fast path, iperf3 A/B, freeze cost,
#                 migration downtime, suite and build times) in
#                 bench/results.md
#   make check-debug  the suite on the patched kernel built with KASAN,
#                 lockdep, kmemleak, UBSAN...; no test may fail, the kernel
#                 log must have no report
#   make flake    the suite on the patched kernel and the bug reproducers on
#                 the unpatched one until FLAKE_RUNS runs have accumulated
#                 (build/flake; a later call continues the count)
#   make edit     the worktree where the kernel patches are edited
#                 (then scripts/series-export.sh)
#   make clean    remove build outputs (keeps the unpacked trees and the
#                 accumulated flake runs)
#   make distclean remove the whole build folder
#
# BASE=6.12 (default), 6.1 or mainline selects the kernel the series is for.

BASE ?= 6.12
export BASE

EXPECTED := expected-failures/$(BASE)-unpatched
FLAKE_RUNS ?= 50

.PHONY: all src run check static bisect bench run-base run-patched clean distclean
.PHONY: check-debug flake edit check-all

all: run

src:
	@scripts/kernel-src.sh

run: src
	@scripts/suite-run.sh patched

static: src
	@scripts/check-static.sh

bisect: src
	@scripts/check-bisect.sh

edit:
	@scripts/series-edit.sh

# Each job leaves a markdown section in build/bench; the writer assembles
# them into bench/results.md and prints it. BENCH_BUILD=0 skips the two
# timed kernel builds.
bench: src
	@mkdir -p build/bench && date +%s > build/bench/start
	@scripts/kernel-build.sh base-bench
	@scripts/kernel-build.sh patched-bench
	@$(MAKE) -s -C bench
	@scripts/bench-fastpath.sh bench > build/bench/fastpath.md
	@scripts/bench-iperf.sh > build/bench/iperf.md
	@scripts/bench-freeze.sh > build/bench/freeze.md
	@scripts/bench-migrate.sh > build/bench/migrate.md
	@scripts/bench-suite.sh > build/bench/suite.md
	@scripts/bench-build.sh > build/bench/build.md
	@scripts/bench-report.sh

run-base: src
	@scripts/suite-run.sh base $(EXPECTED)

run-patched: src
	@scripts/suite-run.sh patched

# The static checks, then both kernels (one tree, switched between them),
# then the suite on each, followed in the same guest by CHECK_EXTRA (criu
# dumping and restoring real processes: it must pass on both kernels), and
# one program through virtme-ng; every step runs even when an earlier one
# fails, then the summary counts them (the static checks as one).
# FLAVOURS=patched leaves the unpatched kernel out. Debian 12's criu 3.17
# refuses kernels from 6.13 on (`criu check`: vDSO layout), so mainline
# runs no criu; where it is run, a skip fails the check like any other.
FLAVOURS ?= base patched
ifeq ($(BASE),mainline)
CHECK_EXTRA ?=
else
CHECK_EXTRA ?= criu_migrate.sh
endif
check: src
	@mkdir -p build/results
	@rm -f build/results/$(BASE)-*.summary build/results/$(BASE)-base/summary \
		build/results/$(BASE)-patched/summary
	@rc=0; \
	if scripts/check-static.sh; then echo "1 0" > build/results/$(BASE)-static.summary; \
	else echo "0 1" > build/results/$(BASE)-static.summary; rc=1; fi; \
	for f in $(FLAVOURS); do scripts/kernel-build.sh $$f || rc=1; done; \
	for f in $(FLAVOURS); do \
		if [ $$f = base ]; then exp=$(EXPECTED); else exp=; fi; \
		EXTRA_TESTS="$(CHECK_EXTRA)" DIRECT_TIMEOUT=900 \
			scripts/suite-run.sh $$f $$exp || rc=1; \
	done; \
	case " $(FLAVOURS) " in *" patched "*) scripts/check-vng.sh || rc=1 ;; esac; \
	FLAVOURS="$(FLAVOURS)" scripts/summary.sh || rc=1; \
	exit $$rc

# The test command of CI (.ci/run): make check for each base of CI_BASES,
# whatever the previous one gave, then one closing line for all of them.
# An entry BASE:FLAVOURS runs only those flavours ("6.12:patched").
CI_BASES ?= 6.12 mainline
check-all:
	@rc=0; start=$$(date +%s); \
	for b in $(CI_BASES); do \
		base=$${b%%:*}; fl="base patched"; \
		case $$b in *:*) fl=$$(echo "$${b#*:}" | tr , ' ') ;; esac; \
		t=$$(date +%s); \
		$(MAKE) --no-print-directory check BASE=$$base FLAVOURS="$$fl" || rc=1; \
		echo "==> make check BASE=$$base FLAVOURS=\"$$fl\": $$(( $$(date +%s) - t )) s"; \
	done; \
	echo "==> check-all: $$(( $$(date +%s) - start )) s"; \
	scripts/summary.sh $(CI_BASES) || rc=1; \
	exit $$rc

check-debug: src
	@scripts/check-debug.sh

# Both loops run even when the first one finds flakes.
flake: src
	@rc=0; \
	scripts/flake-loop.sh patched $(FLAKE_RUNS) || rc=1; \
	scripts/flake-loop.sh base $(FLAKE_RUNS) || rc=1; \
	exit $$rc

clean:
	rm -rf build/obj build/suite build/results build/bisect build/docs-*

distclean:
	rm -rf build
