/*
 * The interrupt controller and I/O-port bus of veridian-sim (sim/irq.h):
 * implements the HAL's "Interrupt lines and I/O ports" section.
 *
 * Only line 0 exists (the PIT of drivers-sim/pit.c). Lines start masked.
 * Real time: a libuv timer wakes hal_idle() at the next device edge;
 * virtual time: hal_idle() jumps the clock there (sim_irq_next_event()).
 */
#include "sim/irq.h"

#include "drivers-sim/pit.h"
#include "sim/sim.h"

static struct {
	uint32_t masked;  /* bit per line */
	uint32_t pending; /* edges raised on unmasked lines, not yet delivered */
	uv_timer_t timer; /* real time: wakes the idle loop at the next edge */
	bool timer_ready;
} irq = { .masked = ~0u };

/* The devices' edges up to now. Edges on masked lines are dropped. */
/* Raise the lines of devices whose events are due. Called after every
 * syscall: the clock is read only while a device is running (reading it
 * costs a host clock_gettime in real time, which doubled a null syscall). */
static void advance_devices(void)
{
	if (sim_pit_running())
		sim_pit_advance(hal_clock_ns());
}

bool hal_irq_available(unsigned line)
{
	return line == SIM_PIT_LINE;
}

void hal_irq_mask(unsigned line)
{
	if (line >= VR_IRQ_LINES)
		return;
	irq.masked |= 1u << line;
	irq.pending &= ~(1u << line);
}

void hal_irq_unmask(unsigned line)
{
	if (line >= VR_IRQ_LINES)
		return;
	advance_devices(); /* edges of the masked past are lost, as on an IOAPIC */
	irq.masked &= ~(1u << line);
	sim_irq_reschedule();
}

void sim_irq_raise(unsigned line)
{
	if (line < VR_IRQ_LINES && !(irq.masked & 1u << line))
		irq.pending |= 1u << line;
}

bool sim_irq_pending(void)
{
	advance_devices();
	return irq.pending != 0;
}

bool sim_irq_poll(void)
{
	bool delivered = false;

	advance_devices();
	while (irq.pending) {
		unsigned line = (unsigned)__builtin_ctz(irq.pending);

		irq.pending &= ~(1u << line);
		irq.masked |= 1u << line; /* hal.h: kernel_irq() finds it masked */
		kernel_irq(line);
		delivered = true;
	}
	sim_irq_reschedule();
	return delivered;
}

uint64_t sim_irq_next_event(void)
{
	if (irq.masked & 1u << SIM_PIT_LINE)
		return UINT64_MAX;
	return sim_pit_next_edge();
}

static void on_timer(uv_timer_t *t)
{
	(void)t; /* waking uv_run() is enough: hal_idle() polls the lines */
}

void sim_irq_reschedule(void)
{
	uint64_t next, now;

	if (sim_clock_virtual())
		return;
	if (!irq.timer_ready) {
		uv_timer_init(sim_loop(), &irq.timer);
		irq.timer_ready = true;
	}
	next = sim_irq_next_event();
	if (next == UINT64_MAX) {
		uv_timer_stop(&irq.timer);
		return;
	}
	now = hal_clock_ns();
	uv_update_time(sim_loop());
	uv_timer_start(&irq.timer, on_timer, next > now ? (next - now + 999999) / 1000000 : 0, 0);
}

/* ---- Port I/O: byte by byte to the device models ---- */

uint32_t hal_ioport_in(uint16_t port, unsigned width)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < width; i++) {
		uint8_t b = 0xff; /* nothing decodes the port: the bus floats high */

		sim_pit_in((uint16_t)(port + i), &b);
		v |= (uint32_t)b << (8 * i);
	}
	return v;
}

void hal_ioport_out(uint16_t port, unsigned width, uint32_t value)
{
	for (unsigned i = 0; i < width; i++)
		sim_pit_out((uint16_t)(port + i), (uint8_t)(value >> (8 * i)));
}

/* The ports veridian.elf keeps for itself on a PC (the PICs, COM1, the
 * isa-debug-exit port), reserved here too so that drivers and their tests
 * see the same rules in both builds. */
bool hal_ioport_reserved(uint16_t port)
{
	return (port >= 0x20 && port <= 0x21) || (port >= 0xa0 && port <= 0xa1) ||
	       (port >= 0xf4 && port <= 0xf7) || (port >= 0x3f8 && port <= 0x3ff);
}
