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
int decode_cap(uint64_t h, enum kobj_type type, uint32_t rights, struct cap **out)
{
	struct cap *c;
	int err;

	if (h > UINT32_MAX)
		return VR_ECAP_RANGE;
	/* Look up at time 0 (nothing has expired) and read the clock only for
	 * a capability that can expire: the IPC path stays off the clock and
	 * does one lookup. Otherwise, and after a type or rights error (which
	 * an expired capability reports as VR_ECAP_EXPIRED instead), a second
	 * lookup keeps the documented order of errors. */
	err = cap_lookup(caller_cs(), (cap_handle_t)h, type, rights, 0, out);
	if (!err && (*out)->expiry == CAP_NO_EXPIRY)
		return VR_OK;
	if (err && err != VR_ECAP_TYPE && err != VR_ECAP_RIGHTS)
		return err;
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
	out = (struct vr_cap_info){ ci.type, ci.rights, ci.badge, ci.expiry, kobj_id(ci.obj) };
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

/* User flags only: IPC_REGS is the kernel's own (ipc.h). */
static int decode_flags(uint64_t flags)
{
	return flags & ~(uint64_t)(VR_IPC_NONBLOCK | VR_IPC_TIMEOUT) ? VR_EINVAL : VR_OK;
}

/* Decode the message of a send, call or reply: ipc_check_message(), and for
 * a short one (IPC_REGS) at most VR_MSG_REGS words, which must travel in
 * registers (VR_E2BIG: use the buffer syscall). */
static int decode_message(const struct cap *ep, uint64_t tag, unsigned regs)
{
	int err = ipc_check_message(ep, tag, VR_MSG_NCAPS(tag) ? hal_clock_ns() : 0);

	if (!err && regs && VR_MSG_NWORDS(tag) > VR_MSG_REGS)
		err = VR_E2BIG;
	return err;
}

/* Decode a send or call: flags, the endpoint capability (WRITE; READ too
 * for a call, which receives the reply), and the message. */
static int decode_send(const struct syscall_args *a, uint32_t rights, unsigned regs,
		       struct cap **ep)
{
	int err = decode_flags(a->a[2]);

	if (!err)
		err = decode_cap(a->a[0], KOBJ_ENDPOINT, rights, ep);
	if (!err)
		err = decode_message(*ep, a->a[1], regs);
	return err;
}

/* send and call, buffer or short (regs: IPC_REGS or 0). */
static inline int64_t do_send(const struct syscall_args *a, bool is_call, unsigned regs)
{
	struct cap *ep;
	int err = decode_send(a, is_call ? CAP_WRITE | CAP_READ : CAP_WRITE, regs, &ep);

	return err ? err
		   : ipc_send(ep, a->a[1], (unsigned)a->a[2] | regs, is_call,
			      ipc_deadline(a->a[2], a->a[3]));
}

static inline int64_t do_recv(const struct syscall_args *a, unsigned regs)
{
	struct cap *ep;
	int err = decode_flags(a->a[1]);

	if (!err)
		err = decode_cap(a->a[0], KOBJ_ENDPOINT, CAP_READ, &ep);
	return err ? err
		   : ipc_recv(container_of(ep->obj, struct endpoint, obj), (unsigned)a->a[1] | regs,
			      ipc_deadline(a->a[1], a->a[2]));
}

static inline int64_t do_reply(const struct syscall_args *a, unsigned regs)
{
	int err = decode_message(NULL, a->a[0], regs);

	return err ? err : ipc_reply(a->a[0], regs);
}

/* The server loop: reply to the current caller (if any), then wait for the
 * next message. Everything is decoded before the reply is sent. */
static inline int64_t do_reply_recv(const struct syscall_args *a, unsigned regs)
{
	bool replying = sched_current()->ipc.reply_to != NULL;
	struct cap *ep;
	int err = decode_flags(a->a[2]);

	if (!err)
		err = decode_cap(a->a[0], KOBJ_ENDPOINT, CAP_READ, &ep);
	if (!err && replying)
		err = decode_message(NULL, a->a[1], regs);
	if (err)
		return err;
	return ipc_reply_recv(a->a[1], container_of(ep->obj, struct endpoint, obj),
			      (unsigned)a->a[2] | regs, ipc_deadline(a->a[2], a->a[3]));
}

int64_t sys_ipc_send(const struct syscall_args *a)
{
	return do_send(a, false, 0);
}

int64_t sys_ipc_call(const struct syscall_args *a)
{
	return do_send(a, true, 0);
}

int64_t sys_ipc_recv(const struct syscall_args *a)
{
	return do_recv(a, 0);
}

int64_t sys_ipc_reply(const struct syscall_args *a)
{
	return do_reply(a, 0);
}

int64_t sys_ipc_reply_recv(const struct syscall_args *a)
{
	return do_reply_recv(a, 0);
}

/* The short forms: the same with the words in registers (docs/ipc.md). */
int64_t sys_ipc_send_short(const struct syscall_args *a)
{
	return do_send(a, false, IPC_REGS);
}

int64_t sys_ipc_call_short(const struct syscall_args *a)
{
	return do_send(a, true, IPC_REGS);
}

int64_t sys_ipc_recv_short(const struct syscall_args *a)
{
	return do_recv(a, IPC_REGS);
}

int64_t sys_ipc_reply_short(const struct syscall_args *a)
{
	return do_reply(a, IPC_REGS);
}

int64_t sys_ipc_reply_recv_short(const struct syscall_args *a)
{
	return do_reply_recv(a, IPC_REGS);
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
