# tests/mem: user-space tests of memory objects, demand-zero, copy-on-write,
# shared memory, fault handlers, quotas and reclaim, run in both builds
# (tests/system/mem-sim.sh, tests/system/mem-qemu.sh).
noinst_PROGRAMS += tests/mem/memtest
tests_mem_memtest_SOURCES = tests/mem/memtest.c
tests_mem_memtest_CPPFLAGS = $(USER_CPPFLAGS)
tests_mem_memtest_CFLAGS = $(USER_CFLAGS)
tests_mem_memtest_LDFLAGS = $(USER_LINKFLAGS)
tests_mem_memtest_LDADD = $(USER_LIBS)
INITRAMFS_FILES += tests/mem/memtest

TESTS += tests/system/mem-sim.sh tests/system/mem-qemu.sh
EXTRA_DIST += tests/system/mem-sim.sh tests/system/mem-qemu.sh docs/memory.md

# A 1 GiB object (huge pages) needs more RAM than the default machine:
# veridian-sim with --memory 2304M, QEMU with -m 2304M and two CPU models.
TESTS += tests/mem/mem-huge-sim.sh tests/mem/mem-huge-qemu.sh
EXTRA_DIST += tests/mem/mem-huge-sim.sh tests/mem/mem-huge-qemu.sh
