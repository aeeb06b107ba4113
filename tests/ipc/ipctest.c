/*
 * ipctest: capabilities and IPC across processes, run as a user program in
 * both builds (tests/system/ipc-*.sh). Prints one line per failed check and
 * ends with "ipctest: N checks, N failed"; exits 0 only if none failed.
 */
#include "ipcproto.h"
#define UCHECK_PROGRAM "ipctest"
#include "../lib/ucheck.h"
#include "vrt.h"

static long start_server(uint32_t ep)
{
	struct vr_spawn_caps sc = { .count = 1, .handles = { ep } };
	return sys_spawn_caps("bin/ipcsrv", 10, "ipcsrv", 6, &sc);
}

/* Forged, stale, wrong-type, insufficient-rights and out-of-range handles
 * get their own error codes. */
static void test_bad_handles(void)
{
	long ep = sys_endpoint_create(), n = sys_notification_create(), ro;
	struct vr_cap_info ci;

	CHECK_OK(ep);
	CHECK_OK(n);
	CHECK_EQ(sys_cap_identify(0xffff, &ci), VR_ECAP_RANGE);
	CHECK_EQ(vr_sys_cap_identify(1l << 40, (long)&ci, 0, 0, 0), VR_ECAP_RANGE);
	CHECK_EQ(sys_cap_identify((uint32_t)ep + (7u << 16), &ci), VR_ECAP_STALE);
	CHECK_EQ(sys_cap_identify(200, &ci), VR_ECAP_EMPTY);
	CHECK_EQ(sys_notify_signal((uint32_t)ep, 1), VR_ECAP_TYPE);
	CHECK_EQ(sys_ipc_recv((uint32_t)n, VR_IPC_NONBLOCK), VR_ECAP_TYPE);
	ro = sys_cap_mint((uint32_t)ep, VR_CAP_READ, 0, 0);
	CHECK_OK(ro);
	CHECK_EQ(sys_ipc_send((uint32_t)ro, VR_MSG_TAG(1, 0, 0), VR_IPC_NONBLOCK), VR_ECAP_RIGHTS);
	CHECK_EQ(sys_cap_mint((uint32_t)ro, VR_CAP_ALL, 0, 0), VR_ECAP_RIGHTS); /* no DELEGATE */
	CHECK_OK(sys_cap_identify((uint32_t)ro, &ci));
	CHECK_EQ(ci.rights, VR_CAP_READ);
	CHECK_EQ(ci.type, VR_OBJ_ENDPOINT);
	CHECK_OK(sys_cap_delete((uint32_t)ro));
	CHECK_EQ(sys_cap_identify((uint32_t)ro, &ci), VR_ECAP_STALE);
	/* move: same capability, new handle; the old handle is stale */
	ro = sys_cap_mint((uint32_t)ep, VR_CAP_READ, 5, 0);
	{
		long moved = sys_cap_move((uint32_t)ro);
		CHECK_OK(moved);
		CHECK_EQ(moved != ro, 1);
		CHECK_EQ(sys_cap_identify((uint32_t)ro, &ci), VR_ECAP_STALE);
		CHECK_OK(sys_cap_identify((uint32_t)moved, &ci));
		CHECK_EQ(ci.rights, VR_CAP_READ);
		CHECK_EQ(ci.badge, 5);
		CHECK_EQ(sys_cap_move(200), VR_ECAP_EMPTY);
		CHECK_EQ(sys_cap_move(0xfff0), VR_ECAP_RANGE);
		CHECK_OK(cap_revoke_all((uint32_t)ep, NULL)); /* still a child of ep */
		CHECK_EQ(sys_cap_identify((uint32_t)moved, &ci), VR_ECAP_STALE);
	}
	CHECK_EQ(sys_cap_identify(0, (struct vr_cap_info *)8), VR_EFAULT);
	CHECK_EQ(sys_ipc_recv((uint32_t)ep, VR_IPC_NONBLOCK), VR_EAGAIN);
	CHECK_EQ(sys_ipc_send((uint32_t)ep, VR_MSG_TAG(1, VR_MSG_WORDS + 1, 0), 0), VR_EINVAL);
	CHECK_EQ(sys_ipc_reply(VR_MSG_TAG(1, 0, 0)), VR_ENOREPLY);
	CHECK_OK(sys_cap_delete((uint32_t)ep));
	CHECK_OK(sys_cap_delete((uint32_t)n));
}

static void test_expiry(void)
{
	long ep = sys_endpoint_create(), t;
	struct vr_cap_info ci;

	t = sys_cap_mint((uint32_t)ep, VR_CAP_ALL, 0, sys_clock() + 1000000);
	CHECK_OK(t);
	CHECK_OK(sys_cap_identify((uint32_t)t, &ci));
	sys_sleep(2000000);
	CHECK_EQ(sys_cap_identify((uint32_t)t, &ci), VR_ECAP_EXPIRED);
	CHECK_EQ(sys_ipc_recv((uint32_t)t, VR_IPC_NONBLOCK), VR_ECAP_EXPIRED);
	CHECK_EQ(sys_cap_mint((uint32_t)ep, VR_CAP_ALL, 0, 1), VR_EINVAL); /* in the past */
	CHECK_OK(sys_cap_delete((uint32_t)t));
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

/* A tree of 150 descendants goes in several bounded revoke calls. */
static void test_revoke(void)
{
	long ep = sys_endpoint_create(), calls = 0, c = ep;
	struct vr_cap_info ci;

	for (int i = 0; i < 150; i++) {
		long d = sys_cap_mint((uint32_t)(i % 3 ? c : ep), VR_CAP_ALL, 0, 0);
		CHECK_OK(d);
		c = d;
	}
	CHECK_OK(cap_revoke_all((uint32_t)ep, &calls));
	CHECK_EQ(calls > 1, 1);
	CHECK_EQ(sys_cap_identify((uint32_t)c, &ci), VR_ECAP_STALE);
	CHECK_OK(sys_cap_identify((uint32_t)ep, &ci));
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

/* Call a server in another process: words both ways, the badge, a
 * capability transferred with the message, and the server going away. */
static void test_call(void)
{
	struct vr_ipc_buffer *b = ipc_buffer();
	long ep = sys_endpoint_create(), badged, n, n2, pid;
	int status;

	badged = sys_cap_mint((uint32_t)ep, VR_CAP_READ | VR_CAP_WRITE | VR_CAP_GRANT, 42, 0);
	CHECK_OK(badged);
	pid = start_server((uint32_t)ep);
	CHECK_OK(pid);
	for (unsigned i = 0; i < 100; i++)
		b->words[i] = i;
	CHECK_EQ(sys_ipc_call((uint32_t)badged, VR_MSG_TAG(IPC_SUM, 100, 0), 0),
		 VR_MSG_TAG(IPC_SUM, 2, 0));
	CHECK_EQ(b->words[0], 4950);
	CHECK_EQ(b->words[1], 42);

	/* A capability without GRANT cannot travel. */
	n = sys_notification_create();
	n2 = sys_cap_mint((uint32_t)n, VR_CAP_WRITE, 0, 0);
	b->caps[0] = (uint32_t)n2;
	CHECK_EQ(sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_SIGNAL, 1, 1), 0), VR_ECAP_RIGHTS);
	CHECK_OK(sys_cap_delete((uint32_t)n2));
	/* One with GRANT is moved to the server, which signals through it. */
	n2 = sys_cap_mint((uint32_t)n, VR_CAP_WRITE | VR_CAP_GRANT, 0, 0);
	b->caps[0] = (uint32_t)n2;
	b->words[0] = 0x5;
	CHECK_EQ(sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_SIGNAL, 1, 1), 0),
		 VR_MSG_TAG(IPC_SIGNAL, 1, 0));
	CHECK_EQ(b->words[0], 0);
	CHECK_EQ(sys_notify_wait((uint32_t)n, VR_IPC_NONBLOCK), 0x5);
	CHECK_EQ(sys_notify_wait((uint32_t)n, VR_IPC_NONBLOCK), VR_EAGAIN);
	CHECK_EQ(sys_cap_identify((uint32_t)n2, &(struct vr_cap_info){ 0 }), VR_ECAP_STALE);

	CHECK_EQ(sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_QUIT, 0, 0), 0), VR_ECLOSED);
	CHECK_OK(wait_child(pid, &status));
	CHECK_EQ(status, 0);
	CHECK_EQ(sys_ipc_send((uint32_t)ep, VR_MSG_TAG(1, 0, 0), VR_IPC_NONBLOCK), VR_EAGAIN);
	CHECK_OK(sys_cap_delete((uint32_t)badged));
	CHECK_OK(sys_cap_delete((uint32_t)ep));
	CHECK_OK(sys_cap_delete((uint32_t)n));
}

static long start_with(const char *args, uint32_t ep)
{
	struct vr_spawn_caps sc = { .count = 1, .handles = { ep } };
	return sys_spawn_caps("bin/ipcsrv", 10, args, strlen(args), &sc);
}

/* ---- Short messages: words in registers (docs/ipc.md) ---- */

#define SENTINEL 0x5e5e5e5e5e5e5e5eull

/* Mark the first words, tag and badge of our IPC buffer: a message that
 * travels in registers must leave them alone. */
static void buffer_mark(void)
{
	struct vr_ipc_buffer *b = ipc_buffer();

	for (unsigned i = 0; i < 8; i++)
		b->words[i] = SENTINEL + i;
	b->tag = b->badge = SENTINEL;
}

static bool buffer_marked(void)
{
	const struct vr_ipc_buffer *b = ipc_buffer();
	bool ok = b->tag == SENTINEL && b->badge == SENTINEL;

	for (unsigned i = 0; i < 8; i++)
		ok = ok && b->words[i] == SENTINEL + i;
	return ok;
}

/* Decoder errors and the non-blocking and timeout paths of the short calls:
 * a receive that fails leaves the caller's out and badge alone. */
static void test_short_errors(void)
{
	static const uint64_t w[VR_MSG_REGS] = { 1, 2, 3, 4 };
	uint64_t out[VR_MSG_REGS] = { SENTINEL, SENTINEL, SENTINEL, SENTINEL }, badge = SENTINEL;
	long ep = sys_endpoint_create(), n = sys_notification_create(), ro;

	CHECK_OK(ep);
	ro = sys_cap_mint((uint32_t)ep, VR_CAP_READ, 0, 0);
	CHECK_EQ(vr_send_short((uint32_t)ep, VR_MSG_TAG(1, 5, 0), w, 0, 0), VR_E2BIG);
	CHECK_EQ(vr_call_short((uint32_t)ep, VR_MSG_TAG(1, 5, 0), w, out, 0, 0), VR_E2BIG);
	CHECK_EQ(vr_send_short((uint32_t)ep, VR_MSG_TAG(1, VR_MSG_WORDS + 1, 0), w, 0, 0),
		 VR_EINVAL);
	CHECK_EQ(vr_reply_short(VR_MSG_TAG(1, 5, 0), w), VR_E2BIG);
	CHECK_EQ(vr_reply_short(VR_MSG_TAG(1, 4, 0), w), VR_ENOREPLY);
	CHECK_EQ(vr_send_short((uint32_t)ro, VR_MSG_TAG(1, 1, 0), w, VR_IPC_NONBLOCK, 0),
		 VR_ECAP_RIGHTS);
	CHECK_EQ(vr_recv_short((uint32_t)n, out, &badge, VR_IPC_NONBLOCK, 0), VR_ECAP_TYPE);
	CHECK_EQ(vr_recv_short((uint32_t)ep, out, &badge, 0x80, 0), VR_EINVAL);
	/* the kernel's own flag (IPC_REGS, bit 31) is not a user flag */
	CHECK_EQ(vr_sys_ipc_recv(ep, 1l << 31, 0, 0, 0), VR_EINVAL);
	CHECK_EQ(vr_sys_ipc_recv_short(ep, 1l << 31, 0, 0, 0), VR_EINVAL);
	CHECK_EQ(vr_send_short((uint32_t)ep, VR_MSG_TAG(1, 4, 0), w, VR_IPC_NONBLOCK, 0),
		 VR_EAGAIN);
	CHECK_EQ(vr_recv_short((uint32_t)ep, out, &badge, VR_IPC_NONBLOCK, 0), VR_EAGAIN);
	CHECK_EQ(vr_recv_short((uint32_t)ep, out, &badge, VR_IPC_TIMEOUT, 1000000), VR_ETIMEDOUT);
	CHECK_EQ(vr_send_short((uint32_t)ep, VR_MSG_TAG(1, 2, 0), w, VR_IPC_TIMEOUT, 1000000),
		 VR_ETIMEDOUT);
	CHECK_EQ(vr_call_short((uint32_t)ep, VR_MSG_TAG(1, 3, 0), w, out, VR_IPC_TIMEOUT, 1000000),
		 VR_ETIMEDOUT);
	CHECK_EQ(vr_reply_recv_short((uint32_t)ep, 0, NULL, out, &badge, VR_IPC_NONBLOCK, 0),
		 VR_EAGAIN);
	for (unsigned i = 0; i < VR_MSG_REGS; i++)
		CHECK_EQ(out[i], SENTINEL);
	CHECK_EQ(badge, SENTINEL);
	CHECK_OK(sys_cap_delete((uint32_t)ro));
	CHECK_OK(sys_cap_delete((uint32_t)n));
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

/* A short call with n words to "ipcsrv short" (IPC_NOT): the reply comes
 * back in registers, 0 beyond its count, and our buffer is not touched. */
static void short_not(uint32_t ep, unsigned n, uint64_t seed)
{
	uint64_t w[VR_MSG_REGS], out[VR_MSG_REGS];

	for (unsigned i = 0; i < VR_MSG_REGS; i++)
		w[i] = seed * (i + 1) + 0x1000; /* words beyond n are not sent */
	buffer_mark();
	CHECK_EQ(vr_call_short(ep, VR_MSG_TAG(IPC_NOT, n, 0), w, out, 0, 0),
		 VR_MSG_TAG(IPC_NOT, n, 0));
	for (unsigned i = 0; i < VR_MSG_REGS; i++)
		CHECK_EQ(out[i], i < n ? ~w[i] : 0);
	CHECK_EQ(buffer_marked(), 1);
}

/* Every word count both ways, badges, and mixing with the buffer calls
 * against a server that uses the short calls. */
static void test_short_call(void)
{
	struct vr_ipc_buffer *b = ipc_buffer();
	uint64_t out[VR_MSG_REGS], one[VR_MSG_REGS] = { 10 };
	long ep = sys_endpoint_create(), badged, pid;
	int status = -1;

	badged = sys_cap_mint((uint32_t)ep, VR_CAP_READ | VR_CAP_WRITE, 42, 0);
	pid = start_with("ipcsrv short", (uint32_t)ep);
	CHECK_OK(pid);
	for (unsigned n = 0; n <= VR_MSG_REGS; n++)
		short_not((uint32_t)badged, n, 0x5150 + n);
	/* the badge arrives in a register (rbx) */
	CHECK_EQ(vr_call_short((uint32_t)badged, VR_MSG_TAG(IPC_BADGE, 0, 0), NULL, out, 0, 0),
		 VR_MSG_TAG(IPC_BADGE, 1, 0));
	CHECK_EQ(out[0], 42);
	CHECK_EQ(vr_call_short((uint32_t)ep, VR_MSG_TAG(IPC_BADGE, 0, 0), NULL, out, 0, 0),
		 VR_MSG_TAG(IPC_BADGE, 1, 0));
	CHECK_EQ(out[0], 0);
	/* a buffer caller: its words reach the server's registers, the reply
	 * its buffer, with the reply's badge 0 */
	for (unsigned n = 0; n <= VR_MSG_REGS; n++) {
		for (unsigned i = 0; i < n; i++)
			b->words[i] = 0x700 + i;
		b->badge = SENTINEL;
		CHECK_EQ(sys_ipc_call((uint32_t)badged, VR_MSG_TAG(IPC_NOT, n, 0), 0),
			 VR_MSG_TAG(IPC_NOT, n, 0));
		for (unsigned i = 0; i < n; i++)
			CHECK_EQ(b->words[i], ~(0x700ull + i));
		CHECK_EQ(b->badge, 0);
	}
	/* longer than the registers: the server finds the words in its buffer
	 * and its registers 0 (it answers IPC_ERROR otherwise) */
	for (unsigned i = 0; i < 10; i++)
		b->words[i] = 100 + i;
	CHECK_EQ(sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_NOT, 10, 0), 0),
		 VR_MSG_TAG(IPC_NOT, VR_MSG_REGS, 0));
	for (unsigned i = 0; i < VR_MSG_REGS; i++)
		CHECK_EQ(b->words[i], ~(100ull + i));
	/* a long reply (a buffer reply) to a short caller: words in the buffer,
	 * registers 0 */
	CHECK_EQ(vr_call_short((uint32_t)ep, VR_MSG_TAG(IPC_LONG, 1, 0), one, out, 0, 0),
		 VR_MSG_TAG(IPC_LONG, 10, 0));
	for (unsigned i = 0; i < VR_MSG_REGS; i++)
		CHECK_EQ(out[i], 0);
	for (unsigned i = 0; i < 10; i++)
		CHECK_EQ(b->words[i], IPC_LONG_WORD(i));
	CHECK_EQ(b->tag, VR_MSG_TAG(IPC_LONG, 10, 0));
	CHECK_EQ(vr_call_short((uint32_t)ep, VR_MSG_TAG(IPC_QUIT, 0, 0), NULL, out, 0, 0),
		 VR_ECLOSED);
	CHECK_OK(wait_child((uint32_t)pid, &status));
	CHECK_EQ(status, 0);
	CHECK_OK(sys_cap_delete((uint32_t)badged));
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

/* A short caller of a buffer server (plain ipcsrv): words reach its buffer,
 * the reply our registers; capabilities still travel in caps[]. */
static void test_short_to_buffer_server(void)
{
	struct vr_ipc_buffer *b = ipc_buffer();
	uint64_t w[VR_MSG_REGS] = { 5, 6, 7, 8 }, out[VR_MSG_REGS], sum = 0;
	long ep = sys_endpoint_create(), badged, n, n2, pid;
	int status = -1;

	badged = sys_cap_mint((uint32_t)ep, VR_CAP_READ | VR_CAP_WRITE | VR_CAP_GRANT, 42, 0);
	pid = start_server((uint32_t)ep);
	CHECK_OK(pid);
	for (unsigned k = 0; k <= VR_MSG_REGS; k++) {
		buffer_mark();
		CHECK_EQ(vr_call_short((uint32_t)badged, VR_MSG_TAG(IPC_SUM, k, 0), w, out, 0, 0),
			 VR_MSG_TAG(IPC_SUM, 2, 0));
		CHECK_EQ(out[0], sum);
		CHECK_EQ(out[1], 42);
		CHECK_EQ(out[2] | out[3], 0);
		CHECK_EQ(buffer_marked(), 1);
		sum += k < VR_MSG_REGS ? w[k] : 0;
	}
	n = sys_notification_create();
	n2 = sys_cap_mint((uint32_t)n, VR_CAP_WRITE | VR_CAP_GRANT, 0, 0);
	b->caps[0] = (uint32_t)n2;
	w[0] = 0x9;
	CHECK_EQ(vr_call_short((uint32_t)ep, VR_MSG_TAG(IPC_SIGNAL, 1, 1), w, out, 0, 0),
		 VR_MSG_TAG(IPC_SIGNAL, 1, 0));
	CHECK_EQ(out[0], 0);
	CHECK_EQ(sys_notify_wait((uint32_t)n, VR_IPC_NONBLOCK), 0x9);
	CHECK_EQ(sys_cap_identify((uint32_t)n2, &(struct vr_cap_info){ 0 }), VR_ECAP_STALE);
	CHECK_EQ(vr_call_short((uint32_t)ep, VR_MSG_TAG(IPC_QUIT, 0, 0), NULL, out, 0, 0),
		 VR_ECLOSED);
	CHECK_OK(wait_child((uint32_t)pid, &status));
	CHECK_EQ(status, 0);
	CHECK_OK(sys_cap_delete((uint32_t)n));
	CHECK_OK(sys_cap_delete((uint32_t)badged));
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

/* Short sends, received by a short receive and by a buffer receive, and a
 * buffer send received by a short receive; the badge every time. */
static void test_short_send_recv(void)
{
	static const uint64_t w[] = { IPC_SHORTSEND_W }, w2[] = { IPC_SHORTSEND_W2 };
	struct vr_ipc_buffer *b = ipc_buffer();
	uint64_t out[VR_MSG_REGS], badge = 0;
	long ep = sys_endpoint_create(), badged, pid;
	int status = -1;

	badged = sys_cap_mint((uint32_t)ep, VR_CAP_WRITE | VR_CAP_GRANT, 77, 0);
	pid = start_with("ipcsrv shortsend", (uint32_t)badged);
	CHECK_OK(pid);
	if (pid < 0)
		return; /* nobody would send */
	buffer_mark();
	CHECK_EQ(vr_recv_short((uint32_t)ep, out, &badge, 0, 0), VR_MSG_TAG(IPC_NOT, 4, 0));
	for (unsigned i = 0; i < VR_MSG_REGS; i++)
		CHECK_EQ(out[i], w[i]);
	CHECK_EQ(badge, 77);
	CHECK_EQ(buffer_marked(), 1);
	CHECK_EQ(sys_ipc_recv((uint32_t)ep, 0), VR_MSG_TAG(IPC_NOT, 2, 0));
	CHECK_EQ(b->words[0], w2[0]);
	CHECK_EQ(b->words[1], w2[1]);
	CHECK_EQ(b->badge, 77);
	badge = 0;
	CHECK_EQ(vr_recv_short((uint32_t)ep, out, &badge, 0, 0),
		 VR_MSG_TAG(IPC_NOT, IPC_SHORTSEND_LONG, 0));
	for (unsigned i = 0; i < VR_MSG_REGS; i++)
		CHECK_EQ(out[i], 0);
	for (unsigned i = 0; i < IPC_SHORTSEND_LONG; i++)
		CHECK_EQ(b->words[i], i + 1);
	CHECK_EQ(badge, 77);
	CHECK_EQ(b->badge, 77);
	CHECK_OK(wait_child((uint32_t)pid, &status));
	CHECK_EQ(status, 0);
	CHECK_OK(sys_cap_delete((uint32_t)badged));
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One random round trip: a short or buffer caller, n words, to the short
 * server (IPC_NOT: complements, at most VR_MSG_REGS of them) or the buffer
 * server (IPC_ECHO: the same words). */
static void mix_one(uint64_t *rng, uint32_t short_ep, uint32_t buf_ep)
{
	struct vr_ipc_buffer *b = ipc_buffer();
	bool to_short = rng_next(rng) & 1, caller_short = rng_next(rng) & 1;
	unsigned n = (unsigned)(rng_next(rng) % (caller_short ? VR_MSG_REGS + 1 : 9));
	unsigned label = to_short ? IPC_NOT : IPC_ECHO, m = n;
	uint64_t w[VR_MSG_REGS] = { 0 }, out[VR_MSG_REGS], x[8];
	uint32_t ep = to_short ? short_ep : buf_ep;
	long tag;

	if (to_short && m > VR_MSG_REGS)
		m = VR_MSG_REGS;
	for (unsigned i = 0; i < n; i++)
		x[i] = rng_next(rng);
	if (caller_short) {
		for (unsigned i = 0; i < n; i++)
			w[i] = x[i];
		buffer_mark();
		tag = vr_call_short(ep, VR_MSG_TAG(label, n, 0), w, out, 0, 0);
		CHECK_EQ(buffer_marked(), 1);
	} else {
		for (unsigned i = 0; i < n; i++)
			b->words[i] = x[i];
		tag = sys_ipc_call(ep, VR_MSG_TAG(label, n, 0), 0);
	}
	CHECK_EQ(tag, VR_MSG_TAG(label, m, 0));
	for (unsigned i = 0; i < m; i++)
		CHECK_EQ(caller_short ? out[i] : b->words[i], to_short ? ~x[i] : x[i]);
	for (unsigned i = m; caller_short && i < VR_MSG_REGS; i++)
		CHECK_EQ(out[i], 0);
}

/* Random mixes of short and buffer callers and servers; the seed is
 * printed (run `ipctest SEED` to repeat one). */
static void test_short_mix(uint64_t seed)
{
	long short_ep = sys_endpoint_create(), buf_ep = sys_endpoint_create(), p1, p2;
	uint64_t rng = seed ? seed : 1;
	int status = -1;

	printf("ipctest: short-message mix, seed %lu\n", (unsigned long)seed);
	p1 = start_with("ipcsrv short", (uint32_t)short_ep);
	p2 = start_server((uint32_t)buf_ep);
	CHECK_OK(p1);
	CHECK_OK(p2);
	for (int i = 0; i < 300; i++)
		mix_one(&rng, (uint32_t)short_ep, (uint32_t)buf_ep);
	CHECK_EQ(vr_call_short((uint32_t)short_ep, VR_MSG_TAG(IPC_QUIT, 0, 0), NULL, NULL, 0, 0),
		 VR_ECLOSED);
	CHECK_EQ(sys_ipc_call((uint32_t)buf_ep, VR_MSG_TAG(IPC_QUIT, 0, 0), 0), VR_ECLOSED);
	CHECK_OK(wait_child((uint32_t)p1, &status));
	CHECK_OK(wait_child((uint32_t)p2, &status));
	CHECK_OK(sys_cap_delete((uint32_t)short_ep));
	CHECK_OK(sys_cap_delete((uint32_t)buf_ep));
}

/* Regression (review finding): a caller killed while its server held the
 * call left the server's reply_to pointing at a freed thread; the reply
 * then panicked the kernel or woke whichever thread reused the memory. */
static void test_caller_killed_during_call(void)
{
	long ep = sys_endpoint_create(), srv, caller;
	int status;

	srv = start_with("ipcsrv slow", (uint32_t)ep);
	caller = start_with("ipcsrv caller", (uint32_t)ep);
	CHECK_OK(srv);
	CHECK_OK(caller);
	sys_sleep(10000000); /* the server holds the call, asleep */
	CHECK_EQ(vr_sys_kill(caller, 9, 0, 0, 0), 0);
	CHECK_OK(wait_child(caller, &status));
	CHECK_EQ(status, 9);
	for (int i = 0; i < 3; i++) { /* reuse the dead caller's thread memory */
		long t = sys_spawn("bin/true", 8, "true", 4);
		CHECK_OK(wait_child(t, &status));
	}
	sys_sleep(100000000); /* the server replies to nobody and waits again */
	CHECK_EQ(sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_ECHO, 0, 0), 0),
		 VR_MSG_TAG(IPC_ECHO, 0, 0));
	CHECK_EQ(vr_sys_kill(srv, 0, 0, 0, 0), 0);
	CHECK_OK(wait_child(srv, &status));
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

/* Regression (review finding): a sender blocked on an endpoint that was
 * destroyed meanwhile read the freed endpoint after waking. */
static void test_endpoint_destroyed_under_sender(void)
{
	long ep = sys_endpoint_create(), sender;
	int status = -1;

	sender = start_with("ipcsrv sender", (uint32_t)ep);
	CHECK_OK(sender);
	sys_sleep(10000000);                          /* the sender waits in the queue */
	CHECK_OK(cap_revoke_all((uint32_t)ep, NULL)); /* the sender's copy goes */
	CHECK_OK(sys_cap_delete((uint32_t)ep));       /* and the endpoint with it */
	CHECK_OK(wait_child(sender, &status));
	CHECK_EQ(status, 0); /* it saw VR_ECLOSED */
}

/* Regression (review finding): a periodic notification timer with a
 * period near 2^64 made each firing compute a deadline in the past, and
 * the kernel re-fired it for as many iterations as the clock's value. Now
 * the period is bounded, and a timer that is refused leaves nothing armed. */
static void test_notify_timer_period_bounds(void)
{
	long n = sys_notification_create();

	CHECK_OK(n);
	CHECK_EQ(sys_notify_timer((uint32_t)n, sys_clock() + 1, ~0ull, 1), VR_ERANGE);
	CHECK_EQ(sys_notify_timer((uint32_t)n, sys_clock() + 1, (1ull << 62) + 1, 1), VR_ERANGE);
	CHECK_OK(sys_notify_timer((uint32_t)n, sys_clock() + 1000, 1ull << 62, 1));
	sys_sleep(2000); /* fires once; the next deadline is ~146 years away */
	CHECK_EQ(sys_notify_wait((uint32_t)n, VR_IPC_NONBLOCK), 1);
	CHECK_EQ(sys_notify_wait((uint32_t)n, VR_IPC_NONBLOCK), VR_EAGAIN);
	CHECK_OK(sys_cap_delete((uint32_t)n));
}

/* Regression (review finding): a zombie's record was not charged to any
 * quota, so a process that never waited could fill kernel memory. It stays
 * charged to the parent's quota chain until the parent reaps it. */
static void test_zombie_record_charged(void)
{
	struct vr_quota_info before, zombie, after;
	long pid;
	int status;

	CHECK_OK(sys_quota_info(&before));
	pid = sys_spawn("bin/true", 8, "true", 4);
	CHECK_OK(pid);
	sys_sleep(5000000); /* it runs and exits: a zombie until we wait */
	CHECK_OK(sys_quota_info(&zombie));
	CHECK_EQ(zombie.used > before.used, 1);
	CHECK_EQ(zombie.used - before.used < 4096, 1); /* just the record, not its stack */
	CHECK_OK(wait_child(pid, &status));
	CHECK_OK(sys_quota_info(&after));
	CHECK_EQ(after.used, before.used);
}

/* The number of live processes named `name` whose parent is `ppid`. */
static int count_procs(const char *name, long ppid)
{
	static struct vr_thread_info ti[64];
	long n = sys_ps(ti, 64);
	int count = 0;

	for (long i = 0; i < n && i < 64; i++)
		count += strcmp(ti[i].name, name) == 0 && ti[i].ppid == ppid &&
			 ti[i].state != VR_THREAD_ZOMBIE;
	return count;
}

/* A process whose parent exits is adopted by init (pid 1), which reaps it
 * when it ends: nothing stays behind. */
static void test_orphans_adopted_by_init(void)
{
	long ep = sys_endpoint_create(), mid;
	int status = -1;

	CHECK_EQ(count_procs("ipcsrv", 1), 0);
	mid = start_with("ipcsrv adopt", (uint32_t)ep);
	CHECK_OK(wait_child(mid, &status));
	CHECK_EQ(status, 0);
	CHECK_EQ(count_procs("ipcsrv", 1), 1);        /* the server, now init's */
	CHECK_OK(cap_revoke_all((uint32_t)ep, NULL)); /* its endpoint goes: it exits */
	CHECK_OK(sys_cap_delete((uint32_t)ep));
	sys_sleep(1000000); /* init runs and reaps it */
	CHECK_EQ(count_procs("ipcsrv", 1), 0);
}

/* Endpoints are charged to the creating process's memory quota: with a
 * small limit, creation fails with VR_ENOMEM (before the capability space
 * is full), and deleting them returns the charge. Runs last: it lowers this
 * process's quota for good. */
static void test_objects_charged_to_quota(void)
{
	struct vr_quota_info qi0, qi;
	long eps[200], n = 0, again = 0;

	CHECK_OK(sys_quota_info(&qi0));
	CHECK_OK(sys_quota_set(qi0.used + 8192));
	while (n < 200 && (eps[n] = sys_endpoint_create()) >= 0)
		n++;
	CHECK_EQ(n < 200 && n > 0, 1);
	CHECK_EQ(eps[n], VR_ENOMEM);
	CHECK_OK(sys_quota_info(&qi));
	CHECK_EQ(qi.used > qi0.used, 1);
	for (long i = 0; i < n; i++)
		CHECK_OK(sys_cap_delete((uint32_t)eps[i]));
	CHECK_OK(sys_quota_info(&qi));
	CHECK_EQ(qi.used, qi0.used);
	while (again < n && (eps[again] = sys_endpoint_create()) >= 0)
		again++;
	CHECK_EQ(again, n);
	for (long i = 0; i < again; i++)
		CHECK_OK(sys_cap_delete((uint32_t)eps[i]));
}

int main(int argc, char **argv)
{
	long seed = 0;

	if (argc > 1 && (!vrt_parse_long(argv[1], &seed) || seed <= 0)) {
		printf("usage: ipctest [seed of the short-message mix]\n");
		return 2;
	}
	if (!seed)
		seed = (long)(__builtin_ia32_rdtsc() % 1000000007) + 1;
	test_bad_handles();
	test_expiry();
	test_revoke();
	test_call();
	test_short_errors();
	test_short_call();
	test_short_to_buffer_server();
	test_short_send_recv();
	test_short_mix((uint64_t)seed);
	test_caller_killed_during_call();
	test_endpoint_destroyed_under_sender();
	test_orphans_adopted_by_init();
	test_notify_timer_period_bounds();
	test_zombie_record_charged();
	test_objects_charged_to_quota();
	return ucheck_summary("ipctest");
}
