/*
 * Line input on the raw console. The kernel hands over bytes as typed (or
 * as a test pipes them in), so this file owns echo, editing and end-of-line
 * folding. Single-threaded by construction: processes have one thread.
 */
#include "vrt.h"

enum {
	CTRL_C = 0x03,
	BS = 0x08,
	ESC = 0x1b,
	DEL = 0x7f,
};

/* States of the escape-sequence filter (arrow keys send ESC [ A). */
enum esc_state { ESC_NONE, ESC_SEEN, ESC_CSI };

static struct {
	char echo[128];
	size_t echo_len;
	bool after_cr; /* a '\n' right after '\r' is the same end of line */
	enum esc_state esc;
} rl;

static void echo_flush(void)
{
	if (rl.echo_len)
		vrt_write(rl.echo, rl.echo_len);
	rl.echo_len = 0;
}

static void echo(const char *s, size_t n)
{
	while (n--) {
		if (rl.echo_len == sizeof(rl.echo))
			echo_flush();
		rl.echo[rl.echo_len++] = *s++;
	}
}

/*
 * Next input byte (0..255), blocking; pending echo is flushed first. Reads
 * one byte per console_read on purpose: bytes after this line belong to
 * whoever reads the console next (a program the shell starts, or the next
 * shell after this one exits), so none may be held back in this process.
 */
static int next_byte(void)
{
	unsigned char c;
	long r;

	echo_flush();
	r = sys_console_read((char *)&c, 1);
	if (r < 0)
		return (int)r;
	if (r == 0)
		return VR_EAGAIN;
	return c;
}

/* Swallows the bytes of an escape sequence; true if c belonged to one. */
static bool in_escape(int c)
{
	switch (rl.esc) {
	case ESC_SEEN:
		rl.esc = c == '[' ? ESC_CSI : ESC_NONE;
		return true;
	case ESC_CSI:
		if (c >= 0x40 && c <= 0x7e)
			rl.esc = ESC_NONE;
		return true;
	default:
		if (c != ESC)
			return false;
		rl.esc = ESC_SEEN;
		return true;
	}
}

/* Erases the last character of buf[0..*n), a whole UTF-8 sequence at once. */
static void erase_char(char *buf, size_t *n)
{
	if (!*n)
		return;
	while (*n > 1 && ((unsigned char)buf[*n - 1] & 0xc0) == 0x80)
		(*n)--;
	(*n)--;
	echo("\b \b", 3);
}

long readline(char *buf, size_t size)
{
	size_t n = 0;

	if (!buf || !size)
		return VR_EINVAL;
	for (;;) {
		int c = next_byte();
		bool after_cr = rl.after_cr;

		if (c < 0)
			return c;
		rl.after_cr = false;
		if (in_escape(c))
			continue;
		if (c == '\n' && after_cr)
			continue;
		if (c == '\r' || c == '\n') {
			rl.after_cr = c == '\r';
			echo("\n", 1);
			break;
		}
		if (c == CTRL_C) {
			echo("^C\n", 3);
			n = 0;
			break;
		}
		if (c == DEL || c == BS) {
			erase_char(buf, &n);
			continue;
		}
		if ((c < 0x20 && c != '\t') || n + 1 >= size)
			continue;
		buf[n++] = (char)c;
		echo(&buf[n - 1], 1);
	}
	echo_flush();
	buf[n] = '\0';
	return (long)n;
}
