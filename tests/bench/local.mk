# tests/bench: `make bench` (benchmarks are not tests: figures go to
# docs/perf.md, with the command that produced them).
noinst_PROGRAMS += tests/bench/vbench
tests_bench_vbench_SOURCES = tests/bench/vbench.c tests/ipc/ipcproto.h
tests_bench_vbench_CPPFLAGS = $(USER_CPPFLAGS)
tests_bench_vbench_CFLAGS = $(USER_CFLAGS)
tests_bench_vbench_LDFLAGS = $(USER_LINKFLAGS)
tests_bench_vbench_LDADD = $(USER_LIBS)
INITRAMFS_FILES += tests/bench/vbench

noinst_PROGRAMS += tests/bench/linux-bench
tests_bench_linux_bench_SOURCES = tests/bench/linux-bench.c
tests_bench_linux_bench_CFLAGS = $(HOST_CFLAGS) -O2 -pthread
tests_bench_linux_bench_LDFLAGS = -pthread

EXTRA_DIST += tests/bench/run-bench.sh tests/bench/README.md

.PHONY: bench
bench: all
	top_srcdir='$(top_srcdir)' top_builddir='$(top_builddir)' QEMU='$(QEMU)' \
		$(SHELL) $(top_srcdir)/tests/bench/run-bench.sh
