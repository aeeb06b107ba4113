/*
 * The remaining HAL functions of veridian.elf: identification, power-off,
 * kernel contexts, address spaces and the user trap page. Interrupts, time
 * and the console live in trap.c, timer.c and serial.c.
 */
#include <veridian/abi.h>
#include <veridian/hal.h>
#include <veridian/klib.h>

#include "x86.h"

#define DEBUG_EXIT_PORT 0xf4   /* QEMU isa-debug-exit: exits with (v << 1) | 1 */
#define PANIC_EXIT_STATUS 0x7f /* QEMU exit status 255 after a panic */
#define INVLPG_MAX_PAGES 32    /* beyond this, one CR3 reload is cheaper */
#define FXSAVE_SIZE 512

uintptr_t hal_physmap_base; /* 0: start.S identity-maps [0, 4 GiB) */

extern const char x86_fpu_clean_state[];
void x86_context_trampoline(void);

const char *hal_build_name(void)
{
	return "veridian.elf";
}

const char *hal_hypervisor_name(void)
{
	return x86_hypervisor_signature();
}

static noreturn void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

noreturn void hal_poweroff(int status)
{
	outl(DEBUG_EXIT_PORT, (uint32_t)status);
	/* No isa-debug-exit (real hardware, or QEMU without the device):
	 * ACPI power-off is not implemented, so stop here. */
	x86_puts("veridian: no isa-debug-exit device; halting instead of powering off\n");
	halt_forever();
}

/* Halts; under QEMU with isa-debug-exit it first ends the VM with status
 * 255 so that a test sees the panic at once instead of timing out. */
noreturn void hal_panic_halt(void)
{
	outl(DEBUG_EXIT_PORT, PANIC_EXIT_STATUS);
	halt_forever();
}

/*
 * Build the frame hal_context_switch (entry.S) pops: at sp the address of the
 * callee-saved block, then a clean FXSAVE image, then r15 r14 r13 r12 rbx rbp
 * and the return address. The block sits just below the 16-aligned top, so
 * the trampoline calls entry(arg) with an ABI-aligned stack.
 */
void hal_context_init(struct hal_context *ctx, void *stack, size_t size, void (*entry)(void *),
		      void *arg)
{
	uintptr_t top = ALIGN_DOWN((uintptr_t)stack + size, 16);
	uint64_t *regs = (uint64_t *)(top - 7 * sizeof(uint64_t));
	uintptr_t fx = ALIGN_DOWN((uintptr_t)regs - FXSAVE_SIZE, 16);
	uint64_t *sp = (uint64_t *)(fx - 16);

	regs[0] = 0;                                 /* r15 */
	regs[1] = 0;                                 /* r14 */
	regs[2] = (uintptr_t)arg;                    /* r13 */
	regs[3] = (uintptr_t)entry;                  /* r12 */
	regs[4] = 0;                                 /* rbx */
	regs[5] = 0;                                 /* rbp */
	regs[6] = (uintptr_t)x86_context_trampoline; /* return address */
	memcpy((void *)fx, x86_fpu_clean_state, FXSAVE_SIZE);
	sp[0] = (uintptr_t)regs;
	sp[1] = 0;
	ctx->sp = (uintptr_t)sp;
	ctx->stack_base = (uintptr_t)stack;
	ctx->stack_size = size;
	ctx->stack_id = 0;
}

void hal_context_destroy(struct hal_context *ctx)
{
	ctx->sp = 0; /* nothing registered on bare metal */
}

/* Every address space shares the boot identity map (PML4 entry 0, no U
 * bit); core owns the user slots at PML4 index 64 and up. */
void hal_vm_space_init(uint64_t *pml4)
{
	pml4[0] = x86_boot_pml4[0];
}

void hal_vm_activate(uint64_t pml4_pa)
{
	write_cr3(pml4_pa);
}

/* No PCIDs and no global user pages: only the current space can have
 * cached translations; switching CR3 flushes the others. */
void hal_vm_invalidate(uint64_t pml4_pa, uintptr_t va, size_t len)
{
	uintptr_t start = ALIGN_DOWN(va, VR_PAGE_SIZE);
	uintptr_t end = ALIGN_UP(va + len, VR_PAGE_SIZE);
	uint64_t cr3 = read_cr3();

	if ((cr3 & ~0xfffull) != (pml4_pa & ~0xfffull))
		return;
	if ((end - start) / VR_PAGE_SIZE > INVLPG_MAX_PAGES) {
		write_cr3(cr3);
		return;
	}
	for (uintptr_t p = start; p < end; p += VR_PAGE_SIZE)
		__asm__ volatile("invlpg (%0)" : : "r"(p) : "memory");
}

/* The trap function (entry.S) followed by int3 filler. */
void hal_trap_page_fill(void *page, size_t size)
{
	size_t n = (size_t)(x86_trap_code_end - x86_trap_code_start);

	KASSERT(n <= size);
	memset(page, 0xcc, size);
	memcpy(page, x86_trap_code_start, n);
}

/* The GS base is the thread pointer itself: %gs:0 reads the pointer the
 * TLS block starts with (abi.h). The kernel checked that base is canonical:
 * wrmsr would fault otherwise. */
void hal_set_user_tls(uintptr_t base)
{
	wrmsr(X86_MSR_GS_BASE, base);
}
