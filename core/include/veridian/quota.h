/*
 * Memory quotas: every page and kernel object a process causes to exist is
 * charged, in bytes, to a quota. Quotas form a tree along process creation:
 * a charge must fit the limit of the quota AND of every ancestor, and is
 * added to all of them, so a child spends its parent's budget (an
 * inherited budget; docs/memory.md explains why not an seL4 untyped).
 * Exhaustion is VR_ENOMEM for the caller, never a kernel failure.
 *
 * A quota is reference counted: its process, every memory object charged
 * to it and every child quota hold a reference, so charges can be returned
 * after the process that made them has gone.
 */
#ifndef VERIDIAN_QUOTA_H
#define VERIDIAN_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "veridian/abi.h"
#include "veridian/klib.h"

#define QUOTA_UNLIMITED UINT64_MAX

struct quota {
	uint64_t limit; /* bytes; QUOTA_UNLIMITED: only the ancestors' limits apply */
	uint64_t used;  /* bytes charged here and in all descendants */
	uint32_t refs;
	struct quota *parent;
};

/* A new quota under `parent` (NULL: a root) with `limit`, one reference
 * held by the caller. NULL on ENOMEM. */
struct quota *quota_create(struct quota *parent, uint64_t limit);
void quota_get(struct quota *q);
void quota_put(struct quota *q);

/* Charge `bytes` to q and its ancestors: VR_ENOMEM (and nothing charged)
 * if any limit would be exceeded. q may be NULL (kernel memory: free).
 * Inline so that core/vm.c needs no other file in unit tests and fuzzers. */
static inline int quota_charge(struct quota *q, uint64_t bytes)
{
	for (struct quota *a = q; a; a = a->parent)
		if (a->used + bytes < a->used || a->used + bytes > a->limit)
			return VR_ENOMEM;
	for (struct quota *a = q; a; a = a->parent)
		a->used += bytes;
	return VR_OK;
}

static inline void quota_uncharge(struct quota *q, uint64_t bytes)
{
	for (struct quota *a = q; a; a = a->parent) {
		KASSERT(a->used >= bytes);
		a->used -= bytes;
	}
}

/* Lower q's limit; VR_EINVAL if `limit` is above the current one or
 * below what is already used. */
int quota_set_limit(struct quota *q, uint64_t limit);

/* Bytes q may still charge, counting every ancestor's limit. */
uint64_t quota_available(const struct quota *q);

struct kobj;

/* Return an object's memory charge (kobj.quota_bytes) to the quota that
 * paid it, which the object kept alive with a reference. A no-op for
 * objects the kernel made for itself (no quota). */
void kobj_release_charge(struct kobj *obj);

/* Register the quota object type (KOBJ_QUOTA, core/syscall_quota.c). */
void quota_obj_init(void);

/* Invariants: used <= limit at every level; a parent's used covers the
 * child's; refs > 0. */
bool quota_check(const struct quota *q);

#endif
