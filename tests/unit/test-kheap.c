/*
 * Unit tests of the slab allocator (core/kheap.c), compiled into this file
 * so each test starts from an empty heap and can look at the slabs.
 */
#include "core/kheap.c"

#include "tests/unit/unit.h"

#define RAM_BYTES (2u << 20)

static struct pmm_stats pmm_start;

static uint64_t pmm_free_pages(void)
{
	struct pmm_stats st;

	pmm_get_stats(&st);
	return st.free_pages;
}

static struct kheap_stats heap_stats(void)
{
	struct kheap_stats st;

	kheap_get_stats(&st);
	return st;
}

static int setup(void **state)
{
	(void)state;
	if (!unit_boot_ram(RAM_BYTES))
		return -1;
	memset(&heap, 0, sizeof(heap)); /* the previous test's RAM is gone */
	pmm_get_stats(&pmm_start);
	return 0;
}

/* Every test gives back all it took: the frame allocator is where it
 * started, which is the point of returning empty slabs at once. */
static int teardown(void **state)
{
	bool clean = heap_stats().objects == 0 && heap_stats().slab_pages == 0 &&
		     pmm_free_pages() == pmm_start.free_pages;

	(void)state;
	fake_hal_fini();
	return clean ? 0 : -1;
}

static size_t capacity_of(unsigned c)
{
	return (PAGE_SIZE - first_object_offset(c)) / class_size(c);
}

/* Objects of every class: right size class, zeroed even after a previous
 * user dirtied them, inside their slab, aligned to the class size (up to
 * 64 bytes), and fully writable. */
static void test_each_class(void **state)
{
	static const size_t sizes[] = { 0,   1,   31,  32,  33,  64,   65,   128,
					200, 256, 500, 512, 513, 1024, 1500, 2048 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t sz = sizes[i];
		int c = class_of(sz ? sz : 1);
		unsigned char *p = kzalloc(sz);
		struct slab *s;

		assert_non_null(p);
		assert_true(c >= 0);
		s = (struct slab *)ALIGN_DOWN((uintptr_t)p, PAGE_SIZE);
		assert_int_equal(s->magic, SLAB_MAGIC);
		assert_int_equal(s->class_idx, c);
		assert_true(class_size((unsigned)c) >= (sz ? sz : 1));
		assert_true(c == 0 || class_size((unsigned)c - 1) < sz);
		assert_int_equal(((uintptr_t)p - (uintptr_t)s - first_object_offset((unsigned)c)) %
					 class_size((unsigned)c),
				 0);
		assert_true(IS_ALIGNED((uintptr_t)p, MIN(class_size((unsigned)c), 64)));
		for (size_t k = 0; k < class_size((unsigned)c); k++)
			assert_int_equal(p[k], 0);
		memset(p, 0xee, class_size((unsigned)c));
		assert_true(kheap_check());
		kfree(p);
		assert_true(kheap_check());
		/* the same object comes back zeroed */
		p = kzalloc(sz);
		for (size_t k = 0; k < class_size((unsigned)c); k++)
			assert_int_equal(p[k], 0);
		kfree(p);
	}
}

static void test_too_big_and_null(void **state)
{
	(void)state;
	assert_null(kzalloc(KHEAP_MAX_OBJECT + 1));
	assert_null(kzalloc(SIZE_MAX));
	kfree(NULL);
	assert_int_equal(heap_stats().objects, 0);
	assert_true(kheap_check());
}

/* Fill two slabs of each class and empty them in a scrambled order: the
 * slab pages go back to the frame allocator as soon as they are empty. */
static void test_slabs_returned(void **state)
{
	(void)state;
	for (unsigned c = 0; c < KHEAP_CLASSES; c++) {
		size_t cap = capacity_of(c), n = 2 * cap;
		void **objs = calloc(n, sizeof(*objs));

		assert_non_null(objs);
		for (size_t i = 0; i < n; i++) {
			objs[i] = kzalloc(class_size(c));
			assert_non_null(objs[i]);
			assert_int_equal(heap_stats().slab_pages, i / cap + 1);
			assert_int_equal(pmm_free_pages(), pmm_start.free_pages - (i / cap + 1));
		}
		assert_int_equal(heap_stats().objects, n);
		assert_true(kheap_check());
		/* a full slab is not on the partial list */
		assert_true(list_empty(&heap.partial[c]));
		/* free the first slab's objects from the back, the second's odd first */
		for (size_t i = cap; i-- > 0;)
			kfree(objs[i]);
		assert_int_equal(heap_stats().slab_pages, 1);
		for (size_t i = cap + 1; i < n; i += 2)
			kfree(objs[i]);
		for (size_t i = cap; i < n; i += 2)
			kfree(objs[i]);
		assert_int_equal(heap_stats().slab_pages, 0);
		assert_int_equal(heap_stats().objects, 0);
		assert_int_equal(pmm_free_pages(), pmm_start.free_pages);
		assert_true(kheap_check());
		free(objs);
	}
}

/* With the frame allocator exhausted, kzalloc returns NULL and changes
 * nothing; it works again once a frame is free. */
static void test_out_of_memory(void **state)
{
	uint64_t *frames = calloc(pmm_start.total_pages, sizeof(*frames));
	size_t n = 0;
	uint64_t pa;
	void *p;

	(void)state;
	assert_non_null(frames);
	while ((pa = pmm_alloc(1, 1)) != 0)
		frames[n++] = pa;
	assert_null(kzalloc(100));
	assert_int_equal(heap_stats().objects, 0);
	assert_int_equal(heap_stats().slab_pages, 0);
	assert_true(kheap_check());
	pmm_free(frames[--n], 1);
	p = kzalloc(100);
	assert_non_null(p);
	assert_null(kzalloc(2048)); /* another class needs another page */
	kfree(p);
	while (n)
		pmm_free(frames[--n], 1);
	free(frames);
}

/* kfree of something that is not a slab object panics on the magic. */
static void test_bad_free_panics(void **state)
{
	uint64_t pa = pmm_alloc(1, 1);
	void *p = kzalloc(64);

	(void)state;
	assert_panics(kfree((char *)phys_to_virt(pa) + 128));
	assert_console_has("assertion failed");
	kfree(p);
	/* the slab page is gone: freeing into it again panics too */
	assert_panics(kfree(p));
	pmm_free(pa, 1);
}

/*
 * Regression: kfree() did not notice a double free. Freeing an object twice
 * while another object of its slab was live counted the slab empty and gave
 * its page back to the frame allocator under the live object (kheap_check
 * could not see it: the slab was gone from its lists).
 */
static void test_regression_double_free_panics(void **state)
{
	char *keep = kzalloc(32), *p = kzalloc(32);

	(void)state;
#ifndef CONFIG_DEBUG_CHECKS
	kfree(keep);
	kfree(p);
	skip(); /* the check is a debug check */
#endif
	kfree(p);
	fake_hal_reset_records();
	assert_panics(kfree(p));
	assert_console_has("on_free_list");
	assert_int_equal(heap_stats().slab_pages, 1);
	assert_int_equal(heap_stats().objects, 1);
	assert_true(kheap_check());
	kfree(keep);
}

/* A pointer into a slab that is not an object start panics before it can
 * corrupt the free list (the slab header, the middle of an object). */
static void test_interior_pointer_panics(void **state)
{
	char *p = kzalloc(64);
	char *slab = (char *)ALIGN_DOWN((uintptr_t)p, PAGE_SIZE);

	(void)state;
	assert_panics(kfree(p + 8));
	assert_panics(kfree(slab));
	assert_panics(kfree(slab + PAGE_SIZE - 8)); /* the tail past the last object */
	assert_true(kheap_check());
	kfree(p);
}

/* kheap_check notices a counter or a free list that is off. */
static void test_check_detects_corruption(void **state)
{
	void *a = kzalloc(40), *b = kzalloc(40);
	struct slab *s = (struct slab *)ALIGN_DOWN((uintptr_t)a, PAGE_SIZE);
	void *saved;

	(void)state;
	assert_true(kheap_check());
	heap.stats.objects++;
	assert_false(kheap_check());
	heap.stats.objects--;
	s->free++;
	assert_false(kheap_check());
	s->free--;
	saved = s->free_list;
	s->free_list = (char *)saved + 1; /* not on an object boundary */
	assert_false(kheap_check());
	s->free_list = saved;
	assert_true(kheap_check());
	kfree(a);
	kfree(b);
}

/* Random allocation and free of random sizes against a model: objects
 * never overlap and keep their contents until freed. */
static void test_random(void **state)
{
	enum { SLOTS = 300, STEPS = 6000 };
	struct {
		unsigned char *p;
		size_t size;
		unsigned char tag;
	} live[SLOTS] = { 0 };
	uint64_t rng = unit_rng("kheap-random");

	(void)state;
	for (int step = 0; step < STEPS; step++) {
		unsigned i = (unsigned)unit_below(&rng, SLOTS);
		if (live[i].p) {
			for (size_t k = 0; k < live[i].size; k++)
				if (live[i].p[k] != live[i].tag)
					fail_msg("object %u overwritten at step %d (seed %llu)", i,
						 step, (unsigned long long)unit_seed);
			kfree(live[i].p);
			live[i].p = NULL;
		} else {
			size_t size = 1 + unit_below(&rng, unit_below(&rng, 2) ? 64 : 2048);
			live[i].p = kzalloc(size);
			assert_non_null(live[i].p);
			live[i].size = size;
			live[i].tag = (unsigned char)(i + step);
			memset(live[i].p, live[i].tag, size);
		}
		if (step % 16 == 0)
			assert_true(kheap_check());
	}
	for (unsigned i = 0; i < SLOTS; i++)
		kfree(live[i].p);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_each_class, setup, teardown),
	cmocka_unit_test_setup_teardown(test_too_big_and_null, setup, teardown),
	cmocka_unit_test_setup_teardown(test_slabs_returned, setup, teardown),
	cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown),
	cmocka_unit_test_setup_teardown(test_bad_free_panics, setup, teardown),
	cmocka_unit_test_setup_teardown(test_regression_double_free_panics, setup, teardown),
	cmocka_unit_test_setup_teardown(test_interior_pointer_panics, setup, teardown),
	cmocka_unit_test_setup_teardown(test_check_detects_corruption, setup, teardown),
	cmocka_unit_test_setup_teardown(test_random, setup, teardown),
};

UNIT_MAIN("kheap", tests, NULL, NULL)
