/*
 * Syscalls of scheduling and timer notifications: the decoders (see
 * docs/scheduling.md for each call and its errors).
 *
 * Who may change whom: a process may change its own scheduling (pid 0 or
 * its own pid) and that of its children; anything else is VR_ESRCH, as for
 * kill. Reading (sched_get) works on any live process. There is no
 * privilege for real-time classes yet: a parent is trusted with its
 * children, and a capability to a scheduling context is the plan.
 */
#include "veridian/hal.h"
#include "veridian/ipc.h"
#include "veridian/klib.h"
#include "veridian/proc.h"
#include "veridian/syscall.h"

#define NOTIFY_PERIOD_MIN_NS 10000ull     /* a shorter period would be a timer storm */
#define NOTIFY_PERIOD_MAX_NS (1ull << 62) /* ~146 years: deadlines stay far from overflow */
#define CPUS_ONLINE_MASK 1ull             /* one CPU today */

/* The thread named by pid for reading: the caller, or any live process. */
static int decode_target(uint64_t pid, struct thread **out)
{
	struct thread *self = sched_current();

	if ((int64_t)pid < 0)
		return VR_EINVAL;
	if (pid == 0 || (int64_t)pid == self->proc->pid) {
		*out = self;
		return VR_OK;
	}
	*out = sched_find_pid((int64_t)pid);
	return *out ? VR_OK : VR_ESRCH;
}

/* The thread named by pid for changing: the caller or one of its children. */
static int decode_changeable(uint64_t pid, struct thread **out)
{
	int err = decode_target(pid, out);

	if (err)
		return err;
	if (*out != sched_current() && (*out)->proc->parent != proc_current())
		return VR_ESRCH;
	return VR_OK;
}

int64_t sys_sched_set(const struct syscall_args *a)
{
	struct thread *t;
	int err = decode_changeable(a->a[0], &t);

	if (!err)
		err = sched_policy_valid(a->a[1], (int64_t)a->a[2]);
	if (err)
		return err;
	sched_set_policy(t, (unsigned)a->a[1], (int)(int64_t)a->a[2]);
	ipc_pi_recompute(t); /* inheritance may still hold it higher */
	return VR_OK;
}

int64_t sys_sched_get(const struct syscall_args *a)
{
	struct vm_space *vs = &proc_current()->vs;
	struct vr_sched_info si;
	struct thread *t;
	int err = decode_target(a->a[0], &t);

	if (err)
		return err;
	if (!vm_user_range_ok(vs, a->a[1], sizeof(si), true))
		return VR_EFAULT;
	si = (struct vr_sched_info){
		.tid = t->tid,
		.policy = t->se.policy,
		.prio = t->se.prio,
		.eff_policy = t->se.eff_policy,
		.eff_prio = t->se.eff_prio,
		.cpu_ns = sched_cpu_ns(t),
		.vruntime = t->se.vruntime,
		.affinity = t->se.affinity,
		.cpu = t->se.cpu,
		.state = t->state,
	};
	vm_copy_to_user(vs, a->a[1], &si, sizeof(si));
	return VR_OK;
}

/* The mask is stored for the run-queue design of several CPUs; with one
 * CPU it must include CPU 0, where the thread stays. */
int64_t sys_sched_affinity(const struct syscall_args *a)
{
	uint64_t mask = a->a[1], old;
	struct thread *t;
	int err = decode_changeable(a->a[0], &t);

	if (err)
		return err;
	if (mask >> VR_CPUS_MAX)
		return VR_EINVAL;
	if (mask && !(mask & CPUS_ONLINE_MASK))
		return VR_EINVAL; /* no CPU it may run on */
	old = t->se.affinity;
	if (mask)
		t->se.affinity = mask;
	return (int64_t)old;
}

int64_t sys_notify_timer(const struct syscall_args *a)
{
	uint64_t deadline = a->a[1], period = a->a[2], bits = a->a[3];
	struct cap *c;
	int err;

	if (a->a[0] > UINT32_MAX)
		return VR_ECAP_RANGE;
	err = cap_lookup(proc_current()->cs, (cap_handle_t)a->a[0], KOBJ_NOTIFICATION, CAP_WRITE,
			 hal_clock_ns(), &c);
	if (err)
		return err;
	if (deadline && (!bits || bits >> 63))
		return VR_EINVAL;
	if (period && (period < NOTIFY_PERIOD_MIN_NS || period > NOTIFY_PERIOD_MAX_NS))
		return VR_ERANGE;
	return notify_timer_set(container_of(c->obj, struct notification, obj), deadline, period,
				bits);
}
