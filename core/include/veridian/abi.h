/*
 * The user/kernel ABI of Veridian: syscall numbers, error codes, the
 * structures that cross the boundary and the layout of a process's
 * address-space slot.
 *
 * This is the one header that services/ may include from core/. It is the
 * single source of the syscall list (VR_SYSCALLS): the kernel's dispatch
 * table, the runtime's stubs and docs/syscalls.md are all derived from it.
 *
 * Calling convention (both builds): user code calls the trap entry whose
 * address the kernel passes in vr_start_info.trap_entry, as the C function
 *     long trap(long nr, long a0, long a1, long a2, long a3, long a4);
 * The trap page is platform code (a `syscall` instruction on x86_64, a
 * stack switch into the kernel in veridian-sim); user binaries are the same.
 * A negative return value is a vr_error.
 */
#ifndef VERIDIAN_ABI_H
#define VERIDIAN_ABI_H

#include <stdint.h>

/* X(number, name, arguments, returns): one line per syscall. */
#define VR_SYSCALLS(X)                                                                   \
	X(0, exit, "int status", "does not return")                                      \
	X(1, yield, "-", "0")                                                            \
	X(2, console_write, "const char *buf, size_t len", "bytes written")              \
	X(3, console_read, "char *buf, size_t len", "bytes read (>= 1; blocks)")         \
	X(4, spawn, "const char *path, size_t pathlen, const char *args, size_t argslen", \
	  "pid of the new process")                                                      \
	X(5, wait, "int pid (or -1 for any child), int *status", "pid of the child")     \
	X(6, getpid, "-", "pid of the caller")                                           \
	X(7, ps, "struct vr_thread_info *buf, size_t max", "number of threads")          \
	X(8, uname, "struct vr_uname *out", "0")                                         \
	X(9, meminfo, "struct vr_meminfo *out", "0")                                     \
	X(10, poweroff, "int status", "does not return")                                 \
	X(11, clock, "-", "nanoseconds since boot (kernel clock)")                       \
	X(12, sleep, "uint64_t ns", "0")

enum vr_syscall {
#define VR_SYSCALL_ENUM(nr, name, args, ret) VR_SYS_##name = nr,
	VR_SYSCALLS(VR_SYSCALL_ENUM)
#undef VR_SYSCALL_ENUM
	VR_SYS_COUNT
};

/*
 * The one error type. Values are negative; 0 is success. The same codes are
 * returned by kernel functions and across the syscall ABI. Append only.
 */
#define VR_ERRORS(X)                                                      \
	X(VR_EINVAL, -1, "invalid argument")                              \
	X(VR_ENOMEM, -2, "out of memory")                                 \
	X(VR_EFAULT, -3, "bad user address")                              \
	X(VR_ENOENT, -4, "no such file")                                  \
	X(VR_ENOSYS, -5, "no such system call")                           \
	X(VR_ECHILD, -6, "no such child")                                 \
	X(VR_ENOEXEC, -7, "malformed executable")                         \
	X(VR_E2BIG, -8, "argument too large")                             \
	X(VR_EAGAIN, -9, "try again")                                     \
	X(VR_ESRCH, -10, "no such process or thread")                     \
	X(VR_ERANGE, -11, "value out of range")                           \
	X(VR_EBUSY, -12, "resource busy")                                 \
	X(VR_ECAP_RANGE, -13, "capability index out of range")            \
	X(VR_ECAP_STALE, -14, "stale capability (its slot was reused)")   \
	X(VR_ECAP_EMPTY, -15, "empty capability slot")                    \
	X(VR_ECAP_TYPE, -16, "capability names an object of another type") \
	X(VR_ECAP_RIGHTS, -17, "capability lacks a required right")       \
	X(VR_ECAP_EXPIRED, -18, "capability has expired")

enum vr_error {
	VR_OK = 0,
#define VR_ERROR_ENUM(name, value, text) name = value,
	VR_ERRORS(VR_ERROR_ENUM)
#undef VR_ERROR_ENUM
};

/* Number of codes, VR_OK included. */
enum {
#define VR_ERROR_ONE(name, value, text) +1
	VR_ERROR_COUNT = 1 VR_ERRORS(VR_ERROR_ONE)
#undef VR_ERROR_ONE
};

/* Text for an error code; "unknown error" for anything else. */
static inline const char *vr_strerror(long err)
{
	switch (err) {
	case VR_OK:
		return "success";
#define VR_ERROR_CASE(name, value, text) \
	case name:                       \
		return text;
		VR_ERRORS(VR_ERROR_CASE)
#undef VR_ERROR_CASE
	}
	return "unknown error";
}

/* Process address-space slots: every process lives in its own range of
 * virtual addresses, in both builds (so veridian-sim can keep all processes
 * mapped in the host at once). Offsets are from the slot base. */
#define VR_PAGE_SIZE 4096ull
#define VR_SLOT_BASE 0x200000000000ull    /* first slot (PML4 index 64) */
#define VR_SLOT_SIZE 0x100000000ull       /* 4 GiB per process */
#define VR_SLOT_COUNT 256u
#define VR_SLOT_TRAP_OFF 0x1000ull        /* trap page (read+execute) */
#define VR_SLOT_INFO_OFF 0x2000ull        /* vr_start_info + argv (read-only) */
#define VR_SLOT_IMAGE_OFF 0x400000ull     /* ELF image load base */
#define VR_SLOT_STACK_SIZE 0x40000ull     /* 256 KiB user stack */
#define VR_SLOT_STACK_TOP (VR_SLOT_SIZE - VR_PAGE_SIZE) /* guard page above */

/* Exit status of a process the kernel terminated for a fault (as a shell
 * reports 128 + SIGSEGV). */
#define VR_EXIT_FAULT 139

#define VR_START_MAGIC 0x56455249444941ull /* "VERIDIA" */
#define VR_ARGS_MAX 1024u  /* bytes of argument text to spawn */
#define VR_ARGV_MAX 32u    /* arguments, including argv[0] */
#define VR_PATH_MAX 64u

/* Passed to _start in the first argument register. Lives in the read-only
 * info page of the process's slot. */
struct vr_start_info {
	uint64_t magic;      /* VR_START_MAGIC */
	uint64_t trap_entry; /* address of the trap function */
	uint64_t image_base; /* where the ELF image was loaded */
	uint64_t slot_base;
	int64_t pid;
	int64_t argc;
	uint64_t argv;       /* char *argv[argc + 1] */
};

enum vr_thread_state {
	VR_THREAD_RUNNABLE = 0,
	VR_THREAD_RUNNING = 1,
	VR_THREAD_BLOCKED = 2,
	VR_THREAD_SLEEPING = 3,
	VR_THREAD_ZOMBIE = 4,
};

struct vr_thread_info {
	int64_t tid;
	int64_t pid;
	int64_t ppid;
	uint32_t state;      /* enum vr_thread_state */
	uint32_t is_kernel;  /* 1 for kernel threads (idle) */
	uint64_t user_pages; /* pages mapped in the process */
	char name[16];       /* process name, NUL-terminated */
};

struct vr_uname {
	char sysname[16];    /* "Veridian" */
	char build[16];      /* "veridian-sim" or "veridian.elf" */
	char machine[16];    /* "x86_64" */
	char hypervisor[16]; /* CPUID 0x40000000 signature, "linux-host", or "none" */
	char version[16];
};

struct vr_meminfo {
	uint64_t page_size;
	uint64_t total_pages; /* usable physical pages managed by the frame allocator */
	uint64_t free_pages;
	uint64_t kernel_pages; /* pages in use by the kernel (tables, stacks, objects) */
	uint64_t user_pages;   /* pages mapped into processes */
};

#endif
