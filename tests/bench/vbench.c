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
		if (pid < 0 || wait_child(pid, &status) != 0 || status != 0) {
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
	wait_child(pid, &status);
	sys_cap_delete((uint32_t)ep);
}

/* The same with 4 words each way, in the IPC buffer (bin/ipcsrv echoes
 * them) or in registers (bin/ipcsrv short, short calls both sides). The
 * client writes the words and reads the reply's in each iteration. */
static long start_ipcsrv(const char *args, long *ep)
{
	struct vr_spawn_caps sc = { .count = 1 };
	long pid;

	*ep = sys_endpoint_create();
	sc.handles[0] = (uint32_t)*ep;
	pid = sys_spawn_caps("bin/ipcsrv", 10, args, strlen(args), &sc);
	if (*ep < 0 || pid < 0)
		printf("vbench: cannot start bin/ipcsrv: %s\n", vr_strerror(*ep < 0 ? *ep : pid));
	return *ep < 0 ? *ep : pid;
}

static void bench_ipc_words_buffer(long n)
{
	struct vr_ipc_buffer *b = ipc_buffer();
	uint64_t check = 0;
	long ep, pid = start_ipcsrv("ipcsrv", &ep);
	int status;

	if (pid < 0)
		return;
	sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_ECHO, 0, 0), 0); /* warm up */
	uint64_t t0 = sys_clock(), c0 = rdtsc();
	for (long i = 0; i < n; i++) {
		b->words[0] = (uint64_t)i;
		b->words[1] = 1;
		b->words[2] = 2;
		b->words[3] = 3;
		sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_ECHO, 4, 0), 0);
		check += b->words[0] + b->words[1] + b->words[2] + b->words[3];
	}
	report(check == (uint64_t)n * (n - 1) / 2 + 6 * (uint64_t)n ? "ipc_call_reply_4w_buffer"
								    : "ipc_4w_buffer_FAILED",
	       n, sys_clock() - t0, rdtsc() - c0);
	sys_ipc_call((uint32_t)ep, VR_MSG_TAG(IPC_QUIT, 0, 0), 0);
	wait_child((uint32_t)pid, &status);
	sys_cap_delete((uint32_t)ep);
}

static void bench_ipc_words_regs(long n, unsigned words)
{
	uint64_t w[VR_MSG_REGS] = { 0, 1, 2, 3 }, out[VR_MSG_REGS] = { 0 }, check = 0, want = 0;
	long ep, pid = start_ipcsrv("ipcsrv short", &ep);
	int status;

	if (pid < 0)
		return;
	for (unsigned k = 1; k < words; k++)
		want += k * (uint64_t)n;
	want += words ? (uint64_t)n * (n - 1) / 2 : 0;
	vr_call_short((uint32_t)ep, VR_MSG_TAG(IPC_ECHO, 0, 0), NULL, NULL, 0, 0); /* warm up */
	uint64_t t0 = sys_clock(), c0 = rdtsc();
	for (long i = 0; i < n; i++) {
		w[0] = (uint64_t)i;
		vr_call_short((uint32_t)ep, VR_MSG_TAG(IPC_ECHO, words, 0), w, out, 0, 0);
		check += out[0] + out[1] + out[2] + out[3];
	}
	report(check != want          ? "ipc_regs_FAILED"
	       : words == VR_MSG_REGS ? "ipc_call_reply_4w_regs"
				      : "ipc_call_reply_0w_regs",
	       n, sys_clock() - t0, rdtsc() - c0);
	vr_call_short((uint32_t)ep, VR_MSG_TAG(IPC_QUIT, 0, 0), NULL, NULL, 0, 0);
	wait_child((uint32_t)pid, &status);
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
	wait_child(pid, &status);
	sys_cap_delete((uint32_t)ep);
	sys_cap_delete((uint32_t)ping);
	sys_cap_delete((uint32_t)pongn);
}

/* ---- Threads (docs/scheduling.md) ---- */

static long thread_ping, thread_pong;

static int pong_thread(void *arg)
{
	for (;;) {
		long bits = sys_notify_wait((uint32_t)thread_ping, 0);
		if (bits < 0 || bits & IPC_PONG_QUIT)
			return 0;
		sys_notify_signal((uint32_t)thread_pong, 1);
	}
	(void)arg;
}

/* Two threads of one process ping-pong through two notifications: one
 * iteration is two thread switches (Linux: the futex ping-pong between two
 * threads). */
static void bench_thread_switch(long n)
{
	struct vrt_thread *t;
	int status;

	thread_ping = sys_notification_create();
	thread_pong = sys_notification_create();
	if (thread_ping < 0 || thread_pong < 0 || thread_start(&t, pong_thread, NULL) < 0) {
		printf("vbench: cannot start a thread\n");
		return;
	}
	uint64_t t0 = sys_clock(), c0 = rdtsc();
	for (long i = 0; i < n; i++) {
		sys_notify_signal((uint32_t)thread_ping, 1);
		sys_notify_wait((uint32_t)thread_pong, 0);
	}
	report("thread_ping_pong", n, sys_clock() - t0, rdtsc() - c0);
	sys_notify_signal((uint32_t)thread_ping, IPC_PONG_QUIT);
	thread_join(t, &status);
	sys_cap_delete((uint32_t)thread_ping);
	sys_cap_delete((uint32_t)thread_pong);
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
	wait_child(pid, &status);
	report(status == 0 ? "channel_entry_batch32" : "channel_FAILED", n, sys_clock() - t0,
	       rdtsc() - c0);
	channel_close(&ch);
}

/* Fresh zeroed 2 MiB made usable and written once per 4 KiB page, n
 * times: a 2 MiB-page object (zeroed at creation, one fault installs one
 * 2 MiB leaf) against a demand-zero object (512 faults, each zeroing and
 * mapping a 4 KiB page). Timed: create, map, the 512 writes; per 2 MiB. */
static void bench_2m_touch(long n, bool huge)
{
	volatile char *p = (volatile char *)(uintptr_t)(vrt_start_info->slot_base + FAULT_VA_OFF);
	const char *name = huge ? "huge_2m_touch" : "demand_zero_2m_touch";
	uint64_t t0 = sys_clock(), c0 = rdtsc();

	for (long i = 0; i < n; i++) {
		long h = huge ? vr_sys_mem_create_huge(FAULT_BATCH, (long)VR_MEM_PAGE_2M, 0, 0, 0)
			      : sys_mem_create(FAULT_BATCH);
		if (h < 0 || sys_mem_map((uint32_t)h, (void *)p, 0, FAULT_BATCH,
					 VR_PROT_READ | VR_PROT_WRITE)) {
			printf("vbench: %s: %s\n", name, vr_strerror(h < 0 ? h : VR_EINVAL));
			return;
		}
		for (long k = 0; k < FAULT_BATCH; k++)
			p[k * VR_PAGE_SIZE] = 1;
		sys_mem_unmap((void *)p, FAULT_BATCH);
		sys_cap_delete((uint32_t)h);
	}
	report(name, n, sys_clock() - t0, rdtsc() - c0);
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
	bench_ipc_words_buffer(n);
	bench_ipc_words_regs(n, 0);
	bench_ipc_words_regs(n, VR_MSG_REGS);
	bench_notify_ping_pong(n);
	bench_thread_switch(n);
	bench_channel(n * 10);
	bench_spawn_exit(n / 1000 > 0 ? n / 1000 : 1);
	bench_demand_zero_fault(n / 100 > 0 ? n / 100 : 1);
	bench_cow_fault(n / 100 > 0 ? n / 100 : 1);
	bench_2m_touch(n / 1000 > 0 ? n / 1000 : 1, true);
	bench_2m_touch(n / 1000 > 0 ? n / 1000 : 1, false);
	return 0;
}
