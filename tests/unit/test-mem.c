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

#define RAM_BYTES (4u << 20)
#define VA(space, page) (VR_SLOT_BASE + (space)*VR_SLOT_SIZE + 0x10000000ull + (page)*PAGE_SIZE)
#define RW (VM_READ | VM_WRITE)

static struct vm_space vs[2];
static struct cspace *cs;
static struct quota *root;
static uint64_t free_at_start;

static int setup(void **state)
{
	(void)state;
	if (!unit_boot_ram(RAM_BYTES))
		return -1;
	free_at_start = unit_free_pages();
	mem_init();
	cs = cspace_create(16);
	root = quota_create(NULL, QUOTA_UNLIMITED);
	if (!cs || !root || vm_space_init_quota(&vs[0], root) || vm_space_init_quota(&vs[1], root))
		return -1;
	return 0;
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
	assert_int_equal(mem_unmap(&vs[0], VA(0, 1), 1), VR_EINVAL);
	assert_int_equal(mem_unmap(&vs[0], VA(0, 3), 1), VR_ENOENT);
	assert_int_equal(mem_map_check(&vs[0], mo, VA(0, 1), 0, 1), VR_EBUSY);
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_demand_zero), T(test_shared_between_spaces), T(test_cow),
	T(test_lifetime),    T(test_nofill_and_protect),    T(test_quota),
};

UNIT_MAIN("mem", tests, NULL, NULL)
