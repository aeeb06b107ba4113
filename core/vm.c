/*
 * Page tables. Layout of a space:
 *   PML4 entries 0..255   user half; entry 0 is filled by hal_vm_space_init()
 *                         with the kernel's mappings (supervisor only) on
 *                         x86_64; user mappings live at VR_SLOT_BASE and up.
 *   PML4 entries 256..511 unused (kernel mappings could move here).
 * Intermediate entries are present+writable+user; permissions are decided
 * at the leaf, as on hardware. User leaves are 4 KiB PTEs, 2 MiB PDEs
 * (PS=1) or 1 GiB PDPTEs (PS=1, only if the MMU has them: vm_page_sizes()).
 *
 * Levels are numbered as the walk sees them: 3 = PML4 entry, 2 = PDPTE
 * (a 1 GiB leaf), 1 = PDE (a 2 MiB leaf), 0 = PTE (a 4 KiB leaf).
 *
 * A huge leaf changes size in two ways, each named by its function:
 *   huge leaf --split_entry()--> table of 512 leaves of the next size, same
 *                                frames and bits (nothing the user sees changes)
 *   table     --vm_set_huge_leaf()--> huge leaf; the tables below are freed
 *                                (their leaves must not own their frames)
 *
 * Invariants (vm_space_check):
 *  1. table_pages == number of intermediate tables reachable from the user
 *     PML4 entries this code created (index >= VM_FIRST_USER_PML4).
 *  2. mapped_pages == 4 KiB pages covered by present leaves (a 2 MiB leaf
 *     counts 512); owned_pages == 4 KiB leaves with PTE_OWNED;
 *     leaves_2m / leaves_1g == present huge leaves of each size.
 *  3. Every leaf created here has PTE_U and a frame aligned to its size;
 *     a huge leaf never has PTE_OWNED (only memory objects map huge pages,
 *     and a dropped huge leaf can always be faulted back in); a 1 GiB leaf
 *     exists only if the MMU maps 1 GiB pages.
 *  4. Every page-table frame below the PML4 is charged to vs->quota.
 * Every leaf change goes through vm_tlb_shootdown() before the frame it
 * named can be reused.
 */
#include "veridian/abi.h"
#include "veridian/hal.h"
#include "veridian/klib.h"
#include "veridian/pmm.h"
#include "veridian/quota.h"
#include "veridian/vm.h"

#define VM_FIRST_USER_PML4 1u /* entry 0 belongs to the kernel */
#define VM_LAST_USER_PML4 255u
#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U)
#define VM_BOOT_CPU 1ull /* the CPU mask of every space: one CPU today */

static vm_resolve_fn resolver;
static uint64_t table_pages_total;
static uint64_t huge_leaves_total[2]; /* [0]: 2 MiB, [1]: 1 GiB */
static uint64_t page_sizes = VM_PAGE_SIZES_DEFAULT;

void vm_set_resolver(vm_resolve_fn fn)
{
	resolver = fn;
}

void vm_set_page_sizes(bool has_1g)
{
	page_sizes = VM_PAGE_SIZES_DEFAULT | (has_1g ? VM_SIZE_1G : 0);
}

uint64_t vm_page_sizes(void)
{
	return page_sizes;
}

uint64_t vm_table_pages_total(void)
{
	return table_pages_total;
}

uint64_t vm_huge_leaves_total(uint64_t size)
{
	return huge_leaves_total[size == VM_SIZE_1G];
}

void vm_tlb_shootdown(uint64_t cpus, uint64_t pml4_pa, uintptr_t va, size_t len)
{
	KASSERT((cpus & ~VM_BOOT_CPU) == 0); /* no other CPU is running yet */
	if (cpus & VM_BOOT_CPU)
		hal_vm_invalidate(pml4_pa, va, len);
}

static unsigned idx(uintptr_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * level)) & 511u;
}

/* Bytes one entry at `level` maps. */
static uint64_t level_size(int level)
{
	return 1ull << (12 + 9 * level);
}

static uint64_t *table_at(uint64_t entry)
{
	return phys_to_virt(entry & PTE_ADDR_MASK);
}

/* A huge leaf: PS set on a PDE or PDPTE (at a PTE, bit 7 is PAT). */
static bool is_huge(uint64_t e, int level)
{
	return level > 0 && (e & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS);
}

bool vm_is_user_addr(uintptr_t va)
{
	unsigned i = idx(va, 3);
	return va < 0x800000000000ull && i >= VM_FIRST_USER_PML4 && i <= VM_LAST_USER_PML4;
}

int vm_space_init_quota(struct vm_space *vs, struct quota *q)
{
	uint64_t pa;

	if (quota_charge(q, PAGE_SIZE))
		return VR_ENOMEM;
	pa = pmm_alloc(1, 1);
	if (!pa) {
		quota_uncharge(q, PAGE_SIZE);
		return VR_ENOMEM;
	}
	*vs = (struct vm_space){
		.pml4_pa = pa, .pml4 = phys_to_virt(pa), .cpus = VM_BOOT_CPU, .quota = q
	};
	list_init(&vs->maps);
	hal_vm_space_init(vs->pml4);
	KCHECK(vm_space_check(vs));
	return VR_OK;
}

int vm_space_init(struct vm_space *vs)
{
	return vm_space_init_quota(vs, NULL);
}

/* A new page table for `vs`, charged to its quota; 0 when either is spent. */
static uint64_t table_alloc(struct vm_space *vs)
{
	uint64_t pa;

	if (quota_charge(vs->quota, PAGE_SIZE))
		return 0;
	pa = pmm_alloc(1, 1);
	if (!pa) {
		quota_uncharge(vs->quota, PAGE_SIZE);
		return 0;
	}
	vs->table_pages++;
	table_pages_total++;
	return pa;
}

static void table_free(struct vm_space *vs, uint64_t pa)
{
	pmm_free(pa, 1);
	vs->table_pages--;
	table_pages_total--;
	quota_uncharge(vs->quota, PAGE_SIZE);
}

/* Count a huge leaf of `level` in (+1) or out (-1) of the counters. */
static void count_huge(struct vm_space *vs, int level, int sign)
{
	uint64_t pages = level_size(level) / PAGE_SIZE;

	if (sign > 0) {
		vs->mapped_pages += pages;
		huge_leaves_total[level == 2]++;
		if (level == 2)
			vs->leaves_1g++;
		else
			vs->leaves_2m++;
	} else {
		vs->mapped_pages -= pages;
		huge_leaves_total[level == 2]--;
		if (level == 2)
			vs->leaves_1g--;
		else
			vs->leaves_2m--;
	}
}

/* Replace the huge leaf *e of `level` (covering va) by a table of 512
 * leaves of the next size with the same frames and bits. VR_ENOMEM if no
 * table can be had; the leaf is then unchanged. */
static int split_entry(struct vm_space *vs, uint64_t *e, int level, uintptr_t va)
{
	uint64_t pa = table_alloc(vs), old = *e, sub = level_size(level - 1);
	uint64_t base = old & PTE_ADDR_MASK, bits = old & ~PTE_ADDR_MASK;
	uint64_t *t;

	if (!pa)
		return VR_ENOMEM;
	KASSERT(is_huge(old, level) && !(old & PTE_OWNED)); /* invariant 3 */
	if (level == 1)
		bits &= ~PTE_PS; /* a PTE's bit 7 is PAT */
	t = phys_to_virt(pa);
	for (unsigned i = 0; i < 512; i++)
		t[i] = (base + i * sub) | bits;
	count_huge(vs, level, -1);
	if (level == 2) {
		for (unsigned i = 0; i < 512; i++)
			count_huge(vs, 1, +1);
	} else {
		vs->mapped_pages += 512;
	}
	*e = pa | TABLE_FLAGS;
	/* the TLB may hold the old size: drop it (the SDM asks for this
	 * before the smaller pages are used) */
	vm_tlb_shootdown(vs->cpus, vs->pml4_pa, ALIGN_DOWN(va, level_size(level)),
			 level_size(level));
	return VR_OK;
}

/* The entry for va at `level` (0: a PTE .. 2: a PDPTE). With `create`,
 * missing tables are allocated and huge leaves above `level` are split.
 * NULL if a table is missing (or a huge leaf is in the way) without
 * `create`, or on VR_ENOMEM. */
static uint64_t *entry_at(struct vm_space *vs, uintptr_t va, int level, bool create)
{
	uint64_t *table = vs->pml4;

	for (int l = 3; l > level; l--) {
		uint64_t *e = &table[idx(va, l)];
		if (l < 3 && is_huge(*e, l) && (!create || split_entry(vs, e, l, va)))
			return NULL;
		if (!(*e & PTE_P)) {
			uint64_t pa;
			if (!create || !(pa = table_alloc(vs)))
				return NULL;
			*e = pa | TABLE_FLAGS;
		}
		table = table_at(*e);
	}
	return &table[idx(va, level)];
}

/* The 4 KiB leaf entry for va (splitting huge leaves with `create`). */
static uint64_t *walk(struct vm_space *vs, uintptr_t va, bool create)
{
	return entry_at(vs, va, 0, create);
}

/* The present leaf covering va and its level, or NULL. */
static uint64_t *leaf_of(const struct vm_space *vs, uintptr_t va, int *level)
{
	uint64_t *table = vs->pml4;

	if (!vm_is_user_addr(va))
		return NULL;
	for (int l = 3; l >= 0; l--) {
		uint64_t *e = &table[idx(va, l)];
		if (!(*e & PTE_P))
			return NULL;
		if (l == 0 || (l < 3 && is_huge(*e, l))) {
			*level = l;
			return e;
		}
		table = table_at(*e);
	}
	return NULL;
}

static uint64_t leaf_bits(unsigned prot, bool owned)
{
	uint64_t bits = PTE_P | PTE_U;
	if (prot & VM_WRITE)
		bits |= PTE_W;
	if (!(prot & VM_EXEC))
		bits |= PTE_NX;
	if (owned)
		bits |= PTE_OWNED;
	return bits;
}

int vm_map(struct vm_space *vs, uintptr_t va, uint64_t pa, unsigned prot, bool owned)
{
	uint64_t *pte;

	if (!IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(pa, PAGE_SIZE) || !vm_is_user_addr(va))
		return VR_EINVAL;
	pte = walk(vs, va, true);
	if (!pte)
		return VR_ENOMEM;
	if (*pte & PTE_P)
		return VR_EBUSY;
	*pte = pa | leaf_bits(prot, owned);
	vs->mapped_pages++;
	if (owned)
		vs->owned_pages++;
	vm_tlb_shootdown(vs->cpus, vs->pml4_pa, va, PAGE_SIZE);
	return VR_OK;
}

int vm_set_leaf(struct vm_space *vs, uintptr_t va, uint64_t pa, unsigned prot)
{
	uint64_t *pte;

	if (!IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(pa, PAGE_SIZE) || !vm_is_user_addr(va))
		return VR_EINVAL;
	pte = walk(vs, va, true);
	if (!pte)
		return VR_ENOMEM;
	KASSERT(!(*pte & PTE_OWNED)); /* an object page never replaces an owned one */
	if (!(*pte & PTE_P))
		vs->mapped_pages++;
	*pte = pa | leaf_bits(prot, false);
	vm_tlb_shootdown(vs->cpus, vs->pml4_pa, va, PAGE_SIZE);
	return VR_OK;
}

/* Clear one leaf (of any level) at e covering va; frees an owned frame. */
static void leaf_clear(struct vm_space *vs, uint64_t *e, int level, uintptr_t va)
{
	uint64_t old = *e, size = level_size(level);

	*e = 0;
	if (level > 0)
		count_huge(vs, level, -1);
	else
		vs->mapped_pages--;
	vm_tlb_shootdown(vs->cpus, vs->pml4_pa, ALIGN_DOWN(va, size), size);
	if (old & PTE_OWNED) {
		vs->owned_pages--;
		pmm_free(old & PTE_ADDR_MASK, 1);
	}
}

/* Free the table under entry e of `level` and everything below it (a huge
 * leaf replaces it). Leaves below must not own their frames. */
static void subtree_free(struct vm_space *vs, uint64_t e, int level, uintptr_t va)
{
	uint64_t *t = table_at(e);

	for (unsigned i = 0; i < 512; i++) {
		uintptr_t sub = va + i * level_size(level - 1);
		if (!(t[i] & PTE_P))
			continue;
		KASSERT(!(t[i] & PTE_OWNED));
		if (level - 1 == 0 || is_huge(t[i], level - 1))
			leaf_clear(vs, &t[i], level - 1, sub);
		else
			subtree_free(vs, t[i], level - 1, sub);
	}
	table_free(vs, e & PTE_ADDR_MASK);
}

int vm_set_huge_leaf(struct vm_space *vs, uintptr_t va, uint64_t pa, uint64_t size, unsigned prot)
{
	int level = size == VM_SIZE_1G ? 2 : 1;
	uint64_t *e;

	if ((size != VM_SIZE_2M && size != VM_SIZE_1G) || !(page_sizes & size) ||
	    !IS_ALIGNED(va, size) || !IS_ALIGNED(pa, size) || !vm_is_user_addr(va))
		return VR_EINVAL;
	e = entry_at(vs, va, level, true);
	if (!e)
		return VR_ENOMEM;
	if (is_huge(*e, level))
		count_huge(vs, level, -1);
	else if (*e & PTE_P)
		subtree_free(vs, *e, level, va); /* collapse: the 4 KiB leaves go */
	*e = pa | leaf_bits(prot, false) | PTE_PS;
	count_huge(vs, level, +1);
	vm_tlb_shootdown(vs->cpus, vs->pml4_pa, va, size);
	return VR_OK;
}

int vm_split(struct vm_space *vs, uintptr_t va)
{
	int level;
	uint64_t *e = leaf_of(vs, va, &level);

	if (!e || level == 0)
		return VR_ENOENT;
	return split_entry(vs, e, level, va);
}

int vm_unmap(struct vm_space *vs, uintptr_t va)
{
	int level;
	uint64_t *e = leaf_of(vs, va, &level);

	if (!e)
		return VR_ENOENT;
	leaf_clear(vs, e, level, va);
	return VR_OK;
}

/* Make `at` a leaf boundary: split a huge leaf that covers it (not at its
 * start), or drop it when no table can be had (never owned: invariant 3). */
static void break_at(struct vm_space *vs, uintptr_t at)
{
	int level;
	uint64_t *e;

	while ((e = leaf_of(vs, at, &level)) && level > 0 && !IS_ALIGNED(at, level_size(level)))
		if (split_entry(vs, e, level, at))
			leaf_clear(vs, e, level, at);
}

void vm_break(struct vm_space *vs, uintptr_t at)
{
	if (vm_is_user_addr(at))
		break_at(vs, at);
}

void vm_unmap_range(struct vm_space *vs, uintptr_t va, size_t len)
{
	uintptr_t end = va + len;

	KASSERT(IS_ALIGNED(va, PAGE_SIZE) && IS_ALIGNED(len, PAGE_SIZE) && end >= va);
	break_at(vs, va);
	break_at(vs, end);
	while (va < end) {
		uint64_t *table = vs->pml4, *e = NULL;
		int l;

		if (!vm_is_user_addr(va))
			return;
		for (l = 3; l >= 0; l--) {
			e = &table[idx(va, l)];
			if (!(*e & PTE_P) || l == 0 || (l < 3 && is_huge(*e, l)))
				break;
			table = table_at(*e);
		}
		if (*e & PTE_P)
			leaf_clear(vs, e, l, va); /* inside [va, end): break_at saw to it */
		/* next entry at this level (a whole missing table is skipped) */
		if (end - va <= level_size(l) - (va & (level_size(l) - 1)))
			return;
		va = ALIGN_DOWN(va, level_size(l)) + level_size(l);
	}
}

int vm_leaf_clear_write(struct vm_space *vs, uintptr_t va)
{
	int level;
	uint64_t *e = leaf_of(vs, va, &level);

	if (!e)
		return VR_ENOENT;
	if (*e & PTE_W) {
		*e &= ~PTE_W;
		vm_tlb_shootdown(vs->cpus, vs->pml4_pa, ALIGN_DOWN(va, level_size(level)),
				 level_size(level));
	}
	return VR_OK;
}

int vm_map_anon(struct vm_space *vs, uintptr_t va, size_t npages, unsigned prot)
{
	for (size_t i = 0; i < npages; i++) {
		uint64_t pa = pmm_alloc(1, 1);
		int err = pa ? vm_map(vs, va + i * PAGE_SIZE, pa, prot, true) : VR_ENOMEM;
		if (err) {
			if (pa && err != VR_OK)
				pmm_free(pa, 1);
			while (i-- > 0)
				vm_unmap(vs, va + i * PAGE_SIZE);
			return err;
		}
	}
	KCHECK(vm_space_check(vs));
	return VR_OK;
}

uint64_t vm_lookup_size(const struct vm_space *vs, uintptr_t va, uint64_t *size)
{
	int level;
	const uint64_t *e = leaf_of(vs, va, &level);
	uint64_t off;

	if (!e)
		return 0;
	if (size)
		*size = level_size(level);
	if (level == 0)
		return *e;
	/* the 4 KiB page of va inside the huge leaf, as a PTE would name it */
	off = va & (level_size(level) - 1) & ~(PAGE_SIZE - 1);
	return (*e & ~PTE_ADDR_MASK) | ((*e & PTE_ADDR_MASK) + off);
}

uint64_t vm_lookup(const struct vm_space *vs, uintptr_t va)
{
	return vm_lookup_size(vs, va, NULL);
}

/* A kernel access on behalf of the process found the page absent or read
 * only: let core/mem.c resolve it as the process's own access would be
 * (demand-zero, copy-on-write). Resolving changes the tables, not what the
 * space means, so the const of the callers' view is cast away here. */
static bool resolve(const struct vm_space *vs, uintptr_t va, bool write)
{
	uint64_t need = PTE_P | PTE_U | (write ? PTE_W : 0);

	if (!resolver || resolver((struct vm_space *)vs, va, write ? HAL_ACCESS_WRITE : 0))
		return false;
	return (vm_lookup(vs, va) & need) == need;
}

/* Copy between kernel memory and user memory one page at a time; `to_user`
 * selects the direction and requires PTE_W. */
static int copy_user(const struct vm_space *vs, uintptr_t uva, void *kbuf, size_t n, bool to_user)
{
	uint64_t need = PTE_P | PTE_U | (to_user ? PTE_W : 0);
	char *k = kbuf;

	if (uva + n < uva)
		return VR_EFAULT;
	while (n) {
		uint64_t pte = vm_lookup(vs, uva);
		size_t off = uva & (PAGE_SIZE - 1), chunk = MIN(n, PAGE_SIZE - off);
		char *p;

		if ((pte & need) != need) {
			if (!resolve(vs, uva, to_user))
				return VR_EFAULT;
			pte = vm_lookup(vs, uva);
		}
		p = (char *)phys_to_virt(pte & PTE_ADDR_MASK) + off;
		if (to_user)
			memcpy(p, k, chunk);
		else
			memcpy(k, p, chunk);
		k += chunk;
		uva += chunk;
		n -= chunk;
	}
	return VR_OK;
}

bool vm_user_range_ok(const struct vm_space *vs, uintptr_t va, size_t n, bool write)
{
	uint64_t need = PTE_P | PTE_U | (write ? PTE_W : 0);
	uintptr_t end = va + n;

	if (end < va)
		return false;
	for (uintptr_t p = ALIGN_DOWN(va, PAGE_SIZE); p < end; p += PAGE_SIZE)
		if ((vm_lookup(vs, p) & need) != need && !resolve(vs, p, write))
			return false;
	return true;
}

int vm_copy_from_user(const struct vm_space *vs, void *dst, uintptr_t src, size_t n)
{
	return copy_user(vs, src, dst, n, false);
}

int vm_copy_to_user(const struct vm_space *vs, uintptr_t dst, const void *src, size_t n)
{
	return copy_user(vs, dst, (void *)src, n, true);
}

int vm_copy_str_from_user(const struct vm_space *vs, char *dst, uintptr_t src, size_t max)
{
	for (size_t i = 0; i < max; i++) {
		int err = copy_user(vs, src + i, &dst[i], 1, false);
		if (err)
			return err;
		if (!dst[i])
			return (int)i;
	}
	return VR_E2BIG;
}

/* Free the tables below `e` at `level` (3 = a PDPT under a PML4 entry),
 * unmapping leaves first. */
static void destroy_level(struct vm_space *vs, uint64_t e, int level, uintptr_t va)
{
	uint64_t *t = table_at(e);

	for (unsigned i = 0; i < 512; i++) {
		uintptr_t sub = va | ((uintptr_t)i << (12 + 9 * (level - 1)));
		if (!(t[i] & PTE_P))
			continue;
		if (level - 1 == 0 || is_huge(t[i], level - 1))
			leaf_clear(vs, &t[i], level - 1, sub);
		else
			destroy_level(vs, t[i], level - 1, sub);
	}
	table_free(vs, e & PTE_ADDR_MASK);
}

void vm_space_destroy(struct vm_space *vs)
{
	for (unsigned i = VM_FIRST_USER_PML4; i <= VM_LAST_USER_PML4; i++) {
		if (vs->pml4[i] & PTE_P) {
			destroy_level(vs, vs->pml4[i], 3, (uintptr_t)i << 39);
			vs->pml4[i] = 0;
		}
	}
	KASSERT(vs->mapped_pages == 0 && vs->owned_pages == 0 && vs->table_pages == 0);
	KASSERT(vs->leaves_2m == 0 && vs->leaves_1g == 0);
	KASSERT(list_empty(&vs->maps)); /* core/mem.c removed its mappings first */
	pmm_free(vs->pml4_pa, 1);
	quota_uncharge(vs->quota, PAGE_SIZE);
	vs->pml4 = NULL;
	vs->pml4_pa = 0;
}

struct vm_count {
	uint64_t tables, mapped, owned, huge[2];
	bool ok;
};

/* Invariant 3 for a huge leaf e of `level`. */
static bool huge_leaf_ok(uint64_t e, int level)
{
	uint64_t size = level_size(level);

	return (e & PTE_U) && !(e & PTE_OWNED) && IS_ALIGNED(e & PTE_ADDR_MASK, size) &&
	       (page_sizes & size);
}

/* Entries of table t, which sit at `level` (2: PDPTEs .. 0: PTEs). */
static void count_level(const uint64_t *t, int level, struct vm_count *c)
{
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i];
		if (!(e & PTE_P))
			continue;
		if (level == 0) {
			c->mapped++;
			c->owned += !!(e & PTE_OWNED);
			c->ok &= !!(e & PTE_U);
			continue;
		}
		if (is_huge(e, level)) {
			c->ok &= huge_leaf_ok(e, level);
			c->mapped += level_size(level) / PAGE_SIZE;
			c->huge[level - 1]++;
			continue;
		}
		c->ok &= (e & TABLE_FLAGS) == TABLE_FLAGS;
		c->tables++;
		count_level(table_at(e), level - 1, c);
	}
}

bool vm_space_check(const struct vm_space *vs)
{
	struct vm_count c = { .ok = true };

	if (!vs->pml4 || virt_to_phys(vs->pml4) != vs->pml4_pa)
		return false;
	for (unsigned i = VM_FIRST_USER_PML4; i <= VM_LAST_USER_PML4; i++) {
		uint64_t e = vs->pml4[i];
		if (!(e & PTE_P))
			continue;
		c.ok &= (e & TABLE_FLAGS) == TABLE_FLAGS && !(e & PTE_PS);
		c.tables++;
		count_level(table_at(e), 2, &c);
	}
	return c.ok && c.tables == vs->table_pages && c.mapped == vs->mapped_pages &&
	       c.owned == vs->owned_pages && c.huge[0] == vs->leaves_2m &&
	       c.huge[1] == vs->leaves_1g;
}
