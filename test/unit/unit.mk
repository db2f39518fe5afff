# SPDX-License-Identifier: GPL-2.0
# Included by the top Makefile:
# make unit     the option parser's unit tests, in user space (TAP)
# make fuzz     fuzz the option parser for FUZZ_SECONDS (600); FUZZ_MERGE=1
#               merges the new interesting inputs into test/unit/corpus/

unit:
	$(MAKE) --no-print-directory -C test/unit test

fuzz:
	$(MAKE) --no-print-directory -C test/unit fuzz

.PHONY: unit fuzz
