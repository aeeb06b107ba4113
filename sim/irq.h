/*
 * veridian-sim's interrupt controller and I/O-port bus (sim/irq.c): the
 * HAL's interrupt lines and port I/O, on the simulator thread.
 *
 * A line behaves like an edge-triggered IOAPIC pin (82093AA): an edge
 * raised while the line is masked is dropped; one raised while it is
 * unmasked is pending until the next interrupt point (sim_irq_poll()),
 * which masks the line and calls kernel_irq(). Device models compute
 * their edges from the clock lazily: sim_irq_poll() and an unmask first
 * bring every device up to hal_clock_ns().
 */
#ifndef VERIDIAN_SIM_IRQ_H
#define VERIDIAN_SIM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

/* A device raises an edge on `line` (dropped if the line is masked). */
void sim_irq_raise(unsigned line);

/* Whether an unmasked line has an edge waiting for delivery. */
bool sim_irq_pending(void);

/* Bring the devices up to the current time, then deliver every pending
 * line through kernel_irq(). Kernel context (the idle thread, or an
 * interrupt point on a kernel stack). Returns whether any was delivered. */
bool sim_irq_poll(void);

/* Virtual time: the earliest clock value at which a device will raise an
 * unmasked line (UINT64_MAX: none), so that hal_idle() can jump there. */
uint64_t sim_irq_next_event(void);

/* Called by a device model whenever its next event time may have
 * changed: in real time, (re)arms the libuv timer that wakes hal_idle(). */
void sim_irq_reschedule(void);

#endif
