# SPDX-License-Identifier: GPL-2.0
# make install / make uninstall, for users of the source tree (included by the
# top Makefile). toa.ko goes where the user guide puts it:
#   /lib/modules/<release>/kernel/net/netfilter/ipvs/toa.ko
# KDIR (or KERNELRELEASE) picks the kernel, INSTALL_MOD_PATH a staging root:
#   make install KDIR=/lib/modules/6.1.0-56-amd64/build INSTALL_MOD_PATH=/tmp/root

TOA_INSTALL_DIR := kernel/net/netfilter/ipvs
# The release of the tree in KDIR, which may not be the running kernel's.
TOA_RELEASE = $(or $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null),$(KERNELRELEASE))
TOA_DEPMOD = depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) -a $(TOA_RELEASE)
TOA_MODULE_DIR = $(INSTALL_MOD_PATH)/lib/modules/$(TOA_RELEASE)/$(TOA_INSTALL_DIR)

install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=$(TOA_INSTALL_DIR) \
		$(if $(INSTALL_MOD_PATH),INSTALL_MOD_PATH=$(INSTALL_MOD_PATH)) modules_install
	$(TOA_DEPMOD)

uninstall:
	rm -f $(addprefix $(TOA_MODULE_DIR)/toa.ko,.gz .xz .zst) $(TOA_MODULE_DIR)/toa.ko
	$(TOA_DEPMOD)

.PHONY: install uninstall
