/*
 * Device interrupt lines of veridian.elf (host/x86_64/irq.c): the IOAPIC
 * at its PC default address, ISA IRQ n on pin n except IRQ 0 on pin 2 (the
 * ISA interrupt-source override every PC chipset and QEMU's q35 and
 * microvm have), delivered on vectors X86_VEC_IRQ_BASE + line.
 */
#ifndef VERIDIAN_X86_IRQ_H
#define VERIDIAN_X86_IRQ_H

#include <stdbool.h>

#define X86_VEC_IRQ_BASE 0x40 /* .. 0x4f: lines 0..15 */

/* A trap on `vector`: if it is a device line, mask it, acknowledge the
 * LAPIC, and deliver it (user mode: kernel_irq() and
 * kernel_interrupt_exit(); inside hal_idle(): kept for
 * x86_irq_deliver_pending()). Returns whether the vector was a line. */
bool x86_irq_trap(unsigned long vector, bool user_mode);

/* Deliver the lines that fired while the CPU was in hal_idle(). Returns
 * whether there were any (hal_idle() then returns). */
bool x86_irq_deliver_pending(void);

#endif
