/*
 * Unit tests of the channel ring (services/runtime/ring.c), compiled for
 * the host: semantics in one thread, then a producer and a consumer thread
 * passing sequence numbers through a small ring with the sleep/wake-up
 * protocol, where POSIX semaphores stand in for the two notifications
 * (sticky, like a notification bit). A lost wake-up hangs the test (the
 * harness's timeout fails it); reordering or loss fails the check.
 * Seed: VERIDIAN_SEED (default 1), printed.
 */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services/runtime/ring.h"

static unsigned seed = 1;

static struct vr_ring *new_ring(size_t bytes, uint32_t entry_size)
{
	struct vr_ring *r = aligned_alloc(64, (bytes + 63) & ~(size_t)63);

	assert_non_null(r);
	assert_int_not_equal(ring_init(r, bytes, entry_size), 0);
	return r;
}

static void test_init_sizes(void **state)
{
	struct vr_ring *r = aligned_alloc(64, 4096);

	(void)state;
	assert_int_equal(ring_init(r, sizeof(*r), 8), 0); /* no room for an entry */
	assert_int_equal(ring_init(r, 4096, 0), 0);       /* empty entries */
	assert_int_equal(ring_init(r, 4096, 8), 256);     /* (4096-256)/8 -> 480 -> 256 */
	assert_int_equal(r->entry_size, 8);
	assert_int_equal(ring_init(r, 4096, 12), 128); /* rounded up to 16 */
	assert_int_equal(r->entry_size, 16);
	assert_true(ring_check(r));
	free(r);
}

static void test_push_pop_wrap(void **state)
{
	struct vr_ring *r = new_ring(sizeof(struct vr_ring) + 4 * 8, 8);
	uint64_t in[6] = { 1, 2, 3, 4, 5, 6 }, out[6] = { 0 };

	(void)state;
	assert_int_equal(r->capacity, 4);
	assert_int_equal(ring_pop(r, out, 1), 0);
	assert_int_equal(ring_push(r, in, 6), 4); /* back-pressure: only 4 fit */
	assert_int_equal(ring_count(r), 4);
	assert_int_equal(ring_push(r, in, 1), 0);
	assert_int_equal(ring_pop(r, out, 3), 3);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[2], 3);
	assert_int_equal(ring_push(r, in + 4, 2), 2); /* wraps around the end */
	assert_int_equal(ring_pop(r, out, 6), 3);
	assert_int_equal(out[0], 4);
	assert_int_equal(out[1], 5);
	assert_int_equal(out[2], 6);
	assert_true(ring_check(r));
	free(r);
}

static void test_wait_flags(void **state)
{
	struct vr_ring *r = new_ring(1024, 8);
	uint64_t v = 7;

	(void)state;
	assert_true(ring_consumer_prepare_wait(r)); /* empty: may sleep */
	assert_int_equal(ring_push(r, &v, 1), 1);
	assert_true(ring_consumer_should_wake(r));   /* producer sees the sleeper */
	assert_false(ring_consumer_should_wake(r));  /* once */
	assert_false(ring_consumer_prepare_wait(r)); /* not empty: must not sleep */
	assert_false(ring_consumer_should_wake(r));  /* and the flag was withdrawn */
	while (ring_push(r, &v, 1))
		;
	assert_true(ring_producer_prepare_wait(r)); /* full */
	assert_int_equal(ring_pop(r, &v, 1), 1);
	assert_true(ring_producer_should_wake(r));
	free(r);
}

struct pc {
	struct vr_ring *r;
	sem_t data, space; /* the two notifications */
	uint64_t n;
	unsigned batch_seed;
	uint64_t wakeups;
};

static void *producer(void *arg)
{
	struct pc *pc = arg;
	uint64_t next = 0, buf[16];
	unsigned rs = pc->batch_seed;

	while (next < pc->n) {
		size_t want = 1 + (size_t)(rand_r(&rs) % 16), done;
		if (want > pc->n - next)
			want = (size_t)(pc->n - next);
		for (size_t i = 0; i < want; i++)
			buf[i] = next + i;
		done = ring_push(pc->r, buf, want);
		next += done;
		if (done && ring_consumer_should_wake(pc->r)) {
			sem_post(&pc->data);
			pc->wakeups++;
		}
		if (done < want && ring_producer_prepare_wait(pc->r))
			sem_wait(&pc->space);
	}
	return NULL;
}

static void test_two_threads(void **state)
{
	struct pc pc = { .n = 200000, .batch_seed = seed };
	uint64_t expect = 0, buf[16];
	unsigned rs = seed * 7 + 1;
	pthread_t t;

	(void)state;
	pc.r = new_ring(sizeof(struct vr_ring) + 32 * 8, 8); /* 32 entries: lots of back-pressure */
	sem_init(&pc.data, 0, 0);
	sem_init(&pc.space, 0, 0);
	pthread_create(&t, NULL, producer, &pc);
	while (expect < pc.n) {
		size_t got = ring_pop(pc.r, buf, 1 + (size_t)(rand_r(&rs) % 16));
		for (size_t i = 0; i < got; i++)
			assert_int_equal(buf[i], expect + i);
		expect += got;
		if (got && ring_producer_should_wake(pc.r))
			sem_post(&pc.space);
		if (!got && ring_consumer_prepare_wait(pc.r))
			sem_wait(&pc.data);
	}
	pthread_join(t, NULL);
	assert_int_equal(ring_count(pc.r), 0);
	assert_true(ring_check(pc.r));
	printf("ring: %llu entries, %llu consumer wake-ups\n", (unsigned long long)pc.n,
	       (unsigned long long)pc.wakeups);
	sem_destroy(&pc.data);
	sem_destroy(&pc.space);
	free(pc.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_sizes),
		cmocka_unit_test(test_push_pop_wrap),
		cmocka_unit_test(test_wait_flags),
		cmocka_unit_test(test_two_threads),
	};
	const char *s = getenv("VERIDIAN_SEED");

	if (s)
		seed = (unsigned)strtoul(s, NULL, 0);
	printf("test-ring: seed %u (set VERIDIAN_SEED to change)\n", seed);
	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
