/*
 * Page tables. Layout of a space:
 *   PML4 entries 0..255   user half; entry 0 is filled by hal_vm_space_init()
 *                         with the kernel's mappings (supervisor only) on
 *                         x86_64; user mappings live at VR_SLOT_BASE and up.
 *   PML4 entries 256..511 unused (kernel mappings could move here).
 * Intermediate entries are present+writable+user; permissions are decided
 * at the leaf, as on hardware. Only 4 KiB user leaves are created here.
 *
 * Invariants (vm_space_check):
 *  1. table_pages == number of intermediate tables reachable from the user
 *     PML4 entries this code created (index >= VM_FIRST_USER_PML4).
 *  2. mapped_pages == present leaves; owned_pages == those with PTE_OWNED.
 *  3. Every leaf created here has PTE_U and a page-aligned frame.
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

void vm_set_resolver(vm_resolve_fn fn)
{
	resolver = fn;
}

uint64_t vm_table_pages_total(void)
{
	return table_pages_total;
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

static uint64_t *table_at(uint64_t entry)
{
	return phys_to_virt(entry & PTE_ADDR_MASK);
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

/* Walk to the leaf entry for va; with `create`, allocate missing tables.
 * Returns NULL if a table is missing (and not created) or on ENOMEM. */
static uint64_t *walk(struct vm_space *vs, uintptr_t va, bool create)
{
	uint64_t *table = vs->pml4;

	for (int level = 3; level > 0; level--) {
		uint64_t *e = &table[idx(va, level)];
		if (!(*e & PTE_P)) {
			uint64_t pa;
			if (!create || !(pa = table_alloc(vs)))
				return NULL;
			*e = pa | TABLE_FLAGS;
		}
		KASSERT(!(*e & PTE_PS)); /* no large user pages yet */
		table = table_at(*e);
	}
	return &table[idx(va, 0)];
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

int vm_unmap(struct vm_space *vs, uintptr_t va)
{
	uint64_t *pte = vm_is_user_addr(va) ? walk(vs, va, false) : NULL;
	uint64_t old;

	if (!pte || !(*pte & PTE_P))
		return VR_ENOENT;
	old = *pte;
	*pte = 0;
	vs->mapped_pages--;
	vm_tlb_shootdown(vs->cpus, vs->pml4_pa, va, PAGE_SIZE);
	if (old & PTE_OWNED) {
		vs->owned_pages--;
		pmm_free(old & PTE_ADDR_MASK, 1);
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

uint64_t vm_lookup(const struct vm_space *vs, uintptr_t va)
{
	const uint64_t *table = vs->pml4;

	if (!vm_is_user_addr(va))
		return 0;
	for (int level = 3; level > 0; level--) {
		uint64_t e = table[idx(va, level)];
		if (!(e & PTE_P) || (e & PTE_PS))
			return 0;
		table = table_at(e);
	}
	return table[idx(va, 0)] & PTE_P ? table[idx(va, 0)] : 0;
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
		if (level > 1) {
			destroy_level(vs, t[i], level - 1, sub);
		} else {
			vm_unmap(vs, sub);
		}
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
	KASSERT(list_empty(&vs->maps)); /* core/mem.c removed its mappings first */
	pmm_free(vs->pml4_pa, 1);
	quota_uncharge(vs->quota, PAGE_SIZE);
	vs->pml4 = NULL;
	vs->pml4_pa = 0;
}

struct vm_count {
	uint64_t tables, mapped, owned;
	bool ok;
};

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
		c->ok &= (e & TABLE_FLAGS) == TABLE_FLAGS && !(e & PTE_PS);
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
		c.ok &= (e & TABLE_FLAGS) == TABLE_FLAGS;
		c.tables++;
		count_level(table_at(e), 2, &c);
	}
	return c.ok && c.tables == vs->table_pages && c.mapped == vs->mapped_pages &&
	       c.owned == vs->owned_pages;
}
