/*
 * The Linux equivalents of vbench's measurements, run on the same machine in
 * the same `make bench`: a null syscall (getppid), a pipe round trip between
 * two processes, a futex ping-pong between two threads, posix_spawn+wait of
 * a trivial program. Prints lines in vbench's format with the prefix
 * "linux:".
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

extern char **environ;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void report(const char *name, long n, uint64_t ns, uint64_t cycles)
{
	printf("linux: %s iterations=%ld ns_per_op=%.2f cycles_per_op=%.2f\n", name, n,
	       (double)ns / (double)n, (double)cycles / (double)n);
}

static void bench_getppid(long n)
{
	uint64_t t0 = now_ns(), c0 = __rdtsc();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	report("null_syscall_getppid", n, now_ns() - t0, __rdtsc() - c0);
}

static void bench_pipe(long n)
{
	int ab[2], ba[2];
	char c = 0;
	pid_t pid;

	if (pipe(ab) || pipe(ba))
		abort();
	pid = fork();
	if (pid == 0) {
		for (long i = 0; i < n; i++)
			if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	uint64_t t0 = now_ns(), c0 = __rdtsc();
	for (long i = 0; i < n; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			abort();
	report("pipe_round_trip", n, now_ns() - t0, __rdtsc() - c0);
	waitpid(pid, NULL, 0);
}

static atomic_int turn;
static long futex_n;

static void futex_wait(atomic_int *addr, int val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(atomic_int *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *ponger(void *arg)
{
	(void)arg;
	for (long i = 0; i < futex_n; i++) {
		while (atomic_load(&turn) != 1)
			futex_wait(&turn, 0);
		atomic_store(&turn, 0);
		futex_wake(&turn);
	}
	return NULL;
}

static void bench_futex(long n)
{
	pthread_t t;

	futex_n = n;
	atomic_store(&turn, 0);
	pthread_create(&t, NULL, ponger, NULL);
	uint64_t t0 = now_ns(), c0 = __rdtsc();
	for (long i = 0; i < n; i++) {
		atomic_store(&turn, 1);
		futex_wake(&turn);
		while (atomic_load(&turn) != 0)
			futex_wait(&turn, 1);
	}
	report("futex_ping_pong", n, now_ns() - t0, __rdtsc() - c0);
	pthread_join(t, NULL);
}

static void bench_spawn(long n)
{
	char *argv[] = { "true", NULL };
	uint64_t t0 = now_ns(), c0 = __rdtsc();

	for (long i = 0; i < n; i++) {
		pid_t pid;
		int st;
		if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) ||
		    waitpid(pid, &st, 0) != pid)
			abort();
	}
	report("spawn_exit", n, now_ns() - t0, __rdtsc() - c0);
}

/* The equivalents of vbench's fault benchmarks: a write to each page of
 * fresh anonymous memory (a demand-zero fault each), and a write to each
 * page of a private mapping of a populated memfd whose pages were first
 * read (a copy-on-write fault each). Only the writing loop is timed. */
#define FAULT_BATCH 512

static void bench_anon_fault(long n)
{
	uint64_t ns = 0, cycles = 0;
	long page = sysconf(_SC_PAGESIZE);

	for (long done = 0; done < n; done += FAULT_BATCH) {
		long pages = n - done < FAULT_BATCH ? n - done : FAULT_BATCH;
		volatile char *p = mmap(NULL, (size_t)(pages * page), PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t t0, c0;
		if (p == MAP_FAILED)
			abort();
		t0 = now_ns();
		c0 = __rdtsc();
		for (long i = 0; i < pages; i++)
			p[i * page] = 1;
		cycles += __rdtsc() - c0;
		ns += now_ns() - t0;
		munmap((void *)p, (size_t)(pages * page));
	}
	report("demand_zero_fault_anon", n, ns, cycles);
}

static void bench_cow_fault(long n)
{
	uint64_t ns = 0, cycles = 0;
	long page = sysconf(_SC_PAGESIZE);
	int fd = memfd_create("linux-bench", 0);

	if (fd < 0 || ftruncate(fd, FAULT_BATCH * page))
		abort();
	for (long done = 0; done < n; done += FAULT_BATCH) {
		long pages = n - done < FAULT_BATCH ? n - done : FAULT_BATCH;
		volatile char *p = mmap(NULL, (size_t)(pages * page), PROT_READ | PROT_WRITE,
					MAP_PRIVATE, fd, 0);
		uint64_t t0, c0;
		if (p == MAP_FAILED)
			abort();
		for (long i = 0; i < pages; i++)
			(void)p[i * page];
		t0 = now_ns();
		c0 = __rdtsc();
		for (long i = 0; i < pages; i++)
			p[i * page] = 2;
		cycles += __rdtsc() - c0;
		ns += now_ns() - t0;
		munmap((void *)p, (size_t)(pages * page));
	}
	close(fd);
	report("cow_fault_private_memfd", n, ns, cycles);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;

	if (n <= 0) {
		fprintf(stderr, "usage: linux-bench [iterations]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_getppid(n);
	bench_pipe(n / 10 > 0 ? n / 10 : 1);
	bench_futex(n / 10 > 0 ? n / 10 : 1);
	bench_spawn(n / 1000 > 0 ? n / 1000 : 1);
	bench_anon_fault(n / 100 > 0 ? n / 100 : 1);
	bench_cow_fault(n / 100 > 0 ? n / 100 : 1);
	return 0;
}
