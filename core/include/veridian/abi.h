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
 * A negative return value is a vr_error. The short IPC syscalls (50-54)
 * also carry message words in r12-r15 and a badge in rbx (VR_MSG_REGS).
 */
#ifndef VERIDIAN_ABI_H
#define VERIDIAN_ABI_H

#include <stdint.h>

/* X(number, name, arguments, returns): one line per syscall. Numbers are
 * grouped: 0-31 processes, console, capabilities, IPC, scheduling; 32-35
 * and 45-49 threads and processes; 36-44 memory; 50-54 register-message
 * IPC; 55-59 IRQ sources and I/O ports; 60-64 memory (more); 65-69
 * quota, cspace and vspace objects. */
#define VR_SYSCALLS(X)                                                                             \
	X(0, exit, "int status", "does not return")                                                \
	X(1, yield, "-", "0")                                                                      \
	X(2, console_write, "const char *buf, size_t len", "bytes written")                        \
	X(3, console_read, "char *buf, size_t len", "bytes read (>= 1; blocks)")                   \
	X(4, spawn,                                                                                \
	  "const char *path, size_t pathlen, const char *args, size_t argslen, "                   \
	  "const struct vr_spawn_caps *caps (or NULL)",                                            \
	  "handle of a process capability (all rights) to the new process")                        \
	X(5, wait, "cap p (or -1 for any child), int *status", "pid of the child")                 \
	X(6, getpid, "-", "pid of the caller")                                                     \
	X(7, ps, "struct vr_thread_info *buf, size_t max", "number of threads")                    \
	X(8, uname, "struct vr_uname *out", "0")                                                   \
	X(9, meminfo, "struct vr_meminfo *out", "0")                                               \
	X(10, poweroff, "int status", "does not return")                                           \
	X(11, clock, "-", "nanoseconds since boot (kernel clock)")                                 \
	X(12, sleep, "uint64_t ns", "0")                                                           \
	X(13, cap_identify, "cap h, struct vr_cap_info *out", "0")                                 \
	X(14, cap_mint, "cap h, uint32_t rights, uint64_t badge, uint64_t expiry_ns",              \
	  "handle of the derived capability")                                                      \
	X(15, cap_copy, "cap h", "handle of the derived capability")                               \
	X(16, cap_delete, "cap h", "0")                                                            \
	X(17, cap_revoke, "cap h", "0, or VR_EAGAIN: more descendants remain, call again")         \
	X(18, endpoint_create, "-", "handle (all rights)")                                         \
	X(19, ipc_send, "cap ep, uint64_t tag, uint64_t flags", "0")                               \
	X(20, ipc_recv, "cap ep, uint64_t flags", "tag of the message received")                   \
	X(21, ipc_call, "cap ep, uint64_t tag, uint64_t flags", "tag of the reply")                \
	X(22, ipc_reply, "uint64_t tag", "0")                                                      \
	X(23, ipc_reply_recv, "cap ep, uint64_t tag, uint64_t flags", "tag of the next message")   \
	X(24, notification_create, "-", "handle (all rights)")                                     \
	X(25, notify_signal, "cap n, uint64_t bits", "0")                                          \
	X(26, notify_wait, "cap n, uint64_t flags", "the bits, which are cleared")                 \
	X(27, kill, "cap p, int status",                                                           \
	  "0; the process exits with `status` at its next kernel entry or wake-up")                \
	X(28, sched_set, "int pid (0: the caller), uint32_t policy, int prio_or_nice", "0")        \
	X(29, sched_get, "int pid (0: the caller), struct vr_sched_info *out", "0")                \
	X(30, sched_affinity, "int pid (0: the caller), uint64_t mask (0: query only)",            \
	  "the mask in force before the call")                                                     \
	X(31, notify_timer,                                                                        \
	  "cap n, uint64_t deadline_ns (0: disarm), uint64_t period_ns, uint64_t bits", "0")       \
	X(32, thread_create,                                                                       \
	  "uintptr_t entry, uintptr_t sp, uint64_t arg, uintptr_t tls, uintptr_t ipc_buffer",      \
	  "handle of a thread capability (all rights); the thread is suspended")                   \
	X(33, thread_exit, "int status", "does not return")                                        \
	X(34, thread_suspend, "cap t", "0")                                                        \
	X(35, thread_resume, "cap t", "0")                                                         \
	X(36, mem_create, "uint64_t npages", "handle of a new memory object (all rights)")         \
	X(37, mem_map,                                                                             \
	  "cap m, uintptr_t va, uint64_t first_page, uint64_t npages, uint32_t prot|flags", "0")   \
	X(38, mem_unmap, "uintptr_t va, uint64_t npages", "0")                                     \
	X(39, mem_protect, "uintptr_t va (where a mapping starts), uint32_t prot", "0")            \
	X(40, mem_copy, "cap m", "handle of a copy-on-write copy (all rights)")                    \
	X(41, thread_set_fault_ep, "cap ep (VR_CAP_INVALID: none)", "0")                           \
	X(42, quota_set, "uint64_t limit_bytes (may only go down)", "0")                           \
	X(43, quota_info, "struct vr_quota_info *out", "0")                                        \
	X(44, cap_move, "cap h", "the capability's new handle (the old one becomes stale)")        \
	X(45, thread_join, "cap t, int *status (or NULL), uint64_t flags, uint64_t timeout_ns",    \
	  "0")                                                                                     \
	X(46, thread_kill, "cap t, int status", "0; the thread exits at its next kernel boundary") \
	X(47, thread_set_tls, "uintptr_t tls", "0")                                                \
	X(48, thread_self, "-", "handle of a capability to the calling thread (all rights)")       \
	X(50, ipc_send_short, "cap ep, uint64_t tag, uint64_t flags; words 0-3 in r12-r15", "0")   \
	X(51, ipc_recv_short, "cap ep, uint64_t flags",                                            \
	  "tag of the message received; words 0-3 in r12-r15, badge in rbx")                       \
	X(52, ipc_call_short, "cap ep, uint64_t tag, uint64_t flags; words 0-3 in r12-r15",        \
	  "tag of the reply; its words 0-3 in r12-r15")                                            \
	X(53, ipc_reply_short, "uint64_t tag; words 0-3 in r12-r15", "0")                          \
	X(54, ipc_reply_recv_short, "cap ep, uint64_t tag, uint64_t flags; words 0-3 in r12-r15",  \
	  "tag of the next message; words 0-3 in r12-r15, badge in rbx")                           \
	X(55, irq_claim, "cap irq_control, uint32_t line", "handle of the line's IRQ capability")  \
	X(56, irq_bind, "cap irq, cap n (VR_CAP_INVALID: unbind), uint64_t bits", "0")             \
	X(57, irq_ack, "cap irq", "0; the line is unmasked")                                       \
	X(58, ioport_create, "cap io, uint32_t base, uint32_t count",                              \
	  "handle of an I/O-port capability for [base, base+count)")                               \
	X(59, ioport_io, "cap io, uint32_t op (VR_IO_*), uint32_t port, uint32_t value",           \
	  "the value read (VR_IO_IN*), 0 (VR_IO_OUT*)")                                            \
	X(60, mem_create_huge,                                                                     \
	  "uint64_t npages, uint64_t page_size (VR_MEM_PAGE_2M or VR_MEM_PAGE_1G)",                \
	  "handle of a new memory object backed by aligned contiguous huge pages (all rights)")    \
	X(61, mem_protect_range, "uintptr_t va, uint64_t npages, uint32_t prot", "0")              \
	X(65, quota_create, "cap parent (-1: the caller's own quota), uint64_t limit_bytes",       \
	  "handle of a quota capability (all rights) for a new quota under parent")                \
	X(66, quota_cap_info, "cap q, struct vr_quota_info *out", "0")                             \
	X(67, quota_cap_set, "cap q, uint64_t limit_bytes (may only go down)", "0")                \
	X(68, process_space, "cap p, uint32_t which (VR_SPACE_CAPS or VR_SPACE_ADDR)",             \
	  "handle of a capability (with p's rights) to p's capability or address space")           \
	X(69, cap_mint_to, "cap cs, cap src, uint32_t rights, uint64_t badge, uint64_t expiry_ns", \
	  "the handle of the derived capability in cs")                                            \
	X(70, cap_delete_in, "cap cs, uint32_t handle (in cs)", "0")                               \
	X(71, mem_map_into, "cap vs, const struct vr_map_req *req", "0")                           \
	X(72, mem_unmap_from, "cap vs, uint64_t slot_offset, uint64_t npages", "0")

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
#define VR_ERRORS(X)                                                       \
	X(VR_EINVAL, -1, "invalid argument")                               \
	X(VR_ENOMEM, -2, "out of memory")                                  \
	X(VR_EFAULT, -3, "bad user address")                               \
	X(VR_ENOENT, -4, "no such file")                                   \
	X(VR_ENOSYS, -5, "no such system call")                            \
	X(VR_ECHILD, -6, "no such child")                                  \
	X(VR_ENOEXEC, -7, "malformed executable")                          \
	X(VR_E2BIG, -8, "argument too large")                              \
	X(VR_EAGAIN, -9, "try again")                                      \
	X(VR_ESRCH, -10, "no such process or thread")                      \
	X(VR_ERANGE, -11, "value out of range")                            \
	X(VR_EBUSY, -12, "resource busy")                                  \
	X(VR_ECAP_RANGE, -13, "capability index out of range")             \
	X(VR_ECAP_STALE, -14, "stale capability (its slot was reused)")    \
	X(VR_ECAP_EMPTY, -15, "empty capability slot")                     \
	X(VR_ECAP_TYPE, -16, "capability names an object of another type") \
	X(VR_ECAP_RIGHTS, -17, "capability lacks a required right")        \
	X(VR_ECAP_EXPIRED, -18, "capability has expired")                  \
	X(VR_ECLOSED, -19, "the object or peer went away while waiting")   \
	X(VR_ENOREPLY, -20, "no call to reply to")                         \
	X(VR_ETIMEDOUT, -21, "the timeout expired")

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
#define VR_SLOT_BASE 0x200000000000ull /* first slot (PML4 index 64) */
#define VR_SLOT_SIZE 0x100000000ull    /* 4 GiB per process */
#define VR_SLOT_COUNT 256u
#define VR_SLOT_TRAP_OFF 0x1000ull           /* trap page (read+execute) */
#define VR_SLOT_INFO_OFF 0x2000ull           /* vr_start_info + argv (read-only) */
#define VR_SLOT_IPCBUF_OFF 0x3000ull         /* the first thread's IPC buffer */
#define VR_SLOT_THREAD_IPCBUF_OFF 0x10000ull /* IPC buffers of further threads, one page each */
#define VR_SLOT_IMAGE_OFF 0x400000ull        /* ELF image load base */
#define VR_SLOT_STACK_SIZE 0x40000ull        /* 256 KiB user stack */
#define VR_SLOT_STACK_TOP (VR_SLOT_SIZE - VR_PAGE_SIZE) /* guard page above */

/* Exit status of a process the kernel terminated for a fault (as a shell
 * reports 128 + SIGSEGV). */
#define VR_EXIT_FAULT 139

#define VR_START_MAGIC 0x56455249444941ull /* "VERIDIA" */
#define VR_ARGS_MAX 1024u                  /* bytes of argument text to spawn */
#define VR_ARGV_MAX 32u                    /* arguments, including argv[0] */
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
	uint32_t type; /* VR_OBJ_* */
	uint32_t rights;
	uint64_t badge;
	uint64_t expiry; /* kernel clock ns, 0 for none */
	int64_t id;      /* pid of a process, tid of a thread; 0 for other objects */
};

/* Object types (identify's `type`); the same numbers as core's kobj_type. */
#define VR_OBJ_ENDPOINT 1u
#define VR_OBJ_NOTIFICATION 2u
#define VR_OBJ_CSPACE 3u
#define VR_OBJ_VSPACE 4u
#define VR_OBJ_MEMORY 5u
#define VR_OBJ_THREAD 6u
#define VR_OBJ_PROCESS 7u
#define VR_OBJ_IRQ 8u
#define VR_OBJ_QUOTA 9u
#define VR_OBJ_IOPORT 10u

/* Message tag: label (bits 0-31, the receiver's to interpret), number of
 * words (bits 32-39), number of capabilities (bits 40-42). */
#define VR_MSG_WORDS 128u /* 1 KiB */
#define VR_MSG_CAPS 4u
/* Short messages (ipc_*_short, docs/ipc.md): up to VR_MSG_REGS words travel
 * in registers, not in the IPC buffer. Around the trap call, words 0-3 are
 * in r12, r13, r14, r15 (callee-saved: both hosts' trap paths save them in
 * a frame of their own); on return from a receive they hold the words
 * received (0 beyond the message's count, and all 0 when its words came
 * through the buffer because there were more than VR_MSG_REGS) and rbx
 * holds the badge. rbp stays the frame pointer, hence four. */
#define VR_MSG_REGS 4u
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
	uint32_t flags; /* VR_SPAWN_* */
	uint32_t quota; /* with VR_SPAWN_QUOTA: the child's quota goes under this one (WRITE) */
};
/* The child's quota is created under the quota capability `quota` instead
 * of under the caller's own. */
#define VR_SPAWN_QUOTA 1u

/* process_space: which space of a process a capability names. A
 * capability-space capability lets its holder put capabilities into that
 * space (cap_mint_to, WRITE) and remove them (cap_delete_in, WRITE);
 * an address-space capability lets it map memory objects there
 * (mem_map_into). */
#define VR_SPACE_CAPS 1u
#define VR_SPACE_ADDR 2u

/* mem_map_into(vs, req): mem_map's arguments, into the address space `vs`
 * names (WRITE), with the caller's memory capability. The address is an
 * offset in the target's slot (whose base the caller need not know). */
struct vr_map_req {
	uint32_t mem;        /* the caller's memory-object handle */
	uint32_t prot_flags; /* VR_PROT_* | VR_MAP_* */
	uint64_t slot_offset;
	uint64_t first_page;
	uint64_t npages;
};

/* Put in a receiver's caps[] for a capability that could not be
 * transferred (it was deleted meanwhile, or the receiver's space is full). */
#define VR_CAP_INVALID 0xffffffffu

/* IPC flags */
#define VR_IPC_NONBLOCK 1u /* VR_EAGAIN instead of waiting */
/* VR_ETIMEDOUT if the operation would still wait after a timeout, in ns
 * from the call, given in the argument after the flags (send, call,
 * reply_recv: the 4th; recv, notify_wait: the 3rd). For a call the timeout
 * covers both the send and the wait for the reply. */
#define VR_IPC_TIMEOUT 2u

/* A thread's IPC buffer (one page). The sender puts the words, and the
 * handles of capabilities to transfer, here before ipc_send/call; the
 * kernel fills the receiver's buffer: words, received handles, badge. */
struct vr_ipc_buffer {
	uint64_t words[VR_MSG_WORDS];
	uint32_t caps[VR_MSG_CAPS];
	uint64_t badge; /* set on receive: the badge of the sender's capability */
	uint64_t tag;   /* set on receive */
};

/* Threads (docs/scheduling.md). thread_create makes a SUSPENDED thread of
 * the caller's process; thread_resume starts it at `entry` with stack
 * pointer `sp` and `arg` in rdi. Its TLS base (the GS base, in both
 * builds) is `tls`: 0, or an address in the caller's slot. User code reads
 * the thread pointer at %gs:0 and must not use other GS offsets: on x86_64
 * the GS base is the pointer itself (so the block it names must start with
 * a pointer to itself), in veridian-sim it is a word holding it. Its IPC buffer
 * is a page the kernel maps at `ipc_buffer`, which the caller chooses among
 * the VR_THREADS_MAX pages from VR_SLOT_THREAD_IPCBUF_OFF (VR_EBUSY if in
 * use); it is unmapped when the thread ends. mem_map refuses every address
 * below VR_SLOT_IMAGE_OFF. */
#define VR_THREADS_MAX 64u /* threads per process */

/* thread_join flags: VR_IPC_NONBLOCK (VR_EAGAIN if the thread still runs)
 * and VR_IPC_TIMEOUT (timeout_ns from the call, then VR_ETIMEDOUT). */

enum vr_thread_state {
	VR_THREAD_RUNNABLE = 0,
	VR_THREAD_RUNNING = 1,
	VR_THREAD_BLOCKED = 2,
	VR_THREAD_SLEEPING = 3,
	VR_THREAD_ZOMBIE = 4,
	VR_THREAD_SUSPENDED = 5, /* by thread_suspend, or created and not yet resumed */
};

struct vr_thread_info {
	int64_t tid;
	int64_t pid;
	int64_t ppid;
	uint32_t state;      /* enum vr_thread_state */
	uint32_t is_kernel;  /* 1 for kernel threads (idle) */
	uint64_t user_pages; /* pages mapped in the process */
	char name[16];       /* process name, NUL-terminated */
	uint32_t policy;     /* VR_SCHED_*, the thread's own */
	int32_t prio;        /* real-time priority, or nice */
	uint32_t eff_policy; /* after priority inheritance */
	int32_t eff_prio;
	uint64_t cpu_ns; /* CPU time consumed */
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
	uint64_t slab_pages;   /* kernel object allocator (kheap) */
	uint64_t slab_objects;
	uint64_t table_pages;   /* page tables of all processes */
	uint64_t object_pages;  /* frames held by memory objects (part of user_pages) */
	uint64_t shared_frames; /* frames shared copy-on-write */
	uint64_t mem_objects;
	uint64_t page_sizes;   /* leaf sizes the MMU maps: VR_MEM_PAGE_* bits set */
	uint64_t leaves_2m;    /* 2 MiB leaves mapped in all processes */
	uint64_t leaves_1g;    /* 1 GiB leaves mapped in all processes */
	uint64_t huge_objects; /* memory objects made of huge pages (mem_create_huge) */
};

/* ---- Scheduling (docs/scheduling.md) ----------------------------------- */

/* Policies (scheduling classes), highest class first: real-time FIFO and
 * round-robin (priority 1-99, higher runs first), fair and batch (nice
 * -20..19, lower gets more CPU), idle (runs only when nothing else can). */
#define VR_SCHED_FAIR 0u
#define VR_SCHED_FIFO 1u
#define VR_SCHED_RR 2u
#define VR_SCHED_BATCH 3u
#define VR_SCHED_IDLE 4u
#define VR_SCHED_PRIO_MIN 1
#define VR_SCHED_PRIO_MAX 99
#define VR_NICE_MIN (-20)
#define VR_NICE_MAX 19
#define VR_CPUS_MAX 63u /* affinity masks: bits 0-62 */

struct vr_sched_info {
	int64_t tid;
	uint32_t policy;     /* VR_SCHED_* set by sched_set */
	int32_t prio;        /* real-time priority, or nice */
	uint32_t eff_policy; /* what it runs at now: raised by priority inheritance */
	int32_t eff_prio;
	uint64_t cpu_ns;   /* CPU time consumed */
	uint64_t vruntime; /* fair and batch: weighted virtual runtime */
	uint64_t affinity; /* bit n: may run on CPU n */
	uint32_t cpu;      /* the CPU whose run queue it belongs to */
	uint32_t state;    /* enum vr_thread_state */
};

/* ---- Memory objects, faults, quotas (docs/memory.md) ------------------ */

#define VR_MEM_MAX_PAGES (1u << 18) /* 1 GiB per memory object */

/* mem_map / mem_protect: prot needs READ; WRITE together with EXEC is
 * refused (VR_EINVAL); each bit needs the matching capability right. */
#define VR_PROT_READ 1u
#define VR_PROT_WRITE 2u
#define VR_PROT_EXEC 4u
/* mem_map flag: pages never touched are not zero-filled through this
 * mapping; the access is an unresolved fault for the thread's fault
 * handler (user-level paging: the pager fills the page through its own
 * mapping of the object, then replies). */
#define VR_MAP_NOFILL 0x100u
/* mem_map flag: map a private copy-on-write copy of the pages (snapshot
 * at map time): writes stay in this mapping, other mappings of the object
 * never see them, and they go with the mapping (unmap, exit). Needs only
 * the READ right (and EXECUTE for VR_PROT_EXEC), even with VR_PROT_WRITE.
 * Not with VR_MAP_NOFILL (VR_EINVAL). */
#define VR_MAP_PRIVATE 0x200u

/* mem_create_huge page sizes (also the bits of vr_meminfo.page_sizes,
 * with VR_MEM_PAGE_4K). 1 GiB pages are used only where the MMU has them
 * (page_sizes); elsewhere such an object is mapped with 2 MiB pages. */
#define VR_MEM_PAGE_4K 0x1000ull
#define VR_MEM_PAGE_2M 0x200000ull
#define VR_MEM_PAGE_1G 0x40000000ull

/* A fault the kernel cannot resolve is sent as a call on the thread's
 * fault endpoint: label VR_FAULT_LABEL, VR_FAULT_WORDS words in the
 * faulting thread's IPC buffer. The reply's label says what happens:
 * VR_FAULT_RESUME retries the access, anything else ends the process with
 * VR_EXIT_FAULT. */
#define VR_FAULT_LABEL 0xfa17u
#define VR_FAULT_RESUME 0u
#define VR_FAULT_KILL 1u
#define VR_FAULT_WORDS 5u
#define VR_FAULT_W_KIND 0   /* 0 page fault, 1 invalid instruction, 2 general protection */
#define VR_FAULT_W_ADDR 1   /* faulting address (page faults) */
#define VR_FAULT_W_ACCESS 2 /* bit 0 write, bit 1 execute, bit 2 page was present */
#define VR_FAULT_W_PC 3
#define VR_FAULT_W_SP 4

struct vr_quota_info {
	uint64_t limit;     /* bytes, this process's own limit (UINT64_MAX: inherited only) */
	uint64_t used;      /* bytes charged to it and its descendants */
	uint64_t available; /* what it may still charge, counting every ancestor */
};

/* ---- IRQ sources and I/O ports (docs/irq.md) --------------------------- */

/* Interrupt lines are numbered as ISA IRQs, 0..VR_IRQ_LINES-1, in both
 * builds (the i8254 PIT is line 0; x86_64 routes line 0 to IOAPIC pin 2). */
#define VR_IRQ_LINES 16u

/* ioport_io operations: the low bits are the width in bytes (1, 2, 4),
 * VR_IO_OUT marks a write. */
#define VR_IO_OUT 0x10u
#define VR_IO_IN8 1u
#define VR_IO_IN16 2u
#define VR_IO_IN32 4u
#define VR_IO_OUT8 (VR_IO_OUT | 1u)
#define VR_IO_OUT16 (VR_IO_OUT | 2u)
#define VR_IO_OUT32 (VR_IO_OUT | 4u)
#define VR_IO_PORTS 65536u

/* The device capabilities the kernel gives init, at these handles: the IRQ
 * control (irq_claim) and an I/O-port capability for every port. init
 * hands them on to the shell at the same handles, and the shell to a
 * program run as `dev PROGRAM ...`. */
#define VR_DEVCAP_IRQ_CONTROL 0u
#define VR_DEVCAP_IOPORTS 1u

#endif
