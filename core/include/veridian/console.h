/*
 * Console input: bytes from the platform's console (kernel_console_input)
 * queue in a ring buffer until a thread reads them.
 */
#ifndef VERIDIAN_CONSOLE_H
#define VERIDIAN_CONSOLE_H

#include <stddef.h>

#define CONSOLE_RING_SIZE 4096u

void console_init(void);

/* Copy up to len bytes of pending input; blocks the current thread until
 * at least one byte is there. Returns the count (>= 1). */
size_t console_read(char *buf, size_t len);

#endif
