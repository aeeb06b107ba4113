/*
 * Memory objects and their mappings (see mem.h).
 *
 * A page of an object goes through these states; the function behind each
 * transition is named:
 *
 *   absent --page_fill() (first touch)--> private (frame refs 1: mapped as the mapping says)
 *   private --mem_obj_copy()--> shared (refs > 1: mapped read-only everywhere)
 *   shared --cow_break() (write fault)--> private (a copy; the other side keeps the old frame)
 *   shared --the other object drops it--> private (the next write fault just upgrades)
 *
 * Invariants (mem_obj_check):
 *  1. resident == number of non-zero pages[]; every such frame is allocated.
 *  2. nmaps == length of maps; each mapping lies inside the object and names it.
 *  3. A present leaf of a mapping names pages[i] of its object, and is
 *     writable only if the mapping has VM_WRITE and the frame has one reference.
 *  4. charged == the object's bytes (record, page array, resident pages),
 *     all charged to quota.
 *  5. The object is alive only while obj.ncaps > 0 or nmaps > 0.
 */
#include "veridian/hal.h"
#include "veridian/kheap.h"
#include "veridian/klib.h"
#include "veridian/mem.h"
#include "veridian/pmm.h"

static struct {
	struct list all;
	struct mem_stats stats;
} mem;

static void obj_free(struct mem_obj *mo);

/* The last capability went: the object goes too unless something maps it. */
static void obj_caps_gone(struct kobj *obj)
{
	struct mem_obj *mo = container_of(obj, struct mem_obj, obj);

	if (!mo->nmaps)
		obj_free(mo);
}

static int resolve(struct vm_space *vs, uintptr_t va, unsigned access)
{
	return mem_fault(vs, va, access);
}

void mem_init(void)
{
	list_init(&mem.all);
	kobj_register_type(KOBJ_MEMORY, obj_caps_gone);
	vm_set_resolver(resolve);
}

static uint64_t array_frames(uint64_t npages)
{
	return ALIGN_UP(npages * sizeof(uint64_t), PAGE_SIZE) / PAGE_SIZE;
}

int mem_obj_create(struct quota *q, uint64_t npages, struct mem_obj **out)
{
	uint64_t frames = array_frames(npages);
	uint64_t bytes = sizeof(struct mem_obj) + frames * PAGE_SIZE;
	struct mem_obj *mo;

	if (npages == 0 || npages > MEM_MAX_PAGES)
		return VR_EINVAL;
	if (quota_charge(q, bytes))
		return VR_ENOMEM;
	mo = kzalloc(sizeof(*mo));
	if (mo)
		mo->pages_pa = pmm_alloc(frames, 1);
	if (!mo || !mo->pages_pa) {
		kfree(mo);
		quota_uncharge(q, bytes);
		return VR_ENOMEM;
	}
	mo->obj.type = KOBJ_MEMORY;
	mo->npages = npages;
	mo->pages = phys_to_virt(mo->pages_pa);
	mo->pages_frames = frames;
	mo->quota = q;
	mo->charged = bytes;
	if (q)
		quota_get(q);
	list_init(&mo->maps);
	list_push_back(&mem.all, &mo->all_link);
	mem.stats.objects++;
	KCHECK(mem_obj_check(mo));
	*out = mo;
	return VR_OK;
}

static void obj_free(struct mem_obj *mo)
{
	KASSERT(!mo->nmaps && !mo->obj.ncaps); /* invariant 5 */
	for (uint64_t i = 0; i < mo->npages; i++) {
		if (mo->pages[i] && pmm_frame_unref(mo->pages[i]) == 0)
			mem.stats.frames--;
	}
	pmm_free(mo->pages_pa, mo->pages_frames);
	quota_uncharge(mo->quota, mo->charged);
	if (mo->quota)
		quota_put(mo->quota);
	list_remove(&mo->all_link);
	mem.stats.objects--;
	kfree(mo);
}

void mem_obj_drop_unused(struct mem_obj *mo)
{
	obj_free(mo);
}

/* Call fn on the present leaf of every mapping of mo that shows page idx. */
static void for_each_leaf_of(struct mem_obj *mo, uint64_t idx,
			     void (*fn)(struct mem_map *m, uintptr_t va, uint64_t pte))
{
	struct list *l;

	list_for_each(l, &mo->maps) {
		struct mem_map *m = container_of(l, struct mem_map, obj_link);
		uintptr_t va;
		uint64_t pte;
		if (idx < m->first || idx >= m->first + m->npages)
			continue;
		va = m->va + (idx - m->first) * PAGE_SIZE;
		pte = vm_lookup(m->vs, va);
		if (pte & PTE_P)
			fn(m, va, pte);
	}
}

static void leaf_make_readonly(struct mem_map *m, uintptr_t va, uint64_t pte)
{
	if (pte & PTE_W)
		vm_set_leaf(m->vs, va, pte & PTE_ADDR_MASK, m->prot & ~VM_WRITE);
}

static void leaf_drop(struct mem_map *m, uintptr_t va, uint64_t pte)
{
	(void)pte;
	vm_unmap(m->vs, va);
}

int mem_obj_copy(struct quota *q, struct mem_obj *src, struct mem_obj **out)
{
	struct mem_obj *mo;
	int err = mem_obj_create(q, src->npages, &mo);

	if (err)
		return err;
	/* the copy pays for every page it shares now: a later write fault
	 * then never needs a charge it could fail */
	if (quota_charge(q, src->resident * PAGE_SIZE)) {
		obj_free(mo);
		return VR_ENOMEM;
	}
	mo->charged += src->resident * PAGE_SIZE;
	for (uint64_t i = 0; i < src->npages; i++) {
		if (!src->pages[i])
			continue;
		pmm_frame_ref(src->pages[i]);
		mo->pages[i] = src->pages[i];
		mo->resident++;
		for_each_leaf_of(src, i, leaf_make_readonly);
	}
	KCHECK(mem_obj_check(src) && mem_obj_check(mo));
	*out = mo;
	return VR_OK;
}

/* First touch of page idx: a zeroed frame, charged to the object. */
static int page_fill(struct mem_obj *mo, uint64_t idx)
{
	uint64_t pa;

	if (quota_charge(mo->quota, PAGE_SIZE))
		return VR_ENOMEM;
	pa = pmm_alloc(1, 1);
	if (!pa) {
		quota_uncharge(mo->quota, PAGE_SIZE);
		return VR_ENOMEM;
	}
	mo->pages[idx] = pa;
	mo->resident++;
	mo->charged += PAGE_SIZE;
	mem.stats.frames++;
	return VR_OK;
}

/* A write to shared page idx: give this object its own copy. Other
 * mappings of this object drop their leaf (they fault the copy in); the
 * other sharers keep the old frame. Already paid for (mem_obj_copy). */
static int cow_break(struct mem_obj *mo, uint64_t idx)
{
	uint64_t old = mo->pages[idx], pa = pmm_alloc(1, 1);

	if (!pa)
		return VR_ENOMEM;
	memcpy(phys_to_virt(pa), phys_to_virt(old), PAGE_SIZE);
	for_each_leaf_of(mo, idx, leaf_drop);
	mo->pages[idx] = pa;
	mem.stats.frames++;
	if (pmm_frame_unref(old) == 0)
		mem.stats.frames--;
	return VR_OK;
}

static struct mem_map *map_find(struct vm_space *vs, uintptr_t va)
{
	struct list *l;

	list_for_each(l, &vs->maps) {
		struct mem_map *m = container_of(l, struct mem_map, space_link);
		if (va >= m->va && va - m->va < m->npages * PAGE_SIZE)
			return m;
	}
	return NULL;
}

static bool access_allowed(unsigned prot, unsigned access)
{
	if (access & HAL_ACCESS_WRITE)
		return prot & VM_WRITE;
	if (access & HAL_ACCESS_EXEC)
		return prot & VM_EXEC;
	return prot & VM_READ;
}

int mem_fault(struct vm_space *vs, uintptr_t va, unsigned access)
{
	struct mem_map *m = map_find(vs, va);
	struct mem_obj *mo;
	uint64_t idx;
	unsigned prot;
	int err;

	if (!m || !access_allowed(m->prot, access))
		return VR_EFAULT;
	mo = m->mo;
	idx = m->first + (va - m->va) / PAGE_SIZE;
	if (!mo->pages[idx]) {
		if (m->flags & MEM_MAP_NOFILL)
			return VR_ENOENT;
		err = page_fill(mo, idx);
		if (err)
			return err;
	}
	if ((access & HAL_ACCESS_WRITE) && pmm_frame_refs(mo->pages[idx]) > 1) {
		err = cow_break(mo, idx);
		if (err)
			return err;
	}
	prot = m->prot;
	if (pmm_frame_refs(mo->pages[idx]) > 1)
		prot &= ~VM_WRITE; /* invariant 3 */
	err = vm_set_leaf(vs, ALIGN_DOWN(va, PAGE_SIZE), mo->pages[idx], prot);
	KCHECK(mem_obj_check(mo));
	return err;
}

int mem_map_check(struct vm_space *vs, const struct mem_obj *mo, uintptr_t va, uint64_t first,
		  uint64_t npages)
{
	struct list *l;
	uintptr_t end;

	if (!IS_ALIGNED(va, PAGE_SIZE) || npages == 0 || npages > mo->npages ||
	    first > mo->npages - npages)
		return VR_EINVAL;
	end = va + npages * PAGE_SIZE;
	if (end < va || !vm_is_user_addr(va) || !vm_is_user_addr(end - 1))
		return VR_EINVAL;
	list_for_each(l, &vs->maps) {
		const struct mem_map *m = container_of(l, struct mem_map, space_link);
		if (va < m->va + m->npages * PAGE_SIZE && m->va < end)
			return VR_EBUSY;
	}
	for (uintptr_t p = va; p < end; p += PAGE_SIZE)
		if (vm_lookup(vs, p) & PTE_P)
			return VR_EBUSY; /* the image, the trap page, ... */
	return VR_OK;
}

int mem_map(struct vm_space *vs, struct mem_obj *mo, uintptr_t va, uint64_t first, uint64_t npages,
	    unsigned prot, unsigned max_prot, unsigned flags)
{
	struct mem_map *m;

	if (quota_charge(vs->quota, sizeof(*m)))
		return VR_ENOMEM;
	m = kzalloc(sizeof(*m));
	if (!m) {
		quota_uncharge(vs->quota, sizeof(*m));
		return VR_ENOMEM;
	}
	*m = (struct mem_map){ .mo = mo,
			       .vs = vs,
			       .va = va,
			       .first = first,
			       .npages = npages,
			       .prot = prot,
			       .max_prot = max_prot,
			       .flags = flags };
	list_push_back(&mo->maps, &m->obj_link);
	list_push_back(&vs->maps, &m->space_link);
	mo->nmaps++;
	mem.stats.maps++;
	KCHECK(mem_obj_check(mo));
	return VR_OK;
}

/* Remove one mapping and its leaves; the object goes with its last user. */
static void map_remove(struct mem_map *m)
{
	struct mem_obj *mo = m->mo;

	for (uint64_t i = 0; i < m->npages; i++)
		vm_unmap(m->vs, m->va + i * PAGE_SIZE); /* VR_ENOENT: never touched */
	list_remove(&m->obj_link);
	list_remove(&m->space_link);
	quota_uncharge(m->vs->quota, sizeof(*m));
	kfree(m);
	mem.stats.maps--;
	if (--mo->nmaps == 0 && mo->obj.ncaps == 0)
		obj_free(mo);
	else
		KCHECK(mem_obj_check(mo));
}

int mem_unmap(struct vm_space *vs, uintptr_t va, uint64_t npages)
{
	uintptr_t end = va + npages * PAGE_SIZE;
	struct list *l, *next;
	bool any = false;

	if (!IS_ALIGNED(va, PAGE_SIZE) || npages == 0 || npages > (UINTPTR_MAX - va) / PAGE_SIZE)
		return VR_EINVAL;
	list_for_each(l, &vs->maps) {
		const struct mem_map *m = container_of(l, struct mem_map, space_link);
		uintptr_t mend = m->va + m->npages * PAGE_SIZE;
		if (mend <= va || m->va >= end)
			continue;
		if (m->va < va || mend > end)
			return VR_EINVAL; /* no partial unmap: it would split the mapping */
		any = true;
	}
	if (!any)
		return VR_ENOENT;
	for (l = vs->maps.next; l != &vs->maps; l = next) {
		struct mem_map *m = container_of(l, struct mem_map, space_link);
		next = l->next;
		if (m->va >= va && m->va < end)
			map_remove(m);
	}
	return VR_OK;
}

int mem_protect(struct vm_space *vs, uintptr_t va, unsigned prot)
{
	struct mem_map *m = map_find(vs, va);

	if (!m || m->va != va)
		return VR_ENOENT;
	if (prot & ~m->max_prot)
		return VR_ECAP_RIGHTS;
	m->prot = prot;
	/* drop the leaves: the next access faults them in with the new
	 * protection (and a shared page stays read-only) */
	for (uint64_t i = 0; i < m->npages; i++)
		vm_unmap(vs, m->va + i * PAGE_SIZE);
	KCHECK(mem_obj_check(m->mo));
	return VR_OK;
}

void mem_unmap_all(struct vm_space *vs)
{
	struct list *l;

	while ((l = vs->maps.next) != &vs->maps)
		map_remove(container_of(l, struct mem_map, space_link));
}

int mem_map_anon(struct vm_space *vs, struct quota *q, uintptr_t va, uint64_t npages, unsigned prot,
		 uint64_t eager)
{
	struct mem_obj *mo;
	int err = mem_obj_create(q, npages, &mo);

	if (err)
		return err;
	err = mem_map_check(vs, mo, va, 0, npages);
	if (!err)
		err = mem_map(vs, mo, va, 0, npages, prot, prot, 0);
	if (err) {
		obj_free(mo);
		return err;
	}
	for (uint64_t i = npages - MIN(eager, npages); i < npages && !err; i++)
		err = mem_fault(vs, va + i * PAGE_SIZE, HAL_ACCESS_WRITE);
	return err; /* on error the caller destroys the space, and with it the object */
}

void mem_get_stats(struct mem_stats *st)
{
	*st = mem.stats;
}

void mem_fill_meminfo(struct vr_meminfo *m)
{
	struct kheap_stats ks;
	struct pmm_stats ps;

	kheap_get_stats(&ks);
	pmm_get_stats(&ps);
	m->slab_pages = ks.slab_pages;
	m->slab_objects = ks.objects;
	m->table_pages = vm_table_pages_total();
	m->object_pages = mem.stats.frames;
	m->shared_frames = ps.shared_frames;
	m->mem_objects = mem.stats.objects;
	m->user_pages += mem.stats.frames;
	m->kernel_pages = m->total_pages - m->free_pages - m->user_pages;
}

/* Invariant 3 for one mapping. */
static bool map_leaves_ok(const struct mem_map *m)
{
	for (uint64_t i = 0; i < m->npages; i++) {
		uint64_t pte = vm_lookup(m->vs, m->va + i * PAGE_SIZE);
		uint64_t pa = m->mo->pages[m->first + i];
		if (!(pte & PTE_P))
			continue;
		if ((pte & PTE_ADDR_MASK) != pa || (pte & PTE_OWNED))
			return false;
		if ((pte & PTE_W) && (!(m->prot & VM_WRITE) || pmm_frame_refs(pa) != 1))
			return false;
	}
	return true;
}

bool mem_obj_check(const struct mem_obj *mo)
{
	uint64_t resident = 0, nmaps = 0;
	const struct list *l;

	for (uint64_t i = 0; i < mo->npages; i++)
		resident += mo->pages[i] != 0;
	if (resident != mo->resident)
		return false;
	if (mo->charged != sizeof(*mo) + (mo->pages_frames + resident) * PAGE_SIZE)
		return false;
	list_for_each(l, &mo->maps) {
		const struct mem_map *m = container_of(l, struct mem_map, obj_link);
		if (m->mo != mo || m->first + m->npages > mo->npages || !map_leaves_ok(m))
			return false;
		nmaps++;
	}
	return nmaps == mo->nmaps;
}

bool mem_check_all(void)
{
	const struct list *l;
	uint64_t n = 0;

	list_for_each(l, &mem.all) {
		if (!mem_obj_check(container_of(l, struct mem_obj, all_link)))
			return false;
		n++;
	}
	return n == mem.stats.objects;
}
