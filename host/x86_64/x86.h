/*
 * host/x86_64 private interface: CPU instruction wrappers, the segment and
 * vector layout, the trap frame shared with entry.S, and the functions the
 * files of this folder call in each other. Nothing outside host/x86_64
 * includes this header; core/ only sees hal.h.
 */
#ifndef VERIDIAN_X86_H
#define VERIDIAN_X86_H

/*
 * GDT selectors. The order is fixed by SYSCALL/SYSRET: STAR[47:32] = 0x08
 * gives kernel CS 0x08 and SS 0x10; STAR[63:48] = 0x10 gives user SS
 * 0x10+8 = 0x18 and user CS 0x10+16 = 0x20 (both with RPL 3). start.S holds
 * the table; the TSS descriptor is filled in by cpu.c.
 */
#define X86_SEL_KCODE 0x08
#define X86_SEL_KDATA 0x10
#define X86_SEL_UDATA 0x1b
#define X86_SEL_UCODE 0x23
#define X86_SEL_TSS 0x28
#define X86_GDT_TSS_INDEX 5

/* Interrupt vectors: 0-31 exceptions, then ours. The i8259 pair is
 * remapped to 0x30-0x3f and masked; only its spurious IRQs can arrive. */
#define X86_VEC_TIMER 0x20
#define X86_VEC_PIC_BASE 0x30
#define X86_VEC_SPURIOUS 0xff

#define X86_RFLAGS_IF 0x200

/* Exception vectors referred to by name. */
#define X86_EXC_NMI 2
#define X86_EXC_UD 6
#define X86_EXC_DF 8
#define X86_EXC_PF 14

/* Page-fault error code bits. */
#define X86_PF_PRESENT (1u << 0)
#define X86_PF_WRITE (1u << 1)
#define X86_PF_USER (1u << 2)
#define X86_PF_RSVD (1u << 3)
#define X86_PF_FETCH (1u << 4)

/* MSRs. */
#define X86_MSR_APIC_BASE 0x1b
#define X86_MSR_EFER 0xc0000080
#define X86_MSR_STAR 0xc0000081
#define X86_MSR_LSTAR 0xc0000082
#define X86_MSR_SFMASK 0xc0000084
#define X86_MSR_GS_BASE 0xc0000101 /* the kernel never loads %gs: user TLS lives here */
#define X86_EFER_SCE (1ull << 0)

#define X86_VECTOR_STUB_SIZE 16

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

/*
 * What entry.S pushes on the kernel stack for every interrupt and exception,
 * lowest address first. The stub pushes the vector (and a zero error code
 * where the CPU pushes none); the CPU pushes rip..ss.
 */
struct x86_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void cpu_pause(void)
{
	__asm__ volatile("pause");
}

/* ---- start.S / linker script ---------------------------------------------- */

extern char x86_kernel_start[], x86_kernel_end[];
extern char x86_initrd_start[], x86_initrd_end[];
extern uint64_t x86_gdt[];
extern uint64_t x86_boot_pml4[];
extern uint64_t x86_boot_tsc; /* TSC read at the first instruction of the kernel */

/* ---- entry.S -------------------------------------------------------------- */

extern char x86_vectors[]; /* 256 entry stubs, X86_VECTOR_STUB_SIZE bytes apart */
extern char x86_trap_code_start[], x86_trap_code_end[];
extern uintptr_t x86_kstack_top; /* where the syscall entry switches to */
void x86_syscall_entry(void);

/* ---- serial.c ------------------------------------------------------------ */

void x86_serial_init(void);
void x86_serial_write(const char *buf, size_t len);
/* Drain the receive FIFO into kernel_console_input(). Returns whether
 * anything arrived. Interrupts off. */
bool x86_serial_poll(void);
/* Unbuffered diagnostics for fault dumps: no locks, no core calls. */
void x86_puts(const char *s);
void x86_put_hex(uint64_t v);
void x86_put_dec(uint64_t v);

/* ---- cpu.c --------------------------------------------------------------- */

/* GDT/TSS, IDT and the SYSCALL MSRs. Boot stack, interrupts off. */
void x86_cpu_init(void);
const char *x86_hypervisor_signature(void);

/* ---- timer.c ------------------------------------------------------------- */

/* Mask the i8259s, enable the LAPIC and calibrate TSC and LAPIC timer. */
void x86_timer_init(void);
/* Timer interrupt (vector X86_VEC_TIMER); user_mode says where it hit. */
void x86_timer_irq(bool user_mode);
void x86_lapic_eoi(void);

/* ---- boot.c -------------------------------------------------------------- */

noreturn void x86_boot_main(uint32_t magic, uint32_t info_pa);
/* Whether the kernel command line contains the word `opt`. */
bool x86_cmdline_has(const char *opt);

/* ---- trap.c -------------------------------------------------------------- */

void x86_trap(struct x86_trap_frame *f);

#endif /* __ASSEMBLER__ */
#endif
