/*
 * The platform interface (HAL): everything core/ needs from the machine it
 * runs on, and everything a platform calls in core/. It is implemented in
 * full by host/linux (veridian-sim, on the simulated machine of sim/) and by
 * host/x86_64 (veridian.elf). core/ includes no other platform header.
 *
 * Execution model shared by both hosts
 * ------------------------------------
 *  - One CPU. The kernel is not preemptible: kernel code runs with
 *    interrupts off, except inside hal_idle(). Interrupts (timer, console)
 *    are taken in user mode or in hal_idle(); they reach the kernel through
 *    the kernel_*() entry points below, on the current thread's kernel stack.
 *  - Every thread has its own kernel stack; hal_context_switch() switches
 *    between them (callee-saved registers only, like xv6 swtch()).
 *  - Physical memory is reachable through a linear map at hal_physmap_base
 *    (identity on x86_64; the memfd-backed RAM mapping in veridian-sim).
 *  - Page tables are x86-64 4-level tables built by core/vm.c in both
 *    builds. The platform's MMU (hardware, or sim/mmu.c) walks them.
 *  - The C library functions memcpy, memmove, memset and memcmp are
 *    provided by the platform (libc in veridian-sim, host/x86_64/string.c on
 *    bare metal), as freestanding GCC/Clang require.
 */
#ifndef VERIDIAN_HAL_H
#define VERIDIAN_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

/* ---- Boot ---------------------------------------------------------------- */

#define BOOT_MEM_MAX 32

struct boot_mem_region {
	uint64_t base; /* physical, page-aligned */
	uint64_t size; /* bytes, multiple of the page size */
};

/* What the platform tells the kernel at boot. */
struct boot_info {
	/* Usable RAM for the frame allocator. Excludes the kernel image, the
	 * initrd, boot structures and anything else already in use. */
	struct boot_mem_region mem[BOOT_MEM_MAX];
	uint32_t mem_count;
	uint64_t initrd_pa;   /* physical address of the cpio (newc) archive */
	uint64_t initrd_size; /* 0 if there is none */
	const char *cmdline;  /* kernel command line, "" if none; kernel-readable */
	/* Nonzero if the MMU maps 1 GiB pages (PDPTE.PS; CPUID 0x80000001
	 * EDX bit 26 on x86_64). 2 MiB pages are always available. */
	uint32_t mmu_1g_pages;
};

/* ---- Provided by the host, called by core -------------------------------- */

/* Linear map of physical memory: virtual = hal_physmap_base + physical. Set
 * by the host before kernel_main(). */
extern uintptr_t hal_physmap_base;

/* Platform identification for uname: build name ("veridian-sim",
 * "veridian.elf"), and the hypervisor signature (CPUID leaf 0x40000000 on
 * x86_64, e.g. "TCGTCGTCGTCG"; "linux-host" in veridian-sim; "none").
 * The strings are static. */
const char *hal_build_name(void);
const char *hal_hypervisor_name(void);

/* Write to the console. Any context; never blocks for input. */
void hal_console_write(const char *buf, size_t len);

/* Called by the idle thread when nothing is runnable, interrupts off. Waits
 * for the next event (timer deadline, console input), delivers it through
 * kernel_timer_expired() / kernel_console_input(), and returns. Returns with
 * interrupts off. */
void hal_idle(void);

/* Monotonic kernel clock in nanoseconds since boot. In veridian-sim's
 * virtual-time mode it only moves through the simulator's event queue. */
uint64_t hal_clock_ns(void);

/* One-shot timer: call kernel_timer_expired() once hal_clock_ns() >=
 * deadline. A new call replaces the old deadline; UINT64_MAX disarms. */
void hal_timer_arm(uint64_t deadline_ns);

/* Stop the machine. veridian-sim exits with `status`; on x86_64 the status
 * is written to the isa-debug-exit port (QEMU exits with status*2+1) and
 * the CPU halts if that port is absent. */
noreturn void hal_poweroff(int status);

/* Halt after a kernel panic (the message is already on the console).
 * veridian-sim aborts (so a core dump / debugger sees it). */
noreturn void hal_panic_halt(void);

/* A kernel execution context: the saved stack pointer of a thread that is
 * not running. Callee-saved registers live on that stack. */
struct hal_context {
	uintptr_t sp;
	uintptr_t stack_base;
	size_t stack_size;
	unsigned stack_id; /* Valgrind stack registration (veridian-sim) */
};

/* Prepare `ctx` so that the first hal_context_switch() to it runs
 * entry(arg) on [stack, stack+size). entry must not return. */
void hal_context_init(struct hal_context *ctx, void *stack, size_t size, void (*entry)(void *),
		      void *arg);

/* Save the current context in `from` and resume `to`. Returns when someone
 * switches back to `from`. Interrupts off. */
void hal_context_switch(struct hal_context *from, struct hal_context *to);

/* The context's stack is about to be freed (deregisters it). */
void hal_context_destroy(struct hal_context *ctx);

/* The thread about to run uses [base, top) as its kernel stack: traps from
 * user mode must land at `top` (TSS.rsp0 on x86_64). */
void hal_set_kernel_stack(uintptr_t top);

/* Short IPC messages (abi.h VR_MSG_REGS, docs/ipc.md). On entry to a
 * syscall that may carry one (the ipc_*_short numbers; veridian-sim does it
 * for every syscall), the host saves the user's message registers in a
 * struct hal_msg_regs at HAL_MSG_REGS_OFF bytes below the top of the
 * thread's kernel stack, and reloads them from there when the syscall
 * returns. So core reads a sender's words there, and writes the words of a
 * receiver, blocked in its syscall, before it returns to user mode. */
struct hal_msg_regs {
	uint64_t w[4];  /* r12, r13, r14, r15 */
	uint64_t badge; /* rbx */
};
#define HAL_MSG_REGS_OFF 72u

/* The thread about to run has the TLS pointer `base`: user code must find
 * it at %gs:0 (abi.h). On x86_64 the GS base is `base` itself (whose first
 * word the runtime keeps pointing at itself); veridian-sim points GS at a
 * word holding `base` (its host C library owns FS, and setting the GS base
 * per switch would cost a host syscall; docs/scheduling.md). The kernel
 * calls this only when the value changes. */
void hal_set_user_tls(uintptr_t base);

/* Fill a new top-level page table (PML4, given by its kernel-virtual
 * address) with the kernel's own mappings. */
void hal_vm_space_init(uint64_t *pml4);

/* Make the page tables rooted at physical address pml4_pa current. */
void hal_vm_activate(uint64_t pml4_pa);

/* Page-table entries for [va, va+len) in the tables rooted at pml4_pa have
 * changed: drop cached translations (invlpg; veridian-sim re-syncs its
 * host mirror of those pages). */
void hal_vm_invalidate(uint64_t pml4_pa, uintptr_t va, size_t len);

/* Write the platform's trap code into a page that the kernel maps
 * read+execute at VR_SLOT_TRAP_OFF of every process. The code is the
 * function `long trap(long nr, long a0, ..., long a4)` of abi.h. */
void hal_trap_page_fill(void *page, size_t size);

/* Enter user mode on the current thread at `pc` with stack `sp` and `arg`
 * in the first argument register (rdi). Interrupts are on in user mode.
 * Later traps arrive through kernel_syscall() / kernel_user_fault() on this
 * thread's kernel stack. */
noreturn void hal_user_enter(uintptr_t pc, uintptr_t sp, uintptr_t arg);

/* ---- Provided by core, called by the host -------------------------------- */

/* Start the kernel. On the boot stack, interrupts off. Never returns: it
 * becomes the idle thread. */
noreturn void kernel_main(const struct boot_info *bi);

/* A syscall from user mode (interrupts off, on the thread's kernel stack).
 * Returns the value for user code; may switch threads before returning. */
int64_t kernel_syscall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		       uint64_t a4);

enum hal_fault_kind {
	HAL_FAULT_PAGE = 0,   /* page fault: addr, and the access below */
	HAL_FAULT_INVALID_OP, /* invalid instruction */
	HAL_FAULT_GENERAL,    /* general protection, divide error, other */
};

#define HAL_ACCESS_WRITE 1u
#define HAL_ACCESS_EXEC 2u
#define HAL_ACCESS_PRESENT 4u /* the page was present (a protection fault) */

struct hal_fault {
	enum hal_fault_kind kind;
	unsigned access; /* HAL_ACCESS_* for page faults */
	unsigned vector; /* hardware vector, or the host signal in veridian-sim */
	uintptr_t addr;  /* faulting address (page faults) */
	uintptr_t pc;    /* user program counter */
	uintptr_t sp;    /* user stack pointer */
};

/* A fault taken in user mode. Returns if the fault was resolved and the
 * thread may retry; otherwise the thread's process is terminated and the
 * call does not return. */
void kernel_user_fault(const struct hal_fault *f);

/* The deadline set by hal_timer_arm() has passed. Interrupt context. It
 * may also be called as a periodic tick: the kernel rechecks hal_clock_ns()
 * (veridian-sim calls it on every real-time tick and watchdog preemption). */
void kernel_timer_expired(void);

/* Console input arrived. Interrupt context or hal_idle(). */
void kernel_console_input(const char *buf, size_t len);

/* Called by the host before it returns to user mode from an interrupt:
 * switches threads if the kernel asked for it. */
void kernel_interrupt_exit(void);

/* ---- Interrupt lines and I/O ports (docs/irq.md) ------------------------ */

/* Device interrupt lines are numbered 0..VR_IRQ_LINES-1 as ISA IRQs in both
 * builds. Every line starts masked; core unmasks a line only while a user
 * driver has it bound. Called from kernel context, interrupts off. */

/* Whether the platform can deliver `line` at all (x86_64: the IOAPIC has
 * a pin for it; veridian-sim: a simulated line exists). */
bool hal_irq_available(unsigned line);

void hal_irq_mask(unsigned line);

/* An edge latched while the line was masked is delivered at the next
 * interrupt point (return to user mode, hal_idle()), never from inside
 * this call. */
void hal_irq_unmask(unsigned line);

/* Port I/O of `width` bytes (1, 2 or 4; port + width <= 65536, checked
 * by core). A port nothing decodes reads as all ones. */
uint32_t hal_ioport_in(uint16_t port, unsigned width);
void hal_ioport_out(uint16_t port, unsigned width, uint32_t value);

/* Whether the kernel or the platform uses `port` itself (console UART,
 * interrupt controllers, power-off port): user code may not touch it. */
bool hal_ioport_reserved(uint16_t port);

/* Provided by core: `line` fired. The host has already masked it and
 * acknowledged the interrupt controller; it stays masked until core calls
 * hal_irq_unmask(). Interrupt context (from user mode: the host calls
 * kernel_interrupt_exit() afterwards) or hal_idle(), which then returns. */
void kernel_irq(unsigned line);

#endif
