/*
 * Syscalls of capabilities, endpoints and notifications: the decoders.
 * Each checks the handle (type, rights, expiry), the flags and the message
 * before core/cap.c or core/ipc.c acts; see syscall.c for the rest.
 */
#include "veridian/hal.h"
#include "veridian/ipc.h"
#include "veridian/kheap.h"
#include "veridian/klib.h"
#include "veridian/pmm.h"
#include "veridian/proc.h"
#include "veridian/quota.h"
#include "veridian/syscall.h"

#define REVOKE_BUDGET 64u /* capabilities deleted per cap_revoke call */

static struct vm_space *caller_vs(void)
{
	return &proc_current()->vs;
}

/* ---- Capabilities ---- */

static struct cspace *caller_cs(void)
{
	return proc_current()->cs;
}

/* Decode a user-supplied handle. Handles are 32 bits; anything wider is
 * out of range. */
static int decode_cap(uint64_t h, enum kobj_type type, uint32_t rights, struct cap **out)
{
	struct cap *c;
	int err;

	if (h > UINT32_MAX)
		return VR_ECAP_RANGE;
	/* Look up at time 0 (nothing has expired) and read the clock only for
	 * a capability that can expire: the IPC path stays off the clock. The
	 * second lookup keeps the documented order of errors. */
	err = cap_lookup(caller_cs(), (cap_handle_t)h, KOBJ_NONE, 0, 0, &c);
	if (err)
		return err;
	return cap_lookup(caller_cs(), (cap_handle_t)h, type, rights,
			  c->expiry != CAP_NO_EXPIRY ? hal_clock_ns() : 0, out);
}

int64_t sys_cap_identify(const struct syscall_args *a)
{
	struct cap_info ci;
	struct vr_cap_info out;
	int err;

	if (a->a[0] > UINT32_MAX)
		return VR_ECAP_RANGE;
	if (!vm_user_range_ok(caller_vs(), a->a[1], sizeof(out), true))
		return VR_EFAULT;
	err = cap_identify(caller_cs(), (cap_handle_t)a->a[0], hal_clock_ns(), &ci);
	if (err)
		return err;
	out = (struct vr_cap_info){ ci.type, ci.rights, ci.badge, ci.expiry };
	COPY_CHECKED(vm_copy_to_user(caller_vs(), a->a[1], &out, sizeof(out)));
	return VR_OK;
}

int64_t sys_cap_mint(const struct syscall_args *a)
{
	cap_handle_t out;
	int err;

	if (a->a[0] > UINT32_MAX)
		return VR_ECAP_RANGE;
	if (a->a[1] & ~(uint64_t)CAP_RIGHTS_ALL)
		return VR_EINVAL;
	err = cap_mint(caller_cs(), (cap_handle_t)a->a[0], caller_cs(), (uint32_t)a->a[1], a->a[2],
		       a->a[3], hal_clock_ns(), &out);
	return err ? err : (int64_t)out;
}

int64_t sys_cap_copy(const struct syscall_args *a)
{
	cap_handle_t out;
	int err;

	if (a->a[0] > UINT32_MAX)
		return VR_ECAP_RANGE;
	err = cap_copy(caller_cs(), (cap_handle_t)a->a[0], caller_cs(), hal_clock_ns(), &out);
	return err ? err : (int64_t)out;
}

/* Move within the caller's space: the capability keeps its rights, badge,
 * expiry and place in the derivation tree; only its handle changes. (IPC
 * moves capabilities between spaces the same way.) */
int64_t sys_cap_move(const struct syscall_args *a)
{
	cap_handle_t out;
	int err;

	if (a->a[0] > UINT32_MAX)
		return VR_ECAP_RANGE;
	err = cap_move(caller_cs(), (cap_handle_t)a->a[0], caller_cs(), hal_clock_ns(), &out);
	return err ? err : (int64_t)out;
}

int64_t sys_cap_delete(const struct syscall_args *a)
{
	if (a->a[0] > UINT32_MAX)
		return VR_ECAP_RANGE;
	return cap_delete(caller_cs(), (cap_handle_t)a->a[0]);
}

int64_t sys_cap_revoke(const struct syscall_args *a)
{
	struct cap *c;
	unsigned done;
	int err = decode_cap(a->a[0], KOBJ_NONE, CAP_DELETE, &c);

	if (err)
		return err;
	return cap_revoke(caller_cs(), (cap_handle_t)a->a[0], REVOKE_BUDGET, &done);
}

/* Give the caller an original capability to a new object, or free it. */
/* Give the caller an original capability to a new object of `bytes`,
 * charged to the caller's quota (the object keeps the charge and a quota
 * reference until it is destroyed: ipc.c's destroy callbacks return them),
 * or free it. */
static int64_t install(struct kobj *obj, size_t bytes, void (*undo)(void *))
{
	struct quota *q = proc_current()->quota;
	cap_handle_t h;
	int err;

	if (!obj)
		return VR_ENOMEM;
	if (quota_charge(q, bytes)) {
		undo(obj);
		return VR_ENOMEM;
	}
	err = cap_insert(caller_cs(), obj, CAP_RIGHTS_ALL, 0, &h);
	if (err) {
		quota_uncharge(q, bytes);
		undo(obj);
		return err;
	}
	obj->quota = q;
	obj->quota_bytes = (uint32_t)bytes;
	quota_get(q);
	return (int64_t)h;
}

static void free_obj(void *obj)
{
	kfree(obj);
}

int64_t sys_endpoint_create(const struct syscall_args *a)
{
	struct endpoint *ep = endpoint_create();

	(void)a;
	return install(ep ? &ep->obj : NULL, sizeof(*ep), free_obj);
}

int64_t sys_notification_create(const struct syscall_args *a)
{
	struct notification *n = notification_create();

	(void)a;
	return install(n ? &n->obj : NULL, sizeof(*n), free_obj);
}

/* ---- IPC ---- */

static int decode_flags(uint64_t flags)
{
	return flags & ~(uint64_t)(VR_IPC_NONBLOCK | VR_IPC_TIMEOUT) ? VR_EINVAL : VR_OK;
}

/* Decode a send or call: flags, the endpoint capability (WRITE; READ too
 * for a call, which receives the reply), and the message. */
static int decode_send(const struct syscall_args *a, uint32_t rights, struct cap **ep)
{
	int err = decode_flags(a->a[2]);

	if (!err)
		err = decode_cap(a->a[0], KOBJ_ENDPOINT, rights, ep);
	if (!err)
		err = ipc_check_message(*ep, a->a[1], VR_MSG_NCAPS(a->a[1]) ? hal_clock_ns() : 0);
	return err;
}

int64_t sys_ipc_send(const struct syscall_args *a)
{
	struct cap *ep;
	int err = decode_send(a, CAP_WRITE, &ep);

	return err ? err
		   : ipc_send(ep, a->a[1], (unsigned)a->a[2], false,
			      ipc_deadline(a->a[2], a->a[3]));
}

int64_t sys_ipc_call(const struct syscall_args *a)
{
	struct cap *ep;
	int err = decode_send(a, CAP_WRITE | CAP_READ, &ep);

	return err ? err
		   : ipc_send(ep, a->a[1], (unsigned)a->a[2], true, ipc_deadline(a->a[2], a->a[3]));
}

int64_t sys_ipc_recv(const struct syscall_args *a)
{
	struct cap *ep;
	int err = decode_flags(a->a[1]);

	if (!err)
		err = decode_cap(a->a[0], KOBJ_ENDPOINT, CAP_READ, &ep);
	return err ? err
		   : ipc_recv(container_of(ep->obj, struct endpoint, obj), (unsigned)a->a[1],
			      ipc_deadline(a->a[1], a->a[2]));
}

int64_t sys_ipc_reply(const struct syscall_args *a)
{
	int err = ipc_check_message(NULL, a->a[0], hal_clock_ns());

	return err ? err : ipc_reply(a->a[0]);
}

/* The server loop: reply to the current caller (if any), then wait for the
 * next message. Everything is decoded before the reply is sent. */
int64_t sys_ipc_reply_recv(const struct syscall_args *a)
{
	bool replying = sched_current()->ipc.reply_to != NULL;
	struct cap *ep;
	int err = decode_flags(a->a[2]);

	if (!err)
		err = decode_cap(a->a[0], KOBJ_ENDPOINT, CAP_READ, &ep);
	if (!err && replying)
		err = ipc_check_message(NULL, a->a[1], hal_clock_ns());
	if (err)
		return err;
	return ipc_reply_recv(a->a[1], container_of(ep->obj, struct endpoint, obj),
			      (unsigned)a->a[2], ipc_deadline(a->a[2], a->a[3]));
}

int64_t sys_notify_signal(const struct syscall_args *a)
{
	struct cap *n;
	int err = a->a[1] >> 63 ? VR_EINVAL : decode_cap(a->a[0], KOBJ_NOTIFICATION, CAP_WRITE, &n);

	return err ? err : notify_signal(container_of(n->obj, struct notification, obj), a->a[1]);
}

int64_t sys_notify_wait(const struct syscall_args *a)
{
	struct cap *n;
	int err = decode_flags(a->a[1]);

	if (!err)
		err = decode_cap(a->a[0], KOBJ_NOTIFICATION, CAP_READ, &n);
	return err ? err
		   : notify_wait(container_of(n->obj, struct notification, obj), (unsigned)a->a[1],
				 ipc_deadline(a->a[1], a->a[2]));
}
