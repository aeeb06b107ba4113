/*
 * init: the first process. Starts the shell and keeps one running: when it
 * exits, init says so and starts another. It also reaps any other child it
 * inherits (wait(-1)), so orphans do not stay zombies. Powers the machine
 * off if the shell cannot be started, or keeps dying from faults, since
 * nobody could type at it then.
 */
#include "vrt.h"

#define SHELL_PATH "bin/sh"
#define SHELL_ARGS "sh"
#define MAX_FAULTS_IN_A_ROW 3

/* Returns the shell's pid; powers off (does not return) if it cannot spawn.
 * init keeps no capability to it: it only waits (for any child). */
static long start_shell(void)
{
	/* The shell gets the kernel's device capabilities at the same handles
	 * and hands them to `dev PROGRAM` only (docs/irq.md). */
	static const struct vr_spawn_caps dev = {
		.count = 2, .handles = { VR_DEVCAP_IRQ_CONTROL, VR_DEVCAP_IOPORTS }
	};
	long child = sys_spawn_caps(SHELL_PATH, sizeof(SHELL_PATH) - 1, SHELL_ARGS,
				    sizeof(SHELL_ARGS) - 1, &dev);
	long pid = child < 0 ? child : process_pid((uint32_t)child);

	if (pid < 0) {
		printf("init: cannot start %s: %s; powering off\n", SHELL_PATH, vr_strerror(pid));
		sys_poweroff(1);
		printf("init: poweroff failed; halting here\n");
		for (;;)
			sys_sleep(1000000000ull);
	}
	sys_cap_delete((uint32_t)child);
	return pid;
}

int main(int argc, char **argv)
{
	int faults = 0;
	long shell;

	(void)argc;
	(void)argv;
	printf("Veridian init (pid %ld): starting %s\n", sys_getpid(), SHELL_PATH);
	shell = start_shell();
	for (;;) {
		int status = 0;
		long pid = sys_wait(-1, &status);

		if (pid >= 0 && pid != shell)
			continue; /* an inherited orphan, now reaped */
		if (pid < 0)
			printf("init: wait: %s; restarting the shell\n", vr_strerror(pid));
		else
			printf("init: shell (pid %ld) exited with status %d; restarting it\n", pid,
			       status);
		faults = status == VR_EXIT_FAULT ? faults + 1 : 0;
		if (faults >= MAX_FAULTS_IN_A_ROW) {
			printf("init: the shell faulted %d times in a row; powering off\n", faults);
			sys_poweroff(1);
		}
		shell = start_shell();
	}
}
