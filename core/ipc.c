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
 *     exactly one server thread has it as ipc.reply_to: its ipc.replier.
 *  5. ep->server == t iff t->ipc.serving == ep.
 *  6. A thread's effective policy is the highest (sched_rank) of its own,
 *     its reply_to's effective one and that of the first sender queued on
 *     the endpoint it serves (priority inheritance; recomputed by
 *     pi_update() whenever one of them changes).
 *  7. A thread queued on ep->senders has ipc.sending == ep; no other has it.
 *  8. ipc.regs is set at the start of every IPC operation of its thread (a
 *     short syscall or not), so it is current whenever a peer transfers to
 *     or from the thread: while the thread waits in that operation, inside
 *     its syscall, with its message registers saved (hal.h).
 *
 * Thread wake-ups carry the woken thread's syscall result in ipc.result.
 * A thread leaves a queue of this file either through a rendezvous here
 * (take_waiter(), then woken or requeued) or through sched_make_runnable()
 * (timeout, kill), which calls ipc_wait_cancelled().
 */
#include "veridian/hal.h"
#include "veridian/ipc.h"
#include "veridian/kheap.h"
#include "veridian/pmm.h"
#include "veridian/proc.h"
#include "veridian/quota.h"

_Static_assert(sizeof(((struct hal_msg_regs *)0)->w) == VR_MSG_REGS * sizeof(uint64_t),
	       "hal.h's message registers are abi.h's");
_Static_assert(!(IPC_REGS & (VR_IPC_NONBLOCK | VR_IPC_TIMEOUT)), "IPC_REGS is not a user flag");
/* host/x86_64/entry.S saves the message registers for this range of numbers */
_Static_assert(VR_SYS_ipc_send_short == 50 && VR_SYS_ipc_recv_short == 51 &&
		       VR_SYS_ipc_call_short == 52 && VR_SYS_ipc_reply_short == 53 &&
		       VR_SYS_ipc_reply_recv_short == 54,
	       "short IPC syscalls are 50-54");

static struct vr_ipc_buffer *ipc_buffer(const struct thread *t)
{
	return phys_to_virt(t->ipc.buf_pa);
}

/* The user message registers t's host saved at its syscall entry (hal.h);
 * valid while t is inside a short syscall (invariant 8). */
static struct hal_msg_regs *msg_regs(const struct thread *t)
{
	uintptr_t top = (uintptr_t)phys_to_virt(t->kstack_pa) + KSTACK_PAGES * PAGE_SIZE;

	return (struct hal_msg_regs *)(top - HAL_MSG_REGS_OFF);
}

/* Start an IPC operation of the current thread (invariant 8). */
static struct thread *ipc_begin(unsigned flags)
{
	struct thread *t = sched_current();

	t->ipc.regs = (flags & IPC_REGS) != 0;
	return t;
}

/* Take a BLOCKED thread off its queue for a rendezvous (no cancellation). */
static void take_waiter(struct thread *t)
{
	waitq_remove(t);
	t->ipc.sending = NULL;
}

static void wake_with(struct thread *t, int64_t result)
{
	t->ipc.result = result;
	if (t->waiting_on)
		take_waiter(t);
	sched_make_runnable(t);
}

static void wake_all_closed(struct waitq *wq)
{
	struct list *l;

	while ((l = wq->threads.next) != &wq->threads)
		wake_with(container_of(l, struct thread, sched_link), VR_ECLOSED);
}

/* ---- Priority inheritance ---- */

static void consider(unsigned *policy, int *prio, const struct sched_entity *donor)
{
	if (donor && se_rank(donor) > sched_rank(*policy, *prio)) {
		*policy = donor->eff_policy;
		*prio = donor->eff_prio;
	}
}

static struct thread *first_waiter(struct waitq *wq);

/* Invariant 6 for t, with `extra` (a sender about to queue on t's
 * endpoint) counted as a donor; then along the chain t waits in. */
static void pi_update(struct thread *t, const struct sched_entity *extra, unsigned depth)
{
	unsigned policy = t->se.policy;
	int prio = t->se.prio;
	struct endpoint *ep = t->ipc.serving;
	struct thread *head = ep ? first_waiter(&ep->senders) : NULL;

	if (t->ipc.reply_to)
		consider(&policy, &prio, &t->ipc.reply_to->se);
	if (head)
		consider(&policy, &prio, &head->se);
	consider(&policy, &prio, extra);
	if (policy == t->se.eff_policy && prio == t->se.eff_prio)
		return; /* nothing downstream changes either */
	sched_set_effective(t, policy, prio);
	if (!depth || t->state != VR_THREAD_BLOCKED)
		return;
	if (t->waiting_on == &t->ipc.reply_wait && t->ipc.replier)
		pi_update(t->ipc.replier, NULL, depth - 1);
	else if (t->ipc.sending && t->ipc.sending->server)
		pi_update(t->ipc.sending->server, NULL, depth - 1);
}

/* Does t run above its own policy (inheritance)? */
static bool is_lifted(const struct thread *t)
{
	return t->se.eff_policy != t->se.policy || t->se.eff_prio != t->se.prio;
}

void ipc_pi_recompute(struct thread *t)
{
	pi_update(t, NULL, IPC_PI_DEPTH);
}

/* t receives from ep from now on: it inherits from ep's senders
 * (invariant 5). A previous server of ep loses them. */
static void serve(struct thread *t, struct endpoint *ep)
{
	struct endpoint *old = t->ipc.serving;
	struct thread *prev = ep->server;

	if (old == ep)
		return;
	if (old)
		old->server = NULL;
	if (prev)
		prev->ipc.serving = NULL;
	t->ipc.serving = ep;
	ep->server = t;
	if (prev)
		ipc_pi_recompute(prev);
}

static void release_call(struct thread *t);

/* s is the caller t is now replying to. A call t still held and did not
 * answer before receiving again is abandoned: its caller gets VR_ECLOSED. */
static void hold_call(struct thread *t, struct thread *s)
{
	struct thread *old = t->ipc.reply_to;

	if (old) {
		release_call(t);
		wake_with(old, VR_ECLOSED);
	}
	t->ipc.reply_to = s;
	s->ipc.replier = t;
}

static void release_call(struct thread *t)
{
	t->ipc.reply_to->ipc.replier = NULL;
	t->ipc.reply_to = NULL;
}

void ipc_wait_cancelled(struct thread *t, struct waitq *wq)
{
	struct thread *server = NULL;

	if (wq == &t->ipc.reply_wait) {
		server = t->ipc.replier;
		if (server && server->ipc.reply_to == t)
			release_call(server); /* its reply will find no caller */
		t->ipc.replier = NULL;
	} else if (t->ipc.sending && wq == &t->ipc.sending->senders) {
		server = t->ipc.sending->server;
		t->ipc.sending = NULL;
	}
	if (server)
		ipc_pi_recompute(server);
}

/* ---- Objects ---- */

static void endpoint_destroy(struct kobj *obj)
{
	struct endpoint *ep = container_of(obj, struct endpoint, obj);
	struct thread *server = ep->server;

	wake_all_closed(&ep->senders);
	wake_all_closed(&ep->receivers);
	if (server) {
		server->ipc.serving = NULL;
		ep->server = NULL;
		ipc_pi_recompute(server);
	}
	kobj_release_charge(&ep->obj);
	kfree(ep);
}

static void notification_destroy(struct kobj *obj)
{
	struct notification *n = container_of(obj, struct notification, obj);

	ktimer_cancel(&n->timer);
	wake_all_closed(&n->waiters);
	kobj_release_charge(&n->obj);
	kfree(n);
}

static void notify_timer_fire(struct ktimer *kt);

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
	ktimer_init(&n->timer, notify_timer_fire);
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

/* The words of s's message: its registers for a short send (at most
 * VR_MSG_REGS words, checked by the decoder), else its IPC buffer. */
static const uint64_t *sent_words(const struct thread *s)
{
	return s->ipc.regs ? msg_regs(s)->w : ipc_buffer(s)->words;
}

/* A short receiver's registers: the n words (n <= VR_MSG_REGS; the rest
 * 0, so that nothing of the sender's other registers shows) and the badge.
 * Unrolled: the IPC round trip counts instructions. */
static void words_to_regs(struct hal_msg_regs *rr, const uint64_t *w, unsigned n, uint64_t badge)
{
	uint64_t w0 = 0, w1 = 0, w2 = 0, w3 = 0;

	_Static_assert(VR_MSG_REGS == 4, "one case per register");
	switch (n) {
	case 4:
		w3 = w[3];
		/* fall through */
	case 3:
		w2 = w[2];
		/* fall through */
	case 2:
		w1 = w[1];
		/* fall through */
	case 1:
		w0 = w[0];
	}
	rr->w[0] = w0;
	rr->w[1] = w1;
	rr->w[2] = w2;
	rr->w[3] = w3;
	rr->badge = badge;
}

/* transfer() of anything but the short fast case: words, badge and tag
 * into r's IPC buffer if r is not short or they do not fit its registers
 * (a short r then gets zeros and the badge in its registers), and the
 * capabilities (into r's caps[] even for a short r). */
static __attribute__((noinline)) void transfer_buffer(struct thread *s, struct thread *r,
						      uint64_t tag, uint64_t badge)
{
	unsigned n = VR_MSG_NWORDS(tag);
	struct vr_ipc_buffer *rb = ipc_buffer(r);

	if (r->ipc.regs)
		words_to_regs(msg_regs(r), sent_words(s), n <= VR_MSG_REGS ? n : 0, badge);
	if (!r->ipc.regs || n > VR_MSG_REGS) {
		if (n) /* label-only messages (acks, requests) are common */
			memcpy(rb->words, sent_words(s), n * sizeof(uint64_t));
		rb->badge = badge;
		rb->tag = tag;
	}
	for (unsigned i = 0; i < VR_MSG_NCAPS(tag); i++)
		rb->caps[i] = transfer_cap(s, r, ipc_buffer(s)->caps[i]);
}

/* Copy the message of s (tag, words, capabilities) to r: words and badge
 * into r's registers if r is short and they fit (its buffer untouched
 * unless capabilities travel), else into r's IPC buffer (transfer_buffer).
 * The short case is a leaf (no frame; the buffer case is a tail call): it
 * is the register round trip, and out of line it keeps the callers' fast
 * paths small. */
static __attribute__((noinline)) void transfer(struct thread *s, struct thread *r, uint64_t tag,
					       uint64_t badge)
{
	if (r->ipc.regs && VR_MSG_NWORDS(tag) <= VR_MSG_REGS && !VR_MSG_NCAPS(tag))
		words_to_regs(msg_regs(r), sent_words(s), VR_MSG_NWORDS(tag), badge);
	else
		transfer_buffer(s, r, tag, badge);
}

static struct thread *first_waiter(struct waitq *wq)
{
	return list_empty(&wq->threads) ? NULL
					: container_of(wq->threads.next, struct thread, sched_link);
}

/* Would a wait that has not started yet time out at once? */
static bool expired(uint64_t deadline)
{
	return deadline != UINT64_MAX && hal_clock_ns() >= deadline;
}

/* s's message (taken off the senders queue) has been delivered to r, the
 * current thread: a plain send completes, a call waits for r's reply (its
 * timeout, if any, still running). */
static void sender_done(struct thread *s, struct thread *r)
{
	if (s->ipc.is_call) {
		hold_call(r, s);
		sched_requeue(s, &s->ipc.reply_wait);
	} else {
		wake_with(s, VR_OK);
	}
}

int64_t ipc_send(struct cap *ep_cap, uint64_t tag, unsigned flags, bool is_call, uint64_t deadline)
{
	struct endpoint *ep = container_of(ep_cap->obj, struct endpoint, obj);
	struct thread *t = ipc_begin(flags), *r = first_waiter(&ep->receivers);

	t->ipc.is_call = is_call;
	t->ipc.result = VR_OK;
	if (r) {
		transfer(t, r, tag, ep_cap->badge);
		if (!is_call) {
			wake_with(r, (int64_t)tag);
			return VR_OK;
		}
		/* fast path: the caller waits for the reply, the server runs. r
		 * was waiting in recv, so nobody is queued to send (invariant 2):
		 * t is its only new donor. */
		r->ipc.result = (int64_t)tag;
		hold_call(r, t);
		if (se_rank(&t->se) > se_rank(&r->se))
			ipc_pi_recompute(r);
		sched_block_switch(&t->ipc.reply_wait, r, deadline);
		return t->ipc.result;
	}
	if (flags & VR_IPC_NONBLOCK)
		return VR_EAGAIN;
	if (expired(deadline))
		return VR_ETIMEDOUT;
	t->ipc.tag = tag;
	t->ipc.badge = ep_cap->badge;
	t->ipc.sending = ep;
	if (ep->server)
		pi_update(ep->server, &t->se, IPC_PI_DEPTH);
	KCHECK(endpoint_check(ep));
	/* not after: the endpoint may be destroyed while we wait (VR_ECLOSED)
	 * (fuzz/ipc/regressions/ipc-send-endpoint-check-after-free) */
	sched_block_timeout(&ep->senders, deadline);
	return t->ipc.result;
}

int64_t ipc_recv(struct endpoint *ep, unsigned flags, uint64_t deadline)
{
	struct thread *t = ipc_begin(flags), *s = first_waiter(&ep->senders);

	serve(t, ep);
	if (s) {
		uint64_t tag = s->ipc.tag;
		transfer(s, t, tag, s->ipc.badge);
		take_waiter(s);
		sender_done(s, t);
		ipc_pi_recompute(t); /* a new caller, a new first sender */
		KCHECK(endpoint_check(ep));
		return (int64_t)tag;
	}
	if (flags & VR_IPC_NONBLOCK)
		return VR_EAGAIN;
	if (expired(deadline))
		return VR_ETIMEDOUT;
	ipc_pi_recompute(t);
	sched_block_timeout(&ep->receivers, deadline);
	return t->ipc.result;
}

int64_t ipc_reply_recv(uint64_t tag, struct endpoint *ep, unsigned flags, uint64_t deadline)
{
	struct thread *t = ipc_begin(flags), *c = t->ipc.reply_to;

	if (!c || !list_empty(&ep->senders.threads) || (flags & VR_IPC_NONBLOCK) ||
	    deadline != UINT64_MAX) {
		if (c)
			ipc_reply(tag, flags);
		return ipc_recv(ep, flags, deadline);
	}
	/* fast path: nothing to receive yet, so wait for it and let the caller
	 * run at once on the rest of our slice (invariant 4: c waits on its
	 * reply_wait; endpoint_check and sched_check verify it) */
	transfer(t, c, tag, 0);
	release_call(t);
	c->ipc.result = (int64_t)tag;
	serve(t, ep);
	if (is_lifted(t)) /* c is gone and nobody is queued: back to its own */
		ipc_pi_recompute(t);
	sched_block_switch(&ep->receivers, c, UINT64_MAX);
	return t->ipc.result;
}

int64_t ipc_reply(uint64_t tag, unsigned flags)
{
	struct thread *t = ipc_begin(flags), *c = t->ipc.reply_to;

	if (!c)
		return VR_ENOREPLY;
	KASSERT(c->waiting_on == &c->ipc.reply_wait); /* invariant 4 */
	transfer(t, c, tag, 0);
	release_call(t);
	wake_with(c, (int64_t)tag);
	ipc_pi_recompute(t);
	return VR_OK;
}

int64_t notify_signal(struct notification *n, uint64_t bits)
{
	struct thread *w = first_waiter(&n->waiters);

	if (w) {
		wake_with(w, (int64_t)(n->bits | bits));
		n->bits = 0;
	} else {
		n->bits |= bits;
	}
	KCHECK(notification_check(n));
	return VR_OK;
}

int64_t notify_wait(struct notification *n, unsigned flags, uint64_t deadline)
{
	uint64_t bits = n->bits;

	if (bits) {
		n->bits = 0;
		return (int64_t)(bits & INT64_MAX);
	}
	if (flags & VR_IPC_NONBLOCK)
		return VR_EAGAIN;
	if (expired(deadline))
		return VR_ETIMEDOUT;
	sched_block_timeout(&n->waiters, deadline);
	return sched_current()->ipc.result;
}

/* Timer interrupt context. A periodic timer that fell behind skips the
 * periods it missed rather than signalling a burst (the bits are a set,
 * not a count). */
static void notify_timer_fire(struct ktimer *kt)
{
	struct notification *n = container_of(kt, struct notification, timer);
	uint64_t now = hal_clock_ns(), next;

	notify_signal(n, n->timer_bits);
	/* deadline <= now, so neither sum below can overflow unless the period
	 * is within reach of 2^64 (the decoder refuses that; this is the
	 * kernel's own guard against a timer that would re-fire forever) */
	if (!n->period || n->period > UINT64_MAX - now)
		return;
	next = kt->deadline + n->period;
	if (next <= now)
		next = kt->deadline + ((now - kt->deadline) / n->period + 1) * n->period;
	ktimer_arm(kt, next);
}

int64_t notify_timer_set(struct notification *n, uint64_t deadline, uint64_t period, uint64_t bits)
{
	ktimer_cancel(&n->timer);
	if (!deadline)
		return VR_OK;
	n->period = period;
	n->timer_bits = bits;
	ktimer_arm(&n->timer, deadline);
	return VR_OK;
}

void ipc_thread_exit(struct thread *t)
{
	struct thread *c = t->ipc.reply_to;

	if (c) {
		release_call(t);
		wake_with(c, VR_ECLOSED);
	}
	if (t->ipc.serving) {
		t->ipc.serving->server = NULL;
		t->ipc.serving = NULL;
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

static bool senders_ok(const struct endpoint *ep)
{
	const struct list *l;

	list_for_each(l, &ep->senders.threads)
		if (container_of(l, const struct thread, sched_link)->ipc.sending != ep)
			return false; /* invariant 7 */
	return true;
}

bool endpoint_check(const struct endpoint *ep)
{
	if (ep->obj.type != KOBJ_ENDPOINT)
		return false;
	if (ep->server && ep->server->ipc.serving != ep)
		return false; /* invariant 5 */
	if (!senders_ok(ep))
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
