/*
 * vbench: micro-benchmarks of the kernel, run as a user program in either
 * build (bin/vbench in the initramfs). Each line it prints is
 *     vbench: NAME iterations=N ns_per_op=X cycles_per_op=Y
 * ns come from the kernel clock (use veridian-sim --time=real: in virtual
 * time the clock does not move while programs run); cycles come from rdtsc,
 * which under QEMU -icount shift=0 counts guest instructions.
 *
 * Usage: vbench [tsc] [iterations]
 *   tsc  print the current TSC and exit (instructions since reset under
 *        QEMU -icount shift=0: taken at the shell prompt, it measures boot).
 */
#include "../ipc/ipcproto.h"
#include "channel.h"
#include "vrt.h"

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void report(const char *name, long n, uint64_t ns, uint64_t cycles)
{
	/* fixed point with two decimals, no floating point in user space */
	uint64_t ns100 = ns * 100 / (uint64_t)n, cy100 = cycles * 100 / (uint64_t)n;

	printf("vbench: %s iterations=%ld ns_per_op=%lu.%02lu cycles_per_op=%lu.%02lu\n", name, n,
	       (unsigned long)(ns100 / 100), (unsigned long)(ns100 % 100),
	       (unsigned long)(cy100 / 100), (unsigned long)(cy100 % 100));
}

static void bench_null_syscall(long n)
{
	uint64_t t0 = sys_clock(), c0 = rdtsc();

	for (long i = 0; i < n; i++)
		sys_getpid();
	report("null_syscall", n, sys_clock() - t0, rdtsc() - c0);
}

static void bench_spawn_exit(long n)
{
	uint64_t t0 = sys_clock(), c0 = rdtsc();

	for (long i = 0; i < n; i++) {
		int status;
		long pid = spawn("bin/true", "true");
		if (pid < 0 || sys_wait(pid, &status) != pid || status != 0) {
			printf("vbench: spawn of bin/true failed: %s\n", vr_strerror(pid));
			return;
		}
	}
	report("spawn_exit", n, sys_clock() - t0, rdtsc() - c0);
}

/* Call+reply round trip to bin/ipcsrv in another process (empty message). */
static void bench_ipc_round_trip(long n)
{
	struct vr_spawn_caps sc = { .count = 1 };
	long ep = sys_endpoint_create(), pid;
	int status;

	sc.handles[0] = (uint32_t)ep;
	pid = sys_spawn_caps("bin/ipcsrv", 10, "ipcsrv", 6, &sc);
	if (ep < 0 || pid < 0) {
		printf("vbench: cannot start bin/ipcsrv: %s\n", vr_strerror(ep < 0 ? ep : pid));
		return;
	}
	sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_ECHO, 0, 0), 0); /* warm up */
	uint64_t t0 = sys_clock(), c0 = rdtsc();
	for (long i = 0; i < n; i++)
		sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_ECHO, 0, 0), 0);
	report("ipc_call_reply", n, sys_clock() - t0, rdtsc() - c0);
	sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_QUIT, 0, 0), 0);
	sys_wait(pid, &status);
	sys_cap_delete((uint32_t)ep);
}

/* Notification ping-pong with bin/ipcsrv pong: signal one notification,
 * wait on the other; one iteration is two signal-to-wake hand-offs. */
static void bench_notify_ping_pong(long n)
{
	struct vr_spawn_caps sc = { .count = 3 };
	long ep = sys_endpoint_create(), ping = sys_notification_create();
	long pongn = sys_notification_create(), pid;
	int status;

	sc.handles[0] = (uint32_t)ep;
	sc.handles[1] = (uint32_t)ping;
	sc.handles[2] = (uint32_t)pongn;
	pid = sys_spawn_caps("bin/ipcsrv", 10, "ipcsrv pong", 11, &sc);
	if (pid < 0) {
		printf("vbench: cannot start bin/ipcsrv pong: %s\n", vr_strerror(pid));
		return;
	}
	uint64_t t0 = sys_clock(), c0 = rdtsc();
	for (long i = 0; i < n; i++) {
		sys_notify_signal((uint32_t)ping, 1);
		sys_notify_wait((uint32_t)pongn, 0);
	}
	report("notify_ping_pong", n, sys_clock() - t0, rdtsc() - c0);
	sys_notify_signal((uint32_t)ping, IPC_PONG_QUIT);
	sys_wait(pid, &status);
	sys_cap_delete((uint32_t)ep);
	sys_cap_delete((uint32_t)ping);
	sys_cap_delete((uint32_t)pongn);
}

/* ---- Memory faults (docs/memory.md): only the touching loop is timed ---- */

#define FAULT_BATCH 512 /* pages per memory object: 2 MiB */
#define FAULT_VA_OFF 0x40000000ull

/* One write to each page of a fresh object: a demand-zero fault each. */
static void bench_demand_zero_fault(long n)
{
	volatile char *p = (volatile char *)(uintptr_t)(vrt_start_info->slot_base + FAULT_VA_OFF);
	uint64_t ns = 0, cycles = 0;
	long done = 0;

	while (done < n) {
		long pages = n - done < FAULT_BATCH ? n - done : FAULT_BATCH;
		long h = sys_mem_create((uint64_t)pages);
		uint64_t t0, c0;
		if (h < 0 || sys_mem_map((uint32_t)h, (void *)p, 0, (uint64_t)pages,
					 VR_PROT_READ | VR_PROT_WRITE)) {
			printf("vbench: demand_zero_fault: %s\n",
			       vr_strerror(h < 0 ? h : VR_EINVAL));
			return;
		}
		t0 = sys_clock();
		c0 = rdtsc();
		for (long i = 0; i < pages; i++)
			p[i * VR_PAGE_SIZE] = 1;
		cycles += rdtsc() - c0;
		ns += sys_clock() - t0;
		sys_mem_unmap((void *)p, (uint64_t)pages);
		sys_cap_delete((uint32_t)h);
		done += pages;
	}
	report("demand_zero_fault", n, ns, cycles);
}

/* One write to each page of a copy-on-write copy of a populated object:
 * a copy-on-write fault (page copy) each. */
static void bench_cow_fault(long n)
{
	volatile char *p = (volatile char *)(uintptr_t)(vrt_start_info->slot_base + FAULT_VA_OFF);
	volatile char *q = p + FAULT_BATCH * VR_PAGE_SIZE;
	uint64_t ns = 0, cycles = 0;
	long done = 0;

	while (done < n) {
		long pages = n - done < FAULT_BATCH ? n - done : FAULT_BATCH;
		long a = sys_mem_create((uint64_t)pages), b;
		uint64_t t0, c0;
		if (a < 0 || sys_mem_map((uint32_t)a, (void *)p, 0, (uint64_t)pages,
					 VR_PROT_READ | VR_PROT_WRITE)) {
			printf("vbench: cow_fault: cannot map\n");
			return;
		}
		for (long i = 0; i < pages; i++)
			p[i * VR_PAGE_SIZE] = 1;
		b = sys_mem_copy((uint32_t)a);
		if (b < 0 || sys_mem_map((uint32_t)b, (void *)q, 0, (uint64_t)pages,
					 VR_PROT_READ | VR_PROT_WRITE)) {
			printf("vbench: cow_fault: cannot map the copy\n");
			return;
		}
		for (long i = 0; i < pages; i++)
			(void)q[i * VR_PAGE_SIZE]; /* map the shared frames read-only first */
		t0 = sys_clock();
		c0 = rdtsc();
		for (long i = 0; i < pages; i++)
			q[i * VR_PAGE_SIZE] = 2;
		cycles += rdtsc() - c0;
		ns += sys_clock() - t0;
		sys_mem_unmap((void *)p, (uint64_t)pages);
		sys_mem_unmap((void *)q, (uint64_t)pages);
		sys_cap_delete((uint32_t)a);
		sys_cap_delete((uint32_t)b);
		done += pages;
	}
	report("cow_fault", n, ns, cycles);
}

/* Channel throughput: 16-byte entries in batches of 32 through a 16-page
 * channel to `chantest consume`, which checks every entry. */
static void bench_channel(long n)
{
	struct {
		uint64_t seq, check;
	} batch[32];
	struct vr_spawn_caps sc = { .count = 3 };
	struct vr_channel ch;
	char args[64];
	long pid, r;
	int status;

	r = channel_create(&ch, 16, sizeof(batch[0]), channel_map_address(0));
	if (r) {
		printf("vbench: channel: %s\n", vr_strerror(r));
		return;
	}
	sc.handles[0] = ch.mem;
	sc.handles[1] = ch.data;
	sc.handles[2] = ch.space;
	n -= n % 32;
	snprintf(args, sizeof(args), "chantest consume %ld 16", n);
	pid = sys_spawn_caps("bin/chantest", 12, args, strlen(args), &sc);
	if (pid < 0) {
		printf("vbench: cannot start bin/chantest: %s\n", vr_strerror(pid));
		channel_close(&ch);
		return;
	}
	uint64_t t0 = sys_clock(), c0 = rdtsc();
	for (long sent = 0; sent < n; sent += 32) {
		for (int i = 0; i < 32; i++)
			batch[i].check = ~(batch[i].seq = (uint64_t)(sent + i));
		channel_send(&ch, batch, 32);
	}
	sys_wait(pid, &status);
	report(status == 0 ? "channel_entry_batch32" : "channel_FAILED", n, sys_clock() - t0,
	       rdtsc() - c0);
	channel_close(&ch);
}

int main(int argc, char **argv)
{
	long n = 100000;

	if (argc > 1 && strcmp(argv[1], "tsc") == 0) {
		printf("vbench: tsc=%lu\n", (unsigned long)rdtsc());
		return 0;
	}
	if (argc > 1 && (!vrt_parse_long(argv[1], &n) || n <= 0)) {
		printf("usage: vbench [tsc] [iterations]\n");
		return 2;
	}
	bench_null_syscall(n);
	bench_ipc_round_trip(n);
	bench_notify_ping_pong(n);
	bench_channel(n * 10);
	bench_spawn_exit(n / 1000 > 0 ? n / 1000 : 1);
	bench_demand_zero_fault(n / 100 > 0 ? n / 100 : 1);
	bench_cow_fault(n / 100 > 0 ? n / 100 : 1);
	return 0;
}
