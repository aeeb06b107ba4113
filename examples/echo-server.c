/*
 * echo-server: capabilities and IPC between two processes, in one file.
 * Run it from the shell as `echo-server`. The same program plays both
 * roles: started without arguments it is the client; it starts a copy of
 * itself with the argument "serve" as the server.
 *
 * What it shows:
 *   1. endpoint_create() gives a capability (a handle: slot and generation)
 *      to a new endpoint, with all rights.
 *   2. cap_mint() derives a weaker, badged capability: the server will see
 *      the badge on every message sent through it, which is how a server
 *      tells its clients apart.
 *   3. spawn with initial capabilities: the child finds them at handles
 *      0, 1, ... (docs/capabilities.md).
 *   4. The server loop: ipc_recv once, then ipc_reply_recv forever (reply to
 *      this caller and wait for the next, in one syscall).
 *   5. ipc_call: send a message and wait for the reply. Words travel in the
 *      IPC buffer (ipc_buffer()); the tag says how many (docs/ipc.md).
 *   6. A short message: up to 4 words travel in registers instead
 *      (vr_call_short). The server still uses the buffer calls: each side
 *      chooses, and the kernel moves the words between the two.
 */
#include "vrt.h"

#define LABEL_UPPER 1 /* the only request: upper-case a string */
#define LABEL_BYE 2   /* the server exits */
#define LABEL_ADD 3   /* add two words, reply with the sum */
#define SERVER_EP 0u  /* the server's first initial capability */

/* Server: upper-case the bytes in the words and send them back. */
static int serve(void)
{
	struct vr_ipc_buffer *b = ipc_buffer();
	long tag = sys_ipc_recv(SERVER_EP, 0);

	while (tag >= 0 && (VR_MSG_LABEL(tag) == LABEL_UPPER || VR_MSG_LABEL(tag) == LABEL_ADD)) {
		unsigned nwords = VR_MSG_NWORDS(tag);
		char *text = (char *)b->words;

		if (VR_MSG_LABEL(tag) == LABEL_ADD) { /* 6: a short message, read here */
			b->words[0] += b->words[1];
			tag = sys_ipc_reply_recv(SERVER_EP, VR_MSG_TAG(LABEL_ADD, 1, 0), 0);
			continue;
		}

		for (unsigned i = 0; i < nwords * 8; i++)
			if (text[i] >= 'a' && text[i] <= 'z')
				text[i] = (char)(text[i] - 'a' + 'A');
		printf("  server: request from badge %lu, %u words\n", (unsigned long)b->badge,
		       nwords);
		tag = sys_ipc_reply_recv(SERVER_EP, VR_MSG_TAG(LABEL_UPPER, nwords, 0), 0);
	}
	return tag < 0 ? 1 : 0;
}

/* Client: one request, then tell the server to stop. */
static int client(void)
{
	static const char hello[] = "hello, capabilities";
	struct vr_ipc_buffer *b = ipc_buffer();
	struct vr_spawn_caps caps = { .count = 1 };
	long ep, badged, pid, tag;
	unsigned nwords = (sizeof(hello) + 7) / 8;
	int status;

	ep = sys_endpoint_create(); /* 1 */
	badged =
		sys_cap_mint((uint32_t)ep, VR_CAP_READ | VR_CAP_WRITE | VR_CAP_GRANT, 7, 0); /* 2 */
	if (ep < 0 || badged < 0) {
		printf("echo-server: %s\n", vr_strerror(ep < 0 ? ep : badged));
		return 1;
	}
	caps.handles[0] = (uint32_t)ep;
	pid = sys_spawn_caps("bin/echo-server", 15, "echo-server serve", 17, &caps); /* 3 */
	if (pid < 0) {
		printf("echo-server: spawn: %s\n", vr_strerror(pid));
		return 1;
	}
	memcpy(b->words, hello, sizeof(hello));
	tag = sys_ipc_call((uint32_t)badged, VR_MSG_TAG(LABEL_UPPER, nwords, 0), 0); /* 5 */
	if (tag < 0) {
		printf("echo-server: call: %s\n", vr_strerror(tag));
		return 1;
	}
	printf("client: sent \"%s\", got \"%s\"\n", hello, (const char *)b->words);
	{
		uint64_t w[VR_MSG_REGS] = { 20, 22 }, sum[VR_MSG_REGS];

		tag = vr_call_short((uint32_t)badged, VR_MSG_TAG(LABEL_ADD, 2, 0), w, sum, 0,
				    0); /* 6 */
		if (tag >= 0)
			printf("client: 20 + 22 = %lu, in registers\n", (unsigned long)sum[0]);
	}
	sys_ipc_send((uint32_t)ep, VR_MSG_TAG(LABEL_BYE, 0, 0), 0);
	wait_child(pid, &status);
	sys_cap_delete((uint32_t)badged);
	sys_cap_delete((uint32_t)ep);
	return status;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "serve") == 0)
		return serve();
	return client();
}
