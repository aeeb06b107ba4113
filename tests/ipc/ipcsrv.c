/*
 * ipcsrv: the server half of ipctest and of vbench's IPC round trip. It
 * receives its endpoint as initial capability 0 and serves, by label:
 *   SUM     words[0..n) -> reply words {sum, badge of the caller's capability}
 *   SIGNAL  caps[0] is a notification: signal it with words[0], reply {result}
 *   ECHO    reply the same words
 *   QUIT    exit without replying (the caller sees VR_ECLOSED)
 * Started as "ipcsrv slow", it serves like the default but sleeps 50 ms
 * (virtual time) between receiving a call and replying; as "ipcsrv caller"
 * it calls once and exits with 0; as "ipcsrv sender" it sends once and
 * exits with 0 only if the send failed with VR_ECLOSED (its endpoint was
 * destroyed while it waited).
 * As "ipcsrv adopt" it starts a default server with its endpoint and
 * exits at once, leaving the server to be adopted by init.
 * As "ipcsrv short" it serves with the short calls (words in registers;
 * see ipcproto.h for its labels), replying IPC_ERROR if a register beyond
 * a message's word count is not 0. As "ipcsrv shortsend" it sends three
 * messages and exits with 0 if all were taken: two short ones
 * (IPC_SHORTSEND_W, then IPC_SHORTSEND_W2), then a buffer one of
 * IPC_SHORTSEND_LONG words.
 * Started as "ipcsrv pong" with notifications at handles 1 and 2, it
 * instead waits on 1 and signals 2, forever (vbench's notification
 * ping-pong); bit 63 is never used, so a wait result of 0x1 means "ping".
 */
#include "ipcproto.h"
#include "vrt.h"

static uint64_t serve(uint64_t tag)
{
	struct vr_ipc_buffer *b = ipc_buffer();
	uint64_t sum = 0;

	switch (VR_MSG_LABEL(tag)) {
	case IPC_SUM:
		for (unsigned i = 0; i < VR_MSG_NWORDS(tag); i++)
			sum += b->words[i];
		b->words[0] = sum;
		b->words[1] = b->badge;
		return VR_MSG_TAG(IPC_SUM, 2, 0);
	case IPC_SIGNAL:
		b->words[0] = (uint64_t)sys_notify_signal(b->caps[0], b->words[0]);
		sys_cap_delete(b->caps[0]);
		return VR_MSG_TAG(IPC_SIGNAL, 1, 0);
	case IPC_ECHO:
		return VR_MSG_TAG(IPC_ECHO, VR_MSG_NWORDS(tag), 0);
	case IPC_QUIT:
		exit(0);
	}
	b->words[0] = (uint64_t)VR_EINVAL;
	return VR_MSG_TAG(IPC_ERROR, 1, 0);
}

static int pong(void)
{
	long bits;

	while ((bits = sys_notify_wait(IPC_PONG_IN, 0)) > 0) {
		if (bits & IPC_PONG_QUIT)
			return 0;
		sys_notify_signal(IPC_PONG_OUT, 1);
	}
	printf("ipcsrv: notify_wait failed: %s\n", vr_strerror(bits));
	return 1;
}

/* A short receiver's registers beyond the message's words are 0, and all
 * of them are when the words came in the buffer (more than VR_MSG_REGS). */
static bool regs_clean(const uint64_t w[VR_MSG_REGS], unsigned n)
{
	for (unsigned i = n > VR_MSG_REGS ? 0 : n; i < VR_MSG_REGS; i++)
		if (w[i])
			return false;
	return true;
}

/* The reply to a short request, its words in r. */
static uint64_t serve_short_one(uint64_t tag, const uint64_t w[VR_MSG_REGS], uint64_t badge,
				uint64_t r[VR_MSG_REGS])
{
	unsigned n = VR_MSG_NWORDS(tag), m = n < VR_MSG_REGS ? n : VR_MSG_REGS;
	const uint64_t *src = n > VR_MSG_REGS ? ipc_buffer()->words : w;

	if (!regs_clean(w, n)) {
		r[0] = (uint64_t)VR_EINVAL;
		return VR_MSG_TAG(IPC_ERROR, 1, 0);
	}
	switch (VR_MSG_LABEL(tag)) {
	case IPC_ECHO:
		for (unsigned i = 0; i < m; i++)
			r[i] = src[i];
		return VR_MSG_TAG(IPC_ECHO, m, 0);
	case IPC_NOT:
		for (unsigned i = 0; i < m; i++)
			r[i] = ~src[i];
		return VR_MSG_TAG(IPC_NOT, m, 0);
	case IPC_BADGE:
		r[0] = badge;
		return VR_MSG_TAG(IPC_BADGE, 1, 0);
	case IPC_QUIT:
		exit(0);
	}
	r[0] = (uint64_t)VR_EINVAL;
	return VR_MSG_TAG(IPC_ERROR, 1, 0);
}

/* IPC_LONG: a reply longer than the registers goes through the buffer. */
static void reply_long(uint64_t nwords)
{
	struct vr_ipc_buffer *b = ipc_buffer();
	unsigned n = nwords < VR_MSG_WORDS ? (unsigned)nwords : VR_MSG_WORDS;

	for (unsigned i = 0; i < n; i++)
		b->words[i] = IPC_LONG_WORD(i);
	sys_ipc_reply(VR_MSG_TAG(IPC_LONG, n, 0));
}

static int serve_short(void)
{
	uint64_t w[VR_MSG_REGS], r[VR_MSG_REGS], badge;
	long tag = vr_recv_short(IPC_SERVER_EP, w, &badge, 0, 0);

	while (tag >= 0) {
		if (VR_MSG_LABEL(tag) == IPC_ECHO && VR_MSG_NWORDS(tag) <= VR_MSG_REGS) {
			/* vbench's round trip: no more work than the buffer server's */
			tag = vr_reply_recv_short(IPC_SERVER_EP, (uint64_t)tag, w, w, &badge, 0, 0);
			continue;
		}
		if (VR_MSG_LABEL(tag) == IPC_LONG) {
			reply_long(w[0]);
			tag = vr_recv_short(IPC_SERVER_EP, w, &badge, 0, 0);
			continue;
		}
		uint64_t reply = serve_short_one((uint64_t)tag, w, badge, r);
		tag = vr_reply_recv_short(IPC_SERVER_EP, reply, r, w, &badge, 0, 0);
	}
	printf("ipcsrv: short receive failed: %s\n", vr_strerror(tag));
	return 1;
}

static int short_send(void)
{
	static const uint64_t w[VR_MSG_REGS] = { IPC_SHORTSEND_W };
	static const uint64_t w2[VR_MSG_REGS] = { IPC_SHORTSEND_W2 };
	struct vr_ipc_buffer *b = ipc_buffer();
	long r1, r2;

	r1 = vr_send_short(IPC_SERVER_EP, VR_MSG_TAG(IPC_NOT, 4, 0), w, 0, 0);
	r2 = vr_send_short(IPC_SERVER_EP, VR_MSG_TAG(IPC_NOT, 2, 0), w2, 0, 0);
	for (unsigned i = 0; i < IPC_SHORTSEND_LONG; i++)
		b->words[i] = i + 1;
	return r1 || r2 ||
	       sys_ipc_send(IPC_SERVER_EP, VR_MSG_TAG(IPC_NOT, IPC_SHORTSEND_LONG, 0), 0);
}

static bool slow;

int main(int argc, char **argv)
{
	long tag;

	if (argc > 1 && strcmp(argv[1], "pong") == 0)
		return pong();
	if (argc > 1 && strcmp(argv[1], "short") == 0)
		return serve_short();
	if (argc > 1 && strcmp(argv[1], "shortsend") == 0)
		return short_send() != 0;
	if (argc > 1 && strcmp(argv[1], "adopt") == 0) {
		/* start a server with our endpoint, then leave it an orphan */
		struct vr_spawn_caps sc = { .count = 1, .handles = { IPC_SERVER_EP } };
		return sys_spawn_caps("bin/ipcsrv", 10, "ipcsrv", 6, &sc) < 0;
	}
	if (argc > 1 && strcmp(argv[1], "caller") == 0)
		return sys_ipc_call(IPC_SERVER_EP, VR_MSG_TAG(IPC_ECHO, 0, 0), 0) < 0;
	if (argc > 1 && strcmp(argv[1], "sender") == 0)
		return sys_ipc_send(IPC_SERVER_EP, VR_MSG_TAG(IPC_ECHO, 0, 0), 0) != VR_ECLOSED;
	slow = argc > 1 && strcmp(argv[1], "slow") == 0;
	tag = sys_ipc_recv(IPC_SERVER_EP, 0);

	while (tag >= 0) {
		uint64_t reply = serve((uint64_t)tag);
		if (slow)
			sys_sleep(50000000); /* the caller may be killed meanwhile */
		tag = sys_ipc_reply_recv(IPC_SERVER_EP, reply, 0);
	}
	printf("ipcsrv: receive failed: %s\n", vr_strerror(tag));
	return 1;
}
