# core/: the portable kernel. CORE_SOURCES is the one list of its source
# files; both builds compile exactly this list (tests/system/core-sources.sh
# checks the two archives' members).
CORE_SOURCES = \
	core/klib.c \
	core/cap.c \
	core/ipc.c \
	core/pmm.c \
	core/kheap.c \
	core/vm.c \
	core/mem.c \
	core/quota.c \
	core/syscall_mem.c \
	core/elf.c \
	core/cpio.c \
	core/console.c \
	core/sched.c \
	core/sched_policy.c \
	core/syscall_sched.c \
	core/proc.c \
	core/thread.c \
	core/syscall_thread.c \
	core/syscall_quota.c \
	core/syscall_space.c \
	core/syscall.c \
	core/syscall_cap.c \
	core/irq.c \
	core/syscall_irq.c \
	core/main.c

CORE_HDRS = \
	core/include/veridian/abi.h \
	core/include/veridian/hal.h \
	core/include/veridian/cap.h \
	core/include/veridian/ipc.h \
	core/include/veridian/klib.h \
	core/include/veridian/pmm.h \
	core/include/veridian/kheap.h \
	core/include/veridian/vm.h \
	core/include/veridian/mem.h \
	core/include/veridian/quota.h \
	core/include/veridian/elf.h \
	core/include/veridian/cpio.h \
	core/include/veridian/console.h \
	core/include/veridian/sched.h \
	core/include/veridian/sched_policy.h \
	core/include/veridian/proc.h \
	core/include/veridian/irq.h \
	core/include/veridian/syscall.h

# core built for veridian-sim (host code generation, freestanding headers).
noinst_LIBRARIES += core/libcore-sim.a
core_libcore_sim_a_SOURCES = $(CORE_SOURCES) $(CORE_HDRS)
core_libcore_sim_a_CPPFLAGS = $(FREESTANDING_CPPFLAGS)
core_libcore_sim_a_CFLAGS = $(FREESTANDING_CFLAGS) -O2 -g -fno-omit-frame-pointer $(SAN_CFLAGS)

# core built for veridian.elf (bare-metal code generation).
noinst_LIBRARIES += core/libcore-x86.a
core_libcore_x86_a_SOURCES = $(CORE_SOURCES) $(CORE_HDRS)
core_libcore_x86_a_CPPFLAGS = $(FREESTANDING_CPPFLAGS)
core_libcore_x86_a_CFLAGS = $(KERNEL_CFLAGS) -O2 -g

EXTRA_DIST += core/README.md host/README.md
