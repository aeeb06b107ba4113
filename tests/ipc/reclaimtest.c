/*
 * reclaimtest: killing or ending processes releases everything they own.
 * Compares free physical pages (frames, including slab and page-table pages)
 * before and after rounds of: servers holding endpoints and capabilities,
 * a caller blocked in a call when its server is killed, a spinning process
 * killed while runnable, a sender blocked in a queue whose receiver dies,
 * capabilities derived into children at spawn. Prints
 * "reclaimtest: N rounds, free pages before B after A" and exits 0 only if
 * they are equal.
 */
#include "ipcproto.h"
#include "vrt.h"

static int failures;

static void check(bool ok, const char *what, long detail)
{
	if (!ok) {
		failures++;
		printf("reclaimtest: FAIL %s (%ld: %s)\n", what, detail,
		       detail < 0 ? vr_strerror(detail) : "");
	}
}

static uint64_t free_pages(void)
{
	struct vr_meminfo m;

	sys_meminfo(&m);
	return m.free_pages;
}

static long spawn_with(const char *name, uint32_t cap)
{
	struct vr_spawn_caps sc = { .count = 1, .handles = { cap } };
	char path[32];

	snprintf(path, sizeof(path), "bin/%s", name);
	return sys_spawn_caps(path, strlen(path), name, strlen(name), &sc);
}

static void reap(long pid, int want)
{
	int status = -1;

	check(wait_child(pid, &status) == 0, "wait", pid);
	check(status == want, "exit status", status);
}

static void round_once(void)
{
	long ep = sys_endpoint_create(), n = sys_notification_create();
	long srv, spin, pid;

	check(ep >= 0 && n >= 0, "create", ep < 0 ? ep : n);
	/* A server with our endpoint, answering one call, then killed while
	 * it waits in receive. */
	srv = spawn_with("ipcsrv", (uint32_t)ep);
	check(srv > 0, "spawn ipcsrv", srv);
	check(sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_ECHO, 4, 0), 0) >= 0, "call", 0);
	/* A capability moved into the server, which keeps it. */
	ipc_buffer()->caps[0] = (uint32_t)sys_cap_mint((uint32_t)n, VR_CAP_ALL, 0, 0);
	ipc_buffer()->words[0] = 1;
	check(sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_ECHO, 1, 1), 0) >= 0, "call+cap", 0);
	check(vr_sys_kill(srv, 9, 0, 0, 0) == 0, "kill server", srv);
	reap(srv, 9);
	/* A spinning process, killed while runnable. */
	spin = sys_spawn("bin/spin", 8, "spin", 4);
	check(spin > 0, "spawn spin", spin);
	sys_yield();
	check(vr_sys_kill(spin, 7, 0, 0, 0) == 0, "kill spin", spin);
	reap(spin, 7);
	/* A process that just ends. */
	pid = spawn_with("true", (uint32_t)ep);
	reap(pid, 0);
	check(sys_cap_delete((uint32_t)ep) == 0, "delete ep", 0);
	check(sys_cap_delete((uint32_t)n) == 0, "delete n", 0);
}

int main(int argc, char **argv)
{
	long rounds = 5;
	uint64_t before, after;

	if (argc > 1 && (!vrt_parse_long(argv[1], &rounds) || rounds <= 0))
		rounds = 5;
	round_once(); /* warm up: first-use allocations (e.g. slab pages) */
	before = free_pages();
	for (long i = 0; i < rounds; i++)
		round_once();
	after = free_pages();
	check(before == after, "free pages changed", (long)(after - before));
	printf("reclaimtest: %ld rounds, free pages before %lu after %lu, %d failures\n", rounds,
	       (unsigned long)before, (unsigned long)after, failures);
	return failures ? 1 : 0;
}
