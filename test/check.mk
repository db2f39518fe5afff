# Test targets, included by the top-level Makefile (see README.md, Testing; all need root):
#   make check [SUITE=bookworm]    build and test toa.ko on one Debian kernel under QEMU
#   make check-matrix              the same on every supported kernel, then the installer
#                                  on a booted Debian (make check-install); what CI runs
#   make vm-shell [SUITE=bookworm] a shell in the test VM, for debugging
#   make lint                      checkpatch, sparse, W=1 and shellcheck (no VM): any finding fails

TOA_TEST := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
SUITE ?= bookworm
MATRIX := bookworm bookworm-backports bullseye trixie sid

# Being included must not change which target a bare make builds.
toa_default_goal := $(.DEFAULT_GOAL)

check:
	$(TOA_TEST)/check.sh $(SUITE)

check-matrix:
	$(TOA_TEST)/check.sh --install $(MATRIX)

# The tests' own kernel module (test/kmod/toa_test_kmod.c), built beside toa.ko by
# test/qemu/build.sh; never installed.
test-kmod:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(TOA_TEST)/kmod modules

vm-shell:
	kver=$$($(TOA_TEST)/qemu/kernel.sh $(SUITE) | tail -n1) && \
		$(TOA_TEST)/qemu/run.sh -k "$$kver"

lint:
	$(TOA_TEST)/lint.sh

.PHONY: check check-matrix test-kmod vm-shell lint
.DEFAULT_GOAL := $(toa_default_goal)
