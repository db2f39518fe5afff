# SPDX-License-Identifier: GPL-2.0
# make              build toa.ko for the running kernel (or KDIR=<headers>)
# make check        build, boot a Debian kernel under qemu, run the tests
# make lint         checkpatch, sparse, W=1 and shellcheck; any finding fails
# make install      install toa.ko for the running kernel, with depmod
# make dist         dist/: source tarball, one-file installer, .deb and .rpm

KERNELRELEASE ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build

all: module

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

.PHONY: all module clean

-include test/check.mk
-include scripts/install.mk
-include scripts/dist.mk
-include test/unit/unit.mk
-include bench/bench.mk
-include test/install/install.mk
