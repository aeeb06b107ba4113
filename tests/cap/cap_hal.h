/*
 * The smallest platform the capability code needs: core/cap.c, pmm.c,
 * kheap.c and klib.c only use hal_physmap_base, hal_console_write() and
 * hal_panic_halt(). "Physical memory" is one malloc'd buffer. Shared by
 * tests/cap/test-cap.c and fuzz/cap/cap_fuzz.c; it uses no test framework.
 *
 * Any other HAL function is deliberately left undefined: if the capability
 * code ever starts to need one, these programs fail to link instead of
 * running against a pretend implementation.
 */
#ifndef VERIDIAN_TESTS_CAP_HAL_H
#define VERIDIAN_TESTS_CAP_HAL_H

#include <stdbool.h>
#include <stddef.h>

/* Allocate `pages` pages of fake RAM and hand them to pmm_init(). Call once
 * per process: kheap keeps static state pointing into that RAM. Frame 0 is
 * kept out of the allocator. Returns false on failure (message on stderr). */
bool cap_hal_init(size_t pages);

/* Called on a kernel panic with the console text so far (a test framework
 * records a failure and does not return; NULL: print and abort()). */
extern void (*cap_hal_panic_hook)(const char *console);

/* Text written to the console since the last cap_hal_console_reset(). */
const char *cap_hal_console(void);
void cap_hal_console_reset(void);

#endif
