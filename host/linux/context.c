/*
 * Kernel execution contexts and the first entry to user mode.
 *
 * Every stack the simulator switches to is registered with Valgrind, which
 * otherwise takes a stack switch for a huge stack frame and reports
 * nonsense (RIOT native's complaint): kernel stacks here, the boot stack in
 * main.c, the signal stack in trap.c and each slot's user stack in
 * hal_user_enter().
 *
 * AddressSanitizer is told about the same switches with its fiber
 * annotations, so that it knows which stack the CPU is on (it needs the
 * bounds to clear the shadow of frames abandoned by a noreturn call, e.g.
 * hal_user_enter(), and to describe stack addresses in its reports). In
 * ASan's view a fiber is one kernel execution context: the boot stack (later
 * the idle thread's) or a thread's kernel stack. User mode is NOT a fiber
 * switch: user code is not instrumented and never calls into ASan, so for
 * ASan it is like a call into an uninstrumented library from the thread's
 * kernel stack. A trap from user mode (sim_trap_entry) and a signal
 * redirected into the kernel (trap.c) both land on the kernel stack of the
 * thread that entered user mode, which is still ASan's current fiber; and
 * the user stacks, which live in the slot area, never get stack shadow.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "host/linux/cpu.h"
#include "sim/sim.h"

#ifdef HAVE_VALGRIND_H
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#endif

#ifdef SIM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
/* Stacks are recycled by the frame allocator: clear the shadow their old
 * frames left when one is created or destroyed. */
#define STACK_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define STACK_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

void hal_context_init(struct hal_context *ctx, void *stack, size_t size, void (*entry)(void *),
		      void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	uintptr_t *sp = (uintptr_t *)top;

	/* the frame hal_context_switch() pops: r15 r14 r13 r12 rbx rbp, ret */
	*--sp = (uintptr_t)sim_context_start;
	*--sp = 0;                /* rbp */
	*--sp = 0;                /* rbx */
	*--sp = (uintptr_t)entry; /* r12 */
	*--sp = (uintptr_t)arg;   /* r13 */
	*--sp = 0;                /* r14 */
	*--sp = 0;                /* r15 */
	STACK_UNPOISON(stack, size);
	ctx->sp = (uintptr_t)sp;
	ctx->stack_base = (uintptr_t)stack;
	ctx->stack_size = size;
#ifdef HAVE_VALGRIND_H
	ctx->stack_id = VALGRIND_STACK_REGISTER(stack, (char *)stack + size);
#else
	ctx->stack_id = 0;
#endif
}

#ifdef SIM_ASAN
/* ASan's current fiber: the stack bounds of the running kernel context. */
static struct {
	uintptr_t base;
	size_t size;
} asan_fiber;

/* hal_context_switch() with ASan's fiber annotations. A context that was
 * not made by hal_context_init() (the host's stack in main(), the idle
 * thread on the boot stack) gets the bounds of the fiber it is leaving when
 * it first switches away, so a switch back to it can name its stack. */
static void asan_context_switch(struct hal_context *from, struct hal_context *to)
{
	void *fake_stack = NULL;

	if (!from->stack_size) {
		from->stack_base = asan_fiber.base;
		from->stack_size = asan_fiber.size;
	}
	asan_fiber.base = to->stack_base;
	asan_fiber.size = to->stack_size;
	__sanitizer_start_switch_fiber(&fake_stack, (const void *)to->stack_base, to->stack_size);
	sim_context_switch(from, to);
	/* back on `from`'s stack: whoever switched here set asan_fiber */
	__sanitizer_finish_switch_fiber(fake_stack, NULL, NULL);
}
#endif

/* Called by core with interrupts off (hal.h). Without ASan a tail call into
 * entry.S: nothing is added to the thread switch path. */
void hal_context_switch(struct hal_context *from, struct hal_context *to)
{
#ifdef SIM_ASAN
	asan_context_switch(from, to);
#else
	sim_context_switch(from, to);
#endif
}

/* First C code of a new context, called by sim_context_start before the
 * entry function: completes the fiber switch that brought us here. */
void sim_context_first_run(void)
{
#ifdef SIM_ASAN
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
}

void hal_context_destroy(struct hal_context *ctx)
{
	sim_trap_forget_stack(ctx->stack_base + ctx->stack_size);
	STACK_UNPOISON((void *)ctx->stack_base, ctx->stack_size);
#ifdef HAVE_VALGRIND_H
	VALGRIND_STACK_DEREGISTER(ctx->stack_id);
	/* The frames go back to the frame allocator and may become page tables
	 * or heap; memcheck must forget that parts were "below the stack
	 * pointer" (unaddressable). */
	VALGRIND_MAKE_MEM_DEFINED((void *)ctx->stack_base, ctx->stack_size);
#endif
	ctx->sp = 0;
}

#ifdef HAVE_VALGRIND_H
/* Valgrind stack ids of the slots' user stacks (0: not registered). */
static unsigned user_stack_id[VR_SLOT_COUNT];
static bool user_stack_registered[VR_SLOT_COUNT];
#endif

/* Register the user stack of the slot holding sp, once per slot: slots are
 * reused by later processes at the same addresses. */
static void register_user_stack(uintptr_t sp)
{
#ifdef HAVE_VALGRIND_H
	int slot = sim_mmu_slot_of(sp);
	uintptr_t top;

	if (slot < 0 || user_stack_registered[slot])
		return;
	top = VR_SLOT_BASE + (uint64_t)slot * VR_SLOT_SIZE + VR_SLOT_STACK_TOP;
	user_stack_id[slot] = VALGRIND_STACK_REGISTER(top - VR_SLOT_STACK_SIZE, top);
	user_stack_registered[slot] = true;
#else
	(void)sp;
#endif
}

/* The frames above this one on the kernel stack (thread_start() and the
 * like) are never returned to. The compiler calls __asan_handle_no_return()
 * before the noreturn sim_user_enter(): with the fiber bounds known it
 * clears the shadow from here to the top of the kernel stack, so the next
 * trap finds it clean. */
noreturn void hal_user_enter(uintptr_t pc, uintptr_t sp, uintptr_t arg)
{
	register_user_stack(sp);
	sim_mmu_sync();
	sim_user_enter(pc, sp, arg);
}

/* User TLS. User code finds its thread pointer at %gs:0 (abi.h). Here the
 * GS base points at one word that holds the running thread's pointer: a
 * per-thread GS base would take an arch_prctl on every switch, which costs
 * 13 us on these hosts (no FSGSBASE: the host kernel writes the MSR). Host
 * code never uses GS (glibc and the sanitizers own FS), so the base is set
 * once, at the first call; arch_prctl is also what Valgrind emulates. One
 * word serves one simulated CPU. */
static uintptr_t user_tls_word;

void hal_set_user_tls(uintptr_t base)
{
	static bool gs_set;

	if (!gs_set) {
		if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)&user_tls_word) != 0) {
			fprintf(stderr, "veridian-sim: arch_prctl(ARCH_SET_GS): %s\n",
				strerror(errno));
			hal_panic_halt();
		}
		gs_set = true;
	}
	user_tls_word = base;
}
