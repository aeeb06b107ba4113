/*
 * Kernel entry and exit paths of veridian.elf: interrupt/exception stubs,
 * the SYSCALL entry, the user trap code copied into every process's trap
 * page, entry to user mode, and the kernel context switch.
 *
 * Per-thread state lives on the thread's kernel stack, never in globals:
 * kernel_syscall() and kernel_interrupt_exit() may switch to another thread
 * and come back much later. The only global on these paths is the kernel
 * stack top of the running thread (x86_kstack_top, also TSS.rsp0), plus a
 * scratch word the SYSCALL entry uses for one instruction with interrupts
 * masked (one CPU).
 */
#include "x86.h"

	.text

	/*
	 * 256 entry stubs, X86_VECTOR_STUB_SIZE bytes each, so cpu.c can
	 * compute stub i's address. Each pushes a zero error code where the
	 * CPU pushes none, then the vector number.
	 */
	.balign X86_VECTOR_STUB_SIZE
	.globl x86_vectors
x86_vectors:
	.set vec, 0
	.rept 256
	.balign X86_VECTOR_STUB_SIZE
	/* The vectors for which the CPU pushes an error code. */
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || \
		(vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp x86_trap_common
	.set vec, vec + 1
	.endr

	/* Build a struct x86_trap_frame and call x86_trap(frame). The CPU
	 * has aligned rsp to 16 before its 5-word push; 2 + 15 more words
	 * keep the call aligned. x86_trap may switch threads (user traps);
	 * it returns on this same stack when this thread runs again. */
x86_trap_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	cld
	mov %rsp, %rdi
	call x86_trap
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp /* vector, error code */
	iretq

	/*
	 * SYSCALL entry. From the trap page: the SysV argument registers of
	 * kernel_syscall(nr, a0..a4), rdi, rsi, rdx, rcx, r8, r9, except a2
	 * in r10 (the CPU put the user rip in rcx and rflags in r11); SFMASK
	 * cleared IF/DF/TF/AC. Calls kernel_syscall on this thread's kernel
	 * stack. Callee-saved user registers survive through the C calling
	 * convention (hal_context_switch saves them if the kernel switches
	 * threads); caller-saved ones are cleared on exit so no kernel values
	 * leak.
	 * The short IPC syscalls (50-54, abi.h; core/ipc.c asserts the range)
	 * save r12-r15 and rbx, a short message, as core's struct
	 * hal_msg_regs at kstack_top - HAL_MSG_REGS_OFF (72, hal.h) and reload
	 * them from there: core reads the words sent and writes those received.
	 * Other syscalls pay only the range check.
	 */
	.globl x86_syscall_entry
x86_syscall_entry:
	mov %rsp, syscall_user_rsp(%rip)
	mov x86_kstack_top(%rip), %rsp
	pushq syscall_user_rsp(%rip) /* kstack_top - 8 */
	push %rcx
	push %r11
	push %rbp                    /* kstack_top - 32 */
	mov %rsp, %rbp
	mov %r10, %rcx /* a2 */
	lea -50(%rdi), %rax
	cmp $4, %rax
	jbe x86_syscall_short
	call kernel_syscall
x86_syscall_exit:
	xor %edi, %edi
	xor %esi, %esi
	xor %edx, %edx
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	pop %rbp
	pop %r11
	pop %rcx
	/* sysretq with a non-canonical rcx faults in ring 0 on the user stack
	 * (the CVE-2012-0217 class): refuse anything outside the user half.
	 * rcx comes from the syscall instruction, so this is a kernel bug. */
	mov %rcx, %rdi
	sar $47, %rdi
	jnz x86_sysret_bad
	pop %rsp
	sysretq

x86_syscall_short:
	push %rbx /* kstack_top - 40: hal_msg_regs.badge */
	push %r15
	push %r14
	push %r13
	push %r12 /* kstack_top - 72: hal_msg_regs.w[0] */
	sub $8, %rsp /* the call needs rsp 16-byte aligned */
	call kernel_syscall
	add $8, %rsp
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbx
	jmp x86_syscall_exit

	/*
	 * hal_user_enter(pc, sp, arg): iretq to ring 3 with IF set, rdi =
	 * arg, every other general register zero and a clean FPU/SSE state.
	 * The current kernel stack is abandoned; traps land at TSS.rsp0.
	 */
	.globl hal_user_enter
hal_user_enter:
	fxrstorq fpu_clean_state(%rip)
	pushq $X86_SEL_UDATA
	push %rsi
	pushq $X86_RFLAGS_IF
	pushq $X86_SEL_UCODE
	push %rdi
	mov %rdx, %rdi
	xor %eax, %eax
	xor %ebx, %ebx
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	iretq

	/*
	 * hal_context_switch(from, to): save callee-saved registers and the
	 * FPU/SSE state on the current stack, store rsp in from->sp, load
	 * to->sp, restore. The kernel itself never touches FPU/SSE registers
	 * (-mgeneral-regs-only), so what is saved here is the user state of
	 * the thread being switched out. Frame, from the saved sp up:
	 *   [0] rsp before the FXSAVE area, [8] pad, [16] 512-byte FXSAVE
	 *   area (16-aligned), then r15 r14 r13 r12 rbx rbp, return address.
	 * hal_context_init (hal.c) builds the same frame for a new thread.
	 */
	.globl hal_context_switch
hal_context_switch:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rax
	sub $512, %rsp
	and $-16, %rsp
	fxsaveq (%rsp)
	sub $16, %rsp
	mov %rax, (%rsp)
	mov %rsp, (%rdi)
	mov (%rsi), %rsp
	fxrstorq 16(%rsp)
	mov (%rsp), %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

	/* First run of a context: r12 = entry, r13 = arg (hal_context_init). */
	.globl x86_context_trampoline
x86_context_trampoline:
	mov %r13, %rdi
	call *%r12
	ud2 /* entry must not return */

	/*
	 * The user trap function, long trap(long nr, long a0, ..., long a4),
	 * copied into each process's trap page by hal_trap_page_fill(). It
	 * is position-independent. The SysV argument registers (rdi=nr, rsi,
	 * rdx, rcx, r8, r9) stay where they are, as kernel_syscall() takes
	 * them, except a2: rcx is lost to SYSCALL, so it travels in r10.
	 * r12-r15 carry a short IPC message both ways (see the entry).
	 */
	.section .rodata
	.globl x86_trap_code_start, x86_trap_code_end
x86_trap_code_start:
	mov %rcx, %r10
	syscall
	ret
x86_trap_code_end:

	/* FXSAVE image of a freshly reset FPU: FCW 0x37f, MXCSR 0x1f80. */
	.balign 16
	.globl x86_fpu_clean_state
x86_fpu_clean_state:
fpu_clean_state:
	.short 0x37f
	.skip 22
	.long 0x1f80
	.skip 512 - 28

	.section .data
	.balign 8
	.globl x86_kstack_top
x86_kstack_top:
	.quad 0
syscall_user_rsp:
	.quad 0

	.section .note.GNU-stack, "", @progbits
