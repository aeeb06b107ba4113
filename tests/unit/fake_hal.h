/*
 * A fake platform for unit tests and fuzz harnesses: it implements the
 * host half of hal.h over a malloc'd buffer that plays physical RAM, and
 * records what core/ asked of the machine (invalidations, console output,
 * timer deadlines) so a test can check it.
 *
 * Nothing here switches contexts or enters user mode: calls that would need
 * to (hal_context_switch, hal_user_enter, hal_idle, hal_poweroff) report
 * that they are not supported by the fake and abort, so a test that reaches
 * them fails loudly instead of silently doing nothing.
 *
 * This file uses no test framework, so the fuzz harnesses link it too.
 */
#ifndef VERIDIAN_FAKE_HAL_H
#define VERIDIAN_FAKE_HAL_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veridian/hal.h>

/* Frames below this are not given to the frame allocator: frame 0 stays
 * out of use, and frames 1..4 hold the fake kernel's page tables that
 * hal_vm_space_init() links into PML4 entry 0 of every space. */
#define FAKE_RESERVED_FRAMES 8u
#define FAKE_KERNEL_PDPT_PA 0x1000ull
#define FAKE_KERNEL_PD_PA 0x2000ull
#define FAKE_KERNEL_PT_PA 0x3000ull
#define FAKE_KERNEL_PAGE_PA 0x4000ull
/* The kernel page that the fake kernel tables map (supervisor, writable). */
#define FAKE_KERNEL_VA 0x5000ull

struct fake_hal {
	void *ram; /* the fake physical memory (physical 0 = ram) */
	size_t ram_size;
	struct boot_info bi; /* one region: [FAKE_RESERVED_FRAMES pages, ram_size) */

	/* hal_vm_invalidate() calls */
	uint64_t invalidations;
	uint64_t last_inval_pml4;
	uintptr_t last_inval_va;
	size_t last_inval_len;

	/* hal_console_write() output, NUL-terminated, truncated to fit */
	char console[8192];
	size_t console_len;
	bool console_echo; /* also write to stderr (VERIDIAN_UNIT_VERBOSE=1) */

	uint64_t clock_ns;
	uint64_t timer_deadline;

	/* hal_panic_halt(): longjmp here if set (a test expecting a panic) ... */
	jmp_buf *panic_jmp;
	/* ... else call this (a test framework's failure), else abort(). */
	void (*panic_hook)(const char *console);
	uint64_t panics;
};

extern struct fake_hal fake_hal;

/* Allocate `bytes` of fake RAM (a multiple of the page size), zeroed, and
 * describe it in fake_hal.bi. Sets hal_physmap_base. Returns false if the
 * host is out of memory. */
bool fake_hal_init(size_t bytes);

/* Free the fake RAM. Core state that points into it (pmm, kheap) is stale
 * afterwards: re-run pmm_init() on the next fake_hal_init(). */
void fake_hal_fini(void);

/* Forget recorded console output, invalidations and panics. */
void fake_hal_reset_records(void);

/* Is physical [pa, pa+len) inside the fake RAM? */
bool fake_hal_phys_ok(uint64_t pa, size_t len);

/*
 * Run `stmt` and expect it to end in a kernel panic (KASSERT/KPANIC): the
 * fake hal_panic_halt() longjmps back here. Evaluates to true if it
 * panicked. The core state the panicking call left behind is whatever it
 * was at the panic: tests only panic where core checks before mutating.
 */
#define FAKE_PANICS(stmt)                                \
	({                                               \
		jmp_buf fake_jb__;                       \
		volatile bool fake_panicked__ = false;   \
		if (setjmp(fake_jb__) == 0) {            \
			fake_hal.panic_jmp = &fake_jb__; \
			stmt;                            \
		} else {                                 \
			fake_panicked__ = true;          \
		}                                        \
		fake_hal.panic_jmp = NULL;               \
		fake_panicked__;                         \
	})

#endif
