/*
 * Dispatch of interrupts and exceptions (entered from entry.S with a
 * struct x86_trap_frame on the kernel stack, interrupts off).
 *
 *  - Timer interrupt: timer.c. Device lines: irq.c.
 *  - Spurious LAPIC / masked-PIC interrupts: ignored (no EOI is owed).
 *  - Exception in user mode: turned into a struct hal_fault for
 *    kernel_user_fault(), then kernel_interrupt_exit(), then back to user
 *    mode through iretq (if the thread survived).
 *  - Exception in kernel mode: a kernel bug. Dump the registers on the
 *    serial console and stop; nothing in core is called, since core's state
 *    is suspect.
 */
#include <veridian/hal.h>
#include <veridian/klib.h>

#include "irq.h"
#include "x86.h"

static const char *const exception_names[32] = {
	"divide error",
	"debug",
	"NMI",
	"breakpoint",
	"overflow",
	"bound range",
	"invalid opcode",
	"device not available",
	"double fault",
	"coprocessor overrun",
	"invalid TSS",
	"segment not present",
	"stack fault",
	"general protection",
	"page fault",
	"reserved 15",
	"x87 floating point",
	"alignment check",
	"machine check",
	"SIMD floating point",
	"virtualization",
	"control protection",
	"reserved 22",
	"reserved 23",
	"reserved 24",
	"reserved 25",
	"reserved 26",
	"reserved 27",
	"hypervisor injection",
	"VMM communication",
	"security",
	"reserved 31",
};

static void dump_reg(const char *name, uint64_t v, bool end_line)
{
	x86_puts(name);
	x86_put_hex(v);
	x86_puts(end_line ? "\n" : "  ");
}

/* Print the frame of an exception taken in kernel mode and halt. */
static noreturn void kernel_exception(const struct x86_trap_frame *f)
{
	uint64_t cr2 = read_cr2();

	x86_puts("\nveridian: KERNEL EXCEPTION vector ");
	x86_put_dec(f->vector);
	x86_puts(" (");
	x86_puts(f->vector < 32 ? exception_names[f->vector] : "unexpected interrupt");
	x86_puts(") error code ");
	x86_put_hex(f->error);
	x86_puts("\n");
	dump_reg("rax ", f->rax, false);
	dump_reg("rbx ", f->rbx, false);
	dump_reg("rcx ", f->rcx, true);
	dump_reg("rdx ", f->rdx, false);
	dump_reg("rsi ", f->rsi, false);
	dump_reg("rdi ", f->rdi, true);
	dump_reg("rbp ", f->rbp, false);
	dump_reg("r8  ", f->r8, false);
	dump_reg("r9  ", f->r9, true);
	dump_reg("r10 ", f->r10, false);
	dump_reg("r11 ", f->r11, false);
	dump_reg("r12 ", f->r12, true);
	dump_reg("r13 ", f->r13, false);
	dump_reg("r14 ", f->r14, false);
	dump_reg("r15 ", f->r15, true);
	dump_reg("rip ", f->rip, false);
	dump_reg("cs  ", f->cs, false);
	dump_reg("rflags ", f->rflags, true);
	dump_reg("rsp ", f->rsp, false);
	dump_reg("ss  ", f->ss, true);
	dump_reg("cr2 ", cr2, false);
	dump_reg("cr3 ", read_cr3(), true);
	hal_panic_halt();
}

/* Build the hal_fault for an exception in user mode; page-fault access bits
 * come from the error code, the address from CR2. */
static void user_exception(const struct x86_trap_frame *f)
{
	struct hal_fault fault = {
		.kind = HAL_FAULT_GENERAL,
		.vector = (unsigned)f->vector,
		.pc = f->rip,
		.sp = f->rsp,
	};

	if (f->vector == X86_EXC_PF) {
		fault.kind = HAL_FAULT_PAGE;
		fault.addr = read_cr2();
		if (f->error & X86_PF_WRITE)
			fault.access |= HAL_ACCESS_WRITE;
		if (f->error & X86_PF_FETCH)
			fault.access |= HAL_ACCESS_EXEC;
		if (f->error & X86_PF_PRESENT)
			fault.access |= HAL_ACCESS_PRESENT;
	} else if (f->vector == X86_EXC_UD) {
		fault.kind = HAL_FAULT_INVALID_OP;
	}
	kernel_user_fault(&fault);
	kernel_interrupt_exit();
}

void x86_trap(struct x86_trap_frame *f)
{
	bool user_mode = (f->cs & 3) == 3;

	if (f->vector == X86_VEC_TIMER) {
		x86_timer_irq(user_mode);
		return;
	}
	if (x86_irq_trap(f->vector, user_mode))
		return;
	if (f->vector == X86_VEC_SPURIOUS ||
	    (f->vector >= X86_VEC_PIC_BASE && f->vector < X86_VEC_PIC_BASE + 16))
		return;
	if (f->vector == X86_EXC_NMI && user_mode)
		return; /* not the program's doing; nothing raises NMIs on purpose */
	if (!user_mode || f->vector >= 32)
		kernel_exception(f);
	user_exception(f);
}

/* Reached from the syscall exit path (entry.S) when the saved user rip is
 * not a canonical user address: sysretq would fault in ring 0 on the user
 * stack. The rip was saved by the syscall instruction, so this is a kernel
 * bug (a corrupted kernel stack), never a user program's doing. */
noreturn void x86_sysret_bad(void)
{
	KPANIC("syscall return to a non-canonical or kernel address");
}
