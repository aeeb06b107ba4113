/*
 * Assembly entry points of veridian-sim: kernel context switch, the trap
 * from user code into the kernel, return to user mode after an interrupt
 * or fault, and the first entry into user mode.
 *
 * sim_cpu.in_user is cleared before the first instruction that touches the
 * kernel stack and set only once the stack pointer is the user's again, so
 * a signal that finds it set can save the state and reuse the top of the
 * kernel stack without clobbering anything.
 */
#include "host/linux/cpu.h"

	.text

/* void hal_context_switch(struct hal_context *from, struct hal_context *to)
 * Saves the callee-saved registers on the current stack, stores the stack
 * pointer in from->sp (offset 0) and resumes `to`. */
	.globl hal_context_switch
	.type hal_context_switch, @function
hal_context_switch:
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
	.size hal_context_switch, . - hal_context_switch

/* First code of a context made by hal_context_init(): r12 = entry,
 * r13 = arg; the stack pointer is 16-byte aligned here. */
	.globl sim_context_start
	.type sim_context_start, @function
sim_context_start:
	movq %r13, %rdi
	call *%r12
	call sim_context_returned
	ud2
	.size sim_context_start, . - sim_context_start

/* long trap(long nr, long a0, ..., long a4), reached from the trap page.
 * The arguments are already where kernel_syscall() wants them. The user's
 * callee-saved registers and stack pointer are kept on the kernel stack,
 * which kernel_syscall() may leave and come back to (thread switch). */
	.globl sim_trap_entry
	.type sim_trap_entry, @function
sim_trap_entry:
	movq $0, sim_cpu+CPU_IN_USER(%rip)
	movq %rsp, %rax
	movq sim_cpu+CPU_KSTACK_TOP(%rip), %rsp
	pushq %rax
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp
	call sim_syscall
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	popq %rcx
	movq %rcx, %rsp
	movq $1, sim_cpu+CPU_IN_USER(%rip)
	ret
	.size sim_trap_entry, . - sim_trap_entry

/* Where a redirected signal resumes: rsp = rdi = the struct sim_uframe at
 * the top of the kernel stack. After the kernel has handled the event,
 * restore every user register from the frame. rip, rflags and rdi travel
 * through the 24 bytes below the user stack pointer (no red zone there). */
	.globl sim_irq_entry
	.type sim_irq_entry, @function
sim_irq_entry:
	call sim_irq_dispatch
	movq %rsp, %rdi
	movq UF_RSP(%rdi), %rax
	subq $UF_BELOW_SP, %rax
	movq UF_RDI(%rdi), %rcx
	movq %rcx, 0(%rax)
	movq UF_RFLAGS(%rdi), %rcx
	movq %rcx, 8(%rax)
	movq UF_RIP(%rdi), %rcx
	movq %rcx, 16(%rax)
	movq %rax, %rsp
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
	movq $1, sim_cpu+CPU_IN_USER(%rip)
	popq %rdi
	popfq
	ret
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
