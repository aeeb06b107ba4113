# tests/cap: unit tests of core/cap.c (CMocka) against a minimal fake HAL,
# and the capability fuzzer's smoke run (see tests/cap/README.md).
CAP_TEST_CORE = core/cap.c core/pmm.c core/kheap.c core/klib.c

check_PROGRAMS += tests/cap/test-cap
tests_cap_test_cap_SOURCES = tests/cap/test-cap.c tests/cap/cap_hal.c tests/cap/cap_hal.h \
	$(CAP_TEST_CORE)
tests_cap_test_cap_CPPFLAGS = $(HOST_CPPFLAGS)
tests_cap_test_cap_CFLAGS = $(HOST_CFLAGS) $(CMOCKA_CFLAGS) -O1 -g
tests_cap_test_cap_LDADD = $(CMOCKA_LIBS)

TESTS += tests/cap/test-cap tests/cap/fuzz-smoke-cap.sh
EXTRA_DIST += tests/cap/README.md tests/cap/fuzz-smoke-cap.sh

# captest: capability object types from user space (quotas, process
# rights), in both builds (tests/system/cap-sim.sh, cap-qemu.sh).
noinst_PROGRAMS += tests/cap/captest
tests_cap_captest_SOURCES = tests/cap/captest.c
tests_cap_captest_CPPFLAGS = $(USER_CPPFLAGS)
tests_cap_captest_CFLAGS = $(USER_CFLAGS)
tests_cap_captest_LDFLAGS = $(USER_LINKFLAGS)
tests_cap_captest_LDADD = $(USER_LIBS)
INITRAMFS_FILES += tests/cap/captest

TESTS += tests/system/cap-sim.sh tests/system/cap-qemu.sh
EXTRA_DIST += tests/system/cap-sim.sh tests/system/cap-qemu.sh
