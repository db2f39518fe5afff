# SPDX-License-Identifier: GPL-2.0
# make dist: the source tarball, the self-contained install_toa.sh, the .deb and
# the .rpm, each with its .sha256, under dist/ (scripts/dist.sh; from HEAD).

dist:
	$(CURDIR)/scripts/dist.sh $(CURDIR)/dist

.PHONY: dist
