/*
 * Quota objects (KOBJ_QUOTA): capabilities naming a memory quota, so that a
 * process can carve budgets out of its own and hand them to the children it
 * spawns (vr_spawn_caps.quota) or to anyone it grants the capability to.
 * The quota tree itself is core/quota.c; docs/memory.md explains the
 * scheme (an inherited budget rather than seL4's untyped retype).
 *
 * Rights: quota_create under a quota capability and spawning under one
 * need WRITE (they spend its budget); quota_cap_info needs READ;
 * quota_cap_set (lowering the limit) needs WRITE.
 *
 * Invariant (quota_obj_check): the object holds a reference to its quota,
 * and the quota's own invariants hold.
 */
#include "veridian/hal.h"
#include "veridian/kheap.h"
#include "veridian/klib.h"
#include "veridian/proc.h"
#include "veridian/quota.h"
#include "veridian/syscall.h"

struct quota_obj {
	struct kobj obj;
	struct quota *q; /* one reference */
};

static bool quota_obj_check(const struct quota_obj *qo)
{
	return qo->obj.type == KOBJ_QUOTA && qo->q && qo->q->refs && quota_check(qo->q);
}

/* The last capability went: give back the quota reference and the
 * object's own charge. */
static void quota_obj_destroy(struct kobj *obj)
{
	struct quota_obj *qo = container_of(obj, struct quota_obj, obj);

	quota_put(qo->q);
	kobj_release_charge(obj);
	kfree(qo);
}

void quota_obj_init(void)
{
	kobj_register_type(KOBJ_QUOTA, quota_obj_destroy);
}

int decode_quota(uint64_t h, uint32_t rights, struct quota **out)
{
	struct cap *c;
	int err = decode_cap(h, KOBJ_QUOTA, rights, &c);

	if (!err)
		*out = container_of(c->obj, struct quota_obj, obj)->q;
	return err;
}

/* quota_create(parent or -1, limit): a new quota under parent, named by a
 * new capability; the object's record is charged to the caller. */
int64_t sys_quota_create(const struct syscall_args *a)
{
	struct process *self = proc_current();
	struct quota *parent = self->quota;
	struct quota_obj *qo;
	cap_handle_t h;
	int err;

	if ((int64_t)a->a[0] != -1) {
		err = decode_quota(a->a[0], CAP_WRITE, &parent);
		if (err)
			return err;
	}
	if (a->a[1] == 0)
		return VR_EINVAL;
	if (quota_charge(self->quota, sizeof(*qo) + sizeof(struct quota)))
		return VR_ENOMEM;
	qo = kzalloc(sizeof(*qo));
	if (qo)
		qo->q = quota_create(parent, a->a[1]);
	if (!qo || !qo->q) {
		kfree(qo);
		quota_uncharge(self->quota, sizeof(*qo) + sizeof(struct quota));
		return VR_ENOMEM;
	}
	qo->obj.type = KOBJ_QUOTA;
	err = cap_insert(self->cs, &qo->obj, CAP_RIGHTS_ALL, 0, &h);
	if (err) {
		quota_put(qo->q);
		kfree(qo);
		quota_uncharge(self->quota, sizeof(*qo) + sizeof(struct quota));
		return err;
	}
	qo->obj.quota = self->quota;
	qo->obj.quota_bytes = sizeof(*qo) + sizeof(struct quota);
	quota_get(self->quota);
	KCHECK(quota_obj_check(qo));
	return (int64_t)h;
}

int64_t sys_quota_cap_info(const struct syscall_args *a)
{
	struct vm_space *vs = &proc_current()->vs;
	struct vr_quota_info qi;
	struct quota *q;
	int err = decode_quota(a->a[0], CAP_READ, &q);

	if (err)
		return err;
	if (!vm_user_range_ok(vs, a->a[1], sizeof(qi), true))
		return VR_EFAULT;
	qi = (struct vr_quota_info){ q->limit, q->used, quota_available(q) };
	COPY_CHECKED(vm_copy_to_user(vs, a->a[1], &qi, sizeof(qi)));
	return VR_OK;
}

int64_t sys_quota_cap_set(const struct syscall_args *a)
{
	struct quota *q;
	int err = decode_quota(a->a[0], CAP_WRITE, &q);

	if (err)
		return err;
	err = quota_set_limit(q, a->a[1]);
	KCHECK(quota_check(q));
	return err;
}
