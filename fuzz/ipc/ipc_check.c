/*
 * Invariant walks of the IPC fuzz harness: after every syscall the whole
 * kernel state reachable from the live processes is checked (see
 * ipc_fuzz.h). Objects are found through the capabilities naming them, so
 * an object no capability names is gone (its ncaps reached 0).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz/ipc/ipc_fuzz.h"
#include "fuzz/ipc/ipc_hal.h"

#include <veridian/cap.h>
#include <veridian/ipc.h>
#include <veridian/kheap.h>
#include <veridian/pmm.h>
#include <veridian/proc.h>
#include <veridian/sched.h>

#define OBJ_TABLE 1024u /* power of two, > every capability the harness can make */

struct proc_set {
	struct process **p;
	unsigned n, max;
};

static void add_proc(struct proc_set *s, struct process *p)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->p[i] == p)
			return;
	if (s->n == s->max)
		ipch_fail("more than %u processes", s->max);
	s->p[s->n++] = p;
}

static void add_thread_proc(struct thread *t, void *arg)
{
	if (t->proc)
		add_proc(arg, t->proc);
}

unsigned ipcf_processes(struct process *root, struct process **out, unsigned max)
{
	struct proc_set s = { out, 0, max };

	if (root)
		add_proc(&s, root);
	sched_for_each_thread(add_thread_proc, &s);
	/* zombies waiting for wait(): on their (live) parent's children list */
	for (unsigned i = 0; i < s.n; i++) {
		struct list *l;
		list_for_each(l, &s.p[i]->children)
			add_proc(&s, container_of(l, struct process, sibling_link));
	}
	return s.n;
}

struct others {
	struct process *root;
	bool alive;
	uint64_t first_wake;
};

static void other_thread(struct thread *t, void *arg)
{
	struct others *o = arg;

	if (!t->proc || t->proc == o->root)
		return;
	o->alive = true;
	if (ktimer_armed(&t->timeout) && t->timeout.deadline < o->first_wake)
		o->first_wake = t->timeout.deadline;
}

bool ipcf_others_alive(struct process *root, uint64_t *first_wake)
{
	struct others o = { root, false, UINT64_MAX };

	sched_for_each_thread(other_thread, &o);
	*first_wake = o.first_wake;
	return o.alive;
}

uint32_t ipcf_min_free_slots;

/* Objects seen in this walk: an open-addressed table keyed by pointer. */
struct obj_count {
	const struct kobj *obj;
	uint32_t count;
};

static struct obj_count objs[OBJ_TABLE];

static struct obj_count *obj_slot(const struct kobj *obj)
{
	uintptr_t h = ((uintptr_t)obj >> 4) * 0x9e3779b97f4a7c15ull;

	for (unsigned i = 0; i < OBJ_TABLE; i++) {
		struct obj_count *e = &objs[(h + i) & (OBJ_TABLE - 1)];
		if (!e->obj || e->obj == obj) {
			e->obj = obj;
			return e;
		}
	}
	ipch_fail("more than %u live kernel objects", OBJ_TABLE);
}

static void count_caps(const struct cspace *cs)
{
	uint32_t free = 0;

	for (uint32_t i = 0; i < cs->nslots; i++) {
		const struct kobj *obj = cs->slots[i].cap.obj;
		if (obj)
			obj_slot(obj)->count++;
		else
			free++;
	}
	ipcf_min_free_slots = MIN(ipcf_min_free_slots, free);
}

static void check_object(const struct obj_count *e)
{
	const struct kobj *obj = e->obj;

	if (obj->ncaps != e->count)
		ipch_fail("object %p (type %d): ncaps %u, but %u capabilities name it",
			  (const void *)obj, (int)obj->type, obj->ncaps, e->count);
	if (obj->type == KOBJ_ENDPOINT &&
	    !endpoint_check(container_of(obj, const struct endpoint, obj)))
		ipch_fail("endpoint_check failed for %p", (const void *)obj);
	if (obj->type == KOBJ_NOTIFICATION &&
	    !notification_check(container_of(obj, const struct notification, obj)))
		ipch_fail("notification_check failed for %p", (const void *)obj);
	/* exited threads and reaped processes live on through capabilities */
	if (obj->type == KOBJ_THREAD &&
	    !thread_obj_check(container_of(obj, const struct thread, obj)))
		ipch_fail("thread_obj_check failed for tid %lld",
			  (long long)container_of(obj, const struct thread, obj)->tid);
	if (obj->type == KOBJ_PROCESS && !proc_check(container_of(obj, const struct process, obj)))
		ipch_fail("proc_check failed for pid %lld (named by a capability)",
			  (long long)container_of(obj, const struct process, obj)->pid);
}

/* Every user thread the scheduler knows: thread_obj_check, and a live one
 * belongs to a live process (not a zombie, not reaped). */
static void check_thread(struct thread *t, void *arg)
{
	(void)arg;
	if (!t->tid)
		return; /* the idle thread: no object */
	if (!thread_obj_check(t))
		ipch_fail("thread_obj_check failed for tid %lld", (long long)t->tid);
	if (!t->exited && (t->proc->zombie || t->proc->reaped))
		ipch_fail("tid %lld lives in exited pid %lld", (long long)t->tid,
			  (long long)t->proc->pid);
}

/* The thread IPC buffer area of a live process: a page is mapped exactly
 * when a live thread of the process has its buffer there (thread_create
 * maps it, the thread's exit unmaps it; mem_map cannot reach it). */
static void check_ipcbuf_area(struct process *p)
{
	uintptr_t area = proc_slot_base(p) + VR_SLOT_THREAD_IPCBUF_OFF;

	for (unsigned i = 0; i < VR_THREADS_MAX; i++) {
		uintptr_t va = area + (uintptr_t)i * PAGE_SIZE;
		bool owned = false;
		const struct list *l;
		list_for_each(l, &p->threads)
			owned |= container_of(l, const struct thread, proc_link)->ipcbuf_va == va;
		if (owned != !!(vm_lookup(&p->vs, va) & PTE_P))
			ipch_fail("pid %lld: IPC buffer page %#lx is %smapped, %s thread's",
				  (long long)p->pid, (unsigned long)va, owned ? "not " : "",
				  owned ? "a live" : "no live");
	}
}

static void check_process(struct process *p, bool deep)
{
	if (!proc_check(p))
		ipch_fail("proc_check failed for pid %lld", (long long)p->pid);
	if (p->zombie)
		return;
	if (!cspace_check(p->cs))
		ipch_fail("cspace_check failed for pid %lld", (long long)p->pid);
	check_ipcbuf_area(p);
	if (deep && !vm_space_check(&p->vs))
		ipch_fail("vm_space_check failed for pid %lld", (long long)p->pid);
	count_caps(p->cs);
}

void ipcf_check_all(struct process *root, bool deep)
{
	struct process *ps[IPCF_MAX_PROCS];
	unsigned n;

	if (!sched_check())
		ipch_fail("sched_check failed");
	if (!proc_check_all())
		ipch_fail("proc_check_all failed");
	if (!pmm_check())
		ipch_fail("pmm_check failed");
	if (!kheap_check())
		ipch_fail("kheap_check failed");
	memset(objs, 0, sizeof(objs));
	ipcf_min_free_slots = UINT32_MAX;
	sched_for_each_thread(check_thread, NULL);
	n = ipcf_processes(root, ps, IPCF_MAX_PROCS);
	for (unsigned i = 0; i < n; i++)
		check_process(ps[i], deep);
	for (unsigned i = 0; i < OBJ_TABLE; i++)
		if (objs[i].obj)
			check_object(&objs[i]);
}
