/*
 * Unit tests of memory objects, mappings and fault resolution (core/mem.c)
 * with the page tables, the buddy allocator, quotas and capabilities over
 * the fake HAL. A "user access" here is what kernel_user_fault() does: look
 * at the leaf and call mem_fault() when it does not allow the access.
 */
#include <veridian/cap.h>
#include <veridian/kheap.h>
#include <veridian/mem.h>
#include <veridian/pmm.h>
#include <veridian/quota.h>
#include <veridian/vm.h>

#include "tests/unit/unit.h"

#define RAM_BYTES (16u << 20)               /* room for aligned 2 MiB runs */
#define BIG_RAM_BYTES ((2048u + 64u) << 20) /* holds one aligned 1 GiB run */
#define VA(space, page) (VR_SLOT_BASE + (space)*VR_SLOT_SIZE + 0x10000000ull + (page)*PAGE_SIZE)
#define RW (VM_READ | VM_WRITE)

static struct vm_space vs[2];
static struct cspace *cs;
static struct quota *root;
static uint64_t free_at_start;

static int setup_ram(size_t bytes)
{
	if (!unit_boot_ram(bytes))
		return -1;
	vm_set_page_sizes(false);
	free_at_start = unit_free_pages();
	mem_init();
	cs = cspace_create(16);
	root = quota_create(NULL, QUOTA_UNLIMITED);
	if (!cs || !root || vm_space_init_quota(&vs[0], root) || vm_space_init_quota(&vs[1], root))
		return -1;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_ram(RAM_BYTES);
}

static int setup_big(void **state)
{
	(void)state;
	return setup_ram(BIG_RAM_BYTES);
}

/* Everything goes back: mappings, objects, tables, charges, frames. */
static int teardown(void **state)
{
	bool clean;

	(void)state;
	for (int s = 0; s < 2; s++) {
		mem_unmap_all(&vs[s]);
		vm_space_destroy(&vs[s]);
	}
	cspace_destroy(cs);
	clean = root->used == 0 && mem_check_all();
	quota_put(root); /* its slab page too must go back */
	clean = clean && unit_free_pages() == free_at_start && pmm_check();
	fake_hal_fini();
	return clean ? 0 : -1;
}

/* A new object with one capability in cs. */
static struct mem_obj *new_obj(uint64_t npages, cap_handle_t *h)
{
	struct mem_obj *mo;

	assert_int_equal(mem_obj_create(root, npages, &mo), VR_OK);
	assert_int_equal(cap_insert(cs, &mo->obj, CAP_RIGHTS_ALL, 0, h), VR_OK);
	return mo;
}

static void map(int s, struct mem_obj *mo, uint64_t page, uint64_t n, unsigned prot)
{
	assert_int_equal(mem_map_check(&vs[s], mo, VA(s, page), 0, n), VR_OK);
	assert_int_equal(mem_map(&vs[s], mo, VA(s, page), 0, n, prot, prot, 0), VR_OK);
}

/* A user access; returns the byte's kernel address, or NULL if refused. */
static uint8_t *touch(int s, uint64_t page, bool write)
{
	uint64_t need = PTE_P | PTE_U | (write ? PTE_W : 0), pte = vm_lookup(&vs[s], VA(s, page));

	if ((pte & need) != need &&
	    mem_fault(&vs[s], VA(s, page), write ? HAL_ACCESS_WRITE : 0) != VR_OK)
		return NULL;
	pte = vm_lookup(&vs[s], VA(s, page));
	assert_true((pte & need) == need);
	return phys_to_virt(pte & PTE_ADDR_MASK);
}

static void test_demand_zero(void **state)
{
	cap_handle_t h;
	struct mem_obj *mo = new_obj(8, &h);
	uint64_t before = unit_free_pages();

	(void)state;
	map(0, mo, 0, 8, RW);
	assert_int_equal(mo->resident, 0);
	assert_int_equal(*touch(0, 3, false), 0);
	*touch(0, 3, true) = 7;
	assert_int_equal(mo->resident, 1);
	assert_int_equal(*touch(0, 3, false), 7);
	assert_true(before - unit_free_pages() >= 1);
	assert_null(touch(0, 8, false)); /* past the mapping */
	assert_int_equal(mem_fault(&vs[0], VA(0, 9), 0), VR_EFAULT);
	assert_true(mem_obj_check(mo));
}

static void test_shared_between_spaces(void **state)
{
	cap_handle_t h;
	struct mem_obj *mo = new_obj(2, &h);

	(void)state;
	map(0, mo, 0, 2, RW);
	map(1, mo, 4, 2, VM_READ);
	*touch(0, 1, true) = 42;
	assert_int_equal(*touch(1, 5, false), 42);
	assert_null(touch(1, 5, true)); /* read-only mapping */
	assert_ptr_equal(touch(0, 1, false), touch(1, 5, false));
}

/* Copy-on-write: both sides read the same frame until one writes. */
static void test_cow(void **state)
{
	cap_handle_t ha, hb;
	struct mem_obj *a = new_obj(2, &ha), *b;
	struct pmm_stats st;

	(void)state;
	map(0, a, 0, 2, RW);
	*touch(0, 0, true) = 1;
	assert_int_equal(mem_obj_copy(root, a, &b), VR_OK);
	assert_int_equal(cap_insert(cs, &b->obj, CAP_RIGHTS_ALL, 0, &hb), VR_OK);
	assert_false(vm_lookup(&vs[0], VA(0, 0)) & PTE_W); /* the source went read-only */
	map(1, b, 0, 2, RW);
	assert_ptr_equal(touch(1, 0, false), touch(0, 0, false));
	pmm_get_stats(&st);
	assert_int_equal(st.shared_frames, 1);
	*touch(1, 0, true) = 2;
	assert_int_equal(*touch(0, 0, false), 1);
	assert_int_equal(*touch(1, 0, false), 2);
	pmm_get_stats(&st);
	assert_int_equal(st.shared_frames, 0);
	*touch(0, 0, true) = 3; /* refs 1 now: an upgrade, no copy */
	assert_int_equal(*touch(1, 0, false), 2);
	assert_true(mem_check_all());
}

/* An object lives while a capability or a mapping holds it. */
static void test_lifetime(void **state)
{
	struct mem_stats st;
	cap_handle_t h;
	struct mem_obj *mo = new_obj(1, &h);

	(void)state;
	map(0, mo, 0, 1, RW);
	*touch(0, 0, true) = 5;
	assert_int_equal(cap_delete(cs, h), VR_OK);
	assert_int_equal(*touch(0, 0, false), 5);
	assert_int_equal(mem_unmap(&vs[0], VA(0, 0), 1), VR_OK);
	mem_get_stats(&st);
	assert_int_equal(st.objects, 0);
	assert_int_equal(st.frames, 0);
}

static void test_nofill_and_protect(void **state)
{
	cap_handle_t h;
	struct mem_obj *mo = new_obj(2, &h);

	(void)state;
	assert_int_equal(mem_map(&vs[0], mo, VA(0, 0), 0, 2, RW, RW, MEM_MAP_NOFILL), VR_OK);
	assert_int_equal(mem_fault(&vs[0], VA(0, 1), 0), VR_ENOENT);
	map(1, mo, 0, 2, RW); /* the "pager" fills page 1 through its own mapping */
	*touch(1, 1, true) = 9;
	assert_int_equal(*touch(0, 1, false), 9);
	assert_int_equal(mem_protect(&vs[0], VA(0, 0), VM_READ), VR_OK);
	assert_null(touch(0, 1, true));
	assert_int_equal(mem_protect(&vs[0], VA(0, 1), VM_READ), VR_ENOENT);
	assert_int_equal(mem_protect(&vs[0], VA(0, 0), RW | VM_EXEC), VR_ECAP_RIGHTS);
	/* a partial unmap cuts the mapping: page 0 stays, page 1 goes */
	*touch(1, 0, true) = 4;
	assert_int_equal(mem_unmap(&vs[0], VA(0, 1), 1), VR_OK);
	assert_int_equal(mem_fault(&vs[0], VA(0, 1), 0), VR_EFAULT);
	assert_int_equal(*touch(0, 0, false), 4);
	assert_int_equal(mem_unmap(&vs[0], VA(0, 3), 1), VR_ENOENT);
	assert_int_equal(mem_map_check(&vs[0], mo, VA(0, 0), 0, 1), VR_EBUSY);
	assert_int_equal(mem_map_check(&vs[0], mo, VA(0, 1), 0, 1), VR_OK);
	assert_int_equal(mem_map_check(&vs[0], mo, VA(0, 8), 1, 2), VR_EINVAL);
}

/* A quota stops creation and demand-zero fills; nothing is charged for
 * what failed, and everything is returned at the end. */
static void test_quota(void **state)
{
	struct quota *q = quota_create(root, 0);
	struct mem_obj *mo;
	uint64_t base;

	(void)state;
	assert_int_equal(mem_obj_create(q, 4, &mo), VR_ENOMEM);
	assert_int_equal(q->used, 0);
	q->limit = sizeof(struct mem_obj) + 2 * PAGE_SIZE; /* the array and one page */
	assert_int_equal(mem_obj_create(q, 4, &mo), VR_OK);
	base = q->used;
	map(0, mo, 0, 4, RW);
	assert_non_null(touch(0, 0, true));
	assert_int_equal(q->used, base + PAGE_SIZE);
	assert_null(touch(0, 1, true)); /* the quota is spent */
	assert_int_equal(mem_fault(&vs[0], VA(0, 1), HAL_ACCESS_WRITE), VR_ENOMEM);
	assert_int_equal(q->used, base + PAGE_SIZE);
	assert_true(quota_check(q) && quota_check(root));
	assert_int_equal(mem_unmap(&vs[0], VA(0, 0), 4), VR_OK); /* no cap: the object goes */
	assert_int_equal(q->used, 0);
	quota_put(q);
}

/* ---- Huge objects, private mappings, partial unmap and protect ---- */

/* The size of the leaf showing page `page` of space s (0: none). */
static uint64_t leaf_size_at(int s, uint64_t page)
{
	uint64_t size = 0;

	return vm_lookup_size(&vs[s], VA(s, page), &size) & PTE_P ? size : 0;
}

/* A new huge object with one capability in cs. */
static struct mem_obj *new_huge(uint64_t npages, uint64_t size)
{
	struct mem_obj *mo;
	cap_handle_t h;

	assert_int_equal(mem_obj_create_huge(root, npages, size, &mo), VR_OK);
	assert_int_equal(cap_insert(cs, &mo->obj, CAP_RIGHTS_ALL, 0, &h), VR_OK);
	return mo;
}

/* Backed at once by aligned runs; a mapping at an aligned address shows
 * each run with one 2 MiB leaf, a misaligned one with 4 KiB leaves. */
static void test_huge_object(void **state)
{
	struct mem_obj *mo, *bad;
	uint64_t used = root->used;
	struct mem_stats st;

	(void)state;
	assert_int_equal(mem_obj_create_huge(root, 100, VM_SIZE_2M, &bad), VR_EINVAL);
	assert_int_equal(mem_obj_create_huge(root, 512, PAGE_SIZE, &bad), VR_EINVAL);
	assert_int_equal(mem_obj_create_huge(root, 2 * MEM_MAX_PAGES, VM_SIZE_2M, &bad), VR_EINVAL);
	/* 32 MiB cannot fit in 16 MiB of RAM: nothing stays charged */
	assert_int_equal(mem_obj_create_huge(root, 8192, VM_SIZE_2M, &bad), VR_ENOMEM);
	assert_int_equal(root->used, used);
	mo = new_huge(1024, VM_SIZE_2M);
	assert_int_equal(mo->resident, 1024);
	assert_int_equal(root->used - used, mo->charged);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(mo->pages[i], mo->pages[i & ~511u] + (i & 511u) * PAGE_SIZE);
	mem_get_stats(&st);
	assert_int_equal(st.huge_objects, 1);
	map(0, mo, 0, 1024, RW);
	assert_int_equal(*touch(0, 3, false), 0);
	assert_int_equal(leaf_size_at(0, 3), VM_SIZE_2M);
	assert_int_equal(leaf_size_at(0, 511), VM_SIZE_2M);
	assert_int_equal(leaf_size_at(0, 512), 0); /* the second run: not touched yet */
	*touch(0, 600, true) = 6;
	assert_int_equal(vs[0].leaves_2m, 2);
	assert_int_equal(*(uint8_t *)phys_to_virt(mo->pages[600]), 6);
	/* a mapping that starts mid-run, and one at a misaligned address */
	assert_int_equal(mem_map(&vs[1], mo, VA(1, 0), 1, 1023, RW, RW, 0), VR_OK);
	assert_int_equal(*touch(1, 599, false), 6);
	assert_int_equal(leaf_size_at(1, 599), PAGE_SIZE);
	assert_int_equal(mem_map(&vs[1], mo, VA(1, 1025), 0, 512, RW, RW, 0), VR_OK);
	assert_non_null(touch(1, 1030, false));
	assert_int_equal(leaf_size_at(1, 1030), PAGE_SIZE);
	assert_int_equal(vs[1].leaves_2m, 0);
	assert_true(mem_check_all());
}

/* Cutting a huge mapping: the rest keeps its translations (4 KiB now),
 * the cut part faults; protecting part of it splits it again. */
static void test_huge_partial(void **state)
{
	struct mem_obj *mo = new_huge(1024, VM_SIZE_2M);

	(void)state;
	map(0, mo, 0, 1024, RW);
	*touch(0, 0, true) = 1;
	*touch(0, 512, true) = 2;
	assert_int_equal(vs[0].leaves_2m, 2);
	assert_int_equal(mem_unmap(&vs[0], VA(0, 100), 10), VR_OK);
	assert_int_equal(mo->nmaps, 2);
	assert_int_equal(vs[0].leaves_2m, 1);
	assert_int_equal(leaf_size_at(0, 99), PAGE_SIZE); /* still mapped: split, not dropped */
	assert_int_equal(leaf_size_at(0, 110), PAGE_SIZE);
	assert_int_equal(leaf_size_at(0, 100), 0);
	assert_int_equal(mem_fault(&vs[0], VA(0, 105), 0), VR_EFAULT);
	assert_int_equal(leaf_size_at(0, 700), VM_SIZE_2M); /* the other run is untouched */
	assert_int_equal(mem_protect_range(&vs[0], VA(0, 200), 10, VM_READ), VR_OK);
	assert_int_equal(mo->nmaps, 4);
	assert_null(touch(0, 205, true));
	assert_non_null(touch(0, 205, false));
	assert_non_null(touch(0, 210, true));
	/* a protect of a whole aligned run keeps it huge (read-only now) */
	assert_int_equal(mem_protect_range(&vs[0], VA(0, 512), 512, VM_READ), VR_OK);
	assert_int_equal(*touch(0, 513, false), 0);
	assert_int_equal(leaf_size_at(0, 513), VM_SIZE_2M);
	assert_false(vm_lookup(&vs[0], VA(0, 513)) & PTE_W);
	assert_null(touch(0, 513, true));
	assert_true(mem_check_all());
}

/* A copy of a huge object shares its runs read-only (still huge); a write
 * copies one 4 KiB page, and that run goes back to 4 KiB leaves. */
static void test_huge_cow(void **state)
{
	struct mem_obj *mo = new_huge(512, VM_SIZE_2M), *copy;
	cap_handle_t h;

	(void)state;
	map(0, mo, 0, 512, RW);
	*touch(0, 7, true) = 7;
	assert_int_equal(mem_obj_copy(root, mo, &copy), VR_OK);
	assert_int_equal(cap_insert(cs, &copy->obj, CAP_RIGHTS_ALL, 0, &h), VR_OK);
	assert_int_equal(copy->page_size, VM_SIZE_2M);
	assert_int_equal(leaf_size_at(0, 7), VM_SIZE_2M);
	assert_false(vm_lookup(&vs[0], VA(0, 7)) & PTE_W);
	map(1, copy, 0, 512, RW);
	assert_int_equal(*touch(1, 7, false), 7);
	assert_int_equal(leaf_size_at(1, 7), VM_SIZE_2M);
	assert_false(vm_lookup(&vs[1], VA(1, 7)) & PTE_W); /* shared: read-only */
	*touch(0, 7, true) = 8;
	assert_int_equal(leaf_size_at(0, 7), PAGE_SIZE);
	assert_int_equal(*touch(1, 7, false), 7);
	assert_int_equal(*touch(0, 7, false), 8);
	/* the copy's page 7 is its own now, the rest of its run still shared:
	 * a write gets a writable 4 KiB leaf (a read-only huge leaf would
	 * fault for ever; fuzz/vm/regressions/huge-cow-write-back) */
	*touch(1, 7, true) = 9;
	assert_int_equal(leaf_size_at(1, 7), PAGE_SIZE);
	assert_int_equal(*touch(1, 8, false), 0);
	assert_int_equal(*touch(0, 7, false), 8);
	assert_true(mem_check_all());
}

/* A private mapping reads the object as it was when mapped; its writes
 * stay its own; its copy goes with its last piece. */
static void test_private_mapping(void **state)
{
	cap_handle_t h;
	struct mem_obj *mo = new_obj(4, &h), *c1, *c2;
	struct mem_stats st0, st;

	(void)state;
	map(0, mo, 0, 4, RW);
	*touch(0, 0, true) = 1;
	mem_get_stats(&st0);
	assert_int_equal(mem_map_check(&vs[1], mo, VA(1, 0), 0, 4), VR_OK);
	assert_int_equal(mem_map_private(&vs[1], root, mo, VA(1, 0), 0, 4, RW, RW, &c1), VR_OK);
	assert_int_equal(*touch(1, 0, false), 1);
	*touch(1, 0, true) = 2;
	assert_int_equal(*touch(0, 0, false), 1); /* the shared mapping never sees it */
	*touch(0, 1, true) = 5;                   /* after the snapshot: not seen */
	assert_int_equal(*touch(1, 1, false), 0);
	assert_int_equal(mem_map_private(&vs[1], root, mo, VA(1, 8), 0, 4, RW, RW, &c2), VR_OK);
	assert_int_equal(*touch(1, 8, false), 1);
	*touch(1, 8, true) = 3;
	assert_int_equal(*touch(1, 0, false), 2); /* two private mappings: isolated */
	assert_int_equal(mo->nmaps, 1);
	mem_get_stats(&st);
	assert_int_equal(st.objects, st0.objects + 2);
	/* cut the first private mapping: its copy lives while a piece does */
	assert_int_equal(mem_unmap(&vs[1], VA(1, 1), 2), VR_OK);
	assert_int_equal(c1->nmaps, 2);
	assert_int_equal(*touch(1, 0, false), 2);
	assert_int_equal(mem_unmap(&vs[1], VA(1, 0), 4), VR_OK);
	assert_int_equal(mem_unmap(&vs[1], VA(1, 8), 4), VR_OK);
	mem_get_stats(&st);
	assert_int_equal(st.objects, st0.objects);
	assert_int_equal(*touch(0, 0, false), 1);
	(void)c2;
}

/* Partial unmap and protect over 4 KiB mappings: cuts, several mappings
 * in one call, errors leave everything as it was. */
static void test_partial_unmap_protect(void **state)
{
	cap_handle_t h;
	struct mem_obj *mo = new_obj(10, &h), *ro = new_obj(2, &h);
	uint64_t maps;

	(void)state;
	map(0, mo, 0, 10, RW);
	assert_int_equal(mem_map(&vs[0], ro, VA(0, 10), 0, 2, VM_READ, VM_READ, 0), VR_OK);
	for (int p = 0; p < 10; p++)
		*touch(0, (uint64_t)p, true) = (uint8_t)(p + 1);
	assert_int_equal(mem_unmap(&vs[0], VA(0, 3), 2), VR_OK); /* [0,3) [5,10) */
	assert_int_equal(mo->nmaps, 2);
	assert_null(touch(0, 3, false));
	assert_int_equal(*touch(0, 5, false), 6);
	/* one protect over a hole: refused, nothing changes */
	assert_int_equal(mem_protect_range(&vs[0], VA(0, 2), 4, VM_READ), VR_ENOENT);
	assert_non_null(touch(0, 2, true));
	/* beyond what a mapping's capability allowed */
	assert_int_equal(mem_protect_range(&vs[0], VA(0, 8), 4, RW), VR_ECAP_RIGHTS);
	assert_int_equal(mem_protect_range(&vs[0], VA(0, 8), 4, VM_READ), VR_OK); /* two mappings */
	assert_null(touch(0, 9, true));
	assert_non_null(touch(0, 7, true));
	assert_int_equal(mo->nmaps, 3);
	/* a cut needs a record: with the quota spent, ENOMEM and no change */
	maps = mo->nmaps;
	root->limit = root->used;
	assert_int_equal(mem_unmap(&vs[0], VA(0, 1), 1), VR_ENOMEM);
	assert_int_equal(mem_protect_range(&vs[0], VA(0, 6), 1, VM_READ), VR_ENOMEM);
	assert_int_equal(mem_unmap(&vs[0], VA(0, 0), 3), VR_OK); /* no cut: no record */
	root->limit = QUOTA_UNLIMITED;
	assert_int_equal(mo->nmaps, maps - 1);
	assert_non_null(touch(0, 6, true));
	/* one unmap across the remaining mappings of both objects */
	assert_int_equal(mem_unmap(&vs[0], VA(0, 6), 5), VR_OK);
	assert_int_equal(*touch(0, 5, false), 6);
	assert_null(touch(0, 6, false));
	assert_int_equal(*touch(0, 11, false), 0);
	assert_int_equal(mem_unmap(&vs[0], VA(0, 0), 0), VR_EINVAL);
	assert_true(mem_check_all());
}

/* A 1 GiB object: one 1 GiB leaf where the MMU has them, 2 MiB leaves
 * where it does not; cutting one page out splits down to 4 KiB there. */
static void test_huge_1g(void **state)
{
	uintptr_t va0 = VR_SLOT_BASE + VM_SIZE_1G, va1 = va0 + VR_SLOT_SIZE;
	struct mem_obj *mo;
	uint64_t size;

	(void)state;
	vm_set_page_sizes(true);
	mo = new_huge(MEM_MAX_PAGES, VM_SIZE_1G);
	assert_true(IS_ALIGNED(mo->pages[0], VM_SIZE_1G));
	assert_int_equal(mem_map_check(&vs[0], mo, va0, 0, MEM_MAX_PAGES), VR_OK);
	assert_int_equal(mem_map(&vs[0], mo, va0, 0, MEM_MAX_PAGES, RW, RW, 0), VR_OK);
	assert_int_equal(mem_fault(&vs[0], va0 + 12345 * PAGE_SIZE, HAL_ACCESS_WRITE), VR_OK);
	assert_int_equal(vs[0].leaves_1g, 1);
	assert_int_equal(vm_lookup_size(&vs[0], va0 + 12345 * PAGE_SIZE, &size) & PTE_ADDR_MASK,
			 mo->pages[12345]);
	assert_int_equal(size, VM_SIZE_1G);
	vm_set_page_sizes(false); /* an MMU without them: 2 MiB leaves */
	assert_int_equal(mem_map(&vs[1], mo, va1, 0, MEM_MAX_PAGES, RW, RW, 0), VR_OK);
	assert_int_equal(mem_fault(&vs[1], va1, 0), VR_OK);
	assert_int_equal(vs[1].leaves_2m, 1);
	assert_int_equal(vs[1].leaves_1g, 0);
	vm_set_page_sizes(true);
	assert_int_equal(mem_unmap(&vs[0], va0 + (5ull << 21) + PAGE_SIZE, 1), VR_OK);
	assert_int_equal(vs[0].leaves_1g, 0);
	assert_int_equal(vs[0].leaves_2m, 511);
	assert_int_equal(vs[0].mapped_pages, MEM_MAX_PAGES - 1);
	assert_true(mem_check_all());
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_demand_zero),
	T(test_shared_between_spaces),
	T(test_cow),
	T(test_lifetime),
	T(test_nofill_and_protect),
	T(test_quota),
	T(test_huge_object),
	T(test_huge_partial),
	T(test_huge_cow),
	T(test_private_mapping),
	T(test_partial_unmap_protect),
	cmocka_unit_test_setup_teardown(test_huge_1g, setup_big, teardown),
};

UNIT_MAIN("mem", tests, NULL, NULL)
