/*
 * Time: the clock is the TSC, the timer is the local APIC timer in one-shot
 * mode, and hal_idle() halts until the next interrupt.
 *
 * Calibration: the hypervisor's TSC and APIC-bus frequencies from CPUID leaf
 * 0x40000010 when it offers them; otherwise one 2 ms interval of i8254 PIT
 * channel 0 measures both at once. Under `-icount shift=0,sleep=off` every
 * source counts guest instructions, so all of this stays deterministic.
 *
 * The one-shot is never programmed further out than POLL_NS: the same
 * interrupt polls the UART, so console input reaches the kernel within
 * POLL_NS while user code runs. Interrupts are only enabled in user mode and
 * inside hal_idle(); a tick that hits hal_idle() only acknowledges the APIC,
 * and hal_idle() itself delivers the events.
 */
#include <veridian/hal.h>
#include <veridian/klib.h>

#include "irq.h"
#include "x86.h"

#define POLL_NS 2000000ull /* 2 ms */

#define PIT_HZ 1193182ull
#define PIT_CAL_TICKS 2386 /* 2 ms of PIT */

#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define LAPIC_MASKED (1u << 16)
#define LAPIC_DIV_16 0x3

static volatile uint32_t *lapic;
static uint64_t tsc_start;
static uint64_t tsc_hz;
static uint64_t ns_mult;  /* ns = (tsc delta * ns_mult) >> 32 */
static uint64_t lapic_hz; /* timer count rate after the divider */
static uint64_t deadline = UINT64_MAX;
static bool boot_time_reported;

static void timer_program(void);

static uint32_t lapic_read(unsigned reg)
{
	return lapic[reg / 4];
}

static void lapic_write(unsigned reg, uint32_t v)
{
	lapic[reg / 4] = v;
}

void x86_lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

/* Remap the i8259 pair to X86_VEC_PIC_BASE and mask every line: after reset
 * it would deliver PIT IRQ 0 on vector 8 (#DF's). Spurious IRQ 7/15 can
 * still arrive; trap.c ignores them. */
static void pic_disable(void)
{
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, X86_VEC_PIC_BASE);
	outb(0xa1, X86_VEC_PIC_BASE + 8);
	outb(0x21, 4);
	outb(0xa1, 2);
	outb(0x21, 1);
	outb(0xa1, 1);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

static void lapic_enable(void)
{
	uint64_t base = rdmsr(X86_MSR_APIC_BASE);

	wrmsr(X86_MSR_APIC_BASE, base | (1u << 11)); /* xAPIC global enable */
	lapic = (volatile uint32_t *)(uintptr_t)(base & 0xfffff000u);
	lapic_write(LAPIC_SVR, 0x100 | X86_VEC_SPURIOUS);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, LAPIC_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LAPIC_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LAPIC_MASKED);
	lapic_write(LAPIC_TIMER_DIV, LAPIC_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, X86_VEC_TIMER); /* one-shot, unmasked */
	lapic_write(LAPIC_TIMER_INIT, 0);
}

/* Leaf 0x40000010 (VMware convention, also KVM/QEMU with vmware-cpuid-freq):
 * eax = TSC kHz, ebx = APIC bus kHz. Returns false if not offered. */
static bool calibrate_from_hypervisor(void)
{
	uint32_t a, b, c, d;

	cpuid(1, &a, &b, &c, &d);
	if (!(c & (1u << 31)))
		return false;
	cpuid(0x40000000, &a, &b, &c, &d);
	if (a < 0x40000010)
		return false;
	cpuid(0x40000010, &a, &b, &c, &d);
	if (a == 0 || b == 0)
		return false;
	tsc_hz = (uint64_t)a * 1000;
	lapic_hz = (uint64_t)b * 1000 / 16;
	return true;
}

/* Latch and read PIT channel 0's current count. */
static uint16_t pit_count(void)
{
	uint8_t lo, hi;

	outb(0x43, 0x00); /* counter latch, channel 0 */
	lo = inb(0x40);
	hi = inb(0x40);
	return (uint16_t)(lo | hi << 8);
}

/*
 * Count TSC and LAPIC ticks while PIT channel 0 (free-running, mode 2, its
 * IRQ masked at the PIC) counts down at least PIT_CAL_TICKS. Reading the
 * counter back works on microvm, which has no port 0x61 speaker gate for the
 * usual channel 2 method. A missing PIT reads 0xffff forever: give up.
 */
static bool calibrate_with_pit(void)
{
	uint64_t t0, t1;
	uint32_t left;
	uint16_t c0, elapsed = 0;
	unsigned long spins = 0;

	outb(0x43, 0x34); /* channel 0, lobyte/hibyte, mode 2 (rate generator) */
	outb(0x40, 0xff);
	outb(0x40, 0xff);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_MASKED);
	c0 = pit_count();
	lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
	t0 = rdtsc();
	while (elapsed < PIT_CAL_TICKS) {
		elapsed = (uint16_t)(c0 - pit_count());
		if (++spins > 10000000ul)
			return false;
	}
	t1 = rdtsc();
	left = lapic_read(LAPIC_TIMER_CUR);
	lapic_write(LAPIC_TIMER_INIT, 0);
	lapic_write(LAPIC_LVT_TIMER, X86_VEC_TIMER);
	tsc_hz = (t1 - t0) * PIT_HZ / elapsed;
	lapic_hz = (uint64_t)(0xffffffffu - left) * PIT_HZ / elapsed;
	return tsc_hz != 0 && lapic_hz != 0;
}

void x86_timer_init(void)
{
	const char *how = "cpuid 0x40000010";

	pic_disable();
	lapic_enable();
	if (!calibrate_from_hypervisor()) {
		how = "pit";
		if (!calibrate_with_pit()) {
			x86_puts("veridian: PIT calibration failed; assuming 1 GHz TSC, "
				 "62.5 MHz APIC timer (times will be wrong)\n");
			tsc_hz = 1000000000ull;
			lapic_hz = 62500000ull;
			how = "assumed";
		}
	}
	ns_mult = (1000000000ull << 32) / tsc_hz;
	tsc_start = rdtsc();
	timer_program(); /* first poll tick, taken once user code runs */
	if (x86_cmdline_has("boottime")) {
		x86_puts("veridian: tsc ");
		x86_put_dec(tsc_hz / 1000);
		x86_puts(" kHz, apic timer ");
		x86_put_dec(lapic_hz / 1000);
		x86_puts(" kHz (");
		x86_puts(how);
		x86_puts(")\n");
	}
}

uint64_t hal_clock_ns(void)
{
	uint64_t delta = rdtsc() - tsc_start;

	return (uint64_t)(((unsigned __int128)delta * ns_mult) >> 32);
}

/* Program the one-shot for min(deadline, now + POLL_NS). */
static void timer_program(void)
{
	uint64_t now = hal_clock_ns();
	uint64_t wait = deadline > now ? deadline - now : 0;
	uint64_t count;

	if (wait > POLL_NS)
		wait = POLL_NS;
	count = wait * lapic_hz / 1000000000ull; /* wait <= 2e6: no overflow */
	lapic_write(LAPIC_TIMER_INIT, count ? (uint32_t)count : 1);
}

void hal_timer_arm(uint64_t deadline_ns)
{
	deadline = deadline_ns;
	timer_program();
}

/* Deliver a due deadline. Returns whether it was due. */
static bool timer_check(void)
{
	if (deadline == UINT64_MAX || hal_clock_ns() < deadline)
		return false;
	deadline = UINT64_MAX;
	kernel_timer_expired();
	return true;
}

void x86_timer_irq(bool user_mode)
{
	x86_lapic_eoi();
	if (!user_mode)
		return; /* inside hal_idle(): it delivers the events itself */
	x86_serial_poll();
	timer_check();
	timer_program();
	kernel_interrupt_exit();
}

/* With the "boottime" command-line option, the first idle wait prints how
 * many TSC ticks passed since the kernel's first instruction: under
 * -icount shift=0 those are guest instructions to the first console read. */
static void report_boot_time(void)
{
	boot_time_reported = true;
	if (!x86_cmdline_has("boottime"))
		return;
	x86_puts("veridian: first idle after ");
	x86_put_dec(rdtsc() - x86_boot_tsc);
	x86_puts(" tsc ticks from kernel entry\n");
}

void hal_idle(void)
{
	if (!boot_time_reported)
		report_boot_time();
	for (;;) {
		bool input = x86_serial_poll();
		bool timer = timer_check();
		bool irq = x86_irq_deliver_pending(); /* device lines (irq.c) */

		/* Always leave the one-shot running: it is also the UART
		 * poll while user code runs. */
		timer_program();
		if (input || timer || irq)
			return;
		/* sti's one-instruction shadow: an interrupt pending now
		 * wakes the hlt instead of being taken before it. */
		__asm__ volatile("sti; hlt; cli" : : : "memory");
	}
}
