/*
 * Syscalls. Each has a decoder (sys_NAME) that validates everything the
 * caller controls — numbers, lengths, user buffers — and then performs the
 * call with arguments that can no longer be wrong. User memory is always
 * reached through vm_copy_*(), which walks the caller's page tables.
 */
#include "veridian/console.h"
#include "veridian/hal.h"
#include "veridian/ipc.h"
#include "veridian/kheap.h"
#include "veridian/klib.h"
#include "veridian/mem.h"
#include "veridian/pmm.h"
#include "veridian/proc.h"
#include "veridian/syscall.h"

#define CONSOLE_CHUNK 256u
#define PS_MAX 256u

static struct vm_space *caller_vs(void)
{
	return &proc_current()->vs;
}

int64_t sys_exit(const struct syscall_args *a)
{
	proc_exit((int)a->a[0]);
}

int64_t sys_yield(const struct syscall_args *a)
{
	(void)a;
	sched_yield_cpu();
	return VR_OK;
}

int64_t sys_console_write(const struct syscall_args *a)
{
	uintptr_t buf = a->a[0];
	size_t len = a->a[1];
	char chunk[CONSOLE_CHUNK];

	if (len > VR_CONSOLE_WRITE_MAX)
		return VR_E2BIG;
	if (!vm_user_range_ok(caller_vs(), buf, len, false))
		return VR_EFAULT;
	for (size_t done = 0; done < len;) {
		size_t n = MIN(len - done, CONSOLE_CHUNK);
		COPY_CHECKED(vm_copy_from_user(caller_vs(), chunk, buf + done, n));
		hal_console_write(chunk, n);
		done += n;
	}
	return (int64_t)len;
}

int64_t sys_console_read(const struct syscall_args *a)
{
	uintptr_t buf = a->a[0];
	size_t len = MIN(a->a[1], (uint64_t)CONSOLE_CHUNK);
	char chunk[CONSOLE_CHUNK];
	size_t n;

	if (len == 0)
		return VR_EINVAL;
	if (!vm_user_range_ok(caller_vs(), buf, len, true))
		return VR_EFAULT;
	n = console_read(chunk, len);
	/* another thread of the caller may have unmapped buf while this one
	 * waited: the input read is then lost, as with a bad buffer */
	if (vm_copy_to_user(caller_vs(), buf, chunk, n))
		return VR_EFAULT;
	return (int64_t)n;
}

/* Copy a length-delimited user string into a NUL-terminated kernel one. */
static int copy_user_text(char *dst, size_t cap, uintptr_t src, size_t len)
{
	if (len >= cap)
		return VR_E2BIG;
	if (vm_copy_from_user(caller_vs(), dst, src, len))
		return VR_EFAULT;
	dst[len] = '\0';
	if (kstrlen(dst) != len)
		return VR_EINVAL; /* embedded NUL */
	return VR_OK;
}

/* Decode the initial capabilities of a spawn: a count in range, each
 * handle naming a capability with GRANT, and the quota to spawn under
 * (WRITE; the caller's own without VR_SPAWN_QUOTA). */
static int decode_spawn_caps(uintptr_t uptr, struct vr_spawn_caps *sc, struct quota **under)
{
	sc->count = 0;
	*under = proc_current()->quota;
	if (!uptr)
		return VR_OK;
	if (vm_copy_from_user(caller_vs(), sc, uptr, sizeof(*sc)))
		return VR_EFAULT;
	if (sc->count > VR_SPAWN_CAPS_MAX)
		return VR_E2BIG;
	if (sc->flags & ~VR_SPAWN_QUOTA)
		return VR_EINVAL;
	if (sc->flags & VR_SPAWN_QUOTA) {
		int err = decode_quota(sc->quota, CAP_WRITE, under);
		if (err)
			return err;
	}
	for (uint32_t i = 0; i < sc->count; i++) {
		struct cap *c;
		int err = cap_lookup(proc_current()->cs, sc->handles[i], KOBJ_NONE, CAP_GRANT,
				     hal_clock_ns(), &c);
		if (err)
			return err;
	}
	return VR_OK;
}

int64_t sys_spawn(const struct syscall_args *a)
{
	char path[VR_PATH_MAX], args[VR_ARGS_MAX];
	struct vr_spawn_caps sc;
	struct quota *under;
	cap_handle_t h;
	int err;

	err = copy_user_text(path, sizeof(path), a->a[0], a->a[1]);
	if (!err)
		err = copy_user_text(args, sizeof(args), a->a[2], a->a[3]);
	if (!err && !path[0])
		err = VR_EINVAL;
	if (!err)
		err = decode_spawn_caps(a->a[4], &sc, &under);
	if (!err)
		err = proc_spawn(proc_current(), path, args, sc.handles, sc.count, under, &h);
	return err ? err : (int64_t)h;
}

static int decode_process(uint64_t h, uint32_t rights, struct process **out)
{
	struct cap *c;
	int err = decode_cap(h, KOBJ_PROCESS, rights, &c);

	if (!err)
		*out = container_of(c->obj, struct process, obj);
	return err;
}

/* wait(p): p must name a child of the caller (READ); -1: any child. */
int64_t sys_wait(const struct syscall_args *a)
{
	uintptr_t status_ptr = a->a[1];
	int64_t want = -1, pid;
	struct process *c;
	int status, err;

	if ((int64_t)a->a[0] != -1) {
		err = decode_process(a->a[0], CAP_READ, &c);
		if (err)
			return err;
		if (c->parent != proc_current())
			return VR_ECHILD; /* not ours, or already waited for */
		want = c->pid;
	}
	if (status_ptr && !vm_user_range_ok(caller_vs(), status_ptr, sizeof(int), true))
		return VR_EFAULT;
	err = proc_wait(proc_current(), want, &status, &pid);
	/* another thread may have unmapped the buffer while this one waited */
	if (!err && status_ptr)
		err = vm_copy_to_user(caller_vs(), status_ptr, &status, sizeof(status));
	return err ? err : pid;
}

/* kill(p, status): DELETE on a process capability. */
int64_t sys_kill(const struct syscall_args *a)
{
	struct process *p;
	int err = decode_process(a->a[0], CAP_DELETE, &p);

	return err ? err : proc_kill(p, (int)a->a[1]);
}

int64_t sys_getpid(const struct syscall_args *a)
{
	(void)a;
	return proc_current()->pid;
}

struct ps_cursor {
	struct vm_space *vs;
	uintptr_t buf;
	size_t max, count;
};

static void ps_one(struct thread *t, void *arg)
{
	struct ps_cursor *c = arg;
	struct vr_thread_info ti = { .tid = t->tid, .state = t->state };

	if (c->count < c->max) {
		if (t->proc) {
			ti.pid = t->proc->pid;
			ti.ppid = t->proc->parent ? t->proc->parent->pid : 0;
			ti.user_pages = t->proc->vs.mapped_pages;
			kstrlcpy(ti.name, t->proc->name, sizeof(ti.name));
		} else {
			ti.is_kernel = 1;
			kstrlcpy(ti.name, "idle", sizeof(ti.name));
		}
		sched_fill_thread_info(t, &ti);
		COPY_CHECKED(
			vm_copy_to_user(c->vs, c->buf + c->count * sizeof(ti), &ti, sizeof(ti)));
	}
	c->count++;
}

int64_t sys_ps(const struct syscall_args *a)
{
	struct ps_cursor c = { caller_vs(), a->a[0], MIN(a->a[1], (uint64_t)PS_MAX), 0 };

	if (!vm_user_range_ok(c.vs, c.buf, c.max * sizeof(struct vr_thread_info), true))
		return VR_EFAULT;
	sched_for_each_thread(ps_one, &c);
	return (int64_t)c.count; /* may exceed max: the caller can retry */
}

int64_t sys_uname(const struct syscall_args *a)
{
	struct vr_uname u = { 0 };

	if (!vm_user_range_ok(caller_vs(), a->a[0], sizeof(u), true))
		return VR_EFAULT;
	kstrlcpy(u.sysname, "Veridian", sizeof(u.sysname));
	kstrlcpy(u.build, hal_build_name(), sizeof(u.build));
	kstrlcpy(u.machine, "x86_64", sizeof(u.machine));
	kstrlcpy(u.hypervisor, hal_hypervisor_name(), sizeof(u.hypervisor));
	kstrlcpy(u.version, PACKAGE_VERSION, sizeof(u.version));
	COPY_CHECKED(vm_copy_to_user(caller_vs(), a->a[0], &u, sizeof(u)));
	return VR_OK;
}

int64_t sys_meminfo(const struct syscall_args *a)
{
	struct vr_meminfo m = { .page_size = PAGE_SIZE };
	struct pmm_stats st;

	if (!vm_user_range_ok(caller_vs(), a->a[0], sizeof(m), true))
		return VR_EFAULT;
	pmm_get_stats(&st);
	m.total_pages = st.total_pages;
	m.free_pages = st.free_pages;
	m.user_pages = proc_user_pages_total();
	m.kernel_pages = st.total_pages - st.free_pages - m.user_pages;
	mem_fill_meminfo(&m); /* slab, tables, memory objects (core/mem.c) */
	COPY_CHECKED(vm_copy_to_user(caller_vs(), a->a[0], &m, sizeof(m)));
	return VR_OK;
}

int64_t sys_poweroff(const struct syscall_args *a)
{
	kprintf("kernel: power off (status %d, requested by pid %lld)\n", (int)a->a[0],
		(long long)proc_current()->pid);
	hal_poweroff((int)a->a[0]);
}

int64_t sys_clock(const struct syscall_args *a)
{
	(void)a;
	return (int64_t)hal_clock_ns();
}

int64_t sys_sleep(const struct syscall_args *a)
{
	uint64_t now = hal_clock_ns();
	uint64_t until = a->a[0] > UINT64_MAX - now ? UINT64_MAX : now + a->a[0];

	sched_sleep_until(until);
	return VR_OK;
}

typedef int64_t (*syscall_fn)(const struct syscall_args *);

static const syscall_fn syscall_table[VR_SYS_COUNT] = {
#define SYSCALL_ENTRY(nr, name, args, ret) [nr] = sys_##name,
	VR_SYSCALLS(SYSCALL_ENTRY)
#undef SYSCALL_ENTRY
};

int64_t syscall_dispatch(uint64_t nr, const struct syscall_args *args)
{
	if (nr >= VR_SYS_COUNT || !syscall_table[nr])
		return VR_ENOSYS;
	return syscall_table[nr](args);
}

int64_t kernel_syscall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	struct syscall_args args = { { a0, a1, a2, a3, a4 } };
	int64_t ret = syscall_dispatch(nr, &args);

	sched_preempt_point();
	return ret;
}
