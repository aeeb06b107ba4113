/*
 * Unit tests of the page tables and user-memory access (core/vm.c),
 * compiled into this file so tests can reach a leaf entry directly.
 */
#include "core/vm.c"

#include "tests/unit/unit.h"

#define RAM_BYTES (8u << 20) /* room for an aligned 2 MiB block */
#define UVA VR_SLOT_BASE     /* a user address in PML4 entry 64 */

static struct vm_space vs;
static uint64_t free_at_start;

static int setup(void **state)
{
	(void)state;
	if (!unit_boot_ram(RAM_BYTES))
		return -1;
	free_at_start = unit_free_pages();
	vm_set_page_sizes(false); /* tests of 1 GiB leaves turn them on */
	if (vm_space_init(&vs) != VR_OK)
		return -1;
	fake_hal_reset_records();
	return 0;
}

/* Every test leaves the space destroyable, and destroying it gives back
 * every frame the space took (tables, owned frames and the PML4). */
static int teardown(void **state)
{
	bool clean;

	(void)state;
	if (!vm_space_check(&vs))
		return -1;
	vm_space_destroy(&vs);
	clean = unit_free_pages() == free_at_start && pmm_check();
	fake_hal_fini();
	return clean ? 0 : -1;
}

/* The leaf entry of va, for tests that tamper with it. */
static uint64_t *leaf(uintptr_t va)
{
	return walk(&vs, va, false);
}

static void test_init(void **state)
{
	(void)state;
	assert_int_equal(unit_free_pages(), free_at_start - 1);
	assert_int_equal(vs.table_pages, 0);
	assert_int_equal(vs.mapped_pages, 0);
	assert_int_equal(virt_to_phys(vs.pml4), vs.pml4_pa);
	assert_int_equal(vs.pml4[0], FAKE_KERNEL_PDPT_PA | PTE_P | PTE_W); /* the HAL's */
	for (unsigned i = 1; i < 512; i++)
		assert_int_equal(vs.pml4[i], 0);
	assert_true(vm_space_check(&vs));
}

static void test_user_addr(void **state)
{
	(void)state;
	assert_false(vm_is_user_addr(0));
	assert_false(vm_is_user_addr(FAKE_KERNEL_VA));
	assert_false(vm_is_user_addr((1ull << 39) - 1));
	assert_true(vm_is_user_addr(1ull << 39));
	assert_true(vm_is_user_addr(UVA));
	assert_true(vm_is_user_addr(0x7fffffffffffull));
	assert_false(vm_is_user_addr(0x800000000000ull));
	assert_false(vm_is_user_addr(0xffff800000000000ull));
	assert_false(vm_is_user_addr(UINTPTR_MAX));
}

/* The leaf bits for each protection, ownership, and the invalidation. */
static void test_map_bits(void **state)
{
	static const struct {
		unsigned prot;
		uint64_t set, clear;
	} cases[] = {
		{ VM_READ, PTE_P | PTE_U | PTE_NX, PTE_W },
		{ VM_READ | VM_WRITE, PTE_P | PTE_U | PTE_W | PTE_NX, 0 },
		{ VM_READ | VM_EXEC, PTE_P | PTE_U, PTE_W | PTE_NX },
		{ VM_READ | VM_WRITE | VM_EXEC, PTE_P | PTE_U | PTE_W, PTE_NX },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		for (int owned = 0; owned < 2; owned++) {
			uintptr_t va = UVA + (i * 2 + (size_t)owned) * PAGE_SIZE;
			uint64_t pa = pmm_alloc(1, 1), pte;

			fake_hal.invalidations = 0;
			assert_int_equal(vm_map(&vs, va, pa, cases[i].prot, owned), VR_OK);
			pte = vm_lookup(&vs, va);
			assert_int_equal(pte & PTE_ADDR_MASK, pa);
			assert_int_equal(pte & cases[i].set, cases[i].set);
			assert_int_equal(pte & cases[i].clear, 0);
			assert_int_equal(!!(pte & PTE_OWNED), owned);
			assert_int_equal(fake_hal.invalidations, 1);
			assert_int_equal(fake_hal.last_inval_pml4, vs.pml4_pa);
			assert_int_equal(fake_hal.last_inval_va, va);
			assert_int_equal(fake_hal.last_inval_len, PAGE_SIZE);
			assert_true(vm_space_check(&vs));
			if (!owned) {
				assert_int_equal(vm_unmap(&vs, va), VR_OK);
				pmm_free(pa, 1); /* not the space's: the caller frees it */
			}
		}
	}
	/* one PDPT, PD and PT serve all of them */
	assert_int_equal(vs.table_pages, 3);
	assert_int_equal(vs.mapped_pages, 4);
	assert_int_equal(vs.owned_pages, 4);
}

static void test_map_errors(void **state)
{
	uint64_t pa = pmm_alloc(1, 1), pa2 = pmm_alloc(1, 1);

	(void)state;
	assert_int_equal(vm_map(&vs, UVA + 1, pa, VM_READ, false), VR_EINVAL);
	assert_int_equal(vm_map(&vs, UVA, pa + 8, VM_READ, false), VR_EINVAL);
	assert_int_equal(vm_map(&vs, FAKE_KERNEL_VA, pa, VM_READ, false), VR_EINVAL);
	assert_int_equal(vm_map(&vs, 0x800000000000ull, pa, VM_READ, false), VR_EINVAL);
	assert_int_equal(vm_map(&vs, 0xffff800000000000ull, pa, VM_READ, false), VR_EINVAL);
	assert_int_equal(vs.table_pages, 0);
	assert_int_equal(vm_map(&vs, UVA, pa, VM_READ, true), VR_OK);
	fake_hal.invalidations = 0;
	assert_int_equal(vm_map(&vs, UVA, pa2, VM_READ | VM_WRITE, true), VR_EBUSY);
	assert_int_equal(fake_hal.invalidations, 0);
	assert_int_equal(vm_lookup(&vs, UVA) & PTE_ADDR_MASK, pa); /* unchanged */
	assert_int_equal(vs.mapped_pages, 1);
	pmm_free(pa2, 1);
	assert_true(vm_space_check(&vs));
}

/* With no frame left for a page table, vm_map fails with ENOMEM and the
 * space stays consistent (tables it did create stay, counted). */
static void test_map_enomem(void **state)
{
	uint64_t *frames = calloc(free_at_start, sizeof(*frames)), pa;
	size_t n = 0;

	(void)state;
	assert_non_null(frames);
	while ((pa = pmm_alloc(1, 1)) != 0)
		frames[n++] = pa;
	pmm_free(frames[--n], 1); /* room for the PDPT only */
	assert_int_equal(vm_map(&vs, UVA, frames[0], VM_READ, false), VR_ENOMEM);
	assert_int_equal(vs.mapped_pages, 0);
	assert_int_equal(vs.table_pages, 1);
	assert_int_equal(vm_lookup(&vs, UVA), 0);
	assert_true(vm_space_check(&vs));
	assert_int_equal(vm_map_anon(&vs, UVA, 1, VM_READ), VR_ENOMEM);
	assert_int_equal(vs.mapped_pages, 0);
	while (n)
		pmm_free(frames[--n], 1);
	free(frames);
}

static void test_unmap(void **state)
{
	uint64_t pa = pmm_alloc(1, 1), before;

	(void)state;
	assert_int_equal(vm_unmap(&vs, UVA), VR_ENOENT);            /* no tables */
	assert_int_equal(vm_unmap(&vs, FAKE_KERNEL_VA), VR_ENOENT); /* kernel half */
	assert_int_equal(vm_unmap(&vs, 0x900000000000ull), VR_ENOENT);
	assert_int_equal(vm_map(&vs, UVA, pa, VM_READ, false), VR_OK);
	assert_int_equal(vm_unmap(&vs, UVA + PAGE_SIZE), VR_ENOENT); /* tables, no leaf */
	before = unit_free_pages();
	fake_hal.invalidations = 0;
	assert_int_equal(vm_unmap(&vs, UVA), VR_OK);
	assert_int_equal(fake_hal.invalidations, 1);
	assert_int_equal(unit_free_pages(), before); /* not owned: not freed */
	assert_int_equal(vm_lookup(&vs, UVA), 0);
	assert_int_equal(vm_unmap(&vs, UVA), VR_ENOENT);
	/* an owned frame goes back to the allocator */
	assert_int_equal(vm_map(&vs, UVA, pa, VM_READ, true), VR_OK);
	assert_int_equal(vm_unmap(&vs, UVA), VR_OK);
	assert_int_equal(unit_free_pages(), before + 1);
	assert_int_equal(vs.mapped_pages, 0);
	assert_int_equal(vs.owned_pages, 0);
	assert_true(vm_space_check(&vs));
}

static void test_map_anon(void **state)
{
	uint64_t before = unit_free_pages(), pa;

	(void)state;
	assert_int_equal(vm_map_anon(&vs, UVA, 5, VM_READ | VM_WRITE), VR_OK);
	assert_int_equal(vs.mapped_pages, 5);
	assert_int_equal(vs.owned_pages, 5);
	assert_int_equal(unit_free_pages(), before - 5 - 3);
	for (int i = 0; i < 5; i++) {
		uint64_t pte = vm_lookup(&vs, UVA + (uintptr_t)i * PAGE_SIZE);
		const char *p = phys_to_virt(pte & PTE_ADDR_MASK);
		assert_true(pte & PTE_OWNED);
		for (size_t k = 0; k < PAGE_SIZE; k++)
			assert_int_equal(p[k], 0);
	}
	/* a mapping in the way: EBUSY, the new pages are gone, the old stays */
	pa = pmm_alloc(1, 1);
	assert_int_equal(vm_map(&vs, UVA + 12 * PAGE_SIZE, pa, VM_READ, false), VR_OK);
	before = unit_free_pages();
	assert_int_equal(vm_map_anon(&vs, UVA + 10 * PAGE_SIZE, 4, VM_READ), VR_EBUSY);
	assert_int_equal(unit_free_pages(), before);
	assert_int_equal(vm_lookup(&vs, UVA + 10 * PAGE_SIZE), 0);
	assert_int_equal(vm_lookup(&vs, UVA + 11 * PAGE_SIZE), 0);
	assert_int_equal(vm_lookup(&vs, UVA + 12 * PAGE_SIZE) & PTE_ADDR_MASK, pa);
	assert_int_equal(vs.mapped_pages, 6);
	assert_int_equal(vm_unmap(&vs, UVA + 12 * PAGE_SIZE), VR_OK);
	pmm_free(pa, 1);
	assert_int_equal(vm_map_anon(&vs, UVA, 0, VM_READ), VR_OK);
	assert_true(vm_space_check(&vs));
}

/* Copies cross page boundaries; reads need P+U, writes also W. */
static void test_copy(void **state)
{
	char out[3 * 4096], in[3 * 4096];
	uintptr_t at = UVA + PAGE_SIZE - 100;

	(void)state;
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + 1);
	assert_int_equal(vm_map_anon(&vs, UVA, 4, VM_READ | VM_WRITE), VR_OK);
	assert_int_equal(vm_copy_to_user(&vs, at, out, 2 * PAGE_SIZE + 50), VR_OK);
	memset(in, 0, sizeof(in));
	assert_int_equal(vm_copy_from_user(&vs, in, at, 2 * PAGE_SIZE + 50), VR_OK);
	assert_memory_equal(in, out, 2 * PAGE_SIZE + 50);
	/* the bytes really are in the frames, at the right offsets */
	assert_memory_equal((char *)phys_to_virt(vm_lookup(&vs, UVA + PAGE_SIZE) & PTE_ADDR_MASK),
			    out + 100, PAGE_SIZE);
	assert_int_equal(vm_copy_to_user(&vs, at, out, 0), VR_OK);
	assert_int_equal(vm_copy_from_user(&vs, in, UVA + 4 * PAGE_SIZE - 8, 8), VR_OK);
	assert_true(vm_user_range_ok(&vs, UVA, 4 * PAGE_SIZE, true));
}

static void test_copy_refused(void **state)
{
	char buf[64] = "data";
	uint64_t *pte;

	(void)state;
	assert_int_equal(vm_map_anon(&vs, UVA, 1, VM_READ | VM_WRITE), VR_OK);
	assert_int_equal(vm_map_anon(&vs, UVA + PAGE_SIZE, 1, VM_READ), VR_OK);
	/* not present: after the mapped pages, and in an untouched PML4 entry */
	assert_int_equal(vm_copy_from_user(&vs, buf, UVA + 2 * PAGE_SIZE, 1), VR_EFAULT);
	assert_int_equal(vm_copy_to_user(&vs, UVA + 2 * PAGE_SIZE - 4, buf, 8), VR_EFAULT);
	assert_int_equal(vm_copy_from_user(&vs, buf, 1ull << 40, 1), VR_EFAULT);
	assert_false(vm_user_range_ok(&vs, UVA, 3 * PAGE_SIZE, false));
	/* read-only: readable, not writable */
	assert_int_equal(vm_copy_from_user(&vs, buf, UVA + PAGE_SIZE, 8), VR_OK);
	assert_int_equal(vm_copy_to_user(&vs, UVA + PAGE_SIZE, buf, 8), VR_EFAULT);
	assert_int_equal(vm_copy_to_user(&vs, UVA + PAGE_SIZE - 4, buf, 8), VR_EFAULT);
	assert_true(vm_user_range_ok(&vs, UVA, 2 * PAGE_SIZE, false));
	assert_false(vm_user_range_ok(&vs, UVA, 2 * PAGE_SIZE, true));
	/* the kernel's page: present in the tables, never reachable */
	assert_int_equal(vm_copy_from_user(&vs, buf, FAKE_KERNEL_VA, 8), VR_EFAULT);
	assert_int_equal(vm_copy_to_user(&vs, FAKE_KERNEL_VA, buf, 8), VR_EFAULT);
	assert_false(vm_user_range_ok(&vs, FAKE_KERNEL_VA, 8, false));
	/* a leaf without PTE_U (not made by vm_map, but the walk must check) */
	pte = leaf(UVA);
	*pte &= ~PTE_U;
	assert_int_equal(vm_copy_from_user(&vs, buf, UVA, 8), VR_EFAULT);
	assert_false(vm_user_range_ok(&vs, UVA, 8, false));
	assert_false(vm_space_check(&vs)); /* invariant 3 */
	*pte |= PTE_U;
	/* wrap-around of the address range */
	assert_int_equal(vm_copy_from_user(&vs, buf, UVA, SIZE_MAX), VR_EFAULT);
	assert_int_equal(vm_copy_from_user(&vs, buf, UINTPTR_MAX - 3, 8), VR_EFAULT);
	assert_int_equal(vm_copy_to_user(&vs, UINTPTR_MAX - 3, buf, 8), VR_EFAULT);
	assert_false(vm_user_range_ok(&vs, UVA, SIZE_MAX, false));
	/* non-canonical and kernel-half addresses */
	assert_int_equal(vm_copy_from_user(&vs, buf, 0x800000000000ull, 1), VR_EFAULT);
	assert_int_equal(vm_copy_from_user(&vs, buf, 0xffff800000001000ull, 1), VR_EFAULT);
}

static void test_copy_str(void **state)
{
	char dst[32];
	uintptr_t end = UVA + PAGE_SIZE;

	(void)state;
	assert_int_equal(vm_map_anon(&vs, UVA, 1, VM_READ | VM_WRITE), VR_OK);
	assert_int_equal(vm_copy_to_user(&vs, UVA, "hello", 6), VR_OK);
	assert_int_equal(vm_copy_str_from_user(&vs, dst, UVA, sizeof(dst)), 5);
	assert_string_equal(dst, "hello");
	/* exactly max-1 characters fit; max characters do not */
	assert_int_equal(vm_copy_str_from_user(&vs, dst, UVA, 6), 5);
	assert_int_equal(vm_copy_str_from_user(&vs, dst, UVA, 5), VR_E2BIG);
	assert_int_equal(vm_copy_str_from_user(&vs, dst, UVA, 0), VR_E2BIG);
	assert_int_equal(vm_copy_str_from_user(&vs, dst, UVA + 5, 1), 0); /* "" */
	/* a string running into an unmapped page */
	assert_int_equal(vm_copy_to_user(&vs, end - 3, "abc", 3), VR_OK);
	assert_int_equal(vm_copy_str_from_user(&vs, dst, end - 3, sizeof(dst)), VR_EFAULT);
	assert_int_equal(vm_copy_str_from_user(&vs, dst, end - 3, 3), VR_E2BIG);
	assert_int_equal(vm_copy_str_from_user(&vs, dst, FAKE_KERNEL_VA, sizeof(dst)), VR_EFAULT);
	assert_int_equal(vm_copy_str_from_user(&vs, dst, UINTPTR_MAX, sizeof(dst)), VR_EFAULT);
}

/* Mappings spread over several PML4 entries and tables, owned and not:
 * destroy frees the tables and the owned frames, never the others. */
static void test_destroy_frees_everything(void **state)
{
	static const uintptr_t vas[] = {
		UVA,        UVA + PAGE_SIZE,  UVA + (2ull << 20), UVA + (1ull << 30),
		1ull << 39, 0x7ffffffff000ull
	};
	uint64_t borrowed = pmm_alloc(1, 1);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vas); i++)
		assert_int_equal(vm_map_anon(&vs, vas[i], 1, VM_READ), VR_OK);
	assert_int_equal(vm_map(&vs, UVA + 2 * PAGE_SIZE, borrowed, VM_READ, false), VR_OK);
	assert_true(vm_space_check(&vs));
	/* PML4 64: PDPT, 2 PDs, 3 PTs; PML4 1 and 255: 3 tables each */
	assert_int_equal(vs.table_pages, 12);
	vm_space_destroy(&vs);
	assert_null(vs.pml4);
	assert_int_equal(unit_free_pages(), free_at_start - 1); /* only the borrowed frame */
	pmm_free(borrowed, 1);
	assert_int_equal(vm_space_init(&vs), VR_OK); /* for the teardown */
}

static void test_check_detects_corruption(void **state)
{
	uint64_t *pml4e;

	(void)state;
	assert_int_equal(vm_map_anon(&vs, UVA, 2, VM_READ), VR_OK);
	vs.table_pages++;
	assert_false(vm_space_check(&vs));
	vs.table_pages--;
	vs.owned_pages--;
	assert_false(vm_space_check(&vs));
	vs.owned_pages++;
	pml4e = &vs.pml4[UVA >> 39];
	*pml4e &= ~PTE_W;
	assert_false(vm_space_check(&vs));
	*pml4e |= PTE_W;
	*leaf(UVA) |= PTE_PS; /* harmless at a leaf, but not intermediate */
	assert_true(vm_space_check(&vs));
	*leaf(UVA) &= ~PTE_PS;
	assert_true(vm_space_check(&vs));
}

/* Random map/unmap/map_anon in a window spanning two page tables, against
 * a model; the space is checked after every step. */
static void test_random(void **state)
{
	enum { PAGES = 1024, STEPS = 4000 };
	static uint64_t model[PAGES]; /* frame mapped at each page, 0 = none */
	uintptr_t base = UVA + (2ull << 20) - 512 * PAGE_SIZE;
	uint64_t rng = unit_rng("vm-random");
	uint64_t mapped = 0;

	(void)state;
	memset(model, 0, sizeof(model));
	for (int step = 0; step < STEPS; step++) {
		size_t i = unit_below(&rng, PAGES);
		uintptr_t va = base + i * PAGE_SIZE;
		int op = (int)unit_below(&rng, 3);

		if (op == 0) {
			int r = vm_unmap(&vs, va);
			assert_int_equal(r, model[i] ? VR_OK : VR_ENOENT);
			mapped -= !!model[i];
			model[i] = 0;
		} else if (op == 1) {
			uint64_t pa = pmm_alloc(1, 1);
			int r = vm_map(&vs, va, pa, VM_READ | VM_WRITE, true);
			assert_int_equal(r, model[i] ? VR_EBUSY : VR_OK);
			if (r)
				pmm_free(pa, 1);
			else
				model[i] = pa, mapped++;
		} else {
			size_t n = 1 + unit_below(&rng, 8), k, busy = 0;
			n = MIN(n, (size_t)PAGES - i);
			for (k = 0; k < n; k++)
				busy |= model[i + k];
			int r = vm_map_anon(&vs, va, n, VM_READ);
			assert_int_equal(r, busy ? VR_EBUSY : VR_OK);
			for (k = 0; !r && k < n; k++) {
				model[i + k] = vm_lookup(&vs, va + k * PAGE_SIZE) & PTE_ADDR_MASK;
				mapped++;
			}
		}
		assert_int_equal(vs.mapped_pages, mapped);
		assert_true(vm_space_check(&vs));
		if (step % 64 == 0)
			for (size_t p = 0; p < PAGES; p++)
				assert_int_equal(vm_lookup(&vs, base + p * PAGE_SIZE) &
							 PTE_ADDR_MASK,
						 model[p]);
	}
}

/* Page tables are charged to the space's quota: a map that needs tables
 * beyond the limit fails with VR_ENOMEM and charges nothing; destroying
 * the space returns every byte (invariant 4). */
static void test_tables_charged_to_quota(void **state)
{
	struct quota q = { .limit = 3 * PAGE_SIZE, .refs = 1 };
	struct vm_space qs;
	uint64_t pa = pmm_alloc(1, 1);

	(void)state;
	assert_int_equal(vm_space_init_quota(&qs, &q), VR_OK);
	assert_int_equal(q.used, PAGE_SIZE); /* the PML4 */
	assert_int_equal(vm_map(&qs, UVA, pa, VM_READ, false), VR_ENOMEM);
	assert_true(q.used <= q.limit);
	q.limit = 4 * PAGE_SIZE;
	assert_int_equal(vm_map(&qs, UVA, pa, VM_READ, false), VR_OK);
	assert_int_equal(q.used, 4 * PAGE_SIZE); /* PML4 + PDPT + PD + PT */
	assert_true(vm_space_check(&qs));
	vm_space_destroy(&qs);
	assert_int_equal(q.used, 0);
	pmm_free(pa, 1);
}

/* vm_set_leaf maps a frame the space does not own, replaces it in place,
 * and unmapping leaves the frame allocated (its object owns it). */
static void test_set_leaf(void **state)
{
	uint64_t a = pmm_alloc(1, 1), b = pmm_alloc(1, 1);

	(void)state;
	assert_int_equal(vm_set_leaf(&vs, UVA, a, VM_READ | VM_WRITE), VR_OK);
	assert_int_equal(vs.mapped_pages, 1);
	fake_hal.invalidations = 0;
	assert_int_equal(vm_set_leaf(&vs, UVA, b, VM_READ), VR_OK);
	assert_int_equal(fake_hal.invalidations, 1);
	assert_int_equal(vs.mapped_pages, 1);
	assert_int_equal(vm_lookup(&vs, UVA) & (PTE_ADDR_MASK | PTE_W), b);
	assert_int_equal(vm_set_leaf(&vs, UVA + 1, b, VM_READ), VR_EINVAL);
	assert_int_equal(vm_unmap(&vs, UVA), VR_OK);
	assert_int_equal(pmm_frame_refs(b), 1);
	assert_true(vm_space_check(&vs));
	pmm_free(a, 1);
	pmm_free(b, 1);
}

static uint64_t resolver_frame;
static unsigned resolver_calls;

/* A resolver that maps resolver_frame writable at the faulting page. */
static int test_resolve(struct vm_space *s, uintptr_t va, unsigned access)
{
	(void)access;
	resolver_calls++;
	return vm_set_leaf(s, ALIGN_DOWN(va, PAGE_SIZE), resolver_frame, VM_READ | VM_WRITE);
}

/* Kernel copies resolve absent pages through the installed resolver, as
 * the process's own access would (demand-zero in core/mem.c). */
static void test_copy_resolves(void **state)
{
	char buf[8] = "abcdefg";

	(void)state;
	resolver_frame = pmm_alloc(1, 1);
	assert_int_equal(vm_copy_to_user(&vs, UVA + 100, buf, sizeof(buf)), VR_EFAULT);
	vm_set_resolver(test_resolve);
	assert_int_equal(vm_copy_to_user(&vs, UVA + 100, buf, sizeof(buf)), VR_OK);
	assert_int_equal(resolver_calls, 1);
	assert_memory_equal((char *)phys_to_virt(resolver_frame) + 100, buf, sizeof(buf));
	assert_true(vm_user_range_ok(&vs, UVA, PAGE_SIZE, true));
	vm_set_resolver(NULL);
	vm_unmap(&vs, UVA);
	pmm_free(resolver_frame, 1);
}

/* The shootdown reaches hal_vm_invalidate for the boot CPU; any other CPU
 * in the set is a kernel bug today (no second CPU runs). */
static void test_shootdown(void **state)
{
	(void)state;
	fake_hal.invalidations = 0;
	vm_tlb_shootdown(vs.cpus, vs.pml4_pa, UVA, PAGE_SIZE);
	assert_int_equal(fake_hal.invalidations, 1);
	assert_int_equal(fake_hal.last_inval_va, UVA);
	vm_tlb_shootdown(0, vs.pml4_pa, UVA, PAGE_SIZE);
	assert_int_equal(fake_hal.invalidations, 1);
	assert_panics(vm_tlb_shootdown(2, vs.pml4_pa, UVA, PAGE_SIZE));
}

/* ---- Huge leaves ---- */

#define GIB_PA 0x40000000ull /* a 1 GiB-aligned frame address: never touched */

/* A 2 MiB leaf: one PDE with PS, found by every lookup inside it as the
 * 4 KiB frame at the right offset; the kernel's copies go through it. */
static void test_huge_install_walk(void **state)
{
	uint64_t pa = pmm_alloc(512, 512), size = 0, pte;
	char buf[16] = "across", out[16];

	(void)state;
	assert_true(pa && IS_ALIGNED(pa, VM_SIZE_2M));
	fake_hal.invalidations = 0;
	assert_int_equal(vm_set_huge_leaf(&vs, UVA, pa, VM_SIZE_2M, VM_READ | VM_WRITE), VR_OK);
	assert_int_equal(fake_hal.invalidations, 1);
	assert_int_equal(fake_hal.last_inval_va, UVA);
	assert_int_equal(fake_hal.last_inval_len, VM_SIZE_2M);
	assert_int_equal(vs.table_pages, 2); /* PDPT and PD: no page table */
	assert_int_equal(vs.mapped_pages, 512);
	assert_int_equal(vs.leaves_2m, 1);
	assert_int_equal(vm_huge_leaves_total(VM_SIZE_2M), 1);
	pte = vm_lookup_size(&vs, UVA + 5 * PAGE_SIZE + 17, &size);
	assert_int_equal(size, VM_SIZE_2M);
	assert_int_equal(pte & PTE_ADDR_MASK, pa + 5 * PAGE_SIZE);
	assert_true((pte & (PTE_P | PTE_U | PTE_W | PTE_PS | PTE_NX)) ==
		    (PTE_P | PTE_U | PTE_W | PTE_PS | PTE_NX));
	assert_int_equal(vm_lookup(&vs, UVA + VM_SIZE_2M), 0);
	/* a copy across two 4 KiB pages inside the leaf lands in the frames */
	assert_int_equal(vm_copy_to_user(&vs, UVA + PAGE_SIZE - 3, buf, sizeof(buf)), VR_OK);
	assert_memory_equal((char *)phys_to_virt(pa) + PAGE_SIZE - 3, buf, sizeof(buf));
	assert_int_equal(vm_copy_from_user(&vs, out, UVA + PAGE_SIZE - 3, sizeof(out)), VR_OK);
	assert_memory_equal(out, buf, sizeof(buf));
	assert_true(vm_user_range_ok(&vs, UVA, VM_SIZE_2M, true));
	assert_true(vm_space_check(&vs));
	/* vm_unmap anywhere inside removes the whole leaf; the frames stay */
	assert_int_equal(vm_unmap(&vs, UVA + 100 * PAGE_SIZE), VR_OK);
	assert_int_equal(vs.mapped_pages, 0);
	assert_int_equal(vs.leaves_2m, 0);
	assert_int_equal(vm_huge_leaves_total(VM_SIZE_2M), 0);
	assert_true(vm_space_check(&vs));
	pmm_free(pa, 512);
}

static void test_huge_errors(void **state)
{
	(void)state;
	assert_int_equal(vm_set_huge_leaf(&vs, UVA + PAGE_SIZE, GIB_PA, VM_SIZE_2M, VM_READ),
			 VR_EINVAL);
	assert_int_equal(vm_set_huge_leaf(&vs, UVA, GIB_PA + PAGE_SIZE, VM_SIZE_2M, VM_READ),
			 VR_EINVAL);
	assert_int_equal(vm_set_huge_leaf(&vs, UVA, GIB_PA, PAGE_SIZE, VM_READ), VR_EINVAL);
	assert_int_equal(vm_set_huge_leaf(&vs, FAKE_KERNEL_VA & ~(VM_SIZE_2M - 1), GIB_PA,
					  VM_SIZE_2M, VM_READ),
			 VR_EINVAL);
	/* 1 GiB leaves only where the MMU has them */
	assert_int_equal(vm_set_huge_leaf(&vs, UVA, GIB_PA, VM_SIZE_1G, VM_READ), VR_EINVAL);
	assert_false(vm_page_sizes() & VM_SIZE_1G);
	assert_int_equal(vm_split(&vs, UVA), VR_ENOENT); /* nothing there */
	assert_int_equal(vs.table_pages, 0);
	assert_true(vm_space_check(&vs));
}

/* Split: 2 MiB -> 512 x 4 KiB with the same frames and bits, and the
 * leaf's range invalidated; a 4 KiB leaf cannot be split. */
static void test_huge_split_2m(void **state)
{
	(void)state;
	assert_int_equal(vm_set_huge_leaf(&vs, UVA, GIB_PA, VM_SIZE_2M, VM_READ | VM_EXEC), VR_OK);
	fake_hal.invalidations = 0;
	assert_int_equal(vm_split(&vs, UVA + 77 * PAGE_SIZE), VR_OK);
	assert_int_equal(fake_hal.invalidations, 1);
	assert_int_equal(fake_hal.last_inval_len, VM_SIZE_2M);
	assert_int_equal(vs.table_pages, 3);
	assert_int_equal(vs.leaves_2m, 0);
	assert_int_equal(vs.mapped_pages, 512);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t size, pte = vm_lookup_size(&vs, UVA + i * PAGE_SIZE, &size);
		assert_int_equal(size, PAGE_SIZE);
		assert_int_equal(pte & PTE_ADDR_MASK, GIB_PA + i * PAGE_SIZE);
		assert_int_equal(pte & (PTE_P | PTE_U | PTE_W | PTE_NX | PTE_PS), PTE_P | PTE_U);
	}
	assert_int_equal(vm_split(&vs, UVA), VR_ENOENT);
	assert_true(vm_space_check(&vs));
}

/* With 1 GiB pages: install, split into 2 MiB leaves, split one of those. */
static void test_huge_split_1g(void **state)
{
	(void)state;
	vm_set_page_sizes(true);
	assert_int_equal(vm_set_huge_leaf(&vs, UVA, GIB_PA, VM_SIZE_1G, VM_READ | VM_WRITE), VR_OK);
	assert_int_equal(vs.table_pages, 1); /* the PDPT only */
	assert_int_equal(vs.leaves_1g, 1);
	assert_int_equal(vs.mapped_pages, VM_SIZE_1G / PAGE_SIZE);
	assert_int_equal(vm_lookup(&vs, UVA + VM_SIZE_1G - 1) & PTE_ADDR_MASK,
			 GIB_PA + VM_SIZE_1G - PAGE_SIZE);
	assert_true(vm_space_check(&vs));
	assert_int_equal(vm_split(&vs, UVA + (300ull << 20)), VR_OK);
	assert_int_equal(vs.leaves_1g, 0);
	assert_int_equal(vs.leaves_2m, 512);
	assert_int_equal(vs.table_pages, 2);
	assert_int_equal(vm_split(&vs, UVA + (300ull << 20)), VR_OK); /* that 2 MiB leaf */
	assert_int_equal(vs.leaves_2m, 511);
	assert_int_equal(vs.table_pages, 3);
	assert_int_equal(vs.mapped_pages, VM_SIZE_1G / PAGE_SIZE);
	assert_int_equal(vm_lookup(&vs, UVA + (300ull << 20) + 5 * PAGE_SIZE) & PTE_ADDR_MASK,
			 GIB_PA + (300ull << 20) + 5 * PAGE_SIZE);
	assert_true(vm_space_check(&vs));
	/* the check refuses a 1 GiB leaf once the MMU is said to lack them */
	assert_int_equal(vm_set_huge_leaf(&vs, UVA + VM_SIZE_1G, GIB_PA, VM_SIZE_1G, VM_READ),
			 VR_OK);
	vm_set_page_sizes(false);
	assert_false(vm_space_check(&vs));
	vm_set_page_sizes(true);
	assert_true(vm_space_check(&vs));
}

/* A huge leaf installed over 4 KiB leaves frees their page table. */
static void test_huge_collapse(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(
			vm_set_leaf(&vs, UVA + i * 9 * PAGE_SIZE, GIB_PA + i * PAGE_SIZE, VM_READ),
			VR_OK);
	assert_int_equal(vs.table_pages, 3);
	assert_int_equal(vs.mapped_pages, 4);
	assert_int_equal(vm_set_huge_leaf(&vs, UVA, GIB_PA, VM_SIZE_2M, VM_READ), VR_OK);
	assert_int_equal(vs.table_pages, 2);
	assert_int_equal(vs.mapped_pages, 512);
	/* and a huge leaf replaces a huge leaf */
	assert_int_equal(vm_set_huge_leaf(&vs, UVA, GIB_PA + VM_SIZE_2M, VM_SIZE_2M, VM_READ),
			 VR_OK);
	assert_int_equal(vs.leaves_2m, 1);
	assert_int_equal(vm_lookup(&vs, UVA) & PTE_ADDR_MASK, GIB_PA + VM_SIZE_2M);
	assert_true(vm_space_check(&vs));
	/* an owned 4 KiB leaf under it is a kernel bug */
	assert_int_equal(vm_map_anon(&vs, UVA + VM_SIZE_2M, 1, VM_READ), VR_OK);
	assert_panics(vm_set_huge_leaf(&vs, UVA + VM_SIZE_2M, GIB_PA, VM_SIZE_2M, VM_READ));
}

/* vm_unmap_range cuts a huge leaf at its edges: what lies outside stays
 * mapped (split), what lies inside goes. */
static void test_unmap_range_splits(void **state)
{
	(void)state;
	vm_set_page_sizes(true);
	assert_int_equal(vm_set_huge_leaf(&vs, UVA, GIB_PA, VM_SIZE_2M, VM_READ), VR_OK);
	vm_unmap_range(&vs, UVA + 10 * PAGE_SIZE, 3 * PAGE_SIZE);
	assert_int_equal(vs.mapped_pages, 509);
	assert_int_equal(vs.leaves_2m, 0);
	assert_int_equal(vm_lookup(&vs, UVA + 9 * PAGE_SIZE) & PTE_ADDR_MASK,
			 GIB_PA + 9 * PAGE_SIZE);
	assert_int_equal(vm_lookup(&vs, UVA + 10 * PAGE_SIZE), 0);
	assert_int_equal(vm_lookup(&vs, UVA + 12 * PAGE_SIZE), 0);
	assert_int_equal(vm_lookup(&vs, UVA + 13 * PAGE_SIZE) & PTE_ADDR_MASK,
			 GIB_PA + 13 * PAGE_SIZE);
	assert_true(vm_space_check(&vs));
	/* one page out of a 1 GiB leaf: 511 2 MiB leaves and 511 4 KiB leaves remain */
	assert_int_equal(vm_set_huge_leaf(&vs, UVA + VM_SIZE_1G, GIB_PA, VM_SIZE_1G, VM_READ),
			 VR_OK);
	vm_unmap_range(&vs, UVA + VM_SIZE_1G + (7ull << 21) + PAGE_SIZE, PAGE_SIZE);
	assert_int_equal(vs.leaves_1g, 0);
	assert_int_equal(vs.leaves_2m, 511);
	assert_int_equal(vs.mapped_pages, 509 + VM_SIZE_1G / PAGE_SIZE - 1);
	assert_true(vm_space_check(&vs));
	/* a range holding whole leaves and absent tables */
	vm_unmap_range(&vs, UVA, 2 * VM_SIZE_1G);
	assert_int_equal(vs.mapped_pages, 0);
	assert_int_equal(vs.leaves_2m, 0);
	assert_true(vm_space_check(&vs));
}

/* With no frame for the split table, breaking a huge leaf drops it whole
 * (its object faults it back); clearing W works at any size. */
static void test_break_enomem_and_clear_write(void **state)
{
	uint64_t *frames = calloc(free_at_start, sizeof(*frames)), pa;
	size_t n = 0;

	(void)state;
	assert_non_null(frames);
	assert_int_equal(vm_set_huge_leaf(&vs, UVA, GIB_PA, VM_SIZE_2M, VM_READ | VM_WRITE), VR_OK);
	assert_int_equal(vm_leaf_clear_write(&vs, UVA + 3 * PAGE_SIZE), VR_OK);
	assert_false(vm_lookup(&vs, UVA) & PTE_W);
	assert_int_equal(vs.leaves_2m, 1);
	assert_int_equal(vm_leaf_clear_write(&vs, UVA + VM_SIZE_2M), VR_ENOENT);
	while ((pa = pmm_alloc(1, 1)) != 0)
		frames[n++] = pa;
	assert_int_equal(vm_split(&vs, UVA), VR_ENOMEM);
	assert_int_equal(vs.leaves_2m, 1);
	vm_break(&vs, UVA); /* at the leaf's start: nothing to do */
	assert_int_equal(vs.leaves_2m, 1);
	vm_break(&vs, UVA + PAGE_SIZE);
	assert_int_equal(vs.leaves_2m, 0);
	assert_int_equal(vs.mapped_pages, 0);
	assert_true(vm_space_check(&vs));
	while (n)
		pmm_free(frames[--n], 1);
	free(frames);
}

/* The checker sees a huge leaf that is owned, misaligned or not user. */
static void test_check_huge_corruption(void **state)
{
	uint64_t *pde;

	(void)state;
	assert_int_equal(vm_set_huge_leaf(&vs, UVA, GIB_PA, VM_SIZE_2M, VM_READ), VR_OK);
	pde = entry_at(&vs, UVA, 1, false);
	assert_non_null(pde);
	*pde |= PTE_OWNED;
	assert_false(vm_space_check(&vs));
	*pde &= ~PTE_OWNED;
	*pde += PAGE_SIZE;
	assert_false(vm_space_check(&vs));
	*pde -= PAGE_SIZE;
	*pde &= ~PTE_U;
	assert_false(vm_space_check(&vs));
	*pde |= PTE_U;
	vs.leaves_2m++;
	assert_false(vm_space_check(&vs));
	vs.leaves_2m--;
	assert_true(vm_space_check(&vs));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_init),
	T(test_user_addr),
	T(test_map_bits),
	T(test_map_errors),
	T(test_map_enomem),
	T(test_unmap),
	T(test_map_anon),
	T(test_copy),
	T(test_copy_refused),
	T(test_copy_str),
	T(test_destroy_frees_everything),
	T(test_check_detects_corruption),
	T(test_random),
	T(test_tables_charged_to_quota),
	T(test_set_leaf),
	T(test_copy_resolves),
	T(test_shootdown),
	T(test_huge_install_walk),
	T(test_huge_errors),
	T(test_huge_split_2m),
	T(test_huge_split_1g),
	T(test_huge_collapse),
	T(test_unmap_range_splits),
	T(test_break_enomem_and_clear_write),
	T(test_check_huge_corruption),
};

UNIT_MAIN("vm", tests, NULL, NULL)
