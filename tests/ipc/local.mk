# tests/ipc: user-space tests of capabilities and IPC across processes,
# run in both builds (tests/system/ipc-sim.sh, tests/system/ipc-qemu.sh).
noinst_PROGRAMS += tests/ipc/ipctest tests/ipc/ipcsrv
tests_ipc_ipctest_SOURCES = tests/ipc/ipctest.c tests/ipc/ipcproto.h
tests_ipc_ipctest_CPPFLAGS = $(USER_CPPFLAGS)
tests_ipc_ipctest_CFLAGS = $(USER_CFLAGS)
tests_ipc_ipctest_LDFLAGS = $(USER_LINKFLAGS)
tests_ipc_ipctest_LDADD = $(USER_LIBS)
tests_ipc_ipcsrv_SOURCES = tests/ipc/ipcsrv.c tests/ipc/ipcproto.h
tests_ipc_ipcsrv_CPPFLAGS = $(USER_CPPFLAGS)
tests_ipc_ipcsrv_CFLAGS = $(USER_CFLAGS)
tests_ipc_ipcsrv_LDFLAGS = $(USER_LINKFLAGS)
tests_ipc_ipcsrv_LDADD = $(USER_LIBS)
noinst_PROGRAMS += tests/ipc/reclaimtest
tests_ipc_reclaimtest_SOURCES = tests/ipc/reclaimtest.c tests/ipc/ipcproto.h
tests_ipc_reclaimtest_CPPFLAGS = $(USER_CPPFLAGS)
tests_ipc_reclaimtest_CFLAGS = $(USER_CFLAGS)
tests_ipc_reclaimtest_LDFLAGS = $(USER_LINKFLAGS)
tests_ipc_reclaimtest_LDADD = $(USER_LIBS)
INITRAMFS_FILES += tests/ipc/ipctest tests/ipc/ipcsrv tests/ipc/reclaimtest

TESTS += tests/system/ipc-sim.sh tests/system/ipc-qemu.sh
EXTRA_DIST += tests/system/ipc-sim.sh tests/system/ipc-qemu.sh tests/lib/ucheck.h

# The channel ring's logic, on the host (two threads, semaphores standing
# in for notifications).
check_PROGRAMS += tests/ipc/test-ring
tests_ipc_test_ring_SOURCES = tests/ipc/test-ring.c services/runtime/ring.c services/runtime/ring.h
tests_ipc_test_ring_CPPFLAGS = $(HOST_CPPFLAGS)
tests_ipc_test_ring_CFLAGS = $(HOST_CFLAGS) $(CMOCKA_CFLAGS) -pthread
tests_ipc_test_ring_LDADD = $(CMOCKA_LIBS) -lpthread
TESTS += tests/ipc/test-ring

noinst_PROGRAMS += tests/ipc/chantest
tests_ipc_chantest_SOURCES = tests/ipc/chantest.c
tests_ipc_chantest_CPPFLAGS = $(USER_CPPFLAGS)
tests_ipc_chantest_CFLAGS = $(USER_CFLAGS)
tests_ipc_chantest_LDFLAGS = $(USER_LINKFLAGS)
tests_ipc_chantest_LDADD = $(USER_LIBS)
INITRAMFS_FILES += tests/ipc/chantest

# core/ipc.c through the syscalls, on the real kernel (all of core/) over
# the IPC fuzzer's fake HAL (fuzz/ipc/ipc_hal.c, ipc_check.c: used as is):
# scripted scenarios of two or three processes (CMocka). Built without
# $(SAN_CFLAGS): ipc_hal.c announces its stack switches to ASan only under
# clang (__has_feature), and GCC's ASan reports them as stack underflows.
check_PROGRAMS += tests/ipc/test-ipc
tests_ipc_test_ipc_SOURCES = tests/ipc/test-ipc.c fuzz/ipc/ipc_hal.c fuzz/ipc/ipc_hal.h \
	fuzz/ipc/ipc_check.c fuzz/ipc/ipc_fuzz.h $(CORE_SOURCES)
tests_ipc_test_ipc_CPPFLAGS = $(HOST_CPPFLAGS)
tests_ipc_test_ipc_CFLAGS = -std=gnu11 $(WARN_CFLAGS) $(CMOCKA_CFLAGS) -O1 -g -fno-omit-frame-pointer
tests_ipc_test_ipc_LDADD = $(CMOCKA_LIBS)
TESTS += tests/ipc/test-ipc
