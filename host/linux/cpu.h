/*
 * The simulated CPU of veridian-sim: the state shared between the assembly
 * entry points (entry.S), the signal handlers and the C trap code.
 * Private to host/linux. Included by entry.S, so only macros outside the
 * !__ASSEMBLER__ part.
 */
#ifndef VERIDIAN_HOST_LINUX_CPU_H
#define VERIDIAN_HOST_LINUX_CPU_H

/* Offsets in struct sim_cpu. */
#define CPU_KSTACK_TOP 0
#define CPU_IN_USER 8
#define CPU_RESUME_PC 32

/* Offsets in struct sim_uframe. */
#define UF_RAX 0
#define UF_RBX 8
#define UF_RCX 16
#define UF_RDX 24
#define UF_RSI 32
#define UF_RDI 40
#define UF_RBP 48
#define UF_R8 56
#define UF_R9 64
#define UF_R10 72
#define UF_R11 80
#define UF_R12 88
#define UF_R13 96
#define UF_R14 104
#define UF_R15 112
#define UF_RIP 120
#define UF_RFLAGS 128
#define UF_RSP 136
#define UF_SIZE 208

#ifndef __ASSEMBLER__
#include <stdint.h>

/* SIM_ASAN: built with AddressSanitizer (GCC and Clang spell it apart). */
#if defined(__SANITIZE_ADDRESS__)
#define SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_ASAN 1
#endif
#endif

#include <veridian/hal.h>

/* The one CPU. in_user is read by signal handlers: a signal that finds it
 * set interrupted user code (or the trap stub before it switched stacks),
 * so its register state may be redirected into the kernel. */
struct sim_cpu {
	uintptr_t kstack_top; /* current thread's kernel stack (hal_set_kernel_stack) */
	volatile uint64_t in_user;
	volatile uint64_t irq_pending; /* a tick arrived in kernel code (real time) */
	volatile uint64_t traps;       /* entries from user mode, for the watchdog */
	uintptr_t resume_pc;           /* sim_irq_entry's jump target into user code */
};

extern struct sim_cpu sim_cpu;

enum sim_irq_reason {
	SIM_IRQ_FAULT = 1,
	SIM_IRQ_TICK,     /* real time: the periodic host timer */
	SIM_IRQ_WATCHDOG, /* virtual time: user code ran too long without a trap */
};

/* The user register state saved when a signal interrupted user mode. It
 * lives at the top of the thread's kernel stack (empty while in user mode),
 * so it belongs to the thread even if the kernel switches threads. */
struct sim_uframe {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags, rsp;
	uint64_t reason; /* enum sim_irq_reason */
	uint64_t pad;
	struct hal_fault fault;
	uint64_t pad2; /* to a multiple of 16 bytes */
};

/* entry.S */
void sim_context_switch(struct hal_context *from, struct hal_context *to);
void sim_trap_entry(void);
void sim_irq_entry(void);
extern const char sim_irq_resume_jump[]; /* the jmp through sim_cpu.resume_pc */
void sim_context_start(void);
noreturn void sim_user_enter(uintptr_t pc, uintptr_t sp, uintptr_t arg);

/* trap.c: called from entry.S on the kernel stack. */
int64_t sim_syscall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);
void sim_irq_dispatch(struct sim_uframe *f);
noreturn void sim_context_returned(void);

/* context.c: called by sim_context_start before a new context's entry. */
void sim_context_first_run(void);

/* trap.c: install the fault and timer signal handlers and the tick timer. */
struct sim_trap_config {
	int virtual_time;
	int watchdog_ms; /* user time without a trap before the watchdog fires */
	int slice_ms;    /* virtual time charged to a thread the watchdog preempts */
};
int sim_trap_init(const struct sim_trap_config *cfg);
void sim_trap_forget_stack(uintptr_t kstack_top);

/* platform.c: restore the terminal; async-signal-safe. */
void sim_host_restore_terminal(void);

#endif
#endif
