/*
 * hello-syscalls: how a Veridian program talks to the kernel.
 *
 * Read this first. A user program is an ordinary C file with a main(); it
 * includes only "vrt.h" (the runtime, services/runtime/), which in turn
 * includes <veridian/abi.h>, the one kernel header user space may see. Run
 * it from the shell as `example`, with or without arguments.
 *
 * What happens before main():
 *   1. The kernel maps this ELF file at an address of its choosing (every
 *      process has its own 4 GiB slot), maps a trap page and a read-only
 *      start page, and jumps to _start with a struct vr_start_info * in rdi.
 *   2. _start (services/runtime/start.c) checks the magic, keeps the trap
 *      entry address, applies its own relocations (the program is a
 *      static-pie: no dynamic linker runs), then calls main(argc, argv).
 *   3. When main returns, _start calls the exit syscall with its value.
 */
#include "vrt.h"

/*
 * Step 1, the raw way: every syscall is a call of the kernel's trap entry
 * with a number from abi.h and up to five arguments. The runtime generates
 * one stub per syscall (vr_sys_NAME) from the VR_SYSCALLS list in abi.h;
 * vr_syscall() is the layer below them.
 */
static void raw_write(void)
{
	static const char msg[] = "1. console_write through vr_syscall()\n";
	long r = vr_syscall(VR_SYS_console_write, (long)msg, sizeof(msg) - 1, 0, 0, 0);

	/* Errors come back as negative enum vr_error values. */
	if (r < 0)
		printf("console_write failed: %s\n", vr_strerror(r));
}

/* Step 2, the usual way: typed wrappers (sys_NAME) and printf. */
static void typed_calls(int argc, char **argv)
{
	struct vr_uname u;
	uint64_t t0, t1;
	long r;

	printf("2. I am pid %ld, started with %d argument(s):", sys_getpid(), argc);
	for (int i = 0; i < argc; i++)
		printf(" [%s]", argv[i]);
	printf("\n");

	/* Structures are copied out by the kernel into our memory. */
	r = sys_uname(&u);
	if (r == 0)
		printf("3. running on %.16s %.16s (%.16s)\n", u.sysname, u.version, u.build);

	/* The kernel clock counts nanoseconds since boot. */
	t0 = sys_clock();
	sys_sleep(1000000); /* 1 ms */
	t1 = sys_clock();
	printf("4. slept; the clock advanced by %lu us\n", (unsigned long)((t1 - t0) / 1000));
}

/* Step 3: start another program and wait for its exit status. */
static void spawn_child(void)
{
	int status = -1;
	long child = spawn("bin/true", "true"); /* a capability to the new process */
	long pid;

	if (child < 0) {
		printf("5. spawn bin/true: %s\n", vr_strerror(child));
		return;
	}
	pid = sys_wait(child, &status);
	printf("5. child %ld (bin/true) exited with status %d\n", pid, status);
	sys_cap_delete((uint32_t)child);
}

int main(int argc, char **argv)
{
	raw_write();
	typed_calls(argc, argv);
	spawn_child();
	return 0; /* becomes the exit status */
}
