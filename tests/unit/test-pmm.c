/*
 * Unit tests of the buddy frame allocator (core/pmm.c), compiled into this
 * file so the tests can look at the per-frame metadata itself.
 */
#include "core/pmm.c"

#include "tests/unit/unit.h"

#define RAM_BYTES (4u << 20) /* 1024 frames, 8 reserved by the fake HAL */

static struct pmm_stats start;

static int setup(void **state)
{
	(void)state;
	if (!fake_hal_init(RAM_BYTES))
		return -1;
	if (pmm_init(&fake_hal.bi) != VR_OK)
		return -1;
	pmm_get_stats(&start);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_hal_fini();
	return 0;
}

static bool frame_used(uint64_t pa)
{
	return pmm.frames[(pa >> PAGE_SHIFT) - pmm.base_pfn].flags & (FRAME_USED | FRAME_RESERVED);
}

static void test_init_counts(void **state)
{
	uint64_t region = fake_hal.bi.mem[0].size / PAGE_SIZE;

	(void)state;
	/* 16 bytes of metadata for each of the 1016 frames: 4 pages. */
	assert_int_equal(start.total_pages, region - 4);
	assert_int_equal(start.free_pages, start.total_pages);
	assert_true(pmm_check());
	assert_int_equal(pmm.base_pfn, FAKE_RESERVED_FRAMES);
	assert_true(frame_used(virt_to_phys(pmm.frames)));
}

static void test_init_rejects_empty(void **state)
{
	struct boot_info bi = { .mem_count = 0 };

	(void)state;
	assert_int_equal(pmm_init(&bi), VR_EINVAL);
	/* A region smaller than a page once rounded inwards is no memory. */
	bi.mem[0] = (struct boot_mem_region){ .base = 0x10001, .size = 0x1000 };
	bi.mem_count = 1;
	assert_int_equal(pmm_init(&bi), VR_EINVAL);
}

/* The metadata for the whole span must fit in one region: two one-page
 * regions 1 GiB apart need 4 MiB of it and have no room.
 * pmm_init fails before it writes anything, so the far region need not
 * exist in the fake RAM. */
static void test_init_no_room_for_bitmap(void **state)
{
	struct boot_info bi = { .mem_count = 2 };

	(void)state;
	bi.mem[0] = (struct boot_mem_region){ .base = 0x10000, .size = 0x1000 };
	bi.mem[1] = (struct boot_mem_region){ .base = 0x40000000, .size = 0x1000 };
	assert_int_equal(pmm_init(&bi), VR_ENOMEM);
}

/* Frame 0 is never handed out even when a region starts there; unaligned
 * region edges are rounded inwards; a region listed twice counts once. */
static void test_init_frame0_and_duplicates(void **state)
{
	struct boot_info bi = { .mem_count = 3 };
	uint64_t pa;

	(void)state;
	bi.mem[0] = (struct boot_mem_region){ .base = 0, .size = 16 * PAGE_SIZE };
	bi.mem[1] = (struct boot_mem_region){ .base = 0, .size = 16 * PAGE_SIZE };
	bi.mem[2] = (struct boot_mem_region){ .base = 20 * PAGE_SIZE + 1, .size = 4 * PAGE_SIZE };
	assert_int_equal(pmm_init(&bi), VR_OK);
	/* 16 frames - frame 0 - 1 metadata frame, plus frames 21..23. */
	assert_int_equal(unit_free_pages(), 14 + 3);
	assert_int_equal(virt_to_phys(pmm.frames), PAGE_SIZE);
	assert_true(frame_used(0));
	while ((pa = pmm_alloc(1, 1)) != 0) {
		assert_true(pa != 0 && pa != PAGE_SIZE);
		assert_true(pa < 16 * PAGE_SIZE || (pa >= 21 * PAGE_SIZE && pa < 24 * PAGE_SIZE));
	}
	assert_int_equal(unit_free_pages(), 0);
	assert_true(pmm_check());
}

/* Fill every free frame with garbage: allocation must hand them out zeroed. */
static void dirty_free_frames(void)
{
	for (uint64_t i = 0; i < pmm.nframes; i++)
		if (!pmm.frames[i].flags || pmm.frames[i].flags == FRAME_HEAD)
			memset(phys_to_virt((pmm.base_pfn + i) << PAGE_SHIFT), 0xa5, PAGE_SIZE);
}

static bool page_is_zero(uint64_t pa, size_t pages)
{
	const unsigned char *p = phys_to_virt(pa);

	for (size_t i = 0; i < pages * PAGE_SIZE; i++)
		if (p[i])
			return false;
	return true;
}

/* Exhaustion returns 0 and leaves the counters alone; every frame is
 * distinct, aligned, zeroed and inside the RAM; freeing all restores the
 * start. */
static void test_exhaustion(void **state)
{
	uint64_t *got = calloc(start.total_pages, sizeof(*got));
	uint64_t n = 0, pa;

	(void)state;
	assert_non_null(got);
	dirty_free_frames();
	while ((pa = pmm_alloc(1, 1)) != 0) {
		assert_true(n < start.total_pages);
		assert_true(IS_ALIGNED(pa, PAGE_SIZE) && fake_hal_phys_ok(pa, PAGE_SIZE));
		assert_true(frame_used(pa));
		assert_true(page_is_zero(pa, 1));
		got[n++] = pa;
		assert_int_equal(unit_free_pages(), start.total_pages - n);
		assert_true(pmm_check());
	}
	assert_int_equal(n, start.total_pages);
	assert_int_equal(pmm_alloc(1, 1), 0);
	assert_int_equal(pmm_alloc(2, 1), 0);
	assert_int_equal(unit_free_pages(), 0);
	assert_true(pmm_check());
	for (uint64_t i = 0; i < n; i++) {
		pmm_free(got[i], 1);
		assert_true(pmm_check());
	}
	assert_int_equal(unit_free_pages(), start.free_pages);
	free(got);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	assert_int_equal(pmm_alloc(0, 1), 0);
	assert_int_equal(pmm_alloc(1, 0), 0);
	assert_int_equal(pmm_alloc(1, 3), 0);
	assert_int_equal(pmm_alloc(start.free_pages + 1, 1), 0);
	assert_int_equal(unit_free_pages(), start.free_pages);
	assert_true(pmm_check());
}

/* Contiguous runs with every alignment: first frame aligned, every frame of
 * the run marked used and zeroed, runs disjoint. */
static void test_contiguous_aligned(void **state)
{
	static const size_t counts[] = { 1, 2, 3, 8, 17, 64, 100 };
	static const size_t aligns[] = { 1, 2, 4, 16, 64, 128 };
	uint64_t pas[ARRAY_SIZE(counts) * ARRAY_SIZE(aligns)];
	size_t sizes[ARRAY_SIZE(pas)], n = 0, used = 0;

	(void)state;
	dirty_free_frames();
	for (size_t c = 0; c < ARRAY_SIZE(counts); c++) {
		for (size_t a = 0; a < ARRAY_SIZE(aligns); a++) {
			uint64_t pa = pmm_alloc(counts[c], aligns[a]);
			if (!pa)
				continue; /* the big ones run out: fine */
			assert_true(IS_ALIGNED(pa >> PAGE_SHIFT, aligns[a]));
			assert_true(fake_hal_phys_ok(pa, counts[c] * PAGE_SIZE));
			assert_true(page_is_zero(pa, counts[c]));
			for (size_t i = 0; i < counts[c]; i++)
				assert_true(frame_used(pa + i * PAGE_SIZE));
			for (size_t k = 0; k < n; k++)
				assert_true(pa + counts[c] * PAGE_SIZE <= pas[k] ||
					    pas[k] + sizes[k] * PAGE_SIZE <= pa);
			pas[n] = pa;
			sizes[n++] = counts[c];
			used += counts[c];
			assert_int_equal(unit_free_pages(), start.free_pages - used);
			assert_true(pmm_check());
		}
	}
	assert_true(n > ARRAY_SIZE(pas) / 2);
	for (size_t k = 0; k < n; k++)
		pmm_free(pas[k], sizes[k]);
	assert_int_equal(unit_free_pages(), start.free_pages);
	assert_true(pmm_check());
}

/* Enough free frames in total but no free run of two: the request fails
 * and changes nothing. */
static void test_fragmented(void **state)
{
	uint64_t *got = calloc(start.total_pages, sizeof(*got));
	uint64_t n = 0, pa, before;

	(void)state;
	assert_non_null(got);
	while ((pa = pmm_alloc(1, 1)) != 0)
		got[n++] = pa;
	for (uint64_t i = 0; i < n; i++)
		if (((got[i] >> PAGE_SHIFT) & 1) == 0)
			pmm_free(got[i], 1);
	before = unit_free_pages();
	assert_true(before > 100);
	assert_int_equal(pmm_alloc(2, 1), 0);
	assert_int_equal(unit_free_pages(), before);
	pa = pmm_alloc(1, 2);
	assert_int_not_equal(pa, 0);
	assert_true(IS_ALIGNED(pa >> PAGE_SHIFT, 2));
	pmm_free(pa, 1);
	for (uint64_t i = 0; i < n; i++)
		if ((got[i] >> PAGE_SHIFT) & 1)
			pmm_free(got[i], 1);
	assert_int_equal(unit_free_pages(), start.free_pages);
	assert_true(pmm_check());
	free(got);
}

static void test_double_free_panics(void **state)
{
	uint64_t pa = pmm_alloc(1, 1);

	(void)state;
	assert_int_not_equal(pa, 0);
	pmm_free(pa, 1);
	fake_hal_reset_records();
	assert_panics(pmm_free(pa, 1));
	assert_console_has("is not allocated");
	/* The check comes before any change. */
	assert_int_equal(unit_free_pages(), start.free_pages);
	assert_true(pmm_check());
}

static void test_bad_free_panics(void **state)
{
	uint64_t pa = pmm_alloc(1, 1);

	(void)state;
	assert_panics(pmm_free(pa + 8, 1));               /* misaligned */
	assert_panics(pmm_free(0, 1));                    /* below the RAM */
	assert_panics(pmm_free((uint64_t)RAM_BYTES, 1));  /* past the end */
	assert_panics(pmm_free(pa, (size_t)pmm.nframes)); /* run past the end */
	assert_panics(pmm_free(0x1000, 1));               /* reserved, below the span */
	pmm_free(pa, 1);
	assert_int_equal(unit_free_pages(), start.free_pages);
	assert_true(pmm_check());
}

/* pmm_check notices a counter that disagrees with the metadata, and a free
 * frame 0. */
static void test_check_detects_corruption(void **state)
{
	struct boot_info bi = { .mem_count = 1 };

	(void)state;
	pmm.free_pages--;
	assert_false(pmm_check());
	pmm.free_pages++;
	assert_true(pmm_check());
	bi.mem[0] = (struct boot_mem_region){ .base = 0, .size = 16 * PAGE_SIZE };
	assert_int_equal(pmm_init(&bi), VR_OK);
	pmm.frames[0].flags = 0;
	assert_false(pmm_check());
}

/*
 * Regression (from the bitmap allocator): pmm_check() did not verify that
 * the allocator's own frames stay reserved, so a metadata frame handed out
 * (and zeroed, wiping the allocator) passed the check.
 */
static void test_regression_check_sees_free_bitmap_frame(void **state)
{
	uint64_t bm = (virt_to_phys(pmm.frames) >> PAGE_SHIFT) - pmm.base_pfn;

	(void)state;
	pmm.frames[bm].flags = FRAME_USED;
	pmm.frames[bm].refs = 1;
	pmm.total_pages++;
	assert_false(pmm_check());
	pmm.frames[bm].flags = FRAME_RESERVED;
	pmm.frames[bm].refs = 0;
	pmm.total_pages--;
	assert_true(pmm_check());
}

/*
 * Regression: after a fully used bitmap word, search() skipped to the next
 * word boundary without re-aligning, so pmm_alloc(1, align > 1) could return
 * a misaligned frame whenever the region's first frame is not a multiple of
 * `align` (here frame 8, align 16).
 */
static void test_regression_word_skip_keeps_alignment(void **state)
{
	uint64_t *got = calloc(start.total_pages, sizeof(*got));
	uint64_t n = 0, pa;

	(void)state;
	assert_non_null(got);
	while ((pa = pmm_alloc(1, 1)) != 0)
		got[n++] = pa;
	/* Free frames 72..95 (the start of the second bitmap word): 72 is not
	 * 16-aligned, 80 is. The hint is at the end: the search wraps and meets
	 * the full first word. */
	for (uint64_t i = 0; i < n; i++)
		if (got[i] >= 72 * PAGE_SIZE && got[i] < 96 * PAGE_SIZE)
			pmm_free(got[i], 1);
	pa = pmm_alloc(1, 16);
	assert_int_equal(pa, 80 * PAGE_SIZE);
	pmm_free(pa, 1);
	for (uint64_t i = 0; i < n; i++)
		if (got[i] < 72 * PAGE_SIZE || got[i] >= 96 * PAGE_SIZE)
			pmm_free(got[i], 1);
	assert_int_equal(unit_free_pages(), start.free_pages);
	free(got);
}

/* Buddies merge back: after freeing everything, one 2^k block per aligned
 * chunk, and a maximal run can be allocated again. */
static void test_buddy_merges(void **state)
{
	uint64_t a = pmm_alloc(1, 1), b = pmm_alloc(3, 1), c = pmm_alloc(64, 64);
	uint64_t big;

	(void)state;
	assert_true(a && b && c);
	assert_true(IS_ALIGNED(c >> PAGE_SHIFT, 64));
	assert_int_equal(unit_free_pages(), start.free_pages - 68); /* the tail of 4 came back */
	pmm_free(b + PAGE_SIZE, 2);                                 /* part of a run */
	pmm_free(b, 1);
	pmm_free(a, 1);
	pmm_free(c, 64);
	assert_int_equal(unit_free_pages(), start.free_pages);
	assert_true(pmm_check());
	big = pmm_alloc(512, 512);
	assert_int_not_equal(big, 0);
	pmm_free(big, 512);
	assert_true(pmm_check());
}

/* Reference counts: a shared frame survives until its last owner drops it,
 * and pmm_free refuses a shared frame. */
static void test_frame_refs(void **state)
{
	uint64_t pa = pmm_alloc(1, 1);
	struct pmm_stats st;

	(void)state;
	assert_int_equal(pmm_frame_refs(pa), 1);
	pmm_frame_ref(pa);
	pmm_get_stats(&st);
	assert_int_equal(st.shared_frames, 1);
	assert_panics(pmm_free(pa, 1));
	assert_int_equal(pmm_frame_unref(pa), 1);
	pmm_get_stats(&st);
	assert_int_equal(st.shared_frames, 0);
	assert_true(pmm_check());
	assert_int_equal(pmm_frame_unref(pa), 0);
	assert_int_equal(unit_free_pages(), start.free_pages);
	assert_panics(pmm_frame_unref(pa));
	assert_true(pmm_check());
}

/* Random allocations and frees against a model of who owns which frame. */
static void test_random(void **state)
{
	enum { SLOTS = 64, STEPS = 3000 };
	struct {
		uint64_t pa;
		size_t count;
	} live[SLOTS] = { 0 };
	uint64_t rng = unit_rng("pmm-random"), in_use = 0;
	unsigned char *owner = calloc(pmm.nframes, 1);

	(void)state;
	assert_non_null(owner);
	for (int step = 0; step < STEPS; step++) {
		unsigned s = (unsigned)unit_below(&rng, SLOTS);
		if (live[s].pa) {
			uint64_t first = (live[s].pa >> PAGE_SHIFT) - pmm.base_pfn;
			for (size_t i = 0; i < live[s].count; i++)
				owner[first + i] = 0;
			pmm_free(live[s].pa, live[s].count);
			in_use -= live[s].count;
			live[s].pa = 0;
		} else {
			size_t count = 1 + unit_below(&rng, unit_below(&rng, 4) ? 4 : 40);
			size_t align = (size_t)1 << unit_below(&rng, 6);
			uint64_t pa = pmm_alloc(count, align);
			if (pa) {
				uint64_t first = (pa >> PAGE_SHIFT) - pmm.base_pfn;
				assert_true(IS_ALIGNED(pa >> PAGE_SHIFT, align));
				for (size_t i = 0; i < count; i++) {
					assert_int_equal(owner[first + i], 0);
					owner[first + i] = 1;
				}
				live[s].pa = pa;
				live[s].count = count;
				in_use += count;
			}
		}
		assert_int_equal(unit_free_pages(), start.free_pages - in_use);
		assert_true(pmm_check());
	}
	for (unsigned s = 0; s < SLOTS; s++)
		if (live[s].pa)
			pmm_free(live[s].pa, live[s].count);
	assert_int_equal(unit_free_pages(), start.free_pages);
	free(owner);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_init_counts, setup, teardown),
	cmocka_unit_test_setup_teardown(test_init_rejects_empty, setup, teardown),
	cmocka_unit_test_setup_teardown(test_init_no_room_for_bitmap, setup, teardown),
	cmocka_unit_test_setup_teardown(test_init_frame0_and_duplicates, setup, teardown),
	cmocka_unit_test_setup_teardown(test_exhaustion, setup, teardown),
	cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	cmocka_unit_test_setup_teardown(test_contiguous_aligned, setup, teardown),
	cmocka_unit_test_setup_teardown(test_fragmented, setup, teardown),
	cmocka_unit_test_setup_teardown(test_double_free_panics, setup, teardown),
	cmocka_unit_test_setup_teardown(test_bad_free_panics, setup, teardown),
	cmocka_unit_test_setup_teardown(test_check_detects_corruption, setup, teardown),
	cmocka_unit_test_setup_teardown(test_regression_check_sees_free_bitmap_frame, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_regression_word_skip_keeps_alignment, setup, teardown),
	cmocka_unit_test_setup_teardown(test_buddy_merges, setup, teardown),
	cmocka_unit_test_setup_teardown(test_frame_refs, setup, teardown),
	cmocka_unit_test_setup_teardown(test_random, setup, teardown),
};

UNIT_MAIN("pmm", tests, NULL, NULL)
