/*
 * Memory quotas (see quota.h).
 *
 * Invariants (quota_check):
 *  1. used <= limit.
 *  2. parent->used >= used (every charge went up the whole chain).
 *  3. refs > 0 while anyone can reach the quota.
 */
#include "veridian/kheap.h"
#include "veridian/klib.h"
#include "veridian/cap.h"
#include "veridian/quota.h"

struct quota *quota_create(struct quota *parent, uint64_t limit)
{
	struct quota *q = kzalloc(sizeof(*q));

	if (!q)
		return NULL;
	q->limit = limit;
	q->refs = 1;
	q->parent = parent;
	if (parent)
		quota_get(parent);
	return q;
}

void quota_get(struct quota *q)
{
	KASSERT(q->refs > 0 && q->refs < UINT32_MAX);
	q->refs++;
}

/* Dropping the last reference releases the parent's reference too (an
 * iterative walk: chains are as deep as the process tree). */
void quota_put(struct quota *q)
{
	while (q) {
		struct quota *parent = q->parent;
		KASSERT(q->refs > 0);
		if (--q->refs)
			return;
		KASSERT(q->used == 0); /* every charge was returned first */
		kfree(q);
		q = parent;
	}
}

int quota_set_limit(struct quota *q, uint64_t limit)
{
	if (limit > q->limit || limit < q->used)
		return VR_EINVAL;
	q->limit = limit;
	return VR_OK;
}

uint64_t quota_available(const struct quota *q)
{
	uint64_t avail = UINT64_MAX;

	for (const struct quota *a = q; a; a = a->parent)
		avail = MIN(avail, a->limit - a->used);
	return avail;
}

bool quota_check(const struct quota *q)
{
	if (!q->refs || q->used > q->limit)
		return false;
	return !q->parent || q->parent->used >= q->used;
}

void kobj_release_charge(struct kobj *obj)
{
	if (!obj->quota)
		return;
	quota_uncharge(obj->quota, obj->quota_bytes);
	quota_put(obj->quota);
	obj->quota = NULL;
}
