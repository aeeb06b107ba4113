/*
 * threadtest: threads from user space, run in both builds
 * (tests/system/threads-sim.sh, threads-qemu.sh). Checks creation, TLS,
 * per-thread IPC buffers, suspend and resume, kill, join (with timeouts),
 * exit of the last thread, exit of the whole process from any thread, the
 * error paths, and that a process killed with threads in every state gives
 * back all its memory. Ends with "threadtest: N checks, N failed".
 *
 *   threadtest               all checks (the parent)
 *   threadtest many N        N threads blocked in IPC, sleep and suspension,
 *                            waiting to be killed (a child of the parent)
 *   threadtest lastexit      the main thread ends first; a worker exits 42
 *   threadtest exitall       a worker calls exit(7) while others wait
 */
#include "vrt.h"

#define UCHECK_PROGRAM "threadtest"
#include "../lib/ucheck.h"

#define MS 1000000ull

static long shared_ep; /* an endpoint the threads of one process share */

static int return_arg(void *arg)
{
	return (int)(uintptr_t)arg;
}

/* Each thread sees its own TLS block and IPC buffer. */
static int tls_check(void *arg)
{
	struct vrt_thread *me = vrt_self();

	if (me->self != me || me->arg != arg || me->fn != tls_check)
		return 1;
	if (ipc_buffer() == (struct vr_ipc_buffer *)vrt_start_info->ipc_buffer)
		return 2;
	me->user = arg;
	sys_yield(); /* another thread runs and must not disturb ours */
	return vrt_self()->user == arg ? 0 : 3;
}

static volatile unsigned long spins;

/* Counts, sleeping 100 us between counts: in virtual time the clock moves
 * only when every thread waits, so a thread that only yielded would keep
 * the main thread's sleep from ever ending. */
static int ticker(void *arg)
{
	(void)arg;
	for (;;) {
		spins++;
		sys_sleep(MS / 10);
	}
	return 0; /* not reached */
}

/* Serve one call: echo the words back doubled, through this thread's own
 * IPC buffer. */
static int server(void *arg)
{
	long tag = sys_ipc_recv((uint32_t)shared_ep, 0);
	struct vr_ipc_buffer *b = ipc_buffer();
	unsigned n;

	(void)arg;
	if (tag < 0)
		return 1;
	n = VR_MSG_NWORDS(tag);
	for (unsigned i = 0; i < n; i++)
		b->words[i] *= 2;
	return sys_ipc_reply(VR_MSG_TAG(7, n, 0)) < 0;
}

static int sleeper(void *arg)
{
	sys_sleep((uint64_t)(uintptr_t)arg);
	return 5;
}

static void test_create_join(void)
{
	struct vrt_thread *t[8];
	int status;

	for (int i = 0; i < 8; i++)
		CHECK_OK(thread_start(&t[i], return_arg, (void *)(uintptr_t)(100 + i)));
	for (int i = 0; i < 8; i++) {
		status = -1;
		CHECK_OK(thread_join(t[i], &status));
		CHECK_EQ(status, 100 + i);
	}
	/* spans are reused: more threads over time than VR_THREADS_MAX */
	for (int round = 0; round < 3 * (int)VR_THREADS_MAX; round++) {
		CHECK_OK(thread_start(&t[0], return_arg, (void *)(uintptr_t)round));
		CHECK_OK(thread_join(t[0], &status));
		if (status != round)
			CHECK_EQ(status, round);
	}
}

static void test_tls_and_ipc(void)
{
	struct vrt_thread *t[4];
	struct vr_ipc_buffer *b = ipc_buffer();
	int status;

	CHECK_EQ(vrt_self()->index, -1); /* the main thread */
	for (int i = 0; i < 4; i++)
		CHECK_OK(thread_start(&t[i], tls_check, (void *)(uintptr_t)(i + 1)));
	for (int i = 0; i < 4; i++) {
		CHECK_OK(thread_join(t[i], &status));
		CHECK_EQ(status, 0);
	}
	/* a call from the main thread to a server thread of the same process */
	shared_ep = sys_endpoint_create();
	CHECK_OK(shared_ep);
	CHECK_OK(thread_start(&t[0], server, NULL));
	for (unsigned i = 0; i < 16; i++)
		b->words[i] = i;
	CHECK_EQ(VR_MSG_LABEL(sys_ipc_call((uint32_t)shared_ep, VR_MSG_TAG(1, 16, 0), 0)), 7);
	for (unsigned i = 0; i < 16; i++)
		if (b->words[i] != 2 * i)
			CHECK_EQ(b->words[i], 2 * i);
	CHECK_OK(thread_join(t[0], &status));
	CHECK_EQ(status, 0);
	CHECK_OK(sys_cap_delete((uint32_t)shared_ep));
}

static void test_suspend_resume(void)
{
	struct vrt_thread *t;
	unsigned long before;
	int status;

	spins = 0;
	CHECK_OK(thread_start(&t, ticker, NULL));
	sys_sleep(MS);
	CHECK_OK(sys_thread_suspend(t->handle));
	before = spins;
	sys_sleep(2 * MS);
	CHECK_EQ(spins - before, 0);             /* a suspended thread does not run */
	CHECK_OK(sys_thread_suspend(t->handle)); /* again: no change */
	CHECK_OK(sys_thread_resume(t->handle));
	sys_sleep(MS);
	CHECK_EQ(spins > before, 1);
	CHECK_OK(sys_thread_resume(t->handle)); /* not suspended: no change */
	/* kill while suspended */
	CHECK_OK(sys_thread_suspend(t->handle));
	CHECK_OK(sys_thread_kill(t->handle, 9));
	CHECK_OK(thread_join(t, &status));
	CHECK_EQ(status, 9);
}

static struct vrt_thread *join_target;

/* Joins join_target through a capability of its own, which the main
 * thread deletes (with every other one) while this waits: the join must
 * still see the exit status (review finding: the record was freed under
 * the joiner). */
static int lone_joiner(void *arg)
{
	int status = -1;
	long err = sys_thread_join((uint32_t)(uintptr_t)arg, &status, 0, 0);

	return err ? 1000 + (int)-err : status;
}

static void test_join_without_capabilities(void)
{
	struct vrt_thread *j;
	uintptr_t span_stack;
	long copy;
	int status;

	CHECK_OK(thread_start(&join_target, sleeper, (void *)(uintptr_t)(5 * MS)));
	copy = sys_cap_copy(join_target->handle);
	CHECK_OK(copy);
	CHECK_OK(thread_start(&j, lone_joiner, (void *)(uintptr_t)copy));
	sys_sleep(MS); /* the joiner waits */
	CHECK_OK(sys_cap_delete((uint32_t)copy));
	CHECK_OK(sys_cap_delete(join_target->handle));
	CHECK_OK(thread_join(j, &status));
	CHECK_EQ(status, 5);
	/* join_target's capability is gone: free its stack by hand */
	span_stack = (uintptr_t)join_target - VRT_THREAD_STACK_PAGES * VR_PAGE_SIZE;
	CHECK_OK(sys_cap_delete(join_target->mem));
	CHECK_OK(sys_mem_unmap((void *)span_stack, VRT_THREAD_STACK_PAGES + 1));
}

/* A killed thread cannot be suspended on its way out (review finding: it
 * was parked for good, and its process could never be torn down). */
static void test_kill_then_suspend(void)
{
	struct vrt_thread *t;
	int status;

	CHECK_OK(thread_start(&t, sleeper, (void *)(uintptr_t)(1000 * MS)));
	sys_sleep(MS);
	CHECK_OK(sys_thread_kill(t->handle, 9));
	CHECK_EQ(sys_thread_suspend(t->handle), VR_ESRCH);
	CHECK_EQ(sys_thread_resume(t->handle), VR_ESRCH);
	CHECK_EQ(sys_thread_join(t->handle, &status, VR_IPC_TIMEOUT, 50 * MS), 0);
	CHECK_EQ(status, 9);
	CHECK_OK(thread_join(t, &status));
}

static void test_join_and_errors(void)
{
	struct vrt_thread *t;
	struct vr_cap_info ci;
	long self = sys_thread_self(), ro, ep = sys_endpoint_create();
	uint32_t stale;
	int status;

	CHECK_OK(self);
	CHECK_OK(ep);
	CHECK_OK(sys_cap_identify((uint32_t)self, &ci));
	CHECK_EQ(ci.type, VR_OBJ_THREAD);
	CHECK_EQ(ci.id > 0, 1);
	CHECK_EQ(sys_thread_join((uint32_t)self, &status, 0, 0), VR_EINVAL); /* itself */
	CHECK_OK(sys_cap_delete((uint32_t)self));
	/* timeouts and non-blocking joins */
	CHECK_OK(thread_start(&t, sleeper, (void *)(uintptr_t)(5 * MS)));
	CHECK_EQ(sys_thread_join(t->handle, &status, VR_IPC_NONBLOCK, 0), VR_EAGAIN);
	CHECK_EQ(sys_thread_join(t->handle, &status, VR_IPC_TIMEOUT, MS), VR_ETIMEDOUT);
	CHECK_EQ(sys_thread_join(t->handle, &status, 8, 0), VR_EINVAL); /* unknown flag */
	CHECK_EQ(sys_thread_join(t->handle, (int *)8, 0, 0), VR_EFAULT);
	/* rights: a read-only capability may join but not suspend or kill */
	ro = sys_cap_mint(t->handle, VR_CAP_READ, 0, 0);
	CHECK_OK(ro);
	CHECK_EQ(sys_thread_suspend((uint32_t)ro), VR_ECAP_RIGHTS);
	CHECK_EQ(sys_thread_kill((uint32_t)ro, 1), VR_ECAP_RIGHTS);
	CHECK_OK(sys_thread_join((uint32_t)ro, &status, 0, 0));
	CHECK_EQ(status, 5);
	/* an exited thread: every operation but join is VR_ESRCH */
	CHECK_EQ(sys_thread_suspend(t->handle), VR_ESRCH);
	CHECK_EQ(sys_thread_resume(t->handle), VR_ESRCH);
	CHECK_EQ(sys_thread_kill(t->handle, 1), VR_ESRCH);
	CHECK_OK(sys_cap_delete((uint32_t)ro));
	stale = t->handle;
	CHECK_OK(thread_join(t, &status)); /* frees t and deletes its capability */
	CHECK_EQ(status, 5);
	/* wrong types, forged and stale handles */
	CHECK_EQ(sys_thread_suspend((uint32_t)ep), VR_ECAP_TYPE);
	CHECK_EQ(sys_thread_join(0xfff0, &status, 0, 0), VR_ECAP_RANGE);
	CHECK_EQ(sys_thread_resume(stale), VR_ECAP_STALE);
	/* thread_create's arguments */
	{
		uintptr_t area = (uintptr_t)vrt_slot_addr(VR_SLOT_THREAD_IPCBUF_OFF);
		uintptr_t code = (uintptr_t)return_arg,
			  stack = (uintptr_t)vrt_slot_addr(0x10000000);
		CHECK_EQ(vr_sys_thread_create(0x1000, stack, 0, 0, area), VR_EINVAL); /* entry */
		CHECK_EQ(vr_sys_thread_create(code, stack, 0, 0, area + 1), VR_EINVAL);
		CHECK_EQ(vr_sys_thread_create(code, stack, 0, 0, area - VR_PAGE_SIZE), VR_EINVAL);
		CHECK_EQ(vr_sys_thread_create(code, stack, 0, 1, area), VR_EINVAL); /* tls */
		CHECK_EQ(vr_sys_thread_create(code, stack, 0, 0,
					      area + VR_THREADS_MAX * VR_PAGE_SIZE),
			 VR_EINVAL);
		CHECK_OK(thread_start(&t, sleeper, (void *)(uintptr_t)MS));
		/* its buffer's page is taken */
		CHECK_EQ(vr_sys_thread_create(code, stack, 0, 0, (long)t->ipc), VR_EBUSY);
		CHECK_OK(thread_join(t, &status));
	}
	/* mem_map may not map over the kernel's area */
	{
		long m = sys_mem_create(1);
		CHECK_OK(m);
		CHECK_EQ(sys_mem_map((uint32_t)m, vrt_slot_addr(VR_SLOT_THREAD_IPCBUF_OFF), 0, 1,
				     VR_PROT_READ | VR_PROT_WRITE),
			 VR_EINVAL);
		CHECK_OK(sys_cap_delete((uint32_t)m));
	}
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

/* ---- Children: how processes with threads end ---- */

static uint32_t first_thread; /* child_many: a thread the joiners wait for */

static int blocked_forever(void *arg)
{
	long kind = (long)(uintptr_t)arg;
	int status;

	if (kind == 0)
		sys_ipc_recv((uint32_t)shared_ep, 0);
	else if (kind == 1)
		sys_sleep(1000000 * MS);
	else if (kind == 3)
		sys_thread_join(first_thread, &status, 0, 0); /* killed while joining */
	else
		sys_notify_wait((uint32_t)shared_ep, 0); /* wrong type: returns at once */
	for (;;)
		sys_yield();
	return 0; /* not reached */
}

/* N threads in IPC receive, sleep, thread_join and a yield loop (some
 * suspended); then tell the parent (handle 0) and wait to be killed. */
static int child_many(long n)
{
	struct vrt_thread *t;

	shared_ep = sys_endpoint_create();
	for (long i = 0; i < n; i++) {
		if (thread_start(&t, blocked_forever, (void *)(uintptr_t)(i % 4)) < 0)
			return 3;
		if (i == 0)
			first_thread = t->handle;
		if (i % 5 == 4)
			sys_thread_suspend(t->handle);
	}
	sys_ipc_send(0, VR_MSG_TAG(1, 0, 0), 0);
	for (;;)
		sys_sleep(1000000 * MS);
}

static int worker_exit42(void *arg)
{
	(void)arg;
	sys_sleep(2 * MS);
	return 42;
}

/* The main thread ends first; the process lives on until its worker ends,
 * and takes the worker's status. */
static int child_lastexit(void)
{
	struct vrt_thread *t;

	if (thread_start(&t, worker_exit42, NULL) < 0)
		return 3;
	thread_exit(1);
}

static int worker_exit7(void *arg)
{
	(void)arg;
	sys_sleep(MS);
	exit(7);
}

/* exit() from any thread ends them all, blocked ones too. */
static int child_exitall(void)
{
	struct vrt_thread *t;

	shared_ep = sys_endpoint_create();
	for (int i = 0; i < 3; i++)
		if (thread_start(&t, blocked_forever, (void *)(uintptr_t)(i % 2)) < 0)
			return 3;
	if (thread_start(&t, worker_exit7, NULL) < 0)
		return 3;
	sys_ipc_recv((uint32_t)shared_ep, 0);
	return 4;
}

static long start_child(const char *args, long cap)
{
	struct vr_spawn_caps sc = { .count = cap >= 0, .handles = { (uint32_t)cap } };

	return sys_spawn_caps("bin/threadtest", 14, args, strlen(args), cap >= 0 ? &sc : NULL);
}

static void meminfo(struct vr_meminfo *m)
{
	CHECK_OK(vr_sys_meminfo((long)m, 0, 0, 0, 0));
}

static void test_process_end(void)
{
	struct vr_meminfo before, after;
	long ep = sys_endpoint_create(), c;
	int status;

	CHECK_OK(ep);
	c = start_child("threadtest lastexit", -1);
	CHECK_OK(c);
	CHECK_OK(wait_child((uint32_t)c, &status));
	CHECK_EQ(status, 42);
	c = start_child("threadtest exitall", -1);
	CHECK_OK(c);
	CHECK_OK(wait_child((uint32_t)c, &status));
	CHECK_EQ(status, 7);
	/* reclaim: a process killed with threads in every state gives back
	 * every frame and slab object (a first round warms the caches) */
	for (int round = 0; round < 3; round++) {
		meminfo(&before);
		c = start_child("threadtest many 20", ep);
		CHECK_OK(c);
		CHECK_EQ(VR_MSG_LABEL(sys_ipc_recv((uint32_t)ep, 0)), 1);
		CHECK_OK(sys_kill((uint32_t)c, 9));
		CHECK_OK(wait_child((uint32_t)c, &status));
		CHECK_EQ(status, 9);
		meminfo(&after);
		if (round > 0) {
			CHECK_EQ(after.free_pages, before.free_pages);
			CHECK_EQ(after.slab_objects, before.slab_objects);
		}
	}
	/* a process capability after its process is gone */
	c = start_child("threadtest lastexit", -1);
	CHECK_OK(c);
	CHECK_EQ(process_pid((uint32_t)c) > 0, 1);
	CHECK_OK(sys_wait(c, &status));
	CHECK_EQ(sys_kill((uint32_t)c, 1), VR_ESRCH);
	CHECK_EQ(sys_wait(c, &status), VR_ECHILD);
	CHECK_EQ(process_pid((uint32_t)c) > 0, 1); /* identify still works */
	CHECK_OK(sys_cap_delete((uint32_t)c));
	CHECK_EQ(sys_kill((uint32_t)ep, 1), VR_ECAP_TYPE);
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

int main(int argc, char **argv)
{
	long n;

	if (argc == 3 && !strcmp(argv[1], "many") && vrt_parse_long(argv[2], &n))
		return child_many(n);
	if (argc == 2 && !strcmp(argv[1], "lastexit"))
		return child_lastexit();
	if (argc == 2 && !strcmp(argv[1], "exitall"))
		return child_exitall();
	test_create_join();
	test_tls_and_ipc();
	test_suspend_resume();
	test_join_and_errors();
	test_join_without_capabilities();
	test_kill_then_suspend();
	test_process_end();
	return ucheck_summary("threadtest");
}
