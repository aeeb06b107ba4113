/*
 * Kernel execution contexts and the first entry to user mode.
 *
 * Every stack the simulator switches to is registered with Valgrind, which
 * otherwise takes a stack switch for a huge stack frame and reports
 * nonsense (RIOT native's complaint): kernel stacks here, the boot stack in
 * main.c, the signal stack in trap.c and each slot's user stack in
 * hal_user_enter().
 */
#include <string.h>

#include "config.h"
#include "host/linux/cpu.h"
#include "sim/sim.h"

#ifdef HAVE_VALGRIND_H
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#endif

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
/* ASan's stack redzones outlive frames that are abandoned rather than
 * returned from (hal_user_enter, a killed thread) and stacks that are
 * recycled: clear them wherever that happens. */
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
	*--sp = 0;                 /* rbp */
	*--sp = 0;                 /* rbx */
	*--sp = (uintptr_t)entry;  /* r12 */
	*--sp = (uintptr_t)arg;    /* r13 */
	*--sp = 0;                 /* r14 */
	*--sp = 0;                 /* r15 */
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

noreturn void hal_user_enter(uintptr_t pc, uintptr_t sp, uintptr_t arg)
{
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);

	/* the frames above this one on the kernel stack are never returned to */
	if (sim_cpu.kstack_top > here)
		STACK_UNPOISON((void *)here, sim_cpu.kstack_top - here);
	register_user_stack(sp);
	sim_mmu_sync();
	sim_user_enter(pc, sp, arg);
}
