/*
 * Syscalls of IRQ sources and I/O ports (55-59). Each decoder checks every
 * argument and every right first; the invocation in irq.c cannot fail
 * (except for memory when it creates an object).
 *
 * Rights (docs/irq.md):
 *   irq_claim      IRQ control: WRITE
 *   irq_bind       IRQ: WRITE; notification: WRITE and DELEGATE (the
 *                  kernel keeps a capability derived from it)
 *   irq_ack        IRQ: READ (a driver given READ only can service the
 *                  line but not rebind it)
 *   ioport_create  I/O port: DELEGATE (the new one gets the same rights)
 *   ioport_io      I/O port: READ for VR_IO_IN*, WRITE for VR_IO_OUT*
 */
#include "veridian/hal.h"
#include "veridian/irq.h"
#include "veridian/kheap.h"
#include "veridian/proc.h"
#include "veridian/quota.h"
#include "veridian/syscall.h"

static struct cspace *caller_cs(void)
{
	return proc_current()->cs;
}

/* decode_cap() (syscall.h) decodes user-supplied handles. */

/* An IRQ capability naming a claimed line (the control is refused with
 * VR_ECAP_TYPE: it is an IRQ object of another kind). */
static int decode_line(uint64_t h, uint32_t rights, struct irq **out)
{
	struct cap *c;
	int err = decode_cap(h, KOBJ_IRQ, rights, &c);

	if (err)
		return err;
	*out = container_of(c->obj, struct irq, obj);
	return (*out)->line == IRQ_LINE_CONTROL ? VR_ECAP_TYPE : VR_OK;
}

/* Give the caller an original capability with `rights` to a new object,
 * charged `bytes` to its quota (the object keeps the charge and a quota
 * reference until it is destroyed), or free it again. */
static int64_t install(struct kobj *obj, size_t bytes, uint32_t rights)
{
	struct quota *q = proc_current()->quota;
	cap_handle_t h;
	int err;

	if (!obj)
		return VR_ENOMEM;
	err = quota_charge(q, bytes);
	if (err) {
		irq_obj_discard(obj);
		return err;
	}
	obj->quota = q;
	obj->quota_bytes = (uint32_t)bytes;
	quota_get(q);
	err = cap_insert(caller_cs(), obj, rights, 0, &h);
	if (err) {
		irq_obj_discard(obj); /* returns the charge too */
		return err;
	}
	return (int64_t)h;
}

int64_t sys_irq_claim(const struct syscall_args *a)
{
	struct cap *c;
	struct irq *q;
	int err = decode_cap(a->a[0], KOBJ_IRQ, CAP_WRITE, &c);

	if (err)
		return err;
	if (container_of(c->obj, struct irq, obj)->line != IRQ_LINE_CONTROL)
		return VR_ECAP_TYPE;
	if (a->a[1] >= VR_IRQ_LINES || !hal_irq_available((unsigned)a->a[1]))
		return VR_EINVAL;
	if (irq_line_owner((unsigned)a->a[1]))
		return VR_EBUSY;
	q = irq_claim((unsigned)a->a[1]);
	return install(q ? &q->obj : NULL, sizeof(*q), CAP_RIGHTS_ALL);
}

int64_t sys_irq_bind(const struct syscall_args *a)
{
	struct irq *q;
	struct cap *n;
	int err = decode_line(a->a[0], CAP_WRITE, &q);

	if (err)
		return err;
	if (a->a[1] == VR_CAP_INVALID) {
		if (a->a[2])
			return VR_EINVAL; /* unbinding takes no bits */
		irq_bind(q, caller_cs(), VR_CAP_INVALID, 0);
		return VR_OK;
	}
	err = decode_cap(a->a[1], KOBJ_NOTIFICATION, CAP_WRITE | CAP_DELEGATE, &n);
	if (err)
		return err;
	if (!a->a[2] || a->a[2] >> 63)
		return VR_EINVAL; /* as notify_signal: bits in 1..2^63-1 */
	irq_bind(q, caller_cs(), (cap_handle_t)a->a[1], a->a[2]);
	return VR_OK;
}

int64_t sys_irq_ack(const struct syscall_args *a)
{
	struct irq *q;
	int err = decode_line(a->a[0], CAP_READ, &q);

	if (err)
		return err;
	if (q->state == IRQ_UNBOUND)
		return VR_EINVAL; /* nothing to acknowledge: bind first */
	irq_ack(q);
	return VR_OK;
}

int64_t sys_ioport_create(const struct syscall_args *a)
{
	struct cap *c;
	struct ioport *src, *io;
	uint64_t base = a->a[1], count = a->a[2];
	int err = decode_cap(a->a[0], KOBJ_IOPORT, CAP_DELEGATE, &c);

	if (err)
		return err;
	src = container_of(c->obj, struct ioport, obj);
	if (count == 0)
		return VR_EINVAL;
	if (base < src->base || count > src->count || base - src->base > src->count - count)
		return VR_ERANGE; /* not inside the source's range */
	io = ioport_create((uint32_t)base, (uint32_t)count);
	return install(io ? &io->obj : NULL, sizeof(*io), c->rights);
}

/* Width of a valid VR_IO_* operation, 0 for anything else. */
static unsigned io_width(uint64_t op)
{
	unsigned w = (unsigned)(op & ~(uint64_t)VR_IO_OUT);

	if (op > (VR_IO_OUT | 4u))
		return 0;
	return w == 1 || w == 2 || w == 4 ? w : 0;
}

/* Every byte of [port, port+width) is inside io's range and free of the
 * kernel's own ports. */
static int decode_ports(const struct ioport *io, uint64_t port, unsigned width)
{
	if (port < io->base || port - io->base >= io->count ||
	    io->count - (port - io->base) < width)
		return VR_ERANGE;
	for (unsigned i = 0; i < width; i++)
		if (hal_ioport_reserved((uint16_t)(port + i)))
			return VR_EBUSY;
	return VR_OK;
}

int64_t sys_ioport_io(const struct syscall_args *a)
{
	uint64_t op = a->a[1], port = a->a[2], value = a->a[3];
	unsigned width = io_width(op);
	bool out = op & VR_IO_OUT;
	struct cap *c;
	int err;

	if (!width)
		return VR_EINVAL;
	err = decode_cap(a->a[0], KOBJ_IOPORT, out ? CAP_WRITE : CAP_READ, &c);
	if (err)
		return err;
	if (out && width < 4 && value >> (8 * width))
		return VR_EINVAL;
	if (out && value > UINT32_MAX)
		return VR_EINVAL;
	err = decode_ports(container_of(c->obj, struct ioport, obj), port, width);
	if (err)
		return err;
	if (!out)
		return hal_ioport_in((uint16_t)port, width);
	hal_ioport_out((uint16_t)port, width, (uint32_t)value);
	return VR_OK;
}
