/*
 * exception-test.elf: a tiny kernel that links the whole of host/x86_64 with
 * this file in place of core's kernel_main() and kernel_*() entry points,
 * then commits one kernel-mode fault chosen on the command line, so that
 * tests/system/qemu-exception.sh can check the register dump of trap.c and
 * the panic exit. Only kprintf & co. come from core (klib).
 *
 *   kpf  write to an unmapped address (page fault, CR2 = 0xdead0000000)
 *   kud  ud2 (invalid opcode)
 *   kgp  read a non-canonical address (general protection)
 */
#include <veridian/hal.h>
#include <veridian/klib.h>

/* No built-in initramfs in this image. */
__asm__(".section .rodata\n.globl x86_initrd_start, x86_initrd_end\n"
	"x86_initrd_start:\nx86_initrd_end:\n.previous");

static bool has(const char *cmdline, const char *word)
{
	size_t n = kstrlen(word);

	for (const char *p = cmdline; *p; p++)
		if (!memcmp(p, word, n))
			return true;
	return false;
}

noreturn void kernel_main(const struct boot_info *bi)
{
	kprintf("exception-test: clock %llu ns, cmdline '%s'\n", (unsigned long long)hal_clock_ns(),
		bi->cmdline);
	if (has(bi->cmdline, "kpf"))
		*(volatile uint64_t *)0xdead0000000ull = 0x1234;
	if (has(bi->cmdline, "kud"))
		__asm__ volatile("ud2");
	if (has(bi->cmdline, "kgp"))
		(void)*(volatile uint64_t *)0x8000000000000000ull;
	kprintf("exception-test: no fault requested (kpf, kud, kgp)\n");
	hal_poweroff(0);
}

int64_t kernel_syscall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	(void)nr, (void)a0, (void)a1, (void)a2, (void)a3, (void)a4;
	KPANIC("exception-test has no user mode");
}

void kernel_user_fault(const struct hal_fault *f)
{
	(void)f;
	KPANIC("exception-test has no user mode");
}

void kernel_timer_expired(void)
{
}

void kernel_irq(unsigned line)
{
	(void)line;
}

void kernel_console_input(const char *buf, size_t len)
{
	(void)buf, (void)len;
}

void kernel_interrupt_exit(void)
{
}
