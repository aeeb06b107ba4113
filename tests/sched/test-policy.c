/*
 * Unit tests of the scheduling policy (core/sched_policy.c) under simulated
 * time: no threads, no context switches. A "CPU" here is a loop that picks
 * an entity, lets it run for its slice, charges it and queues it again.
 * Random tests take the seed of tests/unit/unit.h (VERIDIAN_SEED) and print it.
 */
#include "tests/unit/unit.h"

#include <veridian/sched_policy.h>

#define MS 1000000ull

static struct runqueue rq;

static int setup(void **state)
{
	(void)state;
	rq_init(&rq, 0);
	return 0;
}

static struct sched_entity *mk(struct sched_entity *se, unsigned policy, int prio)
{
	se_init(se, policy, prio);
	return se;
}

static void test_class_order(void **state)
{
	struct sched_entity fair, rt10, idle, rt50, batch;

	(void)state;
	rq_enqueue(&rq, mk(&idle, VR_SCHED_IDLE, 0), RQ_WAKE);
	rq_enqueue(&rq, mk(&fair, VR_SCHED_FAIR, 0), RQ_WAKE);
	rq_enqueue(&rq, mk(&rt10, VR_SCHED_RR, 10), RQ_WAKE);
	rq_enqueue(&rq, mk(&batch, VR_SCHED_BATCH, 0), RQ_WAKE);
	rq_enqueue(&rq, mk(&rt50, VR_SCHED_FIFO, 50), RQ_WAKE);
	assert_true(rq_check(&rq));
	assert_ptr_equal(rq_pick(&rq), &rt50);
	assert_ptr_equal(rq_pick(&rq), &rt10);
	assert_ptr_equal(rq_pick(&rq), &fair); /* equal vruntime: FIFO among equals */
	assert_ptr_equal(rq_pick(&rq), &batch);
	assert_ptr_equal(rq_pick(&rq), &idle);
	assert_null(rq_pick(&rq));
	assert_true(rq_check(&rq));
}

static void test_fifo_vs_rr(void **state)
{
	struct sched_entity fifo, rr, peer, high;

	(void)state;
	mk(&fifo, VR_SCHED_FIFO, 20);
	mk(&rr, VR_SCHED_RR, 20);
	rq_enqueue(&rq, mk(&peer, VR_SCHED_FIFO, 20), RQ_WAKE);
	assert_int_equal(se_slice(&fifo), UINT64_MAX);
	assert_int_equal(se_slice(&rr), RQ_SLICE_RR_NS);
	assert_false(rq_slice_preempts(&rq, &fifo)); /* FIFO keeps the CPU from equals */
	assert_true(rq_slice_preempts(&rq, &rr));    /* RR hands it to an equal */
	rq_enqueue(&rq, mk(&high, VR_SCHED_FIFO, 21), RQ_WAKE);
	assert_true(rq_slice_preempts(&rq, &fifo));
	assert_true(rq_wake_preempts(&fifo, &high));
	assert_false(rq_wake_preempts(&fifo, &peer));
}

/* RR at one level takes turns in queue order; a preempted one goes first. */
static void test_rr_rotation_and_preempted_head(void **state)
{
	struct sched_entity a, b, c;

	(void)state;
	rq_enqueue(&rq, mk(&a, VR_SCHED_RR, 5), RQ_WAKE);
	rq_enqueue(&rq, mk(&b, VR_SCHED_RR, 5), RQ_WAKE);
	assert_ptr_equal(rq_pick(&rq), &a);
	rq_enqueue(&rq, &a, RQ_TAIL); /* a's slice ended */
	assert_ptr_equal(rq_pick(&rq), &b);
	rq_enqueue(&rq, mk(&c, VR_SCHED_RR, 5), RQ_WAKE);
	rq_enqueue(&rq, &b, RQ_PREEMPTED); /* a higher thread took the CPU from b */
	assert_ptr_equal(rq_pick(&rq), &b);
	assert_ptr_equal(rq_pick(&rq), &a);
	assert_ptr_equal(rq_pick(&rq), &c);
	assert_true(rq_check(&rq));
}

/* Run the queue for `total` ns of simulated time; returns the number of
 * picks. Entities run their full slice (CPU-bound). */
static unsigned run_cpu(uint64_t total)
{
	unsigned picks = 0;

	for (uint64_t now = 0; now < total; picks++) {
		struct sched_entity *se = rq_pick(&rq);
		uint64_t slice = se_slice(se);
		if (slice > total - now)
			slice = total - now;
		se_charge(se, slice);
		now += slice;
		rq_enqueue(&rq, se, RQ_TAIL);
		assert_true(rq_check(&rq));
	}
	return picks;
}

static void assert_share(const struct sched_entity *se, uint64_t total, double want)
{
	double got = (double)se->cpu_ns / (double)total;

	if (got < want * 0.95 || got > want * 1.05)
		fail_msg("CPU share %.4f, expected %.4f +-5%%", got, want);
}

/* nice 0 (weight 1024) against nice 5 (weight 336): CPU in that ratio. */
static void test_fair_weights(void **state)
{
	struct sched_entity a, b;
	uint64_t total = 10000 * MS;
	double wa = sched_nice_weight(0), wb = sched_nice_weight(5);

	(void)state;
	assert_int_equal(wa, 1024);
	assert_int_equal(wb, 336);
	rq_enqueue(&rq, mk(&a, VR_SCHED_FAIR, 0), RQ_WAKE);
	rq_enqueue(&rq, mk(&b, VR_SCHED_FAIR, 5), RQ_WAKE);
	run_cpu(total);
	assert_share(&a, total, wa / (wa + wb));
	assert_share(&b, total, wb / (wa + wb));
	print_message("nice 0 vs nice 5: %.3f s vs %.3f s of %.1f s (ratio %.3f, weights %.3f)\n",
		      a.cpu_ns / 1e9, b.cpu_ns / 1e9, total / 1e9,
		      (double)a.cpu_ns / (double)b.cpu_ns, wa / wb);
}

/* Random nice values (seeded): each gets weight / sum of weights. */
static void test_fair_random_weights(void **state)
{
	uint64_t rng = unit_rng("fair-random");
	struct sched_entity se[5];
	uint64_t total = 20000 * MS;
	double sum = 0;

	(void)state;
	for (unsigned i = 0; i < 5; i++) {
		int nice = (int)unit_below(&rng, 11) - 5;
		rq_enqueue(&rq, mk(&se[i], VR_SCHED_FAIR, nice), RQ_WAKE);
		sum += sched_nice_weight(nice);
	}
	run_cpu(total);
	for (unsigned i = 0; i < 5; i++)
		assert_share(&se[i], total, sched_nice_weight(se[i].prio) / sum);
}

/* Batch shares the fair queue by weight but with longer slices. */
static void test_batch(void **state)
{
	struct sched_entity fair, batch, curr;
	uint64_t total = 10000 * MS;

	(void)state;
	assert_int_equal(se_slice(mk(&batch, VR_SCHED_BATCH, 0)), RQ_SLICE_BATCH_NS);
	rq_enqueue(&rq, mk(&fair, VR_SCHED_FAIR, 0), RQ_WAKE);
	rq_enqueue(&rq, &batch, RQ_WAKE);
	run_cpu(total);
	assert_share(&fair, total, 0.5);
	assert_share(&batch, total, 0.5);
	/* a woken batch thread never preempts, even far behind */
	mk(&curr, VR_SCHED_FAIR, 0);
	curr.vruntime = 1000 * MS;
	batch.vruntime = 0;
	assert_false(rq_wake_preempts(&curr, &batch));
	fair.vruntime = 0;
	assert_true(rq_wake_preempts(&curr, &fair));
	fair.vruntime = curr.vruntime - RQ_WAKE_GRAN_NS; /* not far enough behind */
	assert_false(rq_wake_preempts(&curr, &fair));
}

/* Idle runs only when nothing else can; anything else preempts it. */
static void test_idle_class(void **state)
{
	struct sched_entity idle, fair, batch, idle2;
	uint64_t total = 1000 * MS;

	(void)state;
	rq_enqueue(&rq, mk(&idle, VR_SCHED_IDLE, 0), RQ_WAKE);
	rq_enqueue(&rq, mk(&fair, VR_SCHED_FAIR, 19), RQ_WAKE);
	run_cpu(total);
	assert_int_equal(idle.cpu_ns, 0);
	assert_int_equal(fair.cpu_ns, total);
	rq_remove(&rq, &fair);
	run_cpu(total);
	assert_int_equal(idle.cpu_ns, total);
	assert_true(rq_wake_preempts(&idle, mk(&batch, VR_SCHED_BATCH, 19)));
	assert_false(rq_wake_preempts(&idle, mk(&idle2, VR_SCHED_IDLE, -20)));
	assert_false(rq_wake_preempts(&fair, &idle2));
}

/* A sleeper does not bank CPU time: it wakes at min_vruntime. */
static void test_wake_placement(void **state)
{
	struct sched_entity a, b;

	(void)state;
	rq_enqueue(&rq, mk(&a, VR_SCHED_FAIR, 0), RQ_WAKE);
	run_cpu(100 * MS);
	mk(&b, VR_SCHED_FAIR, 0);
	rq_enqueue(&rq, &b, RQ_WAKE);
	assert_true(b.vruntime >= rq.min_vruntime && rq.min_vruntime > 0);
	run_cpu(1000 * MS);
	assert_share(&b, 1000 * MS, 0.5);
}

/* Inheritance lifts a queued fair server above real time, and back. */
static void test_inheritance_requeue(void **state)
{
	struct sched_entity server, rt, fair;

	(void)state;
	rq_enqueue(&rq, mk(&server, VR_SCHED_FAIR, 10), RQ_WAKE);
	rq_enqueue(&rq, mk(&rt, VR_SCHED_FIFO, 10), RQ_WAKE);
	rq_enqueue(&rq, mk(&fair, VR_SCHED_FAIR, 0), RQ_WAKE);
	rq_set_effective(&rq, &server, VR_SCHED_FIFO, 20);
	assert_true(rq_check(&rq));
	assert_int_equal(server.policy, VR_SCHED_FAIR); /* its own is kept */
	assert_true(se_rank(&server) > se_rank(&rt));
	assert_ptr_equal(rq_pick(&rq), &server);
	rq_enqueue(&rq, &server, RQ_TAIL);
	rq_set_effective(&rq, &server, server.policy, server.prio);
	assert_ptr_equal(rq_pick(&rq), &rt);
	assert_ptr_equal(rq_pick(&rq), &fair);
	assert_ptr_equal(rq_pick(&rq), &server);
}

static void test_rank_and_validity(void **state)
{
	(void)state;
	assert_true(sched_rank(VR_SCHED_IDLE, -20) < sched_rank(VR_SCHED_BATCH, 19));
	assert_true(sched_rank(VR_SCHED_FAIR, 19) < sched_rank(VR_SCHED_FAIR, 0));
	assert_true(sched_rank(VR_SCHED_FAIR, -20) < sched_rank(VR_SCHED_RR, 1));
	assert_int_equal(sched_rank(VR_SCHED_RR, 7), sched_rank(VR_SCHED_FIFO, 7));
	assert_int_equal(sched_policy_valid(VR_SCHED_FIFO, 0), VR_EINVAL);
	assert_int_equal(sched_policy_valid(VR_SCHED_RR, 100), VR_EINVAL);
	assert_int_equal(sched_policy_valid(VR_SCHED_FAIR, 20), VR_EINVAL);
	assert_int_equal(sched_policy_valid(VR_SCHED_BATCH, -21), VR_EINVAL);
	assert_int_equal(sched_policy_valid(5, 0), VR_EINVAL);
	assert_int_equal(sched_policy_valid(VR_SCHED_IDLE, 0), VR_OK);
	assert_int_equal(sched_policy_valid(VR_SCHED_FIFO, 99), VR_OK);
}

static int class_of(const struct sched_entity *se)
{
	if (se->eff_policy == VR_SCHED_FIFO || se->eff_policy == VR_SCHED_RR)
		return 2;
	return se->eff_policy == VR_SCHED_IDLE ? 0 : 1;
}

/* Must a run before b whatever their history (vruntime, queue order)? */
static bool outranks(const struct sched_entity *a, const struct sched_entity *b)
{
	if (class_of(a) != class_of(b))
		return class_of(a) > class_of(b);
	return class_of(a) == 2 && a->eff_prio > b->eff_prio;
}

/* Random operations (seeded); rq_check after every one, and the pick is
 * always an entity of the highest rank present. */
static void test_random_ops(void **state)
{
	static const unsigned policies[] = { VR_SCHED_FAIR, VR_SCHED_FIFO, VR_SCHED_RR,
					     VR_SCHED_BATCH, VR_SCHED_IDLE };
	uint64_t rng = unit_rng("random-ops");
	struct sched_entity se[32];

	(void)state;
	for (unsigned i = 0; i < 32; i++)
		mk(&se[i], VR_SCHED_FAIR, 0);
	for (unsigned step = 0; step < 20000; step++) {
		struct sched_entity *e = &se[unit_below(&rng, 32)];
		unsigned pol = policies[unit_below(&rng, 5)];
		bool rt = pol == VR_SCHED_FIFO || pol == VR_SCHED_RR;
		int prio = rt ? 1 + (int)unit_below(&rng, 99) : (int)unit_below(&rng, 40) - 20;
		switch (unit_below(&rng, 4)) {
		case 0:
			if (!e->queued)
				rq_enqueue(&rq, e, (enum rq_how)unit_below(&rng, 3));
			break;
		case 1:
			if (e->queued)
				rq_remove(&rq, e);
			break;
		case 2:
			rq_set_effective(&rq, e, pol, prio);
			break;
		default: {
			struct sched_entity *p = rq_pick(&rq);
			for (unsigned i = 0; p && i < 32; i++) {
				if (se[i].queued && outranks(&se[i], p))
					fail_msg("step %u: picked rank %d over rank %d", step,
						 se_rank(p), se_rank(&se[i]));
			}
			if (p)
				se_charge(p, unit_below(&rng, 20 * MS));
		}
		}
		if (!rq_check(&rq))
			fail_msg("rq_check failed at step %u", step);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup(test_class_order, setup),
	cmocka_unit_test_setup(test_fifo_vs_rr, setup),
	cmocka_unit_test_setup(test_rr_rotation_and_preempted_head, setup),
	cmocka_unit_test_setup(test_fair_weights, setup),
	cmocka_unit_test_setup(test_fair_random_weights, setup),
	cmocka_unit_test_setup(test_batch, setup),
	cmocka_unit_test_setup(test_idle_class, setup),
	cmocka_unit_test_setup(test_wake_placement, setup),
	cmocka_unit_test_setup(test_inheritance_requeue, setup),
	cmocka_unit_test_setup(test_rank_and_validity, setup),
	cmocka_unit_test_setup(test_random_ops, setup),
};

UNIT_MAIN("sched-policy", tests, NULL, NULL)
