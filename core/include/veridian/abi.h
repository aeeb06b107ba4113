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
	X(4, spawn,                                                                      \
	  "const char *path, size_t pathlen, const char *args, size_t argslen, "         \
	  "const struct vr_spawn_caps *caps (or NULL)",                                  \
	  "pid of the new process")                                                      \
	X(5, wait, "int pid (or -1 for any child), int *status", "pid of the child")     \
	X(6, getpid, "-", "pid of the caller")                                           \
	X(7, ps, "struct vr_thread_info *buf, size_t max", "number of threads")          \
	X(8, uname, "struct vr_uname *out", "0")                                         \
	X(9, meminfo, "struct vr_meminfo *out", "0")                                     \
	X(10, poweroff, "int status", "does not return")                                 \
	X(11, clock, "-", "nanoseconds since boot (kernel clock)")                       \
	X(12, sleep, "uint64_t ns", "0")                                                 \
	X(13, cap_identify, "cap h, struct vr_cap_info *out", "0")                       \
	X(14, cap_mint, "cap h, uint32_t rights, uint64_t badge, uint64_t expiry_ns",    \
	  "handle of the derived capability")                                            \
	X(15, cap_copy, "cap h", "handle of the derived capability")                     \
	X(16, cap_delete, "cap h", "0")                                                  \
	X(17, cap_revoke, "cap h", "0, or VR_EAGAIN: more descendants remain, call again") \
	X(18, endpoint_create, "-", "handle (all rights)")                               \
	X(19, ipc_send, "cap ep, uint64_t tag, uint64_t flags", "0")                     \
	X(20, ipc_recv, "cap ep, uint64_t flags", "tag of the message received")         \
	X(21, ipc_call, "cap ep, uint64_t tag, uint64_t flags", "tag of the reply")      \
	X(22, ipc_reply, "uint64_t tag", "0")                                            \
	X(23, ipc_reply_recv, "cap ep, uint64_t tag, uint64_t flags",                    \
	  "tag of the next message")                                                     \
	X(24, notification_create, "-", "handle (all rights)")                           \
	X(25, notify_signal, "cap n, uint64_t bits", "0")                                \
	X(26, notify_wait, "cap n, uint64_t flags", "the bits, which are cleared")         \
	X(27, kill, "int pid (a child of the caller), int status",                       \
	  "0; the child exits with `status` at its next kernel entry or wake-up")

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
	X(VR_ECAP_EXPIRED, -18, "capability has expired")                 \
	X(VR_ECLOSED, -19, "the object or peer went away while waiting")  \
	X(VR_ENOREPLY, -20, "no call to reply to")

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
#define VR_SLOT_IPCBUF_OFF 0x3000ull      /* the first thread's IPC buffer */
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
#define VR_CONSOLE_WRITE_MAX 65536u /* bytes per console_write call */

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
	uint64_t ipc_buffer; /* struct vr_ipc_buffer of the first thread */
};

/* ---- Capabilities and IPC ------------------------------------------------ */

/* Rights of a capability. */
#define VR_CAP_READ (1u << 0)
#define VR_CAP_WRITE (1u << 1)
#define VR_CAP_EXECUTE (1u << 2)
#define VR_CAP_DELETE (1u << 3)
#define VR_CAP_GRANT (1u << 4)    /* may be transferred in IPC */
#define VR_CAP_DELEGATE (1u << 5) /* may derive children (copy, mint) */
#define VR_CAP_ALL 0x3fu

struct vr_cap_info {
	uint32_t type;   /* VR_OBJ_* */
	uint32_t rights;
	uint64_t badge;
	uint64_t expiry; /* kernel clock ns, 0 for none */
};

#define VR_OBJ_ENDPOINT 1u
#define VR_OBJ_NOTIFICATION 2u

/* Message tag: label (bits 0-31, the receiver's to interpret), number of
 * words (bits 32-39), number of capabilities (bits 40-42). */
#define VR_MSG_WORDS 128u /* 1 KiB */
#define VR_MSG_CAPS 4u
#define VR_MSG_TAG(label, words, caps) \
	((uint64_t)(uint32_t)(label) | (uint64_t)(words) << 32 | (uint64_t)(caps) << 40)
#define VR_MSG_LABEL(tag) ((uint32_t)(tag))
#define VR_MSG_NWORDS(tag) ((unsigned)((tag) >> 32) & 0xffu)
#define VR_MSG_NCAPS(tag) ((unsigned)((tag) >> 40) & 0x7u)

/* Initial capabilities for spawn: the new process receives a capability
 * derived from each (same rights, badge and expiry; each needs GRANT), at
 * handles 0, 1, ... count-1 of its own space, in order. */
#define VR_SPAWN_CAPS_MAX 8u
struct vr_spawn_caps {
	uint32_t count;
	uint32_t handles[VR_SPAWN_CAPS_MAX];
};

/* Put in a receiver's caps[] for a capability that could not be
 * transferred (it was deleted meanwhile, or the receiver's space is full). */
#define VR_CAP_INVALID 0xffffffffu

/* IPC flags */
#define VR_IPC_NONBLOCK 1u /* VR_EAGAIN instead of waiting */

/* A thread's IPC buffer (one page). The sender puts the words, and the
 * handles of capabilities to transfer, here before ipc_send/call; the
 * kernel fills the receiver's buffer: words, received handles, badge. */
struct vr_ipc_buffer {
	uint64_t words[VR_MSG_WORDS];
	uint32_t caps[VR_MSG_CAPS];
	uint64_t badge; /* set on receive: the badge of the sender's capability */
	uint64_t tag;   /* set on receive */
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
