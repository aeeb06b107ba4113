/*
 * Kernel entry: bring up the allocators, the scheduler and the first
 * process, then become the idle thread. Also the trap entry points the
 * platform calls (faults, timer, interrupt exit); syscalls are in syscall.c
 * and console input in console.c.
 */
#include "veridian/console.h"
#include "veridian/hal.h"
#include "veridian/irq.h"
#include "veridian/ipc.h"
#include "veridian/kheap.h"
#include "veridian/klib.h"
#include "veridian/mem.h"
#include "veridian/pmm.h"
#include "veridian/proc.h"
#include "veridian/sched.h"

#define INIT_PATH "bin/init"

static uint64_t usable_bytes(const struct boot_info *bi)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < bi->mem_count; i++)
		n += bi->mem[i].size;
	return n;
}

noreturn void kernel_main(const struct boot_info *bi)
{
	cap_handle_t none; /* init has no parent to hold a capability to it */
	int err;

	kprintf("Veridian %s (%s, hypervisor %s): %llu MiB usable RAM, initrd %llu bytes\n",
		PACKAGE_VERSION, hal_build_name(), hal_hypervisor_name(),
		(unsigned long long)(usable_bytes(bi) >> 20), (unsigned long long)bi->initrd_size);
	vm_set_page_sizes(bi->mmu_1g_pages != 0);
	err = pmm_init(bi);
	if (err)
		KPANIC("no usable memory (%s)", vr_strerror(err));
	if (!bi->initrd_size)
		KPANIC("no initrd: nothing to run");
	console_init();
	sched_init();
	ipc_init();
	irq_init();
	mem_init();
	proc_init(phys_to_virt(bi->initrd_pa), bi->initrd_size);
	err = proc_spawn(NULL, INIT_PATH, "init", NULL, 0, NULL, &none);
	if (err)
		KPANIC("cannot start %s: %s", INIT_PATH, vr_strerror(err));
	irq_give_init_caps();
	sched_idle_loop();
}

static const char *fault_name(const struct hal_fault *f)
{
	switch (f->kind) {
	case HAL_FAULT_PAGE:
		return "page fault";
	case HAL_FAULT_INVALID_OP:
		return "invalid instruction";
	case HAL_FAULT_GENERAL:
		break;
	}
	return "general protection fault";
}

/* Send the fault to the process's fault endpoint as a call from the
 * faulting thread (the words go in its own IPC buffer) and wait for the
 * handler's verdict. True: retry the access. A missing or unusable
 * endpoint, a failed call or any other reply label: the process ends. */
static bool fault_deliver(struct process *p, const struct hal_fault *f)
{
	struct thread *t = sched_current();
	struct vr_ipc_buffer *buf;
	struct cap *c;
	int64_t r;

	if (p->fault_ep == VR_CAP_INVALID || !t->ipc.buf_pa)
		return false;
	if (cap_lookup(p->cs, p->fault_ep, KOBJ_ENDPOINT, CAP_READ | CAP_WRITE, hal_clock_ns(),
		       &c)) {
		p->fault_ep = VR_CAP_INVALID; /* deleted or revoked meanwhile */
		return false;
	}
	buf = phys_to_virt(t->ipc.buf_pa);
	buf->words[VR_FAULT_W_KIND] = f->kind;
	buf->words[VR_FAULT_W_ADDR] = f->addr;
	buf->words[VR_FAULT_W_ACCESS] = f->access;
	buf->words[VR_FAULT_W_PC] = f->pc;
	buf->words[VR_FAULT_W_SP] = f->sp;
	r = ipc_send(c, VR_MSG_TAG(VR_FAULT_LABEL, VR_FAULT_WORDS, 0), 0, true, UINT64_MAX);
	return r >= 0 && VR_MSG_LABEL((uint64_t)r) == VR_FAULT_RESUME;
}

static void fault_report(const struct process *p, const struct hal_fault *f)
{
	if (f->kind == HAL_FAULT_PAGE)
		kprintf("kernel: pid %lld (%s): page fault at 0x%llx (%s, %s), pc 0x%llx: killed\n",
			(long long)p->pid, p->name, (unsigned long long)f->addr,
			f->access & HAL_ACCESS_WRITE  ? "write"
			: f->access & HAL_ACCESS_EXEC ? "execute"
						      : "read",
			f->access & HAL_ACCESS_PRESENT ? "protection" : "not present",
			(unsigned long long)f->pc);
	else
		kprintf("kernel: pid %lld (%s): %s (vector %u), pc 0x%llx: killed\n",
			(long long)p->pid, p->name, fault_name(f), f->vector,
			(unsigned long long)f->pc);
}

/* A page fault is first resolved here (demand-zero, copy-on-write); what
 * remains goes to the fault handler, if the process has one, and otherwise
 * ends the process with VR_EXIT_FAULT. Returning retries the access. */
void kernel_user_fault(const struct hal_fault *f)
{
	struct process *p = proc_current();
	bool resume;

	KASSERT(p);
	if (f->kind == HAL_FAULT_PAGE && mem_fault(&p->vs, f->addr, f->access) == VR_OK)
		return;
	resume = fault_deliver(p, f);
	thread_pending_work(); /* killed while the handler had it: the kill status wins */
	if (resume)
		return;
	fault_report(p, f);
	proc_exit(VR_EXIT_FAULT);
}

void kernel_timer_expired(void)
{
	sched_timer_expired();
}

void kernel_interrupt_exit(void)
{
	sched_preempt_point();
}
