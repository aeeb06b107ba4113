/*
 * Minimal fake HAL for the capability tests and fuzzer (see cap_hal.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cap/cap_hal.h"

#include <veridian/hal.h>
#include <veridian/pmm.h>

uintptr_t hal_physmap_base;
void (*cap_hal_panic_hook)(const char *console);

static char console[4096];
static size_t console_len;

bool cap_hal_init(size_t pages)
{
	static struct boot_info bi;
	void *ram;
	int err;

	if (hal_physmap_base) {
		fprintf(stderr,
			"cap_hal_init: called twice (kheap state points into the old RAM)\n");
		return false;
	}
	ram = aligned_alloc(PAGE_SIZE, pages * PAGE_SIZE);
	if (!ram) {
		fprintf(stderr, "cap_hal_init: out of host memory\n");
		return false;
	}
	memset(ram, 0, pages * PAGE_SIZE);
	hal_physmap_base = (uintptr_t)ram;
	bi.mem[0].base = PAGE_SIZE; /* frame 0 means "no frame" to pmm */
	bi.mem[0].size = (pages - 1) * PAGE_SIZE;
	bi.mem_count = 1;
	bi.cmdline = "";
	err = pmm_init(&bi);
	if (err) {
		fprintf(stderr, "cap_hal_init: pmm_init failed (%d)\n", err);
		return false;
	}
	return true;
}

const char *cap_hal_console(void)
{
	return console;
}

void cap_hal_console_reset(void)
{
	console_len = 0;
	console[0] = '\0';
}

void hal_console_write(const char *buf, size_t len)
{
	size_t room = sizeof(console) - 1 - console_len;
	size_t n = len < room ? len : room;

	memcpy(console + console_len, buf, n);
	console_len += n;
	console[console_len] = '\0';
}

noreturn void hal_panic_halt(void)
{
	if (cap_hal_panic_hook)
		cap_hal_panic_hook(console);
	fprintf(stderr, "cap_hal: kernel panic:%s\n", console);
	abort();
}
