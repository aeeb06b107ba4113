/*
 * Device interrupt lines and port I/O of veridian.elf: the HAL's
 * "Interrupt lines and I/O ports" section (irq.h has the routing).
 *
 * The IOAPIC is found at 0xfec00000 (the PC default; QEMU q35 and microvm
 * put it there, and the boot code identity-maps the first 4 GiB). Without
 * ACPI the kernel does not read the MADT, so the routing is the ISA
 * default. Every pin starts masked, edge-triggered, active high, fixed
 * delivery to the boot CPU's LAPIC. An edge arriving on a masked pin is
 * dropped (82093AA behaviour, and QEMU's).
 */
#include <veridian/hal.h>
#include <veridian/klib.h>

#include "irq.h"
#include "x86.h"

#define IOAPIC_BASE 0xfec00000ul
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))
#define IOAPIC_MASKED (1u << 16)
#define LAPIC_ID_REG 0x20

static struct {
	bool ready;
	unsigned pins;    /* redirection entries; 0 if there is no IOAPIC */
	uint32_t pending; /* lines that fired inside hal_idle() */
} io;

static volatile uint32_t *ioapic(void)
{
	return (volatile uint32_t *)IOAPIC_BASE;
}

static uint32_t ioapic_read(unsigned reg)
{
	ioapic()[0] = reg;
	return ioapic()[4];
}

static void ioapic_write(unsigned reg, uint32_t v)
{
	ioapic()[0] = reg;
	ioapic()[4] = v;
}

static unsigned line_pin(unsigned line)
{
	return line == 0 ? 2 : line;
}

/* Program every line's entry masked; done on first use (core's irq_init()
 * masks every line at boot, before any is unmasked). */
static void setup(void)
{
	uint32_t ver = ioapic_read(IOAPIC_REG_VER);
	uint64_t lapic_base = rdmsr(X86_MSR_APIC_BASE) & 0xfffff000u;
	uint32_t apic_id = *(volatile uint32_t *)(uintptr_t)(lapic_base + LAPIC_ID_REG) >> 24;

	io.ready = true;
	io.pins = ver == 0xffffffffu ? 0 : ((ver >> 16) & 0xff) + 1;
	for (unsigned line = 0; line < VR_IRQ_LINES; line++) {
		unsigned pin = line_pin(line);

		if (pin >= io.pins)
			continue;
		ioapic_write(IOAPIC_REDTBL(pin) + 1, apic_id << 24);
		ioapic_write(IOAPIC_REDTBL(pin), IOAPIC_MASKED | (X86_VEC_IRQ_BASE + line));
	}
}

bool hal_irq_available(unsigned line)
{
	if (!io.ready)
		setup();
	return line < VR_IRQ_LINES && line_pin(line) < io.pins;
}

static void set_masked(unsigned line, bool masked)
{
	if (!hal_irq_available(line))
		return;
	ioapic_write(IOAPIC_REDTBL(line_pin(line)),
		     (masked ? IOAPIC_MASKED : 0) | (X86_VEC_IRQ_BASE + line));
}

void hal_irq_mask(unsigned line)
{
	set_masked(line, true);
	if (line < VR_IRQ_LINES)
		io.pending &= ~(1u << line);
}

void hal_irq_unmask(unsigned line)
{
	set_masked(line, false);
}

bool x86_irq_trap(unsigned long vector, bool user_mode)
{
	unsigned line;

	if (vector < X86_VEC_IRQ_BASE || vector >= X86_VEC_IRQ_BASE + VR_IRQ_LINES)
		return false;
	line = (unsigned)(vector - X86_VEC_IRQ_BASE);
	set_masked(line, true); /* hal.h: kernel_irq() finds the line masked */
	x86_lapic_eoi();
	if (!user_mode) {
		io.pending |= 1u << line; /* inside hal_idle(): it delivers */
		return true;
	}
	kernel_irq(line);
	kernel_interrupt_exit();
	return true;
}

bool x86_irq_deliver_pending(void)
{
	bool any = io.pending != 0;

	while (io.pending) {
		unsigned line = (unsigned)__builtin_ctz(io.pending);

		io.pending &= ~(1u << line);
		kernel_irq(line);
	}
	return any;
}

/* ---- Port I/O ---- */

uint32_t hal_ioport_in(uint16_t port, unsigned width)
{
	uint32_t v;

	if (width == 1)
		return inb(port);
	if (width == 2) {
		uint16_t w;

		__asm__ volatile("inw %1, %0" : "=a"(w) : "Nd"(port));
		return w;
	}
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void hal_ioport_out(uint16_t port, unsigned width, uint32_t value)
{
	if (width == 1)
		outb(port, (uint8_t)value);
	else if (width == 2)
		__asm__ volatile("outw %0, %1" : : "a"((uint16_t)value), "Nd"(port));
	else
		outl(port, value);
}

/* The kernel's own ports: the i8259 pair (masked for good by timer.c),
 * the isa-debug-exit port of hal_poweroff() and the COM1 console. */
bool hal_ioport_reserved(uint16_t port)
{
	return (port >= 0x20 && port <= 0x21) || (port >= 0xa0 && port <= 0xa1) ||
	       (port >= 0xf4 && port <= 0xf7) || (port >= 0x3f8 && port <= 0x3ff);
}
