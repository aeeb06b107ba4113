/*
 * The small HAL hooks of veridian-sim: identification, console output,
 * the idle wait, power off and panic.
 */
#include <stdio.h>
#include <stdlib.h>

#include "drivers-sim/console.h"
#include "host/linux/cpu.h"
#include "sim/irq.h"
#include "sim/sim.h"

/* Exit status when scripted input ran out while the machine waits for it. */
#define SIM_EXIT_INPUT_EXHAUSTED 3

const char *hal_build_name(void)
{
	return "veridian-sim";
}

const char *hal_hypervisor_name(void)
{
	return "linux-host";
}

void hal_console_write(const char *buf, size_t len)
{
	sim_console_write(buf, len);
}

/* The kernel of veridian-sim is not reached through these tables (it runs
 * in the host's own address space, and user slots are mirrored by
 * sim/mmu.c), so a new space needs no kernel entries. */
void hal_vm_space_init(uint64_t *pml4)
{
	(void)pml4;
}

void sim_host_restore_terminal(void)
{
	sim_console_restore();
}

noreturn void hal_poweroff(int status)
{
	sim_console_restore();
	fflush(stdout);
	fflush(stderr);
	exit(status);
}

noreturn void hal_panic_halt(void)
{
	sim_console_restore();
	fflush(stdout);
	fflush(stderr);
	abort();
}

static noreturn void input_exhausted(void)
{
	fprintf(stderr,
		"veridian-sim: the input script is exhausted and the machine is idle "
		"with no timer pending; exiting with status %d (end scripts with poweroff)\n",
		SIM_EXIT_INPUT_EXHAUSTED);
	hal_poweroff(SIM_EXIT_INPUT_EXHAUSTED);
}

/* Virtual time: events happen in a fixed order (due timer, scripted line,
 * typed input, then a jump to the next deadline), never by the host clock. */
static void idle_virtual(void)
{
	if (sim_console_interactive()) {
		unsigned long before = sim_console_reads();

		uv_run(sim_loop(), UV_RUN_NOWAIT);
		if (sim_console_reads() != before)
			return;
	}
	if (sim_irq_next_event() < sim_timer_deadline()) {
		sim_clock_advance(sim_irq_next_event() - hal_clock_ns()); /* a device edge first */
		sim_irq_poll();
		return;
	}
	if (sim_timer_deadline() != UINT64_MAX) {
		sim_clock_jump_to_deadline();
		sim_timer_fire_due();
		return;
	}
	if (!sim_console_interactive())
		input_exhausted();
	uv_run(sim_loop(), UV_RUN_ONCE);
}

void hal_idle(void)
{
	sim_cpu.irq_pending = 0;
	if (sim_timer_fire_due() || sim_console_deliver_line() || sim_irq_poll())
		return;
	if (sim_clock_virtual()) {
		idle_virtual();
		return;
	}
	if (!sim_console_interactive() && sim_timer_deadline() == UINT64_MAX &&
	    sim_irq_next_event() == UINT64_MAX)
		input_exhausted();
	uv_run(sim_loop(), UV_RUN_ONCE);
}
