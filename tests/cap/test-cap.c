/*
 * Unit tests of core/cap.c, compiled with core/pmm.c, kheap.c and klib.c
 * against the minimal fake HAL of cap_hal.c.
 *
 * Every test runs in a fixture that records the frame and slab counters
 * first and, after the test, destroys the cspaces it created and checks
 * that the counters are back and that each object's destroy callback ran
 * exactly once if it ever had a capability. check() runs cspace_check() on
 * every cspace and compares each object's ncaps with cap_count_refs(); the
 * tests call it after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/cap/cap_hal.h"

#include <veridian/cap.h>
#include <veridian/kheap.h>
#include <veridian/pmm.h>

#define RAM_PAGES 4096 /* 16 MiB: room for the 10,000-capability trees */
#define MAX_SPACES 128
#define MAX_OBJS 4

/* A test object; the test owns its memory, the callback only counts. */
struct tobj {
	struct kobj k;
	unsigned destroyed;
	bool had_caps;
};

struct fx {
	struct cspace *cs[MAX_SPACES];
	size_t ncs;
	struct tobj obj[MAX_OBJS];
	struct pmm_stats pmm0;
	struct kheap_stats heap0;
};

static void count_destroy(struct kobj *k)
{
	struct tobj *o = container_of(k, struct tobj, k);

	assert_int_equal(k->ncaps, 0);
	o->destroyed++;
}

static void panic_to_cmocka(const char *console)
{
	fail_msg("kernel panic: %s", console);
}

static int group_setup(void **state)
{
	(void)state;
	cap_hal_panic_hook = panic_to_cmocka;
	if (!cap_hal_init(RAM_PAGES))
		return -1;
	kobj_register_type(KOBJ_TEST, count_destroy);
	kobj_register_type(KOBJ_ENDPOINT, count_destroy);
	return 0;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	pmm_get_stats(&f->pmm0);
	kheap_get_stats(&f->heap0);
	for (size_t i = 0; i < MAX_OBJS; i++)
		f->obj[i].k.type = i == 1 ? KOBJ_ENDPOINT : KOBJ_TEST;
	*state = f;
	return 0;
}

/* Destroys what the test left and checks that nothing leaked. */
static int fx_teardown(void **state)
{
	struct fx *f = *state;
	struct pmm_stats pmm1;
	struct kheap_stats heap1;

	for (size_t i = 0; i < f->ncs; i++)
		if (f->cs[i])
			cspace_destroy(f->cs[i]);
	pmm_get_stats(&pmm1);
	kheap_get_stats(&heap1);
	assert_int_equal(pmm1.free_pages, f->pmm0.free_pages);
	assert_int_equal(heap1.objects, f->heap0.objects);
	assert_int_equal(heap1.slab_pages, f->heap0.slab_pages);
	assert_true(pmm_check());
	assert_true(kheap_check());
	for (size_t i = 0; i < MAX_OBJS; i++) {
		assert_int_equal(f->obj[i].k.ncaps, 0);
		assert_int_equal(f->obj[i].destroyed, f->obj[i].had_caps ? 1 : 0);
	}
	free(f);
	return 0;
}

static struct cspace *new_cs(struct fx *f, uint32_t nslots)
{
	struct cspace *cs = cspace_create(nslots);

	assert_non_null(cs);
	assert_true(f->ncs < MAX_SPACES);
	f->cs[f->ncs++] = cs;
	return cs;
}

/* The test destroys a cspace itself (the fixture must not do it again). */
static void drop_cs(struct fx *f, struct cspace *cs)
{
	for (size_t i = 0; i < f->ncs; i++) {
		if (f->cs[i] == cs) {
			f->cs[i] = f->cs[--f->ncs];
			cspace_destroy(cs);
			return;
		}
	}
	fail_msg("drop_cs: not a fixture cspace");
}

/* Invariants after a step: every cspace, and ncaps of every object. */
static void check(struct fx *f)
{
	for (size_t i = 0; i < f->ncs; i++)
		assert_true(cspace_check(f->cs[i]));
	for (size_t i = 0; i < MAX_OBJS; i++)
		assert_int_equal(f->obj[i].k.ncaps, cap_count_refs(f->cs, f->ncs, &f->obj[i].k));
}

static cap_handle_t insert(struct fx *f, struct cspace *cs, int obj, uint32_t rights,
			   uint64_t badge)
{
	cap_handle_t h;

	assert_int_equal(cap_insert(cs, &f->obj[obj].k, rights, badge, &h), VR_OK);
	f->obj[obj].had_caps = true;
	check(f);
	return h;
}

static cap_handle_t mint(struct fx *f, struct cspace *cs, cap_handle_t src, struct cspace *dst,
			 uint32_t rights, uint64_t badge, uint64_t expiry, uint64_t now)
{
	cap_handle_t h;

	assert_int_equal(cap_mint(cs, src, dst, rights, badge, expiry, now, &h), VR_OK);
	check(f);
	return h;
}

static struct cap *get(struct cspace *cs, cap_handle_t h, uint64_t now)
{
	struct cap *c = NULL;

	assert_int_equal(cap_lookup(cs, h, KOBJ_NONE, 0, now, &c), VR_OK);
	return c;
}

static void expect_info(struct cspace *cs, cap_handle_t h, uint64_t now, enum kobj_type type,
			uint32_t rights, uint64_t badge, uint64_t expiry)
{
	struct cap_info info;

	assert_int_equal(cap_identify(cs, h, now, &info), VR_OK);
	assert_int_equal(info.type, type);
	assert_int_equal(info.rights, rights);
	assert_int_equal(info.badge, badge);
	assert_int_equal(info.expiry, expiry);
}

static int lookup_err(struct cspace *cs, cap_handle_t h, enum kobj_type type, uint32_t rights,
		      uint64_t now)
{
	struct cap *c;

	return cap_lookup(cs, h, type, rights, now, &c);
}

#define RW (CAP_READ | CAP_WRITE)
#define RWD (CAP_READ | CAP_WRITE | CAP_DELEGATE)

static void test_create_limits(void **state)
{
	struct fx *f = *state;

	assert_null(cspace_create(0));
	assert_null(cspace_create(CAP_SLOTS_MAX + 1));
	struct cspace *big = new_cs(f, CAP_SLOTS_MAX);
	cap_handle_t h;
	struct cap *c;

	assert_int_equal(big->nslots, CAP_SLOTS_MAX);
	check(f);
	/* The last slot is reachable: fill slot 0 only, then look far. */
	h = insert(f, big, 0, CAP_RIGHTS_ALL, 0);
	assert_int_equal(h, cap_handle(0, 0));
	assert_int_equal(lookup_err(big, cap_handle(CAP_SLOTS_MAX - 1, 0), KOBJ_NONE, 0, 0),
			 VR_ECAP_EMPTY);
	assert_int_equal(cap_lookup(big, h, KOBJ_TEST, CAP_RIGHTS_ALL, 0, &c), VR_OK);
	drop_cs(f, big);
	assert_int_equal(f->obj[0].destroyed, 1);
}

static void test_insert_identify(void **state)
{
	struct fx *f = *state;
	struct cspace *cs = new_cs(f, 4);
	struct kobj none = { .type = KOBJ_NONE }, bad = { .type = KOBJ_TYPE_COUNT };
	cap_handle_t h, h2;

	h = insert(f, cs, 0, RW, 0);
	assert_int_equal(h, cap_handle(0, 0));
	expect_info(cs, h, 0, KOBJ_TEST, RW, 0, CAP_NO_EXPIRY);
	h2 = insert(f, cs, 1, CAP_RIGHTS_ALL, 42);
	assert_int_equal(h2, cap_handle(1, 0));
	expect_info(cs, h2, 0, KOBJ_ENDPOINT, CAP_RIGHTS_ALL, 42, CAP_NO_EXPIRY);
	assert_null(get(cs, h, 0)->parent);

	assert_int_equal(cap_insert(cs, &f->obj[0].k, CAP_RIGHTS_ALL + 1, 0, &h), VR_EINVAL);
	assert_int_equal(cap_insert(cs, &f->obj[0].k, 1u << 31, 0, &h), VR_EINVAL);
	assert_int_equal(cap_insert(cs, NULL, RW, 0, &h), VR_EINVAL);
	assert_int_equal(cap_insert(cs, &none, RW, 0, &h), VR_EINVAL);
	assert_int_equal(cap_insert(cs, &bad, RW, 0, &h), VR_EINVAL);
	check(f);
	assert_int_equal(f->obj[0].k.ncaps, 1);
	assert_int_equal(none.ncaps + bad.ncaps, 0);
}

/* RANGE, STALE, EMPTY, EXPIRED, TYPE, RIGHTS: each is reported even when
 * every later condition also fails. */
static void test_lookup_error_order(void **state)
{
	struct fx *f = *state;
	struct cspace *cs = new_cs(f, 3), *other = new_cs(f, 3);
	cap_handle_t root, h, moved;
	struct cap *c;

	root = insert(f, cs, 0, CAP_RIGHTS_ALL, 0);
	h = mint(f, cs, root, cs, CAP_READ, 0, 100, 10);

	/* RANGE: any slot >= nslots, whatever the generation. */
	assert_int_equal(lookup_err(cs, cap_handle(3, 0), KOBJ_TEST, 0, 0), VR_ECAP_RANGE);
	assert_int_equal(lookup_err(cs, cap_handle(3, 7), KOBJ_TEST, 0, 0), VR_ECAP_RANGE);
	assert_int_equal(lookup_err(cs, 0xffffffffu, KOBJ_TEST, 0, 0), VR_ECAP_RANGE);
	/* STALE before EMPTY: slot 2 is empty with generation 0. */
	assert_int_equal(lookup_err(cs, cap_handle(2, 1), KOBJ_NONE, 0, 0), VR_ECAP_STALE);
	assert_int_equal(lookup_err(cs, cap_handle(2, 0), KOBJ_NONE, 0, 0), VR_ECAP_EMPTY);
	/* EXPIRED before TYPE and RIGHTS (h: READ only, KOBJ_TEST, expiry 100). */
	assert_int_equal(lookup_err(cs, h, KOBJ_ENDPOINT, CAP_WRITE, 100), VR_ECAP_EXPIRED);
	/* TYPE before RIGHTS. */
	assert_int_equal(lookup_err(cs, h, KOBJ_ENDPOINT, CAP_WRITE, 99), VR_ECAP_TYPE);
	assert_int_equal(lookup_err(cs, h, KOBJ_TEST, CAP_WRITE, 99), VR_ECAP_RIGHTS);
	assert_int_equal(lookup_err(cs, h, KOBJ_TEST, CAP_READ | CAP_WRITE, 99), VR_ECAP_RIGHTS);
	/* An out-of-range type is just another type. */
	assert_int_equal(lookup_err(cs, h, KOBJ_TYPE_COUNT, 0, 99), VR_ECAP_TYPE);
	assert_int_equal(cap_lookup(cs, h, KOBJ_TEST, CAP_READ, 99, &c), VR_OK);
	assert_int_equal(c->rights, CAP_READ);
	check(f);

	/* STALE after delete, EMPTY through the slot's new generation. */
	assert_int_equal(cap_delete(cs, h), VR_OK);
	check(f);
	assert_int_equal(lookup_err(cs, h, KOBJ_NONE, 0, 0), VR_ECAP_STALE);
	assert_int_equal(lookup_err(cs, cap_handle(1, 1), KOBJ_NONE, 0, 0), VR_ECAP_EMPTY);
	assert_int_equal(cap_delete(cs, h), VR_ECAP_STALE);
	assert_int_equal(cap_delete(cs, cap_handle(1, 1)), VR_ECAP_EMPTY);
	assert_int_equal(cap_delete(cs, cap_handle(9, 0)), VR_ECAP_RANGE);

	/* The slot's next capability has the new generation. */
	h = mint(f, cs, root, cs, CAP_READ, 0, CAP_NO_EXPIRY, 0);
	assert_int_equal(h, cap_handle(1, 1));

	/* STALE after move; the moved one answers at its new handle. */
	assert_int_equal(cap_move(cs, h, other, 0, &moved), VR_OK);
	check(f);
	assert_int_equal(moved, cap_handle(0, 0));
	assert_int_equal(lookup_err(cs, h, KOBJ_NONE, 0, 0), VR_ECAP_STALE);
	assert_int_equal(lookup_err(cs, cap_handle(1, 2), KOBJ_NONE, 0, 0), VR_ECAP_EMPTY);
	expect_info(other, moved, 0, KOBJ_TEST, CAP_READ, 0, CAP_NO_EXPIRY);

	/* identify and revoke decode in the same order. */
	struct cap_info info;
	unsigned n;
	assert_int_equal(cap_identify(cs, cap_handle(5, 0), 0, &info), VR_ECAP_RANGE);
	assert_int_equal(cap_identify(cs, h, 0, &info), VR_ECAP_STALE);
	assert_int_equal(cap_identify(cs, cap_handle(2, 0), 0, &info), VR_ECAP_EMPTY);
	assert_int_equal(cap_revoke(cs, cap_handle(5, 0), 10, &n), VR_ECAP_RANGE);
	assert_int_equal(n, 0);
	assert_int_equal(cap_revoke(cs, h, 10, &n), VR_ECAP_STALE);
	assert_int_equal(cap_revoke(cs, cap_handle(2, 0), 10, &n), VR_ECAP_EMPTY);
	check(f);
}

/* Expired at and after the expiry time, not before; an expired capability
 * can still be deleted and revoked but not used, derived from or moved. */
static void test_expiry_boundary(void **state)
{
	struct fx *f = *state;
	struct cspace *cs = new_cs(f, 4);
	cap_handle_t root, h, out;
	struct cap_info info;
	unsigned n;

	root = insert(f, cs, 0, CAP_RIGHTS_ALL, 0);
	h = mint(f, cs, root, cs, CAP_RIGHTS_ALL, 0, 100, 50);
	mint(f, cs, h, cs, CAP_READ, 0, CAP_NO_EXPIRY, 60);

	assert_int_equal(lookup_err(cs, h, KOBJ_TEST, CAP_READ, 99), VR_OK);
	assert_int_equal(cap_identify(cs, h, 99, &info), VR_OK);
	assert_int_equal(info.expiry, 100);
	assert_int_equal(lookup_err(cs, h, KOBJ_TEST, CAP_READ, 100), VR_ECAP_EXPIRED);
	assert_int_equal(lookup_err(cs, h, KOBJ_TEST, CAP_READ, 101), VR_ECAP_EXPIRED);
	assert_int_equal(lookup_err(cs, h, KOBJ_NONE, 0, UINT64_MAX), VR_ECAP_EXPIRED);
	assert_int_equal(cap_identify(cs, h, 100, &info), VR_ECAP_EXPIRED);
	assert_int_equal(cap_mint(cs, h, cs, CAP_READ, 0, 0, 100, &out), VR_ECAP_EXPIRED);
	assert_int_equal(cap_copy(cs, h, cs, 100, &out), VR_ECAP_EXPIRED);
	assert_int_equal(cap_move(cs, h, cs, 100, &out), VR_ECAP_EXPIRED);
	/* The grandchild inherited expiry 100 too. */
	assert_int_equal(lookup_err(cs, cap_handle(2, 0), KOBJ_NONE, 0, 100), VR_ECAP_EXPIRED);
	check(f);

	assert_int_equal(cap_revoke(cs, h, 10, &n), VR_OK);
	assert_int_equal(n, 1);
	check(f);
	assert_int_equal(cap_delete(cs, h), VR_OK);
	check(f);
	assert_int_equal(f->obj[0].k.ncaps, 1);
	/* An original never expires. */
	assert_int_equal(lookup_err(cs, root, KOBJ_NONE, 0, UINT64_MAX), VR_OK);
}

/* Rights only shrink; DELEGATE is needed to derive. */
static void test_mint_rights(void **state)
{
	struct fx *f = *state;
	struct cspace *cs = new_cs(f, 8);
	cap_handle_t root, h, r, out;

	root = insert(f, cs, 0, RWD, 0);
	h = mint(f, cs, root, cs, CAP_RIGHTS_ALL, 0, 0, 0);
	expect_info(cs, h, 0, KOBJ_TEST, RWD, 0, CAP_NO_EXPIRY); /* not grown */
	r = mint(f, cs, h, cs, CAP_READ | CAP_EXECUTE, 0, 0, 0);
	expect_info(cs, r, 0, KOBJ_TEST, CAP_READ, 0, CAP_NO_EXPIRY);
	assert_ptr_equal(get(cs, r, 0)->parent, get(cs, h, 0));

	/* Rights outside CAP_RIGHTS_ALL are a caller error, even with a bad handle. */
	assert_int_equal(cap_mint(cs, h, cs, 0x40, 0, 0, 0, &out), VR_EINVAL);
	assert_int_equal(cap_mint(cs, cap_handle(99, 0), cs, 0x80, 0, 0, 0, &out), VR_EINVAL);
	/* No DELEGATE on r: neither mint nor copy. */
	assert_int_equal(cap_mint(cs, r, cs, CAP_READ, 0, 0, 0, &out), VR_ECAP_RIGHTS);
	assert_int_equal(cap_copy(cs, r, cs, 0, &out), VR_ECAP_RIGHTS);
	check(f);

	/* Copy: same rights, badge, expiry, and a child of its source. */
	out = mint(f, cs, h, cs, RW | CAP_DELEGATE, 5, 300, 0);
	cap_handle_t cp;
	assert_int_equal(cap_copy(cs, out, cs, 0, &cp), VR_OK);
	check(f);
	expect_info(cs, cp, 0, KOBJ_TEST, RWD, 5, 300);
	assert_ptr_equal(get(cs, cp, 0)->parent, get(cs, out, 0));

	/* Rights 0 is allowed: a capability good only for identify/delete. */
	cap_handle_t z = mint(f, cs, h, cs, 0, 0, 0, 0);
	expect_info(cs, z, 0, KOBJ_TEST, 0, 0, CAP_NO_EXPIRY);
	assert_int_equal(lookup_err(cs, z, KOBJ_TEST, CAP_READ, 0), VR_ECAP_RIGHTS);
	assert_int_equal(f->obj[0].k.ncaps, 6);
}

/* An unbadged capability may be badged once; the badge then stays. */
static void test_badges(void **state)
{
	struct fx *f = *state;
	struct cspace *cs = new_cs(f, 8);
	cap_handle_t root, b, out;

	root = insert(f, cs, 1, CAP_RIGHTS_ALL, 0);
	expect_info(cs, mint(f, cs, root, cs, CAP_RIGHTS_ALL, 0, 0, 0), 0, KOBJ_ENDPOINT,
		    CAP_RIGHTS_ALL, 0, 0);
	b = mint(f, cs, root, cs, CAP_RIGHTS_ALL, 7, 0, 0);
	expect_info(cs, b, 0, KOBJ_ENDPOINT, CAP_RIGHTS_ALL, 7, 0);
	expect_info(cs, mint(f, cs, b, cs, CAP_READ, 0, 0, 0), 0, KOBJ_ENDPOINT, CAP_READ, 7, 0);
	expect_info(cs, mint(f, cs, b, cs, CAP_READ, 7, 0, 0), 0, KOBJ_ENDPOINT, CAP_READ, 7, 0);
	assert_int_equal(cap_mint(cs, b, cs, CAP_READ, 8, 0, 0, &out), VR_EINVAL);
	expect_info(cs, mint(f, cs, b, cs, CAP_READ | CAP_DELEGATE, 0, 0, 0), 0, KOBJ_ENDPOINT,
		    CAP_READ | CAP_DELEGATE, 7, 0);
	check(f);

	/* An original inserted with a badge is badged too. */
	cap_handle_t o = insert(f, cs, 1, CAP_RIGHTS_ALL, 9);
	assert_int_equal(cap_mint(cs, o, cs, CAP_READ, 10, 0, 0, &out), VR_EINVAL);
	expect_info(cs, mint(f, cs, o, cs, CAP_READ, 9, 0, 0), 0, KOBJ_ENDPOINT, CAP_READ, 9, 0);
	check(f);
}

/* A child expires at the earlier of its parent's expiry and the requested
 * one; a requested expiry at or before now is refused. */
static void test_mint_expiry(void **state)
{
	struct fx *f = *state;
	struct cspace *cs = new_cs(f, 8);
	cap_handle_t root, e200, out;

	root = insert(f, cs, 0, CAP_RIGHTS_ALL, 0);
	e200 = mint(f, cs, root, cs, CAP_RIGHTS_ALL, 0, 200, 10);
	expect_info(cs, e200, 10, KOBJ_TEST, CAP_RIGHTS_ALL, 0, 200);
	expect_info(cs, mint(f, cs, e200, cs, CAP_READ, 0, 300, 10), 10, KOBJ_TEST, CAP_READ, 0,
		    200);
	expect_info(cs, mint(f, cs, e200, cs, CAP_READ, 0, 150, 10), 10, KOBJ_TEST, CAP_READ, 0,
		    150);
	expect_info(cs, mint(f, cs, e200, cs, CAP_READ, 0, CAP_NO_EXPIRY, 10), 10, KOBJ_TEST,
		    CAP_READ, 0, 200);
	assert_int_equal(cap_mint(cs, e200, cs, CAP_READ, 0, 10, 10, &out), VR_EINVAL);
	assert_int_equal(cap_mint(cs, e200, cs, CAP_READ, 0, 5, 10, &out), VR_EINVAL);
	assert_int_equal(cap_mint(cs, root, cs, CAP_READ, 0, 1, 10, &out), VR_EINVAL);
	expect_info(cs, mint(f, cs, e200, cs, CAP_READ, 0, 11, 10), 10, KOBJ_TEST, CAP_READ, 0, 11);
	assert_int_equal(cap_copy(cs, e200, cs, 10, &out), VR_OK);
	check(f);
	expect_info(cs, out, 10, KOBJ_TEST, CAP_RIGHTS_ALL, 0, 200);
}

/* Move keeps the capability's place in the derivation tree. */
static void test_move(void **state)
{
	struct fx *f = *state;
	struct cspace *a = new_cs(f, 4), *b = new_cs(f, 4);
	cap_handle_t root, mid, leaf, mid2, leaf2, root2, out;
	unsigned n;

	root = insert(f, a, 0, CAP_RIGHTS_ALL, 0);
	mid = mint(f, a, root, a, RWD, 3, 500, 0);
	leaf = mint(f, a, mid, a, CAP_READ, 0, 0, 0);

	/* Move the middle of a chain to another cspace. */
	assert_int_equal(cap_move(a, mid, b, 0, &mid2), VR_OK);
	check(f);
	assert_int_equal(lookup_err(a, mid, KOBJ_NONE, 0, 0), VR_ECAP_STALE);
	expect_info(b, mid2, 0, KOBJ_TEST, RWD, 3, 500);
	assert_ptr_equal(get(b, mid2, 0)->parent, get(a, root, 0));
	assert_ptr_equal(get(a, leaf, 0)->parent, get(b, mid2, 0));
	assert_int_equal(f->obj[0].k.ncaps, 3);

	/* Move the leaf next to it, then the original root. */
	assert_int_equal(cap_move(a, leaf, b, 0, &leaf2), VR_OK);
	check(f);
	assert_int_equal(cap_move(a, root, b, 0, &root2), VR_OK);
	check(f);
	assert_int_equal(lookup_err(a, root, KOBJ_NONE, 0, 0), VR_ECAP_STALE);
	assert_null(get(b, root2, 0)->parent);
	assert_ptr_equal(get(b, mid2, 0)->parent, get(b, root2, 0));

	/* Moving within one cspace works too. */
	cap_handle_t back;
	assert_int_equal(cap_move(b, leaf2, b, 0, &back), VR_OK);
	check(f);
	assert_int_equal(back, cap_handle(3, 0));
	assert_int_equal(lookup_err(b, leaf2, KOBJ_NONE, 0, 0), VR_ECAP_STALE);

	/* Full destination: ENOMEM, nothing changed. */
	insert(f, a, 2, CAP_READ, 0);
	insert(f, a, 2, CAP_READ, 0);
	insert(f, a, 2, CAP_READ, 0);
	insert(f, a, 2, CAP_READ, 0);
	assert_int_equal(cap_move(b, mid2, a, 0, &out), VR_ENOMEM);
	check(f);
	expect_info(b, mid2, 0, KOBJ_TEST, RWD, 3, 500);

	/* Revoking the moved root removes the moved descendants. */
	assert_int_equal(cap_revoke(b, root2, 100, &n), VR_OK);
	assert_int_equal(n, 2);
	check(f);
	assert_int_equal(lookup_err(b, mid2, KOBJ_NONE, 0, 0), VR_ECAP_STALE);
	assert_int_equal(lookup_err(b, back, KOBJ_NONE, 0, 0), VR_ECAP_STALE);
	assert_int_equal(f->obj[0].k.ncaps, 1);
	assert_int_equal(f->obj[0].destroyed, 0);
}

/* Revoking a parent removes a child that was moved to another cspace. */
static void test_revoke_follows_moved_child(void **state)
{
	struct fx *f = *state;
	struct cspace *a = new_cs(f, 2), *b = new_cs(f, 2);
	cap_handle_t root, child, moved;
	unsigned n;

	root = insert(f, a, 0, CAP_RIGHTS_ALL, 0);
	child = mint(f, a, root, a, CAP_READ, 0, 0, 0);
	assert_int_equal(cap_move(a, child, b, 0, &moved), VR_OK);
	check(f);
	assert_int_equal(cap_revoke(a, root, 1, &n), VR_OK);
	assert_int_equal(n, 1);
	check(f);
	assert_int_equal(lookup_err(b, moved, KOBJ_NONE, 0, 0), VR_ECAP_STALE);
	assert_int_equal(f->obj[0].k.ncaps, 1);
}

/* Delete moves the children up to the deleted capability's parent. */
static void test_delete_reparents(void **state)
{
	struct fx *f = *state;
	struct cspace *cs = new_cs(f, 8), *other = new_cs(f, 2);
	cap_handle_t a, b, c1, c2, d;
	unsigned n;

	a = insert(f, cs, 0, CAP_RIGHTS_ALL, 0);
	b = mint(f, cs, a, cs, RWD, 0, 0, 0);
	c1 = mint(f, cs, b, cs, CAP_READ, 0, 0, 0);
	c2 = mint(f, cs, b, other, RWD, 0, 0, 0);
	d = mint(f, other, c2, cs, CAP_READ, 0, 0, 0);

	assert_int_equal(cap_delete(cs, b), VR_OK);
	check(f);
	assert_ptr_equal(get(cs, c1, 0)->parent, get(cs, a, 0));
	assert_ptr_equal(get(other, c2, 0)->parent, get(cs, a, 0));
	assert_ptr_equal(get(cs, d, 0)->parent, get(other, c2, 0));
	assert_int_equal(f->obj[0].k.ncaps, 4);

	/* Deleting an original: its children become originals. */
	assert_int_equal(cap_delete(cs, a), VR_OK);
	check(f);
	assert_null(get(cs, c1, 0)->parent);
	assert_null(get(other, c2, 0)->parent);
	assert_int_equal(f->obj[0].destroyed, 0);

	/* Revoke from the new original still finds its grandchild. */
	assert_int_equal(cap_revoke(other, c2, 5, &n), VR_OK);
	assert_int_equal(n, 1);
	check(f);
	assert_int_equal(f->obj[0].k.ncaps, 2);
	assert_int_equal(cap_delete(cs, c1), VR_OK);
	check(f);
	assert_int_equal(f->obj[0].destroyed, 0);
	assert_int_equal(cap_delete(other, c2), VR_OK);
	check(f);
	assert_int_equal(f->obj[0].destroyed, 1);
}

/* The destroy callback runs exactly once, with the last capability, however
 * that capability goes. */
static void test_destroy_once(void **state)
{
	struct fx *f = *state;
	struct cspace *a = new_cs(f, 4), *b = new_cs(f, 4);
	cap_handle_t r0, r1, r2;
	unsigned n;

	/* obj 0: last capability deleted by cap_delete after a revoke. */
	r0 = insert(f, a, 0, CAP_RIGHTS_ALL, 0);
	mint(f, a, r0, b, CAP_RIGHTS_ALL, 0, 0, 0);
	assert_int_equal(cap_revoke(a, r0, 10, &n), VR_OK);
	check(f);
	assert_int_equal(f->obj[0].destroyed, 0);
	assert_int_equal(cap_delete(a, r0), VR_OK);
	check(f);
	assert_int_equal(f->obj[0].destroyed, 1);

	/* obj 1: lives in both cspaces; dies with the second cspace_destroy. */
	r1 = insert(f, a, 1, CAP_RIGHTS_ALL, 0);
	mint(f, a, r1, b, CAP_RIGHTS_ALL, 0, 0, 0);
	mint(f, a, r1, a, CAP_READ, 0, 0, 0);
	/* obj 2: a single original, dies with cspace a. */
	r2 = insert(f, a, 2, CAP_RIGHTS_ALL, 0);
	(void)r2;
	drop_cs(f, b);
	check(f);
	assert_int_equal(f->obj[1].destroyed, 0);
	assert_int_equal(f->obj[1].k.ncaps, 2);
	drop_cs(f, a);
	assert_int_equal(f->obj[1].destroyed, 1);
	assert_int_equal(f->obj[2].destroyed, 1);
}

/* cspace_destroy of a cspace holding the middle of a chain reparents the
 * descendants held elsewhere. */
static void test_cspace_destroy_reparents(void **state)
{
	struct fx *f = *state;
	struct cspace *a = new_cs(f, 2), *b = new_cs(f, 2), *c = new_cs(f, 2);
	cap_handle_t root, mid, leaf;
	unsigned n;

	root = insert(f, a, 0, CAP_RIGHTS_ALL, 0);
	mid = mint(f, a, root, b, CAP_RIGHTS_ALL, 0, 0, 0);
	leaf = mint(f, b, mid, c, CAP_READ, 0, 0, 0);
	drop_cs(f, b);
	check(f);
	assert_ptr_equal(get(c, leaf, 0)->parent, get(a, root, 0));
	assert_int_equal(cap_revoke(a, root, 1, &n), VR_OK);
	check(f);
	assert_int_equal(f->obj[0].k.ncaps, 1);
}

static void revoke_in_steps(struct fx *f, struct cspace *cs, cap_handle_t h, unsigned budget,
			    unsigned expect_total)
{
	unsigned total = 0, n, calls = 0;
	uint32_t before;
	int rc;

	do {
		before = f->obj[0].k.ncaps;
		rc = cap_revoke(cs, h, budget, &n);
		calls++;
		assert_true(rc == VR_OK || rc == VR_EAGAIN);
		assert_true(n <= budget);
		if (rc == VR_EAGAIN)
			assert_int_equal(n, budget); /* no short call before the end */
		assert_int_equal(f->obj[0].k.ncaps, before - n);
		total += n;
		check(f);
	} while (rc == VR_EAGAIN);
	assert_int_equal(total, expect_total);
	assert_int_equal(calls, (expect_total + budget - 1) / budget);
	assert_int_equal(cap_revoke(cs, h, budget, &n), VR_OK);
	assert_int_equal(n, 0);
}

#define BIG 10000u

static void test_revoke_deep_chain(void **state)
{
	struct fx *f = *state;
	struct cspace *cs = new_cs(f, BIG + 1);
	cap_handle_t root, h;
	unsigned n;

	root = insert(f, cs, 0, CAP_RIGHTS_ALL, 0);
	h = root;
	for (unsigned i = 0; i < BIG; i++)
		assert_int_equal(cap_mint(cs, h, cs, CAP_RIGHTS_ALL, 0, 0, 0, &h), VR_OK);
	check(f);
	assert_int_equal(f->obj[0].k.ncaps, BIG + 1);
	/* Budget 0 makes no progress but reports that work remains. */
	assert_int_equal(cap_revoke(cs, root, 0, &n), VR_EAGAIN);
	assert_int_equal(n, 0);
	revoke_in_steps(f, cs, root, 97, BIG);
	assert_int_equal(f->obj[0].k.ncaps, 1);
	assert_int_equal(lookup_err(cs, h, KOBJ_NONE, 0, 0), VR_ECAP_STALE);
}

/* 100 children of the root, each with 100 children, each family in its own
 * cspace (cap.c checks only the cspaces an operation touches, and
 * cspace_check() is linear in siblings per capability). */
static void test_revoke_wide_tree(void **state)
{
	struct fx *f = *state;
	struct cspace *top = new_cs(f, 1);
	cap_handle_t root, mid, out;

	root = insert(f, top, 0, CAP_RIGHTS_ALL, 0);
	for (unsigned i = 0; i < 100; i++) {
		struct cspace *cs = new_cs(f, 101);
		assert_int_equal(cap_mint(top, root, cs, CAP_RIGHTS_ALL, 0, 0, 0, &mid), VR_OK);
		for (unsigned j = 0; j < 100; j++)
			assert_int_equal(cap_mint(cs, mid, cs, RW, 0, 0, 0, &out), VR_OK);
	}
	check(f);
	assert_int_equal(f->obj[0].k.ncaps, 100 * 101 + 1);
	revoke_in_steps(f, top, root, 64, 100 * 101);
	assert_int_equal(f->obj[0].k.ncaps, 1);
}

/* Every operation that needs a slot reports a full cspace as ENOMEM and
 * changes nothing. */
static void test_full_cspace(void **state)
{
	struct fx *f = *state;
	struct cspace *cs = new_cs(f, 2), *src = new_cs(f, 2);
	cap_handle_t h, s, out;

	insert(f, cs, 0, CAP_RIGHTS_ALL, 0);
	insert(f, cs, 1, CAP_RIGHTS_ALL, 0);
	s = insert(f, src, 0, CAP_RIGHTS_ALL, 0);
	assert_int_equal(cap_insert(cs, &f->obj[0].k, CAP_READ, 0, &h), VR_ENOMEM);
	assert_int_equal(cap_mint(src, s, cs, CAP_READ, 0, 0, 0, &out), VR_ENOMEM);
	assert_int_equal(cap_copy(src, s, cs, 0, &out), VR_ENOMEM);
	assert_int_equal(cap_move(src, s, cs, 0, &out), VR_ENOMEM);
	/* A move within a full cspace needs a free slot too. */
	assert_int_equal(cap_move(cs, cap_handle(0, 0), cs, 0, &out), VR_ENOMEM);
	check(f);
	assert_int_equal(f->obj[0].k.ncaps, 2);
	/* Decode errors come before the slot search. */
	assert_int_equal(cap_mint(src, cap_handle(1, 0), cs, CAP_READ, 0, 0, 0, &out),
			 VR_ECAP_EMPTY);
	assert_int_equal(cap_mint(src, s, cs, CAP_READ, 0, 1, 5, &out), VR_EINVAL);
}

/* Stats are back to where they were after a mix of everything. */
static void test_no_leak_many_spaces(void **state)
{
	struct fx *f = *state;
	struct pmm_stats p;
	struct kheap_stats k;

	for (int round = 0; round < 3; round++) {
		struct cspace *cs[8];
		cap_handle_t h[8];
		for (int i = 0; i < 8; i++) {
			cs[i] = new_cs(f, 1u + (uint32_t)i * 300);
			h[i] = insert(f, cs[i], i % MAX_OBJS, CAP_RIGHTS_ALL, 0);
		}
		for (int i = 1; i < 8; i++)
			mint(f, cs[i - 1], h[i - 1], cs[i], CAP_RIGHTS_ALL, 0, 0, 0);
		for (int i = 7; i >= 0; i--)
			drop_cs(f, cs[i]);
		pmm_get_stats(&p);
		kheap_get_stats(&k);
		assert_int_equal(p.free_pages, f->pmm0.free_pages);
		assert_int_equal(k.objects, f->heap0.objects);
		for (int i = 0; i < MAX_OBJS; i++) {
			assert_int_equal(f->obj[i].destroyed, 1);
			f->obj[i].destroyed = 0; /* the next round inserts them again */
		}
	}
	for (int i = 0; i < MAX_OBJS; i++)
		f->obj[i].had_caps = false;
}

static unsigned cspaces_destroyed;

/* What the kernel's KOBJ_CSPACE destroy callback does: free the cspace. */
static void destroy_cspace(struct kobj *k)
{
	cspaces_destroyed++;
	cspace_destroy(container_of(k, struct cspace, obj));
}

/*
 * Bug pinned: "cap_delete checks a cspace its destroy callback freed".
 * cap_delete() ran KCHECK(cspace_check(cs)) after delete_cap() had called
 * the object's destroy callback. When the deleted capability was the last
 * one to the cspace it lived in, the callback freed that cspace, and the
 * check read freed memory: kfree() had overwritten cs->obj.type with its
 * free-list link, so debug builds panicked ("assertion failed:
 * cspace_check(cs)") and others would have used freed memory. Fixed in
 * core/cap.c: cap_delete() finishes with the cspace before the callback.
 */
static void test_bug_delete_last_cap_to_own_cspace(void **state)
{
	struct fx *f = *state;
	struct cspace *self = cspace_create(3), *other = new_cs(f, 2);
	cap_handle_t h, h2, in_other;

	assert_non_null(self);
	cspaces_destroyed = 0;
	kobj_register_type(KOBJ_CSPACE, destroy_cspace);
	assert_int_equal(cap_insert(self, &self->obj, CAP_RIGHTS_ALL, 0, &h), VR_OK);
	assert_int_equal(cap_insert(self, &f->obj[0].k, CAP_RIGHTS_ALL, 0, &h2), VR_OK);
	f->obj[0].had_caps = true;
	assert_int_equal(cap_mint(self, h2, other, CAP_READ, 0, 0, 0, &in_other), VR_OK);
	struct cspace *both[] = { self, other };
	assert_true(cspace_check(self));
	assert_true(cspace_check(other));
	assert_int_equal(cap_count_refs(both, 2, &f->obj[0].k), 2);
	assert_int_equal(cap_count_refs(both, 2, &self->obj), self->obj.ncaps);
	assert_int_equal(cap_delete(self, h), VR_OK); /* frees `self` */
	assert_int_equal(cspaces_destroyed, 1);
	check(f);
	/* self's capability to obj 0 went with it; the child in `other` is an
	 * original now. */
	assert_int_equal(f->obj[0].k.ncaps, 1);
	assert_null(get(other, in_other, 0)->parent);

	/* The last capability to a cspace held in another cspace. */
	self = cspace_create(1);
	assert_non_null(self);
	assert_int_equal(cap_insert(other, &self->obj, CAP_READ, 0, &h), VR_OK);
	check(f);
	assert_int_equal(cap_delete(other, h), VR_OK);
	assert_int_equal(cspaces_destroyed, 2);
	check(f);
	kobj_register_type(KOBJ_CSPACE, NULL);
}

/* Bug: a slot's 16-bit generation wrapped after 65,536 reuses, and a
 * handle kept from the first capability named the new one again. Now the
 * slot is retired before its generation wraps. */
static void test_bug_generation_wrap_revives_stale_handle(void **state)
{
	struct fx *f = *state;
	struct cspace *cs = new_cs(f, 3);
	cap_handle_t keeper, first, h;
	struct cap *c;

	keeper = insert(f, cs, 0, CAP_RIGHTS_ALL, 0); /* slot 0 keeps the object alive */
	first = insert(f, cs, 0, CAP_RIGHTS_ALL, 0);  /* slot 1 */
	assert_int_equal(first & (CAP_SLOTS_MAX - 1), 1);
	assert_int_equal(cap_delete(cs, first), VR_OK);
	for (unsigned i = 1; i < 70000; i++) {
		assert_int_equal(cap_insert(cs, &f->obj[0].k, CAP_RIGHTS_ALL, 0, &h), VR_OK);
		assert_int_equal(cap_delete(cs, h), VR_OK);
	}
	/* slot 1 was retired at generation 65535; the loop went on in slot 2 */
	assert_int_equal(cs->slots[1].gen, UINT16_MAX);
	assert_int_equal(cap_lookup(cs, first, KOBJ_NONE, 0, 0, &c), VR_ECAP_STALE);
	assert_int_equal(cap_insert(cs, &f->obj[0].k, CAP_RIGHTS_ALL, 0, &h), VR_OK);
	assert_int_equal(h & (CAP_SLOTS_MAX - 1), 2);
	assert_int_equal(cap_delete(cs, h), VR_OK);
	assert_int_equal(cap_delete(cs, keeper), VR_OK);
	check(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_limits),
		T(test_insert_identify),
		T(test_lookup_error_order),
		T(test_expiry_boundary),
		T(test_mint_rights),
		T(test_badges),
		T(test_mint_expiry),
		T(test_move),
		T(test_revoke_follows_moved_child),
		T(test_delete_reparents),
		T(test_destroy_once),
		T(test_cspace_destroy_reparents),
		T(test_revoke_deep_chain),
		T(test_revoke_wide_tree),
		T(test_full_cspace),
		T(test_no_leak_many_spaces),
		T(test_bug_delete_last_cap_to_own_cspace),
		T(test_bug_generation_wrap_revives_stale_handle),
	};

	return cmocka_run_group_tests_name("cap", tests, group_setup, NULL);
}
