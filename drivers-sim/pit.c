/*
 * The i8254 model (pit.h). Time is the machine clock (hal_clock_ns()), so
 * the same model serves virtual and real time; edges are computed from
 * the clock when asked (sim_pit_advance()), never by a host timer of its
 * own.
 *
 * Edge n (n >= 1) of a running channel is at start + ceil(n * reload *
 * 1e9 / SIM_PIT_HZ) ns; `edges` counts those already raised.
 */
#include "drivers-sim/pit.h"

#include <veridian/hal.h>

#include "sim/irq.h"

#define PIT_PORT_CH0 0x40
#define PIT_PORT_CMD 0x43
#define NS_PER_S 1000000000ull

static struct {
	unsigned mode;      /* 0, 2 or 3 */
	unsigned access;    /* 1 lobyte, 2 hibyte, 3 lobyte then hibyte */
	uint32_t reload;    /* 1..65536 (a written 0 means 65536) */
	bool running;       /* counting since start */
	uint64_t start;     /* clock value the count was loaded */
	uint64_t edges;     /* edges raised since start */
	bool write_hi_next; /* access 3: the low byte was written */
	uint8_t write_lo;
	bool latched; /* counter-latch command: a frozen count to read */
	uint16_t latch;
	bool read_hi_next; /* access 3: the low byte was read */
} pit = { .mode = 2, .access = 3, .reload = 65536 };

static uint64_t edge_time(uint64_t n)
{
	unsigned __int128 x = (unsigned __int128)n * pit.reload * NS_PER_S;

	return pit.start + (uint64_t)((x + SIM_PIT_HZ - 1) / SIM_PIT_HZ);
}

/* Whole periods elapsed by `now`. */
static uint64_t periods_at(uint64_t now)
{
	unsigned __int128 ticks = (unsigned __int128)(now - pit.start) * SIM_PIT_HZ;

	return (uint64_t)(ticks / ((unsigned __int128)pit.reload * NS_PER_S));
}

uint64_t sim_pit_next_edge(void)
{
	return pit.running ? edge_time(pit.edges + 1) : UINT64_MAX;
}

bool sim_pit_running(void)
{
	return pit.running;
}

void sim_pit_advance(uint64_t now)
{
	uint64_t n;

	if (!pit.running || now < edge_time(pit.edges + 1))
		return;
	n = periods_at(now);
	if (pit.mode == 0) {
		pit.running = false; /* terminal count: the output stays high */
	} else {
		pit.edges = n;
	}
	sim_irq_raise(SIM_PIT_LINE);
}

/* The count the channel shows now (what a latch freezes). */
static uint16_t current_count(void)
{
	uint64_t ticks;

	if (!pit.running)
		return (uint16_t)pit.reload;
	ticks = (uint64_t)((unsigned __int128)(hal_clock_ns() - pit.start) * SIM_PIT_HZ / NS_PER_S);
	if (pit.mode == 0)
		return (uint16_t)(pit.reload - ticks);
	return (uint16_t)(pit.reload - ticks % pit.reload);
}

static void load(uint32_t count)
{
	sim_pit_advance(hal_clock_ns()); /* edges of the old count first */
	pit.reload = count ? count : 65536;
	pit.start = hal_clock_ns();
	pit.edges = 0;
	pit.running = true;
	sim_irq_reschedule();
}

static void write_command(uint8_t v)
{
	unsigned access = (v >> 4) & 3, mode = (v >> 1) & 7;

	if (v >> 6)
		return; /* channels 1, 2 and read-back: not modelled */
	if (access == 0) {
		if (!pit.latched) {
			pit.latch = current_count();
			pit.latched = true;
			pit.read_hi_next = false;
		}
		return;
	}
	sim_pit_advance(hal_clock_ns());
	pit.access = access;
	pit.mode = mode >= 6 ? mode - 4 : mode;
	if (pit.mode != 0 && pit.mode != 2 && pit.mode != 3)
		pit.mode = 2; /* modes 1, 4, 5 need a gate or give no periodic IRQ */
	pit.running = false;
	pit.write_hi_next = false;
	pit.read_hi_next = false;
	sim_irq_reschedule();
}

static void write_data(uint8_t v)
{
	switch (pit.access) {
	case 1:
		load(v);
		break;
	case 2:
		load((uint32_t)v << 8);
		break;
	default:
		if (!pit.write_hi_next) {
			pit.write_lo = v;
			pit.write_hi_next = true;
			break;
		}
		pit.write_hi_next = false;
		load(pit.write_lo | (uint32_t)v << 8);
		break;
	}
}

static uint8_t read_data(void)
{
	uint16_t c = pit.latched ? pit.latch : current_count();
	bool hi = pit.access == 2 || (pit.access == 3 && pit.read_hi_next);

	if (pit.access == 3)
		pit.read_hi_next = !pit.read_hi_next;
	if (pit.access != 3 || !pit.read_hi_next)
		pit.latched = false; /* the whole latched value has been read */
	return hi ? (uint8_t)(c >> 8) : (uint8_t)c;
}

bool sim_pit_in(uint16_t port, uint8_t *value)
{
	if (port == PIT_PORT_CH0) {
		*value = read_data();
		return true;
	}
	if (port == PIT_PORT_CMD) {
		*value = 0xff; /* write-only */
		return true;
	}
	return false;
}

bool sim_pit_out(uint16_t port, uint8_t value)
{
	if (port == PIT_PORT_CH0) {
		write_data(value);
		return true;
	}
	if (port == PIT_PORT_CMD) {
		write_command(value);
		return true;
	}
	return false;
}
