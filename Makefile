# SPDX-License-Identifier: GPL-2.0
# Bench for the TCP_REPAIR series: build Debian's kernel with and without the
# series, boot it under QEMU and run the tcp_repair kselftest suite.
#
#   make          build the patched kernel, run the suite on it
#   make check    static checks, then the suite on the unpatched kernel
#                 (exactly the expected failures) and on the patched one
#                 (everything passes)
#   make bisect   check that the kernel builds after every kernel patch
#   make bench    print benchmark figures (fast-path machine code so far)
#   make clean    remove build outputs (keeps the unpacked trees)
#   make distclean remove the whole build folder

BASE ?= 6.12
export BASE

EXPECTED := expected-failures/$(BASE)-unpatched

.PHONY: all src run check static bisect bench run-base run-patched clean distclean

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

bench: src
	@scripts/kernel-build.sh base
	@scripts/kernel-build.sh patched
	@scripts/bench-fastpath.sh

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

clean:
	rm -rf build/obj build/kselftest build/results

distclean:
	rm -rf build
