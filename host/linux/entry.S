/*
 * Assembly entry points of veridian-sim: kernel context switch, the trap
 * from user code into the kernel, return to user mode after an interrupt
 * or fault, and the first entry into user mode.
 *
 * sim_cpu.in_user is cleared before the first instruction that touches the
 * kernel stack and set only once the stack pointer is the user's again, so
 * a signal that finds it set can save the state and reuse the top of the
 * kernel stack without clobbering anything.
 *
 * The CFI directives let gdb unwind from the kernel back into user code:
 * sim_trap_entry's caller is the user function that called the trap page
 * (its return address is on the user stack, whose pointer sim_trap_entry
 * keeps on the kernel stack), and sim_irq_entry's "caller" is the user
 * instruction a signal interrupted (a signal frame, like the kernel's
 * interrupt frames). Register numbers are DWARF's: rbx 3, rbp 6, rsp 7,
 * rdi 5, r12..r15 12..15, rip 16; 0x77 is DW_OP_breg7 (rsp + offset), 0x75
 * DW_OP_breg5 (rdi + offset), 0x06 DW_OP_deref, 0x23 DW_OP_plus_uconst.
 */
#include "host/linux/cpu.h"

/* The value register `reg` had in the caller is saved at base + off
 * (DW_CFA_expression with DW_OP_bregN). off < 64, or a two-byte uleb. */
#define CFI_SAVED_AT(reg, breg, off) .cfi_escape 0x10, reg, 0x02, breg, off
#define CFI_SAVED_AT2(reg, breg, off) \
	.cfi_escape 0x10, reg, 0x03, breg, ((off) & 0x7f) | 0x80, (off) >> 7
/* The same for -8192 <= off < -64 (a two-byte sleb). */
#define CFI_SAVED_AT_NEG2(reg, breg, off) \
	.cfi_escape 0x10, reg, 0x03, breg, ((off) & 0x7f) | 0x80, ((off) >> 7) & 0x7f

/* Every user register is in the struct sim_uframe at breg + 0. */
#define UFRAME_GPRS_SAVED(breg) \
	CFI_SAVED_AT(0, breg, UF_RAX); CFI_SAVED_AT(3, breg, UF_RBX); \
	CFI_SAVED_AT(2, breg, UF_RCX); CFI_SAVED_AT(1, breg, UF_RDX); \
	CFI_SAVED_AT(4, breg, UF_RSI); CFI_SAVED_AT(6, breg, UF_RBP); \
	CFI_SAVED_AT(8, breg, UF_R8); CFI_SAVED_AT2(9, breg, UF_R9); \
	CFI_SAVED_AT2(10, breg, UF_R10); CFI_SAVED_AT2(11, breg, UF_R11); \
	CFI_SAVED_AT2(12, breg, UF_R12); CFI_SAVED_AT2(13, breg, UF_R13); \
	CFI_SAVED_AT2(14, breg, UF_R14); CFI_SAVED_AT2(15, breg, UF_R15)
#define UFRAME_SAVED(breg) \
	UFRAME_GPRS_SAVED(breg); CFI_SAVED_AT(5, breg, UF_RDI); CFI_SAVED_AT2(16, breg, UF_RIP)

/* Offsets of the trap frame sim_trap_entry builds below the kernel stack
 * top; TF_USER_SP must stay the top word (trap.c reads kstack_top - 8).
 * r12-r15 and rbx, in this order from TF_R12 on, are core's struct
 * hal_msg_regs at kstack_top - HAL_MSG_REGS_OFF (hal.h): the words of a
 * short IPC message, which the kernel reads and writes there (the frame is
 * reloaded on return). Two words are free. */
#define TF_MARKER 0
#define TF_R12 8
#define TF_R13 16
#define TF_R14 24
#define TF_R15 32
#define TF_RBX 40
#define TF_RBP 48
#define TF_USER_SP 72
#define TF_SIZE 80
#if TF_SIZE - TF_R12 != 72 /* HAL_MSG_REGS_OFF */
#error "the message registers are not where core looks for them"
#endif

	.text

/* void sim_context_switch(struct hal_context *from, struct hal_context *to)
 * (hal_context_switch() in context.c.) Saves the callee-saved registers on
 * the current stack, stores the stack pointer in from->sp (offset 0) and
 * resumes `to`. */
	.globl sim_context_switch
	.type sim_context_switch, @function
sim_context_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq (%rsi), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size sim_context_switch, . - sim_context_switch

/* First code of a context made by hal_context_init(): r12 = entry,
 * r13 = arg; the stack pointer is 16-byte aligned here. */
	.globl sim_context_start
	.type sim_context_start, @function
sim_context_start:
	.cfi_startproc
	.cfi_undefined rip /* the bottom of a kernel context: backtraces end here */
	call sim_context_first_run
	movq %r13, %rdi
	call *%r12
	call sim_context_returned
	ud2
	.cfi_endproc
	.size sim_context_start, . - sim_context_start

/* long trap(long nr, long a0, ..., long a4), reached from the trap page,
 * which user code calls (so the user stack pointer points at the return
 * address) and which jumps here. The arguments are already where
 * kernel_syscall() wants them. The user's callee-saved registers and stack
 * pointer are kept on the kernel stack, which kernel_syscall() may leave
 * and come back to (thread switch); those that carry short IPC messages
 * (r12-r15, rbx) come back from the frame, where the kernel may have put a
 * received message.
 * For gdb, sim_trap_entry is a normal frame whose caller is the marker
 * sim_trap_user (its address is the bottom word of the trap frame), a
 * signal frame whose caller is the user code: gdb follows a frame to a
 * lower address (the user stack) only above a signal frame. */
	.globl sim_trap_entry
	.type sim_trap_entry, @function
sim_trap_entry:
	.cfi_startproc
	movq $0, sim_cpu+CPU_IN_USER(%rip)
	movq %rsp, %rax
	.cfi_def_cfa rax, 8
	movq sim_cpu+CPU_KSTACK_TOP(%rip), %rsp
	subq $TF_SIZE, %rsp
	movq %rax, TF_USER_SP(%rsp)
	movq %rbx, TF_RBX(%rsp)
	movq %rbp, TF_RBP(%rsp)
	movq %r12, TF_R12(%rsp)
	movq %r13, TF_R13(%rsp)
	movq %r14, TF_R14(%rsp)
	movq %r15, TF_R15(%rsp)
	leaq sim_trap_user+1(%rip), %rax
	movq %rax, TF_MARKER(%rsp)
	.cfi_def_cfa rsp, TF_SIZE
	.cfi_offset rip, TF_MARKER - TF_SIZE
	.cfi_offset rbx, TF_RBX - TF_SIZE
	.cfi_offset rbp, TF_RBP - TF_SIZE
	.cfi_offset r12, TF_R12 - TF_SIZE
	.cfi_offset r13, TF_R13 - TF_SIZE
	.cfi_offset r14, TF_R14 - TF_SIZE
	.cfi_offset r15, TF_R15 - TF_SIZE
	call sim_syscall
	movq TF_R15(%rsp), %r15
	movq TF_R14(%rsp), %r14
	movq TF_R13(%rsp), %r13
	movq TF_R12(%rsp), %r12
	movq TF_RBP(%rsp), %rbp
	movq TF_RBX(%rsp), %rbx
	.cfi_restore rbx
	.cfi_restore rbp
	.cfi_restore r12
	.cfi_restore r13
	.cfi_restore r14
	.cfi_restore r15
	movq TF_USER_SP(%rsp), %rcx
	movq %rcx, %rsp
	.cfi_def_cfa rsp, 8
	.cfi_offset rip, -8
	movq $1, sim_cpu+CPU_IN_USER(%rip)
	ret
	.cfi_endproc
	.size sim_trap_entry, . - sim_trap_entry

/* Never executed: the "return address" of sim_trap_entry for unwinders.
 * Its rsp is the kernel stack top; the user's stack pointer and registers
 * are in the trap frame just below. */
	.type sim_trap_user, @function
sim_trap_user:
	.cfi_startproc simple
	.cfi_signal_frame
	/* CFA = the user's stack pointer before its call (rsp - 8), + 8 */
	.cfi_escape 0x0f, 0x05, 0x77, (TF_USER_SP - TF_SIZE) & 0x7f, 0x06, 0x23, 0x08
	.cfi_offset rip, -8
	CFI_SAVED_AT(3, 0x77, (TF_RBX - TF_SIZE) & 0x7f)
	CFI_SAVED_AT(6, 0x77, (TF_RBP - TF_SIZE) & 0x7f)
	CFI_SAVED_AT_NEG2(12, 0x77, TF_R12 - TF_SIZE)
	CFI_SAVED_AT(13, 0x77, (TF_R13 - TF_SIZE) & 0x7f)
	CFI_SAVED_AT(14, 0x77, (TF_R14 - TF_SIZE) & 0x7f)
	CFI_SAVED_AT(15, 0x77, (TF_R15 - TF_SIZE) & 0x7f)
	ud2
	.cfi_endproc
	.size sim_trap_user, . - sim_trap_user

/* Where a redirected signal resumes: rsp = rdi = the struct sim_uframe at
 * the top of the kernel stack. After the kernel has handled the event,
 * restore every user register from the frame without touching the user
 * stack (its page may be demand-zero and not mapped yet): rflags through
 * the kernel stack, rip through sim_cpu.resume_pc (host memory), rsp last
 * but one. Only the final jmp runs with sim_cpu.in_user set; a signal
 * that interrupts it is given the jump's target as its pc (trap.c), so the
 * frame and resume_pc may be reused at once. */
	.globl sim_irq_entry
	.type sim_irq_entry, @function
sim_irq_entry:
	.cfi_startproc simple
	.cfi_signal_frame
	/* CFA = the interrupted user stack pointer; every register in the frame */
	.cfi_escape 0x0f, 0x04, 0x77, (UF_RSP & 0x7f) | 0x80, UF_RSP >> 7, 0x06
	UFRAME_SAVED(0x77)
	call sim_irq_dispatch
	movq %rsp, %rdi
	/* the same, through rdi: rsp moves below */
	.cfi_escape 0x0f, 0x04, 0x75, (UF_RSP & 0x7f) | 0x80, UF_RSP >> 7, 0x06
	UFRAME_SAVED(0x75)
	movq UF_RIP(%rdi), %rax
	movq %rax, sim_cpu+CPU_RESUME_PC(%rip)
	pushq UF_RFLAGS(%rdi)
	popfq
	/* no instruction from here on changes the flags */
	movq UF_RAX(%rdi), %rax
	movq UF_RBX(%rdi), %rbx
	movq UF_RCX(%rdi), %rcx
	movq UF_RDX(%rdi), %rdx
	movq UF_RSI(%rdi), %rsi
	movq UF_RBP(%rdi), %rbp
	movq UF_R8(%rdi), %r8
	movq UF_R9(%rdi), %r9
	movq UF_R10(%rdi), %r10
	movq UF_R11(%rdi), %r11
	movq UF_R12(%rdi), %r12
	movq UF_R13(%rdi), %r13
	movq UF_R14(%rdi), %r14
	movq UF_R15(%rdi), %r15
	.cfi_same_value rax
	.cfi_same_value rbx
	.cfi_same_value rcx
	.cfi_same_value rdx
	.cfi_same_value rsi
	.cfi_same_value rbp
	.cfi_same_value r8
	.cfi_same_value r9
	.cfi_same_value r10
	.cfi_same_value r11
	.cfi_same_value r12
	.cfi_same_value r13
	.cfi_same_value r14
	.cfi_same_value r15
	movq UF_RSP(%rdi), %rsp
	movq UF_RDI(%rdi), %rdi
	/* the user pc is in sim_cpu.resume_pc, which CFI cannot name */
	.cfi_def_cfa rsp, 0
	.cfi_same_value rdi
	.cfi_undefined rip
	movq $1, sim_cpu+CPU_IN_USER(%rip)
	.globl sim_irq_resume_jump
sim_irq_resume_jump:
	jmp *sim_cpu+CPU_RESUME_PC(%rip)
	.cfi_endproc
	.size sim_irq_entry, . - sim_irq_entry

/* noreturn void sim_user_enter(uintptr_t pc, uintptr_t sp, uintptr_t arg)
 * Enter user mode with clean registers; only rdi (arg) and rax (pc) are
 * not zero. */
	.globl sim_user_enter
	.type sim_user_enter, @function
sim_user_enter:
	movq %rsi, %rsp
	movq %rdi, %rax
	movq %rdx, %rdi
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	movq $1, sim_cpu+CPU_IN_USER(%rip)
	jmp *%rax
	.size sim_user_enter, . - sim_user_enter

	.section .note.GNU-stack, "", @progbits
