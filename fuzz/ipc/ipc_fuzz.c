/*
 * IPC fuzz harness: sequences of capability, endpoint, notification and
 * process operations among several processes, run by the real kernel (all
 * of core/) over the fake HAL of ipc_hal.c. One source for libFuzzer and
 * AFL++ (LLVMFuzzerTestOneInput). See fuzz/ipc/README.md for the input
 * format.
 *
 * The kernel boots once per fuzzer process, from an in-memory initrd
 * holding one tiny static-pie ELF as bin/init and bin/worker. Its "user
 * code" is this file: hal_user_enter() lands in ipch_user_main() on the
 * thread's kernel stack, and every syscall is a call of kernel_syscall(),
 * as the trap entry makes it. Each input runs like this:
 *
 *   init (the root R) sleeps between inputs; the host wakes it through the
 *   timer -> R creates endpoints and notifications, spawns 1-4 workers with
 *   capabilities to them (some badged or with fewer rights), deletes its own
 *   -> each actor (a worker's first thread, or a thread a worker made with
 *   thread_create) runs its own list of operations from the input (the
 *   kernel's scheduler decides the interleaving; yield, tick and blocking
 *   change it), then ends its thread -> R reaps its children -> when nothing can run
 *   any more and processes remain (a deadlock, or a sleep forever), the idle
 *   hook kills every process left -> R sleeps again and the idle hook checks
 *   that the kernel is back to the state after boot.
 *
 * Invariants checked (ipch_fail() on violation):
 *  1. After every syscall: ipcf_check_all() (scheduler, processes, frame and
 *     slab allocators, every cspace, every object's capability count,
 *     endpoint and notification queues); the syscall returned on the thread
 *     that made it, with its address space active and its kernel stack set;
 *     the result is >= 0 or a vr_error.
 *  2. A message received has the tag returned, words as the sender wrote
 *     them, and each received handle names a capability (or is stale: a
 *     revoke by another process may have deleted it since the transfer).
 *  3. Capabilities sent in a delivered message are gone from the sender
 *     (unless some cspace was nearly full: the transfer may have failed).
 *  4. hal_idle: the timer is armed no later than the first sleeper's wake
 *     time; and after every input only init and idle remain, init holds no
 *     capability, and the free frame, slab page and object counts equal
 *     those after boot (nothing leaked).
 *  5. Threads and processes: each thread runs with its own IPC buffer
 *     mapped and the TLS base it set; thread and process syscalls return
 *     the documented errors (capability decoding in the documented order
 *     with the documented rights, bad addresses, a dying or exited
 *     target, a process not a child) and have their effects (a new
 *     suspended thread, a killed thread or process runnable until it
 *     exits, a join's status, a reaped child); a suspended thread is one
 *     made and not resumed or asked to suspend since (hal_idle).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/ipc/ipc_fuzz.h"
#include "fuzz/ipc/ipc_hal.h"

#include <veridian/cap.h>
#include <veridian/ipc.h>
#include <veridian/kheap.h>
#include <veridian/pmm.h>
#include <veridian/proc.h>
#include <veridian/sched.h>

#define RAM_BYTES (4u << 20) /* small: pmm_check() walks every frame after each allocation */
#define MAX_ACTORS 8u        /* worker processes with operations of their own */
#define MAX_OPS 400u
#define HDR_BYTES 3u
#define OP_BYTES 4u
#define HANDLES 16u /* handles a worker remembers */
#define INPUT_GAP_NS 1000000000ull
#define DRAIN_NS 1000000ull
#define SLEEP_HORIZON_NS 3600000000000ull /* a sleep longer than this is forever */
#define SLICE_NS 10000000ull
#define TEARDOWN_STATUS 137
#define ELF_ENTRY IPCH_ELF_ENTRY
#define MAX_EXITS 64u /* thread exit statuses remembered per input */
#define MAX_SUSP 512u /* > the threads an input can make (one per operation) */

/* The arg of a thread made by thread_create: THREAD_ARG_MAGIC << 32 |
 * actor << 16 | IPC buffer page << 8 | TLS choice. hal_user_enter() hands
 * it to ipch_user_main(), which tells a new thread from a process's first
 * (whose arg is its start info) by it. */
#define THREAD_ARG_MAGIC 0x74687264ull /* "thrd" */
#define THREAD_NO_ACTOR 0xffu
/* Scratch pages: the first thread of a process uses the top page of the
 * stack, a thread made by thread_create the page 2 + its actor index (or
 * 2 + MAX_ACTORS without one) below the top: all within the stack pages
 * mapped at spawn (PROC_STACK_EAGER_PAGES). */
#define THREAD_SCRATCH_PAGE(idx) (2u + ((idx) < MAX_ACTORS ? (idx) : MAX_ACTORS))
_Static_assert(THREAD_SCRATCH_PAGE(MAX_ACTORS) < PROC_STACK_EAGER_PAGES,
	       "thread scratch pages are mapped at spawn");

/* User scratch memory: the top page of the stack (no user code uses it). */
#define SCR_PATH 0u
#define SCR_ARGS 64u
#define SCR_SPAWN_CAPS 256u
#define SCR_OUT 512u
#define SCR_STATUS 1024u
/* Unmapped in every slot: between the first IPC buffer and the threads'
 * IPC buffer area (VR_SLOT_THREAD_IPCBUF_OFF, where a thread's buffer may
 * be mapped), below VR_SLOT_IMAGE_OFF, which mem_map cannot reach. */
#define BAD_USER_OFF 0x8000ull
_Static_assert(BAD_USER_OFF > VR_SLOT_IPCBUF_OFF && BAD_USER_OFF < VR_SLOT_THREAD_IPCBUF_OFF,
	       "BAD_USER_OFF is never mapped");

enum op_code {
	OP_EP_CREATE,
	OP_NTF_CREATE,
	OP_MINT,
	OP_COPY,
	OP_DELETE,
	OP_REVOKE,
	OP_IDENTIFY,
	OP_SEND,
	OP_RECV,
	OP_CALL,
	OP_REPLY,
	OP_REPLY_RECV,
	OP_SIGNAL,
	OP_NWAIT,
	OP_SPAWN,
	OP_EXIT,
	OP_KILL,
	OP_WAIT,
	OP_YIELD,
	OP_TICK,
	OP_SLEEP,
	OP_INFO,
	OP_RAW,
	OP_CALL2,
	OP_THREAD_CREATE,
	OP_THREAD_RESUME,
	OP_THREAD_SUSPEND,
	OP_THREAD_KILL,
	OP_THREAD_JOIN,
	OP_THREAD_EXIT,
	OP_THREAD_SELF,
	OP_THREAD_START,
	OP_COUNT /* 32: the opcode is the low 5 bits of an operation's first byte */
};

static const char *const op_names[OP_COUNT] = {
	"endpoint_create",
	"notification_create",
	"mint",
	"copy",
	"delete",
	"revoke",
	"identify",
	"send",
	"recv",
	"call",
	"reply",
	"reply_recv",
	"signal",
	"notify_wait",
	"spawn",
	"exit",
	"kill",
	"wait",
	"yield",
	"tick",
	"sleep",
	"info",
	"raw",
	"call",
	"thread_create",
	"thread_resume",
	"thread_suspend",
	"thread_kill",
	"thread_join",
	"thread_exit",
	"thread_self",
	"thread_start",
};

struct op {
	uint8_t code, a, b, c;
};

/* An actor is a thread running operations of its own: the first thread of
 * a worker process, or a thread a worker made with thread_create. */
struct actor {
	bool spawned;   /* spawn or thread_create succeeded (or is under way) */
	bool thread;    /* made by thread_create: shares its creator's process */
	int64_t pid;    /* 0 until known */
	int64_t tid;    /* 0 until it runs */
	int64_t proc;   /* its process capability in its spawner's space; -1 until spawned */
	unsigned ninit; /* initial capabilities: handles 0..ninit-1 */
	uint16_t ops[MAX_OPS];
	unsigned nops, next;
	uint32_t h[HANDLES]; /* handles it was given or made (may go stale) */
	unsigned nh, h_next;
	uint64_t seq;
};

/* One running "user program": a thread and what it knows. */
struct user {
	struct thread *t;
	struct process *p;
	struct actor *a; /* NULL for init and for workers without operations */
	unsigned idx;
	uintptr_t base, scratch;
	uintptr_t tls; /* the TLS base it asked for: hal_set_user_tls must agree */
	struct vr_ipc_buffer *buf;
	uintptr_t buf_va; /* where buf is in the process's slot */
};

enum phase { PH_BOOT, PH_IDLE, PH_RUN };

static struct {
	enum phase phase;
	bool booted, have_base, trace, torn_down;
	bool space_was_full; /* some cspace was nearly full during this input */
	unsigned n_initial;
	uint8_t obj_byte, mode_byte;
	struct op ops[MAX_OPS];
	unsigned nops;
	struct actor actors[MAX_ACTORS];
	unsigned next_actor;
	struct process *root;
	struct {
		int64_t tid;
		int status;
	} exits[MAX_EXITS]; /* threads that ended themselves, for thread_join */
	unsigned nexits;
	struct {
		int64_t tid;
		bool started; /* resumed at least once (first threads start at spawn) */
		bool pending; /* a suspension was asked for and not undone by a resume */
	} susp[MAX_SUSP];     /* the suspension model of threads made or suspended */
	unsigned nsusp;
	uint64_t steps;
	struct pmm_stats base_pmm;
	struct kheap_stats base_heap;
} fz;

noreturn void ipch_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ipc_fuzz: step %" PRIu64 ": ", fz.steps);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nconsole tail:\n%s\n", ipch_console_tail());
	abort();
}

static void trace(const struct user *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(const struct user *u, const char *fmt, ...)
{
	va_list ap;

	if (!fz.trace)
		return;
	fprintf(stderr, "[%6" PRIu64 "] pid %lld tid %lld %-6s ", fz.steps, (long long)u->p->pid,
		(long long)u->t->tid, u->a ? "" : "(init)");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- User memory, reached through the process's page tables -------------- */

/* The host address of user [va, va+len) (inside one page), which must be
 * mapped for the user (and writable if `write`). */
static void *uva(const struct process *p, uintptr_t va, size_t len, bool write)
{
	uint64_t pte;

	if ((va & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
		ipch_fail("harness access %#lx+%zu crosses a page", (unsigned long)va, len);
	pte = vm_lookup(&p->vs, va);
	if (!(pte & PTE_P) || !(pte & PTE_U) || (write && !(pte & PTE_W)))
		ipch_fail("user address %#lx of pid %lld is not mapped (pte %#llx)",
			  (unsigned long)va, (long long)p->pid, (unsigned long long)pte);
	return phys_to_virt((pte & PTE_ADDR_MASK) + (va & (PAGE_SIZE - 1)));
}

static void put_user(const struct user *u, uintptr_t off, const void *src, size_t len)
{
	memcpy(uva(u->p, u->scratch + off, len, true), src, len);
}

static const char *user_string(const struct process *p, uintptr_t va)
{
	const char *s = uva(p, va, 1, false);
	size_t room = PAGE_SIZE - (va & (PAGE_SIZE - 1));

	if (strnlen(s, room) == room)
		ipch_fail("argument string at %#lx is not terminated in its page",
			  (unsigned long)va);
	return s;
}

/* ---- Syscalls ------------------------------------------------------------ */

static uintptr_t kstack_top_of(const struct thread *t)
{
	return (uintptr_t)phys_to_virt(t->kstack_pa) + KSTACK_PAGES * PAGE_SIZE;
}

/* The message registers of a short IPC syscall: where a real host's entry
 * saves r12-r15 and rbx (hal.h), kept free on the harness's stacks
 * (ipc_hal.c init_stack). */
static struct hal_msg_regs *msg_regs_of(const struct user *u)
{
	return (struct hal_msg_regs *)(kstack_top_of(u->t) - HAL_MSG_REGS_OFF);
}

/* After anything that may have switched threads: we are back on our own
 * thread, in our own address space, and every invariant holds. */
static void after_step(const struct user *u)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t top = kstack_top_of(u->t);

	fz.steps++;
	if (sched_current() != u->t)
		ipch_fail("user code of tid %lld resumed while tid %lld is current",
			  (long long)u->t->tid, (long long)sched_current()->tid);
	if (ipch.active_pml4 != u->p->vs.pml4_pa)
		ipch_fail("pid %lld runs with another address space active", (long long)u->p->pid);
	if (ipch.kstack_top != top || sp >= top || sp < top - KSTACK_PAGES * PAGE_SIZE)
		ipch_fail("tid %lld: kernel stack not set to its own", (long long)u->t->tid);
	if (ipch.user_tls != u->tls)
		ipch_fail("tid %lld runs with TLS base %#lx, it set %#lx", (long long)u->t->tid,
			  (unsigned long)ipch.user_tls, (unsigned long)u->tls);
	/* the IPC buffer stays mapped, and is the kernel's, while the thread lives */
	if ((vm_lookup(&u->p->vs, u->buf_va) & PTE_ADDR_MASK) != u->t->ipc.buf_pa ||
	    !u->t->ipc.buf_pa)
		ipch_fail("tid %lld: its IPC buffer at %#lx is not the kernel's",
			  (long long)u->t->tid, (unsigned long)u->buf_va);
	ipcf_check_all(fz.root, false);
	if (ipcf_min_free_slots < VR_MSG_CAPS)
		fz.space_was_full = true;
}

static int64_t sys(const struct user *u, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
		   uint64_t a3, uint64_t a4)
{
	int64_t r = kernel_syscall(nr, a0, a1, a2, a3, a4);

	after_step(u);
	if (r < 0 && r < -(int64_t)(VR_ERROR_COUNT - 1))
		ipch_fail("syscall %llu returned %lld, which is not a vr_error",
			  (unsigned long long)nr, (long long)r);
	return r;
}

#define SYS0(u, nr) sys(u, nr, 0, 0, 0, 0, 0)
#define SYS1(u, nr, a0) sys(u, nr, a0, 0, 0, 0, 0)
#define SYS2(u, nr, a0, a1) sys(u, nr, a0, a1, 0, 0, 0)
#define SYS3(u, nr, a0, a1, a2) sys(u, nr, a0, a1, a2, 0, 0)

static int64_t spawn(const struct user *u, const char *path, const char *args,
		     const struct vr_spawn_caps *sc, uintptr_t caps_va)
{
	put_user(u, SCR_PATH, path, strlen(path));
	put_user(u, SCR_ARGS, args, strlen(args));
	if (sc)
		put_user(u, SCR_SPAWN_CAPS, sc, sizeof(*sc));
	return sys(u, VR_SYS_spawn, u->scratch + SCR_PATH, strlen(path), u->scratch + SCR_ARGS,
		   strlen(args), caps_va);
}

/* ---- Handles ------------------------------------------------------------- */

static void add_handle(struct actor *a, uint32_t h)
{
	if (a->nh < HANDLES)
		a->h[a->nh++] = h;
	else
		a->h[a->h_next++ % HANDLES] = h;
}

/* A handle operand: one the worker holds, or one of a few bad ones. */
static uint64_t pick(const struct actor *a, uint8_t b)
{
	static const uint64_t bad[8] = {
		VR_CAP_INVALID, 255, 256, 1ull << 32, 1u << 16, (5u << 16) | 3, 0, 1,
	};

	if (b >= 0xf8)
		return bad[b - 0xf8];
	return a->nh ? a->h[b % a->nh] : 0;
}

/* A user pointer operand for output: good scratch, NULL, read-only (the
 * info page) or unmapped. */
static uintptr_t out_ptr(const struct user *u, uint8_t sel, uintptr_t off)
{
	switch (sel & 3) {
	case 0:
		return u->scratch + off;
	case 1:
		return 0;
	case 2:
		return u->base + VR_SLOT_INFO_OFF;
	}
	return u->base + BAD_USER_OFF;
}

/* The object a handle of ours names as a capability of `type` (KOBJ_NONE:
 * any), whatever its rights and expiry, or NULL: the harness's view of
 * what a syscall did. Valid until the next step may switch threads. */
static struct kobj *peek(const struct user *u, uint64_t h, enum kobj_type type)
{
	struct cap *c;

	if (h > UINT32_MAX || cap_lookup(u->p->cs, (cap_handle_t)h, type, 0, 0, &c))
		return NULL;
	return c->obj;
}

static struct thread *peek_thread(const struct user *u, uint64_t h)
{
	struct kobj *obj = peek(u, h, KOBJ_THREAD);

	return obj ? container_of(obj, struct thread, obj) : NULL;
}

/* Is t exited, or killed (or of a killed process) and not out yet? */
static bool dying(const struct thread *t)
{
	return t->exited || t->kill_req || t->proc->killed;
}

static struct process *peek_proc(const struct user *u, uint64_t h)
{
	struct kobj *obj = peek(u, h, KOBJ_PROCESS);

	return obj ? container_of(obj, struct process, obj) : NULL;
}

/* The error a syscall must return when it decodes handle h as a `type`
 * capability with `rights` (the documented order: range, stale, empty,
 * expired, type, rights); 0 if h decodes. */
static int decode_error(const struct user *u, uint64_t h, enum kobj_type type, uint32_t rights)
{
	struct cap *c;

	if (h > UINT32_MAX)
		return VR_ECAP_RANGE;
	return cap_lookup(u->p->cs, (cap_handle_t)h, type, rights, ipch.clock_ns, &c);
}

static void expect(const char *what, int64_t r, int64_t want)
{
	if (r != want)
		ipch_fail("%s returned %lld, expected %lld", what, (long long)r, (long long)want);
}

/* ---- Messages ------------------------------------------------------------ */

static uint64_t word_mix(uint64_t w0, unsigned i)
{
	uint64_t x = w0 ^ (i * 0x9e3779b97f4a7c15ull);

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 29);
}

static void fill_words(const struct user *u, unsigned nw)
{
	uint64_t w0 = (uint64_t)u->idx << 56 | ++u->a->seq;

	for (unsigned i = 0; i < nw && i < VR_MSG_WORDS; i++)
		u->buf->words[i] = i ? word_mix(w0, i) : w0;
}

/* Build a message in our IPC buffer from the operands: b is the shape
 * (words, capabilities, a stray high tag bit), c the label and the first
 * capability picked. Returns the tag; `sent` gets the handles put in caps[]. */
static uint64_t put_message(const struct user *u, uint8_t b, uint8_t c, uint32_t sent[VR_MSG_CAPS])
{
	static const unsigned nwords[8] = { 0, 1, 2, 3, 4, 8, VR_MSG_WORDS, VR_MSG_WORDS + 1 };
	unsigned nw = nwords[b & 7], nc = (b >> 3) & 7;
	uint64_t tag = VR_MSG_TAG(c, nw & 0xff, nc);

	if ((b >> 6) == 3)
		tag |= 1ull << 43;
	fill_words(u, nw);
	for (unsigned i = 0; i < VR_MSG_CAPS; i++) {
		sent[i] = i < nc ? (uint32_t)pick(u->a, (uint8_t)((c >> 4) + i)) : VR_CAP_INVALID;
		u->buf->caps[i] = sent[i];
	}
	return tag;
}

static uint64_t ipc_flags(uint8_t c)
{
	return (c & 1 ? VR_IPC_NONBLOCK : 0) | ((c & 0x0e) == 0x0e ? 4u : 0);
}

/* Short IPC (docs/ipc.md): the operation's words travel in the message
 * registers when bits 1-2 of operand c are 01 (a quarter of the IPC
 * operations; the bad-flag pattern 111 of ipc_flags() stays apart). */
static bool short_op(uint8_t c)
{
	return ((c >> 1) & 3) == 1;
}

/* A short sender: its first words go in its message registers. */
static void put_regs(const struct user *u)
{
	for (unsigned i = 0; i < VR_MSG_REGS; i++)
		msg_regs_of(u)->w[i] = u->buf->words[i];
}

/* Invariant 2 for the words a short receiver got in its registers (the
 * rest 0, and all 0 when a long message came through the buffer). True if
 * the buffer holds them instead. */
static bool check_regs(const struct user *u, int64_t tag)
{
	const struct hal_msg_regs *m = msg_regs_of(u);
	unsigned nw = VR_MSG_NWORDS(tag), n = nw <= VR_MSG_REGS ? nw : 0;

	for (unsigned i = 0; i < VR_MSG_REGS; i++) {
		uint64_t want = i >= n ? 0 : i ? word_mix(m->w[0], i) : m->w[0];
		if (m->w[i] != want)
			ipch_fail("received register word %u of %u corrupted", i, nw);
	}
	return nw > VR_MSG_REGS;
}

/* Invariant 2, then remember the received capabilities. */
static void check_received(const struct user *u, int64_t tag, bool regs)
{
	const struct vr_ipc_buffer *b = u->buf;
	unsigned nw = VR_MSG_NWORDS(tag);

	if (tag < 0)
		return;
	if (nw > VR_MSG_WORDS || VR_MSG_NCAPS(tag) > VR_MSG_CAPS)
		ipch_fail("received tag %#llx", (unsigned long long)tag);
	if (!regs || check_regs(u, tag)) {
		if (b->tag != (uint64_t)tag)
			ipch_fail("received tag %#llx, buffer says %#llx", (unsigned long long)tag,
				  (unsigned long long)b->tag);
		for (unsigned i = 1; i < nw; i++)
			if (b->words[i] != word_mix(b->words[0], i))
				ipch_fail("received word %u of %u corrupted", i, nw);
	}
	for (unsigned i = 0; i < VR_MSG_NCAPS(tag); i++) {
		struct cap *c;
		if (b->caps[i] == VR_CAP_INVALID)
			continue;
		/* STALE: valid at the transfer, revoked by another process since */
		int err = cap_lookup(u->p->cs, b->caps[i], KOBJ_NONE, 0, 0, &c);
		if (err && err != VR_ECAP_STALE)
			ipch_fail("received handle %#x names no capability (%d)", b->caps[i], err);
		if (u->a)
			add_handle(u->a, b->caps[i]);
	}
}

/* Invariant 3: a delivered message took its capabilities along. */
static void check_moved(const struct user *u, uint64_t tag, const uint32_t sent[VR_MSG_CAPS])
{
	/* a receiver with a full space gets VR_CAP_INVALID: the sender keeps it */
	if (fz.space_was_full)
		return;
	for (unsigned i = 0; i < VR_MSG_NCAPS(tag) && i < VR_MSG_CAPS; i++) {
		struct cap *c;
		int err = cap_lookup(u->p->cs, sent[i], KOBJ_NONE, 0, 0, &c);
		if (err != VR_ECAP_STALE)
			ipch_fail("handle %#x was sent but the sender still has it (%d)", sent[i],
				  err);
	}
}

/* ---- Operations ---------------------------------------------------------- */

static void op_create(const struct user *u, uint64_t nr)
{
	const char *what = nr == VR_SYS_endpoint_create ? "endpoint_create" : "notification_create";
	int64_t r = SYS0(u, nr);

	trace(u, "%s = %lld", what, (long long)r);
	if (r >= 0)
		add_handle(u->a, (uint32_t)r);
}

static void op_mint(const struct user *u, const struct op *o)
{
	uint64_t h = pick(u->a, o->a);
	uint32_t rights = (o->b & 0xc0) == 0xc0 ? o->b : o->b & VR_CAP_ALL;
	int64_t delta = ((int64_t)(o->c >> 2) - 8) * 1000;
	uint64_t expiry = 0;
	int64_t r;

	if (o->c >> 2) {
		expiry = ipch.clock_ns + (uint64_t)delta;
		if (delta < 0 && ipch.clock_ns < (uint64_t)-delta)
			expiry = 1;
	}
	r = sys(u, VR_SYS_cap_mint, h, rights, o->c & 3, expiry, 0);
	trace(u, "mint(%#llx, rights %#x, badge %u, expiry %llu) = %lld", (unsigned long long)h,
	      rights, o->c & 3, (unsigned long long)expiry, (long long)r);
	if (r >= 0)
		add_handle(u->a, (uint32_t)r);
}

/* copy, delete, revoke: one handle in, a handle or 0 out. */
static void op_handle(const struct user *u, const struct op *o, uint64_t nr)
{
	uint64_t h = pick(u->a, o->a);
	int64_t r = SYS1(u, nr, h);

	trace(u, "%s(%#llx) = %lld", op_names[o->code], (unsigned long long)h, (long long)r);
	if (nr == VR_SYS_cap_copy && r >= 0)
		add_handle(u->a, (uint32_t)r);
}

static void op_identify(const struct user *u, const struct op *o)
{
	uint64_t h = pick(u->a, o->a);
	uintptr_t out = out_ptr(u, o->b, SCR_OUT);
	int64_t r = SYS2(u, VR_SYS_cap_identify, h, out);

	trace(u, "identify(%#llx, %#lx) = %lld", (unsigned long long)h, (unsigned long)out,
	      (long long)r);
	if (r == 0) {
		const struct vr_cap_info *ci = uva(u->p, out, sizeof(*ci), false);
		const struct kobj *obj = peek(u, h, KOBJ_NONE);
		if (!obj ||
		    (ci->type != VR_OBJ_ENDPOINT && ci->type != VR_OBJ_NOTIFICATION &&
		     ci->type != VR_OBJ_THREAD && ci->type != VR_OBJ_PROCESS) ||
		    ci->type != (uint32_t)obj->type || (ci->rights & ~VR_CAP_ALL) || ci->badge > 4)
			ipch_fail("identify reported type %u rights %#x badge %llu", ci->type,
				  ci->rights, (unsigned long long)ci->badge);
		/* the pid of a process (reaped ones too), the tid of a thread */
		if (ci->id != kobj_id(obj) ||
		    (ci->type == VR_OBJ_THREAD &&
		     ci->id != container_of(obj, const struct thread, obj)->tid) ||
		    (ci->type == VR_OBJ_PROCESS &&
		     ci->id != container_of(obj, const struct process, obj)->pid) ||
		    ((ci->type == VR_OBJ_THREAD || ci->type == VR_OBJ_PROCESS) != (ci->id > 0)))
			ipch_fail("identify reported id %lld for an object of type %u",
				  (long long)ci->id, ci->type);
	}
}

/* send and call */
static void op_send(const struct user *u, const struct op *o, bool call)
{
	uint32_t sent[VR_MSG_CAPS];
	uint64_t ep = pick(u->a, o->a), tag = put_message(u, o->b, o->c, sent);
	uint64_t flags = ipc_flags(o->c), nr = call ? VR_SYS_ipc_call : VR_SYS_ipc_send;
	bool regs = short_op(o->c);
	int64_t r;

	if (regs) {
		put_regs(u);
		nr = call ? VR_SYS_ipc_call_short : VR_SYS_ipc_send_short;
	}
	r = SYS3(u, nr, ep, tag, flags);
	trace(u, "%s%s(%#llx, tag %#llx, flags %llu) = %lld", call ? "call" : "send",
	      regs ? "_short" : "", (unsigned long long)ep, (unsigned long long)tag,
	      (unsigned long long)flags, (long long)r);
	if (r >= 0)
		check_moved(u, tag, sent);
	if (call)
		check_received(u, r, regs);
}

static void op_recv(const struct user *u, const struct op *o)
{
	uint64_t ep = pick(u->a, o->a), flags = ipc_flags(o->c);
	bool regs = short_op(o->c);
	int64_t r = SYS2(u, regs ? VR_SYS_ipc_recv_short : VR_SYS_ipc_recv, ep, flags);

	trace(u, "recv%s(%#llx, flags %llu) = %lld", regs ? "_short" : "", (unsigned long long)ep,
	      (unsigned long long)flags, (long long)r);
	check_received(u, r, regs);
}

static void op_reply(const struct user *u, const struct op *o)
{
	uint32_t sent[VR_MSG_CAPS];
	uint64_t tag = put_message(u, o->b, o->c, sent);
	bool regs = short_op(o->c);
	int64_t r;

	if (regs)
		put_regs(u);
	r = SYS1(u, regs ? VR_SYS_ipc_reply_short : VR_SYS_ipc_reply, tag);
	trace(u, "reply%s(tag %#llx) = %lld", regs ? "_short" : "", (unsigned long long)tag,
	      (long long)r);
	if (r == 0)
		check_moved(u, tag, sent);
}

static void op_reply_recv(const struct user *u, const struct op *o)
{
	uint32_t sent[VR_MSG_CAPS];
	uint64_t ep = pick(u->a, o->a), tag = put_message(u, o->b, o->c, sent);
	uint64_t flags = ipc_flags(o->c);
	bool regs = short_op(o->c);
	int64_t r;

	if (regs)
		put_regs(u);
	r = SYS3(u, regs ? VR_SYS_ipc_reply_recv_short : VR_SYS_ipc_reply_recv, ep, tag, flags);
	trace(u, "reply_recv%s(%#llx, tag %#llx, flags %llu) = %lld", regs ? "_short" : "",
	      (unsigned long long)ep, (unsigned long long)tag, (unsigned long long)flags,
	      (long long)r);
	check_received(u, r, regs);
}

static void op_signal(const struct user *u, const struct op *o)
{
	uint64_t n = pick(u->a, o->a);
	uint64_t bits = o->c == 0xff ? 1ull << 63 : (uint64_t)o->b | (uint64_t)o->c << 8;
	int64_t r = SYS2(u, VR_SYS_notify_signal, n, bits);

	trace(u, "signal(%#llx, %#llx) = %lld", (unsigned long long)n, (unsigned long long)bits,
	      (long long)r);
}

static void op_notify_wait(const struct user *u, const struct op *o)
{
	uint64_t n = pick(u->a, o->a), flags = ipc_flags(o->c);
	int64_t r = SYS2(u, VR_SYS_notify_wait, n, flags);

	trace(u, "notify_wait(%#llx, flags %llu) = %lld", (unsigned long long)n,
	      (unsigned long long)flags, (long long)r);
}

/* a: first capability picked; b: count (0-3, or 9 = too many), a missing
 * program (bit 5); c == 0xff: the capability list is at a bad address. */
static void op_spawn(const struct user *u, const struct op *o)
{
	struct vr_spawn_caps sc = { .count = (o->b & 0x1c) == 0x1c ? 9 : o->b & 3 };
	const char *path = o->b & 0x20 ? "bin/nothing" : "bin/worker";
	unsigned child = fz.next_actor < MAX_ACTORS ? fz.next_actor++ : MAX_ACTORS;
	uintptr_t caps_va = o->c == 0xff ? u->base + BAD_USER_OFF
			    : sc.count   ? u->scratch + SCR_SPAWN_CAPS
					 : 0;
	char args[32];
	int64_t r;

	for (unsigned i = 0; i < sc.count && i < VR_SPAWN_CAPS_MAX; i++)
		sc.handles[i] = (uint32_t)pick(u->a, (uint8_t)(o->a + i));
	if (child < MAX_ACTORS) {
		snprintf(args, sizeof(args), "worker %u", child);
		fz.actors[child].spawned = true;
		fz.actors[child].ninit = sc.count <= VR_SPAWN_CAPS_MAX ? sc.count : 0;
	} else {
		snprintf(args, sizeof(args), "worker -");
	}
	r = spawn(u, path, args, &sc, caps_va);
	trace(u, "spawn(%s, \"%s\", %u caps) = %lld", path, args, sc.count, (long long)r);
	if (r >= 0) {
		add_handle(u->a, (uint32_t)r); /* to copy, mint, send, kill and wait on */
		if (child < MAX_ACTORS)
			fz.actors[child].proc = r;
	}
}

/* A process handle for kill and wait. a < 0x80: an actor's (a % 10 < 8:
 * valid in its spawner's space only; elsewhere it names whatever that
 * slot holds), -1 (wait: any child), or 0; a >= 0x80: a handle picked as
 * for other operations (received, minted, copied; bad ones). */
static uint64_t target_proc(const struct user *u, uint8_t a)
{
	unsigned i = a % 10;

	if (a >= 0x80)
		return pick(u->a, a);
	if (i < MAX_ACTORS)
		return fz.actors[i].proc >= 0 ? (uint64_t)fz.actors[i].proc : 999;
	return i == 8 ? (uint64_t)-1 : 0;
}

/* The process h names after a step that may have switched threads, if it
 * is still the one seen before it (same record, same pid). */
static struct process *repeek_proc(const struct user *u, uint64_t h, const struct process *p,
				   int64_t pid)
{
	struct process *now = peek_proc(u, h);

	return now && now == p && now->pid == pid ? now : NULL;
}

/* After a kill, every thread of p is runnable: woken from any wait or
 * suspension, so that it reaches its kernel boundary and exits. */
static void check_all_woken(const struct process *p)
{
	const struct list *l;

	list_for_each(l, &p->threads) {
		const struct thread *t = container_of(l, const struct thread, proc_link);
		if (t->state != VR_THREAD_RUNNABLE)
			ipch_fail("kill of pid %lld, tid %lld: left it in state %d",
				  (long long)p->pid, (long long)t->tid, t->state);
	}
}

/* kill needs DELETE; a process that has exited (reaped or not) is
 * VR_ESRCH; a live one is marked killed (it exits at its next boundary). */
static void op_kill(const struct user *u, const struct op *o)
{
	uint64_t h = target_proc(u, o->a);
	int want = decode_error(u, h, KOBJ_PROCESS, VR_CAP_DELETE);
	struct process *p = want ? NULL : peek_proc(u, h);
	int64_t pid = p ? p->pid : 0;
	bool exited = p && p->zombie;
	uint64_t switches = ipch.context_switches;
	int64_t r = SYS2(u, VR_SYS_kill, h, o->b);

	trace(u, "kill(%#llx, %u) = %lld", (unsigned long long)h, o->b, (long long)r);
	if (want)
		return expect("kill", r, want);
	expect("kill", r, exited ? VR_ESRCH : 0);
	p = repeek_proc(u, h, p, pid);
	if (r == 0 && p && !p->killed && !p->zombie)
		ipch_fail("kill of pid %lld returned 0 but it is not killed", (long long)pid);
	if (r == 0 && p && ipch.context_switches == switches)
		check_all_woken(p);
}

/* wait(p) needs READ and a child of the caller not yet waited for (else
 * VR_ECHILD); it returns that child's pid and leaves the record reaped. */
static void op_wait(const struct user *u, const struct op *o)
{
	uint64_t h = target_proc(u, o->a);
	uintptr_t st = out_ptr(u, o->c, SCR_STATUS);
	int want = h == (uint64_t)-1 ? 0 : decode_error(u, h, KOBJ_PROCESS, VR_CAP_READ);
	struct process *p = want || h == (uint64_t)-1 ? NULL : peek_proc(u, h);
	int64_t pid = p ? p->pid : 0;
	bool ours = p && p->parent == u->p && !p->reaped;
	int64_t r = SYS2(u, VR_SYS_wait, h, st);

	trace(u, "wait(%#llx, %#lx) = %lld", (unsigned long long)h, (unsigned long)st,
	      (long long)r);
	if (want)
		return expect("wait", r, want);
	if (p && !ours)
		return expect("wait on a process not a child", r, VR_ECHILD);
	if (p && r > 0 && r != pid)
		ipch_fail("wait on pid %lld reaped pid %lld", (long long)pid, (long long)r);
	p = repeek_proc(u, h, p, pid);
	if (p && r > 0 && !p->reaped)
		ipch_fail("wait returned pid %lld but its record is not reaped", (long long)r);
}

/* A timer interrupt in user mode after `delta` ns, as a host delivers it. */
static void op_tick(const struct user *u, const struct op *o)
{
	uint64_t delta = ((uint64_t)o->a | (uint64_t)o->b << 8) * 100 + (o->c & 1 ? SLICE_NS : 0);

	ipch.clock_ns += delta;
	trace(u, "tick(+%llu ns)", (unsigned long long)delta);
	if (ipch.clock_ns >= ipch.timer_deadline)
		kernel_timer_expired();
	kernel_interrupt_exit();
	after_step(u);
}

static void op_info(const struct user *u, const struct op *o)
{
	int64_t r;

	switch (o->a & 3) {
	case 0:
		if ((r = SYS0(u, VR_SYS_getpid)) != u->p->pid)
			ipch_fail("getpid = %lld, pid is %lld", (long long)r, (long long)u->p->pid);
		break;
	case 1:
		if ((r = SYS0(u, VR_SYS_clock)) != (int64_t)ipch.clock_ns)
			ipch_fail("clock = %lld, machine clock %llu", (long long)r,
				  (unsigned long long)ipch.clock_ns);
		break;
	case 2:
		r = SYS1(u, VR_SYS_meminfo, out_ptr(u, o->b, SCR_OUT));
		break;
	default:
		r = SYS1(u, VR_SYS_uname, out_ptr(u, o->b, SCR_OUT));
		break;
	}
	trace(u, "info(%u) = %lld", o->a & 3, (long long)r);
}

static void susp_note(int64_t tid, bool suspend);

/* A syscall of the stable ABI with arbitrary arguments (decoder checks).
 * Not exit, console_read or poweroff, which this harness cannot answer,
 * nor thread_exit and thread_set_tls, whose effects it must know of. (No
 * argument value is in the thread IPC buffer area, so a raw thread_create
 * fails: every thread that runs was made by op_thread_create.) */
static void op_raw(const struct user *u, const struct op *o)
{
	static const uint64_t nrs[] = {
		VR_SYS_yield,
		VR_SYS_console_write,
		VR_SYS_spawn,
		VR_SYS_wait,
		VR_SYS_ps,
		VR_SYS_uname,
		VR_SYS_meminfo,
		VR_SYS_cap_identify,
		VR_SYS_cap_mint,
		VR_SYS_cap_copy,
		VR_SYS_cap_delete,
		VR_SYS_cap_revoke,
		VR_SYS_ipc_send,
		VR_SYS_ipc_recv,
		VR_SYS_ipc_call,
		VR_SYS_ipc_reply,
		VR_SYS_ipc_reply_recv,
		VR_SYS_notify_signal,
		VR_SYS_notify_wait,
		VR_SYS_kill,
		1000,
		UINT64_MAX,
		VR_SYS_thread_create,
		VR_SYS_thread_suspend,
		VR_SYS_thread_resume,
		VR_SYS_thread_join,
		VR_SYS_thread_kill,
		VR_SYS_thread_self,
	};
	const uint64_t vals[8] = {
		0,
		u->scratch,
		u->base + VR_SLOT_INFO_OFF,
		u->base + BAD_USER_OFF,
		UINT64_MAX,
		1ull << 32,
		1,
		(uint64_t)o->c << 8 | o->b,
	};
	uint64_t nr = nrs[o->a % (sizeof(nrs) / sizeof(nrs[0]))];
	int64_t r;

	uint64_t a0 = vals[o->b & 7];
	struct thread *t;

	fill_words(u, VR_MSG_WORDS); /* a raw send's words must pass invariant 2 too */
	/* the suspension model follows raw suspends and resumes too */
	if ((nr == VR_SYS_thread_suspend || nr == VR_SYS_thread_resume) &&
	    !decode_error(u, a0, KOBJ_THREAD, VR_CAP_WRITE) && (t = peek_thread(u, a0)) &&
	    !dying(t))
		susp_note(t->tid, nr == VR_SYS_thread_suspend);
	r = sys(u, nr, a0, vals[(o->b >> 3) & 7], vals[o->c & 7], vals[(o->c >> 3) & 7],
		vals[o->b >> 5]);

	trace(u, "raw syscall %llu (%#x %#x) = %lld", (unsigned long long)nr, o->b, o->c,
	      (long long)r);
}

/* ---- Threads -------------------------------------------------------------- */

/* The stack pointer a thread made by thread_create gets: the top of its
 * scratch page (the harness's user code never uses a user stack). */
static uintptr_t thread_sp(uintptr_t base, unsigned idx)
{
	return base + VR_SLOT_STACK_TOP - (THREAD_SCRATCH_PAGE(idx) - 1) * PAGE_SIZE;
}

/* TLS base choices: none, an address in the slot, the next slot, a
 * non-canonical address (the last two are VR_EINVAL). */
static uintptr_t tls_value(uintptr_t base, unsigned sel)
{
	static const uintptr_t off[4] = { 0, VR_SLOT_IMAGE_OFF, VR_SLOT_SIZE, 0 };

	if (sel == 0)
		return 0;
	return sel == 3 ? (uintptr_t)1 << 63 : base + off[sel & 3];
}

/* The suspension model's entry of a thread (made if missing: a first
 * thread, started at spawn), or NULL when the table is full. */
static typeof(fz.susp[0]) *susp_entry(int64_t tid)
{
	for (unsigned i = 0; i < fz.nsusp; i++)
		if (fz.susp[i].tid == tid)
			return &fz.susp[i];
	if (fz.nsusp == MAX_SUSP)
		return NULL;
	fz.susp[fz.nsusp] = (typeof(fz.susp[0])){ tid, true, false };
	return &fz.susp[fz.nsusp++];
}

static void susp_note(int64_t tid, bool suspend)
{
	typeof(fz.susp[0]) *e = susp_entry(tid);

	if (e) {
		e->pending = suspend;
		e->started |= !suspend;
	}
}

/* hal_idle: a suspended user thread was made and never resumed, or asked
 * to suspend since its last resume (nothing else suspends a thread). */
static void check_suspended(struct thread *t, void *arg)
{
	(void)arg;
	if (!t->proc || t->state != VR_THREAD_SUSPENDED)
		return;
	for (unsigned i = 0; i < fz.nsusp; i++)
		if (fz.susp[i].tid == t->tid && (!fz.susp[i].started || fz.susp[i].pending))
			return;
	if (fz.nsusp < MAX_SUSP)
		ipch_fail("tid %lld is suspended, but it was resumed since it was made or "
			  "last asked to suspend",
			  (long long)t->tid);
}

/* A thread that ends itself records its status: thread_join must report it. */
static void note_exit(const struct user *u, int status)
{
	if (fz.nexits < MAX_EXITS)
		fz.exits[fz.nexits++] = (typeof(fz.exits[0])){ u->t->tid, status };
}

static bool exit_status_of(int64_t tid, int *status)
{
	for (unsigned i = 0; i < fz.nexits; i++)
		if (fz.exits[i].tid == tid) {
			*status = fz.exits[i].status;
			return true;
		}
	return false;
}

/* The new thread of thread_create is the next actor (if any is left): it
 * starts with the handles its creator knows, its own included. */
static void adopt_thread_actor(const struct user *u, unsigned idx, const struct thread *t)
{
	struct actor *c = &fz.actors[idx];

	if (fz.next_actor != idx)
		ipch_fail("actor %u taken while thread_create ran", idx);
	fz.next_actor++;
	c->spawned = true;
	c->thread = true;
	c->pid = u->p->pid;
	c->tid = t->tid;
	memcpy(c->h, u->a->h, sizeof(c->h));
	c->nh = u->a->nh;
	c->h_next = u->a->h_next;
}

/* thread_create, and thread_start (thread_resume at once). a: the IPC
 * buffer page (a & 63; bit 6: 8 bytes off; bit 7: the first thread's
 * buffer, outside the area); b: TLS (b & 3: none, in the slot, the next
 * slot, non-canonical), a bad entry (bit 2), a bad stack (bit 3). */
static void op_thread_create(const struct user *u, const struct op *o, bool start)
{
	unsigned page = o->a & 63, tsel = o->b & 3;
	unsigned idx = fz.next_actor < MAX_ACTORS ? fz.next_actor : THREAD_NO_ACTOR;
	uintptr_t va = u->base + VR_SLOT_THREAD_IPCBUF_OFF + (uintptr_t)page * PAGE_SIZE;
	uintptr_t entry = o->b & 4 ? 0 : u->base + VR_SLOT_IMAGE_OFF + ELF_ENTRY;
	uintptr_t sp = o->b & 8 ? UINTPTR_MAX : thread_sp(u->base, idx);
	uint64_t arg = THREAD_ARG_MAGIC << 32 | idx << 16 | page << 8 | tsel;
	struct thread *t;
	int64_t r, want;

	if (o->a & 0x40)
		va += 8;
	if (o->a & 0x80)
		va = u->base + VR_SLOT_IPCBUF_OFF;
	/* the documented order: addresses, the thread limit, the page in use */
	want = (o->b & 0xc) || tsel >= 2 || (o->a & 0xc0) ? VR_EINVAL
	       : u->p->nthreads >= VR_THREADS_MAX         ? VR_EAGAIN
	       : (vm_lookup(&u->p->vs, va) & PTE_P)       ? VR_EBUSY
							  : 0;
	r = sys(u, VR_SYS_thread_create, entry, sp, arg, tls_value(u->base, tsel), va);
	trace(u, "thread_create(ipc buffer %#lx, %#x, actor %u) = %lld", (unsigned long)va, o->b,
	      idx, (long long)r);
	if (want || r == VR_EINVAL || r == VR_EAGAIN || r == VR_EBUSY)
		return expect("thread_create", r, want);
	if (r < 0)
		return; /* VR_ENOMEM (quota), a full capability space */
	t = peek_thread(u, r);
	if (!t || t->proc != u->p || t->state != VR_THREAD_SUSPENDED || t->ipcbuf_va != va ||
	    !(vm_lookup(&u->p->vs, va) & PTE_P))
		ipch_fail("thread_create's handle %#llx does not name a new suspended thread "
			  "with its IPC buffer at %#lx",
			  (unsigned long long)r, (unsigned long)va);
	add_handle(u->a, (uint32_t)r);
	if (fz.nsusp < MAX_SUSP)
		fz.susp[fz.nsusp++] = (typeof(fz.susp[0])){ t->tid, false, false };
	if (idx != THREAD_NO_ACTOR)
		adopt_thread_actor(u, idx, t);
	if (start) {
		susp_note(t->tid, false);
		expect("thread_resume of a new thread", SYS1(u, VR_SYS_thread_resume, r), 0);
	}
}

/* resume and suspend need WRITE; VR_ESRCH for a dying thread (which
 * nobody may park before it exits: docs/scheduling.md). Suspending
 * oneself returns only when another thread resumes us. */
static void op_thread_suspend_resume(const struct user *u, const struct op *o, bool suspend)
{
	uint64_t h = pick(u->a, o->a);
	int want = decode_error(u, h, KOBJ_THREAD, VR_CAP_WRITE);
	struct thread *t = want ? NULL : peek_thread(u, h);
	bool gone = t && dying(t);
	uint64_t switches = ipch.context_switches;
	int64_t r;

	if (t && !gone)
		susp_note(t->tid, suspend); /* before: suspending oneself returns after a resume */
	r = SYS1(u, suspend ? VR_SYS_thread_suspend : VR_SYS_thread_resume, h);

	trace(u, "thread_%s(%#llx) = %lld", suspend ? "suspend" : "resume", (unsigned long long)h,
	      (long long)r);
	if (want)
		return expect("thread_suspend/resume", r, want);
	expect("thread_suspend/resume", r, gone ? VR_ESRCH : 0);
	/* Without a switch since, t is as the call left it (a switch may have
	 * let it run, or exit and lose its record). */
	if (r != 0 || ipch.context_switches != switches)
		return;
	if (suspend && !t->suspend_req && t->state != VR_THREAD_SUSPENDED)
		ipch_fail("thread_suspend of tid %lld returned 0, it is not suspended",
			  (long long)t->tid);
	if (!suspend && t->suspend_req)
		ipch_fail("thread_resume of tid %lld returned 0, a suspension is pending",
			  (long long)t->tid);
}

/* kill needs DELETE; killing oneself does not return. */
static void op_thread_kill(const struct user *u, const struct op *o)
{
	uint64_t h = pick(u->a, o->a);
	int want = decode_error(u, h, KOBJ_THREAD, VR_CAP_DELETE);
	struct thread *t = want ? NULL : peek_thread(u, h);
	int64_t tid = t ? t->tid : 0;
	bool exited = t && t->exited;
	uint64_t switches = ipch.context_switches;
	int64_t r;

	if (!want && t == u->t)
		note_exit(u, o->b);
	r = SYS2(u, VR_SYS_thread_kill, h, o->b);
	trace(u, "thread_kill(%#llx, %u) = %lld", (unsigned long long)h, o->b, (long long)r);
	if (want)
		return expect("thread_kill", r, want);
	expect("thread_kill", r, exited ? VR_ESRCH : 0);
	t = peek_thread(u, h); /* a switch may have let it run, exit, lose its record */
	if (r == 0 && t && t->tid == tid && !t->exited && !t->kill_req && !t->proc->killed)
		ipch_fail("thread_kill of tid %lld returned 0 and it is not dying", (long long)tid);
	/* woken from any wait or suspension, to reach its kernel boundary */
	if (r == 0 && t && t->tid == tid && !t->exited && ipch.context_switches == switches &&
	    t->state != VR_THREAD_RUNNABLE)
		ipch_fail("thread_kill of tid %lld left it in state %d", (long long)tid, t->state);
}

/* join needs READ; flags from c: bit 0 NONBLOCK, bit 1 TIMEOUT (after
 * (c >> 3) * 10 us), bit 2 an unknown flag; b: the status pointer. The
 * status of a thread that ended itself is the one it gave. */
static void op_thread_join(const struct user *u, const struct op *o)
{
	uint64_t h = pick(u->a, o->a);
	uint64_t flags = (o->c & 1 ? VR_IPC_NONBLOCK : 0) | (o->c & 2 ? VR_IPC_TIMEOUT : 0) |
			 (o->c & 4 ? 4u : 0);
	uint64_t timeout = (uint64_t)(o->c >> 3) * 10000;
	uintptr_t st = out_ptr(u, o->b, SCR_STATUS);
	int want = (o->c & 4) ? VR_EINVAL : decode_error(u, h, KOBJ_THREAD, VR_CAP_READ);
	struct thread *t = want ? NULL : peek_thread(u, h);
	int64_t tid = t ? t->tid : 0;
	int status;
	int64_t r;

	if (t && (o->b & 3) >= 2)
		want = VR_EFAULT; /* checked before the thread */
	else if (t == u->t)
		want = VR_EINVAL;
	r = sys(u, VR_SYS_thread_join, h, st, flags, timeout, 0);
	trace(u, "thread_join(%#llx, %#lx, flags %llu, %llu ns) = %lld", (unsigned long long)h,
	      (unsigned long)st, (unsigned long long)flags, (unsigned long long)timeout,
	      (long long)r);
	if (want)
		return expect("thread_join", r, want);
	if ((r == VR_EAGAIN && !(flags & VR_IPC_NONBLOCK)) ||
	    (r == VR_ETIMEDOUT && !(flags & VR_IPC_TIMEOUT)))
		ipch_fail("thread_join returned %lld with flags %llu", (long long)r,
			  (unsigned long long)flags);
	if (r != 0 && r != VR_EAGAIN && r != VR_ETIMEDOUT)
		ipch_fail("thread_join returned %lld", (long long)r);
	if (r == 0 && (o->b & 3) == 0 && exit_status_of(tid, &status) &&
	    *(const int *)uva(u->p, st, sizeof(int), false) != status)
		ipch_fail("thread_join of tid %lld: status %d, it exited with %d", (long long)tid,
			  *(const int *)uva(u->p, st, sizeof(int), false), status);
}

static noreturn void end_thread(const struct user *u, int status)
{
	note_exit(u, status);
	SYS1(u, VR_SYS_thread_exit, (uint64_t)status);
	ipch_fail("thread_exit returned");
}

/* a & 3: thread_self (a handle to the caller), thread_set_tls in the slot,
 * outside it (VR_EINVAL), or 0. */
static void op_thread_self(struct user *u, const struct op *o)
{
	uintptr_t tls = (o->a & 3) == 1 ? tls_value(u->base, 1) : (o->a & 3) == 2 ? 1 : 0;
	int64_t r;

	if ((o->a & 3) == 0) {
		r = SYS0(u, VR_SYS_thread_self);
		trace(u, "thread_self = %lld", (long long)r);
		if (r >= 0 && peek_thread(u, r) != u->t)
			ipch_fail("thread_self's handle %#llx names another thread",
				  (unsigned long long)r);
		if (r >= 0)
			add_handle(u->a, (uint32_t)r);
		return;
	}
	if ((o->a & 3) != 2)
		u->tls = tls; /* after_step checks the kernel set it */
	r = SYS1(u, VR_SYS_thread_set_tls, tls);
	trace(u, "thread_set_tls(%#lx) = %lld", (unsigned long)tls, (long long)r);
	expect("thread_set_tls", r, (o->a & 3) == 2 ? VR_EINVAL : 0);
}

static void do_op(struct user *u, const struct op *o)
{
	switch (o->code) {
	case OP_EP_CREATE:
		return op_create(u, VR_SYS_endpoint_create);
	case OP_NTF_CREATE:
		return op_create(u, VR_SYS_notification_create);
	case OP_MINT:
		return op_mint(u, o);
	case OP_COPY:
		return op_handle(u, o, VR_SYS_cap_copy);
	case OP_DELETE:
		return op_handle(u, o, VR_SYS_cap_delete);
	case OP_REVOKE:
		return op_handle(u, o, VR_SYS_cap_revoke);
	case OP_IDENTIFY:
		return op_identify(u, o);
	case OP_SEND:
		return op_send(u, o, false);
	case OP_CALL:
	case OP_CALL2:
		return op_send(u, o, true);
	case OP_RECV:
		return op_recv(u, o);
	case OP_REPLY:
		return op_reply(u, o);
	case OP_REPLY_RECV:
		return op_reply_recv(u, o);
	case OP_SIGNAL:
		return op_signal(u, o);
	case OP_NWAIT:
		return op_notify_wait(u, o);
	case OP_SPAWN:
		return op_spawn(u, o);
	case OP_EXIT:
		trace(u, "exit(%u)", o->b);
		note_exit(u, o->b);
		SYS1(u, VR_SYS_exit, o->b);
		ipch_fail("exit returned");
	case OP_KILL:
		return op_kill(u, o);
	case OP_WAIT:
		return op_wait(u, o);
	case OP_YIELD:
		trace(u, "yield");
		SYS0(u, VR_SYS_yield);
		return;
	case OP_TICK:
		return op_tick(u, o);
	case OP_SLEEP:
		trace(u, "sleep(%u us)", o->a);
		SYS1(u, VR_SYS_sleep, o->b == 0xff ? UINT64_MAX : (uint64_t)o->a * 1000);
		return;
	case OP_INFO:
		return op_info(u, o);
	case OP_RAW:
		return op_raw(u, o);
	case OP_THREAD_CREATE:
	case OP_THREAD_START:
		return op_thread_create(u, o, o->code == OP_THREAD_START);
	case OP_THREAD_RESUME:
	case OP_THREAD_SUSPEND:
		return op_thread_suspend_resume(u, o, o->code == OP_THREAD_SUSPEND);
	case OP_THREAD_KILL:
		return op_thread_kill(u, o);
	case OP_THREAD_JOIN:
		return op_thread_join(u, o);
	case OP_THREAD_EXIT:
		trace(u, "thread_exit(%u)", o->b);
		end_thread(u, o->b);
	default:
		return op_thread_self(u, o);
	}
}

/* ---- Programs: init (the root) and the workers --------------------------- */

/* Run actor idx's operations (none without an actor), then end the
 * thread: the process ends with its last thread. */
static noreturn void run_actor(struct user *u, unsigned idx)
{
	struct actor *a = idx < MAX_ACTORS ? &fz.actors[idx] : NULL;

	u->idx = idx;
	if (a) {
		u->a = a;
		while (a->next < a->nops)
			do_op(u, &fz.ops[a->ops[a->next++]]);
	}
	trace(u, "thread_exit(%u): no more operations", idx);
	end_thread(u, (int)idx);
}

/* The first thread of a worker process: argv[1] names its actor. */
static noreturn void worker_main(struct user *u, const char *arg)
{
	unsigned idx = arg[0] >= '0' && arg[0] < '0' + (int)MAX_ACTORS && !arg[1] ? arg[0] - '0'
										  : MAX_ACTORS;
	struct actor *a = idx < MAX_ACTORS ? &fz.actors[idx] : NULL;

	if (a && (!a->spawned || a->thread || a->pid))
		ipch_fail("worker %u started twice (pid %lld and %lld)", idx, (long long)a->pid,
			  (long long)u->p->pid);
	if (a) {
		a->pid = u->p->pid;
		a->tid = u->t->tid;
		for (unsigned i = 0; i < a->ninit; i++)
			add_handle(a, cap_handle(i, 0));
	}
	run_actor(u, idx);
}

/* A thread made by thread_create, first entering user mode: check what the
 * kernel set up (entry, stack, arg as given; its IPC buffer at the page
 * asked for; its TLS base), then run its actor. */
static noreturn void thread_main(struct user *u, uintptr_t pc, uintptr_t sp, uintptr_t arg)
{
	unsigned idx = arg >> 16 & 0xff, page = arg >> 8 & 0xff, tsel = arg & 0xff;
	struct actor *a = idx < MAX_ACTORS ? &fz.actors[idx] : NULL;

	if (arg >> 32 != THREAD_ARG_MAGIC || page >= VR_THREADS_MAX || tsel > 1 ||
	    (idx >= MAX_ACTORS && idx != THREAD_NO_ACTOR) ||
	    pc != u->base + VR_SLOT_IMAGE_OFF + ELF_ENTRY || sp != thread_sp(u->base, idx))
		ipch_fail("tid %lld entered user mode at pc %#lx sp %#lx arg %#lx",
			  (long long)u->t->tid, (unsigned long)pc, (unsigned long)sp,
			  (unsigned long)arg);
	u->buf_va = u->base + VR_SLOT_THREAD_IPCBUF_OFF + (uintptr_t)page * PAGE_SIZE;
	u->scratch = sp - PAGE_SIZE;
	u->tls = tls_value(u->base, tsel);
	if (u->t->ipcbuf_va != u->buf_va)
		ipch_fail("tid %lld has its IPC buffer at %#lx, not %#lx", (long long)u->t->tid,
			  (unsigned long)u->t->ipcbuf_va, (unsigned long)u->buf_va);
	u->buf = uva(u->p, u->buf_va, sizeof(*u->buf), true);
	if (ipch.user_tls != u->tls)
		ipch_fail("tid %lld starts with TLS base %#lx, not %#lx", (long long)u->t->tid,
			  (unsigned long)ipch.user_tls, (unsigned long)u->tls);
	if (a && (!a->thread || a->tid != u->t->tid || a->pid != u->p->pid || a->next))
		ipch_fail("actor %u started as tid %lld of pid %lld (made as tid %lld of %lld)",
			  idx, (long long)u->t->tid, (long long)u->p->pid, (long long)a->tid,
			  (long long)a->pid);
	run_actor(u, idx);
}

/* Give initial worker w a capability derived from each of init's objects:
 * badged (w + 1) and/or without DELEGATE and DELETE as the header says. */
static void root_spawn_worker(const struct user *u, unsigned w, const uint32_t *objs, unsigned nobj)
{
	struct vr_spawn_caps sc = { .count = nobj };
	bool badged = fz.mode_byte >> w & 1, restricted = fz.mode_byte >> (4 + w) & 1;
	uint32_t rights = restricted ? VR_CAP_READ | VR_CAP_WRITE | VR_CAP_GRANT : VR_CAP_ALL;
	char args[32];
	int64_t r;

	for (unsigned k = 0; k < nobj; k++) {
		sc.handles[k] = objs[k];
		if (!badged && !restricted)
			continue;
		r = sys(u, VR_SYS_cap_mint, objs[k], rights, badged ? w + 1 : 0, 0, 0);
		if (r < 0)
			ipch_fail("init: mint for worker %u failed (%lld)", w, (long long)r);
		sc.handles[k] = (uint32_t)r;
	}
	snprintf(args, sizeof(args), "worker %u", w);
	fz.actors[w].spawned = true;
	fz.actors[w].ninit = nobj;
	r = spawn(u, "bin/worker", args, &sc, nobj ? u->scratch + SCR_SPAWN_CAPS : 0);
	if (r < 0)
		ipch_fail("init: spawning worker %u failed (%lld)", w, (long long)r);
	fz.actors[w].proc = r;
	trace(u, "spawned worker %u: handle %lld, %u caps%s%s", w, (long long)r, nobj,
	      badged ? ", badged" : "", restricted ? ", restricted" : "");
	for (unsigned k = 0; k < nobj; k++)
		if (sc.handles[k] != objs[k] && SYS1(u, VR_SYS_cap_delete, sc.handles[k]))
			ipch_fail("init: cannot delete its minted capability");
}

static void root_start_input(const struct user *u)
{
	unsigned n_ep = fz.obj_byte & 3, n_ntf = (fz.obj_byte >> 2) & 3, nobj = 0;
	uint32_t objs[6];

	for (unsigned i = 0; i < n_ep + n_ntf; i++) {
		int64_t r = SYS0(u, i < n_ep ? VR_SYS_endpoint_create : VR_SYS_notification_create);
		if (r < 0)
			ipch_fail("init: cannot create an object (%lld)", (long long)r);
		objs[nobj++] = (uint32_t)r;
	}
	for (unsigned w = 0; w < fz.n_initial; w++)
		root_spawn_worker(u, w, objs, nobj);
	for (unsigned k = 0; k < nobj; k++)
		if (SYS1(u, VR_SYS_cap_delete, objs[k]))
			ipch_fail("init: cannot delete its capability");
}

/* Reap every child; orphans of exited workers are not our children, so
 * sleep while they live (the idle hook kills them if they never end). */
static void root_drain(const struct user *u)
{
	for (;;) {
		int64_t r;
		uint64_t wake;
		while ((r = SYS2(u, VR_SYS_wait, (uint64_t)-1, u->scratch + SCR_STATUS)) > 0)
			trace(u, "reaped pid %lld", (long long)r);
		if (r != VR_ECHILD)
			ipch_fail("init: wait failed (%lld)", (long long)r);
		if (!ipcf_others_alive(fz.root, &wake))
			break;
		SYS1(u, VR_SYS_sleep, DRAIN_NS);
	}
	/* the process capabilities spawn gave init, which keep the records */
	for (unsigned w = 0; w < fz.n_initial; w++) {
		if (fz.actors[w].proc >= 0 && SYS1(u, VR_SYS_cap_delete, fz.actors[w].proc))
			ipch_fail("init: cannot delete its process capability of worker %u", w);
	}
}

static noreturn void root_main(const struct user *u)
{
	fz.root = u->p;
	/* init's device capabilities (docs/irq.md) are out of this harness's
	 * scope: drop them, so every input starts from an empty init cspace */
	if (SYS1(u, VR_SYS_cap_delete, VR_DEVCAP_IRQ_CONTROL) ||
	    SYS1(u, VR_SYS_cap_delete, VR_DEVCAP_IOPORTS))
		ipch_fail("init: cannot delete its device capabilities");
	for (;;) {
		fz.phase = PH_IDLE;
		SYS1(u, VR_SYS_sleep, INPUT_GAP_NS); /* the host hands over the next input */
		if (fz.phase != PH_RUN)
			ipch_fail("init woke up without an input");
		root_start_input(u);
		root_drain(u);
	}
}

/* hal_user_enter() of every process: check what the kernel set up (entry,
 * stack, the start info and argv in the info page), then run init or a
 * worker. */
noreturn void ipch_user_main(uintptr_t pc, uintptr_t sp, uintptr_t arg)
{
	struct user u = { .t = sched_current(), .p = sched_current()->proc };
	const struct vr_start_info *si;
	const uint64_t *argv;

	u.base = proc_slot_base(u.p);
	if (fz.root && arg >> 32 == THREAD_ARG_MAGIC)
		thread_main(&u, pc, sp, arg);
	u.scratch = u.base + VR_SLOT_STACK_TOP - PAGE_SIZE;
	if (pc != u.base + VR_SLOT_IMAGE_OFF + ELF_ENTRY || sp != u.base + VR_SLOT_STACK_TOP ||
	    arg != u.base + VR_SLOT_INFO_OFF)
		ipch_fail("pid %lld entered user mode at pc %#lx sp %#lx arg %#lx",
			  (long long)u.p->pid, (unsigned long)pc, (unsigned long)sp,
			  (unsigned long)arg);
	si = uva(u.p, arg, sizeof(*si), false);
	if (si->magic != VR_START_MAGIC || si->pid != u.p->pid || si->slot_base != u.base ||
	    si->ipc_buffer != u.base + VR_SLOT_IPCBUF_OFF ||
	    si->trap_entry != u.base + VR_SLOT_TRAP_OFF || si->argc < 1 || si->argc > 2)
		ipch_fail("pid %lld: bad start info", (long long)u.p->pid);
	argv = uva(u.p, si->argv, (size_t)(si->argc + 1) * sizeof(uint64_t), false);
	u.buf_va = si->ipc_buffer;
	u.buf = uva(u.p, si->ipc_buffer, sizeof(*u.buf), true);
	if (!fz.root) {
		if (strcmp(user_string(u.p, argv[0]), "init") != 0)
			ipch_fail("the first process is not init");
		root_main(&u);
	}
	/* a raw spawn may start a worker with other arguments: it has no operations */
	worker_main(&u, si->argc == 2 ? user_string(u.p, argv[1]) : "-");
}

/* ---- The idle hook: time, deadlocks, the end of an input ------------------ */

struct sleepers {
	uint64_t first;
};

static void first_sleeper(struct thread *t, void *arg)
{
	struct sleepers *s = arg;

	if (ktimer_armed(&t->timeout) && t->timeout.deadline < s->first)
		s->first = t->timeout.deadline;
}

/* Kill every process but init. Orphans (their parent exited) cannot be
 * killed by anyone through the syscall ABI, so init adopts them first, as
 * a Unix init would. */
static void teardown(void)
{
	struct process *ps[IPCF_MAX_PROCS];
	unsigned n = ipcf_processes(fz.root, ps, IPCF_MAX_PROCS);

	if (fz.torn_down)
		ipch_fail("processes still blocked after every process was killed");
	fz.torn_down = true;
	if (fz.trace)
		fprintf(stderr, "[%6" PRIu64 "] idle: nothing can run: killing every process\n",
			fz.steps);
	for (unsigned i = 0; i < n; i++) {
		struct process *p = ps[i];
		if (p == fz.root || p->zombie)
			continue;
		if (!p->parent) {
			p->parent = fz.root;
			list_push_back(&fz.root->children, &p->sibling_link);
		}
		if (proc_kill(p, TEARDOWN_STATUS))
			ipch_fail("proc_kill of pid %lld by its parent failed", (long long)p->pid);
	}
	ipcf_check_all(fz.root, false);
}

/* Invariant 4 at the end of an input (or the baseline after boot). */
static void end_of_input(void)
{
	struct pmm_stats ps;
	struct kheap_stats hs;
	uint64_t wake;

	ipcf_check_all(fz.root, true);
	if (ipcf_others_alive(fz.root, &wake) || !list_empty(&fz.root->children))
		ipch_fail("processes left at the end of the input");
	for (uint32_t i = 0; i < fz.root->cs->nslots; i++)
		if (fz.root->cs->slots[i].cap.obj)
			ipch_fail("init still holds a capability in slot %u", i);
	pmm_get_stats(&ps);
	kheap_get_stats(&hs);
	if (!fz.have_base) {
		fz.base_pmm = ps;
		fz.base_heap = hs;
		fz.have_base = true;
		return;
	}
	if (ps.free_pages != fz.base_pmm.free_pages || hs.objects != fz.base_heap.objects ||
	    hs.slab_pages != fz.base_heap.slab_pages)
		ipch_fail("leak: %llu free frames (%llu after boot), %llu objects (%llu) in %llu "
			  "slab pages (%llu)",
			  (unsigned long long)ps.free_pages,
			  (unsigned long long)fz.base_pmm.free_pages,
			  (unsigned long long)hs.objects, (unsigned long long)fz.base_heap.objects,
			  (unsigned long long)hs.slab_pages,
			  (unsigned long long)fz.base_heap.slab_pages);
}

void ipch_idle(void)
{
	struct sleepers s = { UINT64_MAX };
	uint64_t wake;
	bool others;

	if (fz.phase == PH_IDLE) {
		end_of_input();
		ipch_to_host();
		if (fz.phase != PH_RUN)
			ipch_fail("resumed without an input");
	}
	sched_for_each_thread(first_sleeper, &s);
	if (ipch.timer_deadline > s.first)
		ipch_fail("a thread wakes at %llu but the timer is set for %llu",
			  (unsigned long long)s.first, (unsigned long long)ipch.timer_deadline);
	sched_for_each_thread(check_suspended, NULL);
	others = ipcf_others_alive(fz.root, &wake);
	if (others && (wake == UINT64_MAX || wake - ipch.clock_ns > SLEEP_HORIZON_NS)) {
		teardown();
		return;
	}
	if (ipch.timer_deadline == UINT64_MAX)
		ipch_fail("nothing can run and no timer is set, with only init left");
	if (ipch.clock_ns < ipch.timer_deadline)
		ipch.clock_ns = ipch.timer_deadline;
	kernel_timer_expired();
}

/* ---- The input and the host side ------------------------------------------ */

static void decode(const uint8_t *d, size_t n)
{
	memset(fz.actors, 0, sizeof(fz.actors));
	for (unsigned i = 0; i < MAX_ACTORS; i++)
		fz.actors[i].proc = -1;
	fz.nops = 0;
	fz.nexits = 0;
	fz.nsusp = 0;
	fz.n_initial = 1 + (n > 0 ? d[0] : 0) % 4;
	fz.obj_byte = n > 1 ? d[1] : 0;
	fz.mode_byte = n > 2 ? d[2] : 0;
	fz.next_actor = fz.n_initial;
	for (size_t off = HDR_BYTES; off < n && fz.nops < MAX_OPS; off += OP_BYTES) {
		uint8_t b[OP_BYTES] = { 0 };
		struct actor *a;
		memcpy(b, d + off, MIN(n - off, (size_t)OP_BYTES));
		a = &fz.actors[b[0] >> 5];
		fz.ops[fz.nops] =
			(struct op){ (uint8_t)((b[0] & 31) % OP_COUNT), b[1], b[2], b[3] };
		a->ops[a->nops++] = (uint16_t)fz.nops++;
	}
}

static void boot(void)
{
	static uint8_t initrd[2048];
	size_t n = ipch_build_initrd(initrd, "worker");

	fz.trace = getenv("IPC_FUZZ_TRACE") != NULL;
	fz.phase = PH_BOOT;
	ipch_boot(RAM_BYTES, initrd, n);
	fz.booted = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz.booted)
		boot();
	decode(data, size);
	fz.torn_down = false;
	fz.space_was_full = false;
	fz.phase = PH_RUN;
	ipch_run();
	return 0;
}
