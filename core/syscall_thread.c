/*
 * Syscalls of threads: the decoders. Each checks the thread capability
 * (type, rights, expiry) and the addresses before core/thread.c acts.
 *
 * Rights: thread_suspend and thread_resume need WRITE (they change how the
 * thread runs), thread_join needs READ (it observes it), thread_kill needs
 * DELETE (it destroys it).
 */
#include "veridian/hal.h"
#include "veridian/klib.h"
#include "veridian/proc.h"
#include "veridian/syscall.h"

/* Is va inside the caller's own slot? Entry points, stacks and TLS bases
 * of its threads must be: anything else is another process's memory (and
 * a non-canonical TLS base would fault in the kernel when loaded). */
static bool va_in_own_slot(uintptr_t va)
{
	uintptr_t base = proc_slot_base(proc_current());

	return va >= base && va - base < VR_SLOT_SIZE;
}

static int decode_thread(uint64_t h, uint32_t rights, struct thread **out)
{
	struct cap *c;
	int err = decode_cap(h, KOBJ_THREAD, rights, &c);

	if (!err)
		*out = container_of(c->obj, struct thread, obj);
	return err;
}

/* A thread that can still be suspended, resumed (not dying) or killed
 * (not exited). */
static int decode_live_thread(uint64_t h, uint32_t rights, bool dying_ok, struct thread **out)
{
	int err = decode_thread(h, rights, out);

	if (err)
		return err;
	return (*out)->exited || (!dying_ok && thread_dying(*out)) ? VR_ESRCH : VR_OK;
}

/* Give the caller an original capability to t (all rights). */
static int64_t install_thread(struct thread *t)
{
	cap_handle_t h;
	int err = cap_insert(proc_current()->cs, &t->obj, CAP_RIGHTS_ALL, 0, &h);

	return err ? err : (int64_t)h;
}

int64_t sys_thread_create(const struct syscall_args *a)
{
	uintptr_t entry = a->a[0], sp = a->a[1], arg = a->a[2], tls = a->a[3], buf = a->a[4];
	struct thread *t;
	int64_t h;
	int err;

	if (!va_in_own_slot(entry) || !va_in_own_slot(sp) || (tls && !va_in_own_slot(tls)))
		return VR_EINVAL;
	err = thread_create(proc_current(), entry, sp, arg, tls, buf, &t);
	if (err)
		return err;
	h = install_thread(t);
	if (h < 0)
		thread_discard(t); /* the caller's cspace is full */
	return h;
}

int64_t sys_thread_exit(const struct syscall_args *a)
{
	thread_exit((int)a->a[0]);
}

int64_t sys_thread_suspend(const struct syscall_args *a)
{
	struct thread *t;
	int err = decode_live_thread(a->a[0], CAP_WRITE, false, &t);

	return err ? err : thread_suspend(t);
}

int64_t sys_thread_resume(const struct syscall_args *a)
{
	struct thread *t;
	int err = decode_live_thread(a->a[0], CAP_WRITE, false, &t);

	return err ? err : thread_resume(t);
}

int64_t sys_thread_join(const struct syscall_args *a)
{
	uintptr_t status_ptr = a->a[1];
	uint64_t flags = a->a[2], deadline = UINT64_MAX, now;
	struct thread *t;
	int status;
	int err;

	if (flags & ~(uint64_t)(VR_IPC_NONBLOCK | VR_IPC_TIMEOUT))
		return VR_EINVAL;
	err = decode_thread(a->a[0], CAP_READ, &t);
	if (err)
		return err;
	if (status_ptr && !vm_user_range_ok(&proc_current()->vs, status_ptr, sizeof(int), true))
		return VR_EFAULT;
	if (flags & VR_IPC_TIMEOUT) {
		now = hal_clock_ns();
		deadline = a->a[3] > UINT64_MAX - now ? UINT64_MAX : now + a->a[3];
	}
	err = thread_join(t, flags & VR_IPC_NONBLOCK, deadline, &status);
	/* another thread may have unmapped the buffer while this one waited */
	if (!err && status_ptr)
		err = vm_copy_to_user(&proc_current()->vs, status_ptr, &status, sizeof(status));
	return err;
}

int64_t sys_thread_kill(const struct syscall_args *a)
{
	struct thread *t;
	int err = decode_live_thread(a->a[0], CAP_DELETE, true, &t);

	return err ? err : thread_kill(t, (int)a->a[1]);
}

int64_t sys_thread_set_tls(const struct syscall_args *a)
{
	uintptr_t tls = a->a[0];

	if (tls && !va_in_own_slot(tls))
		return VR_EINVAL;
	sched_set_user_tls(tls);
	return VR_OK;
}

int64_t sys_thread_self(const struct syscall_args *a)
{
	(void)a;
	return install_thread(sched_current());
}
