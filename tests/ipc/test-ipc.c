/*
 * Unit tests of core/ipc.c (CMocka): endpoints (send, recv, call, reply,
 * reply_recv, non-blocking and timeout variants, badges, capability
 * transfer, priority-ordered queues), notifications (signal, wait, poll)
 * and their error paths, each asserting exact return values.
 *
 * Design. The whole kernel (CORE_SOURCES) is linked over the fake HAL of
 * the IPC fuzzer, fuzz/ipc/ipc_hal.c, used as is: kernel threads really run,
 * each on its own stack, and "user mode" is C code of this file that makes
 * syscalls by calling kernel_syscall(), as a trap entry would. The kernel
 * boots once (group setup) from an in-memory initrd holding a tiny ELF as
 * bin/init and bin/prog; the fuzzer's invariant walks (fuzz/ipc/ipc_check.c,
 * also linked as is) run after every syscall.
 *
 * A test is a scenario: up to three programs, C functions that run as the
 * first threads of three processes. The host (the CMocka test) fills in
 * `sc` and hands over to the kernel (ipch_run):
 *
 *   init sleeps between scenarios; the host wakes it through the timer ->
 *   init creates the scenario's endpoints and notifications, spawns one
 *   process per program with a capability (all rights) to each object at
 *   handles 0, 1, ... (endpoints first), deletes its own and reaps the
 *   children -> each program runs, recording what its syscalls returned
 *   with rec() -> init sleeps again and the idle hook returns to the host.
 *
 * The host then asserts the recorded values, that every program ran to its
 * end, that nothing deadlocked and that the kernel's frames and heap
 * objects are exactly those after boot (nothing leaked). Programs never
 * assert themselves: a CMocka failure would longjmp off a kernel stack.
 *
 * Time is virtual: the clock moves only when nothing can run, straight to
 * the next timer deadline. A program orders itself against the others with
 * nap() (a sleep of whole milliseconds), and timeouts expire at exactly
 * their deadline.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuzz/ipc/ipc_fuzz.h"
#include "fuzz/ipc/ipc_hal.h"

#include <veridian/cap.h>
#include <veridian/ipc.h>
#include <veridian/kheap.h>
#include <veridian/pmm.h>
#include <veridian/proc.h>
#include <veridian/sched.h>

#define RAM_BYTES (4u << 20)
#define ELF_ENTRY IPCH_ELF_ENTRY
#define INPUT_GAP_NS 1000000000ull
#define MS 1000000ull
#define NPROG 3u
#define NREC 32u
#define KILL_STATUS 137
#define SCR_PATH 0u
#define SCR_ARGS 64u
#define SCR_SPAWN_CAPS 256u
#define SCR_STATUS 1024u

/* Handle i of a program's initial capabilities. */
#define H(i) cap_handle((i), 0)

struct user {
	struct thread *t;
	struct process *p;
	unsigned idx;
	uintptr_t scratch; /* a page of the user stack, for syscall arguments */
	struct vr_ipc_buffer *buf;
};

typedef void prog_fn(struct user *u);

enum phase { PH_BOOT, PH_IDLE, PH_RUN };

static struct {
	enum phase phase;
	bool booted, have_base;
	struct process *root;
	struct pmm_stats base_pmm;
	struct kheap_stats base_heap;
	/* the scenario */
	unsigned n_ep, n_ntf;
	prog_fn *prog[NPROG];
	/* what it did */
	int64_t rec[NPROG][NREC];
	unsigned nrec[NPROG];
	bool done[NPROG];
	bool deadlock, leak;
} sc;

noreturn void ipch_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "test-ipc: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nconsole tail:\n%s\n", ipch_console_tail());
	abort();
}

/* ---- User side ------------------------------------------------------------ */

/* The host address of user [va, va+len) (inside one page). */
static void *uva(const struct process *p, uintptr_t va, size_t len)
{
	uint64_t pte = vm_lookup(&p->vs, va);

	if ((va & (PAGE_SIZE - 1)) + len > PAGE_SIZE || !(pte & PTE_P) || !(pte & PTE_U))
		ipch_fail("user address %#lx of pid %lld is not mapped", (unsigned long)va,
			  (long long)p->pid);
	return phys_to_virt((pte & PTE_ADDR_MASK) + (va & (PAGE_SIZE - 1)));
}

static void put_user(const struct user *u, uintptr_t off, const void *src, size_t len)
{
	memcpy(uva(u->p, u->scratch + off, len), src, len);
}

/* A syscall, then the fuzzer's invariant walks over the whole kernel. */
static int64_t sys5(const struct user *u, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
		    uint64_t a3, uint64_t a4)
{
	int64_t r = kernel_syscall(nr, a0, a1, a2, a3, a4);

	if (sched_current() != u->t)
		ipch_fail("syscall %llu returned on another thread", (unsigned long long)nr);
	ipcf_check_all(sc.root, false);
	return r;
}

static int64_t sys(const struct user *u, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
		   uint64_t a3)
{
	return sys5(u, nr, a0, a1, a2, a3, 0);
}

static void rec(const struct user *u, int64_t v)
{
	if (sc.nrec[u->idx] == NREC)
		ipch_fail("program %u records too much", u->idx);
	sc.rec[u->idx][sc.nrec[u->idx]++] = v;
}

static int64_t send(const struct user *u, uint64_t ep, uint64_t tag, uint64_t flags, uint64_t ns)
{
	return sys(u, VR_SYS_ipc_send, ep, tag, flags, ns);
}

static int64_t recv(const struct user *u, uint64_t ep, uint64_t flags, uint64_t ns)
{
	return sys(u, VR_SYS_ipc_recv, ep, flags, ns, 0);
}

static int64_t call(const struct user *u, uint64_t ep, uint64_t tag, uint64_t flags, uint64_t ns)
{
	return sys(u, VR_SYS_ipc_call, ep, tag, flags, ns);
}

static int64_t reply(const struct user *u, uint64_t tag)
{
	return sys(u, VR_SYS_ipc_reply, tag, 0, 0, 0);
}

static int64_t reply_recv(const struct user *u, uint64_t ep, uint64_t tag, uint64_t flags,
			  uint64_t ns)
{
	return sys(u, VR_SYS_ipc_reply_recv, ep, tag, flags, ns);
}

static int64_t signal_bits(const struct user *u, uint64_t n, uint64_t bits)
{
	return sys(u, VR_SYS_notify_signal, n, bits, 0, 0);
}

static int64_t nwait(const struct user *u, uint64_t n, uint64_t flags, uint64_t ns)
{
	return sys(u, VR_SYS_notify_wait, n, flags, ns, 0);
}

/* A derived capability with `rights` and `badge`; fails the run if refused. */
static uint64_t mint(const struct user *u, uint64_t h, uint32_t rights, uint64_t badge)
{
	int64_t r = sys(u, VR_SYS_cap_mint, h, rights, badge, 0);

	if (r < 0)
		ipch_fail("program %u: mint failed (%lld)", u->idx, (long long)r);
	return (uint64_t)r;
}

static void nap(const struct user *u, unsigned ms)
{
	if (sys(u, VR_SYS_sleep, ms * MS, 0, 0, 0))
		ipch_fail("sleep failed");
}

static uint64_t now(const struct user *u)
{
	return (uint64_t)sys(u, VR_SYS_clock, 0, 0, 0, 0);
}

/* ---- init and the programs ----------------------------------------------- */

static void root_scenario(const struct user *u)
{
	struct vr_spawn_caps caps = { .count = sc.n_ep + sc.n_ntf };
	int64_t procs[NPROG], r;

	for (unsigned i = 0; i < caps.count; i++) {
		r = sys(u, i < sc.n_ep ? VR_SYS_endpoint_create : VR_SYS_notification_create, 0, 0,
			0, 0);
		if (r < 0)
			ipch_fail("init: cannot create an object (%lld)", (long long)r);
		caps.handles[i] = (uint32_t)r;
	}
	put_user(u, SCR_SPAWN_CAPS, &caps, sizeof(caps));
	for (unsigned w = 0; w < NPROG; w++) {
		char args[16];
		procs[w] = -1;
		if (!sc.prog[w])
			continue;
		snprintf(args, sizeof(args), "prog %u", w);
		put_user(u, SCR_PATH, "bin/prog", 8);
		put_user(u, SCR_ARGS, args, strlen(args));
		procs[w] = sys5(u, VR_SYS_spawn, u->scratch + SCR_PATH, 8, u->scratch + SCR_ARGS,
				strlen(args), caps.count ? u->scratch + SCR_SPAWN_CAPS : 0);
		if (procs[w] < 0)
			ipch_fail("init: spawn failed (%lld)", (long long)procs[w]);
	}
	for (unsigned i = 0; i < caps.count; i++)
		if (sys(u, VR_SYS_cap_delete, caps.handles[i], 0, 0, 0))
			ipch_fail("init: cannot delete its capability");
	while ((r = sys(u, VR_SYS_wait, (uint64_t)-1, u->scratch + SCR_STATUS, 0, 0)) > 0)
		;
	if (r != VR_ECHILD)
		ipch_fail("init: wait failed (%lld)", (long long)r);
	for (unsigned w = 0; w < NPROG; w++)
		if (procs[w] >= 0 && sys(u, VR_SYS_cap_delete, (uint64_t)procs[w], 0, 0, 0))
			ipch_fail("init: cannot delete a process capability");
}

static noreturn void root_main(const struct user *u)
{
	sc.root = u->p;
	if (sys(u, VR_SYS_cap_delete, VR_DEVCAP_IRQ_CONTROL, 0, 0, 0) ||
	    sys(u, VR_SYS_cap_delete, VR_DEVCAP_IOPORTS, 0, 0, 0))
		ipch_fail("init: cannot delete its device capabilities");
	for (;;) {
		sc.phase = PH_IDLE;
		sys(u, VR_SYS_sleep, INPUT_GAP_NS, 0, 0, 0); /* the host hands over a scenario */
		if (sc.phase != PH_RUN)
			ipch_fail("init woke up without a scenario");
		root_scenario(u);
	}
}

/* hal_user_enter() of every process: init, or program argv[1]. */
noreturn void ipch_user_main(uintptr_t pc, uintptr_t sp, uintptr_t arg)
{
	struct user u = { .t = sched_current(), .p = sched_current()->proc };
	const struct vr_start_info *si;
	const uint64_t *argv;
	const char *a1;

	(void)pc;
	(void)sp;
	u.scratch = proc_slot_base(u.p) + VR_SLOT_STACK_TOP - PAGE_SIZE;
	si = uva(u.p, arg, sizeof(*si));
	u.buf = uva(u.p, si->ipc_buffer, sizeof(*u.buf));
	if (!sc.root)
		root_main(&u);
	argv = uva(u.p, si->argv, (size_t)(si->argc + 1) * sizeof(uint64_t));
	a1 = si->argc == 2 ? uva(u.p, argv[1], 2) : "?";
	if (a1[0] < '0' || a1[0] >= '0' + (int)NPROG || !sc.prog[a1[0] - '0'])
		ipch_fail("a program without a scenario started");
	u.idx = (unsigned)(a1[0] - '0');
	sc.prog[u.idx](&u);
	sc.done[u.idx] = true;
	kernel_syscall(VR_SYS_exit, 0, 0, 0, 0, 0);
	ipch_fail("exit returned");
}

/* ---- The idle hook --------------------------------------------------------- */

/* Nothing can run and no timer is armed: kill every program. */
static void kill_programs(void)
{
	struct process *ps[IPCF_MAX_PROCS];
	unsigned n = ipcf_processes(sc.root, ps, IPCF_MAX_PROCS);

	if (sc.deadlock)
		ipch_fail("still blocked after every program was killed");
	sc.deadlock = true;
	for (unsigned i = 0; i < n; i++)
		if (ps[i] != sc.root && !ps[i]->zombie && proc_kill(ps[i], KILL_STATUS))
			ipch_fail("proc_kill of pid %lld failed", (long long)ps[i]->pid);
}

/* Back to the state after boot? (The first call records it.) */
static void end_of_scenario(void)
{
	struct pmm_stats ps;
	struct kheap_stats hs;

	ipcf_check_all(sc.root, true);
	pmm_get_stats(&ps);
	kheap_get_stats(&hs);
	if (!sc.have_base) {
		sc.base_pmm = ps;
		sc.base_heap = hs;
		sc.have_base = true;
	} else if (ps.free_pages != sc.base_pmm.free_pages || hs.objects != sc.base_heap.objects ||
		   hs.slab_pages != sc.base_heap.slab_pages) {
		sc.leak = true;
	}
}

void ipch_idle(void)
{
	if (sc.phase == PH_IDLE) {
		end_of_scenario();
		ipch_to_host();
		if (sc.phase != PH_RUN)
			ipch_fail("resumed without a scenario");
	}
	if (ipch.timer_deadline == UINT64_MAX) {
		if (sc.phase != PH_RUN)
			ipch_fail("nothing can run at boot");
		kill_programs();
		return;
	}
	if (ipch.clock_ns < ipch.timer_deadline)
		ipch.clock_ns = ipch.timer_deadline;
	kernel_timer_expired();
}

/* ---- The host side --------------------------------------------------------- */

static int boot(void **state)
{
	static uint8_t initrd[2048];
	size_t n = ipch_build_initrd(initrd, "prog");

	(void)state;
	sc.phase = PH_BOOT;
	ipch_boot(RAM_BYTES, initrd, n);
	sc.booted = true;
	return sc.have_base ? 0 : -1;
}

/* Run a scenario of n_ep endpoints, n_ntf notifications and up to three
 * programs (NULL: none); every program must end by itself. */
static void run(unsigned n_ep, unsigned n_ntf, prog_fn *a, prog_fn *b, prog_fn *c)
{
	memset(sc.rec, 0, sizeof(sc.rec));
	memset(sc.nrec, 0, sizeof(sc.nrec));
	memset(sc.done, 0, sizeof(sc.done));
	sc.deadlock = sc.leak = false;
	sc.n_ep = n_ep;
	sc.n_ntf = n_ntf;
	sc.prog[0] = a;
	sc.prog[1] = b;
	sc.prog[2] = c;
	sc.phase = PH_RUN;
	ipch_run();
	assert_false(sc.deadlock);
	assert_false(sc.leak);
	for (unsigned i = 0; i < NPROG; i++)
		assert_int_equal(sc.done[i], sc.prog[i] != NULL);
}

/* Program p recorded the n values given from its value `first` on (and
 * exactly those values if `all`). */
static void expect_recs(unsigned p, unsigned first, bool all, unsigned n, ...)
{
	va_list ap;

	if (all)
		assert_int_equal(sc.nrec[p], first + n);
	assert_true(sc.nrec[p] >= first + n);
	va_start(ap, n);
	for (unsigned i = first; i < first + n; i++) {
		int64_t want = va_arg(ap, int64_t);
		if (sc.rec[p][i] != want)
			fail_msg("program %u, value %u: %" PRId64 ", expected %" PRId64, p, i,
				 sc.rec[p][i], want);
	}
	va_end(ap);
}

/* EXPECT: all the values program p recorded; EXPECT_AT: some, from `first`. */
#define EXPECT(p, ...) expect_recs((p), 0, true, VA_NARGS(__VA_ARGS__), __VA_ARGS__)
#define EXPECT_AT(p, first, ...) \
	expect_recs((p), (first), false, VA_NARGS(__VA_ARGS__), __VA_ARGS__)
#define VA_NARGS(...) VA_NARGS_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
#define VA_NARGS_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, n, ...) n
#define I(v) ((int64_t)(v))

#define TAG(label, words, caps) I(VR_MSG_TAG((label), (words), (caps)))

/* ---- Endpoints: send and receive, badges ----------------------------------- */

/* Receiver first (it blocks), then sender first (it blocks). */
static void sr_sender(struct user *u)
{
	uint64_t badged = mint(u, H(0), VR_CAP_ALL, 42);

	nap(u, 1);
	u->buf->words[0] = 11;
	u->buf->words[1] = 22;
	u->buf->words[2] = 33;
	rec(u, send(u, badged, (uint64_t)TAG(7, 3, 0), 0, 0));
	u->buf->words[0] = 44;
	rec(u, send(u, H(0), (uint64_t)TAG(8, 1, 0), 0, 0)); /* unbadged */
}

static void sr_receiver(struct user *u)
{
	rec(u, recv(u, H(0), 0, 0));
	rec(u, (int64_t)u->buf->badge);
	rec(u, (int64_t)u->buf->tag);
	rec(u, (int64_t)(u->buf->words[0] + u->buf->words[1] * 100 + u->buf->words[2] * 10000));
	nap(u, 5); /* the sender now waits in its queue */
	rec(u, recv(u, H(0), 0, 0));
	rec(u, (int64_t)u->buf->badge);
	rec(u, (int64_t)u->buf->words[0]);
}

static void test_send_recv_badge(void **state)
{
	(void)state;
	run(1, 0, sr_sender, sr_receiver, NULL);
	EXPECT(0, I(0), I(0));
	EXPECT(1, TAG(7, 3, 0), I(42), TAG(7, 3, 0), I(11 + 2200 + 330000), TAG(8, 1, 0), I(0),
	       I(44));
}

/* ---- call, reply, reply_recv ------------------------------------------------ */

static void cr_client(struct user *u)
{
	for (uint64_t i = 1; i <= 3; i++) {
		u->buf->words[0] = i * 10;
		rec(u, call(u, H(0), (uint64_t)TAG(1, 1, 0), 0, 0));
		rec(u, (int64_t)u->buf->words[0]);
	}
}

/* A server loop: reply_recv with no caller yet only receives. */
static void cr_server(struct user *u)
{
	int64_t tag = reply_recv(u, H(0), (uint64_t)TAG(99, 0, 0), 0, 0);

	rec(u, tag);
	for (int i = 0; i < 2; i++) {
		u->buf->words[0] += 1;
		tag = reply_recv(u, H(0), (uint64_t)TAG(2, 1, 0), 0, 0);
		rec(u, tag);
	}
	u->buf->words[0] += 1;
	rec(u, reply(u, (uint64_t)TAG(3, 1, 0)));
	rec(u, reply(u, (uint64_t)TAG(3, 1, 0))); /* nobody to reply to any more */
}

static void test_call_reply_recv(void **state)
{
	(void)state;
	run(1, 0, cr_client, cr_server, NULL);
	EXPECT(0, TAG(2, 1, 0), I(11), TAG(2, 1, 0), I(21), TAG(3, 1, 0), I(31));
	EXPECT(1, TAG(1, 1, 0), TAG(1, 1, 0), TAG(1, 1, 0), I(0), I(VR_ENOREPLY));
}

/* ---- Non-blocking ----------------------------------------------------------- */

static void nb_alone(struct user *u)
{
	rec(u, send(u, H(0), (uint64_t)TAG(1, 0, 0), VR_IPC_NONBLOCK, 0));
	rec(u, recv(u, H(0), VR_IPC_NONBLOCK, 0));
	rec(u, call(u, H(0), (uint64_t)TAG(1, 0, 0), VR_IPC_NONBLOCK, 0));
	rec(u, reply_recv(u, H(0), 0, VR_IPC_NONBLOCK, 0));
	rec(u, nwait(u, H(1), VR_IPC_NONBLOCK, 0));
	/* a receiver waits: a non-blocking send goes through */
	nap(u, 1);
	rec(u, send(u, H(0), (uint64_t)TAG(5, 0, 0), VR_IPC_NONBLOCK, 0));
	/* a sender waits: a non-blocking receive takes its message */
	nap(u, 2);
	rec(u, recv(u, H(0), VR_IPC_NONBLOCK, 0));
}

static void nb_peer(struct user *u)
{
	rec(u, recv(u, H(0), 0, 0));
	rec(u, send(u, H(0), (uint64_t)TAG(6, 0, 0), 0, 0));
}

static void test_nonblocking(void **state)
{
	(void)state;
	run(1, 1, nb_alone, nb_peer, NULL);
	EXPECT(0, I(VR_EAGAIN), I(VR_EAGAIN), I(VR_EAGAIN), I(VR_EAGAIN), I(VR_EAGAIN), I(0),
	       TAG(6, 0, 0));
	EXPECT(1, TAG(5, 0, 0), I(0));
}

/* ---- Timeouts --------------------------------------------------------------- */

/* Each timeout expires at exactly its deadline of virtual time. */
static void to_alone(struct user *u)
{
	uint64_t t0 = now(u);

	rec(u, recv(u, H(0), VR_IPC_TIMEOUT, 5000));
	rec(u, (int64_t)(now(u) - t0));
	t0 = now(u);
	rec(u, send(u, H(0), (uint64_t)TAG(1, 0, 0), VR_IPC_TIMEOUT, 3000));
	rec(u, (int64_t)(now(u) - t0));
	t0 = now(u);
	rec(u, nwait(u, H(1), VR_IPC_TIMEOUT, 2000));
	rec(u, (int64_t)(now(u) - t0));
	t0 = now(u);
	rec(u, recv(u, H(0), VR_IPC_TIMEOUT, 0)); /* 0: fails at once */
	rec(u, (int64_t)(now(u) - t0));
	/* a call's timeout covers the wait for the reply (the server takes
	 * it at once, from its receive of 1 ms) */
	nap(u, 2);
	t0 = now(u);
	rec(u, call(u, H(0), (uint64_t)TAG(1, 0, 0), VR_IPC_TIMEOUT, 100000));
	rec(u, (int64_t)(now(u) - t0));
	/* a timeout that does not expire changes nothing */
	rec(u, signal_bits(u, H(1), 4));
	rec(u, nwait(u, H(1), VR_IPC_TIMEOUT, 1000));
}

/* Waits from 1 ms (after the sends above), takes the call, then replies
 * too late. */
static void to_server(struct user *u)
{
	nap(u, 1);
	rec(u, recv(u, H(0), 0, 0));
	nap(u, 1);
	rec(u, reply(u, (uint64_t)TAG(2, 0, 0)));
}

static void test_timeouts(void **state)
{
	(void)state;
	run(1, 1, to_alone, to_server, NULL);
	EXPECT(0, I(VR_ETIMEDOUT), I(5000), I(VR_ETIMEDOUT), I(3000), I(VR_ETIMEDOUT), I(2000),
	       I(VR_ETIMEDOUT), I(0), I(VR_ETIMEDOUT), I(100000), I(0), I(4));
	EXPECT(1, TAG(1, 0, 0), I(VR_ENOREPLY));
}

/* ---- Decoding errors -------------------------------------------------------- */

/* handles: 0 endpoint, 1 notification */
static void err_prog(struct user *u)
{
	uint64_t ep_r = mint(u, H(0), VR_CAP_READ, 0), ep_w = mint(u, H(0), VR_CAP_WRITE, 0);
	uint64_t n_r = mint(u, H(1), VR_CAP_READ, 0), n_w = mint(u, H(1), VR_CAP_WRITE, 0);
	uint64_t t = (uint64_t)TAG(1, 0, 0);

	/* wrong object type */
	rec(u, send(u, H(1), t, 0, 0));
	rec(u, recv(u, H(1), 0, 0));
	rec(u, call(u, H(1), t, 0, 0));
	rec(u, reply_recv(u, H(1), t, 0, 0));
	rec(u, signal_bits(u, H(0), 1));
	rec(u, nwait(u, H(0), 0, 0));
	/* missing rights: send WRITE, recv READ, call both, signal WRITE, wait READ */
	rec(u, send(u, ep_r, t, 0, 0));
	rec(u, recv(u, ep_w, 0, 0));
	rec(u, call(u, ep_w, t, 0, 0));
	rec(u, call(u, ep_r, t, 0, 0));
	rec(u, reply_recv(u, ep_w, t, 0, 0));
	rec(u, signal_bits(u, n_r, 1));
	rec(u, nwait(u, n_w, 0, 0));
	/* an empty slot */
	rec(u, send(u, H(40), t, 0, 0));
	/* bad flags: unknown bits, and the kernel's own IPC_REGS */
	rec(u, send(u, H(0), t, 4, 0));
	rec(u, recv(u, H(0), IPC_REGS, 0));
	rec(u, nwait(u, H(1), 8, 0));
	/* bad tags: too many words or capabilities, a bit above the caps */
	rec(u, send(u, H(0), (uint64_t)TAG(1, VR_MSG_WORDS + 1, 0), 0, 0));
	rec(u, send(u, H(0), (uint64_t)TAG(1, 0, VR_MSG_CAPS + 1), 0, 0));
	rec(u, send(u, H(0), t | 1ull << 43, 0, 0));
	rec(u, reply(u, (uint64_t)TAG(1, VR_MSG_WORDS + 1, 0)));
	/* a short message of more than VR_MSG_REGS words */
	rec(u, sys(u, VR_SYS_ipc_send_short, H(0), (uint64_t)TAG(1, VR_MSG_REGS + 1, 0), 0, 0));
	rec(u, sys(u, VR_SYS_ipc_reply_short, (uint64_t)TAG(1, VR_MSG_REGS + 1, 0), 0, 0, 0));
	/* bit 63 of a notification word */
	rec(u, signal_bits(u, H(1), 1ull << 63));
	/* a reply with no caller */
	rec(u, reply(u, t));
	/* nothing of the above was queued */
	rec(u, recv(u, H(0), VR_IPC_NONBLOCK, 0));
	rec(u, nwait(u, H(1), VR_IPC_NONBLOCK, 0));
}

static void test_errors(void **state)
{
	(void)state;
	run(1, 1, err_prog, NULL, NULL);
	assert_int_equal(sc.nrec[0], 27);
	EXPECT_AT(0, 0, I(VR_ECAP_TYPE), I(VR_ECAP_TYPE), I(VR_ECAP_TYPE), I(VR_ECAP_TYPE),
		  I(VR_ECAP_TYPE), I(VR_ECAP_TYPE), I(VR_ECAP_RIGHTS), I(VR_ECAP_RIGHTS),
		  I(VR_ECAP_RIGHTS), I(VR_ECAP_RIGHTS), I(VR_ECAP_RIGHTS), I(VR_ECAP_RIGHTS),
		  I(VR_ECAP_RIGHTS), I(VR_ECAP_EMPTY), I(VR_EINVAL), I(VR_EINVAL));
	EXPECT_AT(0, 16, I(VR_EINVAL), I(VR_EINVAL), I(VR_EINVAL), I(VR_EINVAL), I(VR_EINVAL),
		  I(VR_E2BIG), I(VR_E2BIG), I(VR_EINVAL), I(VR_ENOREPLY), I(VR_EAGAIN),
		  I(VR_EAGAIN));
}

/* ---- Capability transfer ---------------------------------------------------- */

/* handles: 0 endpoint, 1 notification */
static void xfer_sender(struct user *u)
{
	uint64_t ep_nogrant = mint(u, H(0), VR_CAP_READ | VR_CAP_WRITE, 0);
	uint64_t n_nogrant = mint(u, H(1), VR_CAP_READ | VR_CAP_WRITE | VR_CAP_DELETE, 0);
	uint64_t t = (uint64_t)TAG(9, 0, 1);

	nap(u, 1);
	u->buf->caps[0] = (uint32_t)H(1);
	rec(u, send(u, ep_nogrant, t, 0, 0)); /* the endpoint capability lacks GRANT */
	u->buf->caps[0] = (uint32_t)n_nogrant;
	rec(u, send(u, H(0), t, 0, 0)); /* the capability sent lacks GRANT */
	u->buf->caps[0] = (uint32_t)H(1);
	u->buf->caps[1] = (uint32_t)H(1);
	rec(u, send(u, H(0), (uint64_t)TAG(9, 0, 2), 0, 0)); /* the same one twice */
	u->buf->caps[0] = (uint32_t)H(7);
	rec(u, send(u, H(0), t, 0, 0)); /* an empty slot */
	u->buf->caps[0] = (uint32_t)H(1);
	rec(u, send(u, H(0), t, 0, 0));
	rec(u, signal_bits(u, H(1), 1));      /* moved: stale here */
	rec(u, signal_bits(u, n_nogrant, 2)); /* its child stays */
}

static void xfer_receiver(struct user *u)
{
	uint32_t got;

	rec(u, recv(u, H(0), 0, 0));
	got = u->buf->caps[0];
	rec(u, got != VR_CAP_INVALID);
	nap(u, 1);
	rec(u, nwait(u, got, 0, 0)); /* the notification works through the new handle */
}

static void test_cap_transfer(void **state)
{
	(void)state;
	run(1, 1, xfer_sender, xfer_receiver, NULL);
	EXPECT(0, I(VR_ECAP_RIGHTS), I(VR_ECAP_RIGHTS), I(VR_EINVAL), I(VR_ECAP_EMPTY), I(0),
	       I(VR_ECAP_STALE), I(0));
	EXPECT(1, TAG(9, 0, 1), I(1), I(2));
}

/* ---- Priority-ordered queues ------------------------------------------------ */

/* The receiver takes three queued messages: the real-time sender's first,
 * then the two fair ones in the order they came. */
static void prio_receiver(struct user *u)
{
	nap(u, 5);
	for (int i = 0; i < 3; i++) {
		rec(u, recv(u, H(0), 0, 0));
		rec(u, (int64_t)u->buf->badge);
	}
}

static void prio_fair(struct user *u)
{
	rec(u, send(u, mint(u, H(0), VR_CAP_ALL, 1), (uint64_t)TAG(1, 0, 0), 0, 0));
	rec(u, send(u, mint(u, H(0), VR_CAP_ALL, 3), (uint64_t)TAG(3, 0, 0), 0, 0));
}

static void prio_rt(struct user *u)
{
	uint64_t h = mint(u, H(0), VR_CAP_ALL, 2);

	rec(u, sys(u, VR_SYS_sched_set, 0, VR_SCHED_FIFO, 10, 0));
	nap(u, 1);
	rec(u, send(u, h, (uint64_t)TAG(2, 0, 0), 0, 0));
}

/* prio_fair queues badge 1 at once, prio_rt badge 2 at 1 ms; after
 * receiving, prio_fair queues badge 3 only when its first send is done.
 * So the queue holds [2, 1] when the receiver arrives. */
static void test_priority_queue(void **state)
{
	(void)state;
	run(1, 0, prio_receiver, prio_fair, prio_rt);
	EXPECT(0, TAG(2, 0, 0), I(2), TAG(1, 0, 0), I(1), TAG(3, 0, 0), I(3));
	EXPECT(1, I(0), I(0));
	EXPECT(2, I(0), I(0));
}

/* FIFO among equals: two fair senders queued in order. */
static void fifo_first(struct user *u)
{
	rec(u, send(u, mint(u, H(0), VR_CAP_ALL, 1), (uint64_t)TAG(1, 0, 0), 0, 0));
}

static void fifo_second(struct user *u)
{
	nap(u, 1);
	rec(u, send(u, mint(u, H(0), VR_CAP_ALL, 2), (uint64_t)TAG(2, 0, 0), 0, 0));
}

static void fifo_receiver(struct user *u)
{
	nap(u, 5);
	for (int i = 0; i < 2; i++) {
		recv(u, H(0), 0, 0);
		rec(u, (int64_t)u->buf->badge);
	}
}

static void test_fifo_among_equals(void **state)
{
	(void)state;
	run(1, 0, fifo_receiver, fifo_second, fifo_first);
	EXPECT(0, I(1), I(2));
	EXPECT(1, I(0));
	EXPECT(2, I(0));
}

/* ---- Notifications ---------------------------------------------------------- */

static void ntf_waiter(struct user *u)
{
	rec(u, nwait(u, H(0), 0, 0)); /* blocks until signalled */
	nap(u, 2);
	rec(u, nwait(u, H(0), 0, 0));               /* bits OR-ed in meanwhile */
	rec(u, nwait(u, H(0), VR_IPC_NONBLOCK, 0)); /* cleared by the wait */
	rec(u, signal_bits(u, H(0), 0x40));
	rec(u, nwait(u, H(0), VR_IPC_NONBLOCK, 0)); /* a poll takes them */
}

static void ntf_signaller(struct user *u)
{
	nap(u, 1);
	rec(u, signal_bits(u, H(0), 0x5));
	rec(u, signal_bits(u, H(0), 0x2));
	rec(u, signal_bits(u, H(0), 0x8));
	rec(u, signal_bits(u, H(0), 0x2));
}

static void test_notifications(void **state)
{
	(void)state;
	run(0, 1, ntf_waiter, ntf_signaller, NULL);
	EXPECT(0, I(0x5), I(0xa), I(VR_EAGAIN), I(0), I(0x40));
	EXPECT(1, I(0), I(0), I(0), I(0));
}

/* ---- Peers and objects going away ------------------------------------------- */

/* The server exits holding the call: the caller gets VR_ECLOSED. */
static void cl_caller(struct user *u)
{
	rec(u, call(u, H(0), (uint64_t)TAG(1, 0, 0), 0, 0));
}

static void cl_quitter(struct user *u)
{
	rec(u, recv(u, H(0), 0, 0));
	nap(u, 1);
}

static void test_closed_server_exits(void **state)
{
	(void)state;
	run(1, 0, cl_caller, cl_quitter, NULL);
	EXPECT(0, I(VR_ECLOSED));
	EXPECT(1, TAG(1, 0, 0));
}

/* The owner of a new endpoint hands a derived capability to the waiter,
 * then revokes it and deletes its own: the endpoint is destroyed while the
 * waiter is queued on it. */
static void cl_owner(struct user *u)
{
	int64_t e = sys(u, VR_SYS_endpoint_create, 0, 0, 0, 0);

	rec(u, e >= 0);
	u->buf->caps[0] = (uint32_t)mint(u, (uint64_t)e, VR_CAP_ALL, 0);
	rec(u, send(u, H(0), (uint64_t)TAG(1, 0, 1), 0, 0));
	nap(u, 1);
	rec(u, sys(u, VR_SYS_cap_revoke, (uint64_t)e, 0, 0, 0));
	rec(u, sys(u, VR_SYS_cap_delete, (uint64_t)e, 0, 0, 0));
}

static void cl_waiter(struct user *u)
{
	uint32_t got;

	rec(u, recv(u, H(0), 0, 0));
	got = u->buf->caps[0];
	rec(u, recv(u, got, 0, 0));               /* woken by the destruction */
	rec(u, recv(u, got, VR_IPC_NONBLOCK, 0)); /* the revoke deleted the handle */
}

static void test_closed_endpoint_destroyed(void **state)
{
	(void)state;
	run(1, 0, cl_owner, cl_waiter, NULL);
	EXPECT(0, I(1), I(0), I(0), I(0));
	EXPECT(1, TAG(1, 0, 1), I(VR_ECLOSED), I(VR_ECAP_STALE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_recv_badge),
		cmocka_unit_test(test_call_reply_recv),
		cmocka_unit_test(test_nonblocking),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_cap_transfer),
		cmocka_unit_test(test_priority_queue),
		cmocka_unit_test(test_fifo_among_equals),
		cmocka_unit_test(test_notifications),
		cmocka_unit_test(test_closed_server_exits),
		cmocka_unit_test(test_closed_endpoint_destroyed),
	};

	return cmocka_run_group_tests(tests, boot, NULL);
}
