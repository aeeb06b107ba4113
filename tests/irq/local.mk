# tests/irq: a user-space PIT driver checking IRQ sources and I/O ports,
# run in both builds (tests/system/irq-sim.sh, tests/system/irq-qemu.sh).
noinst_PROGRAMS += tests/irq/irqtest
tests_irq_irqtest_SOURCES = tests/irq/irqtest.c
tests_irq_irqtest_CPPFLAGS = $(USER_CPPFLAGS)
tests_irq_irqtest_CFLAGS = $(USER_CFLAGS)
tests_irq_irqtest_LDFLAGS = $(USER_LINKFLAGS)
tests_irq_irqtest_LDADD = $(USER_LIBS)
INITRAMFS_FILES += tests/irq/irqtest

TESTS += tests/system/irq-sim.sh tests/system/irq-qemu.sh
EXTRA_DIST += tests/system/irq-sim.sh tests/system/irq-qemu.sh docs/irq.md

# The IRQ object's state machine on the host (CMocka), with the fake HAL of
# tests/cap and stubs for the rest of the kernel (test-irq.c).
check_PROGRAMS += tests/irq/test-irq
tests_irq_test_irq_SOURCES = tests/irq/test-irq.c tests/cap/cap_hal.c tests/cap/cap_hal.h \
	core/irq.c core/quota.c core/cap.c core/pmm.c core/kheap.c core/klib.c
tests_irq_test_irq_CPPFLAGS = $(HOST_CPPFLAGS)
tests_irq_test_irq_CFLAGS = $(HOST_CFLAGS) $(CMOCKA_CFLAGS) -O1 -g
tests_irq_test_irq_LDADD = $(CMOCKA_LIBS)
TESTS += tests/irq/test-irq
