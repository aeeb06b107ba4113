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
