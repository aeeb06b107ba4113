/*
 * IRQ sources and I/O ports: the capabilities through which a user-space
 * driver owns an interrupt line and talks to its device (docs/irq.md).
 *
 * Authority follows seL4's IRQControl: at boot the kernel makes one IRQ
 * control object and one I/O-port object spanning every port, and gives
 * init a capability to each (VR_DEVCAP_IRQ_CONTROL, VR_DEVCAP_IOPORTS).
 * Whoever holds the control claims a line (irq_claim: one IRQ object per
 * line, VR_EBUSY while it exists); whoever holds an I/O-port capability
 * derives narrower ones (ioport_create) and does port I/O through it
 * (ioport_io). Both object types are kobj_type values: the control is a
 * KOBJ_IRQ whose line is IRQ_LINE_CONTROL.
 *
 * A claimed line's state machine (the functions behind each transition):
 *
 *            irq_bind(n)                   kernel_irq(line)
 *   UNBOUND ------------> ARMED (unmasked) ----------------> PENDING (masked,
 *      ^                    ^                                 n signalled)
 *      |                    +------------ irq_ack() ---------------+
 *      +-- irq_bind(none), or the kernel's capability to n found gone --+
 *
 * Deleting the last capability to the IRQ object masks the line, drops the
 * binding and frees the line for the next irq_claim.
 */
#ifndef VERIDIAN_IRQ_H
#define VERIDIAN_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "veridian/cap.h"

#define IRQ_LINE_CONTROL UINT32_MAX /* struct irq.line of the IRQ control object */

enum irq_state {
	IRQ_UNBOUND = 0, /* masked, no notification */
	IRQ_ARMED,       /* unmasked, bound: the next interrupt signals */
	IRQ_PENDING,     /* masked after an interrupt, until irq_ack() */
};

struct irq {
	struct kobj obj; /* KOBJ_IRQ */
	uint32_t line;   /* 0..VR_IRQ_LINES-1, or IRQ_LINE_CONTROL */
	enum irq_state state;
	/* The kernel's own capability to the bound notification (WRITE
	 * only), derived from the driver's and kept in the kernel's IRQ
	 * cspace, so the notification lives while bound and a revoke of the
	 * driver's capability also ends the binding. VR_CAP_INVALID when
	 * UNBOUND. */
	cap_handle_t ntfn;
	uint64_t bits;  /* signalled on each interrupt; non-zero when bound */
	uint64_t fired; /* interrupts delivered (diagnostics) */
};

struct ioport {
	struct kobj obj; /* KOBJ_IOPORT */
	uint32_t base;   /* first port */
	uint32_t count;  /* 1..VR_IO_PORTS; base + count <= VR_IO_PORTS */
};

/* Register the destroy callbacks and create the IRQ cspace and the two
 * boot objects. After ipc_init(). */
void irq_init(void);

/* Give init (pid 1, spawned but not yet run) its device capabilities at
 * handles VR_DEVCAP_IRQ_CONTROL and VR_DEVCAP_IOPORTS. Panics on failure:
 * the system has no other way to reach its devices. */
void irq_give_init_caps(void);

/* The IRQ object owning `line`, or NULL if it is not claimed. */
struct irq *irq_line_owner(unsigned line);

/* ---- Invocations: arguments decoded by core/syscall_irq.c ---- */

/* A new IRQ object for `line` (< VR_IRQ_LINES, available, unclaimed),
 * masked and unbound. NULL on ENOMEM. */
struct irq *irq_claim(unsigned line);

/* Bind q to the notification named by handle n of cs (decoded: WRITE and
 * DELEGATE) with `bits` (non-zero, below 2^63), replacing any earlier
 * binding; the line is unmasked. n == VR_CAP_INVALID unbinds and masks. */
void irq_bind(struct irq *q, struct cspace *cs, cap_handle_t n, uint64_t bits);

/* q is bound: a PENDING line goes back to ARMED and is unmasked; ARMED
 * stays as it is. */
void irq_ack(struct irq *q);

/* A new I/O-port object for [base, base+count) (checked by the caller
 * against the source capability). NULL on ENOMEM. */
struct ioport *ioport_create(uint32_t base, uint32_t count);

/* Free an IRQ or I/O-port object that no capability names yet (a failed
 * install): as if its last capability had gone. */
void irq_obj_discard(struct kobj *obj);

/* The invariants of an IRQ object (see irq.c), and of an I/O-port object:
 * a non-empty range inside the port space. */
bool irq_check(const struct irq *q);
bool ioport_check(const struct ioport *io);

/* Every claimed line and the IRQ cspace. */
bool irq_check_all(void);

#endif
