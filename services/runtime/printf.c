/*
 * A small printf family. One formatter (format()) writes into an output
 * buffer; printf's buffer flushes to the console when full, snprintf's
 * drops what does not fit but keeps counting, as C's snprintf does.
 */
#include "vrt.h"

struct out {
	char *buf;
	size_t cap;                   /* bytes buf can hold */
	size_t len;                   /* bytes held */
	size_t total;                 /* bytes produced, including dropped or flushed ones */
	void (*flush)(struct out *o); /* NULL: drop on overflow */
};

struct spec {
	bool left; /* '-' */
	bool zero; /* '0' */
	int width;
	int prec; /* -1: none */
	int size; /* 0 int, 1 long, 2 long long, 3 size_t */
};

static void out_putc(struct out *o, char c)
{
	if (o->len == o->cap && o->flush)
		o->flush(o);
	if (o->len < o->cap)
		o->buf[o->len++] = c;
	o->total++;
}

static void out_fill(struct out *o, char c, int n)
{
	while (n-- > 0)
		out_putc(o, c);
}

/* Emits s[0..len) padded to the spec's width; zeros go after a sign. */
static void out_field(struct out *o, const struct spec *sp, const char *s, size_t len)
{
	int pad = sp->width > (int)len ? sp->width - (int)len : 0;

	if (!sp->left && sp->zero && len && (*s == '-')) {
		out_putc(o, *s++);
		len--;
	}
	if (!sp->left)
		out_fill(o, sp->zero ? '0' : ' ', pad);
	while (len--)
		out_putc(o, *s++);
	if (sp->left)
		out_fill(o, ' ', pad);
}

/* Formats v in base 10 or 16 at the end of tmp; returns the first byte. */
static char *fmt_uint(char *end, unsigned long long v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;

	do {
		*--p = digits[v % base];
		v /= base;
	} while (v);
	return p;
}

static unsigned long long arg_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->size) {
	case 0:
		return va_arg(*ap, unsigned int);
	case 1:
		return va_arg(*ap, unsigned long);
	case 2:
		return va_arg(*ap, unsigned long long);
	default:
		return va_arg(*ap, size_t);
	}
}

static long long arg_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->size) {
	case 0:
		return va_arg(*ap, int);
	case 1:
		return va_arg(*ap, long);
	case 2:
		return va_arg(*ap, long long);
	default:
		return (long long)va_arg(*ap, size_t);
	}
}

/* Precision of an integer conversion: at least `prec` digits, zero-padded
 * in front (p points at the digits, which end at `end`; the buffer starts
 * at `lo` and keeps room for a sign). */
static char *min_digits(char *end, char *p, int prec, char *lo)
{
	while (prec > 0 && end - p < prec && p > lo + 1)
		*--p = '0';
	return p;
}

static void conv_number(struct out *o, const struct spec *sp, char conv, va_list *ap)
{
	char tmp[32], *end = tmp + sizeof(tmp), *p;

	if (conv == 'd' || conv == 'i') {
		long long v = arg_signed(sp, ap);
		unsigned long long mag =
			v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

		p = min_digits(end, fmt_uint(end, mag, 10, false), sp->prec, tmp);
		if (v < 0)
			*--p = '-';
	} else if (conv == 'p') {
		p = fmt_uint(end, (uintptr_t)va_arg(*ap, void *), 16, false);
		*--p = 'x';
		*--p = '0';
	} else {
		unsigned base = conv == 'u' ? 10 : 16;

		p = min_digits(end, fmt_uint(end, arg_unsigned(sp, ap), base, conv == 'X'),
			       sp->prec, tmp);
	}
	out_field(o, sp, p, (size_t)(end - p));
}

static void conv_string(struct out *o, const struct spec *sp, va_list *ap)
{
	const char *s = va_arg(*ap, const char *);
	struct spec plain = *sp;

	if (!s)
		s = "(null)";
	plain.zero = false;
	out_field(o, &plain, s, sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s));
}

/* Parses flags, width, precision and length after a '%'; returns the conversion. */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		f++;
	}
	for (; *f >= '0' && *f <= '9'; f++)
		sp->width = sp->width * 10 + (*f - '0');
	if (*f == '.') {
		f++;
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		}
		for (; *f >= '0' && *f <= '9'; f++)
			sp->prec = sp->prec * 10 + (*f - '0');
	}
	for (; *f == 'l'; f++)
		sp->size = sp->size < 2 ? sp->size + 1 : 2;
	if (*f == 'z') {
		sp->size = 3;
		f++;
	}
	return f;
}

static void format(struct out *o, const char *fmt, va_list ap0)
{
	va_list ap;

	va_copy(ap, ap0);
	while (*fmt) {
		struct spec sp;
		char c;

		if (*fmt != '%') {
			out_putc(o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &ap);
		c = *fmt;
		if (!c)
			break;
		fmt++;
		if (c == 'd' || c == 'i' || c == 'u' || c == 'x' || c == 'X' || c == 'p') {
			conv_number(o, &sp, c, &ap);
		} else if (c == 's') {
			conv_string(o, &sp, &ap);
		} else if (c == 'c') {
			char ch = (char)va_arg(ap, int);

			out_field(o, &sp, &ch, 1);
		} else {
			/* '%%', and an unknown conversion shown as itself. */
			if (c != '%')
				out_putc(o, '%');
			out_putc(o, c);
		}
	}
	va_end(ap);
}

long vrt_write(const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		/* the kernel takes at most VR_CONSOLE_WRITE_MAX bytes a call */
		size_t n = len - done < VR_CONSOLE_WRITE_MAX ? len - done : VR_CONSOLE_WRITE_MAX;
		long r = sys_console_write(buf + done, n);

		if (r < 0)
			return r;
		if (r == 0)
			return VR_EAGAIN;
		done += (size_t)r;
	}
	return (long)done;
}

static void console_flush(struct out *o)
{
	vrt_write(o->buf, o->len);
	o->len = 0;
}

int vprintf(const char *fmt, va_list ap)
{
	char buf[256];
	struct out o = { .buf = buf, .cap = sizeof(buf), .flush = console_flush };

	format(&o, fmt, ap);
	console_flush(&o);
	return (int)o.total;
}

int vr_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .cap = size ? size - 1 : 0 };

	format(&o, fmt, ap);
	if (size)
		buf[o.len] = '\0';
	return (int)o.total;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	return printf("%s\n", s);
}

int putchar(int c)
{
	char ch = (char)c;

	return vrt_write(&ch, 1) == 1 ? (unsigned char)ch : -1;
}
