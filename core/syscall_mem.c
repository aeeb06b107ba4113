/*
 * Syscalls of memory objects, fault handlers and quotas: the decoders.
 * Everything a caller can get wrong (handles, rights, ranges, protection)
 * is checked here; core/mem.c then acts and fails only for lack of memory
 * or quota.
 */
#include "veridian/hal.h"
#include "veridian/klib.h"
#include "veridian/mem.h"
#include "veridian/pmm.h"
#include "veridian/proc.h"
#include "veridian/syscall.h"

static struct vm_space *caller_vs(void)
{
	return &proc_current()->vs;
}

/* A handle naming a memory object with `rights`; *have (if not NULL) gets
 * all the rights of the capability. */
static int decode_mem(uint64_t h, uint32_t rights, struct mem_obj **out, uint32_t *have)
{
	struct cap *c;
	int err;

	if (h > UINT32_MAX)
		return VR_ECAP_RANGE;
	err = cap_lookup(proc_current()->cs, (cap_handle_t)h, KOBJ_MEMORY, rights, hal_clock_ns(),
			 &c);
	if (err)
		return err;
	*out = container_of(c->obj, struct mem_obj, obj);
	if (have)
		*have = c->rights;
	return VR_OK;
}

/* A protection: READ required, W+X refused, no unknown bits. */
static int decode_prot(uint64_t prot)
{
	if (prot & ~(uint64_t)(VR_PROT_READ | VR_PROT_WRITE | VR_PROT_EXEC))
		return VR_EINVAL;
	if (!(prot & VR_PROT_READ) || ((prot & VR_PROT_WRITE) && (prot & VR_PROT_EXEC)))
		return VR_EINVAL;
	return VR_OK;
}

/* The capability rights a protection needs. */
static uint32_t rights_for(unsigned prot)
{
	return (prot & VR_PROT_READ ? CAP_READ : 0) | (prot & VR_PROT_WRITE ? CAP_WRITE : 0) |
	       (prot & VR_PROT_EXEC ? CAP_EXECUTE : 0);
}

/* The protections a capability's rights allow (W and X each need READ). */
static unsigned prot_allowed(uint32_t rights)
{
	if (!(rights & CAP_READ))
		return 0;
	return VR_PROT_READ | (rights & CAP_WRITE ? VR_PROT_WRITE : 0) |
	       (rights & CAP_EXECUTE ? VR_PROT_EXEC : 0);
}

/* Is [va, va + npages pages) inside the caller's own slot, above the area
 * below the image that the kernel manages (trap and info pages, IPC
 * buffers of threads: abi.h)? */
static bool in_slot(const struct process *p, uintptr_t va, uint64_t npages)
{
	uintptr_t base = proc_slot_base(p);

	return va >= base + VR_SLOT_IMAGE_OFF && va - base < VR_SLOT_SIZE &&
	       npages <= (VR_SLOT_SIZE - (va - base)) / PAGE_SIZE;
}

/* Put an original capability to a new object in the caller's space; the
 * object goes if that fails. */
static int64_t install(struct mem_obj *mo)
{
	cap_handle_t h;
	int err = cap_insert(proc_current()->cs, &mo->obj, CAP_RIGHTS_ALL, 0, &h);

	if (err) {
		mem_obj_drop_unused(mo);
		return err;
	}
	return (int64_t)h;
}

int64_t sys_mem_create(const struct syscall_args *a)
{
	struct mem_obj *mo;
	int err;

	if (a->a[0] == 0 || a->a[0] > MEM_MAX_PAGES)
		return VR_EINVAL;
	err = mem_obj_create(proc_current()->quota, a->a[0], &mo);
	return err ? err : install(mo);
}

/* mem_create_huge: the page size must be one the kernel makes objects of
 * (1 GiB objects are fine on an MMU without 1 GiB pages: 2 MiB leaves show
 * them) and npages a whole number of them. */
int64_t sys_mem_create_huge(const struct syscall_args *a)
{
	uint64_t npages = a->a[0], size = a->a[1];
	struct mem_obj *mo;
	int err;

	if (size != VR_MEM_PAGE_2M && size != VR_MEM_PAGE_1G)
		return VR_EINVAL;
	if (npages == 0 || npages > MEM_MAX_PAGES || npages % (size / PAGE_SIZE))
		return VR_EINVAL;
	err = mem_obj_create_huge(proc_current()->quota, npages, size, &mo);
	return err ? err : install(mo);
}

/* A private mapping never writes the object: it needs READ (and EXECUTE
 * for an executable one), and may be writable whatever the capability's
 * WRITE right says. */
static uint32_t rights_for_private(unsigned prot)
{
	return rights_for(prot) & ~(uint32_t)CAP_WRITE;
}

static bool in_own_slot(uintptr_t va, uint64_t npages)
{
	return in_slot(proc_current(), va, npages);
}

/* Map pages of the memory object the caller's handle h names into p's
 * address space (the caller's own, or one it holds a capability to); a
 * private copy is charged to p's quota. */
static int64_t map_into(struct process *p, uint64_t h, uintptr_t va, uint64_t first,
			uint64_t npages, uint64_t prot_flags)
{
	unsigned prot = (unsigned)(prot_flags & 0xff);
	bool private = prot_flags & VR_MAP_PRIVATE, nofill = prot_flags & VR_MAP_NOFILL;
	struct mem_obj *mo;
	uint32_t rights;
	unsigned max;
	int err;

	if (prot_flags & ~(uint64_t)(0xff | VR_MAP_NOFILL | VR_MAP_PRIVATE) || (private && nofill))
		return VR_EINVAL;
	err = decode_prot(prot);
	if (!err)
		err = decode_mem(h, private ? rights_for_private(prot) : rights_for(prot), &mo,
				 &rights);
	if (err)
		return err;
	if (!in_slot(p, va, npages))
		return VR_EINVAL;
	err = mem_map_check(&p->vs, mo, va, first, npages);
	if (err)
		return err;
	max = prot_allowed(rights);
	if (private)
		return mem_map_private(&p->vs, p->quota, mo, va, first, npages, prot,
				       max | VR_PROT_WRITE, NULL);
	return mem_map(&p->vs, mo, va, first, npages, prot, max, nofill ? MEM_MAP_NOFILL : 0);
}

int64_t sys_mem_map(const struct syscall_args *a)
{
	return map_into(proc_current(), a->a[0], a->a[1], a->a[2], a->a[3], a->a[4]);
}

int64_t sys_mem_unmap(const struct syscall_args *a)
{
	if (a->a[1] == 0 || !in_own_slot(a->a[0], a->a[1]))
		return VR_EINVAL;
	return mem_unmap(caller_vs(), a->a[0], a->a[1]);
}

/* An address-space capability (process_space) with `rights`, naming a
 * process that has not exited. */
static int decode_vspace(uint64_t h, uint32_t rights, struct process **out)
{
	struct cap *c;
	int err = decode_cap(h, KOBJ_VSPACE, rights, &c);

	if (err)
		return err;
	*out = container_of(c->obj, struct process, vs_obj);
	return (*out)->zombie ? VR_ESRCH : VR_OK;
}

int64_t sys_mem_map_into(const struct syscall_args *a)
{
	struct vr_map_req req;
	struct process *p;
	int err = decode_vspace(a->a[0], CAP_WRITE, &p);

	if (err)
		return err;
	if (vm_copy_from_user(caller_vs(), &req, a->a[1], sizeof(req)))
		return VR_EFAULT;
	if (req.slot_offset >= VR_SLOT_SIZE)
		return VR_EINVAL;
	return map_into(p, req.mem, proc_slot_base(p) + req.slot_offset, req.first_page, req.npages,
			req.prot_flags);
}

int64_t sys_mem_unmap_from(const struct syscall_args *a)
{
	struct process *p;
	int err = decode_vspace(a->a[0], CAP_WRITE, &p);

	if (err)
		return err;
	if (a->a[1] >= VR_SLOT_SIZE || a->a[2] == 0 ||
	    !in_slot(p, proc_slot_base(p) + a->a[1], a->a[2]))
		return VR_EINVAL;
	return mem_unmap(&p->vs, proc_slot_base(p) + a->a[1], a->a[2]);
}

int64_t sys_mem_protect(const struct syscall_args *a)
{
	int err = decode_prot(a->a[1]);

	if (err)
		return err;
	if (!in_own_slot(a->a[0], 1))
		return VR_EINVAL;
	return mem_protect(caller_vs(), a->a[0], (unsigned)a->a[1]);
}

int64_t sys_mem_protect_range(const struct syscall_args *a)
{
	int err = decode_prot(a->a[2]);

	if (err)
		return err;
	if (a->a[1] == 0 || !in_own_slot(a->a[0], a->a[1]))
		return VR_EINVAL;
	return mem_protect_range(caller_vs(), a->a[0], a->a[1], (unsigned)a->a[2]);
}

/* A copy needs READ on the source: it exposes the contents. */
int64_t sys_mem_copy(const struct syscall_args *a)
{
	struct mem_obj *src, *mo;
	int err = decode_mem(a->a[0], CAP_READ, &src, NULL);

	if (!err)
		err = mem_obj_copy(proc_current()->quota, src, &mo);
	return err ? err : install(mo);
}

/* The fault endpoint is kept as a handle and looked up at each fault, so
 * deleting or revoking the capability takes effect at once. It must allow
 * a call (READ and WRITE). */
int64_t sys_thread_set_fault_ep(const struct syscall_args *a)
{
	struct process *p = proc_current();
	struct cap *c;
	int err;

	if (a->a[0] == VR_CAP_INVALID) {
		p->fault_ep = VR_CAP_INVALID;
		return VR_OK;
	}
	if (a->a[0] > UINT32_MAX)
		return VR_ECAP_RANGE;
	err = cap_lookup(p->cs, (cap_handle_t)a->a[0], KOBJ_ENDPOINT, CAP_READ | CAP_WRITE,
			 hal_clock_ns(), &c);
	if (err)
		return err;
	p->fault_ep = (cap_handle_t)a->a[0];
	return VR_OK;
}

int64_t sys_quota_set(const struct syscall_args *a)
{
	return quota_set_limit(proc_current()->quota, a->a[0]);
}

int64_t sys_quota_info(const struct syscall_args *a)
{
	const struct quota *q = proc_current()->quota;
	struct vr_quota_info qi = { q->limit, q->used, quota_available(q) };

	if (!vm_user_range_ok(caller_vs(), a->a[0], sizeof(qi), true))
		return VR_EFAULT;
	vm_copy_to_user(caller_vs(), a->a[0], &qi, sizeof(qi));
	return VR_OK;
}
