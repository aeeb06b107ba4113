/*
 * Kernel library: string helpers, a small vsnprintf, kprintf and panic.
 * Formatting goes to a stack buffer and then to hal_console_write() in one
 * call, so a line is never interleaved with another writer's.
 */
#include "veridian/hal.h"
#include "veridian/klib.h"

size_t kstrlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t kstrnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int kstrcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

void kstrlcpy(char *dst, const char *src, size_t size)
{
	size_t n = kstrnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Output cursor of kvsnprintf: counts every byte, stores what fits. */
struct fmt_out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_char(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

struct fmt_spec {
	unsigned width;
	bool left;
	bool zero;
};

static void out_padded(struct fmt_out *o, const char *s, size_t n, const struct fmt_spec *sp)
{
	size_t pad = sp->width > n ? sp->width - n : 0;
	char padc = sp->zero && !sp->left ? '0' : ' ';

	if (!sp->left)
		while (pad--)
			out_char(o, padc);
	for (size_t i = 0; i < n; i++)
		out_char(o, s[i]);
	if (sp->left)
		while (pad--)
			out_char(o, ' ');
}

static void out_number(struct fmt_out *o, uint64_t v, bool neg, unsigned base, bool upper,
		       const struct fmt_spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg) {
		if (sp->zero && !sp->left && sp->width) {
			/* sign goes before the zero padding */
			struct fmt_spec rest = *sp;
			out_char(o, '-');
			rest.width = sp->width ? sp->width - 1 : 0;
			out_padded(o, tmp + sizeof(tmp) - n, n, &rest);
			return;
		}
		tmp[sizeof(tmp) - 1 - n++] = '-';
	}
	out_padded(o, tmp + sizeof(tmp) - n, n, sp);
}

/* Reads an integer argument of the given length modifier (0 int, 1 long,
 * 2 long long, 3 size_t). */
static uint64_t arg_unsigned(va_list *ap, int len)
{
	switch (len) {
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

static int64_t arg_signed(va_list *ap, int len)
{
	switch (len) {
	case 0:
		return va_arg(*ap, int);
	case 1:
		return va_arg(*ap, long);
	case 2:
		return va_arg(*ap, long long);
	default:
		return (int64_t)va_arg(*ap, size_t);
	}
}

static const char *parse_spec(const char *f, struct fmt_spec *sp, int *len)
{
	*sp = (struct fmt_spec){ 0 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (unsigned)(*f++ - '0');
	*len = 0;
	if (*f == 'z') {
		*len = 3;
		f++;
	}
	while (*f == 'l') {
		(*len)++;
		f++;
	}
	if (*len > 3)
		*len = 2;
	return f;
}

static void format_one(struct fmt_out *o, char conv, const struct fmt_spec *sp, int len,
		       va_list *ap)
{
	switch (conv) {
	case 'd':
	case 'i': {
		int64_t v = arg_signed(ap, len);
		out_number(o, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, v < 0, 10, false,
			   sp);
		break;
	}
	case 'u':
		out_number(o, arg_unsigned(ap, len), false, 10, false, sp);
		break;
	case 'x':
	case 'X':
		out_number(o, arg_unsigned(ap, len), false, 16, conv == 'X', sp);
		break;
	case 'p':
		out_char(o, '0');
		out_char(o, 'x');
		out_number(o, (uintptr_t)va_arg(*ap, void *), false, 16, false, sp);
		break;
	case 's': {
		const char *s = va_arg(*ap, const char *);
		if (!s)
			s = "(null)";
		out_padded(o, s, kstrlen(s), sp);
		break;
	}
	case 'c': {
		char c = (char)va_arg(*ap, int);
		out_padded(o, &c, 1, sp);
		break;
	}
	case '%':
		out_char(o, '%');
		break;
	default: /* unknown conversion: print it verbatim */
		out_char(o, '%');
		out_char(o, conv);
		break;
	}
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { buf, size, 0 };
	va_list aq;

	va_copy(aq, ap);
	for (const char *f = fmt; *f; f++) {
		struct fmt_spec sp;
		int len;

		if (*f != '%') {
			out_char(&o, *f);
			continue;
		}
		f = parse_spec(f + 1, &sp, &len);
		if (!*f)
			break;
		format_one(&o, *f, &sp, len, &aq);
	}
	va_end(aq);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void kprintf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	hal_console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

noreturn void kpanic(const char *file, int line, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kprintf("\nKERNEL PANIC at %s:%d: %s\n", file, line, buf);
	hal_panic_halt();
}
