/*
 * fault KIND: misbehave in one way, which the kernel must answer by killing
 * the process with status VR_EXIT_FAULT (139). If the fault does not happen
 * the program says so and exits 1, so a test can tell "killed" from "kept
 * running". Pointers pass through launder() so the compiler cannot prove the
 * access undefined and replace it with something else (such as ud2).
 */
#include "vrt.h"

/* A ret instruction, in a writable, non-executable data page. */
static volatile unsigned char data_code[16] = { 0xc3 };

static void *launder(uintptr_t addr)
{
	void *p = (void *)addr;

	__asm__ volatile("" : "+r"(p));
	return p;
}

static void fault_null(void)
{
	*(volatile int *)launder(0) = 1;
}

/* Physical 1 MiB: kernel memory on bare metal, unmapped for user code. */
static void fault_kernel(void)
{
	(void)*(volatile uint64_t *)launder(0x100000);
}

static void fault_exec(void)
{
	void (*fn)(void) = (void (*)(void))launder((uintptr_t)data_code);

	fn();
}

static void fault_ud(void)
{
	__asm__ volatile("ud2");
}

static void fault_ro(void)
{
	*(volatile unsigned char *)launder((uintptr_t)fault_ro) = 0xcc;
}

static const struct {
	const char *name;
	void (*fn)(void);
	const char *what;
} kinds[] = {
	{ "null", fault_null, "write to address 0" },
	{ "kernel", fault_kernel, "read address 0x100000 (kernel/physical)" },
	{ "exec", fault_exec, "jump into a non-executable data page" },
	{ "ud", fault_ud, "execute ud2 (invalid opcode)" },
	{ "ro", fault_ro, "write to the program's read-only text" },
};

static void usage(void)
{
	printf("usage: fault KIND, where KIND is one of:\n");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		printf("  %-7s %s\n", kinds[i].name, kinds[i].what);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		usage();
		return 2;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(argv[1], kinds[i].name))
			continue;
		printf("fault: %s\n", kinds[i].what);
		kinds[i].fn();
		printf("fault: %s did not fault\n", kinds[i].name);
		return 1;
	}
	usage();
	return 2;
}
