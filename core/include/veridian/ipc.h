/*
 * IPC: synchronous endpoints (send, recv, call, reply, reply-recv) and
 * notifications (a word of bits OR-ed in by signal; wait and poll).
 *
 * A message is a tag (abi.h: label, word count, capability count) plus up to
 * VR_MSG_WORDS words and VR_MSG_CAPS capabilities, taken from the sender's
 * IPC buffer and written into the receiver's. The receiver learns the badge
 * of the capability the sender used. A short operation (IPC_REGS: the
 * ipc_*_short syscalls) has its words in the registers the host saved at
 * syscall entry (struct hal_msg_regs) instead: a short sender sends at most
 * VR_MSG_REGS words from there, and a short receiver gets a message of at
 * most VR_MSG_REGS words there, and the badge too; a longer message still
 * goes to its buffer. Capabilities always travel through the buffers'
 * caps[]. Either side may be short or not, independently. Capabilities travel only if the
 * endpoint capability has GRANT and each transferred capability has GRANT;
 * they are moved (the sender loses them), as with Zircon handles.
 *
 * Endpoint states (per direction), and the functions behind them:
 *
 *   idle --ipc_send/call (no receiver)--> senders queued --ipc_recv--> idle
 *   idle --ipc_recv (no sender)-------> receivers queued --ipc_send--> idle
 *
 * Queues are ordered by effective priority (sched_rank), FIFO among equals.
 *
 * Timeouts: send, recv, call, reply_recv and notify_wait take an absolute
 * deadline (kernel clock, UINT64_MAX for none); a wait still pending then
 * ends with VR_ETIMEDOUT. A call's deadline covers the wait for the reply
 * too: the server then finds no caller to reply to (VR_ENOREPLY).
 *
 * Priority inheritance: a thread runs at least at the effective priority of
 * the caller it is replying to and of the first sender queued on the
 * endpoint it serves (the one it last received from), transitively along
 * chains of calls (up to IPC_PI_DEPTH), and drops back when they leave.
 */
#ifndef VERIDIAN_IPC_H
#define VERIDIAN_IPC_H

#include <stdbool.h>
#include <stdint.h>

#include "veridian/cap.h"
#include "veridian/sched.h"

#define IPC_PI_DEPTH 8u /* links of a call chain that inheritance follows */

struct endpoint {
	struct kobj obj;
	struct waitq senders;   /* threads with a message (or call) pending */
	struct waitq receivers; /* threads waiting in recv */
	struct thread *server;  /* the thread that last received here (it inherits) */
};

struct notification {
	struct kobj obj;
	uint64_t bits;
	struct waitq waiters;
	struct ktimer timer; /* signals timer_bits at its deadline */
	uint64_t period;     /* ns; 0 for a one-shot timer */
	uint64_t timer_bits;
};

/* The absolute deadline of a timeout given with `flags` (UINT64_MAX when
 * VR_IPC_TIMEOUT is not set). Reads the clock only for a timeout. */
static inline uint64_t ipc_deadline(uint64_t flags, uint64_t timeout_ns)
{
	uint64_t now;

	if (!(flags & VR_IPC_TIMEOUT))
		return UINT64_MAX;
	now = hal_clock_ns();
	return timeout_ns >= UINT64_MAX - now ? UINT64_MAX - 1 : now + timeout_ns;
}

/* Register the object types' destroy callbacks. */
void ipc_init(void);

struct endpoint *endpoint_create(void);
struct notification *notification_create(void);

/* Kernel-only flag of the operations below: the current thread's words
 * travel in its saved message registers (a short syscall), not in its IPC
 * buffer. The decoders refuse it from user space (decode_flags). */
#define IPC_REGS (1u << 31)

/* The IPC operations on the current thread. `ep_cap` has been decoded by
 * the caller (type, rights); the message has been validated by
 * ipc_check_message(). Each returns the syscall result: 0 or a tag, or a
 * vr_error (VR_EAGAIN for a non-blocking call that would block, VR_ECLOSED if
 * the endpoint or the peer went away while waiting). */
int64_t ipc_send(struct cap *ep_cap, uint64_t tag, unsigned flags, bool is_call, uint64_t deadline);
int64_t ipc_recv(struct endpoint *ep, unsigned flags, uint64_t deadline);
int64_t ipc_reply(uint64_t tag, unsigned flags);

/* Reply to the pending caller (if any), then receive: the server loop. */
int64_t ipc_reply_recv(uint64_t tag, struct endpoint *ep, unsigned flags, uint64_t deadline);

/* Decode a message about to be sent by the current thread: word and cap
 * counts in range, every capability named in its IPC buffer present and
 * holding GRANT, and the endpoint capability holding GRANT if any travel. */
int ipc_check_message(const struct cap *ep_cap, uint64_t tag, uint64_t now);

int64_t notify_signal(struct notification *n, uint64_t bits);
int64_t notify_wait(struct notification *n, unsigned flags, uint64_t deadline);

/* Signal `bits` on n at `deadline` (kernel clock), then every `period` ns
 * if period is not 0; deadline 0 disarms. Replaces any earlier setting.
 * Arguments already decoded (bits non-zero and below 2^63). */
int64_t notify_timer_set(struct notification *n, uint64_t deadline, uint64_t period, uint64_t bits);

/* The current thread's process is going away: fail its pending reply and
 * stop serving its endpoint. */
void ipc_thread_exit(struct thread *t);

/* Called by sched_make_runnable() when a blocked thread leaves wait queue
 * `wq` other than by a rendezvous (a timeout, kill): undo what its wait
 * meant to others (a server's pending reply, inherited priority). */
void ipc_wait_cancelled(struct thread *t, struct waitq *wq);

/* Recompute what t runs at: its own policy or the highest of its donors
 * (see above); follows the chain of calls from t onwards. */
void ipc_pi_recompute(struct thread *t);

/* Invariants: every queued thread is BLOCKED on this queue with the
 * matching IPC state; the server serves this endpoint; a notification with
 * waiters has no pending bits. */
bool endpoint_check(const struct endpoint *ep);
bool notification_check(const struct notification *n);

#endif
