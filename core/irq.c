/*
 * IRQ sources and I/O-port objects (the model and state machine are in
 * irq.h and docs/irq.md).
 *
 * Invariants (irq_check, irq_check_all; cited by the assertions):
 *  1. A line object has line < VR_IRQ_LINES and is lines[line]; every
 *     non-NULL lines[i] has line i. The control object has line
 *     IRQ_LINE_CONTROL, state UNBOUND and is in no lines[] entry.
 *  2. state == UNBOUND <=> ntfn == VR_CAP_INVALID <=> bits == 0.
 *  3. The line is unmasked (masked[line] false) exactly when state is
 *     ARMED; core mirrors here what it asked of the HAL.
 *  4. A bound object's ntfn either names a notification with WRITE in
 *     irq_cs, or is stale or empty because the driver revoked or deleted
 *     its own capability; the next interrupt then unbinds (irq_fire()).
 *  5. irq_cs holds only capabilities to notifications, at most one per
 *     bound line.
 *
 * The kernel runs on one CPU with interrupts off, so kernel_irq() never
 * races a syscall on these objects.
 */
#include "veridian/irq.h"
#include "veridian/hal.h"
#include "veridian/ipc.h"
#include "veridian/kheap.h"
#include "veridian/proc.h"
#include "veridian/quota.h"

#define INIT_PID 1 /* the first process spawned */

static struct irq *lines[VR_IRQ_LINES];
static bool masked[VR_IRQ_LINES];
static struct cspace *irq_cs; /* the kernel's capabilities to bound notifications */
static struct irq *boot_control;
static struct ioport *boot_ioports;

struct irq *irq_line_owner(unsigned line)
{
	return line < VR_IRQ_LINES ? lines[line] : NULL;
}

static void line_mask(unsigned line)
{
	masked[line] = true;
	hal_irq_mask(line);
}

static void line_unmask(unsigned line)
{
	masked[line] = false;
	hal_irq_unmask(line);
}

/* Drop the binding: mask, and delete the kernel's capability (which may
 * destroy the notification if the driver has deleted its own). */
static void unbind(struct irq *q)
{
	cap_handle_t h = q->ntfn;

	line_mask(q->line);
	q->state = IRQ_UNBOUND;
	q->ntfn = VR_CAP_INVALID;
	q->bits = 0;
	if (h != VR_CAP_INVALID)
		(void)cap_delete(irq_cs, h); /* already gone after a revoke: nothing to do */
}

static void irq_destroy(struct kobj *obj)
{
	struct irq *q = container_of(obj, struct irq, obj);

	if (q->line != IRQ_LINE_CONTROL) {
		KASSERT(lines[q->line] == q); /* invariant 1 */
		unbind(q);
		lines[q->line] = NULL;
	}
	if (q == boot_control)
		boot_control = NULL;
	kobj_release_charge(&q->obj);
	kfree(q);
	KCHECK(irq_check_all());
}

static void ioport_destroy(struct kobj *obj)
{
	struct ioport *io = container_of(obj, struct ioport, obj);

	if (io == boot_ioports)
		boot_ioports = NULL;
	kobj_release_charge(&io->obj);
	kfree(io);
}

void irq_obj_discard(struct kobj *obj)
{
	KASSERT(obj->ncaps == 0);
	if (obj->type == KOBJ_IRQ)
		irq_destroy(obj);
	else
		ioport_destroy(obj);
}

void irq_init(void)
{
	kobj_register_type(KOBJ_IRQ, irq_destroy);
	kobj_register_type(KOBJ_IOPORT, ioport_destroy);
	for (unsigned i = 0; i < VR_IRQ_LINES; i++) {
		masked[i] = true;
		hal_irq_mask(i);
	}
	irq_cs = cspace_create(VR_IRQ_LINES);
	boot_control = kzalloc(sizeof(*boot_control));
	boot_ioports = ioport_create(0, VR_IO_PORTS);
	if (!irq_cs || !boot_control || !boot_ioports)
		KPANIC("irq_init: out of memory");
	boot_control->obj.type = KOBJ_IRQ;
	boot_control->line = IRQ_LINE_CONTROL;
	boot_control->ntfn = VR_CAP_INVALID;
	KCHECK(irq_check(boot_control));
}

void irq_give_init_caps(void)
{
	struct thread *init = sched_find_pid(INIT_PID);
	struct cspace *init_cs;
	cap_handle_t h1, h2;

	KASSERT(boot_control && boot_ioports && init && init->proc);
	init_cs = init->proc->cs;
	if (cap_insert(init_cs, &boot_control->obj, CAP_RIGHTS_ALL, 0, &h1) ||
	    cap_insert(init_cs, &boot_ioports->obj, CAP_RIGHTS_ALL, 0, &h2))
		KPANIC("cannot give init its device capabilities");
	KASSERT(h1 == VR_DEVCAP_IRQ_CONTROL && h2 == VR_DEVCAP_IOPORTS);
}

struct irq *irq_claim(unsigned line)
{
	struct irq *q;

	KASSERT(line < VR_IRQ_LINES && !lines[line]);
	q = kzalloc(sizeof(*q));
	if (!q)
		return NULL;
	q->obj.type = KOBJ_IRQ;
	q->line = line;
	q->state = IRQ_UNBOUND;
	q->ntfn = VR_CAP_INVALID;
	lines[line] = q;
	line_mask(line);
	KCHECK(irq_check(q));
	return q;
}

void irq_bind(struct irq *q, struct cspace *cs, cap_handle_t n, uint64_t bits)
{
	cap_handle_t h;
	int err;

	KASSERT(q->line < VR_IRQ_LINES);
	if (n == VR_CAP_INVALID) {
		unbind(q);
		KCHECK(irq_check(q));
		return;
	}
	/* Derive the new capability before dropping the old one: rebinding to
	 * the same notification must not destroy it in between. irq_cs has a
	 * slot per line, so there is always room (invariant 5). */
	err = cap_mint(cs, n, irq_cs, CAP_WRITE, 0, CAP_NO_EXPIRY, hal_clock_ns(), &h);
	KASSERT(err == VR_OK);
	unbind(q);
	q->ntfn = h;
	q->bits = bits;
	q->state = IRQ_ARMED;
	line_unmask(q->line);
	KCHECK(irq_check(q));
}

void irq_ack(struct irq *q)
{
	KASSERT(q->state != IRQ_UNBOUND); /* decoded by sys_irq_ack */
	if (q->state == IRQ_PENDING) {
		q->state = IRQ_ARMED;
		line_unmask(q->line);
	}
	KCHECK(irq_check(q));
}

/* The line of q fired while ARMED: signal its notification, or unbind if
 * the kernel's capability to it has gone (invariant 4). */
static void irq_fire(struct irq *q)
{
	struct cap *c;

	if (cap_lookup(irq_cs, q->ntfn, KOBJ_NOTIFICATION, CAP_WRITE, hal_clock_ns(), &c)) {
		unbind(q);
		return;
	}
	q->state = IRQ_PENDING;
	q->fired++;
	masked[q->line] = true; /* the host masked it (hal.h: kernel_irq) */
	notify_signal(container_of(c->obj, struct notification, obj), q->bits);
}

void kernel_irq(unsigned line)
{
	struct irq *q = irq_line_owner(line);

	/* The host masked the line. An interrupt on a line nobody armed (a
	 * latched edge raced a mask) is dropped: the line stays masked. */
	if (!q || q->state != IRQ_ARMED) {
		if (line < VR_IRQ_LINES)
			masked[line] = true;
		return;
	}
	irq_fire(q);
	KCHECK(irq_check(q));
}

struct ioport *ioport_create(uint32_t base, uint32_t count)
{
	struct ioport *io;

	KASSERT(count >= 1 && count <= VR_IO_PORTS && base <= VR_IO_PORTS - count);
	io = kzalloc(sizeof(*io));
	if (!io)
		return NULL;
	io->obj.type = KOBJ_IOPORT;
	io->base = base;
	io->count = count;
	KCHECK(ioport_check(io));
	return io;
}

/* ---- Invariants ---- */

bool irq_check(const struct irq *q)
{
	bool unbound = q->state == IRQ_UNBOUND;
	struct cap *c;

	if (q->obj.type != KOBJ_IRQ)
		return false;
	if (q->line == IRQ_LINE_CONTROL) /* 1 */
		return unbound && q->ntfn == VR_CAP_INVALID && q->bits == 0;
	if (q->line >= VR_IRQ_LINES || lines[q->line] != q) /* 1 */
		return false;
	if (q->state > IRQ_PENDING || unbound != (q->ntfn == VR_CAP_INVALID) ||
	    unbound != (q->bits == 0)) /* 2 */
		return false;
	if (masked[q->line] != (q->state != IRQ_ARMED)) /* 3 */
		return false;
	/* 4: a live capability names a notification */
	if (!unbound && cap_lookup(irq_cs, q->ntfn, KOBJ_NONE, 0, 0, &c) == VR_OK &&
	    (c->obj->type != KOBJ_NOTIFICATION || !(c->rights & CAP_WRITE)))
		return false;
	return true;
}

bool ioport_check(const struct ioport *io)
{
	return io->obj.type == KOBJ_IOPORT && io->count >= 1 && io->count <= VR_IO_PORTS &&
	       io->base <= VR_IO_PORTS - io->count;
}

bool irq_check_all(void)
{
	uint32_t used = 0;

	for (unsigned i = 0; i < VR_IRQ_LINES; i++)
		if (lines[i] && !irq_check(lines[i]))
			return false;
	if (!irq_cs)
		return true;
	for (uint32_t i = 0; i < irq_cs->nslots; i++) {
		const struct cap *c = &irq_cs->slots[i].cap;

		if (!c->obj)
			continue;
		if (c->obj->type != KOBJ_NOTIFICATION) /* 5 */
			return false;
		used++;
	}
	return used <= VR_IRQ_LINES && cspace_check(irq_cs);
}
