/*
 * Round-robin scheduler on one CPU.
 *
 * Invariants (sched_check):
 *  1. `current` is the only RUNNING thread.
 *  2. A thread is on the run queue iff it is RUNNABLE (the idle thread is
 *     never queued: it runs when the queue is empty).
 *  3. A BLOCKED thread is on the queue of its waiting_on; a SLEEPING thread
 *     is on the sleep list, which is sorted by wake_at.
 *  4. ZOMBIE threads are on the reap list until the next thread frees them.
 */
#include <veridian/kheap.h>
#include <veridian/klib.h>
#include <veridian/pmm.h>
#include <veridian/proc.h>
#include <veridian/sched.h>

static struct {
	struct thread *current;
	struct thread idle;        /* the boot context becomes the idle thread */
	struct list runq;
	struct list sleepers;      /* sorted by wake_at */
	struct list reap;          /* zombies whose stacks can be freed */
	struct list all;
	int64_t next_tid;
	uint64_t slice_end;        /* clock value at which current's slice ends */
	uint64_t armed;            /* the deadline last given to hal_timer_arm */
	bool need_resched;
} sched;

void waitq_init(struct waitq *wq)
{
	list_init(&wq->threads);
}

void sched_init(void)
{
	list_init(&sched.runq);
	list_init(&sched.sleepers);
	list_init(&sched.reap);
	list_init(&sched.all);
	sched.idle = (struct thread){ .tid = 0, .state = VR_THREAD_RUNNING };
	list_init(&sched.idle.sched_link);
	list_init(&sched.idle.proc_link);
	list_push_back(&sched.all, &sched.idle.all_link);
	sched.current = &sched.idle;
	sched.next_tid = 1;
	sched.armed = UINT64_MAX; /* the platform timer starts disarmed */
}

struct thread *sched_current(void)
{
	return sched.current;
}

static uintptr_t kstack_top(const struct thread *t)
{
	return (uintptr_t)phys_to_virt(t->kstack_pa) + KSTACK_PAGES * PAGE_SIZE;
}

static void reap_zombies(void);
static void arm_timer(const struct thread *running);
static void enqueue_by_prio(struct waitq *wq, struct thread *t);

/* First code a new user thread runs, on its own kernel stack. */
static noreturn void thread_start(void *arg)
{
	struct thread *t = arg;

	reap_zombies();
	proc_exit_if_killed(); /* killed before it ever ran */
	hal_user_enter(t->entry_pc, t->entry_sp, t->entry_arg);
}

struct thread *thread_create_user(struct process *proc, uintptr_t pc, uintptr_t sp,
				  uintptr_t arg)
{
	struct thread *t = kzalloc(sizeof(*t));

	if (!t)
		return NULL;
	t->kstack_pa = pmm_alloc(KSTACK_PAGES, 1);
	if (!t->kstack_pa) {
		kfree(t);
		return NULL;
	}
	t->tid = sched.next_tid++;
	t->state = VR_THREAD_BLOCKED; /* not yet runnable; on no queue */
	t->proc = proc;
	t->entry_pc = pc;
	t->entry_sp = sp;
	t->entry_arg = arg;
	t->prio = THREAD_PRIO_DEFAULT;
	waitq_init(&t->ipc.reply_wait);
	list_init(&t->sched_link);
	list_init(&t->proc_link);
	list_push_back(&sched.all, &t->all_link);
	hal_context_init(&t->ctx, phys_to_virt(t->kstack_pa), KSTACK_PAGES * PAGE_SIZE,
			 (void (*)(void *))thread_start, t);
	return t;
}

void sched_make_runnable(struct thread *t)
{
	KASSERT(t != &sched.idle && t->state != VR_THREAD_RUNNABLE);
	list_remove(&t->sched_link);
	t->waiting_on = NULL;
	t->state = VR_THREAD_RUNNABLE;
	list_push_back(&sched.runq, &t->sched_link);
	if (sched.current != &sched.idle && sched.slice_end == UINT64_MAX) {
		/* the running thread was alone: its slice starts now */
		sched.slice_end = hal_clock_ns() + SCHED_SLICE_NS;
		arm_timer(sched.current);
	}
}

static void thread_free(struct thread *t)
{
	list_remove(&t->all_link);
	hal_context_destroy(&t->ctx);
	pmm_free(t->kstack_pa, KSTACK_PAGES);
	kfree(t);
}

static void reap_zombies(void)
{
	struct list *l;

	while ((l = list_pop_front(&sched.reap)))
		thread_free(container_of(l, struct thread, sched_link));
}

/* Program the one-shot timer for the earliest of the first sleeper's wake
 * time and the end of the current slice (which matters only while others
 * wait to run). The HAL is called only when the deadline changes: on the
 * IPC path it does not. */
static void arm_timer(const struct thread *running)
{
	uint64_t deadline = UINT64_MAX;

	if (!list_empty(&sched.sleepers))
		deadline = container_of(sched.sleepers.next, struct thread, sched_link)->wake_at;
	if (running != &sched.idle && !list_empty(&sched.runq))
		deadline = MIN(deadline, sched.slice_end);
	if (deadline != sched.armed) {
		sched.armed = deadline;
		hal_timer_arm(deadline);
	}
}

/* Make `next` the running thread and switch to it; returns when the
 * previous thread runs again. The caller has put the previous thread where
 * it belongs and set its state. */
static void switch_to(struct thread *next)
{
	struct thread *prev = sched.current;

	if (prev == &sched.idle)
		prev->state = VR_THREAD_RUNNABLE; /* never queued: runs when the queue is empty */
	next->state = VR_THREAD_RUNNING;
	if (next == prev)
		return;
	sched.current = next;
	if (next != &sched.idle)
		hal_set_kernel_stack(kstack_top(next));
	if (next->proc && (!prev->proc || prev->proc != next->proc))
		hal_vm_activate(next->proc->vs.pml4_pa);
	hal_context_switch(&prev->ctx, &next->ctx);
	/* back on prev's stack: prev is current again */
	reap_zombies();
	proc_exit_if_killed();
}

/* Run the next runnable thread (or idle) with a fresh slice. The clock is
 * read only when others wait to run: a slice matters only then. */
static void reschedule(void)
{
	struct list *l = list_pop_front(&sched.runq);
	struct thread *next = l ? container_of(l, struct thread, sched_link) : &sched.idle;

	sched.need_resched = false;
	sched.slice_end = list_empty(&sched.runq) ? UINT64_MAX : hal_clock_ns() + SCHED_SLICE_NS;
	arm_timer(next);
	switch_to(next);
	KCHECK(sched_check());
}

void sched_block_switch(struct waitq *wq, struct thread *next)
{
	struct thread *t = sched.current;

	KASSERT(t != &sched.idle && next->state == VR_THREAD_BLOCKED && next != t);
	t->state = VR_THREAD_BLOCKED;
	enqueue_by_prio(wq, t);
	list_remove(&next->sched_link);
	next->waiting_on = NULL;
	switch_to(next); /* next runs on the rest of t's slice */
	KCHECK(sched_check());
}

void sched_yield_cpu(void)
{
	struct thread *t = sched.current;

	if (t != &sched.idle) {
		t->state = VR_THREAD_RUNNABLE;
		list_push_back(&sched.runq, &t->sched_link);
	}
	reschedule();
}

static void enqueue_by_prio(struct waitq *wq, struct thread *t)
{
	struct list *pos;

	list_for_each(pos, &wq->threads)
		if (container_of(pos, struct thread, sched_link)->prio < t->prio)
			break;
	list_insert_before(pos, &t->sched_link);
	t->waiting_on = wq;
}

void sched_block(struct waitq *wq)
{
	struct thread *t = sched.current;

	KASSERT(t != &sched.idle);
	t->state = VR_THREAD_BLOCKED;
	enqueue_by_prio(wq, t);
	reschedule();
}

void sched_requeue(struct thread *t, struct waitq *wq)
{
	KASSERT(t->state == VR_THREAD_BLOCKED);
	list_remove(&t->sched_link);
	enqueue_by_prio(wq, t);
}

void sched_wake_all(struct waitq *wq)
{
	struct list *l;

	while ((l = list_pop_front(&wq->threads)))
		sched_make_runnable(container_of(l, struct thread, sched_link));
}

void sched_sleep_until(uint64_t deadline_ns)
{
	struct thread *t = sched.current;
	struct list *pos;

	KASSERT(t != &sched.idle);
	t->state = VR_THREAD_SLEEPING;
	t->wake_at = deadline_ns;
	list_for_each(pos, &sched.sleepers) {
		if (container_of(pos, struct thread, sched_link)->wake_at > deadline_ns)
			break;
	}
	list_insert_before(pos, &t->sched_link);
	reschedule();
}

noreturn void sched_exit(void)
{
	struct thread *t = sched.current;

	KASSERT(t != &sched.idle);
	t->state = VR_THREAD_ZOMBIE;
	list_remove(&t->proc_link);
	list_push_back(&sched.reap, &t->sched_link);
	reschedule();
	KPANIC("a zombie thread was scheduled");
}

void sched_timer_expired(void)
{
	uint64_t now = hal_clock_ns();

	while (!list_empty(&sched.sleepers)) {
		struct thread *t = container_of(sched.sleepers.next, struct thread, sched_link);
		if (t->wake_at > now)
			break;
		sched_make_runnable(t);
	}
	if (!list_empty(&sched.runq) && sched.slice_end == UINT64_MAX)
		sched.slice_end = now + SCHED_SLICE_NS; /* others woke: the slice starts now */
	if (!list_empty(&sched.runq) && (sched.current == &sched.idle || now >= sched.slice_end))
		sched.need_resched = true;
	arm_timer(sched.current);
}

void sched_preempt_point(void)
{
	if (sched.need_resched)
		sched_yield_cpu();
}

noreturn void sched_idle_loop(void)
{
	KASSERT(sched.current == &sched.idle);
	for (;;) {
		reap_zombies();
		if (!list_empty(&sched.runq))
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

static bool on_list(const struct list *head, const struct list *node)
{
	const struct list *l;

	list_for_each(l, head)
		if (l == node)
			return true;
	return false;
}

static bool thread_check(const struct thread *t)
{
	if (t == &sched.idle)
		return t->state == (t == sched.current ? VR_THREAD_RUNNING : VR_THREAD_RUNNABLE);
	switch (t->state) {
	case VR_THREAD_RUNNING:
		return t == sched.current;
	case VR_THREAD_RUNNABLE:
		return on_list(&sched.runq, &t->sched_link);
	case VR_THREAD_BLOCKED:
		/* a new thread is BLOCKED on nothing until made runnable */
		return t->waiting_on ? on_list(&t->waiting_on->threads, &t->sched_link)
				     : list_empty(&t->sched_link);
	case VR_THREAD_SLEEPING:
		return on_list(&sched.sleepers, &t->sched_link);
	case VR_THREAD_ZOMBIE:
		return on_list(&sched.reap, &t->sched_link);
	}
	return false;
}

bool sched_check(void)
{
	struct list *l;
	uint64_t last = 0;
	unsigned running = 0;

	list_for_each(l, &sched.all) {
		const struct thread *t = container_of(l, struct thread, all_link);
		running += t->state == VR_THREAD_RUNNING;
		if (!thread_check(t))
			return false;
	}
	list_for_each(l, &sched.runq)
		if (container_of(l, struct thread, sched_link)->state != VR_THREAD_RUNNABLE)
			return false;
	list_for_each(l, &sched.sleepers) {
		const struct thread *t = container_of(l, struct thread, sched_link);
		if (t->state != VR_THREAD_SLEEPING || t->wake_at < last)
			return false;
		last = t->wake_at;
	}
	return running == 1 && sched.current->state == VR_THREAD_RUNNING;
}
