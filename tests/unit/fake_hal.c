/*
 * Fake HAL for unit tests and fuzz harnesses (see fake_hal.h). Single
 * threaded, like the kernel it hosts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/fake_hal.h"

#include <veridian/pmm.h>
#include <veridian/vm.h>

struct fake_hal fake_hal;
uintptr_t hal_physmap_base;

bool fake_hal_init(size_t bytes)
{
	const char *verbose = getenv("VERIDIAN_UNIT_VERBOSE");
	void (*hook)(const char *) = fake_hal.panic_hook;

	if (bytes % PAGE_SIZE || bytes <= FAKE_RESERVED_FRAMES * PAGE_SIZE)
		return false;
	memset(&fake_hal, 0, sizeof(fake_hal));
	fake_hal.panic_hook = hook; /* installed once per program */
	fake_hal.ram = aligned_alloc(PAGE_SIZE, bytes);
	if (!fake_hal.ram)
		return false;
	memset(fake_hal.ram, 0, bytes);
	fake_hal.ram_size = bytes;
	fake_hal.console_echo = verbose && *verbose == '1';
	fake_hal.timer_deadline = UINT64_MAX;
	fake_hal.bi.mem[0].base = FAKE_RESERVED_FRAMES * PAGE_SIZE;
	fake_hal.bi.mem[0].size = bytes - FAKE_RESERVED_FRAMES * PAGE_SIZE;
	fake_hal.bi.mem_count = 1;
	fake_hal.bi.cmdline = "";
	hal_physmap_base = (uintptr_t)fake_hal.ram;
	return true;
}

void fake_hal_fini(void)
{
	free(fake_hal.ram);
	fake_hal.ram = NULL;
	fake_hal.ram_size = 0;
	hal_physmap_base = 0;
}

void fake_hal_reset_records(void)
{
	fake_hal.invalidations = 0;
	fake_hal.last_inval_pml4 = 0;
	fake_hal.last_inval_va = 0;
	fake_hal.last_inval_len = 0;
	fake_hal.console[0] = '\0';
	fake_hal.console_len = 0;
	fake_hal.panics = 0;
}

bool fake_hal_phys_ok(uint64_t pa, size_t len)
{
	return pa <= fake_hal.ram_size && fake_hal.ram_size - pa >= len;
}

/* Reports a HAL call that needs a real machine and stops the test. */
static noreturn void unsupported(const char *what)
{
	fprintf(stderr, "fake HAL: %s is not supported in unit tests\n", what);
	abort();
}

const char *hal_build_name(void)
{
	return "veridian-unit";
}

const char *hal_hypervisor_name(void)
{
	return "none";
}

void hal_console_write(const char *buf, size_t len)
{
	size_t room = sizeof(fake_hal.console) - 1 - fake_hal.console_len;
	size_t n = len < room ? len : room;

	memcpy(fake_hal.console + fake_hal.console_len, buf, n);
	fake_hal.console_len += n;
	fake_hal.console[fake_hal.console_len] = '\0';
	if (fake_hal.console_echo)
		fwrite(buf, 1, len, stderr);
}

void hal_idle(void)
{
	unsupported("hal_idle (waiting for events)");
}

uint64_t hal_clock_ns(void)
{
	return fake_hal.clock_ns;
}

void hal_timer_arm(uint64_t deadline_ns)
{
	fake_hal.timer_deadline = deadline_ns;
}

noreturn void hal_poweroff(int status)
{
	fprintf(stderr, "fake HAL: hal_poweroff(%d) called\n", status);
	unsupported("hal_poweroff");
}

/* A panic inside core: back to the test that expected it, or a failure
 * through the test framework's hook, or abort() (fuzzers see a crash). */
noreturn void hal_panic_halt(void)
{
	fake_hal.panics++;
	if (fake_hal.panic_jmp)
		longjmp(*fake_hal.panic_jmp, 1);
	if (fake_hal.panic_hook)
		fake_hal.panic_hook(fake_hal.console);
	fprintf(stderr, "fake HAL: kernel panic:\n%s\n", fake_hal.console);
	abort();
}

void hal_context_init(struct hal_context *ctx, void *stack, size_t size, void (*entry)(void *),
		      void *arg)
{
	(void)entry;
	(void)arg;
	ctx->sp = (uintptr_t)stack + size;
	ctx->stack_base = (uintptr_t)stack;
	ctx->stack_size = size;
	ctx->stack_id = 0;
}

void hal_context_switch(struct hal_context *from, struct hal_context *to)
{
	(void)from;
	(void)to;
	unsupported("hal_context_switch");
}

void hal_context_destroy(struct hal_context *ctx)
{
	ctx->sp = 0;
}

void hal_set_kernel_stack(uintptr_t top)
{
	(void)top;
}

void hal_set_user_tls(uintptr_t base)
{
	(void)base;
}

/* Links PML4 entry 0 to a fake kernel mapping: one supervisor page at
 * FAKE_KERNEL_VA, so tests can check that user copies refuse it. The tables
 * sit in the reserved frames and are shared by every space. */
void hal_vm_space_init(uint64_t *pml4)
{
	uint64_t *pdpt = (uint64_t *)(hal_physmap_base + FAKE_KERNEL_PDPT_PA);
	uint64_t *pd = (uint64_t *)(hal_physmap_base + FAKE_KERNEL_PD_PA);
	uint64_t *pt = (uint64_t *)(hal_physmap_base + FAKE_KERNEL_PT_PA);

	pdpt[0] = FAKE_KERNEL_PD_PA | PTE_P | PTE_W;
	pd[0] = FAKE_KERNEL_PT_PA | PTE_P | PTE_W;
	pt[FAKE_KERNEL_VA >> PAGE_SHIFT] = FAKE_KERNEL_PAGE_PA | PTE_P | PTE_W;
	pml4[0] = FAKE_KERNEL_PDPT_PA | PTE_P | PTE_W;
}

void hal_vm_activate(uint64_t pml4_pa)
{
	(void)pml4_pa;
}

void hal_vm_invalidate(uint64_t pml4_pa, uintptr_t va, size_t len)
{
	fake_hal.invalidations++;
	fake_hal.last_inval_pml4 = pml4_pa;
	fake_hal.last_inval_va = va;
	fake_hal.last_inval_len = len;
}

/* int3 everywhere: a user program that jumped here would trap at once. */
void hal_trap_page_fill(void *page, size_t size)
{
	memset(page, 0xcc, size);
}

noreturn void hal_user_enter(uintptr_t pc, uintptr_t sp, uintptr_t arg)
{
	fprintf(stderr, "fake HAL: hal_user_enter(pc=%#lx, sp=%#lx, arg=%#lx)\n", (unsigned long)pc,
		(unsigned long)sp, (unsigned long)arg);
	unsupported("hal_user_enter");
}
