# host/x86_64: veridian.elf, the bare-metal x86_64 kernel (PVH + multiboot2).
noinst_PROGRAMS += veridian.elf
# Everything but the built-in initramfs, shared with exception-test.elf.
X86_HOST_SRCS = \
	host/x86_64/start.S \
	host/x86_64/entry.S \
	host/x86_64/boot.c \
	host/x86_64/cpu.c \
	host/x86_64/hal.c \
	host/x86_64/irq.h \
	host/x86_64/irq.c \
	host/x86_64/serial.c \
	host/x86_64/string.c \
	host/x86_64/timer.c \
	host/x86_64/trap.c \
	host/x86_64/x86.h
X86_LINK_FLAGS = -nostdlib -static -no-pie \
	-Wl,-T,$(top_srcdir)/host/x86_64/kernel.ld \
	-Wl,-z,max-page-size=0x1000 -Wl,--build-id=none
veridian_elf_SOURCES = $(X86_HOST_SRCS) host/x86_64/initrd.S
veridian_elf_CPPFLAGS = $(FREESTANDING_CPPFLAGS)
veridian_elf_CFLAGS = $(KERNEL_CFLAGS) -O2 -g
# initrd.S finds services/initramfs.cpio through the assembler's -I.
veridian_elf_CCASFLAGS = -g -Wa,-I$(top_builddir)
veridian_elf_LDADD = core/libcore-x86.a
veridian_elf_LDFLAGS = $(X86_LINK_FLAGS)
EXTRA_veridian_elf_DEPENDENCIES = $(top_srcdir)/host/x86_64/kernel.ld
# The .incbin is invisible to dependency tracking.
host/x86_64/veridian_elf-initrd.$(OBJEXT): services/initramfs.cpio

# A tiny kernel that faults in kernel mode on request, for the register
# dump test (tests/system/qemu-exception.sh). Takes only klib from core.
check_PROGRAMS += host/x86_64/exception-test.elf
host_x86_64_exception_test_elf_SOURCES = $(X86_HOST_SRCS) host/x86_64/exception-test.c
host_x86_64_exception_test_elf_CPPFLAGS = $(FREESTANDING_CPPFLAGS)
host_x86_64_exception_test_elf_CFLAGS = $(KERNEL_CFLAGS) -O2 -g
host_x86_64_exception_test_elf_CCASFLAGS = -g
host_x86_64_exception_test_elf_LDADD = core/libcore-x86.a
host_x86_64_exception_test_elf_LDFLAGS = $(X86_LINK_FLAGS)
EXTRA_host_x86_64_exception_test_elf_DEPENDENCIES = $(top_srcdir)/host/x86_64/kernel.ld

# `make iso`: a GRUB rescue image (BIOS and UEFI) that boots veridian.elf by
# multiboot2. Not part of `all`.
.PHONY: iso
iso: veridian.iso
veridian.iso: veridian.elf $(top_srcdir)/host/x86_64/grub.cfg $(top_srcdir)/host/x86_64/mkiso.sh
	@if test "$(GRUB_MKRESCUE)" = no; then \
		echo "make iso: grub-mkrescue not found" \
			"(apt-get install grub-pc-bin grub-efi-amd64-bin xorriso mtools)" >&2; \
		exit 1; \
	fi
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/host/x86_64/mkiso.sh '$(GRUB_MKRESCUE)' veridian.elf \
		$(top_srcdir)/host/x86_64/grub.cfg $@
CLEANFILES += veridian.iso

TESTS += \
	tests/system/qemu-microvm.sh \
	tests/system/qemu-exception.sh \
	tests/system/qemu-q35.sh \
	tests/system/iso-bios.sh \
	tests/system/iso-uefi.sh

EXTRA_DIST += \
	host/x86_64/README.md \
	host/x86_64/kernel.ld \
	host/x86_64/grub.cfg \
	host/x86_64/mkiso.sh \
	tests/system/qemu-lib.sh \
	tests/system/qemu-microvm.sh \
	tests/system/qemu-exception.sh \
	tests/system/qemu-q35.sh \
	tests/system/iso-bios.sh \
	tests/system/iso-uefi.sh
