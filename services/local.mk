# services/: user space. Programs are static-pie ELF files built with the
# project's runtime (libvrt.a) and nothing from the host: see
# services/README.md for why each flag is here.

# No SSE (veridian-sim preempts user code with signals and does not save FP
# state); no red zone (the simulator may write below the user stack pointer);
# hidden visibility so that every reference resolves at link time to a
# PC-relative access or a RELATIVE relocation.
USER_CFLAGS = $(FREESTANDING_CFLAGS) -fPIE -mgeneral-regs-only -mno-red-zone \
	-fvisibility=hidden -O2 -g
USER_CPPFLAGS = $(FREESTANDING_CPPFLAGS) -I$(top_srcdir)/services/runtime
# Static-pie with no interpreter: the runtime relocates itself (start.c).
USER_LINKFLAGS = -nostdlib -static-pie -Wl,--no-dynamic-linker -Wl,-z,noexecstack \
	-Wl,-z,separate-code -Wl,-z,max-page-size=4096 -Wl,--build-id=none
USER_LIBS = services/runtime/libvrt.a

noinst_LIBRARIES += services/runtime/libvrt.a
services_runtime_libvrt_a_SOURCES = \
	services/runtime/vrt.h \
	services/runtime/start.c \
	services/runtime/syscalls.c \
	services/runtime/string.c \
	services/runtime/printf.c \
	services/runtime/readline.c \
	services/runtime/ring.h \
	services/runtime/ring.c \
	services/runtime/channel.h \
	services/runtime/channel.c \
	services/runtime/thread.c
services_runtime_libvrt_a_CPPFLAGS = $(USER_CPPFLAGS)
services_runtime_libvrt_a_CFLAGS = $(USER_CFLAGS)

# Every program put in the initramfs, as bin/<file name>. examples/local.mk
# appends to this list.
INITRAMFS_FILES = \
	services/init/init \
	services/shell/sh \
	services/utils/hello \
	services/utils/spin \
	services/utils/fault \
	services/utils/true \
	services/utils/false

noinst_PROGRAMS += services/init/init
services_init_init_SOURCES = services/init/init.c
services_init_init_CPPFLAGS = $(USER_CPPFLAGS)
services_init_init_CFLAGS = $(USER_CFLAGS)
services_init_init_LDFLAGS = $(USER_LINKFLAGS)
services_init_init_LDADD = $(USER_LIBS)

# The shell's `help` lists the initramfs programs (there is no syscall to
# list them at run time): programs.h is generated from INITRAMFS_FILES, and
# replaced only when that list changes, so editing a Makefile fragment does
# not rebuild the shell and the kernels that embed the initramfs.
noinst_PROGRAMS += services/shell/sh
services_shell_sh_SOURCES = services/shell/sh.c
services_shell_sh_CPPFLAGS = $(USER_CPPFLAGS) -Iservices/shell
nodist_services_shell_sh_SOURCES = services/shell/programs.h
services_shell_sh_CFLAGS = $(USER_CFLAGS)
services_shell_sh_LDFLAGS = $(USER_LINKFLAGS)
services_shell_sh_LDADD = $(USER_LIBS)
BUILT_SOURCES += services/shell/programs.h
CLEANFILES += services/shell/programs.h
$(services_shell_sh_OBJECTS): services/shell/programs.h
services/shell/programs.h: Makefile
	$(AM_V_GEN)$(MKDIR_P) services/shell && \
	names=; for p in $(INITRAMFS_FILES); do \
		case $${p##*/} in init|sh) ;; *) names="$$names $${p##*/}";; esac; \
	done && \
	printf '/* Generated from INITRAMFS_FILES by services/local.mk. */\n#define SH_PROGRAMS "%s"\n' \
		"$${names# }" > $@.tmp && \
	{ cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@; }

noinst_PROGRAMS += services/utils/hello
services_utils_hello_SOURCES = services/utils/hello.c
services_utils_hello_CPPFLAGS = $(USER_CPPFLAGS)
services_utils_hello_CFLAGS = $(USER_CFLAGS)
services_utils_hello_LDFLAGS = $(USER_LINKFLAGS)
services_utils_hello_LDADD = $(USER_LIBS)

noinst_PROGRAMS += services/utils/spin
services_utils_spin_SOURCES = services/utils/spin.c
services_utils_spin_CPPFLAGS = $(USER_CPPFLAGS)
services_utils_spin_CFLAGS = $(USER_CFLAGS)
services_utils_spin_LDFLAGS = $(USER_LINKFLAGS)
services_utils_spin_LDADD = $(USER_LIBS)

noinst_PROGRAMS += services/utils/fault
services_utils_fault_SOURCES = services/utils/fault.c
services_utils_fault_CPPFLAGS = $(USER_CPPFLAGS)
services_utils_fault_CFLAGS = $(USER_CFLAGS)
services_utils_fault_LDFLAGS = $(USER_LINKFLAGS)
services_utils_fault_LDADD = $(USER_LIBS)

noinst_PROGRAMS += services/utils/true
services_utils_true_SOURCES = services/utils/true.c
services_utils_true_CPPFLAGS = $(USER_CPPFLAGS)
services_utils_true_CFLAGS = $(USER_CFLAGS)
services_utils_true_LDFLAGS = $(USER_LINKFLAGS)
services_utils_true_LDADD = $(USER_LIBS)

noinst_PROGRAMS += services/utils/false
services_utils_false_SOURCES = services/utils/false.c
services_utils_false_CPPFLAGS = $(USER_CPPFLAGS)
services_utils_false_CFLAGS = $(USER_CFLAGS)
services_utils_false_LDFLAGS = $(USER_LINKFLAGS)
services_utils_false_LDADD = $(USER_LIBS)

# The initramfs: cpio newc, byte-reproducible (fixed names, order, modes,
# owner and mtimes; --reproducible zeroes device and inode numbers). Archive
# names are exactly "bin/NAME": the kernel looks them up without "./".
# It is a BUILT_SOURCE so that `make` and `make check` build it before the
# kernels that embed or load it (Makefile.am declares no noinst_DATA).
BUILT_SOURCES += services/initramfs.cpio
CLEANFILES += services/initramfs.cpio
services/initramfs.cpio: $(INITRAMFS_FILES)
	$(AM_V_GEN)rm -rf $@.stage $@.tmp && $(MKDIR_P) $@.stage/bin && \
	for p in $(INITRAMFS_FILES); do \
		cp "$$p" "$@.stage/bin/$${p##*/}" || exit 1; \
	done && \
	chmod 0755 $@.stage/bin/* && touch -h -d @0 $@.stage/bin/* && \
	(cd $@.stage && ls bin/* | LC_ALL=C sort | \
		$(CPIO) -o -H newc --reproducible -R 0:0 --quiet) > $@.tmp && \
	rm -rf $@.stage && mv -f $@.tmp $@

TESTS += tests/system/userland-elf.sh
EXTRA_DIST += services/README.md tests/system/userland-elf.sh
