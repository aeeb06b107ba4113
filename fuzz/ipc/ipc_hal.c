/*
 * Fake HAL of the IPC fuzz harness (see ipc_hal.h): physical RAM in a host
 * buffer, a clock that moves only when the harness says so, and kernel
 * threads that really run, each on its own stack.
 *
 * Invariants:
 *  1. ipch_to_host() runs on the boot stack (the idle thread), and the
 *     host resumes exactly there: the kernel is quiescent while the host
 *     runs (no thread is half-way through a syscall except blocked ones).
 *  2. Every stack switch is announced to AddressSanitizer as a fiber
 *     switch, and a stack given back to the kernel (hal_context_destroy) is
 *     unpoisoned: its frames become ordinary RAM for the next allocation.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/ipc/ipc_hal.h"

#include <veridian/pmm.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IPCH_ASAN 1
#endif
#endif

#ifdef IPCH_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#define BOOT_STACK_SIZE (256u * 1024u)
#define CONSOLE_TAIL 4096u

struct ipch_machine ipch;
uintptr_t hal_physmap_base;

static struct {
	void *ram;
	size_t ram_size;
	struct boot_info bi;
	void *boot_stack;
	uintptr_t host_sp, kernel_sp; /* saved stack pointers of the two sides */
	const void *host_bottom;      /* the host (fuzzer) thread's stack */
	size_t host_size;
	char console[CONSOLE_TAIL];
	size_t console_len;
} m;

/* ---- Stack switching ------------------------------------------------------ */

/* void ipch_ctx_switch(uintptr_t *save_sp, uintptr_t new_sp): push the
 * callee-saved registers, save rsp, load the other stack and pop its
 * registers. A new stack is prepared by init_stack() so that the `ret`
 * lands in ipch_ctx_trampoline with the entry in r12 and its argument in
 * r13. */
void ipch_ctx_switch(uintptr_t *save_sp, uintptr_t new_sp);
void ipch_ctx_trampoline(void);
__asm__(".text\n"
	".globl ipch_ctx_switch\n"
	".type ipch_ctx_switch, @function\n"
	"ipch_ctx_switch:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size ipch_ctx_switch, .-ipch_ctx_switch\n"
	".globl ipch_ctx_trampoline\n"
	".type ipch_ctx_trampoline, @function\n"
	"ipch_ctx_trampoline:\n"
	"	movq %r13, %rdi\n"
	"	movq %r12, %rsi\n"
	"	call ipch_ctx_first\n"
	"	ud2\n"
	".size ipch_ctx_trampoline, .-ipch_ctx_trampoline\n");

static void fiber_start(void **fake, const void *bottom, size_t size)
{
#ifdef IPCH_ASAN
	__sanitizer_start_switch_fiber(fake, bottom, size);
#else
	(void)fake;
	(void)bottom;
	(void)size;
#endif
}

static void fiber_finish(void *fake)
{
#ifdef IPCH_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#else
	(void)fake;
#endif
}

static void unpoison(void *p, size_t n)
{
#ifdef IPCH_ASAN
	ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
	(void)p;
	(void)n;
#endif
}

/* Switch stacks, telling ASan which stack we land on. */
static void fiber_switch(uintptr_t *save_sp, uintptr_t to_sp, const void *to_bottom, size_t to_size)
{
	void *fake = NULL;

	ipch.context_switches++;
	fiber_start(&fake, to_bottom, to_size);
	ipch_ctx_switch(save_sp, to_sp);
	fiber_finish(fake);
}

/* First code on a new stack (called by the trampoline, never returns). */
noreturn void ipch_ctx_first(void *arg, void (*entry)(void *));
noreturn void ipch_ctx_first(void *arg, void (*entry)(void *))
{
	fiber_finish(NULL);
	entry(arg);
	ipch_fail("a kernel context's entry function returned");
}

/* Lay out [stack, stack+size) so that switching to the returned sp runs
 * entry(arg) through the trampoline, with a 16-byte aligned call. The top
 * HAL_MSG_REGS_OFF bytes (rounded up) stay unused: a real host's syscall
 * entry keeps the user's message registers there (hal.h), and the harness's
 * user code, which runs on this stack, keeps them there too (short IPC). */
static uintptr_t init_stack(void *stack, size_t size, void (*entry)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)(top - ((HAL_MSG_REGS_OFF + 15) & ~15u) - 72);

	unpoison(stack, size);
	sp[0] = 0;                          /* r15 */
	sp[1] = 0;                          /* r14 */
	sp[2] = (uint64_t)(uintptr_t)arg;   /* r13 */
	sp[3] = (uint64_t)(uintptr_t)entry; /* r12 */
	sp[4] = 0;                          /* rbx */
	sp[5] = 0;                          /* rbp: ends frame-pointer walks */
	sp[6] = (uint64_t)(uintptr_t)ipch_ctx_trampoline;
	sp[7] = 0;
	sp[8] = 0;
	return (uintptr_t)sp;
}

/* ---- Boot and the host side ---------------------------------------------- */

static void boot_entry(void *arg)
{
	kernel_main(arg);
}

static void host_stack_bounds(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &attr) || pthread_attr_getstack(&attr, &addr, &size))
		ipch_fail("cannot find the host thread's stack");
	pthread_attr_destroy(&attr);
	m.host_bottom = addr;
	m.host_size = size;
}

void ipch_boot(size_t ram_bytes, const void *initrd, size_t initrd_size)
{
	size_t initrd_pages = (initrd_size + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t first_free = (1 + initrd_pages) * PAGE_SIZE; /* frame 0 stays unused */
	uintptr_t boot_sp;

	if (m.ram)
		ipch_fail("ipch_boot called twice");
	m.ram = aligned_alloc(PAGE_SIZE, ram_bytes);
	m.boot_stack = aligned_alloc(16, BOOT_STACK_SIZE);
	if (!m.ram || !m.boot_stack || first_free >= ram_bytes)
		ipch_fail("out of host memory for %zu bytes of RAM", ram_bytes);
	memset(m.ram, 0, ram_bytes);
	m.ram_size = ram_bytes;
	memcpy((char *)m.ram + PAGE_SIZE, initrd, initrd_size);
	hal_physmap_base = (uintptr_t)m.ram;
	m.bi = (struct boot_info){
		.mem = { { first_free, ram_bytes - first_free } },
		.mem_count = 1,
		.initrd_pa = PAGE_SIZE,
		.initrd_size = initrd_size,
		.cmdline = "",
	};
	ipch.timer_deadline = UINT64_MAX;
	ipch.echo = getenv("IPC_FUZZ_TRACE") != NULL;
	host_stack_bounds();
	boot_sp = init_stack(m.boot_stack, BOOT_STACK_SIZE, boot_entry, &m.bi);
	fiber_switch(&m.host_sp, boot_sp, m.boot_stack, BOOT_STACK_SIZE);
}

void ipch_run(void)
{
	fiber_switch(&m.host_sp, m.kernel_sp, m.boot_stack, BOOT_STACK_SIZE);
}

void ipch_to_host(void)
{
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);

	if (here < (uintptr_t)m.boot_stack || here >= (uintptr_t)m.boot_stack + BOOT_STACK_SIZE)
		ipch_fail("ipch_to_host called off the idle thread's stack"); /* invariant 1 */
	fiber_switch(&m.kernel_sp, m.host_sp, m.host_bottom, m.host_size);
}

const char *ipch_console_tail(void)
{
	return m.console;
}

/* ---- hal.h --------------------------------------------------------------- */

const char *hal_build_name(void)
{
	return "veridian-fuzz";
}

const char *hal_hypervisor_name(void)
{
	return "none";
}

/* Keeps the last CONSOLE_TAIL bytes: a panic message is what matters. */
void hal_console_write(const char *buf, size_t len)
{
	if (ipch.echo)
		fwrite(buf, 1, len, stderr);
	if (len >= CONSOLE_TAIL - 1) {
		buf += len - (CONSOLE_TAIL - 1);
		len = CONSOLE_TAIL - 1;
	}
	if (m.console_len + len >= CONSOLE_TAIL) {
		size_t drop = m.console_len + len - (CONSOLE_TAIL - 1);
		memmove(m.console, m.console + drop, m.console_len - drop);
		m.console_len -= drop;
	}
	memcpy(m.console + m.console_len, buf, len);
	m.console_len += len;
	m.console[m.console_len] = '\0';
}

void hal_idle(void)
{
	ipch_idle();
}

uint64_t hal_clock_ns(void)
{
	return ipch.clock_ns;
}

void hal_timer_arm(uint64_t deadline_ns)
{
	ipch.timer_deadline = deadline_ns;
}

noreturn void hal_poweroff(int status)
{
	ipch_fail("hal_poweroff(%d): the harness never asks for it", status);
}

noreturn void hal_panic_halt(void)
{
	fprintf(stderr, "ipc_fuzz: kernel panic; console tail:\n%s\n", m.console);
	abort();
}

void hal_context_init(struct hal_context *ctx, void *stack, size_t size, void (*entry)(void *),
		      void *arg)
{
	ctx->stack_base = (uintptr_t)stack;
	ctx->stack_size = size;
	ctx->stack_id = 0;
	ctx->sp = init_stack(stack, size, entry, arg);
}

/* The idle thread's context was never initialised: it is the boot stack. */
void hal_context_switch(struct hal_context *from, struct hal_context *to)
{
	const void *bottom = to->stack_base ? (const void *)to->stack_base : m.boot_stack;
	size_t size = to->stack_base ? to->stack_size : BOOT_STACK_SIZE;

	fiber_switch(&from->sp, to->sp, bottom, size);
}

void hal_context_destroy(struct hal_context *ctx)
{
	unpoison((void *)ctx->stack_base, ctx->stack_size); /* invariant 2 */
	ctx->sp = 0;
}

void hal_set_kernel_stack(uintptr_t top)
{
	ipch.kstack_top = top;
}

/* Recorded, not loaded: the harness checks after every step that the
 * running thread's TLS base is the one it asked for (thread_create,
 * thread_set_tls), which the kernel sets only when it changes. */
void hal_set_user_tls(uintptr_t base)
{
	ipch.user_tls = base;
}

/* No kernel mappings: the harness's kernel is the host process itself. */
void hal_vm_space_init(uint64_t *pml4)
{
	(void)pml4;
}

void hal_vm_activate(uint64_t pml4_pa)
{
	ipch.active_pml4 = pml4_pa;
}

void hal_vm_invalidate(uint64_t pml4_pa, uintptr_t va, size_t len)
{
	(void)pml4_pa;
	(void)va;
	(void)len;
}

/* No device lines or ports: the fuzzer's processes get no device
 * capabilities (init is not spawned through kernel_main). */
bool hal_irq_available(unsigned line)
{
	(void)line;
	return false;
}

void hal_irq_mask(unsigned line)
{
	(void)line;
}

void hal_irq_unmask(unsigned line)
{
	(void)line;
}

uint32_t hal_ioport_in(uint16_t port, unsigned width)
{
	(void)port;
	(void)width;
	return UINT32_MAX;
}

void hal_ioport_out(uint16_t port, unsigned width, uint32_t value)
{
	(void)port;
	(void)width;
	(void)value;
}

bool hal_ioport_reserved(uint16_t port)
{
	(void)port;
	return false;
}

/* int3: nothing ever executes user code here. */
void hal_trap_page_fill(void *page, size_t size)
{
	memset(page, 0xcc, size);
}

noreturn void hal_user_enter(uintptr_t pc, uintptr_t sp, uintptr_t arg)
{
	ipch_user_main(pc, sp, arg);
}

/* ---- The initrd of the harnesses ---- */

/* A minimal static-pie ELF: one read+execute segment holding the headers
 * and a few int3, entry at IPCH_ELF_ENTRY. Nothing executes it: the kernel
 * loads it and hal_user_enter() runs harness code instead. */
static size_t build_elf(uint8_t *buf)
{
	struct {
		uint8_t ident[16];
		uint16_t type, machine;
		uint32_t version;
		uint64_t entry, phoff, shoff;
		uint32_t flags;
		uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
	} eh = { { 0x7f, 'E', 'L', 'F', 2, 1, 1 },
		 3,
		 62,
		 1,
		 IPCH_ELF_ENTRY,
		 64,
		 0,
		 0,
		 64,
		 56,
		 1,
		 0,
		 0,
		 0 };
	struct {
		uint32_t type, flags;
		uint64_t offset, vaddr, paddr, filesz, memsz, align;
	} ph = { 1, 5, 0, 0, 0, IPCH_ELF_ENTRY + 8, IPCH_ELF_ENTRY + 8, PAGE_SIZE };

	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + 64, &ph, sizeof(ph));
	memset(buf + IPCH_ELF_ENTRY, 0xcc, 8);
	return IPCH_ELF_ENTRY + 8;
}

static size_t cpio_add(uint8_t *out, size_t off, const char *name, const void *data, size_t size,
		       unsigned mode)
{
	size_t namesize = strlen(name) + 1;

	off += (size_t)sprintf(
		(char *)out + off, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", 1u,
		mode, 0u, 0u, 1u, 0u, (unsigned)size, 0u, 0u, 0u, 0u, (unsigned)namesize, 0u);
	memcpy(out + off, name, namesize);
	off = (off + namesize + 3) & ~(size_t)3;
	memcpy(out + off, data, size);
	return (off + size + 3) & ~(size_t)3;
}

size_t ipch_build_initrd(uint8_t *out, const char *prog)
{
	uint8_t elf[256];
	size_t elf_size = build_elf(elf), n = 0;
	char path[64];

	snprintf(path, sizeof(path), "bin/%s", prog);
	n = cpio_add(out, n, "bin/init", elf, elf_size, 0100755);
	n = cpio_add(out, n, path, elf, elf_size, 0100755);
	return cpio_add(out, n, "TRAILER!!!", "", 0, 0);
}
