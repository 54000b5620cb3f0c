# SPDX-License-Identifier: GPL-2.0
# Bench for the TCP_REPAIR series: build Debian's kernel with and without the
# series, boot it under QEMU and run the tcp_repair kselftest suite.
#
#   make          build the patched kernel, run the suite on it
#   make check    static checks, then the suite on the unpatched kernel
#                 (exactly the expected failures) and on the patched one
#                 (everything passes)
#   make bisect   check that the kernel builds after every kernel patch
#   make bench    benchmark figures (fast path, iperf3 A/B, freeze cost,
#                 migration downtime, suite and build times) in
#                 bench/results.md
#   make check-debug  the suite on the patched kernel built with KASAN,
#                 lockdep, kmemleak, UBSAN...; no test may fail, the kernel
#                 log must have no report
#   make flake    the suite FLAKE_RUNS times on the patched kernel and the
#                 bug reproducers FLAKE_RUNS times on the unpatched one,
#                 FLAKE_JOBS guests at a time (default 1)
#   make clean    remove build outputs (keeps the unpacked trees)
#   make distclean remove the whole build folder

BASE ?= 6.12
export BASE

EXPECTED := expected-failures/$(BASE)-unpatched
FLAKE_RUNS ?= 50

.PHONY: all src run check static bisect bench run-base run-patched clean distclean
.PHONY: check-debug flake

all: run

src:
	@scripts/kernel-src.sh

run: src
	@scripts/suite-run.sh patched

static: src
	@scripts/check-static.sh

bisect: src
	@scripts/kernel-build.sh patched
	@scripts/check-bisect.sh

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

# Run both kernels even when the first one fails, then summarise.
check: static
	@rc=0; \
	scripts/suite-run.sh base $(EXPECTED) || rc=1; \
	scripts/suite-run.sh patched || rc=1; \
	scripts/summary.sh; \
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
	rm -rf build/obj build/kselftest build/results build/flake build/dev

distclean:
	rm -rf build
