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
}

static void check_process(struct process *p, bool deep)
{
	if (!proc_check(p))
		ipch_fail("proc_check failed for pid %lld", (long long)p->pid);
	if (p->zombie)
		return;
	if (!cspace_check(p->cs))
		ipch_fail("cspace_check failed for pid %lld", (long long)p->pid);
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
	n = ipcf_processes(root, ps, IPCF_MAX_PROCS);
	for (unsigned i = 0; i < n; i++)
		check_process(ps[i], deep);
	for (unsigned i = 0; i < OBJ_TABLE; i++)
		if (objs[i].obj)
			check_object(&objs[i]);
}
