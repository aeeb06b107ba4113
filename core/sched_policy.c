/*
 * Scheduling policy: run queues and class decisions (see sched_policy.h).
 * Pure: no clock, no HAL, no thread; the caller (core/sched.c) says how
 * long an entity ran and acts on the answers.
 *
 * Invariants (rq_check):
 *  1. An entity is on exactly one list of the queue iff `queued`, and
 *     nr_queued counts them; its cpu is the queue's.
 *  2. rt[p] holds only entities whose effective policy is FIFO or RR with
 *     effective priority p; bit p of rt_bitmap is set iff rt[p] is not empty.
 *  3. fair holds only FAIR and BATCH entities (effective), in nondecreasing
 *     vruntime order; idle holds only IDLE ones.
 *  4. min_vruntime never decreases: it is raised to the vruntime of each
 *     fair entity picked, and a woken one starts no lower.
 *
 * The list order is the whole decision for a class: real time takes the
 * head of its highest non-empty level, fair the least vruntime, idle the
 * head. Sorted insertion into `fair` is O(n); a tree can replace it when
 * thread counts grow (the interface does not change).
 */
#include "veridian/sched_policy.h"

/* Weights: round(1024 / 1.25^nice) for nice -20..19, so that one nice step
 * is about 10% of CPU between two competing threads. */
static const uint32_t nice_weights[VR_NICE_MAX - VR_NICE_MIN + 1] = {
	88818, 71054, 56843, 45475, 36380, 29104, 23283, 18626, 14901, 11921,
	9537,  7629,  6104,  4883,  3906,  3125,  2500,  2000,  1600,  1280,
	1024,  819,   655,   524,   419,   336,   268,   215,   172,   137,
	110,   88,    70,    56,    45,    36,    29,    23,    18,    15,
};

uint32_t sched_nice_weight(int nice)
{
	if (nice < VR_NICE_MIN)
		nice = VR_NICE_MIN;
	if (nice > VR_NICE_MAX)
		nice = VR_NICE_MAX;
	return nice_weights[nice - VR_NICE_MIN];
}

static bool is_rt(unsigned policy)
{
	return policy == VR_SCHED_FIFO || policy == VR_SCHED_RR;
}

static bool is_fair(unsigned policy)
{
	return policy == VR_SCHED_FAIR || policy == VR_SCHED_BATCH;
}

int sched_policy_valid(uint64_t policy, int64_t prio)
{
	if (policy == VR_SCHED_FIFO || policy == VR_SCHED_RR)
		return prio >= VR_SCHED_PRIO_MIN && prio <= VR_SCHED_PRIO_MAX ? VR_OK : VR_EINVAL;
	if (policy == VR_SCHED_FAIR || policy == VR_SCHED_BATCH || policy == VR_SCHED_IDLE)
		return prio >= VR_NICE_MIN && prio <= VR_NICE_MAX ? VR_OK : VR_EINVAL;
	return VR_EINVAL;
}

void rq_init(struct runqueue *rq, unsigned cpu)
{
	*rq = (struct runqueue){ .cpu = cpu };
	for (unsigned p = 0; p < RQ_RT_LEVELS; p++)
		list_init(&rq->rt[p]);
	list_init(&rq->fair);
	list_init(&rq->idle);
}

void se_init(struct sched_entity *se, unsigned policy, int prio)
{
	*se = (struct sched_entity){ .policy = (uint8_t)policy,
				     .prio = (int8_t)prio,
				     .eff_policy = (uint8_t)policy,
				     .eff_prio = (int8_t)prio,
				     .rank = (int16_t)sched_rank(policy, prio),
				     .affinity = 1 };
	list_init(&se->link);
}

static struct sched_entity *se_of(struct list *l)
{
	return container_of(l, struct sched_entity, link);
}

static void insert_fair(struct runqueue *rq, struct sched_entity *se)
{
	struct list *pos;

	list_for_each(pos, &rq->fair)
		if (se_of(pos)->vruntime > se->vruntime)
			break;
	list_insert_before(pos, &se->link);
}

void rq_enqueue(struct runqueue *rq, struct sched_entity *se, enum rq_how how)
{
	KASSERT(!se->queued);
	if (is_rt(se->eff_policy)) {
		struct list *level = &rq->rt[se->eff_prio];
		if (how == RQ_PREEMPTED)
			list_insert_before(level->next, &se->link);
		else
			list_push_back(level, &se->link);
		rq->rt_bitmap[se->eff_prio / 64] |= 1ull << (se->eff_prio % 64);
	} else if (is_fair(se->eff_policy)) {
		/* a sleeper does not bank CPU time: it competes from now on */
		if (how == RQ_WAKE && se->vruntime < rq->min_vruntime)
			se->vruntime = rq->min_vruntime;
		insert_fair(rq, se);
	} else {
		list_push_back(&rq->idle, &se->link);
	}
	se->queued = true;
	se->cpu = rq->cpu;
	rq->nr_queued++;
}

static void clear_level_bit(struct runqueue *rq, int prio)
{
	if (list_empty(&rq->rt[prio]))
		rq->rt_bitmap[prio / 64] &= ~(1ull << (prio % 64));
}

void rq_remove(struct runqueue *rq, struct sched_entity *se)
{
	KASSERT(se->queued && rq->nr_queued);
	list_remove(&se->link);
	if (is_rt(se->eff_policy))
		clear_level_bit(rq, se->eff_prio);
	se->queued = false;
	rq->nr_queued--;
}

/* The highest non-empty real-time level, or 0. */
static int top_rt_level(const struct runqueue *rq)
{
	for (int w = 1; w >= 0; w--)
		if (rq->rt_bitmap[w])
			return w * 64 + 63 - __builtin_clzll(rq->rt_bitmap[w]);
	return 0;
}

/* The entity rq_pick would return, left queued. */
static struct sched_entity *rq_peek(const struct runqueue *rq)
{
	int level = top_rt_level(rq);

	if (level)
		return se_of(rq->rt[level].next);
	if (!list_empty(&rq->fair))
		return se_of(rq->fair.next);
	if (!list_empty(&rq->idle))
		return se_of(rq->idle.next);
	return NULL;
}

struct sched_entity *rq_pick(struct runqueue *rq)
{
	struct sched_entity *se = rq_peek(rq);

	if (!se)
		return NULL;
	rq_remove(rq, se);
	if (is_fair(se->eff_policy))
		rq->min_vruntime = MAX(rq->min_vruntime, se->vruntime);
	return se;
}

void se_charge(struct sched_entity *se, uint64_t ns)
{
	se->cpu_ns += ns;
	if (is_fair(se->eff_policy))
		se->vruntime += ns * RQ_NICE0_WEIGHT / sched_nice_weight(se->eff_prio);
}

uint64_t se_slice(const struct sched_entity *se)
{
	switch (se->eff_policy) {
	case VR_SCHED_FIFO:
		return UINT64_MAX;
	case VR_SCHED_RR:
		return RQ_SLICE_RR_NS;
	case VR_SCHED_BATCH:
		return RQ_SLICE_BATCH_NS;
	case VR_SCHED_IDLE:
		return RQ_SLICE_IDLE_NS;
	}
	return RQ_SLICE_FAIR_NS;
}

/* Class order: 2 real time, 1 fair/batch, 0 idle. */
static int class_of(unsigned policy)
{
	return is_rt(policy) ? 2 : is_fair(policy) ? 1 : 0;
}

bool rq_wake_preempts(const struct sched_entity *curr, const struct sched_entity *woken)
{
	int cc = class_of(curr->eff_policy), wc = class_of(woken->eff_policy);

	if (wc != cc)
		return wc > cc;
	if (wc == 2)
		return woken->eff_prio > curr->eff_prio;
	if (wc == 0 || woken->eff_policy == VR_SCHED_BATCH)
		return false;
	return curr->vruntime > woken->vruntime + RQ_WAKE_GRAN_NS;
}

bool rq_slice_preempts(const struct runqueue *rq, const struct sched_entity *curr)
{
	const struct sched_entity *next = rq_peek(rq);
	int cc = class_of(curr->eff_policy), nc;

	if (!next)
		return false;
	nc = class_of(next->eff_policy);
	if (nc != cc)
		return nc > cc;
	if (nc == 2) /* FIFO yields only to higher levels, RR to equals too */
		return next->eff_prio > curr->eff_prio ||
		       (curr->eff_policy == VR_SCHED_RR && next->eff_prio == curr->eff_prio);
	return true; /* fair: the least vruntime runs next; idle: round robin */
}

void rq_set_effective(struct runqueue *rq, struct sched_entity *se, unsigned policy, int prio)
{
	bool queued = se->queued;

	if (queued)
		rq_remove(rq, se);
	se->eff_policy = (uint8_t)policy;
	se->eff_prio = (int8_t)prio;
	se->rank = (int16_t)sched_rank(policy, prio);
	if (queued)
		rq_enqueue(rq, se, RQ_WAKE);
}

static bool level_ok(const struct runqueue *rq, int p)
{
	const struct list *l;
	bool bit = rq->rt_bitmap[p / 64] >> (p % 64) & 1;

	if (bit == list_empty(&rq->rt[p]))
		return false; /* invariant 2 */
	list_for_each(l, &rq->rt[p]) {
		const struct sched_entity *se = container_of(l, struct sched_entity, link);
		if (!is_rt(se->eff_policy) || se->eff_prio != p || !se->queued ||
		    se->cpu != rq->cpu || se->rank != sched_rank(se->eff_policy, p))
			return false;
	}
	return true;
}

/* Counts the entities of a list and checks invariants 1 and 3 on them. */
static bool list_ok(const struct runqueue *rq, const struct list *head, bool fair, unsigned *count)
{
	const struct list *l;
	uint64_t last = 0;

	list_for_each(l, head) {
		const struct sched_entity *se = container_of(l, struct sched_entity, link);
		if (!se->queued || se->cpu != rq->cpu || is_fair(se->eff_policy) != fair ||
		    is_rt(se->eff_policy) || se->rank != sched_rank(se->eff_policy, se->eff_prio))
			return false;
		if (fair && se->vruntime < last)
			return false;
		last = se->vruntime;
		(*count)++;
	}
	return true;
}

bool rq_check(const struct runqueue *rq)
{
	unsigned count = 0;
	const struct list *l;

	if (rq->rt_bitmap[0] & 1)
		return false; /* level 0 is not a real-time priority */
	for (int p = VR_SCHED_PRIO_MIN; p <= VR_SCHED_PRIO_MAX; p++) {
		if (!(rq->rt_bitmap[p / 64] >> (p % 64) & 1)) {
			if (!list_empty(&rq->rt[p]))
				return false; /* invariant 2; the common case, kept cheap */
			continue;
		}
		if (!level_ok(rq, p))
			return false;
		list_for_each(l, &rq->rt[p])
			count++;
	}
	if (!list_ok(rq, &rq->fair, true, &count) || !list_ok(rq, &rq->idle, false, &count))
		return false;
	return count == rq->nr_queued;
}
