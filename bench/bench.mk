# make bench: what toa costs against the same kernel without it, in QEMU guests (bench/run.sh, as
# root, about 35 minutes; results in bench/out/ and BENCHMARKS.md). make bench-quick: instruction
# counts only, fewer operations (about 6 minutes): before and after a change to the hot path.
# Neither is part of make check.

TOA_BENCH := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

# Being included must not change which target a bare make builds.
toa_bench_default_goal := $(.DEFAULT_GOAL)

bench:
	$(TOA_BENCH)/run.sh

bench-quick:
	$(TOA_BENCH)/run.sh --quick

.PHONY: bench bench-quick
.DEFAULT_GOAL := $(toa_bench_default_goal)
