/*
 * The i8254 programmable interval timer of veridian-sim, channel 0 only
 * (ports 0x40 and 0x43; channels 1 and 2 read as all ones), raising
 * interrupt line 0 through sim/irq.c. It counts PIT_HZ ticks per second of
 * the machine's clock, so in virtual time its interrupts arrive at exact,
 * reproducible instants. Modes 0 (interrupt on terminal count), 2 (rate
 * generator) and 3 (square wave: an edge per period, as IRQ 0 sees it);
 * access modes lobyte, hibyte and lobyte/hibyte; the counter-latch
 * command. Reprogramming the mode stops the channel until a new count is
 * written, as on the hardware.
 */
#ifndef VERIDIAN_DRIVERS_SIM_PIT_H
#define VERIDIAN_DRIVERS_SIM_PIT_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_PIT_HZ 1193182ull
#define SIM_PIT_LINE 0u

/* Port access: true if `port` belongs to the PIT. */
bool sim_pit_in(uint16_t port, uint8_t *value);
bool sim_pit_out(uint16_t port, uint8_t value);

/* Raise line 0 for every period boundary passed up to `now` (at most one
 * edge: the line latches one). */
/* Is a channel counting (so that sim_pit_advance() has work)? */
bool sim_pit_running(void);

void sim_pit_advance(uint64_t now);

/* Clock value of the next edge, UINT64_MAX when the channel is idle. */
uint64_t sim_pit_next_edge(void);

#endif
