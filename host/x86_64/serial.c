/*
 * The console: a 16550 UART on COM1 (0x3f8), 115200 8N1, polled. Output
 * spins on the transmit-holding-register-empty bit; input is drained from
 * the receive FIFO by the timer interrupt and by hal_idle(), so no UART
 * interrupt routing is needed (microvm and q35 alike).
 */
#include <veridian/hal.h>

#include "x86.h"

#define COM1 0x3f8
#define UART_DATA 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_DR 0x01   /* receive data ready */
#define UART_LSR_THRE 0x20 /* transmit holding register empty */

/* Bytes that arrived before x86_serial_init() (QEMU feeds stdin from the
 * start); enabling the FIFO would discard them. Delivered by the first poll. */
static char early_rx[16];
static size_t early_rx_len;

static bool rx_ready(void)
{
	uint8_t lsr = inb(COM1 + UART_LSR);

	/* 0xff is "no UART" (floating bus), not "data ready". */
	return lsr != 0xff && (lsr & UART_LSR_DR);
}

void x86_serial_init(void)
{
	while (early_rx_len < sizeof(early_rx) && rx_ready())
		early_rx[early_rx_len++] = (char)inb(COM1 + UART_DATA);
	outb(COM1 + UART_IER, 0x00); /* polled: no UART interrupts */
	outb(COM1 + UART_LCR, 0x80); /* DLAB: divisor follows */
	outb(COM1 + UART_DATA, 1);   /* 115200 = 115200 / 1 */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0xc7); /* FIFOs on, cleared, 14-byte threshold */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

static void serial_putc(char c)
{
	/* A missing UART reads 0xff, so this cannot spin forever. */
	while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
		cpu_pause();
	outb(COM1 + UART_DATA, (uint8_t)c);
}

void x86_serial_write(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			serial_putc('\r');
		serial_putc(buf[i]);
	}
}

void hal_console_write(const char *buf, size_t len)
{
	x86_serial_write(buf, len);
}

bool x86_serial_poll(void)
{
	char buf[64];
	size_t n = 0;
	bool any = false;

	if (early_rx_len) {
		kernel_console_input(early_rx, early_rx_len);
		early_rx_len = 0;
		any = true;
	}
	while (rx_ready()) {
		buf[n++] = (char)inb(COM1 + UART_DATA);
		if (n == sizeof(buf)) {
			kernel_console_input(buf, n);
			n = 0;
			any = true;
		}
	}
	if (n) {
		kernel_console_input(buf, n);
		any = true;
	}
	return any;
}

void x86_puts(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	x86_serial_write(s, n);
}

void x86_put_hex(uint64_t v)
{
	char buf[18] = "0x";

	for (int i = 0; i < 16; i++)
		buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
	x86_serial_write(buf, sizeof(buf));
}

void x86_put_dec(uint64_t v)
{
	char buf[20];
	int i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	x86_serial_write(buf + i, sizeof(buf) - i);
}
