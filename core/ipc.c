/*
 * Endpoints and notifications.
 *
 * Invariants (endpoint_check, notification_check):
 *  1. Every thread on ep->senders is BLOCKED with waiting_on == &ep->senders
 *     and a pending tag; every thread on ep->receivers is BLOCKED on it.
 *  2. An endpoint never has senders and receivers queued at once (a
 *     rendezvous happens as soon as both exist).
 *  3. A notification with waiters has no pending bits.
 *  4. A caller waiting for a reply is BLOCKED on its own ipc.reply_wait, and
 *     exactly one server thread has it as ipc.reply_to.
 *
 * Thread wake-ups carry the woken thread's syscall result in ipc.result.
 */
#include <veridian/hal.h>
#include <veridian/ipc.h>
#include <veridian/kheap.h>
#include <veridian/pmm.h>
#include <veridian/proc.h>

static struct vr_ipc_buffer *ipc_buffer(const struct thread *t)
{
	return phys_to_virt(t->ipc.buf_pa);
}

static void wake_with(struct thread *t, int64_t result)
{
	t->ipc.result = result;
	sched_make_runnable(t);
}

static void wake_all_closed(struct waitq *wq)
{
	struct list *l;

	while ((l = wq->threads.next) != &wq->threads)
		wake_with(container_of(l, struct thread, sched_link), VR_ECLOSED);
}

static void endpoint_destroy(struct kobj *obj)
{
	struct endpoint *ep = container_of(obj, struct endpoint, obj);

	wake_all_closed(&ep->senders);
	wake_all_closed(&ep->receivers);
	kfree(ep);
}

static void notification_destroy(struct kobj *obj)
{
	struct notification *n = container_of(obj, struct notification, obj);

	wake_all_closed(&n->waiters);
	kfree(n);
}

void ipc_init(void)
{
	kobj_register_type(KOBJ_ENDPOINT, endpoint_destroy);
	kobj_register_type(KOBJ_NOTIFICATION, notification_destroy);
}

struct endpoint *endpoint_create(void)
{
	struct endpoint *ep = kzalloc(sizeof(*ep));

	if (!ep)
		return NULL;
	ep->obj.type = KOBJ_ENDPOINT;
	waitq_init(&ep->senders);
	waitq_init(&ep->receivers);
	return ep;
}

struct notification *notification_create(void)
{
	struct notification *n = kzalloc(sizeof(*n));

	if (!n)
		return NULL;
	n->obj.type = KOBJ_NOTIFICATION;
	waitq_init(&n->waiters);
	return n;
}

int ipc_check_message(const struct cap *ep_cap, uint64_t tag, uint64_t now)
{
	struct thread *t = sched_current();
	const struct vr_ipc_buffer *b = ipc_buffer(t);
	unsigned ncaps = VR_MSG_NCAPS(tag);

	if (VR_MSG_NWORDS(tag) > VR_MSG_WORDS || ncaps > VR_MSG_CAPS || (tag >> 43))
		return VR_EINVAL;
	if (ncaps && ep_cap && !(ep_cap->rights & CAP_GRANT))
		return VR_ECAP_RIGHTS;
	for (unsigned i = 0; i < ncaps; i++) {
		struct cap *c;
		int err = cap_lookup(t->proc->cs, b->caps[i], KOBJ_NONE, CAP_GRANT, now, &c);
		if (err)
			return err;
		for (unsigned j = 0; j < i; j++)
			if (b->caps[j] == b->caps[i])
				return VR_EINVAL; /* the same capability twice */
	}
	return VR_OK;
}

/* Move one capability from s's space to r's. Checked when the message was
 * decoded, but s may have been revoked since: then the receiver sees
 * VR_CAP_INVALID in that position. */
static uint32_t transfer_cap(struct thread *s, struct thread *r, uint32_t h)
{
	cap_handle_t out;

	if (cap_move(s->proc->cs, h, r->proc->cs, hal_clock_ns(), &out))
		return VR_CAP_INVALID;
	return out;
}

/* Copy the message of s (tag, words, capabilities) into r's IPC buffer. */
static void transfer(struct thread *s, struct thread *r, uint64_t tag, uint64_t badge)
{
	const struct vr_ipc_buffer *sb = ipc_buffer(s);
	struct vr_ipc_buffer *rb = ipc_buffer(r);

	memcpy(rb->words, sb->words, VR_MSG_NWORDS(tag) * sizeof(uint64_t));
	for (unsigned i = 0; i < VR_MSG_NCAPS(tag); i++)
		rb->caps[i] = transfer_cap(s, r, sb->caps[i]);
	rb->badge = badge;
	rb->tag = tag;
}

static struct thread *first_waiter(struct waitq *wq);

static struct thread *first_waiter(struct waitq *wq)
{
	return list_empty(&wq->threads) ? NULL
					: container_of(wq->threads.next, struct thread, sched_link);
}

/* s's message has been delivered to r: a plain send completes, a call
 * waits for r's reply. */
static void sender_done(struct thread *s, struct thread *r)
{
	if (s->ipc.is_call) {
		r->ipc.reply_to = s;
		if (s == sched_current())
			sched_block(&s->ipc.reply_wait);
		else
			sched_requeue(s, &s->ipc.reply_wait);
	} else if (s != sched_current()) {
		wake_with(s, VR_OK);
	}
}

int64_t ipc_send(struct cap *ep_cap, uint64_t tag, unsigned flags, bool is_call)
{
	struct endpoint *ep = container_of(ep_cap->obj, struct endpoint, obj);
	struct thread *t = sched_current(), *r = first_waiter(&ep->receivers);

	t->ipc.is_call = is_call;
	t->ipc.result = VR_OK;
	if (r) {
		transfer(t, r, tag, ep_cap->badge);
		r->ipc.result = (int64_t)tag;
		if (is_call) {
			/* fast path: the caller waits for the reply, the server runs */
			r->ipc.reply_to = t;
			sched_block_switch(&t->ipc.reply_wait, r);
		} else {
			sched_make_runnable(r);
		}
		return t->ipc.result;
	}
	if (flags & VR_IPC_NONBLOCK)
		return VR_EAGAIN;
	t->ipc.tag = tag;
	t->ipc.badge = ep_cap->badge;
	sched_block(&ep->senders);
	KCHECK(endpoint_check(ep));
	return t->ipc.result;
}

int64_t ipc_recv(struct endpoint *ep, unsigned flags)
{
	struct thread *t = sched_current(), *s = first_waiter(&ep->senders);

	if (s) {
		uint64_t tag = s->ipc.tag;
		transfer(s, t, tag, s->ipc.badge);
		sender_done(s, t);
		KCHECK(endpoint_check(ep));
		return (int64_t)tag;
	}
	if (flags & VR_IPC_NONBLOCK)
		return VR_EAGAIN;
	sched_block(&ep->receivers);
	return t->ipc.result;
}

int64_t ipc_reply_recv(uint64_t tag, struct endpoint *ep, unsigned flags)
{
	struct thread *t = sched_current(), *c = t->ipc.reply_to;

	if (!c || !list_empty(&ep->senders.threads) || (flags & VR_IPC_NONBLOCK)) {
		if (c)
			ipc_reply(tag);
		return ipc_recv(ep, flags);
	}
	/* fast path: nothing to receive yet, so wait for it and let the caller
	 * run at once on the rest of our slice */
	transfer(t, c, tag, 0);
	t->ipc.reply_to = NULL;
	c->ipc.result = (int64_t)tag;
	sched_block_switch(&ep->receivers, c);
	return t->ipc.result;
}

int64_t ipc_reply(uint64_t tag)
{
	struct thread *t = sched_current(), *c = t->ipc.reply_to;

	if (!c)
		return VR_ENOREPLY;
	KASSERT(c->waiting_on == &c->ipc.reply_wait); /* invariant 4 */
	transfer(t, c, tag, 0);
	t->ipc.reply_to = NULL;
	wake_with(c, (int64_t)tag);
	return VR_OK;
}

int64_t notify_signal(struct notification *n, uint64_t bits)
{
	struct thread *w = first_waiter(&n->waiters);

	if (w)
		wake_with(w, (int64_t)(n->bits | bits));
	else
		n->bits |= bits;
	if (w)
		n->bits = 0;
	KCHECK(notification_check(n));
	return VR_OK;
}

int64_t notify_wait(struct notification *n, unsigned flags)
{
	uint64_t bits = n->bits;

	if (bits) {
		n->bits = 0;
		return (int64_t)(bits & INT64_MAX);
	}
	if (flags & VR_IPC_NONBLOCK)
		return VR_EAGAIN;
	sched_block(&n->waiters);
	return sched_current()->ipc.result;
}

void ipc_thread_exit(struct thread *t)
{
	if (t->ipc.reply_to) {
		wake_with(t->ipc.reply_to, VR_ECLOSED);
		t->ipc.reply_to = NULL;
	}
}

static bool queue_blocked_on(const struct waitq *wq)
{
	const struct list *l;

	list_for_each(l, &wq->threads) {
		const struct thread *t = container_of(l, const struct thread, sched_link);
		if (t->state != VR_THREAD_BLOCKED || t->waiting_on != wq)
			return false;
	}
	return true;
}

bool endpoint_check(const struct endpoint *ep)
{
	if (ep->obj.type != KOBJ_ENDPOINT)
		return false;
	if (!list_empty(&ep->senders.threads) && !list_empty(&ep->receivers.threads))
		return false; /* invariant 2 */
	return queue_blocked_on(&ep->senders) && queue_blocked_on(&ep->receivers);
}

bool notification_check(const struct notification *n)
{
	if (n->obj.type != KOBJ_NOTIFICATION)
		return false;
	if (!list_empty(&n->waiters.threads) && n->bits)
		return false; /* invariant 3 */
	return queue_blocked_on(&n->waiters);
}
