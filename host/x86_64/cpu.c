/*
 * CPU tables and modes: the TSS (kernel stack for traps from ring 3, IST
 * stacks for double fault and NMI/machine check), the IDT and the SYSCALL
 * MSRs. The GDT itself is static in start.S; only its TSS descriptor is
 * built here. One CPU, set up once on the boot stack with interrupts off.
 */
#include <veridian/hal.h>
#include <veridian/klib.h>

#include "x86.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

#define IDT_INTERRUPT_GATE 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_STACK_SIZE 4096

static struct tss tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static uint8_t ist_stacks[2][IST_STACK_SIZE] __attribute__((aligned(16)));

static void tss_install(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 gets no ports */
	tss.ist[IST_DOUBLE_FAULT - 1] = (uintptr_t)ist_stacks[0] + IST_STACK_SIZE;
	tss.ist[IST_NMI - 1] = (uintptr_t)ist_stacks[1] + IST_STACK_SIZE;

	/* 16-byte system descriptor: type 9 (available 64-bit TSS), present. */
	x86_gdt[X86_GDT_TSS_INDEX] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
				     (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
				     (((base >> 24) & 0xff) << 56);
	x86_gdt[X86_GDT_TSS_INDEX + 1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(X86_SEL_TSS));
}

static void idt_set(unsigned vec, unsigned ist)
{
	uint64_t addr = (uintptr_t)x86_vectors + (uint64_t)vec * X86_VECTOR_STUB_SIZE;
	struct idt_gate *g = &idt[vec];

	g->offset_lo = addr & 0xffff;
	g->selector = X86_SEL_KCODE;
	g->ist = ist;
	g->type_attr = IDT_INTERRUPT_GATE;
	g->offset_mid = (addr >> 16) & 0xffff;
	g->offset_hi = addr >> 32;
	g->reserved = 0;
}

static void idt_install(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uintptr_t)idt };

	/* Every vector gets a stub, so a stray interrupt is reported by
	 * x86_trap() instead of becoming a triple fault. */
	for (unsigned v = 0; v < 256; v++)
		idt_set(v, 0);
	idt_set(X86_EXC_DF, IST_DOUBLE_FAULT);
	idt_set(X86_EXC_NMI, IST_NMI);
	idt_set(18, IST_NMI); /* machine check */
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

/* SYSCALL lands in x86_syscall_entry with IF, DF, TF, AC and NT cleared. */
static void syscall_install(void)
{
	wrmsr(X86_MSR_STAR, ((uint64_t)X86_SEL_KDATA << 48) | ((uint64_t)X86_SEL_KCODE << 32));
	wrmsr(X86_MSR_LSTAR, (uintptr_t)x86_syscall_entry);
	wrmsr(X86_MSR_SFMASK, 0x200 | 0x400 | 0x100 | 0x40000 | 0x4000);
	wrmsr(X86_MSR_EFER, rdmsr(X86_MSR_EFER) | X86_EFER_SCE);
}

void x86_cpu_init(void)
{
	tss_install();
	idt_install();
	syscall_install();
}

void hal_set_kernel_stack(uintptr_t top)
{
	tss.rsp[0] = top;
	x86_kstack_top = top;
}

/* CPUID.1:ECX[31] says a hypervisor is present; leaf 0x40000000 then
 * carries its 12-byte signature in ebx, ecx, edx. */
const char *x86_hypervisor_signature(void)
{
	static char sig[13];
	uint32_t a, b, c, d;

	if (sig[0])
		return sig;
	cpuid(1, &a, &b, &c, &d);
	if (!(c & (1u << 31))) {
		kstrlcpy(sig, "none", sizeof(sig));
		return sig;
	}
	cpuid(0x40000000, &a, &b, &c, &d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	for (int i = 0; i < 12; i++)
		if (sig[i] && (sig[i] < 0x20 || sig[i] > 0x7e))
			sig[i] = '?';
	if (!sig[0])
		kstrlcpy(sig, "unknown", sizeof(sig));
	return sig;
}
