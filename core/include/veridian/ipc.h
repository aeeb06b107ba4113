/*
 * IPC: synchronous endpoints (send, recv, call, reply, reply-recv) and
 * notifications (a word of bits OR-ed in by signal; wait and poll).
 *
 * A message is a tag (abi.h: label, word count, capability count) plus up to
 * VR_MSG_WORDS words and VR_MSG_CAPS capabilities, taken from the sender's
 * IPC buffer and written into the receiver's. The receiver learns the badge
 * of the capability the sender used. Capabilities travel only if the
 * endpoint capability has GRANT and each transferred capability has GRANT;
 * they are moved (the sender loses them), as with Zircon handles.
 *
 * Endpoint states (per direction), and the functions behind them:
 *
 *   idle --ipc_send/call (no receiver)--> senders queued --ipc_recv--> idle
 *   idle --ipc_recv (no sender)-------> receivers queued --ipc_send--> idle
 *
 * Queues are ordered by thread priority, FIFO among equals.
 */
#ifndef VERIDIAN_IPC_H
#define VERIDIAN_IPC_H

#include <stdbool.h>
#include <stdint.h>

#include <veridian/cap.h>
#include <veridian/sched.h>

struct endpoint {
	struct kobj obj;
	struct waitq senders;   /* threads with a message (or call) pending */
	struct waitq receivers; /* threads waiting in recv */
};

struct notification {
	struct kobj obj;
	uint64_t bits;
	struct waitq waiters;
};

/* Register the object types' destroy callbacks. */
void ipc_init(void);

struct endpoint *endpoint_create(void);
struct notification *notification_create(void);

/* The IPC operations on the current thread. `ep_cap` has been decoded by
 * the caller (type, rights); the message has been validated by
 * ipc_check_message(). Each returns the syscall result: 0 or a tag, or a
 * vr_error (VR_EAGAIN for a non-blocking call that would block, VR_ECLOSED if
 * the endpoint or the peer went away while waiting). */
int64_t ipc_send(struct cap *ep_cap, uint64_t tag, unsigned flags, bool is_call);
int64_t ipc_recv(struct endpoint *ep, unsigned flags);
int64_t ipc_reply(uint64_t tag);

/* Reply to the pending caller (if any), then receive: the server loop. */
int64_t ipc_reply_recv(uint64_t tag, struct endpoint *ep, unsigned flags);

/* Decode a message about to be sent by the current thread: word and cap
 * counts in range, every capability named in its IPC buffer present and
 * holding GRANT, and the endpoint capability holding GRANT if any travel. */
int ipc_check_message(const struct cap *ep_cap, uint64_t tag, uint64_t now);

int64_t notify_signal(struct notification *n, uint64_t bits);
int64_t notify_wait(struct notification *n, unsigned flags);

/* The current thread's process is going away: fail its pending reply. */
void ipc_thread_exit(struct thread *t);

/* Invariants: every queued thread is BLOCKED on this queue with the
 * matching IPC state; a notification with waiters has no pending bits. */
bool endpoint_check(const struct endpoint *ep);
bool notification_check(const struct notification *n);

#endif
