/*
 * Console input ring. kernel_console_input() runs in interrupt context or
 * in hal_idle(); readers block on `readers` until bytes arrive. Input that
 * does not fit is dropped and counted (a reader that never reads must not
 * make the kernel hold unbounded memory).
 */
#include "veridian/console.h"
#include "veridian/hal.h"
#include "veridian/klib.h"
#include "veridian/sched.h"

static struct {
	char ring[CONSOLE_RING_SIZE];
	size_t head, tail; /* head: next write; tail: next read; free-running */
	uint64_t dropped;
	struct waitq readers;
} con;

void console_init(void)
{
	waitq_init(&con.readers);
}

void kernel_console_input(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (con.head - con.tail == CONSOLE_RING_SIZE) {
			con.dropped++;
			continue;
		}
		con.ring[con.head++ % CONSOLE_RING_SIZE] = buf[i];
	}
	sched_wake_all(&con.readers);
}

size_t console_read(char *buf, size_t len)
{
	size_t n = 0;

	while (con.head == con.tail)
		sched_block(&con.readers);
	while (n < len && con.tail != con.head)
		buf[n++] = con.ring[con.tail++ % CONSOLE_RING_SIZE];
	return n;
}
