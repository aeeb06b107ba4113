/*
 * Capabilities: per-process capability spaces of slots, named by handles;
 * a derivation tree along which rights only shrink; badges; expiry; and
 * revocation with bounded work per call.
 *
 * A handle is (generation << 16 | slot). Emptying a slot bumps its
 * generation, so a handle kept after its capability was deleted is
 * recognised as stale instead of silently naming whatever the slot holds
 * next (Hubris-style generations). A slot whose generation would wrap is
 * retired instead of reused, so a stale handle never becomes valid again.
 */
#ifndef VERIDIAN_CAP_H
#define VERIDIAN_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veridian/abi.h"
#include "veridian/klib.h"

/* Rights. DELEGATE: may derive children (copy, mint); GRANT: may travel in
 * IPC; DELETE: may destroy the object through this capability. */
#define CAP_READ (1u << 0)
#define CAP_WRITE (1u << 1)
#define CAP_EXECUTE (1u << 2)
#define CAP_DELETE (1u << 3)
#define CAP_GRANT (1u << 4)
#define CAP_DELEGATE (1u << 5)
#define CAP_RIGHTS_ALL 0x3fu

#define CAP_SLOT_BITS 16
#define CAP_SLOTS_MAX (1u << CAP_SLOT_BITS)
#define CAP_NO_EXPIRY 0

typedef uint32_t cap_handle_t;

enum kobj_type {
	KOBJ_NONE = 0,
	KOBJ_ENDPOINT,
	KOBJ_NOTIFICATION,
	KOBJ_CSPACE,
	KOBJ_VSPACE,
	KOBJ_MEMORY,
	KOBJ_THREAD,
	KOBJ_PROCESS,
	KOBJ_IRQ,
	KOBJ_QUOTA,
	KOBJ_IOPORT,
	KOBJ_TEST, /* for unit tests and fuzzers */
	KOBJ_TYPE_COUNT
};

_Static_assert(KOBJ_ENDPOINT == VR_OBJ_ENDPOINT && KOBJ_NOTIFICATION == VR_OBJ_NOTIFICATION &&
		       KOBJ_CSPACE == VR_OBJ_CSPACE && KOBJ_VSPACE == VR_OBJ_VSPACE &&
		       KOBJ_MEMORY == VR_OBJ_MEMORY && KOBJ_THREAD == VR_OBJ_THREAD &&
		       KOBJ_PROCESS == VR_OBJ_PROCESS && KOBJ_IRQ == VR_OBJ_IRQ &&
		       KOBJ_QUOTA == VR_OBJ_QUOTA && KOBJ_IOPORT == VR_OBJ_IOPORT,
	       "kobj_type and the ABI's VR_OBJ_* agree");

/* Header of every kernel object that capabilities can name. */
struct quota;

struct kobj {
	enum kobj_type type;
	uint32_t ncaps;       /* capabilities naming this object, in every cspace */
	struct quota *quota;  /* charged for the object's memory (holds a reference); */
	uint32_t quota_bytes; /* NULL for objects the kernel made for itself */
};

/* Called when the last capability to an object goes: frees the object. */
typedef void (*kobj_destroy_fn)(struct kobj *obj);
void kobj_register_type(enum kobj_type type, kobj_destroy_fn destroy);

/* A capability. Lives in a cspace slot; the derivation tree links
 * capabilities directly (a move relinks them). */
struct cap {
	struct kobj *obj; /* NULL: the slot is empty */
	uint32_t rights;
	uint64_t badge;
	uint64_t expiry;      /* kernel clock ns; CAP_NO_EXPIRY */
	struct cap *parent;   /* NULL for an original capability */
	struct list children; /* derived capabilities */
	struct list sibling;  /* in parent->children */
};

struct cap_slot {
	struct cap cap;
	uint16_t gen;
};

/* A cspace is a kernel object too (KOBJ_CSPACE): another process may hold
 * a capability to it (process_space) to put capabilities into it. Its
 * record outlives cspace_destroy() while such capabilities exist (dead:
 * no slots; every operation through them is VR_ESRCH). */
struct cspace {
	struct kobj obj;
	bool dead;
	uint32_t nslots;
	uint64_t slots_pa; /* frames holding the slot array */
	struct cap_slot *slots;
};

/* What identify reports. */
struct cap_info {
	const struct kobj *obj;
	enum kobj_type type;
	uint32_t rights;
	uint64_t badge;
	uint64_t expiry;
};

/* Create an empty cspace of `nslots` (1..CAP_SLOTS_MAX). NULL on ENOMEM. */
struct cspace *cspace_create(uint32_t nslots);

/* Delete every capability in it and free it (its record stays, dead, while
 * capabilities name it). */
void cspace_destroy(struct cspace *cs);

/* Put an original capability (no parent) to `obj` in a free slot. */
int cap_insert(struct cspace *cs, struct kobj *obj, uint32_t rights, uint64_t badge,
	       cap_handle_t *out);

/* Decode a handle: the capability it names, if it has `type` (KOBJ_NONE:
 * any) and all of `rights` and has not expired at `now`. Errors, in the
 * order checked: VR_ECAP_RANGE, VR_ECAP_STALE, VR_ECAP_EMPTY,
 * VR_ECAP_EXPIRED, VR_ECAP_TYPE, VR_ECAP_RIGHTS. */
int cap_lookup(struct cspace *cs, cap_handle_t h, enum kobj_type type, uint32_t rights,
	       uint64_t now, struct cap **out);

/* Derive a child of `src` into a free slot of `dst_cs`: rights & `rights`,
 * the badge (only an unbadged source can be given one; 0 keeps the
 * source's), and the earlier of the two expiries. Needs DELEGATE.
 * copy = mint with the same rights, badge and expiry. */
int cap_mint(struct cspace *cs, cap_handle_t src, struct cspace *dst_cs, uint32_t rights,
	     uint64_t badge, uint64_t expiry, uint64_t now, cap_handle_t *out);
int cap_copy(struct cspace *cs, cap_handle_t src, struct cspace *dst_cs, uint64_t now,
	     cap_handle_t *out);

/* Derive a child with the same rights, badge and expiry into a free slot
 * of dst_cs, for a capability travelling to another process at its
 * creation: needs GRANT instead of DELEGATE. */
int cap_grant_copy(struct cspace *cs, cap_handle_t src, struct cspace *dst_cs, uint64_t now,
		   cap_handle_t *out);

/* Move a capability to a free slot of dst_cs, keeping its place in the
 * derivation tree; the old handle becomes stale. */
int cap_move(struct cspace *cs, cap_handle_t src, struct cspace *dst_cs, uint64_t now,
	     cap_handle_t *out);

/* Delete one capability; its children move up to its parent. Deleting the
 * last capability to an object destroys the object. Works on expired
 * capabilities too (so they can be cleaned up). */
int cap_delete(struct cspace *cs, cap_handle_t h);

/* Delete every descendant of h (not h itself), at most `budget` of them in
 * this call: VR_OK when none remain, VR_EAGAIN when the caller must call
 * again (a syscall returns to user mode in between, so a huge tree cannot
 * stall the kernel). *deleted counts the work done. */
int cap_revoke(struct cspace *cs, cap_handle_t h, unsigned budget, unsigned *deleted);

int cap_identify(struct cspace *cs, cap_handle_t h, uint64_t now, struct cap_info *info);

/* Invariants of one cspace: every non-empty slot names an object of a
 * valid type; a child's rights are a subset of its parent's and its expiry
 * no later; parent and children links agree. */
bool cspace_check(const struct cspace *cs);

/* Count the capabilities naming obj in the given cspaces (for checking
 * kobj.ncaps in tests and fuzzers). */
uint32_t cap_count_refs(struct cspace *const *spaces, size_t n, const struct kobj *obj);

static inline cap_handle_t cap_handle(uint32_t slot, uint16_t gen)
{
	return (cap_handle_t)gen << CAP_SLOT_BITS | slot;
}

#endif
