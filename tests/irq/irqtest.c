/*
 * irqtest: a user-space driver for the i8254 PIT, run in both builds
 * (tests/system/irq-*.sh) as `dev irqtest [N]`: the shell passes it the
 * IRQ-control and I/O-port capabilities (abi.h VR_DEVCAP_*).
 *
 * It derives an I/O-port capability for the PIT's ports, claims line 0,
 * binds it to a notification, programs channel 0 as a rate generator and
 * counts N interrupts (wait, ack), then a one-shot; between them it checks
 * every error path of the five syscalls, and at the end that deleting the
 * IRQ capability releases the line and its quota charge. Prints one line
 * per failed check, then "irqtest: N interrupts in T ns (period P ns)"
 * and "irqtest: N checks, N failed"; exits 0 only if none failed.
 * Deterministic: no random input, so no seed.
 */
#define UCHECK_PROGRAM "irqtest"
#include "../lib/ucheck.h"
#include "vrt.h"

#define PIT_HZ 1193182ull
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_LINE 0u
#define PIT_COUNT 1193u /* ~1 ms */
#define IRQ_BIT (1ull << 2)
#define WAIT_NS 2000000000ull /* an interrupt not seen in 2 s is lost */
#define DEFAULT_INTERRUPTS 20

static long irq_claim(uint32_t ctl, uint64_t line)
{
	return vr_sys_irq_claim(ctl, (long)line, 0, 0, 0);
}

static long irq_bind(uint32_t irq, uint32_t n, uint64_t bits)
{
	return vr_sys_irq_bind(irq, n, (long)bits, 0, 0);
}

static long irq_ack(uint32_t irq)
{
	return vr_sys_irq_ack(irq, 0, 0, 0, 0);
}

static long ioport_create(uint32_t io, uint64_t base, uint64_t count)
{
	return vr_sys_ioport_create(io, (long)base, (long)count, 0, 0);
}

static long io(uint32_t cap, unsigned op, uint64_t port, uint64_t value)
{
	return vr_sys_ioport_io(cap, op, (long)port, (long)value, 0);
}

/* Channel 0, lobyte/hibyte, `mode`, then the count: the channel starts. */
static void pit_program(uint32_t pit, unsigned mode, unsigned count)
{
	CHECK_OK(io(pit, VR_IO_OUT8, PIT_CMD, 0x30u | mode << 1));
	CHECK_OK(io(pit, VR_IO_OUT8, PIT_CH0, count & 0xff));
	CHECK_OK(io(pit, VR_IO_OUT8, PIT_CH0, count >> 8));
}

static void test_boot_caps(void)
{
	struct vr_cap_info ci;

	CHECK_OK(sys_cap_identify(VR_DEVCAP_IRQ_CONTROL, &ci));
	CHECK_EQ(ci.type, VR_OBJ_IRQ);
	CHECK_OK(sys_cap_identify(VR_DEVCAP_IOPORTS, &ci));
	CHECK_EQ(ci.type, VR_OBJ_IOPORT);
}

/* ioport_create and ioport_io: ranges, widths, values, rights, the
 * kernel's own ports. Returns a capability for the PIT's four ports. */
static uint32_t test_ioports(void)
{
	uint32_t all = VR_DEVCAP_IOPORTS;
	long pit = ioport_create(all, PIT_CH0, 4), ro;
	struct vr_cap_info ci;

	CHECK_OK(pit);
	CHECK_OK(sys_cap_identify((uint32_t)pit, &ci));
	CHECK_EQ(ci.type, VR_OBJ_IOPORT);
	CHECK_EQ(ioport_create(all, 0x40, 0), VR_EINVAL);
	CHECK_EQ(ioport_create(all, 0xfff0, 0x11), VR_ERANGE);
	CHECK_EQ(ioport_create(all, 1ull << 40, 1), VR_ERANGE);
	CHECK_EQ(ioport_create((uint32_t)pit, 0x3f, 2), VR_ERANGE); /* not inside the source */
	CHECK_EQ(ioport_create((uint32_t)pit, 0x41, 4), VR_ERANGE);
	CHECK_EQ(ioport_create(VR_DEVCAP_IRQ_CONTROL, 0x40, 1), VR_ECAP_TYPE);
	CHECK_EQ(io((uint32_t)pit, 3, PIT_CH0, 0), VR_EINVAL); /* width 3 */
	CHECK_EQ(io((uint32_t)pit, 0x21, PIT_CH0, 0), VR_EINVAL);
	CHECK_EQ(io((uint32_t)pit, VR_IO_IN8, 0x44, 0), VR_ERANGE);
	CHECK_EQ(io((uint32_t)pit, VR_IO_IN8, 0x3f, 0), VR_ERANGE);
	CHECK_EQ(io((uint32_t)pit, VR_IO_IN16, PIT_CMD, 0), VR_ERANGE); /* runs past the end */
	CHECK_EQ(io((uint32_t)pit, VR_IO_OUT8, PIT_CMD, 0x100), VR_EINVAL);
	CHECK_EQ(io(all, VR_IO_IN8, 0x21, 0), VR_EBUSY);     /* the PIC: the kernel's */
	CHECK_EQ(io(all, VR_IO_OUT8, 0x3f8, 'x'), VR_EBUSY); /* the console UART */
	CHECK_EQ(io(all, VR_IO_IN32, 0x3f6, 0), VR_EBUSY);   /* overlaps it */
	CHECK_EQ(io(VR_DEVCAP_IRQ_CONTROL, VR_IO_IN8, PIT_CH0, 0), VR_ECAP_TYPE);
	ro = sys_cap_mint((uint32_t)pit, VR_CAP_READ, 0, 0);
	CHECK_OK(ro);
	CHECK_EQ(io((uint32_t)ro, VR_IO_OUT8, PIT_CMD, 0x34), VR_ECAP_RIGHTS);
	CHECK_EQ(ioport_create((uint32_t)ro, PIT_CH0, 1), VR_ECAP_RIGHTS); /* no DELEGATE */
	CHECK_OK(io((uint32_t)ro, VR_IO_IN8, PIT_CH0, 0));
	CHECK_OK(sys_cap_delete((uint32_t)ro));
	return (uint32_t)pit;
}

/* irq_claim's errors; returns the claimed line's capability. */
static uint32_t test_claim(uint32_t pit)
{
	long irq;
	struct vr_cap_info ci;

	CHECK_EQ(irq_claim(pit, PIT_LINE), VR_ECAP_TYPE);
	CHECK_EQ(irq_claim(VR_DEVCAP_IRQ_CONTROL, VR_IRQ_LINES), VR_EINVAL);
	CHECK_EQ(irq_claim(VR_DEVCAP_IRQ_CONTROL, 1ull << 33), VR_EINVAL);
	CHECK_EQ(irq_claim(0xfff0, PIT_LINE), VR_ECAP_RANGE);
	irq = irq_claim(VR_DEVCAP_IRQ_CONTROL, PIT_LINE);
	CHECK_OK(irq);
	CHECK_OK(sys_cap_identify((uint32_t)irq, &ci));
	CHECK_EQ(ci.type, VR_OBJ_IRQ);
	CHECK_EQ(irq_claim(VR_DEVCAP_IRQ_CONTROL, PIT_LINE), VR_EBUSY);
	CHECK_EQ(irq_claim((uint32_t)irq, 1), VR_ECAP_TYPE); /* a line is not the control */
	CHECK_EQ(irq_ack((uint32_t)irq + (5u << 16)), VR_ECAP_STALE); /* forged generation */
	CHECK_EQ(irq_ack(VR_DEVCAP_IRQ_CONTROL), VR_ECAP_TYPE);
	CHECK_EQ(irq_ack((uint32_t)irq), VR_EINVAL); /* not bound: nothing to ack */
	return (uint32_t)irq;
}

/* irq_bind's errors; leaves irq bound to n. */
static void test_bind(uint32_t irq, uint32_t n)
{
	long ep = sys_endpoint_create(), n_wo, irq_ro;

	CHECK_OK(ep);
	CHECK_EQ(irq_bind(irq, n, 0), VR_EINVAL);
	CHECK_EQ(irq_bind(irq, n, 1ull << 63), VR_EINVAL);
	CHECK_EQ(irq_bind(irq, (uint32_t)ep, IRQ_BIT), VR_ECAP_TYPE);
	CHECK_EQ(irq_bind(irq, VR_CAP_INVALID, 1), VR_EINVAL);
	n_wo = sys_cap_mint(n, VR_CAP_WRITE, 0, 0);
	CHECK_OK(n_wo);
	CHECK_EQ(irq_bind(irq, (uint32_t)n_wo, IRQ_BIT), VR_ECAP_RIGHTS); /* no DELEGATE */
	irq_ro = sys_cap_mint(irq, VR_CAP_READ, 0, 0);
	CHECK_OK(irq_ro);
	CHECK_EQ(irq_bind((uint32_t)irq_ro, n, IRQ_BIT), VR_ECAP_RIGHTS);
	CHECK_OK(irq_bind(irq, n, IRQ_BIT));
	CHECK_OK(irq_ack((uint32_t)irq_ro)); /* READ may acknowledge */
	CHECK_OK(sys_cap_delete((uint32_t)irq_ro));
	CHECK_OK(sys_cap_delete((uint32_t)n_wo));
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

/* Count `want` interrupts of the rate generator; returns the ns from
 * programming the PIT to the last one. */
static uint64_t count_interrupts(uint32_t pit, uint32_t irq, uint32_t n, long want)
{
	uint64_t t0 = sys_clock();
	long got = 0;

	pit_program(pit, 2, PIT_COUNT);
	while (got < want) {
		long bits = sys_notify_wait_timeout(n, WAIT_NS);

		if (bits != (long)IRQ_BIT) {
			CHECK_EQ(bits, (long)IRQ_BIT);
			break;
		}
		got++;
		CHECK_OK(irq_ack(irq));
	}
	CHECK_EQ(got, want);
	return sys_clock() - t0;
}

/* Quiet channel 0: a one-shot of one tick replaces the old program (a
 * mode command alone does not stop QEMU's PIT), then, once it has surely
 * fired, take its interrupt and any of the old program that arrived since
 * the last ack. Afterwards the line is armed and nothing is pending. */
static void pit_stop(uint32_t pit, uint32_t irq, uint32_t n)
{
	pit_program(pit, 0, 1);
	CHECK_OK(sys_sleep(2000000));
	if (sys_notify_wait(n, VR_IPC_NONBLOCK) == (long)IRQ_BIT)
		CHECK_OK(irq_ack(irq));
}

/* Mode 0 interrupts once; the line then stays quiet. */
static void test_one_shot(uint32_t pit, uint32_t irq, uint32_t n)
{
	pit_stop(pit, irq, n);
	pit_program(pit, 0, PIT_COUNT);
	CHECK_EQ(sys_notify_wait_timeout(n, WAIT_NS), (long)IRQ_BIT);
	CHECK_OK(irq_ack(irq));
	CHECK_EQ(sys_notify_wait_timeout(n, 20000000ull), VR_ETIMEDOUT);
	pit_stop(pit, irq, n);
}

/* Unbinding masks the line; deleting the capability frees it and returns
 * the quota charge. */
static void test_release(uint32_t irq, uint32_t n, uint64_t used_before)
{
	struct vr_quota_info qi;
	long again;

	CHECK_OK(irq_bind(irq, VR_CAP_INVALID, 0));
	CHECK_EQ(irq_ack(irq), VR_EINVAL);
	CHECK_OK(irq_bind(irq, n, IRQ_BIT)); /* bound again, then deleted bound */
	CHECK_OK(sys_cap_delete(irq));
	again = irq_claim(VR_DEVCAP_IRQ_CONTROL, PIT_LINE);
	CHECK_OK(again);
	CHECK_OK(sys_cap_delete((uint32_t)again));
	CHECK_OK(sys_quota_info(&qi));
	CHECK_EQ(qi.used, used_before);
}

int main(int argc, char **argv)
{
	long want = DEFAULT_INTERRUPTS, n;
	struct vr_quota_info qi;
	uint64_t ns, period = PIT_COUNT * 1000000000ull / PIT_HZ;
	uint32_t pit, irq;

	if (argc > 1 && (!vrt_parse_long(argv[1], &want) || want < 1 || want > 100000)) {
		printf("usage: dev irqtest [INTERRUPTS (1..100000)]\n");
		return 2;
	}
	test_boot_caps();
	n = sys_notification_create();
	CHECK_OK(n);
	pit = test_ioports();
	CHECK_OK(sys_quota_info(&qi));
	irq = test_claim(pit);
	test_bind(irq, (uint32_t)n);
	ns = count_interrupts(pit, irq, (uint32_t)n, want);
	/* The PIT cannot be faster than its period (slower, yes: an edge
	 * that falls while the line is masked between delivery and ack is
	 * lost). The kernel clock is calibrated against the PIT over 2 ms,
	 * which under QEMU's TCG can be off by a few percent: allow 10%.
	 * veridian-sim's virtual time is exact (tests/system/irq-sim.sh
	 * checks the nanosecond). */
	CHECK_EQ(ns >= (uint64_t)(want - 1) * period / 10 * 9, 1);
	printf("irqtest: %ld interrupts in %llu ns (period %llu ns)\n", want,
	       (unsigned long long)ns, (unsigned long long)period);
	test_one_shot(pit, irq, (uint32_t)n);
	test_release(irq, (uint32_t)n, qi.used);
	CHECK_OK(sys_cap_delete(pit));
	CHECK_OK(sys_cap_delete((uint32_t)n));
	return ucheck_summary(UCHECK_PROGRAM);
}
