# Included by the top-level Makefile (root needed; see test/install/README.md):
#   make check-install    install_toa.sh, a reboot, a TOA client and --uninstall on a booted Debian VM

TOA_INSTALL_TEST := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

check-install:
	$(TOA_INSTALL_TEST)/run.sh

.PHONY: check-install
