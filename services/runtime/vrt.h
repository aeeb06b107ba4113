/*
 * vrt: the Veridian user runtime. Every program in services/ and examples/
 * includes this header and links libvrt.a; nothing else (no host libc, no
 * host headers, no core header but <veridian/abi.h>).
 *
 * Layers, bottom up:
 *   vr_syscall()       the raw trap: calls the kernel's trap entry.
 *   vr_sys_NAME()      one stub per syscall, generated from VR_SYSCALLS in
 *                      abi.h (untyped: five long arguments).
 *   sys_NAME()         typed inline wrappers over the generated stubs; a
 *                      syscall renamed or removed in abi.h breaks them at
 *                      compile time, one added there still gets its stub.
 *   the C subset       string functions, a printf family, readline.
 *
 * All functions return a negative enum vr_error on failure unless their
 * comment says otherwise.
 */
#ifndef VRT_H
#define VRT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veridian/abi.h>

/*
 * Programs are static-pie: declarations too must be hidden, or the compiler
 * would reach these symbols through a GOT it then expects the (absent)
 * dynamic linker to fill.
 */
#pragma GCC visibility push(hidden)

/* Set by _start before main(); read-only afterwards. */
extern const struct vr_start_info *vrt_start_info;

long vr_syscall(long nr, long a0, long a1, long a2, long a3, long a4);
const char *vr_syscall_name(long nr); /* "exit", ...; "?" if unknown */

#define VRT_SYSCALL_DECL(nr, name, args, ret) long vr_sys_##name(long, long, long, long, long);
VR_SYSCALLS(VRT_SYSCALL_DECL)
#undef VRT_SYSCALL_DECL

_Noreturn void exit(int status);

static inline long sys_yield(void)
{
	return vr_sys_yield(0, 0, 0, 0, 0);
}

static inline long sys_console_write(const char *buf, size_t len)
{
	return vr_sys_console_write((long)buf, (long)len, 0, 0, 0);
}

/* Blocks until at least one byte is available. */
static inline long sys_console_read(char *buf, size_t len)
{
	return vr_sys_console_read((long)buf, (long)len, 0, 0, 0);
}

/* args: the argument text, argv[0] first, separated by spaces. */
static inline long sys_spawn(const char *path, size_t pathlen, const char *args, size_t argslen)
{
	return vr_sys_spawn((long)path, (long)pathlen, (long)args, (long)argslen, 0);
}

/* Wait for the child process capability p names to end (-1: any child);
 * returns the pid that exited. The capability stays until deleted. */
static inline long sys_wait(long p, int *status)
{
	return vr_sys_wait(p, (long)status, 0, 0, 0);
}

static inline long sys_getpid(void)
{
	return vr_sys_getpid(0, 0, 0, 0, 0);
}

/* Returns the number of threads, which may exceed max (only max are copied). */
static inline long sys_ps(struct vr_thread_info *buf, size_t max)
{
	return vr_sys_ps((long)buf, (long)max, 0, 0, 0);
}

static inline long sys_uname(struct vr_uname *out)
{
	return vr_sys_uname((long)out, 0, 0, 0, 0);
}

static inline long sys_meminfo(struct vr_meminfo *out)
{
	return vr_sys_meminfo((long)out, 0, 0, 0, 0);
}

/* Returns only on error. */
static inline long sys_poweroff(int status)
{
	return vr_sys_poweroff(status, 0, 0, 0, 0);
}

static inline uint64_t sys_clock(void)
{
	return (uint64_t)vr_sys_clock(0, 0, 0, 0, 0);
}

static inline long sys_sleep(uint64_t ns)
{
	return vr_sys_sleep((long)ns, 0, 0, 0, 0);
}

/* spawn with initial capabilities (handles 0..count-1 in the child). */
static inline long sys_spawn_caps(const char *path, size_t pathlen, const char *args,
				  size_t argslen, const struct vr_spawn_caps *caps)
{
	return vr_sys_spawn((long)path, (long)pathlen, (long)args, (long)argslen, (long)caps);
}

/* ---- Capabilities (handles are 32-bit; negative results are errors) ---- */

static inline long sys_cap_identify(uint32_t h, struct vr_cap_info *out)
{
	return vr_sys_cap_identify(h, (long)out, 0, 0, 0);
}

/* Rights only shrink; badge 0 keeps the parent's; expiry_ns 0 for none. */
static inline long sys_cap_mint(uint32_t h, uint32_t rights, uint64_t badge, uint64_t expiry_ns)
{
	return vr_sys_cap_mint(h, rights, (long)badge, (long)expiry_ns, 0);
}

static inline long sys_cap_copy(uint32_t h)
{
	return vr_sys_cap_copy(h, 0, 0, 0, 0);
}

/* Returns the capability's new handle; the old one becomes stale. */
static inline long sys_cap_move(uint32_t h)
{
	return vr_sys_cap_move(h, 0, 0, 0, 0);
}

static inline long sys_cap_delete(uint32_t h)
{
	return vr_sys_cap_delete(h, 0, 0, 0, 0);
}

/* Deletes every descendant of h, a bounded number per call: loops while
 * the kernel answers VR_EAGAIN. Returns 0 or an error, and the number of
 * calls it took in *calls if calls is not NULL. */
static inline long cap_revoke_all(uint32_t h, long *calls)
{
	long r, n = 0;

	do {
		r = vr_sys_cap_revoke(h, 0, 0, 0, 0);
		n++;
	} while (r == VR_EAGAIN);
	if (calls)
		*calls = n;
	return r;
}

static inline long sys_endpoint_create(void)
{
	return vr_sys_endpoint_create(0, 0, 0, 0, 0);
}

static inline long sys_notification_create(void)
{
	return vr_sys_notification_create(0, 0, 0, 0, 0);
}

/* ---- IPC: words and capabilities go through the IPC buffer ---- */

struct vrt_thread;
static inline struct vrt_thread *vrt_self(void);

/* The calling thread's IPC buffer (each thread has its own). */
static inline struct vr_ipc_buffer *ipc_buffer(void);

static inline long sys_ipc_send(uint32_t ep, uint64_t tag, unsigned flags)
{
	return vr_sys_ipc_send(ep, (long)tag, flags, 0, 0);
}

/* Returns the tag; the words, badge and capabilities are in ipc_buffer(). */
static inline long sys_ipc_recv(uint32_t ep, unsigned flags)
{
	return vr_sys_ipc_recv(ep, flags, 0, 0, 0);
}

static inline long sys_ipc_call(uint32_t ep, uint64_t tag, unsigned flags)
{
	return vr_sys_ipc_call(ep, (long)tag, flags, 0, 0);
}

static inline long sys_ipc_reply(uint64_t tag)
{
	return vr_sys_ipc_reply((long)tag, 0, 0, 0, 0);
}

static inline long sys_ipc_reply_recv(uint32_t ep, uint64_t tag, unsigned flags)
{
	return vr_sys_ipc_reply_recv(ep, (long)tag, flags, 0, 0);
}

/* ---- IPC: short messages, words in registers (docs/ipc.md) ----
 * Up to VR_MSG_REGS words travel in registers, not in the IPC buffer (which
 * still carries capabilities, caps[], if the tag has any). w holds
 * VR_MSG_REGS words of which the tag's count is sent (NULL: none); more
 * than VR_MSG_REGS words is VR_E2BIG. On success a receive stores in out
 * the words received, 0 beyond the message's count; a message of more than
 * VR_MSG_REGS words (from a buffer sender) arrives in ipc_buffer() as
 * usual, with out all 0. badge (on receive) is the sender's capability
 * badge (0 for a reply). out and badge may be NULL. flags: VR_IPC_NONBLOCK,
 * VR_IPC_TIMEOUT with timeout_ns. Each may talk to a peer using the
 * buffer calls. */
/* The trap entry (start.c sets it before main). */
extern uint64_t vrt_trap_entry;

/*
 * The trap with words 0-3 of a short message in r12-r15 (abi.h
 * VR_MSG_REGS). The kernel may rewrite them and rbx (the badge) before it
 * returns: they are outputs here, and everything the C convention lets a
 * call clobber is clobbered. Always inline, so that a loop of calls saves
 * its caller's r12-r15 and rbx once, not per call. The call pushes its return
 * address below the stack pointer, which is fine without a red zone
 * (-mno-red-zone); the trap code does not need an aligned stack.
 * w (the words to send) may be NULL; out and badge (what was received) are
 * written only on success, and may be NULL.
 */
static inline __attribute__((always_inline)) long
vr_trap_short(long nr, long a0, long a1, long a2, long a3, const uint64_t w[VR_MSG_REGS],
	      uint64_t out[VR_MSG_REGS], uint64_t *badge)
{
	register long rdi __asm__("rdi") = nr;
	register long rsi __asm__("rsi") = a0;
	register long rdx __asm__("rdx") = a1;
	register long rcx __asm__("rcx") = a2;
	register long r8 __asm__("r8") = a3;
	register long r9 __asm__("r9") = 0;
	register uint64_t r12 __asm__("r12") = w ? w[0] : 0;
	register uint64_t r13 __asm__("r13") = w ? w[1] : 0;
	register uint64_t r14 __asm__("r14") = w ? w[2] : 0;
	register uint64_t r15 __asm__("r15") = w ? w[3] : 0;
	register uint64_t rbx __asm__("rbx");
	long ret;

	__asm__ volatile("call *%%rax"
			 : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(rcx), "+r"(r8),
			   "+r"(r9), "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15), "=r"(rbx)
			 : "0"(vrt_trap_entry)
			 : "r10", "r11", "memory", "cc");
	if (ret >= 0 && out) {
		out[0] = r12;
		out[1] = r13;
		out[2] = r14;
		out[3] = r15;
	}
	if (ret >= 0 && badge)
		*badge = rbx;
	return ret;
}

static inline long vr_send_short(uint32_t ep, uint64_t tag, const uint64_t w[VR_MSG_REGS],
				 unsigned flags, uint64_t timeout_ns)
{
	return vr_trap_short(VR_SYS_ipc_send_short, ep, (long)tag, flags, (long)timeout_ns, w, NULL,
			     NULL);
}

static inline long vr_recv_short(uint32_t ep, uint64_t out[VR_MSG_REGS], uint64_t *badge,
				 unsigned flags, uint64_t timeout_ns)
{
	return vr_trap_short(VR_SYS_ipc_recv_short, ep, flags, (long)timeout_ns, 0, NULL, out,
			     badge);
}

static inline long vr_call_short(uint32_t ep, uint64_t tag, const uint64_t w[VR_MSG_REGS],
				 uint64_t out[VR_MSG_REGS], unsigned flags, uint64_t timeout_ns)
{
	return vr_trap_short(VR_SYS_ipc_call_short, ep, (long)tag, flags, (long)timeout_ns, w, out,
			     NULL);
}

static inline long vr_reply_short(uint64_t tag, const uint64_t w[VR_MSG_REGS])
{
	return vr_trap_short(VR_SYS_ipc_reply_short, (long)tag, 0, 0, 0, w, NULL, NULL);
}

static inline long vr_reply_recv_short(uint32_t ep, uint64_t tag, const uint64_t w[VR_MSG_REGS],
				       uint64_t out[VR_MSG_REGS], uint64_t *badge, unsigned flags,
				       uint64_t timeout_ns)
{
	return vr_trap_short(VR_SYS_ipc_reply_recv_short, ep, (long)tag, flags, (long)timeout_ns, w,
			     out, badge);
}

static inline long sys_notify_signal(uint32_t n, uint64_t bits)
{
	return vr_sys_notify_signal(n, (long)bits, 0, 0, 0);
}

static inline long sys_notify_wait(uint32_t n, unsigned flags)
{
	return vr_sys_notify_wait(n, flags, 0, 0, 0);
}

/* ---- Scheduling, timeouts and timer notifications (docs/scheduling.md) ---- */

/* pid 0 is the caller; changing works on the caller and its children. */
static inline long sys_sched_set(long pid, unsigned policy, int prio_or_nice)
{
	return vr_sys_sched_set(pid, policy, prio_or_nice, 0, 0);
}

static inline long sys_sched_get(long pid, struct vr_sched_info *out)
{
	return vr_sys_sched_get(pid, (long)out, 0, 0, 0);
}

/* Returns the previous mask; mask 0 only queries. */
static inline long sys_sched_affinity(long pid, uint64_t mask)
{
	return vr_sys_sched_affinity(pid, (long)mask, 0, 0, 0);
}

/* Signal `bits` on n at `deadline_ns` (kernel clock) and then every
 * `period_ns` if not 0; deadline 0 disarms. */
static inline long sys_notify_timer(uint32_t n, uint64_t deadline_ns, uint64_t period_ns,
				    uint64_t bits)
{
	return vr_sys_notify_timer(n, (long)deadline_ns, (long)period_ns, (long)bits, 0);
}

/* IPC with a timeout in ns (VR_ETIMEDOUT when it expires). */
static inline long sys_ipc_send_timeout(uint32_t ep, uint64_t tag, uint64_t timeout_ns)
{
	return vr_sys_ipc_send(ep, (long)tag, VR_IPC_TIMEOUT, (long)timeout_ns, 0);
}

static inline long sys_ipc_recv_timeout(uint32_t ep, uint64_t timeout_ns)
{
	return vr_sys_ipc_recv(ep, VR_IPC_TIMEOUT, (long)timeout_ns, 0, 0);
}

static inline long sys_ipc_call_timeout(uint32_t ep, uint64_t tag, uint64_t timeout_ns)
{
	return vr_sys_ipc_call(ep, (long)tag, VR_IPC_TIMEOUT, (long)timeout_ns, 0);
}

static inline long sys_notify_wait_timeout(uint32_t n, uint64_t timeout_ns)
{
	return vr_sys_notify_wait(n, VR_IPC_TIMEOUT, (long)timeout_ns, 0, 0);
}

/* "fair", "fifo", "rr", "batch", "idle" ("?" for anything else). */
static inline const char *vrt_policy_name(unsigned policy)
{
	static const char *const names[] = { "fair", "fifo", "rr", "batch", "idle" };

	return policy < 5 ? names[policy] : "?";
}

/* spawn() with C strings. Returns a process capability handle: wait()
 * and kill() take it; cap_identify's id is the pid. Delete it when done. */
long spawn(const char *path, const char *args);

/* The pid of the process capability p names. */
long process_pid(uint32_t p);

/* Wait for the child p names to end, store its exit status and delete p:
 * 0, or an error (p is kept then). */
long wait_child(uint32_t p, int *status);

/* ---- Threads and thread-local storage (docs/scheduling.md) ----
 * Every thread's TLS pointer (at %gs:0) names its vrt_thread, which starts
 * with a pointer to itself and holds the thread's IPC buffer. The main thread's lives
 * in the runtime's data; another thread's sits above its stack, in the
 * memory object the runtime maps for it. */
struct vrt_thread {
	struct vrt_thread *self;   /* first: on x86_64 the GS base points here */
	struct vr_ipc_buffer *ipc; /* this thread's IPC buffer */
	uint32_t handle;           /* thread capability; VR_CAP_INVALID for the main thread */
	uint32_t mem;              /* memory object of its stack and this block */
	int index;                 /* -1 for the main thread */
	int (*fn)(void *);
	void *arg;
	void *user; /* for the program: any per-thread pointer */
};

/* %gs:0 is the thread pointer in both builds (abi.h); no other GS offset
 * is meaningful. */
static inline struct vrt_thread *vrt_self(void)
{
	struct vrt_thread *t;

	__asm__("mov %%gs:0, %0" : "=r"(t));
	return t;
}

static inline struct vr_ipc_buffer *ipc_buffer(void)
{
	return vrt_self()->ipc;
}

#define VRT_THREAD_STACK_PAGES 16u /* 64 KiB */

/* Run fn(arg) in a new thread of this process (it inherits the caller's
 * scheduling policy). *out names it for thread_join. VR_EAGAIN when
 * VR_THREADS_MAX threads of the runtime exist. */
long thread_start(struct vrt_thread **out, int (*fn)(void *), void *arg);

/* Wait for t to end, store its status (fn's return value, or what it gave
 * thread_exit or a kill) and free its stack and capability. */
long thread_join(struct vrt_thread *t, int *status);

/* End the calling thread (the process ends with its last thread). */
_Noreturn void thread_exit(int status);

static inline long sys_thread_suspend(uint32_t t)
{
	return vr_sys_thread_suspend(t, 0, 0, 0, 0);
}

static inline long sys_thread_resume(uint32_t t)
{
	return vr_sys_thread_resume(t, 0, 0, 0, 0);
}

static inline long sys_thread_kill(uint32_t t, int status)
{
	return vr_sys_thread_kill(t, status, 0, 0, 0);
}

/* flags: VR_IPC_NONBLOCK, VR_IPC_TIMEOUT (with timeout_ns). */
static inline long sys_thread_join(uint32_t t, int *status, unsigned flags, uint64_t timeout_ns)
{
	return vr_sys_thread_join(t, (long)status, flags, (long)timeout_ns, 0);
}

static inline long sys_thread_self(void)
{
	return vr_sys_thread_self(0, 0, 0, 0, 0);
}

/* Kill the process p names (DELETE right): it exits with `status`. */
static inline long sys_kill(uint32_t p, int status)
{
	return vr_sys_kill(p, status, 0, 0, 0);
}

/* Freestanding C subset. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size); /* returns strlen(src) */

/*
 * Parses a decimal integer (optional '-'); returns false unless the whole
 * string is a number that fits.
 */
bool vrt_parse_long(const char *s, long *out);

/*
 * printf family: %d %i %u %x %X %p %s %c %%, flags '-' and '0', a width and
 * (for %s) a precision, either may be '*'; length modifiers l, ll, z.
 * printf output is buffered per call and written with as few console_write
 * calls as fit (one for anything under 256 bytes), so lines from concurrent
 * processes do not interleave mid-line.
 */
#define VRT_PRINTF(f, a) __attribute__((format(printf, f, a)))
int vr_printf(const char *fmt, ...) VRT_PRINTF(1, 2);
int printf(const char *fmt, ...) VRT_PRINTF(1, 2);
int vprintf(const char *fmt, va_list ap) VRT_PRINTF(1, 0);
int snprintf(char *buf, size_t size, const char *fmt, ...) VRT_PRINTF(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) VRT_PRINTF(3, 0);
int puts(const char *s); /* s and a newline */
int putchar(int c);
long vrt_write(const char *buf, size_t len); /* all of buf, retrying short writes */

/*
 * Reads one line from the console into buf (NUL-terminated, without the end
 * of line), echoing what it reads because the console is raw. Backspace
 * (0x7f, 0x08) erases; '\r', '\n' and "\r\n" end a line; Ctrl-C abandons the
 * line (returns 0); other control bytes and escape sequences are dropped;
 * bytes beyond size - 1 are dropped. Returns the length or a vr_error.
 */
long readline(char *buf, size_t size);

/* ---- Memory objects, fault handlers, quotas (docs/memory.md) ---- */

static inline long sys_mem_create(uint64_t npages)
{
	return vr_sys_mem_create((long)npages, 0, 0, 0, 0);
}

/* prot: VR_PROT_* (READ needed; not WRITE with EXEC), | VR_MAP_NOFILL. */
static inline long sys_mem_map(uint32_t m, void *va, uint64_t first_page, uint64_t npages,
			       unsigned prot)
{
	return vr_sys_mem_map(m, (long)va, (long)first_page, (long)npages, prot);
}

static inline long sys_mem_unmap(void *va, uint64_t npages)
{
	return vr_sys_mem_unmap((long)va, (long)npages, 0, 0, 0);
}

static inline long sys_mem_protect(void *va, unsigned prot)
{
	return vr_sys_mem_protect((long)va, prot, 0, 0, 0);
}

/* A copy-on-write copy of m (needs READ on m). */
static inline long sys_mem_copy(uint32_t m)
{
	return vr_sys_mem_copy(m, 0, 0, 0, 0);
}

static inline long sys_thread_set_fault_ep(uint32_t ep)
{
	return vr_sys_thread_set_fault_ep(ep, 0, 0, 0, 0);
}

static inline long sys_quota_set(uint64_t limit_bytes)
{
	return vr_sys_quota_set((long)limit_bytes, 0, 0, 0, 0);
}

static inline long sys_quota_info(struct vr_quota_info *out)
{
	return vr_sys_quota_info((long)out, 0, 0, 0, 0);
}

/* A new quota of limit_bytes under the quota capability parent (-1: the
 * caller's own quota), named by a new capability. spawn puts a child's
 * quota under it with vr_spawn_caps.flags = VR_SPAWN_QUOTA. */
static inline long sys_quota_create(long parent, uint64_t limit_bytes)
{
	return vr_sys_quota_create(parent, (long)limit_bytes, 0, 0, 0);
}

static inline long sys_quota_cap_info(uint32_t q, struct vr_quota_info *out)
{
	return vr_sys_quota_cap_info(q, (long)out, 0, 0, 0);
}

static inline long sys_quota_cap_set(uint32_t q, uint64_t limit_bytes)
{
	return vr_sys_quota_cap_set(q, (long)limit_bytes, 0, 0, 0);
}

/* A capability to the capability space (VR_SPACE_CAPS) or address space
 * (VR_SPACE_ADDR) of the process p names (WRITE on p). */
static inline long sys_process_space(uint32_t p, unsigned which)
{
	return vr_sys_process_space(p, which, 0, 0, 0);
}

/* Derive a capability from the caller's src into the capability space cs
 * names (like cap_mint); returns its handle there. */
static inline long sys_cap_mint_to(uint32_t cs, uint32_t src, uint32_t rights, uint64_t badge,
				   uint64_t expiry_ns)
{
	return vr_sys_cap_mint_to(cs, src, rights, (long)badge, (long)expiry_ns);
}

static inline long sys_cap_delete_in(uint32_t cs, uint32_t h)
{
	return vr_sys_cap_delete_in(cs, h, 0, 0, 0);
}

/* mem_map / mem_unmap in the address space vs names (process_space). */
static inline long sys_mem_map_into(uint32_t vs, const struct vr_map_req *req)
{
	return vr_sys_mem_map_into(vs, (long)req, 0, 0, 0);
}

static inline long sys_mem_unmap_from(uint32_t vs, uint64_t slot_offset, uint64_t npages)
{
	return vr_sys_mem_unmap_from(vs, (long)slot_offset, (long)npages, 0, 0);
}

/* An address `off` bytes into the caller's own slot. */
static inline void *vrt_slot_addr(uint64_t off)
{
	return (void *)(uintptr_t)(vrt_start_info->slot_base + off);
}

#pragma GCC visibility pop

#endif
