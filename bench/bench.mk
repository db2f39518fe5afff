# make bench: what toa costs against the same kernel without it, in a QEMU guest (bench/run.sh,
# as root, about 20 minutes; results in bench/out/ and BENCHMARKS.md). Not part of make check.

TOA_BENCH := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

# Being included must not change which target a bare make builds.
toa_bench_default_goal := $(.DEFAULT_GOAL)

bench:
	$(TOA_BENCH)/run.sh

.PHONY: bench
.DEFAULT_GOAL := $(toa_bench_default_goal)
