/*
 * Memory objects and their mappings (see mem.h).
 *
 * A page of an object goes through these states; the function behind each
 * transition is named:
 *
 *   absent --page_fill() (first touch)--> private (frame refs 1: mapped as the mapping says)
 *   absent --mem_obj_create_huge()-------> private (all pages at once, in aligned runs)
 *   private --mem_obj_copy_range()--> shared (refs > 1: mapped read-only everywhere)
 *   shared --cow_break() (write fault)--> private (a copy; the other side keeps the old frame)
 *   shared --the other object drops it--> private (the next write fault just upgrades)
 *
 * A mapping is shown by leaves of the page tables: 4 KiB leaves, or huge
 * leaves (leaf_size()) where the object is a huge one, the mapping covers
 * a whole aligned run of the object's pages and their frames are still
 * the contiguous run they were created as (a copy-on-write break replaces
 * one frame, and its run goes back to 4 KiB leaves). A leaf can always be
 * dropped: the next access faults it back in, so a protection change, a
 * cut of a mapping or a break drops leaves rather than edit them.
 *
 * Mappings are cut (map_cut()) at the edges of a partial unmap or protect;
 * the records a cut needs are allocated before anything changes.
 *
 * Invariants (mem_obj_check):
 *  1. resident == number of non-zero pages[]; every such frame is allocated.
 *  2. nmaps == length of maps; each mapping lies inside the object and names it.
 *  3. A present leaf of a mapping names pages[i] of its object, and is
 *     writable only if the mapping has VM_WRITE and the frame has one reference.
 *  4. charged == the object's bytes (record, page array, resident pages),
 *     all charged to quota.
 *  5. The object is alive only while obj.ncaps > 0 or nmaps > 0.
 *  6. A huge object (page_size > 4 KiB) has every page resident.
 *  7. A huge leaf lies wholly inside one mapping and starts at a page of
 *     the object that is a multiple of the leaf's size (with 3, its frames
 *     are exactly the object's pages there).
 * And per space: mappings never overlap (mem_map_check; cuts keep it).
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
	mo->page_size = PAGE_SIZE;
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
	if (mo->page_size > PAGE_SIZE)
		mem.stats.huge_objects--;
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

/* Back pages [at, at + size/4 KiB) of mo with one aligned run of zeroed
 * frames, charged to its quota. */
static int run_fill(struct mem_obj *mo, uint64_t at, uint64_t size)
{
	uint64_t n = size / PAGE_SIZE, pa;

	if (quota_charge(mo->quota, size))
		return VR_ENOMEM;
	pa = pmm_alloc(n, n);
	if (!pa) {
		quota_uncharge(mo->quota, size);
		return VR_ENOMEM;
	}
	for (uint64_t k = 0; k < n; k++)
		mo->pages[at + k] = pa + k * PAGE_SIZE;
	mo->resident += n;
	mo->charged += size;
	mem.stats.frames += n;
	return VR_OK;
}

int mem_obj_create_huge(struct quota *q, uint64_t npages, uint64_t page_size, struct mem_obj **out)
{
	uint64_t per = page_size / PAGE_SIZE;
	struct mem_obj *mo;
	int err;

	if ((page_size != VM_SIZE_2M && page_size != VM_SIZE_1G) || npages == 0 ||
	    npages > MEM_MAX_PAGES || npages % per)
		return VR_EINVAL;
	err = mem_obj_create(q, npages, &mo);
	if (err)
		return err;
	for (uint64_t at = 0; !err && at < npages; at += per)
		err = run_fill(mo, at, page_size);
	if (err) {
		obj_free(mo); /* gives back the runs already filled */
		return err;
	}
	mo->page_size = page_size;
	mem.stats.huge_objects++;
	KCHECK(mem_obj_check(mo));
	*out = mo;
	return VR_OK;
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

/* The leaf (of any size) showing the page goes read-only. */
static void leaf_make_readonly(struct mem_map *m, uintptr_t va, uint64_t pte)
{
	if (pte & PTE_W)
		vm_leaf_clear_write(m->vs, va);
}

/* The leaf showing the page goes; a huge leaf goes whole. */
static void leaf_drop(struct mem_map *m, uintptr_t va, uint64_t pte)
{
	(void)pte;
	vm_unmap(m->vs, va);
}

int mem_obj_copy_range(struct quota *q, struct mem_obj *src, uint64_t first, uint64_t npages,
		       struct mem_obj **out)
{
	uint64_t shared = 0;
	struct mem_obj *mo;
	int err;

	KASSERT(npages > 0 && first <= src->npages && npages <= src->npages - first);
	for (uint64_t i = first; i < first + npages; i++)
		shared += src->pages[i] != 0;
	err = mem_obj_create(q, npages, &mo);
	if (err)
		return err;
	/* the copy pays for every page it shares now: a later write fault
	 * then never needs a charge it could fail */
	if (quota_charge(q, shared * PAGE_SIZE)) {
		obj_free(mo);
		return VR_ENOMEM;
	}
	mo->charged += shared * PAGE_SIZE;
	for (uint64_t i = 0; i < npages; i++) {
		if (!src->pages[first + i])
			continue;
		pmm_frame_ref(src->pages[first + i]);
		mo->pages[i] = src->pages[first + i];
		mo->resident++;
		for_each_leaf_of(src, first + i, leaf_make_readonly);
	}
	if (src->page_size > PAGE_SIZE && IS_ALIGNED(first * PAGE_SIZE, src->page_size) &&
	    IS_ALIGNED(npages * PAGE_SIZE, src->page_size)) {
		mo->page_size = src->page_size; /* invariant 6: src has every page */
		mem.stats.huge_objects++;
	}
	KCHECK(mem_obj_check(src) && mem_obj_check(mo));
	*out = mo;
	return VR_OK;
}

int mem_obj_copy(struct quota *q, struct mem_obj *src, struct mem_obj **out)
{
	return mem_obj_copy_range(q, src, 0, src->npages, out);
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

static uintptr_t map_end(const struct mem_map *m)
{
	return m->va + m->npages * PAGE_SIZE;
}

/* Can pages [first, first + n) of mo be shown by one leaf: contiguous
 * frames from an address aligned to n pages? *shared: one of them has
 * another reference (the leaf must then be read-only). */
static bool run_intact(const struct mem_obj *mo, uint64_t first, uint64_t n, bool *shared)
{
	uint64_t pa = mo->pages[first];

	if (!pa || !IS_ALIGNED(pa, n * PAGE_SIZE))
		return false;
	*shared = false;
	for (uint64_t k = 0; k < n; k++) {
		if (mo->pages[first + k] != pa + k * PAGE_SIZE)
			return false;
		*shared |= pmm_frame_refs(pa + k * PAGE_SIZE) > 1;
	}
	return true;
}

/* The largest leaf that may show va of m (invariant 7), with *prot
 * reduced to read-only if a frame under it is shared. A write needs a
 * writable leaf: a run with a shared frame elsewhere in it cannot give
 * one (the retried write would fault again, forever), so it gets 4 KiB. */
static uint64_t leaf_size(const struct mem_map *m, uintptr_t va, bool write, unsigned *prot)
{
	static const uint64_t sizes[] = { VM_SIZE_1G, VM_SIZE_2M };
	const struct mem_obj *mo = m->mo;

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t size = sizes[i], n = size / PAGE_SIZE;
		uintptr_t base = ALIGN_DOWN(va, size);
		uint64_t first = m->first + (base - m->va) / PAGE_SIZE;
		bool shared;

		if (mo->page_size < size || !(vm_page_sizes() & size) || base < m->va ||
		    map_end(m) - base < size || first % n)
			continue;
		if (!run_intact(mo, first, n, &shared) || (shared && write))
			continue;
		if (shared)
			*prot &= ~VM_WRITE;
		return size;
	}
	return PAGE_SIZE;
}

/* Install the leaf for page idx at va for an access (`write`): huge where
 * leaf_size() allows. */
static int leaf_install(struct mem_map *m, uintptr_t va, uint64_t idx, bool write)
{
	struct mem_obj *mo = m->mo;
	unsigned prot = m->prot;
	uint64_t size;

	if (pmm_frame_refs(mo->pages[idx]) > 1)
		prot &= ~VM_WRITE; /* invariant 3 */
	size = leaf_size(m, va, write, &prot);
	if (size > PAGE_SIZE) {
		uintptr_t base = ALIGN_DOWN(va, size);
		uint64_t first = m->first + (base - m->va) / PAGE_SIZE;
		return vm_set_huge_leaf(m->vs, base, mo->pages[first], size, prot);
	}
	return vm_set_leaf(m->vs, ALIGN_DOWN(va, PAGE_SIZE), mo->pages[idx], prot);
}

int mem_fault(struct vm_space *vs, uintptr_t va, unsigned access)
{
	struct mem_map *m = map_find(vs, va);
	struct mem_obj *mo;
	uint64_t idx;
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
	err = leaf_install(m, va, idx, access & HAL_ACCESS_WRITE);
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

int mem_map_private(struct vm_space *vs, struct quota *q, struct mem_obj *mo, uintptr_t va,
		    uint64_t first, uint64_t npages, unsigned prot, unsigned max_prot,
		    struct mem_obj **copy)
{
	struct mem_obj *c;
	int err = mem_obj_copy_range(q, mo, first, npages, &c);

	if (err)
		return err;
	err = mem_map(vs, c, va, 0, npages, prot, max_prot, MEM_MAP_PRIVATE);
	if (err) {
		obj_free(c); /* no capability, no mapping */
		return err;
	}
	if (copy)
		*copy = c;
	return VR_OK;
}

/* Remove one mapping and its leaves; the object goes with its last user. */
static void map_remove(struct mem_map *m)
{
	struct mem_obj *mo = m->mo;

	vm_unmap_range(m->vs, m->va, m->npages * PAGE_SIZE);
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

/* Records for the cuts of one unmap or protect (at most two: one mapping
 * may cross each edge), allocated and charged before anything changes. */
struct spares {
	struct mem_map *m[2];
	unsigned n;
};

static void spares_put(struct vm_space *vs, struct spares *sp)
{
	while (sp->n) {
		kfree(sp->m[--sp->n]);
		quota_uncharge(vs->quota, sizeof(struct mem_map));
	}
}

static int spares_get(struct vm_space *vs, unsigned n, struct spares *sp)
{
	sp->n = 0;
	while (sp->n < n) {
		struct mem_map *m = NULL;
		if (!quota_charge(vs->quota, sizeof(*m)) && !(m = kzalloc(sizeof(*m))))
			quota_uncharge(vs->quota, sizeof(*m));
		if (!m) {
			spares_put(vs, sp);
			return VR_ENOMEM;
		}
		sp->m[sp->n++] = m;
	}
	return VR_OK;
}

/* Does m overlap [va, end)? */
static bool map_overlaps(const struct mem_map *m, uintptr_t va, uintptr_t end)
{
	return m->va < end && va < map_end(m);
}

/* How many mappings of vs cross an edge of [va, end) (cuts needed). */
static unsigned cuts_needed(struct vm_space *vs, uintptr_t va, uintptr_t end)
{
	struct list *l;
	unsigned n = 0;

	list_for_each(l, &vs->maps) {
		const struct mem_map *m = container_of(l, struct mem_map, space_link);
		n += m->va < va && va < map_end(m);
		n += m->va < end && end < map_end(m);
	}
	return n;
}

/* Cut m at `at` (strictly inside it): m keeps [m->va, at), the spare
 * record r takes [at, end) with the same object, protection and flags. A
 * huge leaf across `at` is broken (invariant 7). Returns r. */
static struct mem_map *map_cut(struct mem_map *m, uintptr_t at, struct mem_map *r)
{
	uint64_t left = (at - m->va) / PAGE_SIZE;

	*r = *m;
	r->va = at;
	r->first = m->first + left;
	r->npages = m->npages - left;
	m->npages = left;
	list_push_back(&m->mo->maps, &r->obj_link);
	list_push_back(&m->vs->maps, &r->space_link);
	m->mo->nmaps++;
	mem.stats.maps++;
	vm_break(m->vs, at);
	return r;
}

/* Cut the mappings crossing an edge of [va, end) so that every mapping
 * overlapping it lies inside it; sp holds cuts_needed() records. A piece
 * made here is appended to vs->maps, so the walk meets it again, inside. */
static void carve(struct vm_space *vs, uintptr_t va, uintptr_t end, struct spares *sp)
{
	struct list *l;

	list_for_each(l, &vs->maps) {
		struct mem_map *m = container_of(l, struct mem_map, space_link);
		if (!map_overlaps(m, va, end))
			continue;
		if (m->va < va)
			m = map_cut(m, va, sp->m[--sp->n]);
		if (map_end(m) > end)
			map_cut(m, end, sp->m[--sp->n]);
	}
	KASSERT(sp->n == 0);
}

/* A page range of the caller: aligned, not empty, not wrapping. */
static bool range_ok(uintptr_t va, uint64_t npages)
{
	return IS_ALIGNED(va, PAGE_SIZE) && npages > 0 && npages <= (UINTPTR_MAX - va) / PAGE_SIZE;
}

int mem_unmap(struct vm_space *vs, uintptr_t va, uint64_t npages)
{
	uintptr_t end = va + npages * PAGE_SIZE;
	struct list *l, *next;
	struct spares sp;
	bool any = false;
	int err;

	if (!range_ok(va, npages))
		return VR_EINVAL;
	list_for_each(l, &vs->maps)
		any |= map_overlaps(container_of(l, struct mem_map, space_link), va, end);
	if (!any)
		return VR_ENOENT;
	err = spares_get(vs, cuts_needed(vs, va, end), &sp);
	if (err)
		return err;
	carve(vs, va, end, &sp);
	for (l = vs->maps.next; l != &vs->maps; l = next) {
		struct mem_map *m = container_of(l, struct mem_map, space_link);
		next = l->next;
		if (map_overlaps(m, va, end))
			map_remove(m);
	}
	KCHECK(vm_space_check(vs));
	return VR_OK;
}

/* Decoding half of a protect: every page of [va, end) mapped, prot within
 * every mapping's max_prot. */
static int protect_check(struct vm_space *vs, uintptr_t va, uintptr_t end, unsigned prot)
{
	uint64_t covered = 0;
	struct list *l;

	list_for_each(l, &vs->maps) {
		const struct mem_map *m = container_of(l, struct mem_map, space_link);
		if (!map_overlaps(m, va, end))
			continue;
		covered += MIN(end, map_end(m)) - MAX(va, m->va);
		if (prot & ~m->max_prot)
			return VR_ECAP_RIGHTS;
	}
	return covered == end - va ? VR_OK : VR_ENOENT;
}

int mem_protect_range(struct vm_space *vs, uintptr_t va, uint64_t npages, unsigned prot)
{
	uintptr_t end = va + npages * PAGE_SIZE;
	struct spares sp;
	struct list *l;
	int err;

	if (!range_ok(va, npages))
		return VR_EINVAL;
	err = protect_check(vs, va, end, prot);
	if (!err)
		err = spares_get(vs, cuts_needed(vs, va, end), &sp);
	if (err)
		return err;
	carve(vs, va, end, &sp);
	list_for_each(l, &vs->maps) {
		struct mem_map *m = container_of(l, struct mem_map, space_link);
		if (!map_overlaps(m, va, end))
			continue;
		m->prot = prot;
		/* drop the leaves: the next access faults them in with the new
		 * protection (and a shared page stays read-only) */
		vm_unmap_range(vs, m->va, m->npages * PAGE_SIZE);
		KCHECK(mem_obj_check(m->mo));
	}
	KCHECK(vm_space_check(vs));
	return VR_OK;
}

int mem_protect(struct vm_space *vs, uintptr_t va, unsigned prot)
{
	struct mem_map *m = map_find(vs, va);

	if (!m || m->va != va)
		return VR_ENOENT;
	return mem_protect_range(vs, va, m->npages, prot);
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
	m->page_sizes = vm_page_sizes();
	m->leaves_2m = vm_huge_leaves_total(VM_SIZE_2M);
	m->leaves_1g = vm_huge_leaves_total(VM_SIZE_1G);
	m->huge_objects = mem.stats.huge_objects;
	m->user_pages += mem.stats.frames;
	m->kernel_pages = m->total_pages - m->free_pages - m->user_pages;
}

/* Invariant 3 for one mapping. */
/* Invariant 7 for a huge leaf of `size` covering va of m. */
static bool huge_leaf_ok(const struct mem_map *m, uintptr_t va, uint64_t size)
{
	uintptr_t base = ALIGN_DOWN(va, size);

	return base >= m->va && map_end(m) - base >= size &&
	       (m->first + (base - m->va) / PAGE_SIZE) % (size / PAGE_SIZE) == 0;
}

/* Invariants 3 and 7 for one mapping. */
static bool map_leaves_ok(const struct mem_map *m)
{
	for (uint64_t i = 0; i < m->npages; i++) {
		uintptr_t va = m->va + i * PAGE_SIZE;
		uint64_t size, pte = vm_lookup_size(m->vs, va, &size);
		uint64_t pa = m->mo->pages[m->first + i];
		if (!(pte & PTE_P))
			continue;
		if ((pte & PTE_ADDR_MASK) != pa || (pte & PTE_OWNED))
			return false;
		if ((pte & PTE_W) && (!(m->prot & VM_WRITE) || pmm_frame_refs(pa) != 1))
			return false;
		if (size > PAGE_SIZE && !huge_leaf_ok(m, va, size))
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
	if (mo->page_size > PAGE_SIZE && resident != mo->npages)
		return false; /* invariant 6 */
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
