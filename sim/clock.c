/*
 * The machine's clock and timer.
 *
 * Virtual time (the default for tests): the clock is a counter that moves
 * only when the machine has nothing else to do. hal_idle() jumps it to the
 * armed deadline; a watchdog preemption charges a spinning thread a time
 * slice. Nothing here reads the host clock, so a seed and an input script
 * reproduce a run byte for byte, however loaded the host is.
 *
 * Real time: the clock is uv_hrtime() since boot and the timer a libuv
 * timer, serviced when the kernel idles (uv_run) or on the periodic host
 * tick (trap.c).
 *
 * The next event of the machine is the earlier of the armed deadline and
 * the next console input; hal_idle() (host/linux) chooses between them.
 */
#include "sim/sim.h"

static struct {
	enum sim_time_mode mode;
	uv_loop_t loop;
	uv_timer_t timer;  /* real time only */
	uint64_t boot_ns;  /* real time: uv_hrtime() at boot */
	uint64_t now;      /* virtual time */
	uint64_t deadline; /* UINT64_MAX: disarmed */
} clk = { .deadline = UINT64_MAX };

uv_loop_t *sim_loop(void)
{
	return &clk.loop;
}

bool sim_clock_virtual(void)
{
	return clk.mode == SIM_TIME_VIRTUAL;
}

uint64_t hal_clock_ns(void)
{
	if (clk.mode == SIM_TIME_VIRTUAL)
		return clk.now;
	return uv_hrtime() - clk.boot_ns;
}

uint64_t sim_timer_deadline(void)
{
	return clk.deadline;
}

void sim_clock_advance(uint64_t ns)
{
	clk.now += ns;
}

void sim_clock_jump_to_deadline(void)
{
	if (clk.deadline != UINT64_MAX && clk.deadline > clk.now)
		clk.now = clk.deadline;
}

bool sim_timer_fire_due(void)
{
	if (clk.deadline == UINT64_MAX || hal_clock_ns() < clk.deadline)
		return false;
	clk.deadline = UINT64_MAX;
	if (clk.mode == SIM_TIME_REAL)
		uv_timer_stop(&clk.timer);
	kernel_timer_expired();
	return true;
}

/* Start the libuv timer for the armed deadline, rounded up to whole
 * milliseconds (libuv's resolution) so it never fires early. */
static void real_timer_start(void);

static void on_real_timer(uv_timer_t *t)
{
	(void)t;
	if (!sim_timer_fire_due() && clk.deadline != UINT64_MAX)
		real_timer_start(); /* the loop's cached time ran ahead of hrtime */
}

static void real_timer_start(void)
{
	uint64_t now = hal_clock_ns();
	uint64_t ms = clk.deadline > now ? (clk.deadline - now + 999999) / 1000000 : 0;

	uv_update_time(&clk.loop);
	uv_timer_start(&clk.timer, on_real_timer, ms ? ms : 1, 0);
}

void hal_timer_arm(uint64_t deadline_ns)
{
	clk.deadline = deadline_ns;
	if (clk.mode == SIM_TIME_VIRTUAL)
		return;
	if (deadline_ns == UINT64_MAX)
		uv_timer_stop(&clk.timer);
	else
		real_timer_start();
}

void sim_clock_init(enum sim_time_mode mode)
{
	clk.mode = mode;
	uv_loop_init(&clk.loop);
	uv_timer_init(&clk.loop, &clk.timer);
	clk.boot_ns = uv_hrtime();
}
