# tests/sched: the scheduler. test-policy is a CMocka unit test of
# core/sched_policy.c under simulated time; schedtest is a user program run
# in both builds (tests/system/sched-sim.sh, tests/system/sched-qemu.sh).
check_PROGRAMS += tests/sched/test-policy
tests_sched_test_policy_SOURCES = tests/sched/test-policy.c core/sched_policy.c core/klib.c \
	$(UNIT_COMMON)
tests_sched_test_policy_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_sched_test_policy_CFLAGS = $(UNIT_CFLAGS)
tests_sched_test_policy_LDADD = $(UNIT_LDADD)
TESTS += tests/sched/test-policy

noinst_PROGRAMS += tests/sched/schedtest
tests_sched_schedtest_SOURCES = tests/sched/schedtest.c
tests_sched_schedtest_CPPFLAGS = $(USER_CPPFLAGS)
tests_sched_schedtest_CFLAGS = $(USER_CFLAGS)
tests_sched_schedtest_LDFLAGS = $(USER_LINKFLAGS)
tests_sched_schedtest_LDADD = $(USER_LIBS)
INITRAMFS_FILES += tests/sched/schedtest

TESTS += tests/system/sched-sim.sh tests/system/sched-qemu.sh
EXTRA_DIST += tests/system/sched-sim.sh tests/system/sched-qemu.sh
EXTRA_DIST += docs/scheduling.md

# threadtest: threads, TLS, suspend/resume/kill/join and reclaim of
# processes with threads (tests/system/threads-sim.sh, threads-qemu.sh).
noinst_PROGRAMS += tests/sched/threadtest
tests_sched_threadtest_SOURCES = tests/sched/threadtest.c
tests_sched_threadtest_CPPFLAGS = $(USER_CPPFLAGS)
tests_sched_threadtest_CFLAGS = $(USER_CFLAGS)
tests_sched_threadtest_LDFLAGS = $(USER_LINKFLAGS)
tests_sched_threadtest_LDADD = $(USER_LIBS)
INITRAMFS_FILES += tests/sched/threadtest

TESTS += tests/system/threads-sim.sh tests/system/threads-qemu.sh
EXTRA_DIST += tests/system/threads-sim.sh tests/system/threads-qemu.sh
