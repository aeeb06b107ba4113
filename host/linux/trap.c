/*
 * Traps between user code and the kernel in veridian-sim.
 *
 * User code runs natively in the host process. It enters the kernel in two
 * ways:
 *  - a syscall: the trap page jumps to sim_trap_entry (entry.S), which
 *    switches to the thread's kernel stack and calls sim_syscall();
 *  - a host signal while sim_cpu.in_user is set: a fault (SIGSEGV, SIGBUS,
 *    SIGILL, SIGFPE) or the periodic host timer (SIGALRM). The handler,
 *    on the signal stack, saves all user registers in a struct sim_uframe
 *    at the top of the thread's kernel stack and edits the signal context
 *    so that sigreturn resumes in sim_irq_entry on that kernel stack, which
 *    calls sim_irq_dispatch() and then restores the user registers. This is
 *    the interrupt of real hardware: the kernel runs on a normal stack, may
 *    switch threads, and the interrupted thread resumes later.
 * A signal that arrives in kernel or host code never enters the kernel
 * (the kernel is not preemptible): a tick only sets sim_cpu.irq_pending,
 * handled when the current syscall returns; a fault there is a bug of the
 * simulator or the kernel and stops the process.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#include <glib.h>

#include "config.h"
#include "drivers-sim/console.h"
#include "host/linux/cpu.h"
#include "sim/irq.h"
#include "sim/sim.h"

#ifdef HAVE_VALGRIND_H
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#define VALGRIND_MAKE_MEM_UNDEFINED(a, n) ((void)(a), (void)(n))
#define VALGRIND_MAKE_MEM_DEFINED(a, n) ((void)(a), (void)(n))
#endif

_Static_assert(sizeof(struct sim_uframe) == UF_SIZE, "UF_SIZE");
_Static_assert(sizeof(struct sim_uframe) % 16 == 0, "the frame keeps the stack aligned");
_Static_assert(__builtin_offsetof(struct sim_uframe, rip) == UF_RIP, "UF_RIP");
_Static_assert(__builtin_offsetof(struct sim_uframe, rflags) == UF_RFLAGS, "UF_RFLAGS");
_Static_assert(__builtin_offsetof(struct sim_uframe, rsp) == UF_RSP, "UF_RSP");
_Static_assert(__builtin_offsetof(struct sim_uframe, rdi) == UF_RDI, "UF_RDI");
_Static_assert(__builtin_offsetof(struct sim_uframe, r15) == UF_R15, "UF_R15");
_Static_assert(__builtin_offsetof(struct sim_cpu, in_user) == CPU_IN_USER, "CPU_IN_USER");
_Static_assert(__builtin_offsetof(struct sim_cpu, kstack_top) == CPU_KSTACK_TOP, "CPU_KSTACK");
_Static_assert(__builtin_offsetof(struct sim_cpu, resume_pc) == CPU_RESUME_PC, "CPU_RESUME_PC");

#define RFLAGS_TF 0x100ull
#define RFLAGS_DF 0x400ull
#define RFLAGS_AC 0x40000ull
#define PF_ERR_PRESENT 0x1
#define PF_ERR_WRITE 0x2
#define PF_ERR_FETCH 0x10
#define TICK_MS_REAL 10
#define TICK_MS_VIRTUAL 20
#define SIGNAL_STACK_SIZE (256u << 10)
#define VALGRIND_KSTACK_SLACK 1024

struct sim_cpu sim_cpu;

static struct {
	struct sim_trap_config cfg;
	unsigned watchdog_ticks; /* ticks in user mode without a trap before it fires */
	unsigned quiet_ticks;    /* signal handler only */
	uint64_t last_traps;     /* signal handler only */
	GHashTable *warned;      /* kernel stack tops of threads already reported */
	void *signal_stack;      /* kept here, not only in the kernel: LeakSanitizer */
	uint64_t watchdog_fired;
} trap;

/* ---- Syscalls --------------------------------------------------------------- */

void hal_set_kernel_stack(uintptr_t top)
{
	sim_cpu.kstack_top = top;
}

void hal_trap_page_fill(void *page, size_t size)
{
	uint64_t target = (uint64_t)(uintptr_t)sim_trap_entry;
	uint8_t *p = page;

	/* movabs $sim_trap_entry, %rax; jmp *%rax; then int3 padding */
	memset(page, 0xcc, size);
	p[0] = 0x48;
	p[1] = 0xb8;
	memcpy(p + 2, &target, sizeof(target));
	p[10] = 0xff;
	p[11] = 0xe0;
}

/* Memcheck tracks definedness per virtual address: bytes the kernel wrote
 * through the physical map (copy-out to a buffer on the user stack) are
 * still "undefined" at their user address, because memcheck saw that stack
 * area allocated by user code. Declare the live part of the user stack
 * defined before returning to it. Costs nothing when not under Valgrind. */
static void valgrind_user_stack_defined(uintptr_t user_sp)
{
	int slot;
	uintptr_t top;

	if (!RUNNING_ON_VALGRIND)
		return;
	slot = sim_mmu_slot_of(user_sp);
	if (slot < 0)
		return;
	top = VR_SLOT_BASE + (uint64_t)slot * VR_SLOT_SIZE + VR_SLOT_STACK_TOP;
	if (user_sp < top && top - user_sp <= VR_SLOT_STACK_SIZE)
		VALGRIND_MAKE_MEM_DEFINED((void *)user_sp, top - user_sp);
}

static void run_pending_tick(void);

/* Called by sim_trap_entry on the thread's kernel stack, in kernel mode. */
int64_t sim_syscall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	int64_t ret;

	sim_cpu.traps++;
	ret = kernel_syscall(nr, a0, a1, a2, a3, a4);
	if (sim_cpu.irq_pending)
		run_pending_tick();
	if (sim_irq_pending() && sim_irq_poll()) /* a device line, before user mode */
		kernel_interrupt_exit();
	sim_mmu_sync();
	/* entry.S keeps the user stack pointer in the top word of the stack */
	if (RUNNING_ON_VALGRIND)
		valgrind_user_stack_defined(*(uintptr_t *)(sim_cpu.kstack_top - 8));
	return ret;
}

/* ---- Interrupts and faults on the kernel stack ------------------------------ */

/* Real time: let the event loop deliver console input and expired timers.
 * Interrupt context, on the current thread's kernel stack. */
static void real_time_tick(void)
{
	sim_cpu.irq_pending = 0;
	uv_run(sim_loop(), UV_RUN_NOWAIT);
	sim_timer_fire_due();
	sim_irq_poll();
}

static void run_pending_tick(void)
{
	real_time_tick();
	kernel_interrupt_exit();
}

static void watchdog_report(const struct sim_uframe *f)
{
	int slot = sim_mmu_slot_of(f->rip);
	uintptr_t key = sim_cpu.kstack_top;

	trap.watchdog_fired++;
	if (g_hash_table_contains(trap.warned, (gpointer)key))
		return;
	g_hash_table_add(trap.warned, (gpointer)key);
	if (slot >= 0)
		fprintf(stderr,
			"veridian-sim: watchdog: user thread in slot %d (pml4 %#llx) ran "
			"%d ms without a trap, at pc %#llx (image offset %#llx); preempting it "
			"and charging %d ms of virtual time each time\n",
			slot, (unsigned long long)sim_mmu_slot_owner(slot), trap.cfg.watchdog_ms,
			(unsigned long long)f->rip,
			(unsigned long long)(f->rip - VR_SLOT_BASE - (uint64_t)slot * VR_SLOT_SIZE -
					     VR_SLOT_IMAGE_OFF),
			trap.cfg.slice_ms);
	else
		fprintf(stderr,
			"veridian-sim: watchdog: user thread at pc %#llx ran %d ms without "
			"a trap; preempting it\n",
			(unsigned long long)f->rip, trap.cfg.watchdog_ms);
}

/* Virtual time: a thread spun without trapping. Charge it a slice, let time
 * and input move on (the machine never idles while it spins), and tick the
 * scheduler. The watchdog is a timer interrupt of its own, so
 * kernel_timer_expired() is called even if the armed deadline is later:
 * the scheduler must get the chance to rotate. */
static void watchdog_preempt(const struct sim_uframe *f)
{
	watchdog_report(f);
	sim_clock_advance((uint64_t)trap.cfg.slice_ms * 1000000ull);
	sim_console_deliver_line();
	sim_irq_poll();
	if (!sim_timer_fire_due())
		kernel_timer_expired();
}

void sim_irq_dispatch(struct sim_uframe *f)
{
	switch (f->reason) {
	case SIM_IRQ_FAULT:
		kernel_user_fault(&f->fault);
		break;
	case SIM_IRQ_TICK:
		real_time_tick();
		/* A tick of user time is a scheduler tick, as on a periodic timer:
		 * a thread woken by input must not wait for a spinner forever. */
		kernel_timer_expired();
		break;
	case SIM_IRQ_WATCHDOG:
		watchdog_preempt(f);
		break;
	}
	kernel_interrupt_exit();
	if (sim_cpu.irq_pending)
		run_pending_tick();
	sim_mmu_sync();
	valgrind_user_stack_defined(f->rsp);
}

noreturn void sim_context_returned(void)
{
	fprintf(stderr, "veridian-sim: a kernel context's entry function returned\n");
	hal_panic_halt();
}

void sim_trap_forget_stack(uintptr_t kstack_top)
{
	if (trap.warned)
		g_hash_table_remove(trap.warned, (gpointer)kstack_top);
}

/* ---- Signal handlers (on the signal stack, all signals blocked) ------------ */

/* Save the interrupted user state at the top of the kernel stack and make
 * sigreturn resume in sim_irq_entry there. */
static struct sim_uframe *redirect_to_kernel(ucontext_t *uc, enum sim_irq_reason reason)
{
	greg_t *g = uc->uc_mcontext.gregs;
	struct sim_uframe *f = (struct sim_uframe *)(sim_cpu.kstack_top - sizeof(*f));

	/* Interrupted on sim_irq_entry's last instruction, with every user
	 * register loaded: complete its jump here, as it reads resume_pc. */
	if ((uintptr_t)g[REG_RIP] == (uintptr_t)sim_irq_resume_jump)
		g[REG_RIP] = (greg_t)sim_cpu.resume_pc;

	/* Memcheck takes the jump from the signal stack to f for a stack switch
	 * and does not mark the kernel stack below f usable: do it here. */
	VALGRIND_MAKE_MEM_UNDEFINED((char *)f - VALGRIND_KSTACK_SLACK,
				    sizeof(*f) + VALGRIND_KSTACK_SLACK);
	*f = (struct sim_uframe){
		.rax = (uint64_t)g[REG_RAX],
		.rbx = (uint64_t)g[REG_RBX],
		.rcx = (uint64_t)g[REG_RCX],
		.rdx = (uint64_t)g[REG_RDX],
		.rsi = (uint64_t)g[REG_RSI],
		.rdi = (uint64_t)g[REG_RDI],
		.rbp = (uint64_t)g[REG_RBP],
		.r8 = (uint64_t)g[REG_R8],
		.r9 = (uint64_t)g[REG_R9],
		.r10 = (uint64_t)g[REG_R10],
		.r11 = (uint64_t)g[REG_R11],
		.r12 = (uint64_t)g[REG_R12],
		.r13 = (uint64_t)g[REG_R13],
		.r14 = (uint64_t)g[REG_R14],
		.r15 = (uint64_t)g[REG_R15],
		.rip = (uint64_t)g[REG_RIP],
		.rflags = (uint64_t)g[REG_EFL],
		.rsp = (uint64_t)g[REG_RSP],
		.reason = reason,
	};
	g[REG_RSP] = (greg_t)(uintptr_t)f;
	g[REG_RDI] = (greg_t)(uintptr_t)f;
	g[REG_RIP] = (greg_t)(uintptr_t)sim_irq_entry;
	g[REG_EFL] = (greg_t)((uint64_t)g[REG_EFL] & ~(RFLAGS_TF | RFLAGS_DF | RFLAGS_AC));
	sim_cpu.in_user = 0;
	sim_cpu.traps++;
	return f;
}

static void host_fault(int sig, siginfo_t *si, ucontext_t *uc)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg),
			 "veridian-sim: host fault: signal %d (%s) at pc %#llx, address %p, "
			 "outside user mode: a simulator or kernel bug\n",
			 sig, strsignal(sig), (unsigned long long)uc->uc_mcontext.gregs[REG_RIP],
			 si->si_addr);

	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
		n = 0;
	sim_host_restore_terminal();
	/* Returning re-executes the instruction with the default action: the
	 * core dump then shows the real faulting state. */
	signal(sig, SIG_DFL);
}

static unsigned page_fault_access(const siginfo_t *si, const ucontext_t *uc)
{
	uint64_t err = (uint64_t)uc->uc_mcontext.gregs[REG_ERR];
	uintptr_t addr = (uintptr_t)si->si_addr;
	int slot = sim_mmu_slot_of(addr);
	struct sim_walk w;
	unsigned access = 0;

	if (err & PF_ERR_WRITE)
		access |= HAL_ACCESS_WRITE;
	/* Valgrind does not report the error code; a fault at the pc is a fetch */
	if ((err & PF_ERR_FETCH) || addr == (uintptr_t)uc->uc_mcontext.gregs[REG_RIP])
		access |= HAL_ACCESS_EXEC;
	if (slot >= 0 && sim_mmu_walk(sim_mmu_slot_owner(slot), addr, &w) && w.user)
		access |= HAL_ACCESS_PRESENT;
	else if (slot < 0 && (err & PF_ERR_PRESENT))
		access |= HAL_ACCESS_PRESENT;
	return access;
}

/* Byte `off` of the user code at pc, read through the page tables (never
 * through the host mirror: a signal handler must not fault); -1 if that
 * byte is not mapped for user code. */
static int user_code_byte(uintptr_t pc, unsigned off)
{
	int slot = sim_mmu_slot_of(pc + off);
	struct sim_walk w;
	const uint8_t *p;

	if (slot < 0 || !sim_mmu_walk(sim_mmu_slot_owner(slot), pc + off, &w) || !w.user)
		return -1;
	p = sim_ram_ptr(w.pa, 1);
	return p ? *p : -1;
}

enum partial_insn { INSN_OTHER, INSN_REP_STRING, INSN_PUSH };

/* Classify the instruction at pc for valgrind_undo_partial(). */
static enum partial_insn classify_insn(uintptr_t pc)
{
	bool rep = false;

	for (unsigned i = 0; i < 15; i++) {
		int b = user_code_byte(pc, i), m;

		switch (b) {
		case 0xf2:
		case 0xf3:
			rep = true;
			continue;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
		case 0x64:
		case 0x65:
		case 0x66:
		case 0x67:
		case 0xf0:
			continue;
		case 0xa4:
		case 0xa5:
		case 0xa6:
		case 0xa7:
		case 0xaa:
		case 0xab:
		case 0xac:
		case 0xad:
		case 0xae:
		case 0xaf:
			return rep ? INSN_REP_STRING : INSN_OTHER;
		case 0x50:
		case 0x51:
		case 0x52:
		case 0x53:
		case 0x54:
		case 0x55:
		case 0x56:
		case 0x57:
		case 0x68:
		case 0x6a:
		case 0x9c:
		case 0xe8:
			return INSN_PUSH;
		case 0xff: /* call and push with a ModRM operand: /2 and /6 */
			m = user_code_byte(pc, i + 1);
			return m >= 0 && (((m >> 3) & 7) == 2 || ((m >> 3) & 7) == 6) ? INSN_PUSH
										      : INSN_OTHER;
		default:
			if (b >= 0x40 && b <= 0x4f)
				continue; /* REX */
			return INSN_OTHER;
		}
	}
	return INSN_OTHER;
}

/* Valgrind only. A faulting instruction must be retried from the state it
 * started in, but Valgrind's translation commits some register updates
 * before the memory access that faults, and its signal context shows them:
 * a rep string instruction has already decremented rcx (one element would
 * be lost), and push or call has already lowered rsp (the retry would push
 * 8 bytes lower). Undo exactly those two. Natively the CPU commits nothing
 * (a push's fault address is then rsp - 8, never in [rsp, rsp + 8)).
 * Requires --vex-iropt-register-updates=allregs-at-mem-access (otherwise
 * Valgrind's context may hold stale registers) and --vex-guest-chase=no
 * (otherwise the pc may be that of a call or jmp Valgrind followed into
 * the faulting block, already executed): see docs/debugging.md. Other
 * instructions that update a register before a store (pop to memory,
 * enter) are not handled. */
static void valgrind_undo_partial(struct sim_uframe *f)
{
	switch (classify_insn(f->rip)) {
	case INSN_REP_STRING:
		f->rcx++;
		break;
	case INSN_PUSH:
		if (f->fault.addr >= f->rsp && f->fault.addr < f->rsp + 8) {
			f->rsp += 8;
			f->fault.sp = f->rsp;
		}
		break;
	case INSN_OTHER:
		break;
	}
}

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct sim_uframe *f;

	if (!sim_cpu.in_user) {
		host_fault(sig, si, uc);
		return;
	}
	f = redirect_to_kernel(uc, SIM_IRQ_FAULT);
	f->fault = (struct hal_fault){
		.kind = sig == SIGSEGV || sig == SIGBUS ? HAL_FAULT_PAGE
			: sig == SIGILL                 ? HAL_FAULT_INVALID_OP
							: HAL_FAULT_GENERAL,
		.vector = (unsigned)sig,
		.addr = (uintptr_t)si->si_addr,
		.pc = f->rip,
		.sp = f->rsp,
	};
	if (f->fault.kind == HAL_FAULT_PAGE) {
		f->fault.access = page_fault_access(si, uc);
		if (RUNNING_ON_VALGRIND)
			valgrind_undo_partial(f);
	}
}

static void on_tick(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	if (!sim_cpu.in_user) {
		trap.quiet_ticks = 0;
		if (!trap.cfg.virtual_time)
			sim_cpu.irq_pending = 1;
		return;
	}
	if (!trap.cfg.virtual_time) {
		redirect_to_kernel(ucv, SIM_IRQ_TICK);
		return;
	}
	if (sim_cpu.traps != trap.last_traps) {
		trap.last_traps = sim_cpu.traps;
		trap.quiet_ticks = 0;
		return;
	}
	if (++trap.quiet_ticks < trap.watchdog_ticks)
		return;
	trap.quiet_ticks = 0;
	redirect_to_kernel(ucv, SIM_IRQ_WATCHDOG);
}

static int install(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa = { .sa_sigaction = fn,
				.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART };

	sigfillset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

static int start_signal_stack(void)
{
	stack_t ss = { .ss_size = SIGNAL_STACK_SIZE };

	/* host-side memory: the signal stack is the simulator's, not the kernel's */
	trap.signal_stack = g_malloc(SIGNAL_STACK_SIZE);
	ss.ss_sp = trap.signal_stack;
	return sigaltstack(&ss, NULL);
}

int sim_trap_init(const struct sim_trap_config *cfg)
{
	int tick_ms = cfg->virtual_time ? TICK_MS_VIRTUAL : TICK_MS_REAL;
	struct itimerval it = {
		.it_interval = { .tv_usec = tick_ms * 1000 },
		.it_value = { .tv_usec = tick_ms * 1000 },
	};
	int slow = RUNNING_ON_VALGRIND ? 20 : 1; /* Valgrind runs user code ~50x slower */

	trap.cfg = *cfg;
	trap.watchdog_ticks = (unsigned)(cfg->watchdog_ms * slow / tick_ms);
	if (trap.watchdog_ticks < 1)
		trap.watchdog_ticks = 1;
	trap.warned = g_hash_table_new(g_direct_hash, g_direct_equal);
	if (start_signal_stack() < 0 || install(SIGSEGV, on_fault) < 0 ||
	    install(SIGBUS, on_fault) < 0 || install(SIGILL, on_fault) < 0 ||
	    install(SIGFPE, on_fault) < 0 || install(SIGALRM, on_tick) < 0 ||
	    setitimer(ITIMER_REAL, &it, NULL) < 0) {
		perror("veridian-sim: installing trap handlers");
		return -1;
	}
	return 0;
}
