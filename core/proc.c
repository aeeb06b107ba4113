/*
 * Processes. Each process owns one address-space slot (abi.h): the trap
 * page, the read-only info page (vr_start_info and argv), the ELF image and
 * the stack all live inside it, at the same offsets in every process.
 *
 * Invariants (proc_check):
 *  1. nthreads == length of `threads` <= VR_THREADS_MAX; a zombie has no
 *     threads and no address space; a reaped process is a zombie named by
 *     capabilities, on no list.
 *  2. A process with a parent is on the parent's children list.
 *  3. slots[p->slot] == p while the process is alive.
 *  4. A live process holds a quota reference; its own record, kernel stack,
 *     capability slots, PML4 and owned pages are charged there (p->charged).
 */
#include "veridian/console.h"
#include "veridian/cpio.h"
#include "veridian/elf.h"
#include "veridian/ipc.h"
#include "veridian/kheap.h"
#include "veridian/klib.h"
#include "veridian/mem.h"
#include "veridian/pmm.h"
#include "veridian/proc.h"

static void proc_obj_destroy(struct kobj *obj);
static void vspace_obj_destroy(struct kobj *obj);

static struct {
	const void *initrd;
	size_t initrd_size;
	uint64_t trap_page_pa;     /* shared by all processes, read+execute */
	struct vm_space kernel_vs; /* active while no process is */
	struct process *slots[VR_SLOT_COUNT];
	unsigned next_slot; /* round-robin, so slots are not reused at once */
	struct list all;
	int64_t next_pid;
	struct quota *root;   /* init's quota: all of RAM but a kernel reserve */
	struct process *init; /* the first process: adopts orphans */
} procs;

/* What the kernel keeps for itself beyond any process's reach: 1/8 of RAM,
 * so its own allocations (stacks, slabs, tables of exiting processes) can
 * succeed when every quota is spent. */
#define PROC_KERNEL_RESERVE_DIV 8u

/* Bytes a process costs before it maps anything: its record, its kernel
 * stack and its capability slots. */
#define PROC_FIXED_BYTES                                     \
	(sizeof(struct process) + KSTACK_PAGES * PAGE_SIZE + \
	 ALIGN_UP(PROC_CSPACE_SLOTS * sizeof(struct cap_slot), PAGE_SIZE))

void proc_init(const void *initrd, size_t initrd_size)
{
	struct pmm_stats st;

	procs.initrd = initrd;
	procs.initrd_size = initrd_size;
	procs.trap_page_pa = pmm_alloc(1, 1);
	if (!procs.trap_page_pa || vm_space_init(&procs.kernel_vs))
		KPANIC("out of memory at boot");
	hal_trap_page_fill(phys_to_virt(procs.trap_page_pa), PAGE_SIZE);
	pmm_get_stats(&st);
	procs.root = quota_create(NULL, (st.free_pages - st.free_pages / PROC_KERNEL_RESERVE_DIV) *
						PAGE_SIZE);
	if (!procs.root)
		KPANIC("out of memory at boot");
	list_init(&procs.all);
	procs.next_pid = 1;
	kobj_register_type(KOBJ_PROCESS, proc_obj_destroy);
	kobj_register_type(KOBJ_VSPACE, vspace_obj_destroy);
	thread_init();
	quota_obj_init();
}

int64_t kobj_id(const struct kobj *obj)
{
	switch (obj->type) {
	case KOBJ_PROCESS:
		return container_of(obj, const struct process, obj)->pid;
	case KOBJ_VSPACE:
		return container_of(obj, const struct process, vs_obj)->pid;
	case KOBJ_THREAD:
		return container_of(obj, const struct thread, obj)->tid;
	default:
		return 0;
	}
}

uintptr_t proc_slot_base(const struct process *p)
{
	return VR_SLOT_BASE + (uintptr_t)p->slot * VR_SLOT_SIZE;
}

struct process *proc_current(void)
{
	return sched_current()->proc;
}

uint64_t proc_user_pages_total(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < VR_SLOT_COUNT; i++)
		if (procs.slots[i])
			n += procs.slots[i]->vs.owned_pages;
	return n;
}

static int slot_alloc(struct process *p)
{
	for (unsigned i = 0; i < VR_SLOT_COUNT; i++) {
		unsigned s = (procs.next_slot + i) % VR_SLOT_COUNT;
		if (!procs.slots[s]) {
			procs.slots[s] = p;
			p->slot = s;
			procs.next_slot = (s + 1) % VR_SLOT_COUNT;
			return VR_OK;
		}
	}
	return VR_EAGAIN;
}

/* Split `args` on spaces into the info page: vr_start_info, then the argv
 * array, then the strings. Returns argc. */
static int64_t build_info_page(char *page, uintptr_t page_va, const struct process *p,
			       const char *args)
{
	struct vr_start_info *si = (struct vr_start_info *)page;
	uint64_t *argv = (uint64_t *)(si + 1);
	char *str = (char *)(argv + VR_ARGV_MAX + 1);
	int64_t argc = 0;

	for (const char *a = args; *a;) {
		size_t n = 0;
		while (*a == ' ')
			a++;
		while (a[n] && a[n] != ' ')
			n++;
		if (!n || argc == VR_ARGV_MAX)
			break;
		memcpy(str, a, n);
		str[n] = '\0';
		argv[argc++] = page_va + (uintptr_t)(str - page);
		str += n + 1;
		a += n;
	}
	argv[argc] = 0;
	*si = (struct vr_start_info){
		.magic = VR_START_MAGIC,
		.trap_entry = proc_slot_base(p) + VR_SLOT_TRAP_OFF,
		.image_base = proc_slot_base(p) + VR_SLOT_IMAGE_OFF,
		.slot_base = proc_slot_base(p),
		.pid = p->pid,
		.argc = argc,
		.argv = page_va + sizeof(*si),
		.ipc_buffer = proc_slot_base(p) + VR_SLOT_IPCBUF_OFF,
	};
	return argc;
}

/* Build the address space of a new process; on error the caller destroys
 * the space. */
static int setup_space(struct process *p, const struct cpio_entry *file,
		       const struct elf_image *img, const char *args)
{
	uintptr_t base = proc_slot_base(p);
	uint64_t info_pa;
	int err;

	err = vm_map(&p->vs, base + VR_SLOT_TRAP_OFF, procs.trap_page_pa, VM_READ | VM_EXEC, false);
	if (err)
		return err;
	info_pa = pmm_alloc(1, 1);
	if (!info_pa)
		return VR_ENOMEM;
	build_info_page(phys_to_virt(info_pa), base + VR_SLOT_INFO_OFF, p, args);
	err = vm_map(&p->vs, base + VR_SLOT_INFO_OFF, info_pa, VM_READ, true);
	if (err) {
		pmm_free(info_pa, 1);
		return err;
	}
	err = vm_map_anon(&p->vs, base + VR_SLOT_IPCBUF_OFF, 1, VM_READ | VM_WRITE);
	if (err)
		return err;
	err = elf_load(&p->vs, base + VR_SLOT_IMAGE_OFF, file->data, img);
	if (err)
		return err;
	/* the pages owned so far (info, IPC buffer, image) join the charge */
	err = quota_charge(p->quota, p->vs.owned_pages * PAGE_SIZE);
	if (err)
		return err;
	p->charged += p->vs.owned_pages * PAGE_SIZE;
	return mem_map_anon(&p->vs, p->quota, base + VR_SLOT_STACK_TOP - VR_SLOT_STACK_SIZE,
			    VR_SLOT_STACK_SIZE / PAGE_SIZE, VM_READ | VM_WRITE,
			    PROC_STACK_EAGER_PAGES);
}

static void set_name(struct process *p, const char *path)
{
	const char *n = path;
	for (const char *c = path; *c; c++)
		if (*c == '/')
			n = c + 1;
	kstrlcpy(p->name, n, sizeof(p->name));
}

/* Return what the process itself was charged and its quota reference. */
static void release_quota(struct process *p)
{
	quota_uncharge(p->quota, p->charged);
	p->charged = 0;
	quota_put(p->quota);
	p->quota = NULL;
}

/* At exit: return everything but the process record, which stays charged
 * (and keeps the quota alive) until proc_free(). Otherwise a process could
 * leave unlimited zombies in kernel memory by never calling wait. */
static void release_quota_but_record(struct process *p)
{
	KASSERT(p->charged >= sizeof(*p));
	quota_uncharge(p->quota, p->charged - sizeof(*p));
	p->charged = sizeof(*p);
}

/* Undo a partly built process (never ran). */
static void spawn_fail(struct process *p, bool have_space)
{
	if (p->cs)
		cspace_destroy(p->cs);
	if (have_space) {
		mem_unmap_all(&p->vs);
		vm_space_destroy(&p->vs);
	}
	if (p->quota)
		release_quota(p);
	procs.slots[p->slot] = NULL;
	kfree(p);
}

/* The quota of a new process under `under` (init's under the root),
 * charged for the process's fixed costs. */
static int quota_setup(struct quota *under, struct process *p)
{
	p->quota = quota_create(under ? under : procs.root, QUOTA_UNLIMITED);
	if (!p->quota)
		return VR_ENOMEM;
	if (quota_charge(p->quota, PROC_FIXED_BYTES))
		return VR_ENOMEM;
	p->charged = PROC_FIXED_BYTES;
	return VR_OK;
}

/* Give the new process its initial capabilities, at handles 0..n-1 (its
 * cspace is empty, so the lowest free slots are 0, 1, ... in order). */
static int grant_initial_caps(struct process *parent, struct process *p, const cap_handle_t *caps,
			      unsigned ncaps)
{
	for (unsigned i = 0; i < ncaps; i++) {
		cap_handle_t h;
		int err = cap_grant_copy(parent->cs, caps[i], p->cs, hal_clock_ns(), &h);
		if (err)
			return err;
		KASSERT(h == cap_handle(i, 0));
	}
	return VR_OK;
}

int proc_spawn(struct process *parent, const char *path, const char *args, const cap_handle_t *caps,
	       unsigned ncaps, struct quota *under, cap_handle_t *out_cap)
{
	struct cpio_entry file;
	struct elf_image img;
	struct process *p;
	struct thread *t;
	const char *why;
	int err;

	err = cpio_find(procs.initrd, procs.initrd_size, path, &file);
	if (err)
		return err;
	err = elf_parse(file.data, file.size, &img, &why);
	if (err) {
		kprintf("kernel: cannot run %s: %s\n", path, why);
		return err;
	}
	p = kzalloc(sizeof(*p));
	if (!p)
		return VR_ENOMEM;
	if (slot_alloc(p)) {
		kfree(p);
		return VR_EAGAIN;
	}
	p->obj.type = KOBJ_PROCESS;
	p->vs_obj.type = KOBJ_VSPACE;
	p->pid = procs.next_pid++;
	set_name(p, path);
	list_init(&p->threads);
	list_init(&p->children);
	list_init(&p->sibling_link);
	waitq_init(&p->child_exit);
	p->fault_ep = VR_CAP_INVALID;
	err = quota_setup(under ? under : parent ? parent->quota : NULL, p);
	if (!err)
		p->cs = cspace_create(PROC_CSPACE_SLOTS);
	if (!err)
		err = p->cs ? vm_space_init_quota(&p->vs, p->quota) : VR_ENOMEM;
	if (err) {
		spawn_fail(p, false);
		return err;
	}
	err = setup_space(p, &file, &img, args);
	if (!err && ncaps)
		err = grant_initial_caps(parent, p, caps, ncaps);
	if (!err && parent)
		err = cap_insert(parent->cs, &p->obj, CAP_RIGHTS_ALL, 0, out_cap);
	t = err ? NULL
		: thread_create_user(p, proc_slot_base(p) + VR_SLOT_IMAGE_OFF + img.entry,
				     proc_slot_base(p) + VR_SLOT_STACK_TOP,
				     proc_slot_base(p) + VR_SLOT_INFO_OFF);
	if (!t) {
		if (!err && parent)
			cap_delete(parent->cs, *out_cap); /* not reaped: left to spawn_fail */
		spawn_fail(p, true);
		return err ? err : VR_ENOMEM;
	}
	t->ipc.buf_pa = vm_lookup(&p->vs, proc_slot_base(p) + VR_SLOT_IPCBUF_OFF) & PTE_ADDR_MASK;
	list_push_back(&p->threads, &t->proc_link);
	p->nthreads = 1;
	p->parent = parent;
	if (parent)
		list_push_back(&parent->children, &p->sibling_link);
	else if (!procs.init)
		procs.init = p;
	list_push_back(&procs.all, &p->all_link);
	KCHECK(proc_check(p) && vm_space_check(&p->vs));
	sched_make_runnable(t);
	return VR_OK;
}

static void proc_free_record(struct process *p)
{
	if (p->quota)
		release_quota(p);
	kfree(p);
}

/* Does anything but capabilities keep the record? */
static bool proc_record_named(const struct process *p)
{
	return p->obj.ncaps || p->vs_obj.ncaps;
}

/* The last capability to a process (or to its address space) went: a live
 * or zombie process goes on (its parent may still wait for it); a reaped
 * one is freed once nothing names it. */
static void proc_obj_destroy(struct kobj *obj)
{
	struct process *p = container_of(obj, struct process, obj);

	if (p->reaped && !proc_record_named(p))
		proc_free_record(p);
}

static void vspace_obj_destroy(struct kobj *obj)
{
	struct process *p = container_of(obj, struct process, vs_obj);

	if (p->reaped && !proc_record_named(p))
		proc_free_record(p);
}

/* Its exit status has been collected (or nobody can): the pid is gone; the
 * record stays, still charged, while capabilities name it. */
static void proc_reap(struct process *p)
{
	KASSERT(p->zombie && !p->reaped);
	if (p == procs.init)
		procs.init = NULL;
	list_remove(&p->all_link);
	list_remove(&p->sibling_link);
	p->parent = NULL;
	p->reaped = true;
	if (!proc_record_named(p))
		proc_free_record(p);
}

/* Children outlive their parent: init adopts them (and reaps them with
 * wait, so it can also kill them); when init itself goes, they are
 * orphans for good and dead ones are freed at once. */
static void orphan_children(struct process *p)
{
	struct process *adopter =
		procs.init && procs.init != p && !procs.init->zombie ? procs.init : NULL;
	struct list *l;
	bool wake = false;

	while ((l = list_pop_front(&p->children))) {
		struct process *c = container_of(l, struct process, sibling_link);
		c->parent = adopter;
		if (adopter) {
			list_push_back(&adopter->children, &c->sibling_link);
			wake |= c->zombie;
		} else if (c->zombie) {
			proc_reap(c);
		}
	}
	if (wake)
		sched_wake_all(&adopter->child_exit);
}

/* Interrupt every thread of p but the caller, so each sees p->killed at
 * its next kernel boundary. */
static void interrupt_threads(struct process *p)
{
	struct list *l;

	list_for_each(l, &p->threads) {
		struct thread *t = container_of(l, struct thread, proc_link);
		t->pending = true;
		if (t != sched_current())
			thread_interrupt(t);
	}
}

noreturn void proc_exit(int status)
{
	struct process *p = proc_current();

	KASSERT(p);
	if (!p->killed) {
		p->killed = true;
		p->kill_status = status;
		interrupt_threads(p);
	}
	thread_exit(p->kill_status);
}

void proc_teardown(struct process *p, int status)
{
	KASSERT(!p->nthreads && !p->zombie);
	/* Capabilities go first: objects they keep alive may wake threads of
	 * other processes (VR_ECLOSED); this one has none left. */
	cspace_destroy(p->cs);
	p->cs = NULL;
	hal_vm_activate(procs.kernel_vs.pml4_pa);
	mem_unmap_all(&p->vs);
	vm_space_destroy(&p->vs);
	release_quota_but_record(p);
	procs.slots[p->slot] = NULL;
	p->zombie = true;
	p->exit_status = status;
	orphan_children(p);
	if (p->parent)
		sched_wake_all(&p->parent->child_exit);
	else
		proc_reap(p);
	KCHECK(proc_check_all());
}

int proc_kill(struct process *p, int status)
{
	if (p->zombie)
		return VR_ESRCH;
	if (p == proc_current())
		proc_exit(status);
	if (!p->killed) {
		p->killed = true;
		p->kill_status = status;
		interrupt_threads(p);
	}
	return VR_OK;
}

static struct process *find_child(struct process *self, int64_t pid, bool *any)
{
	struct list *l;

	*any = false;
	list_for_each(l, &self->children) {
		struct process *c = container_of(l, struct process, sibling_link);
		if (pid != -1 && c->pid != pid)
			continue;
		*any = true;
		if (c->zombie)
			return c;
	}
	return NULL;
}

int proc_wait(struct process *self, int64_t pid, int *status, int64_t *out_pid)
{
	for (;;) {
		bool any;
		struct process *c = find_child(self, pid, &any);

		if (c) {
			*status = c->exit_status;
			*out_pid = c->pid;
			proc_reap(c);
			return VR_OK;
		}
		if (!any)
			return VR_ECHILD;
		sched_block(&self->child_exit);
	}
}

bool proc_check(const struct process *p)
{
	const struct list *l;
	unsigned n = 0;
	bool on_parent = p->parent == NULL;

	if (p->obj.type != KOBJ_PROCESS || p->vs_obj.type != KOBJ_VSPACE ||
	    (p->reaped && (!p->zombie || !proc_record_named(p))))
		return false;
	list_for_each(l, &p->threads) {
		if (container_of(l, const struct thread, proc_link)->proc != p)
			return false;
		n++;
	}
	if (n != p->nthreads || n > VR_THREADS_MAX || (p->zombie && (n || p->vs.pml4 || p->cs)))
		return false;
	if (!p->zombie && (!p->cs || !cspace_check(p->cs)))
		return false;
	if (!p->zombie && (procs.slots[p->slot] != p || !p->quota || !quota_check(p->quota)))
		return false;
	if (p->parent) {
		list_for_each(l, &p->parent->children)
			on_parent |= l == &p->sibling_link;
	}
	return on_parent;
}

bool proc_check_all(void)
{
	struct list *l;

	list_for_each(l, &procs.all)
		if (!proc_check(container_of(l, struct process, all_link)))
			return false;
	return true;
}
