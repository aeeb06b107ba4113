/*
 * schedtest: scheduling classes, priority inheritance, IPC timeouts and
 * timer notifications from user space, in both builds
 * (tests/system/sched-*.sh). Prints one line per failed check and ends with
 * "schedtest: N checks, N failed"; exits 0 only if none failed.
 *
 * Everything is driven by syscalls (yield, sleep, IPC) so that it stays
 * fast and deterministic in veridian-sim's virtual time, where user code
 * that never traps is preempted only by a real-time watchdog. In
 * veridian-sim the clock checks are exact; under QEMU they are lower bounds.
 *
 * The same binary plays the helper processes, chosen by argv[1]:
 *   spin N      yield N times, send its pid (label) on handle 0, exit 0
 *   hold        receive one call on handle 0, sleep, try to reply: exit 0
 *               if the caller had given up (VR_ENOREPLY)
 *   pisrv MS    serve handle 0: label 1 sleeps MS ms then replies, 2 exits
 *   picall L    call handle 0 with label L, exit 0 on a reply
 */
#define UCHECK_PROGRAM "schedtest"
#include "../lib/ucheck.h"
#include "vrt.h"

#define MS 1000000ull
#define HOLD_NS (10 * MS)
#define SPINS 300

static bool exact; /* veridian-sim: virtual time, clocks are exact */

/* A time measured against the one expected: equal in virtual time, at
 * least it elsewhere. */
#define CHECK_TIME(got, want)                                                                    \
	do {                                                                                     \
		uint64_t g_ = (got), w_ = (want);                                                \
		ucheck_checks++;                                                                 \
		if (exact ? g_ != w_ : g_ < w_) {                                                \
			ucheck_failures++;                                                       \
			printf("schedtest: FAIL line %d: %s = %llu ns, want %s%llu\n", __LINE__, \
			       #got, (unsigned long long)g_,                                     \
			       exact ? "" : ">= ", (unsigned long long)w_);                      \
		}                                                                                \
	} while (0)

/* Spawn `args` (this binary) as the caller's child at (policy, prio): the
 * child inherits the caller's policy at creation, so the caller takes it
 * for the spawn and goes back to FAIR 0 (which may let the child run at
 * once, as a higher class should). */
static long spawn_at(unsigned policy, int prio, const char *args, long ep)
{
	struct vr_spawn_caps sc = { .count = ep >= 0, .handles = { (uint32_t)ep } };
	long pid;

	CHECK_OK(sys_sched_set(0, policy, prio));
	pid = sys_spawn_caps("bin/schedtest", 13, args, strlen(args), ep >= 0 ? &sc : NULL);
	CHECK_OK(sys_sched_set(0, VR_SCHED_FAIR, 0));
	CHECK_OK(pid);
	return pid;
}

static void test_get_set(void)
{
	struct vr_sched_info si;

	CHECK_OK(sys_sched_get(0, &si));
	CHECK_EQ(si.policy, VR_SCHED_FAIR);
	CHECK_EQ(si.prio, 0);
	CHECK_EQ(si.eff_policy, VR_SCHED_FAIR);
	CHECK_EQ(si.affinity, 1);
	CHECK_OK(sys_sched_set(0, VR_SCHED_BATCH, 7));
	CHECK_OK(sys_sched_get(sys_getpid(), &si));
	CHECK_EQ(si.policy, VR_SCHED_BATCH);
	CHECK_EQ(si.prio, 7);
	CHECK_OK(sys_sched_set(0, VR_SCHED_FAIR, 0));
	CHECK_EQ(sys_sched_set(0, 9, 0), VR_EINVAL);
	CHECK_EQ(sys_sched_set(0, VR_SCHED_FIFO, 0), VR_EINVAL);
	CHECK_EQ(sys_sched_set(0, VR_SCHED_RR, 100), VR_EINVAL);
	CHECK_EQ(sys_sched_set(0, VR_SCHED_FAIR, 20), VR_EINVAL);
	CHECK_EQ(sys_sched_set(1, VR_SCHED_FAIR, 0), VR_ESRCH); /* init: not our child */
	CHECK_EQ(sys_sched_set(-2, VR_SCHED_FAIR, 0), VR_EINVAL);
	CHECK_OK(sys_sched_get(1, &si)); /* reading is allowed */
	CHECK_EQ(sys_sched_get(99999, &si), VR_ESRCH);
	CHECK_EQ(sys_sched_get(0, (struct vr_sched_info *)8), VR_EFAULT);
	CHECK_EQ(sys_sched_affinity(0, 0), 1);
	CHECK_EQ(sys_sched_affinity(0, 2), VR_EINVAL); /* no online CPU in it */
	CHECK_EQ(sys_sched_affinity(0, 1ull << 63), VR_EINVAL);
	CHECK_EQ(sys_sched_affinity(0, 3), 1);
	CHECK_EQ(sys_sched_affinity(0, 1), 3);
}

/* Start two spinners (yield SPINS times, then send their pid on ep) at the
 * given classes. The caller holds FIFO 50 meanwhile, so neither runs
 * before both are set; changing a child's class is what is tested here. */
static void start_pair(long ep, unsigned p1, int q1, unsigned p2, int q2, long *a, long *b)
{
	struct vr_spawn_caps sc = { .count = 1, .handles = { (uint32_t)ep } };

	CHECK_OK(sys_sched_set(0, VR_SCHED_FIFO, 50));
	*a = sys_spawn_caps("bin/schedtest", 13, "schedtest spin 300", 18, &sc);
	*b = sys_spawn_caps("bin/schedtest", 13, "schedtest spin 300", 18, &sc);
	CHECK_OK(*a);
	CHECK_OK(*b);
	CHECK_OK(sys_sched_set(process_pid((uint32_t)*a), p1, q1));
	CHECK_OK(sys_sched_set(process_pid((uint32_t)*b), p2, q2));
}

/* The order in which the two spinners a and b finished (as their process
 * handles): the caller waits in recv at FIFO 90, so each spinner's send
 * (of its pid) is taken the moment it is made (a queue of senders would be
 * ordered by priority, not by time). */
static void finish_order(long ep, long a, long b, long *first, long *second)
{
	long pid_a = process_pid((uint32_t)a);
	int status;

	CHECK_OK(sys_sched_set(0, VR_SCHED_FIFO, 90));
	*first = (long)VR_MSG_LABEL(sys_ipc_recv((uint32_t)ep, 0)) == pid_a ? a : b;
	*second = (long)VR_MSG_LABEL(sys_ipc_recv((uint32_t)ep, 0)) == pid_a ? a : b;
	CHECK_OK(sys_sched_set(0, VR_SCHED_FAIR, 0));
	CHECK_OK(wait_child((uint32_t)a, &status));
	CHECK_OK(wait_child((uint32_t)b, &status));
}

/* Finishing order shows who had the CPU. */
static void test_classes(void)
{
	long ep = sys_endpoint_create(), a, b, first, second;

	CHECK_OK(ep);
	/* an idle-class spinner started first still finishes last */
	start_pair(ep, VR_SCHED_IDLE, 0, VR_SCHED_FAIR, 0, &a, &b);
	finish_order(ep, a, b, &first, &second);
	CHECK_EQ(first, b);
	CHECK_EQ(second, a);
	/* a real-time spinner runs to its end before a fair one started before it */
	start_pair(ep, VR_SCHED_FAIR, 0, VR_SCHED_FIFO, 10, &a, &b);
	finish_order(ep, a, b, &first, &second);
	CHECK_EQ(first, b);
	CHECK_EQ(second, a);
	/* the higher real-time priority first */
	start_pair(ep, VR_SCHED_RR, 5, VR_SCHED_RR, 6, &a, &b);
	finish_order(ep, a, b, &first, &second);
	CHECK_EQ(first, b);
	CHECK_EQ(second, a);
	if (exact) {
		/* equal RR priorities take turns: the first started finishes
		 * first (in real time a slice may end anywhere: either order) */
		start_pair(ep, VR_SCHED_RR, 7, VR_SCHED_RR, 7, &a, &b);
		finish_order(ep, a, b, &first, &second);
		CHECK_EQ(first, a);
		CHECK_EQ(second, b);
		/* fair and batch share a queue: in virtual time (no CPU time
		 * passes between yields) they take turns too */
		start_pair(ep, VR_SCHED_BATCH, 0, VR_SCHED_FAIR, 0, &a, &b);
		finish_order(ep, a, b, &first, &second);
		CHECK_EQ(first, a);
		CHECK_EQ(second, b);
	}
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

static void test_timeouts(void)
{
	long ep = sys_endpoint_create(), n = sys_notification_create(), pid;
	uint64_t t0;
	int status;

	CHECK_OK(ep);
	CHECK_OK(n);
	t0 = sys_clock();
	CHECK_EQ(sys_ipc_recv_timeout((uint32_t)ep, 5 * MS), VR_ETIMEDOUT);
	CHECK_TIME(sys_clock() - t0, 5 * MS);
	t0 = sys_clock();
	CHECK_EQ(sys_ipc_call_timeout((uint32_t)ep, VR_MSG_TAG(1, 0, 0), 3 * MS), VR_ETIMEDOUT);
	CHECK_TIME(sys_clock() - t0, 3 * MS);
	t0 = sys_clock();
	CHECK_EQ(sys_ipc_send_timeout((uint32_t)ep, VR_MSG_TAG(1, 0, 0), 2 * MS), VR_ETIMEDOUT);
	CHECK_TIME(sys_clock() - t0, 2 * MS);
	t0 = sys_clock();
	CHECK_EQ(sys_notify_wait_timeout((uint32_t)n, 7 * MS), VR_ETIMEDOUT);
	CHECK_TIME(sys_clock() - t0, 7 * MS);
	CHECK_EQ(sys_ipc_recv_timeout((uint32_t)ep, 0), VR_ETIMEDOUT);
	CHECK_EQ(vr_sys_ipc_recv(ep, 4, 0, 0, 0), VR_EINVAL); /* unknown flag */
	/* a call that times out while the server holds it: the reply finds no caller */
	pid = spawn_at(VR_SCHED_FAIR, 0, "schedtest hold", ep);
	t0 = sys_clock();
	CHECK_EQ(sys_ipc_call_timeout((uint32_t)ep, VR_MSG_TAG(1, 0, 0), 4 * MS), VR_ETIMEDOUT);
	CHECK_TIME(sys_clock() - t0, 4 * MS);
	CHECK_OK(wait_child(pid, &status));
	CHECK_EQ(status, 0);
	CHECK_OK(sys_cap_delete((uint32_t)ep));
	CHECK_OK(sys_cap_delete((uint32_t)n));
}

static void test_timer_notifications(void)
{
	long n = sys_notification_create(), ep = sys_endpoint_create();
	uint64_t t0 = sys_clock();

	CHECK_OK(n);
	CHECK_OK(sys_notify_timer((uint32_t)n, t0 + 3 * MS, 0, 4));
	CHECK_EQ(sys_notify_wait((uint32_t)n, 0), 4);
	CHECK_TIME(sys_clock() - t0, 3 * MS);
	/* periodic: every 2 ms from t0 + 1 ms */
	t0 = sys_clock();
	CHECK_OK(sys_notify_timer((uint32_t)n, t0 + MS, 2 * MS, 1));
	for (int k = 0; k < 3; k++) {
		CHECK_EQ(sys_notify_wait((uint32_t)n, 0), 1);
		CHECK_TIME(sys_clock() - t0, MS + 2 * MS * (uint64_t)k);
	}
	CHECK_OK(sys_notify_timer((uint32_t)n, 0, 0, 0)); /* disarm */
	CHECK_EQ(sys_notify_wait_timeout((uint32_t)n, 10 * MS), VR_ETIMEDOUT);
	CHECK_EQ(sys_notify_timer((uint32_t)n, t0, 5, 1), VR_ERANGE);
	CHECK_EQ(sys_notify_timer((uint32_t)n, t0, 0, 0), VR_EINVAL);
	CHECK_EQ(sys_notify_timer((uint32_t)n, t0, 0, 1ull << 63), VR_EINVAL);
	CHECK_EQ(sys_notify_timer((uint32_t)ep, t0, 0, 1), VR_ECAP_TYPE);
	/* a timer armed on a deleted notification goes with it */
	CHECK_OK(sys_notify_timer((uint32_t)n, sys_clock() + MS, MS, 1));
	CHECK_OK(sys_cap_delete((uint32_t)n));
	sys_sleep(3 * MS);
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

static void expect_eff(long pid, unsigned policy, int prio, int line)
{
	struct vr_sched_info si;
	long err = sys_sched_get(pid, &si);

	ucheck_checks++;
	if (err < 0 || si.eff_policy != policy || si.eff_prio != prio) {
		ucheck_failures++;
		printf("schedtest: FAIL line %d: pid %ld runs at %s %d (own %s %d), want %s %d\n",
		       line, pid, vrt_policy_name(si.eff_policy), si.eff_prio,
		       vrt_policy_name(si.policy), si.prio, vrt_policy_name(policy), prio);
	}
}

/* A fair nice-10 server inherits FIFO 30 from the caller it serves, FIFO
 * 40 from a caller queued behind, and drops back once both are answered. */
static void test_inheritance(void)
{
	long ep = sys_endpoint_create(), srv, c30, c40;
	int status;

	CHECK_OK(ep);
	/* the server holds each call long enough for the checks below even
	 * in real time under emulation */
	srv = spawn_at(VR_SCHED_FAIR, 10, exact ? "schedtest pisrv 10" : "schedtest pisrv 300", ep);
	sys_sleep(MS); /* the server reaches its recv */
	expect_eff(process_pid((uint32_t)srv), VR_SCHED_FAIR, 10, __LINE__);
	c30 = spawn_at(VR_SCHED_FIFO, 30, "schedtest picall 1", ep);
	/* c30 ran at once, called; the server holds its call, asleep */
	expect_eff(process_pid((uint32_t)srv), VR_SCHED_FIFO, 30, __LINE__);
	c40 = spawn_at(VR_SCHED_FIFO, 40, "schedtest picall 1", ep);
	expect_eff(process_pid((uint32_t)srv), VR_SCHED_FIFO, 40,
		   __LINE__); /* c40 is queued on the endpoint */
	CHECK_OK(wait_child(c30, &status));
	CHECK_EQ(status, 0);
	CHECK_OK(wait_child(c40, &status));
	CHECK_EQ(status, 0);
	expect_eff(process_pid((uint32_t)srv), VR_SCHED_FAIR, 10, __LINE__);
	CHECK_OK(sys_ipc_call((uint32_t)ep, VR_MSG_TAG(2, 0, 0), 0) == VR_ECLOSED ? 0 : -1);
	CHECK_OK(wait_child(srv, &status));
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

static int spin(const char *count)
{
	long n;

	if (!vrt_parse_long(count, &n))
		return 2;
	while (n-- > 0)
		sys_yield();
	/* to schedtest, if it gave us handle 0 */
	sys_ipc_send(0, VR_MSG_TAG(sys_getpid(), 0, 0), 0);
	return 0;
}

static int hold(void)
{
	if (sys_ipc_recv(0, 0) < 0)
		return 2;
	sys_sleep(HOLD_NS);
	return sys_ipc_reply(VR_MSG_TAG(1, 0, 0)) == VR_ENOREPLY ? 0 : 1;
}

static int pisrv(const char *ms)
{
	long hold, tag;

	if (!vrt_parse_long(ms, &hold))
		return 2;
	tag = sys_ipc_recv(0, 0);
	while (tag >= 0 && VR_MSG_LABEL(tag) == 1) {
		sys_sleep((uint64_t)hold * MS);
		tag = sys_ipc_reply_recv(0, VR_MSG_TAG(1, 0, 0), 0);
	}
	return tag < 0;
}

int main(int argc, char **argv)
{
	struct vr_uname u;

	if (argc > 2 && !strcmp(argv[1], "spin"))
		return spin(argv[2]);
	if (argc > 1 && !strcmp(argv[1], "hold"))
		return hold();
	if (argc > 2 && !strcmp(argv[1], "pisrv"))
		return pisrv(argv[2]);
	if (argc > 2 && !strcmp(argv[1], "picall"))
		return sys_ipc_call(0, VR_MSG_TAG(1, 0, 0), 0) < 0;
	exact = sys_uname(&u) == 0 && !strcmp(u.build, "veridian-sim");
	test_get_set();
	test_classes();
	test_timeouts();
	test_timer_notifications();
	test_inheritance();
	return ucheck_summary("schedtest");
}
