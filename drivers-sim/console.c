/*
 * Console device model (see console.h).
 *
 * Scripted input is delivered a line at a time, and only when the kernel
 * asks for an event (hal_idle(), or a watchdog preemption while a thread
 * spins): its timing is then a function of the kernel's own progress, which
 * keeps virtual-time runs reproducible byte for byte.
 *
 * If the raw-mode terminal does no output processing, "\n" is written as
 * "\r\n" there; output to files and pipes is left untouched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib.h>
#include <uv.h>

#include "drivers-sim/console.h"
#include "sim/sim.h"

static struct {
	char *script; /* whole input text (g_malloc) */
	size_t script_len;
	size_t script_pos; /* next byte to deliver */
	bool have_tty;     /* reading the terminal through libuv */
	bool tty_eof;
	unsigned long reads;
	bool translate_nl; /* stdout is the raw-mode terminal */
	uv_tty_t tty;
	char rbuf[256];
} con;

static void write_all(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
			poll(&p, 1, -1);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* stdout is gone; nothing sensible left to do */
		buf += n;
		len -= (size_t)n;
	}
}

void sim_console_write(const char *buf, size_t len)
{
	size_t start = 0;

	if (!con.translate_nl) {
		write_all(buf, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		write_all(buf + start, i - start);
		write_all("\r\n", 2);
		start = i + 1;
	}
	write_all(buf + start, len - start);
}

bool sim_console_deliver_line(void)
{
	size_t left = con.script_len - con.script_pos;
	const char *line, *nl;
	size_t len;

	if (!left)
		return false;
	line = con.script + con.script_pos;
	nl = memchr(line, '\n', left);
	len = nl ? (size_t)(nl - line) + 1 : left;
	con.script_pos += len;
	kernel_console_input(line, len);
	if (!nl)
		kernel_console_input("\n", 1); /* a last line without its newline */
	return true;
}

unsigned long sim_console_reads(void)
{
	return con.reads;
}

bool sim_console_interactive(void)
{
	return con.have_tty && !con.tty_eof;
}

void sim_console_restore(void)
{
	if (con.have_tty)
		uv_tty_reset_mode();
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	*buf = uv_buf_init(con.rbuf, sizeof(con.rbuf));
}

/* Runs inside uv_run(): from hal_idle() or a tick, both kernel context. */
static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	if (nread > 0) {
		con.reads++;
		kernel_console_input(buf->base, (size_t)nread);
	} else if (nread < 0) {
		con.tty_eof = true;
		uv_read_stop(s);
	}
}

/* libuv's raw mode keeps output processing (OPOST|ONLCR) on, other raw
 * modes do not: ask the terminal rather than assume. */
static bool output_needs_crlf(void)
{
	struct termios t;

	if (!isatty(STDOUT_FILENO) || tcgetattr(STDOUT_FILENO, &t) < 0)
		return false;
	return !(t.c_oflag & OPOST) || !(t.c_oflag & ONLCR);
}

static int start_tty(void)
{
	int err = uv_tty_init(sim_loop(), &con.tty, STDIN_FILENO, 1);

	if (!err)
		err = uv_tty_set_mode(&con.tty, UV_TTY_MODE_RAW);
	if (!err)
		err = uv_read_start((uv_stream_t *)&con.tty, alloc_cb, read_cb);
	if (err) {
		fprintf(stderr, "veridian-sim: console: cannot use the terminal: %s\n",
			uv_strerror(err));
		return -1;
	}
	con.have_tty = true;
	con.translate_nl = output_needs_crlf();
	return 0;
}

static int read_stdin(void)
{
	GIOChannel *ch = g_io_channel_unix_new(STDIN_FILENO);
	GError *err = NULL;
	gsize len = 0;

	g_io_channel_set_encoding(ch, NULL, NULL);
	if (g_io_channel_read_to_end(ch, &con.script, &len, &err) != G_IO_STATUS_NORMAL) {
		fprintf(stderr, "veridian-sim: console: reading stdin: %s\n",
			err ? err->message : "failed");
		g_clear_error(&err);
		g_io_channel_unref(ch);
		return -1;
	}
	g_io_channel_unref(ch);
	con.script_len = len;
	return 0;
}

int sim_console_init(const char *script)
{
	GError *err = NULL;
	gsize len = 0;

	if (script) {
		if (!g_file_get_contents(script, &con.script, &len, &err)) {
			fprintf(stderr, "veridian-sim: --script: %s\n", err->message);
			g_error_free(err);
			return -1;
		}
		con.script_len = len;
		return 0;
	}
	if (isatty(STDIN_FILENO))
		return start_tty();
	return read_stdin();
}
