/*
 * Kernel entry: bring up the allocators, the scheduler and the first
 * process, then become the idle thread. Also the trap entry points the
 * platform calls (faults, timer, interrupt exit); syscalls are in syscall.c
 * and console input in console.c.
 */
#include <veridian/console.h>
#include <veridian/hal.h>
#include <veridian/ipc.h>
#include <veridian/kheap.h>
#include <veridian/klib.h>
#include <veridian/pmm.h>
#include <veridian/proc.h>
#include <veridian/sched.h>

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
	int64_t pid;
	int err;

	kprintf("Veridian %s (%s, hypervisor %s): %llu MiB usable RAM, initrd %llu bytes\n",
		PACKAGE_VERSION, hal_build_name(), hal_hypervisor_name(),
		(unsigned long long)(usable_bytes(bi) >> 20), (unsigned long long)bi->initrd_size);
	err = pmm_init(bi);
	if (err)
		KPANIC("no usable memory (%s)", vr_strerror(err));
	if (!bi->initrd_size)
		KPANIC("no initrd: nothing to run");
	console_init();
	sched_init();
	ipc_init();
	proc_init(phys_to_virt(bi->initrd_pa), bi->initrd_size);
	err = proc_spawn(NULL, INIT_PATH, "init", NULL, 0, &pid);
	if (err)
		KPANIC("cannot start %s: %s", INIT_PATH, vr_strerror(err));
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

void kernel_user_fault(const struct hal_fault *f)
{
	struct process *p = proc_current();

	KASSERT(p);
	if (f->kind == HAL_FAULT_PAGE)
		kprintf("kernel: pid %lld (%s): page fault at 0x%llx (%s, %s), pc 0x%llx: killed\n",
			(long long)p->pid, p->name, (unsigned long long)f->addr,
			f->access & HAL_ACCESS_WRITE ? "write"
			: f->access & HAL_ACCESS_EXEC ? "execute"
						     : "read",
			f->access & HAL_ACCESS_PRESENT ? "protection" : "not present",
			(unsigned long long)f->pc);
	else
		kprintf("kernel: pid %lld (%s): %s (vector %u), pc 0x%llx: killed\n",
			(long long)p->pid, p->name, fault_name(f), f->vector,
			(unsigned long long)f->pc);
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
