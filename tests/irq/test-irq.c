/*
 * Unit tests of the IRQ object's state machine (core/irq.c), compiled with
 * core/cap.c, quota.c, pmm.c, kheap.c and klib.c against the fake HAL of
 * tests/cap/cap_hal.c plus the few functions irq.c needs from elsewhere,
 * defined here: the interrupt-line HAL (recording each line's mask),
 * notify_signal() (recording the bits), sched_find_pid() (a fake init)
 * and hal_clock_ns().
 *
 * Every step is followed by irq_check_all(), cspace_check() and a check
 * that the fake HAL's mask agrees with the object's state. Deterministic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/cap/cap_hal.h"

#include <veridian/hal.h>
#include <veridian/ipc.h>
#include <veridian/irq.h>
#include <veridian/kheap.h>
#include <veridian/proc.h>
#include <veridian/quota.h>

#define RAM_PAGES 1024
#define LINE 0u
#define BITS 0x4u

/* ---- What irq.c needs from the rest of the kernel and the HAL ---- */

static bool hw_masked[VR_IRQ_LINES];
static uint64_t signalled; /* bits OR-ed by notify_signal() */
static unsigned signals;   /* notify_signal() calls */
static unsigned ntfn_destroyed;
static struct process init_proc;
static struct thread init_thread;

bool hal_irq_available(unsigned line)
{
	return line < VR_IRQ_LINES;
}

void hal_irq_mask(unsigned line)
{
	assert_true(line < VR_IRQ_LINES);
	hw_masked[line] = true;
}

void hal_irq_unmask(unsigned line)
{
	assert_true(line < VR_IRQ_LINES);
	hw_masked[line] = false;
}

uint64_t hal_clock_ns(void)
{
	return 1000;
}

int64_t notify_signal(struct notification *n, uint64_t bits)
{
	assert_int_equal(n->obj.type, KOBJ_NOTIFICATION);
	signalled |= bits;
	signals++;
	return VR_OK;
}

struct thread *sched_find_pid(int64_t pid)
{
	return pid == 1 ? &init_thread : NULL;
}

static void ntfn_destroy(struct kobj *obj)
{
	ntfn_destroyed++;
	kfree(container_of(obj, struct notification, obj));
}

/* ---- Fixture ---- */

static struct cspace *cs; /* the driver's */

static void check(unsigned line)
{
	struct irq *q = irq_line_owner(line);

	assert_true(irq_check_all());
	assert_true(cspace_check(cs));
	if (q)
		assert_int_equal(hw_masked[line], q->state != IRQ_ARMED);
	else
		assert_true(hw_masked[line]);
}

static int setup_once(void **state)
{
	(void)state;
	if (!cap_hal_init(RAM_PAGES))
		return -1;
	kobj_register_type(KOBJ_NOTIFICATION, ntfn_destroy);
	irq_init();
	cs = cspace_create(64);
	init_proc.cs = cspace_create(64);
	init_thread.proc = &init_proc;
	return cs && init_proc.cs ? 0 : -1;
}

static cap_handle_t new_notification(void)
{
	struct notification *n = kzalloc(sizeof(*n));
	cap_handle_t h;

	assert_non_null(n);
	n->obj.type = KOBJ_NOTIFICATION;
	assert_int_equal(cap_insert(cs, &n->obj, CAP_RIGHTS_ALL, 0, &h), VR_OK);
	return h;
}

static cap_handle_t claim(unsigned line, struct irq **out)
{
	cap_handle_t h;

	*out = irq_claim(line);
	assert_non_null(*out);
	assert_int_equal(cap_insert(cs, &(*out)->obj, CAP_RIGHTS_ALL, 0, &h), VR_OK);
	check(line);
	return h;
}

/* ---- Tests ---- */

static void test_boot_caps(void **state)
{
	struct cap *c;

	(void)state;
	irq_give_init_caps();
	assert_int_equal(
		cap_lookup(init_proc.cs, VR_DEVCAP_IRQ_CONTROL, KOBJ_IRQ, CAP_WRITE, 0, &c), VR_OK);
	assert_int_equal(container_of(c->obj, struct irq, obj)->line, IRQ_LINE_CONTROL);
	assert_int_equal(cap_lookup(init_proc.cs, VR_DEVCAP_IOPORTS, KOBJ_IOPORT, 0, 0, &c), VR_OK);
	assert_int_equal(container_of(c->obj, struct ioport, obj)->count, VR_IO_PORTS);
	for (unsigned i = 0; i < VR_IRQ_LINES; i++)
		assert_true(hw_masked[i]); /* every line starts masked */
}

/* claim -> bind -> fire -> (spurious fire ignored) -> ack -> fire -> ack
 * -> unbind -> delete: each transition and the mask it leaves. */
static void test_state_machine(void **state)
{
	struct irq *q;
	cap_handle_t h = claim(LINE, &q), n = new_notification();

	(void)state;
	assert_int_equal(q->state, IRQ_UNBOUND);
	kernel_irq(LINE); /* an unbound line: nothing happens */
	assert_int_equal(signals, 0);
	irq_bind(q, cs, n, BITS);
	assert_int_equal(q->state, IRQ_ARMED);
	check(LINE);
	q->bits = 0; /* the checker notices a broken invariant 2 ... */
	assert_false(irq_check(q));
	q->bits = BITS;
	q->state = IRQ_PENDING; /* ... and 3: PENDING but unmasked */
	assert_false(irq_check(q));
	q->state = IRQ_ARMED;
	assert_true(irq_check(q));
	for (unsigned i = 1; i <= 3; i++) {
		hw_masked[LINE] = true; /* the host masks before kernel_irq() */
		kernel_irq(LINE);
		assert_int_equal(q->state, IRQ_PENDING);
		assert_int_equal(signals, i);
		assert_int_equal(signalled, BITS);
		assert_int_equal(q->fired, i);
		check(LINE);
		kernel_irq(LINE); /* while PENDING: dropped */
		assert_int_equal(signals, i);
		irq_ack(q);
		assert_int_equal(q->state, IRQ_ARMED);
		check(LINE);
		irq_ack(q); /* ARMED stays ARMED */
		check(LINE);
	}
	irq_bind(q, cs, VR_CAP_INVALID, 0);
	assert_int_equal(q->state, IRQ_UNBOUND);
	check(LINE);
	assert_int_equal(cap_delete(cs, h), VR_OK);
	assert_null(irq_line_owner(LINE));
	check(LINE);
	assert_int_equal(cap_delete(cs, n), VR_OK);
	assert_int_equal(ntfn_destroyed, 1);
	signals = 0;
	signalled = 0;
	ntfn_destroyed = 0;
}

/* The kernel's capability keeps a bound notification alive after the
 * driver deletes its own; deleting the IRQ then destroys it. */
static void test_binding_keeps_notification(void **state)
{
	struct irq *q;
	cap_handle_t h = claim(LINE, &q), n = new_notification();

	(void)state;
	irq_bind(q, cs, n, BITS);
	assert_int_equal(cap_delete(cs, n), VR_OK);
	assert_int_equal(ntfn_destroyed, 0);
	hw_masked[LINE] = true;
	kernel_irq(LINE);
	assert_int_equal(signals, 1);
	check(LINE);
	assert_int_equal(cap_delete(cs, h), VR_OK);
	assert_int_equal(ntfn_destroyed, 1);
	check(LINE);
	signals = 0;
	signalled = 0;
	ntfn_destroyed = 0;
}

/* Revoking the driver's notification capability removes the kernel's;
 * the next interrupt unbinds and masks instead of signalling. */
static void test_revoke_unbinds(void **state)
{
	struct irq *q;
	cap_handle_t h = claim(LINE, &q), n = new_notification();
	unsigned done;

	(void)state;
	irq_bind(q, cs, n, BITS);
	assert_int_equal(cap_revoke(cs, n, 64, &done), VR_OK);
	assert_int_equal(done, 1);
	check(LINE);
	hw_masked[LINE] = true;
	kernel_irq(LINE);
	assert_int_equal(signals, 0);
	assert_int_equal(q->state, IRQ_UNBOUND);
	check(LINE);
	assert_int_equal(cap_delete(cs, h), VR_OK);
	assert_int_equal(cap_delete(cs, n), VR_OK);
	assert_int_equal(ntfn_destroyed, 1);
	ntfn_destroyed = 0;
}

/* Rebinding to the same notification must not destroy it in between. */
static void test_rebind_same(void **state)
{
	struct irq *q;
	cap_handle_t h = claim(LINE, &q), n = new_notification();

	(void)state;
	irq_bind(q, cs, n, BITS);
	assert_int_equal(cap_delete(cs, n), VR_OK); /* only the kernel's remains */
	assert_int_equal(ntfn_destroyed, 0);
	assert_int_equal(cap_delete(cs, h), VR_OK);
	assert_int_equal(ntfn_destroyed, 1);
	h = claim(LINE, &q);
	n = new_notification();
	irq_bind(q, cs, n, BITS);
	irq_bind(q, cs, n, BITS << 1); /* rebind: new bits, same object */
	assert_int_equal(q->bits, BITS << 1);
	assert_int_equal(ntfn_destroyed, 1);
	check(LINE);
	assert_int_equal(cap_delete(cs, h), VR_OK);
	assert_int_equal(cap_delete(cs, n), VR_OK);
	assert_int_equal(ntfn_destroyed, 2);
	ntfn_destroyed = 0;
}

/* A claimed line's charge returns to its quota when the object goes. */
static void test_quota_returned(void **state)
{
	struct quota *qt = quota_create(NULL, 1u << 20);
	struct irq *q;
	cap_handle_t h;

	(void)state;
	assert_non_null(qt);
	h = claim(3, &q);
	assert_int_equal(quota_charge(qt, sizeof(*q)), VR_OK);
	q->obj.quota = qt;
	q->obj.quota_bytes = sizeof(*q);
	quota_get(qt);
	assert_int_equal(qt->used, sizeof(*q));
	assert_int_equal(cap_delete(cs, h), VR_OK);
	assert_int_equal(qt->used, 0);
	assert_true(quota_check(qt));
	quota_put(qt);
	check(3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_caps),
		cmocka_unit_test(test_state_machine),
		cmocka_unit_test(test_binding_keeps_notification),
		cmocka_unit_test(test_revoke_unbinds),
		cmocka_unit_test(test_rebind_same),
		cmocka_unit_test(test_quota_returned),
	};

	return cmocka_run_group_tests(tests, setup_once, NULL);
}
