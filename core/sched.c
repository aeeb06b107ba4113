/*
 * The scheduler's mechanism: switching, blocking, waking, kernel timers and
 * time accounting. Every choice of which thread runs is asked of the policy
 * (sched_policy.c) through the per-CPU run queue.
 *
 * Invariants (sched_check):
 *  1. `current` is the only RUNNING thread.
 *  2. A thread is queued on its CPU's run queue iff it is RUNNABLE (the
 *     idle thread is never queued: it runs when the queue is empty), and
 *     the run queue itself is consistent (rq_check).
 *  3. A BLOCKED thread is on the queue of its waiting_on (or on none while
 *     a rendezvous moves it); a SLEEPING thread is on no queue and its
 *     timeout timer is armed; a SUSPENDED one (also every new thread) is on
 *     no queue and no timer.
 *  4. Armed timers are on the timer list, sorted by deadline; a thread's
 *     timeout timer is armed only while it is SLEEPING or BLOCKED.
 *  5. ZOMBIE threads are on the reap list until the next thread frees them.
 *
 * Time: run_start is the clock when the slice owner began running: the
 * thread reschedule() picked. Its time is charged to it (CPU time, fair
 * vruntime) at the next reschedule. The IPC fast path (sched_block_switch)
 * hands the CPU over without reading the clock: a server reached that way
 * runs on its caller's slice and its caller pays for it, as the work is
 * done on the caller's behalf (seL4's passive servers do the same). The
 * slice end is kept only while others wait to run, so a lone thread is
 * never interrupted for nothing.
 */
#include "veridian/ipc.h"
#include "veridian/kheap.h"
#include "veridian/klib.h"
#include "veridian/pmm.h"
#include "veridian/proc.h"
#include "veridian/sched.h"

/* What one CPU runs. A second CPU would get its own (and the IPI to ask it
 * to reschedule); nothing else here assumes a single one but this_cpu(). */
struct sched_cpu {
	struct runqueue rq;
	struct thread idle;   /* the boot context becomes the idle thread */
	struct thread *owner; /* whose slice runs: picked by reschedule() */
	uint64_t run_start;   /* clock when owner started running */
	uint64_t slice_end;   /* clock value at which current's slice ends */
	bool need_resched;
	enum rq_how resched_how; /* how current is queued when preempted */
	uintptr_t user_tls;      /* the TLS base last given to hal_set_user_tls */
};

static struct {
	struct sched_cpu cpu0;
	struct list timers; /* armed ktimers, by deadline */
	struct list reap;   /* zombies whose stacks can be freed */
	struct list all;
	int64_t next_tid;
	uint64_t armed; /* the deadline last given to hal_timer_arm */
} sched;

static struct sched_cpu *this_cpu(void)
{
	return &sched.cpu0;
}

void waitq_init(struct waitq *wq)
{
	list_init(&wq->threads);
}

static void thread_timeout(struct ktimer *kt);

void sched_init(void)
{
	struct sched_cpu *c = this_cpu();

	list_init(&sched.timers);
	list_init(&sched.reap);
	list_init(&sched.all);
	rq_init(&c->rq, 0);
	c->idle = (struct thread){ .tid = 0, .state = VR_THREAD_RUNNING };
	se_init(&c->idle.se, VR_SCHED_IDLE, VR_NICE_MAX);
	list_init(&c->idle.sched_link);
	list_init(&c->idle.proc_link);
	ktimer_init(&c->idle.timeout, thread_timeout);
	list_push_back(&sched.all, &c->idle.all_link);
	sched_running = &c->idle;
	c->owner = &c->idle;
	c->slice_end = UINT64_MAX;
	sched.next_tid = 1;
	sched.armed = UINT64_MAX; /* the platform timer starts disarmed */
}

/* The running thread (sched.h: sched_current). With several CPUs this
 * becomes per-CPU storage; it is a plain variable so that the IPC path,
 * which asks for it several times a call, pays one load. */
struct thread *sched_running;

static bool is_idle(const struct thread *t)
{
	return t == &this_cpu()->idle;
}

static uintptr_t kstack_top(const struct thread *t)
{
	return (uintptr_t)phys_to_virt(t->kstack_pa) + KSTACK_PAGES * PAGE_SIZE;
}

static void reap_zombies(void);
static void arm_timer(const struct thread *running);
static void enqueue_by_prio(struct waitq *wq, struct thread *t);

/* ---- Kernel timers ---- */

void ktimer_init(struct ktimer *kt, void (*fire)(struct ktimer *kt))
{
	list_init(&kt->link);
	kt->deadline = UINT64_MAX;
	kt->fire = fire;
}

bool ktimer_armed(const struct ktimer *kt)
{
	return !list_empty(&kt->link);
}

void ktimer_arm(struct ktimer *kt, uint64_t deadline_ns)
{
	struct list *pos;

	list_remove(&kt->link);
	kt->deadline = deadline_ns;
	list_for_each(pos, &sched.timers)
		if (container_of(pos, struct ktimer, link)->deadline > deadline_ns)
			break;
	list_insert_before(pos, &kt->link);
	arm_timer(sched_current());
}

/* The hardware timer is re-armed lazily: at the next arm_timer(). */
void ktimer_cancel(struct ktimer *kt)
{
	list_remove(&kt->link);
}

/* ---- Threads ---- */

/* First code a new user thread runs, on its own kernel stack. */
static noreturn void thread_start(void *arg)
{
	struct thread *t = arg;

	reap_zombies();
	thread_pending_work(); /* killed or suspended before it ever ran */
	hal_user_enter(t->entry_pc, t->entry_sp, t->entry_arg);
}

static void inherit_policy(struct thread *t)
{
	const struct thread *parent = sched_current();

	if (!parent->proc) {
		se_init(&t->se, VR_SCHED_FAIR, 0);
		return;
	}
	se_init(&t->se, parent->se.policy, parent->se.prio);
	t->se.affinity = parent->se.affinity;
	t->se.cpu = parent->se.cpu;
}

struct thread *thread_create_user(struct process *proc, uintptr_t pc, uintptr_t sp, uintptr_t arg)
{
	struct thread *t = kzalloc(sizeof(*t));

	if (!t)
		return NULL;
	t->kstack_pa = pmm_alloc(KSTACK_PAGES, 1);
	if (!t->kstack_pa) {
		kfree(t);
		return NULL;
	}
	t->obj.type = KOBJ_THREAD;
	t->tid = sched.next_tid++;
	t->state = VR_THREAD_SUSPENDED; /* not yet runnable; on no queue */
	t->proc = proc;
	t->entry_pc = pc;
	t->entry_sp = sp;
	t->entry_arg = arg;
	inherit_policy(t);
	ktimer_init(&t->timeout, thread_timeout);
	waitq_init(&t->ipc.reply_wait);
	waitq_init(&t->exit_wait);
	list_init(&t->sched_link);
	list_init(&t->proc_link);
	list_push_back(&sched.all, &t->all_link);
	hal_context_init(&t->ctx, phys_to_virt(t->kstack_pa), KSTACK_PAGES * PAGE_SIZE,
			 (void (*)(void *))thread_start, t);
	return t;
}

/* Charge the slice owner for the time since it started running. */
static void account_current(uint64_t now)
{
	struct sched_cpu *c = this_cpu();

	if (now > c->run_start)
		se_charge(&c->owner->se, now - c->run_start);
	c->run_start = now;
}

/* A thread became runnable while `current` runs: start current's slice if
 * it was alone, and ask for a preemption if the policy says so. The
 * running thread's vruntime is compared as of its last charge (the start
 * of its slice): waking stays off the clock unless a slice starts. */
static void note_wakeup(struct thread *t)
{
	struct sched_cpu *c = this_cpu();
	struct thread *cur = sched_running;

	if (is_idle(cur)) {
		c->need_resched = true;
		return;
	}
	if (c->slice_end == UINT64_MAX) {
		uint64_t slice = se_slice(&cur->se);
		c->slice_end = slice == UINT64_MAX ? UINT64_MAX : hal_clock_ns() + slice;
	}
	if (!c->need_resched && rq_wake_preempts(&cur->se, &t->se)) {
		c->need_resched = true;
		c->resched_how = RQ_PREEMPTED;
	}
	arm_timer(cur);
}

void waitq_remove(struct thread *t)
{
	KASSERT(t->state == VR_THREAD_BLOCKED);
	list_remove(&t->sched_link);
	t->waiting_on = NULL;
}

void sched_make_runnable(struct thread *t)
{
	struct waitq *wq = t->waiting_on;

	KASSERT(!is_idle(t) && t->state != VR_THREAD_RUNNABLE && t->state != VR_THREAD_RUNNING);
	ktimer_cancel(&t->timeout);
	if (wq) {
		waitq_remove(t);
		ipc_wait_cancelled(t, wq); /* left without a rendezvous */
	}
	if (t == this_cpu()->owner) {
		/* it lent its slice to the running thread (IPC fast path): settle
		 * the bill before its vruntime becomes a run-queue key */
		account_current(hal_clock_ns());
		this_cpu()->owner = sched_current();
	}
	t->state = VR_THREAD_RUNNABLE;
	rq_enqueue(&this_cpu()->rq, &t->se, RQ_WAKE);
	note_wakeup(t);
}

/* Forget a thread and free its kernel stack (not its record). */
static void thread_release_stack(struct thread *t)
{
	KASSERT(!ktimer_armed(&t->timeout));
	list_remove(&t->all_link);
	hal_context_destroy(&t->ctx);
	pmm_free(t->kstack_pa, KSTACK_PAGES);
}

/* A zombie's kernel stack is no longer in use: free it. The record goes
 * too unless capabilities still name the thread (core/thread.c). */
static void thread_free(struct thread *t)
{
	thread_release_stack(t);
	thread_reaped(t);
}

void sched_discard_new(struct thread *t)
{
	KASSERT(t->state == VR_THREAD_SUSPENDED && list_empty(&t->sched_link));
	thread_release_stack(t);
}

static void reap_zombies(void)
{
	struct list *l;

	while ((l = list_pop_front(&sched.reap)))
		thread_free(container_of(l, struct thread, sched_link));
}

/* Program the one-shot timer for the earliest of the first kernel timer
 * and the end of the current slice (which matters only while others wait
 * to run). The HAL is called only when the deadline changes: on the IPC
 * path it does not. */
static void arm_timer(const struct thread *running)
{
	struct sched_cpu *c = this_cpu();
	uint64_t deadline = UINT64_MAX;

	if (!list_empty(&sched.timers))
		deadline = container_of(sched.timers.next, struct ktimer, link)->deadline;
	if (!is_idle(running) && c->rq.nr_queued)
		deadline = MIN(deadline, c->slice_end);
	if (deadline != sched.armed) {
		sched.armed = deadline;
		hal_timer_arm(deadline);
	}
}

/* Make `next` the running thread and switch to it; returns when the
 * previous thread runs again. The caller has put the previous thread where
 * it belongs and set its state (reschedule() has also charged its slice). */
static void switch_to(struct thread *next)
{
	struct thread *prev = sched_running;

	if (is_idle(prev))
		prev->state = VR_THREAD_RUNNABLE; /* never queued: runs when the queue is empty */
	next->state = VR_THREAD_RUNNING;
	if (next == prev)
		return;
	sched_running = next;
	if (!is_idle(next))
		hal_set_kernel_stack(kstack_top(next));
	if (next->proc && (!prev->proc || prev->proc != next->proc))
		hal_vm_activate(next->proc->vs.pml4_pa);
	if (next->proc && next->tls != this_cpu()->user_tls) {
		this_cpu()->user_tls = next->tls;
		hal_set_user_tls(next->tls);
	}
	hal_context_switch(&prev->ctx, &next->ctx);
	/* back on prev's stack: prev is current again */
	reap_zombies();
	if (prev->pending)
		thread_pending_work();
}

/* Run what the policy picks (or idle) with a fresh slice, which is timed
 * only when others wait to run. */
static void reschedule_at(uint64_t now)
{
	struct sched_cpu *c = this_cpu();
	struct sched_entity *se = rq_pick(&c->rq);
	struct thread *next = se ? container_of(se, struct thread, se) : &c->idle;
	uint64_t slice = se_slice(&next->se);

	account_current(now);
	c->owner = next;
	c->need_resched = false;
	c->slice_end = !c->rq.nr_queued || slice == UINT64_MAX ? UINT64_MAX : now + slice;
	arm_timer(next);
	switch_to(next);
	KCHECK(sched_check());
}

static void reschedule(void)
{
	reschedule_at(hal_clock_ns());
}

void sched_block_switch(struct waitq *wq, struct thread *next, uint64_t deadline_ns)
{
	struct thread *t = sched_current();

	KASSERT(!is_idle(t) && next->state == VR_THREAD_BLOCKED && next != t);
	t->state = VR_THREAD_BLOCKED;
	enqueue_by_prio(wq, t);
	if (deadline_ns != UINT64_MAX)
		ktimer_arm(&t->timeout, deadline_ns);
	if (ktimer_armed(&next->timeout))
		ktimer_cancel(&next->timeout); /* it received with a timeout */
	list_remove(&next->sched_link);
	next->waiting_on = NULL;
	switch_to(next); /* next runs on the rest of t's slice */
	KCHECK(sched_check());
}

/* Queue the current thread as `how` says and run the policy's choice. */
static void requeue_current(enum rq_how how)
{
	struct thread *t = sched_current();
	uint64_t now = hal_clock_ns();

	if (!is_idle(t)) {
		/* settle the slice first: a fair thread's vruntime is its place
		 * in the run queue and must not change once it is queued */
		account_current(now);
		t->state = VR_THREAD_RUNNABLE;
		rq_enqueue(&this_cpu()->rq, &t->se, how);
	}
	reschedule_at(now);
}

void sched_yield_cpu(void)
{
	requeue_current(RQ_TAIL);
}

static void enqueue_by_prio(struct waitq *wq, struct thread *t)
{
	struct list *pos;

	list_for_each(pos, &wq->threads)
		if (se_rank(&container_of(pos, struct thread, sched_link)->se) < se_rank(&t->se))
			break;
	list_insert_before(pos, &t->sched_link);
	t->waiting_on = wq;
}

void sched_block_timeout(struct waitq *wq, uint64_t deadline_ns)
{
	struct thread *t = sched_current();

	KASSERT(!is_idle(t));
	t->state = VR_THREAD_BLOCKED;
	enqueue_by_prio(wq, t);
	if (deadline_ns != UINT64_MAX)
		ktimer_arm(&t->timeout, deadline_ns);
	reschedule();
}

void sched_block(struct waitq *wq)
{
	sched_block_timeout(wq, UINT64_MAX);
}

void sched_requeue(struct thread *t, struct waitq *wq)
{
	KASSERT(t->state == VR_THREAD_BLOCKED);
	list_remove(&t->sched_link);
	enqueue_by_prio(wq, t);
}

void sched_wake_all(struct waitq *wq)
{
	while (!list_empty(&wq->threads))
		sched_make_runnable(container_of(wq->threads.next, struct thread, sched_link));
}

/* A thread's timeout timer fired: a sleeper wakes; a blocked thread gives
 * up its wait with VR_ETIMEDOUT (sched_make_runnable tells ipc.c). */
static void thread_timeout(struct ktimer *kt)
{
	struct thread *t = container_of(kt, struct thread, timeout);

	if (t->state == VR_THREAD_BLOCKED)
		t->ipc.result = VR_ETIMEDOUT;
	sched_make_runnable(t);
}

void sched_sleep_until(uint64_t deadline_ns)
{
	struct thread *t = sched_current();

	KASSERT(!is_idle(t));
	t->state = VR_THREAD_SLEEPING;
	ktimer_arm(&t->timeout, deadline_ns);
	reschedule();
}

void sched_suspend(void)
{
	struct thread *t = sched_current();

	KASSERT(!is_idle(t));
	t->state = VR_THREAD_SUSPENDED;
	reschedule();
}

void sched_suspend_runnable(struct thread *t)
{
	KASSERT(t->state == VR_THREAD_RUNNABLE);
	rq_remove(&this_cpu()->rq, &t->se);
	t->state = VR_THREAD_SUSPENDED;
}

void sched_set_user_tls(uintptr_t tls)
{
	sched_current()->tls = tls;
	this_cpu()->user_tls = tls;
	hal_set_user_tls(tls);
}

noreturn void sched_exit(void)
{
	struct thread *t = sched_current();

	KASSERT(!is_idle(t));
	t->state = VR_THREAD_ZOMBIE;
	list_remove(&t->proc_link);
	list_push_back(&sched.reap, &t->sched_link);
	reschedule();
	KPANIC("a zombie thread was scheduled");
}

/* Fire every expired timer. A timer's fire() may re-arm it (periodic) for
 * a later deadline, so the loop restarts from the head each time. */
static void fire_timers(uint64_t now)
{
	while (!list_empty(&sched.timers)) {
		struct ktimer *kt = container_of(sched.timers.next, struct ktimer, link);
		if (kt->deadline > now)
			break;
		list_remove(&kt->link);
		kt->fire(kt);
	}
}

void sched_timer_expired(void)
{
	struct sched_cpu *c = this_cpu();
	uint64_t now = hal_clock_ns();

	fire_timers(now);
	if (!c->rq.nr_queued) {
		arm_timer(sched_running);
		return;
	}
	if (is_idle(sched_running)) {
		c->need_resched = true;
	} else if (c->slice_end == UINT64_MAX) {
		/* others woke: the slice starts now */
		uint64_t slice = se_slice(&sched_running->se);
		c->slice_end = slice == UINT64_MAX ? UINT64_MAX : now + slice;
	} else if (now >= c->slice_end && !c->need_resched) {
		account_current(now);
		if (rq_slice_preempts(&c->rq, &sched_running->se)) {
			c->need_resched = true;
			c->resched_how = RQ_TAIL;
		} else {
			c->slice_end = now + se_slice(&sched_running->se);
		}
	}
	arm_timer(sched_running);
}

void sched_preempt_point(void)
{
	struct sched_cpu *c = this_cpu();

	if (c->need_resched)
		requeue_current(c->resched_how);
}

noreturn void sched_idle_loop(void)
{
	KASSERT(is_idle(sched_current()));
	for (;;) {
		reap_zombies();
		if (this_cpu()->rq.nr_queued)
			reschedule();
		else
			hal_idle();
	}
}

void sched_for_each_thread(void (*fn)(struct thread *t, void *arg), void *arg)
{
	struct list *l;

	list_for_each(l, &sched.all) {
		struct thread *t = container_of(l, struct thread, all_link);
		if (t->state != VR_THREAD_ZOMBIE)
			fn(t, arg);
	}
}

/* ---- Policy controls ---- */

void sched_set_policy(struct thread *t, unsigned policy, int prio)
{
	t->se.policy = (uint8_t)policy;
	t->se.prio = (int8_t)prio;
}

void sched_set_effective(struct thread *t, unsigned policy, int prio)
{
	struct sched_cpu *c = this_cpu();
	int old_rank = se_rank(&t->se);

	if (t->se.eff_policy == policy && t->se.eff_prio == prio)
		return;
	if (t == c->owner)
		account_current(hal_clock_ns()); /* the old weight applies up to now */
	rq_set_effective(&c->rq, &t->se, policy, prio);
	if (t->state == VR_THREAD_BLOCKED && t->waiting_on)
		sched_requeue(t, t->waiting_on); /* wait queues order by effective rank */
	if (t == sched_running && se_rank(&t->se) < old_rank && c->rq.nr_queued) {
		c->need_resched = true; /* it dropped: whoever outranks it now runs */
		c->resched_how = RQ_PREEMPTED;
	} else if (t->state == VR_THREAD_RUNNABLE && !is_idle(sched_running) &&
		   rq_wake_preempts(&sched_running->se, &t->se)) {
		c->need_resched = true;
		c->resched_how = RQ_PREEMPTED;
	}
}

uint64_t sched_cpu_ns(const struct thread *t)
{
	struct sched_cpu *c = this_cpu();
	uint64_t ns = t->se.cpu_ns, now;

	if (t == c->owner && (now = hal_clock_ns()) > c->run_start)
		ns += now - c->run_start;
	return ns;
}

void sched_fill_thread_info(const struct thread *t, struct vr_thread_info *ti)
{
	ti->policy = t->se.policy;
	ti->prio = t->se.prio;
	ti->eff_policy = t->se.eff_policy;
	ti->eff_prio = t->se.eff_prio;
	ti->cpu_ns = sched_cpu_ns(t);
}

struct thread *sched_find_pid(int64_t pid)
{
	struct list *l;

	list_for_each(l, &sched.all) {
		struct thread *t = container_of(l, struct thread, all_link);
		if (t->state != VR_THREAD_ZOMBIE && t->proc && t->proc->pid == pid &&
		    !t->proc->zombie)
			return t;
	}
	return NULL;
}

/* ---- Checks ---- */

static bool blocked_ok(const struct thread *t)
{
	/* between a rendezvous taking it off its queue and waking it */
	if (!t->waiting_on)
		return list_empty(&t->sched_link) && !ktimer_armed(&t->timeout);
	return list_contains(&t->waiting_on->threads, &t->sched_link) &&
	       (!ktimer_armed(&t->timeout) || list_contains(&sched.timers, &t->timeout.link));
}

static bool thread_check(const struct thread *t)
{

	if (is_idle(t))
		return t->state == (t == sched_running ? VR_THREAD_RUNNING : VR_THREAD_RUNNABLE);
	if (t->se.queued != (t->state == VR_THREAD_RUNNABLE))
		return false; /* invariant 2 */
	if (ktimer_armed(&t->timeout) && t->state != VR_THREAD_SLEEPING &&
	    t->state != VR_THREAD_BLOCKED)
		return false; /* invariant 4 */
	switch (t->state) {
	case VR_THREAD_RUNNING:
		return t == sched_running;
	case VR_THREAD_RUNNABLE:
		return list_empty(&t->sched_link);
	case VR_THREAD_BLOCKED:
		return blocked_ok(t);
	case VR_THREAD_SLEEPING:
		return list_empty(&t->sched_link) && list_contains(&sched.timers, &t->timeout.link);
	case VR_THREAD_ZOMBIE:
		return list_contains(&sched.reap, &t->sched_link);
	case VR_THREAD_SUSPENDED:
		return list_empty(&t->sched_link) && !t->waiting_on && !ktimer_armed(&t->timeout);
	}
	return false;
}

bool sched_check(void)
{
	const struct sched_cpu *c = this_cpu();
	struct list *l;
	uint64_t last = 0;
	unsigned running = 0;

	list_for_each(l, &sched.all) {
		const struct thread *t = container_of(l, struct thread, all_link);
		running += t->state == VR_THREAD_RUNNING;
		if (!thread_check(t)) {
			kprintf("sched_check: thread %lld in state %d breaks an invariant\n",
				(long long)t->tid, (int)t->state);
			return false;
		}
	}
	list_for_each(l, &sched.timers) {
		const struct ktimer *kt = container_of(l, struct ktimer, link);
		if (kt->deadline < last)
			return false; /* invariant 4 */
		last = kt->deadline;
	}
	if (!rq_check(&c->rq) || running != 1 || sched_running->state != VR_THREAD_RUNNING) {
		kprintf("sched_check: run queue or running thread (%u running) inconsistent\n",
			running);
		return false;
	}
	return true;
}
