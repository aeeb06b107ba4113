/*
 * Threads as kernel objects: creation in a process, suspension, resume,
 * kill, exit and join. The scheduler (core/sched.c) owns the states and
 * the switching; this file owns the life cycle and the objects.
 *
 * Requests from other threads (suspend, kill, a process kill) never stop a
 * thread in the middle of a kernel operation: they take effect at its next
 * kernel boundary, thread_pending_work(), which runs whenever a thread
 * resumes in the kernel after a switch and before it first enters user
 * mode. A thread waiting to run (RUNNABLE) is parked at such a boundary,
 * so suspending it is immediate; a blocked one finishes or abandons its
 * wait first (a kill wakes it with VR_ECLOSED; a suspension lets the wait
 * complete).
 *
 * Lifetime: a thread record lives while the thread runs or capabilities
 * name it. An exited thread's kernel stack is freed by the next thread to
 * run (the scheduler's reap list, then thread_reaped()); the record goes
 * when both the stack is gone and no capability is left.
 *
 * Invariants (thread_obj_check):
 *  1. An exited thread has no process, is on no process's thread list and
 *     has no IPC buffer of its own.
 *  2. A reaped thread has exited and is named by at least one capability.
 *  3. A thread that has not exited is on its process's list; the process
 *     has at most VR_THREADS_MAX threads.
 *  4. A thread with a request (suspend, kill, its process killed) has
 *     `pending` set, so the next switch to it runs thread_pending_work.
 *  5. A dying thread (killed, or of a killed process) is never SUSPENDED:
 *     suspend refuses it and a kill wakes a suspended one.
 *  6. The record is freed only when the thread is reaped and no capability
 *     names it; a joiner is handed the exit status and never looks back.
 */
#include "veridian/ipc.h"
#include "veridian/kheap.h"
#include "veridian/klib.h"
#include "veridian/pmm.h"
#include "veridian/proc.h"
#include "veridian/quota.h"

/* What a thread made by thread_create costs its process's quota: its
 * record, its kernel stack and its IPC buffer page. (A process's first
 * thread is part of the process's fixed charge, core/proc.c.) */
#define THREAD_BYTES (sizeof(struct thread) + KSTACK_PAGES * PAGE_SIZE + PAGE_SIZE)

static void thread_free_record(struct thread *t)
{
	kobj_release_charge(&t->obj);
	kfree(t);
}

/* The record goes once the thread's stack is freed and no capability
 * names it. (A joiner never looks at it after waiting: thread_exit hands
 * it the status.) */
static void thread_put_record(struct thread *t)
{
	if (t->reaped && !t->obj.ncaps)
		thread_free_record(t);
}

/* The last capability to a thread went: a running thread lives on. */
static void thread_obj_destroy(struct kobj *obj)
{
	thread_put_record(container_of(obj, struct thread, obj));
}

void thread_reaped(struct thread *t)
{
	KASSERT(t->exited && !t->reaped);
	t->reaped = true;
	thread_put_record(t);
}

void thread_init(void)
{
	kobj_register_type(KOBJ_THREAD, thread_obj_destroy);
}

/* Is the page at va one a new thread's IPC buffer may use? */
static bool ipcbuf_va_ok(const struct process *p, uintptr_t va)
{
	uintptr_t area = proc_slot_base(p) + VR_SLOT_THREAD_IPCBUF_OFF;

	return IS_ALIGNED(va, PAGE_SIZE) && va >= area && (va - area) / PAGE_SIZE < VR_THREADS_MAX;
}

int thread_create(struct process *p, uintptr_t entry, uintptr_t sp, uintptr_t arg, uintptr_t tls,
		  uintptr_t ipcbuf_va, struct thread **out)
{
	struct thread *t;
	int err;

	if (!ipcbuf_va_ok(p, ipcbuf_va))
		return VR_EINVAL;
	if (p->nthreads >= VR_THREADS_MAX)
		return VR_EAGAIN;
	if (vm_lookup(&p->vs, ipcbuf_va) & PTE_P)
		return VR_EBUSY;
	if (quota_charge(p->quota, THREAD_BYTES))
		return VR_ENOMEM;
	err = vm_map_anon(&p->vs, ipcbuf_va, 1, VM_READ | VM_WRITE);
	t = err ? NULL : thread_create_user(p, entry, sp, arg);
	if (!t) {
		if (!err)
			vm_unmap(&p->vs, ipcbuf_va);
		quota_uncharge(p->quota, THREAD_BYTES);
		return err ? err : VR_ENOMEM;
	}
	t->obj.quota = p->quota;
	t->obj.quota_bytes = (uint32_t)THREAD_BYTES;
	quota_get(p->quota);
	t->tls = tls;
	t->ipcbuf_va = ipcbuf_va;
	t->ipc.buf_pa = vm_lookup(&p->vs, ipcbuf_va) & PTE_ADDR_MASK;
	list_push_back(&p->threads, &t->proc_link);
	p->nthreads++;
	KCHECK(thread_obj_check(t) && proc_check(p));
	*out = t;
	return VR_OK;
}

void thread_discard(struct thread *t)
{
	struct process *p = t->proc;

	KASSERT(!t->obj.ncaps && t->ipcbuf_va);
	list_remove(&t->proc_link);
	p->nthreads--;
	vm_unmap(&p->vs, t->ipcbuf_va);
	sched_discard_new(t);
	thread_free_record(t);
	KCHECK(proc_check(p));
}

/* Give every thread in thread_join on t the status and wake it: once
 * awake it must not touch t, whose last capability may be gone by then. */
static void wake_joiners(struct thread *t, int status)
{
	while (!list_empty(&t->exit_wait.threads)) {
		struct thread *j =
			container_of(t->exit_wait.threads.next, struct thread, sched_link);
		j->join_status = status;
		j->ipc.result = VR_OK;
		sched_make_runnable(j);
	}
}

noreturn void thread_exit(int status)
{
	struct thread *t = sched_current();
	struct process *p = t->proc;

	KASSERT(p);
	ipc_thread_exit(t);
	if (t->ipcbuf_va) {
		vm_unmap(&p->vs, t->ipcbuf_va); /* frees the page */
		t->ipcbuf_va = 0;
	}
	t->ipc.buf_pa = 0;
	list_remove(&t->proc_link);
	p->nthreads--;
	t->exited = true;
	t->exit_status = status;
	t->proc = NULL;
	wake_joiners(t, status);
	if (!p->nthreads)
		proc_teardown(p, p->killed ? p->kill_status : status);
	KCHECK(thread_obj_check(t));
	sched_exit();
}

/* Is t on its way out (exited, or killed and not there yet)? Such a
 * thread cannot be suspended or resumed: a suspension would park it
 * before the boundary where it exits. */
bool thread_dying(const struct thread *t)
{
	return t->exited || t->kill_req || t->proc->killed;
}

int thread_suspend(struct thread *t)
{
	KASSERT(!thread_dying(t)); /* the decoder refused it */
	if (t == sched_current()) {
		t->suspend_req = t->pending = true;
		thread_pending_work(); /* returns once resumed */
		return VR_OK;
	}
	if (t->state == VR_THREAD_RUNNABLE)
		sched_suspend_runnable(t);
	else if (t->state != VR_THREAD_SUSPENDED)
		t->suspend_req = t->pending = true; /* blocked or sleeping: at its next boundary */
	KCHECK(thread_obj_check(t));
	return VR_OK;
}

int thread_resume(struct thread *t)
{
	KASSERT(!thread_dying(t)); /* the decoder refused it */
	t->suspend_req = false;
	if (t->state == VR_THREAD_SUSPENDED)
		sched_make_runnable(t);
	KCHECK(thread_obj_check(t));
	return VR_OK;
}

void thread_interrupt(struct thread *t)
{
	switch (t->state) {
	case VR_THREAD_BLOCKED:
	case VR_THREAD_SLEEPING:
		t->ipc.result = VR_ECLOSED;
		sched_make_runnable(t);
		break;
	case VR_THREAD_SUSPENDED:
		sched_make_runnable(t);
		break;
	default:
		break; /* runnable or running: it reaches a boundary by itself */
	}
}

int thread_kill(struct thread *t, int status)
{
	KASSERT(!t->exited); /* the decoder refused it */
	if (t == sched_current())
		thread_exit(status);
	if (!t->kill_req) {
		t->kill_req = t->pending = true;
		t->kill_status = status;
		thread_interrupt(t);
	}
	KCHECK(thread_obj_check(t));
	return VR_OK;
}

int thread_join(struct thread *t, bool nonblock, uint64_t deadline_ns, int *status)
{
	struct thread *self = sched_current();

	if (t == self)
		return VR_EINVAL;
	if (t->exited) {
		*status = t->exit_status;
		return VR_OK;
	}
	if (nonblock)
		return VR_EAGAIN;
	self->ipc.result = VR_EAGAIN; /* until thread_exit or the timeout says */
	sched_block_timeout(&t->exit_wait, deadline_ns);
	/* t may be gone by now (every capability deleted while we waited):
	 * only what thread_exit handed us counts */
	if (self->ipc.result != VR_OK)
		return (int)self->ipc.result;
	*status = self->join_status;
	return VR_OK;
}

void thread_pending_work(void)
{
	struct thread *t = sched_current();

	for (;;) {
		struct process *p = t->proc;
		if (!p)
			return; /* a kernel thread, or one on its way out */
		if (p->killed)
			proc_exit(p->kill_status);
		if (t->kill_req)
			thread_exit(t->kill_status);
		if (!t->suspend_req) {
			t->pending = false;
			return;
		}
		sched_suspend(); /* until thread_resume or a kill */
	}
}

bool thread_obj_check(const struct thread *t)
{
	if (t->obj.type != KOBJ_THREAD)
		return false;
	if (t->exited)
		return !t->proc && list_empty(&t->proc_link) && !t->ipcbuf_va && !t->ipc.buf_pa &&
		       (!t->reaped || t->obj.ncaps);
	if (t->reaped || !t->proc || t->proc->nthreads > VR_THREADS_MAX)
		return false;
	if ((t->suspend_req || t->kill_req || t->proc->killed) && !t->pending)
		return false; /* a request the next switch would miss */
	if (thread_dying(t) && t->state == VR_THREAD_SUSPENDED)
		return false; /* a dying thread is never parked before its exit */
	return list_contains(&t->proc->threads, &t->proc_link);
}
