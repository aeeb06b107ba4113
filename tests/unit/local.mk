# tests/unit: CMocka unit tests of core/, one program per subsystem. Each
# compiles the core sources it tests with the host compiler against the fake
# HAL (fake_hal.c); some #include their core file to reach its internals.
# valgrind.sh runs every program again under Valgrind memcheck.

UNIT_CPPFLAGS = $(HOST_CPPFLAGS) $(CMOCKA_CFLAGS)
UNIT_CFLAGS = $(HOST_CFLAGS) -g -O1
UNIT_LDADD = $(CMOCKA_LIBS)
UNIT_COMMON = tests/unit/unit.c tests/unit/unit.h tests/unit/fake_hal.c tests/unit/fake_hal.h

UNIT_TESTS = tests/unit/test-klib tests/unit/test-pmm tests/unit/test-kheap \
	tests/unit/test-vm tests/unit/test-elf tests/unit/test-cpio tests/unit/test-mem
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS) tests/unit/valgrind.sh
EXTRA_DIST += tests/unit/README.md tests/unit/valgrind.sh

tests_unit_test_klib_SOURCES = tests/unit/test-klib.c core/klib.c $(UNIT_COMMON)
tests_unit_test_klib_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_klib_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_klib_LDADD = $(UNIT_LDADD)

# test-pmm.c includes core/pmm.c.
tests_unit_test_pmm_SOURCES = tests/unit/test-pmm.c core/klib.c $(UNIT_COMMON)
tests_unit_test_pmm_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_pmm_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pmm_LDADD = $(UNIT_LDADD)

# test-kheap.c includes core/kheap.c.
tests_unit_test_kheap_SOURCES = tests/unit/test-kheap.c core/pmm.c core/klib.c $(UNIT_COMMON)
tests_unit_test_kheap_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_kheap_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_kheap_LDADD = $(UNIT_LDADD)

# test-vm.c includes core/vm.c.
tests_unit_test_vm_SOURCES = tests/unit/test-vm.c core/pmm.c core/klib.c $(UNIT_COMMON)
tests_unit_test_vm_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_vm_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vm_LDADD = $(UNIT_LDADD)

# test-elf.c includes core/elf.c.
tests_unit_test_elf_SOURCES = tests/unit/test-elf.c core/vm.c core/pmm.c core/klib.c \
	$(UNIT_COMMON)
tests_unit_test_elf_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_elf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_elf_LDADD = $(UNIT_LDADD)

tests_unit_test_cpio_SOURCES = tests/unit/test-cpio.c core/cpio.c core/klib.c $(UNIT_COMMON)
tests_unit_test_cpio_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_cpio_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cpio_LDADD = $(UNIT_LDADD)

# test-mem: memory objects, mappings, faults and quotas (core/mem.c) with the
# page tables, buddy allocator and capabilities they build on.
tests_unit_test_mem_SOURCES = tests/unit/test-mem.c core/mem.c core/vm.c core/quota.c core/cap.c \
	core/pmm.c core/kheap.c core/klib.c $(UNIT_COMMON)
tests_unit_test_mem_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_mem_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mem_LDADD = $(UNIT_LDADD)
