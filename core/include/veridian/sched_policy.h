/*
 * Scheduling policy: the per-CPU run queue and the decisions of the
 * scheduling classes, with no context switch, clock or thread in sight.
 * core/sched.c is the mechanism that calls it (switch, block, wake, timers);
 * tests/sched/test-policy.c drives it alone under simulated time.
 *
 * Classes, highest first (a thread of a higher class always runs before any
 * of a lower one):
 *   FIFO, RR  real time, priority 1-99 (higher first). FIFO runs until it
 *             blocks or yields; RR gets RQ_SLICE_RR_NS, then goes behind its
 *             equals. A preempted real-time thread goes back to the head.
 *   FAIR      weighted virtual runtime (CFS-like): the queued thread with the
 *             least vruntime runs; running `ns` adds ns * 1024 / weight(nice).
 *   BATCH     fair, in the same queue, with RQ_SLICE_BATCH_NS slices and
 *             never preempting anyone when it wakes.
 *   IDLE      runs only when no other class has a runnable thread.
 *
 * The effective policy (eff_policy, eff_prio) is what the queue orders by;
 * it differs from the thread's own only while priority inheritance lifts it.
 */
#ifndef VERIDIAN_SCHED_POLICY_H
#define VERIDIAN_SCHED_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "veridian/abi.h"
#include "veridian/klib.h"

#define RQ_SLICE_FAIR_NS 10000000ull /* 10 ms */
#define RQ_SLICE_RR_NS 10000000ull
#define RQ_SLICE_BATCH_NS 40000000ull
#define RQ_SLICE_IDLE_NS 10000000ull
#define RQ_WAKE_GRAN_NS 1000000ull /* a woken fair thread preempts if this far behind */
#define RQ_NICE0_WEIGHT 1024u
#define RQ_RT_LEVELS (VR_SCHED_PRIO_MAX + 1)

/* The scheduling state of one thread. */
struct sched_entity {
	struct list link;   /* in a run queue list while queued */
	uint8_t policy;     /* VR_SCHED_*: the thread's own */
	int8_t prio;        /* real-time priority, or nice */
	uint8_t eff_policy; /* after inheritance */
	int8_t eff_prio;
	int16_t rank; /* sched_rank(eff_policy, eff_prio), cached for the IPC path */
	bool queued;
	unsigned cpu;      /* whose run queue */
	uint64_t affinity; /* stored; one CPU today */
	uint64_t vruntime;
	uint64_t cpu_ns;
};

/* One CPU's runnable threads (the running one is not queued). */
struct runqueue {
	unsigned cpu;
	unsigned nr_queued;
	uint64_t rt_bitmap[2]; /* bit p: rt[p] is not empty */
	struct list rt[RQ_RT_LEVELS];
	struct list fair; /* fair and batch, by vruntime, FIFO among equals */
	struct list idle;
	uint64_t min_vruntime; /* never decreases */
};

/* Where an entity goes when queued. */
enum rq_how {
	RQ_WAKE,      /* it was blocked or new: fair vruntime catches up with min_vruntime */
	RQ_TAIL,      /* it yielded or its slice ended: behind its equals */
	RQ_PREEMPTED, /* a higher thread took the CPU: real-time goes back to the head */
};

void rq_init(struct runqueue *rq, unsigned cpu);

/* A new entity of `policy` and `prio` (already validated), not queued. */
void se_init(struct sched_entity *se, unsigned policy, int prio);

/* Is (policy, prio) a valid pair? VR_OK or VR_EINVAL. */
int sched_policy_valid(uint64_t policy, int64_t prio);

/* A total order of (policy, prio) pairs for wait queues and inheritance:
 * higher ranks run first. Idle 0..39 (by nice), fair and batch 41..80 (by
 * nice), real time 101..199. Inline: the IPC path asks it on every call. */
static inline int sched_rank(unsigned policy, int prio)
{
	if (policy == VR_SCHED_FIFO || policy == VR_SCHED_RR)
		return 100 + prio;
	if (policy == VR_SCHED_FAIR || policy == VR_SCHED_BATCH)
		return 60 - prio;
	return 19 - prio;
}

static inline int se_rank(const struct sched_entity *se)
{
	return se->rank;
}

/* Weight of a nice value (nice 0: RQ_NICE0_WEIGHT; each step about 1.25x). */
uint32_t sched_nice_weight(int nice);

void rq_enqueue(struct runqueue *rq, struct sched_entity *se, enum rq_how how);
void rq_remove(struct runqueue *rq, struct sched_entity *se);

/* Take the entity to run next off the queue; NULL if it is empty. */
struct sched_entity *rq_pick(struct runqueue *rq);

/* Charge `ns` of CPU time to se (it ran that long). */
void se_charge(struct sched_entity *se, uint64_t ns);

/* How long se may run before the queue is asked again (UINT64_MAX: FIFO). */
uint64_t se_slice(const struct sched_entity *se);

/* Should `woken`, just queued, take the CPU from `curr` now? */
bool rq_wake_preempts(const struct sched_entity *curr, const struct sched_entity *woken);

/* curr's slice ended: is there a queued entity that should run instead? */
bool rq_slice_preempts(const struct runqueue *rq, const struct sched_entity *curr);

/* Change the effective policy (inheritance) or the own one (sched_set) of
 * se; a queued se is re-queued at its new place. */
void rq_set_effective(struct runqueue *rq, struct sched_entity *se, unsigned policy, int prio);

/* Invariants of the queue (see the top of sched_policy.c). */
bool rq_check(const struct runqueue *rq);

#endif
