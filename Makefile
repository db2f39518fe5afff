# SPDX-License-Identifier: GPL-2.0
# toa's targets (make help prints them). The tests and the benchmark need root; see README.md.
#
#   make, make module             build toa.ko for the running kernel (KDIR=<headers> for another)
#   make clean                    remove what the build made
#   make install                  install toa.ko into kernel/net/netfilter/ipvs/, then depmod
#   make uninstall                remove the toa.ko that make install put there, then depmod
#   make lint                     checkpatch, sparse, W=1 and shellcheck (no VM): any finding fails
#   make unit                     the option parser's unit tests, in user space (TAP)
#   make fuzz                     fuzz the parser for FUZZ_SECONDS (600); FUZZ_MERGE=1 keeps the finds
#   make check [SUITE=bookworm]   build toa.ko and test it on one Debian kernel under QEMU
#   make check-matrix             make check on every supported kernel, then make check-install (CI)
#   make check-install            install_toa.sh, a reboot, a TOA client and --uninstall in a Debian VM
#   make vm-shell [SUITE=...]     a shell in the test VM, for debugging
#   make test-kmod                the tests' own module (test/kmod/), beside toa.ko; never installed
#   make dist                     dist/: source tarball, one-file installer, .deb and .rpm
#   make bench                    what toa costs against the same kernel without it (BENCHMARKS.md)
#   make bench-quick              instruction counts only: before and after a change to the hot path
#   make help                     this list

TOA_MAKEFILE := $(lastword $(MAKEFILE_LIST))
KERNELRELEASE ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build
SUITE ?= bookworm
MATRIX := bookworm bullseye trixie sid bookworm-arm64 debug

all: module

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

help:
	@sed -n 's/^#   make/make/p' $(TOA_MAKEFILE)

lint:
	test/lint.sh

unit:
	$(MAKE) --no-print-directory -C test/unit test

fuzz:
	$(MAKE) --no-print-directory -C test/unit fuzz

check:
	test/check.sh $(SUITE)

check-matrix:
	test/check.sh --install $(MATRIX)

check-install:
	test/install/run.sh

vm-shell:
	kver=$$(test/qemu/kernel.sh $(SUITE) | tail -n1) && test/qemu/run.sh -k "$$kver"

# Built by test/qemu/build.sh with toa.ko, for the tests.
test-kmod:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/test/kmod modules

.PHONY: all module clean help lint unit fuzz check check-matrix check-install vm-shell test-kmod

# The installers build from a copy of the sources alone (scripts/toa-lib.sh: toa_copy_source),
# without scripts/ or bench/; where those are, their fragment must be too.
ifneq ($(wildcard scripts/),)
include scripts/install.mk
include scripts/dist.mk
endif
ifneq ($(wildcard bench/),)
include bench/bench.mk
endif
