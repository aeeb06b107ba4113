/*
 * Capability spaces and the derivation tree.
 *
 * Invariants (cspace_check; the numbers are cited by assertions):
 *  1. An empty slot has no parent and no children.
 *  2. A capability's rights are within CAP_RIGHTS_ALL; a derived one's are
 *     a subset of its parent's, it names the same object, and it expires no
 *     later than its parent (if the parent expires at all).
 *  3. c->parent != NULL  <=>  c is on c->parent->children; every child on
 *     c->children has parent c.
 *  4. obj->ncaps equals the number of capabilities naming obj (checked
 *     across cspaces by cap_count_refs in tests and fuzzers).
 *
 * Operations decode first (cap_lookup and slot checks can fail) and then
 * mutate (cannot fail).
 */
#include "veridian/cap.h"
#include "veridian/kheap.h"
#include "veridian/pmm.h"

/* A slot whose generation reaches this value is never used again: reusing
 * it would wrap the generation and revive every stale handle to it. A
 * cspace loses one slot per 65,535 reuses of the same slot. */
#define CAP_GEN_RETIRED UINT16_MAX

static void cspace_obj_destroy(struct kobj *obj);

static kobj_destroy_fn destroy_fns[KOBJ_TYPE_COUNT] = { [KOBJ_CSPACE] = cspace_obj_destroy };

void kobj_register_type(enum kobj_type type, kobj_destroy_fn destroy)
{
	KASSERT(type > KOBJ_NONE && type < KOBJ_TYPE_COUNT);
	destroy_fns[type] = destroy;
}

static size_t slots_pages(uint32_t nslots)
{
	return ALIGN_UP(nslots * sizeof(struct cap_slot), PAGE_SIZE) / PAGE_SIZE;
}

struct cspace *cspace_create(uint32_t nslots)
{
	struct cspace *cs;

	if (nslots == 0 || nslots > CAP_SLOTS_MAX)
		return NULL;
	cs = kzalloc(sizeof(*cs));
	if (!cs)
		return NULL;
	cs->slots_pa = pmm_alloc(slots_pages(nslots), 1);
	if (!cs->slots_pa) {
		kfree(cs);
		return NULL;
	}
	cs->obj.type = KOBJ_CSPACE;
	cs->nslots = nslots;
	cs->slots = phys_to_virt(cs->slots_pa); /* zeroed: all empty, generation 0 */
	for (uint32_t i = 0; i < nslots; i++) {
		list_init(&cs->slots[i].cap.children);
		list_init(&cs->slots[i].cap.sibling);
	}
	return cs;
}

static struct cap_slot *slot_of_cap(struct cap *c)
{
	return container_of(c, struct cap_slot, cap);
}

static uint32_t handle_slot(cap_handle_t h)
{
	return h & (CAP_SLOTS_MAX - 1);
}

static uint16_t handle_gen(cap_handle_t h)
{
	return (uint16_t)(h >> CAP_SLOT_BITS);
}

/* Decode a handle to a non-empty slot (no expiry, type or rights check). */
static int decode(struct cspace *cs, cap_handle_t h, struct cap **out)
{
	struct cap_slot *s;

	if (handle_slot(h) >= cs->nslots)
		return VR_ECAP_RANGE;
	s = &cs->slots[handle_slot(h)];
	if (s->gen != handle_gen(h))
		return VR_ECAP_STALE;
	if (!s->cap.obj)
		return VR_ECAP_EMPTY;
	*out = &s->cap;
	return VR_OK;
}

static bool expired(const struct cap *c, uint64_t now)
{
	return c->expiry != CAP_NO_EXPIRY && now >= c->expiry;
}

int cap_lookup(struct cspace *cs, cap_handle_t h, enum kobj_type type, uint32_t rights,
	       uint64_t now, struct cap **out)
{
	struct cap *c;
	int err = decode(cs, h, &c);

	if (err)
		return err;
	if (expired(c, now))
		return VR_ECAP_EXPIRED;
	if (type != KOBJ_NONE && c->obj->type != type)
		return VR_ECAP_TYPE;
	if ((c->rights & rights) != rights)
		return VR_ECAP_RIGHTS;
	*out = c;
	return VR_OK;
}

/* A free slot, or NULL when the cspace is full. */
static struct cap_slot *free_slot(struct cspace *cs)
{
	for (uint32_t i = 0; i < cs->nslots; i++)
		if (!cs->slots[i].cap.obj && cs->slots[i].gen != CAP_GEN_RETIRED)
			return &cs->slots[i];
	return NULL;
}

static cap_handle_t handle_of(const struct cspace *cs, const struct cap_slot *s)
{
	return cap_handle((uint32_t)(s - cs->slots), s->gen);
}

static void fill(struct cap_slot *s, struct kobj *obj, uint32_t rights, uint64_t badge,
		 uint64_t expiry, struct cap *parent)
{
	struct cap *c = &s->cap;

	c->obj = obj;
	c->rights = rights;
	c->badge = badge;
	c->expiry = expiry;
	c->parent = parent;
	list_init(&c->children);
	list_init(&c->sibling);
	if (parent)
		list_push_back(&parent->children, &c->sibling);
	obj->ncaps++;
}

int cap_insert(struct cspace *cs, struct kobj *obj, uint32_t rights, uint64_t badge,
	       cap_handle_t *out)
{
	struct cap_slot *s;

	if (!obj || obj->type <= KOBJ_NONE || obj->type >= KOBJ_TYPE_COUNT ||
	    (rights & ~CAP_RIGHTS_ALL))
		return VR_EINVAL;
	s = free_slot(cs);
	if (!s)
		return VR_ENOMEM;
	fill(s, obj, rights, badge, CAP_NO_EXPIRY, NULL);
	*out = handle_of(cs, s);
	KCHECK(cspace_check(cs));
	return VR_OK;
}

static uint64_t earlier_expiry(uint64_t a, uint64_t b)
{
	if (a == CAP_NO_EXPIRY)
		return b;
	if (b == CAP_NO_EXPIRY)
		return a;
	return MIN(a, b);
}

/* Derive a child of `parent` into a free slot of dst_cs (the mutation
 * half of mint; the caller has decoded everything). */
static int derive(struct cap *parent, struct cspace *dst_cs, uint32_t rights, uint64_t badge,
		  uint64_t expiry, cap_handle_t *out)
{
	struct cap_slot *s = free_slot(dst_cs);

	if (!s)
		return VR_ENOMEM;
	fill(s, parent->obj, parent->rights & rights, parent->badge ? parent->badge : badge,
	     earlier_expiry(parent->expiry, expiry), parent);
	*out = handle_of(dst_cs, s);
	return VR_OK;
}

int cap_mint(struct cspace *cs, cap_handle_t src, struct cspace *dst_cs, uint32_t rights,
	     uint64_t badge, uint64_t expiry, uint64_t now, cap_handle_t *out)
{
	struct cap *parent;
	int err;

	if (rights & ~CAP_RIGHTS_ALL)
		return VR_EINVAL;
	err = cap_lookup(cs, src, KOBJ_NONE, CAP_DELEGATE, now, &parent);
	if (err)
		return err;
	if (badge && parent->badge && badge != parent->badge)
		return VR_EINVAL; /* a badge, once set, is fixed for all descendants */
	if (expiry != CAP_NO_EXPIRY && expiry <= now)
		return VR_EINVAL;
	err = derive(parent, dst_cs, rights, badge, expiry, out);
	KCHECK(cspace_check(cs) && cspace_check(dst_cs));
	return err;
}

int cap_grant_copy(struct cspace *cs, cap_handle_t src, struct cspace *dst_cs, uint64_t now,
		   cap_handle_t *out)
{
	struct cap *parent;
	int err = cap_lookup(cs, src, KOBJ_NONE, CAP_GRANT, now, &parent);

	if (err)
		return err;
	err = derive(parent, dst_cs, CAP_RIGHTS_ALL, 0, CAP_NO_EXPIRY, out);
	KCHECK(cspace_check(cs) && cspace_check(dst_cs));
	return err;
}

int cap_copy(struct cspace *cs, cap_handle_t src, struct cspace *dst_cs, uint64_t now,
	     cap_handle_t *out)
{
	return cap_mint(cs, src, dst_cs, CAP_RIGHTS_ALL, 0, CAP_NO_EXPIRY, now, out);
}

/* Empty a slot whose capability has no children and no parent links left. */
static void clear_slot(struct cap *c)
{
	struct cap_slot *s = slot_of_cap(c);

	*c = (struct cap){ 0 };
	list_init(&c->children);
	list_init(&c->sibling);
	s->gen++;
}

/* Move c's children (and c's place under its parent) to `to`. */
static void relink(struct cap *c, struct cap *to)
{
	struct list *l;

	while ((l = list_pop_front(&c->children))) {
		container_of(l, struct cap, sibling)->parent = to;
		list_push_back(&to->children, l);
	}
	if (c->parent) {
		list_insert_before(&c->sibling, &to->sibling);
		list_remove(&c->sibling);
	}
}

int cap_move(struct cspace *cs, cap_handle_t src, struct cspace *dst_cs, uint64_t now,
	     cap_handle_t *out)
{
	struct cap *c;
	struct cap_slot *s;
	int err = cap_lookup(cs, src, KOBJ_NONE, 0, now, &c);

	if (err)
		return err;
	s = free_slot(dst_cs);
	if (!s)
		return VR_ENOMEM;
	s->cap = *c;
	list_init(&s->cap.children);
	list_init(&s->cap.sibling);
	relink(c, &s->cap);
	clear_slot(c);
	*out = handle_of(dst_cs, s);
	KCHECK(cspace_check(cs) && cspace_check(dst_cs));
	return VR_OK;
}

/* Remove one capability: children move up to its parent (or become
 * originals). Returns its object if that was the object's last capability:
 * the caller destroys it with destroy_obj() once it no longer touches the
 * cspace, which may be that very object. */
static struct kobj *unlink_cap(struct cap *c)
{
	struct kobj *obj = c->obj;
	struct list *l;

	while ((l = list_pop_front(&c->children))) {
		struct cap *child = container_of(l, struct cap, sibling);
		child->parent = c->parent;
		if (c->parent)
			list_push_back(&c->parent->children, &child->sibling);
	}
	list_remove(&c->sibling);
	clear_slot(c);
	KASSERT(obj->ncaps > 0); /* invariant 4 */
	return --obj->ncaps == 0 ? obj : NULL;
}

static void destroy_obj(struct kobj *obj)
{
	if (obj && destroy_fns[obj->type])
		destroy_fns[obj->type](obj);
}

/* Remove one capability; the object dies with its last capability. */
static void delete_cap(struct cap *c)
{
	destroy_obj(unlink_cap(c));
}

int cap_delete(struct cspace *cs, cap_handle_t h)
{
	struct kobj *obj;
	struct cap *c;
	int err = decode(cs, h, &c);

	if (err)
		return err;
	obj = unlink_cap(c);
	KCHECK(cspace_check(cs)); /* before destroy_obj: it may free cs itself */
	destroy_obj(obj);
	return VR_OK;
}

/* The first leaf at or below c, following first children. */
static struct cap *first_leaf(struct cap *c)
{
	while (!list_empty(&c->children))
		c = container_of(c->children.next, struct cap, sibling);
	return c;
}

int cap_revoke(struct cspace *cs, cap_handle_t h, unsigned budget, unsigned *deleted)
{
	struct cap *c;
	int err = decode(cs, h, &c);

	*deleted = 0;
	if (err)
		return err;
	/* Deleting leaves only: each step is O(1) and never reparents. The
	 * search resumes at the deleted leaf's parent, which is still on the
	 * first-child path from c, so a call walks O(budget + depth) links
	 * instead of O(budget * depth). */
	for (struct cap *cur = c; !list_empty(&c->children) && *deleted < budget;) {
		struct cap *leaf = first_leaf(cur);
		cur = leaf->parent;
		delete_cap(leaf);
		(*deleted)++;
	}
	KCHECK(cspace_check(cs));
	return list_empty(&c->children) ? VR_OK : VR_EAGAIN;
}

int cap_identify(struct cspace *cs, cap_handle_t h, uint64_t now, struct cap_info *info)
{
	struct cap *c;
	int err = decode(cs, h, &c);

	if (err)
		return err;
	if (expired(c, now))
		return VR_ECAP_EXPIRED;
	*info = (struct cap_info){ c->obj, c->obj->type, c->rights, c->badge, c->expiry };
	return VR_OK;
}

/* The last capability to a cspace went: a dead one's record goes; a live
 * one belongs to its process (or to cspace_destroy() in progress, which
 * may be deleting that very capability from the cspace itself). */
static void cspace_obj_destroy(struct kobj *obj)
{
	struct cspace *cs = container_of(obj, struct cspace, obj);

	if (cs->dead)
		kfree(cs);
}

void cspace_destroy(struct cspace *cs)
{
	for (uint32_t i = 0; i < cs->nslots; i++)
		if (cs->slots[i].cap.obj)
			delete_cap(&cs->slots[i].cap);
	pmm_free(cs->slots_pa, slots_pages(cs->nslots));
	cs->slots = NULL;
	cs->slots_pa = 0;
	cs->dead = true;
	if (!cs->obj.ncaps)
		kfree(cs);
}

static bool cap_check_one(const struct cap *c)
{
	const struct list *l;

	if (!c->obj) /* invariant 1 */
		return !c->parent && list_empty(&c->children);
	if (c->obj->type <= KOBJ_NONE || c->obj->type >= KOBJ_TYPE_COUNT || !c->obj->ncaps)
		return false;
	if (c->rights & ~CAP_RIGHTS_ALL) /* invariant 2 */
		return false;
	if (c->parent) {
		const struct cap *p = c->parent;
		if (p->obj != c->obj || (c->rights & ~p->rights))
			return false;
		if (p->expiry != CAP_NO_EXPIRY &&
		    (c->expiry == CAP_NO_EXPIRY || c->expiry > p->expiry))
			return false;
		if (!list_contains(&p->children, &c->sibling)) /* invariant 3 */
			return false;
	}
	list_for_each(l, &c->children)
		if (container_of(l, const struct cap, sibling)->parent != c)
			return false;
	return true;
}

bool cspace_check(const struct cspace *cs)
{
	if (cs->obj.type != KOBJ_CSPACE || !cs->nslots || cs->nslots > CAP_SLOTS_MAX)
		return false;
	if (cs->dead)
		return !cs->slots && cs->obj.ncaps;
	for (uint32_t i = 0; i < cs->nslots; i++)
		if (!cap_check_one(&cs->slots[i].cap))
			return false;
	return true;
}

uint32_t cap_count_refs(struct cspace *const *spaces, size_t n, const struct kobj *obj)
{
	uint32_t count = 0;

	for (size_t i = 0; i < n; i++)
		for (uint32_t s = 0; s < spaces[i]->nslots; s++)
			count += spaces[i]->slots[s].cap.obj == obj;
	return count;
}
