/*
 * vrt: the Veridian user runtime. Every program in services/ and examples/
 * includes this header and links libvrt.a; nothing else (no host libc, no
 * host headers, no core header but <veridian/abi.h>).
 *
 * Layers, bottom up:
 *   vr_syscall()       the raw trap: calls the kernel's trap entry.
 *   vr_sys_NAME()      one stub per syscall, generated from VR_SYSCALLS in
 *                      abi.h (untyped: five long arguments).
 *   sys_NAME()         typed inline wrappers over the generated stubs; a
 *                      syscall renamed or removed in abi.h breaks them at
 *                      compile time, one added there still gets its stub.
 *   the C subset       string functions, a printf family, readline.
 *
 * All functions return a negative enum vr_error on failure unless their
 * comment says otherwise.
 */
#ifndef VRT_H
#define VRT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veridian/abi.h>

/*
 * Programs are static-pie: declarations too must be hidden, or the compiler
 * would reach these symbols through a GOT it then expects the (absent)
 * dynamic linker to fill.
 */
#pragma GCC visibility push(hidden)

/* Set by _start before main(); read-only afterwards. */
extern const struct vr_start_info *vrt_start_info;

long vr_syscall(long nr, long a0, long a1, long a2, long a3, long a4);
const char *vr_syscall_name(long nr); /* "exit", ...; "?" if unknown */

#define VRT_SYSCALL_DECL(nr, name, args, ret) long vr_sys_##name(long, long, long, long, long);
VR_SYSCALLS(VRT_SYSCALL_DECL)
#undef VRT_SYSCALL_DECL

_Noreturn void exit(int status);

static inline long sys_yield(void)
{
	return vr_sys_yield(0, 0, 0, 0, 0);
}

static inline long sys_console_write(const char *buf, size_t len)
{
	return vr_sys_console_write((long)buf, (long)len, 0, 0, 0);
}

/* Blocks until at least one byte is available. */
static inline long sys_console_read(char *buf, size_t len)
{
	return vr_sys_console_read((long)buf, (long)len, 0, 0, 0);
}

/* args: the argument text, argv[0] first, separated by spaces. */
static inline long sys_spawn(const char *path, size_t pathlen, const char *args, size_t argslen)
{
	return vr_sys_spawn((long)path, (long)pathlen, (long)args, (long)argslen, 0);
}

/* pid -1 waits for any child; returns the pid that exited. */
static inline long sys_wait(long pid, int *status)
{
	return vr_sys_wait(pid, (long)status, 0, 0, 0);
}

static inline long sys_getpid(void)
{
	return vr_sys_getpid(0, 0, 0, 0, 0);
}

/* Returns the number of threads, which may exceed max (only max are copied). */
static inline long sys_ps(struct vr_thread_info *buf, size_t max)
{
	return vr_sys_ps((long)buf, (long)max, 0, 0, 0);
}

static inline long sys_uname(struct vr_uname *out)
{
	return vr_sys_uname((long)out, 0, 0, 0, 0);
}

static inline long sys_meminfo(struct vr_meminfo *out)
{
	return vr_sys_meminfo((long)out, 0, 0, 0, 0);
}

/* Returns only on error. */
static inline long sys_poweroff(int status)
{
	return vr_sys_poweroff(status, 0, 0, 0, 0);
}

static inline uint64_t sys_clock(void)
{
	return (uint64_t)vr_sys_clock(0, 0, 0, 0, 0);
}

static inline long sys_sleep(uint64_t ns)
{
	return vr_sys_sleep((long)ns, 0, 0, 0, 0);
}

/* spawn with initial capabilities (handles 0..count-1 in the child). */
static inline long sys_spawn_caps(const char *path, size_t pathlen, const char *args,
				  size_t argslen, const struct vr_spawn_caps *caps)
{
	return vr_sys_spawn((long)path, (long)pathlen, (long)args, (long)argslen, (long)caps);
}

/* ---- Capabilities (handles are 32-bit; negative results are errors) ---- */

static inline long sys_cap_identify(uint32_t h, struct vr_cap_info *out)
{
	return vr_sys_cap_identify(h, (long)out, 0, 0, 0);
}

/* Rights only shrink; badge 0 keeps the parent's; expiry_ns 0 for none. */
static inline long sys_cap_mint(uint32_t h, uint32_t rights, uint64_t badge, uint64_t expiry_ns)
{
	return vr_sys_cap_mint(h, rights, (long)badge, (long)expiry_ns, 0);
}

static inline long sys_cap_copy(uint32_t h)
{
	return vr_sys_cap_copy(h, 0, 0, 0, 0);
}

static inline long sys_cap_delete(uint32_t h)
{
	return vr_sys_cap_delete(h, 0, 0, 0, 0);
}

/* Deletes every descendant of h, a bounded number per call: loops while
 * the kernel answers VR_EAGAIN. Returns 0 or an error, and the number of
 * calls it took in *calls if calls is not NULL. */
static inline long cap_revoke_all(uint32_t h, long *calls)
{
	long r, n = 0;

	do {
		r = vr_sys_cap_revoke(h, 0, 0, 0, 0);
		n++;
	} while (r == VR_EAGAIN);
	if (calls)
		*calls = n;
	return r;
}

static inline long sys_endpoint_create(void)
{
	return vr_sys_endpoint_create(0, 0, 0, 0, 0);
}

static inline long sys_notification_create(void)
{
	return vr_sys_notification_create(0, 0, 0, 0, 0);
}

/* ---- IPC: words and capabilities go through the IPC buffer ---- */

static inline struct vr_ipc_buffer *ipc_buffer(void)
{
	return (struct vr_ipc_buffer *)vrt_start_info->ipc_buffer;
}

static inline long sys_ipc_send(uint32_t ep, uint64_t tag, unsigned flags)
{
	return vr_sys_ipc_send(ep, (long)tag, flags, 0, 0);
}

/* Returns the tag; the words, badge and capabilities are in ipc_buffer(). */
static inline long sys_ipc_recv(uint32_t ep, unsigned flags)
{
	return vr_sys_ipc_recv(ep, flags, 0, 0, 0);
}

static inline long sys_ipc_call(uint32_t ep, uint64_t tag, unsigned flags)
{
	return vr_sys_ipc_call(ep, (long)tag, flags, 0, 0);
}

static inline long sys_ipc_reply(uint64_t tag)
{
	return vr_sys_ipc_reply((long)tag, 0, 0, 0, 0);
}

static inline long sys_ipc_reply_recv(uint32_t ep, uint64_t tag, unsigned flags)
{
	return vr_sys_ipc_reply_recv(ep, (long)tag, flags, 0, 0);
}

static inline long sys_notify_signal(uint32_t n, uint64_t bits)
{
	return vr_sys_notify_signal(n, (long)bits, 0, 0, 0);
}

static inline long sys_notify_wait(uint32_t n, unsigned flags)
{
	return vr_sys_notify_wait(n, flags, 0, 0, 0);
}

/* spawn() with C strings. */
long spawn(const char *path, const char *args);

/* Freestanding C subset. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size); /* returns strlen(src) */

/*
 * Parses a decimal integer (optional '-'); returns false unless the whole
 * string is a number that fits.
 */
bool vrt_parse_long(const char *s, long *out);

/*
 * printf family: %d %i %u %x %X %p %s %c %%, flags '-' and '0', a width and
 * (for %s) a precision, either may be '*'; length modifiers l, ll, z.
 * printf output is buffered per call and written with as few console_write
 * calls as fit (one for anything under 256 bytes), so lines from concurrent
 * processes do not interleave mid-line.
 */
#define VRT_PRINTF(f, a) __attribute__((format(printf, f, a)))
int vr_printf(const char *fmt, ...) VRT_PRINTF(1, 2);
int printf(const char *fmt, ...) VRT_PRINTF(1, 2);
int vprintf(const char *fmt, va_list ap) VRT_PRINTF(1, 0);
int snprintf(char *buf, size_t size, const char *fmt, ...) VRT_PRINTF(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) VRT_PRINTF(3, 0);
int puts(const char *s); /* s and a newline */
int putchar(int c);
long vrt_write(const char *buf, size_t len); /* all of buf, retrying short writes */

/*
 * Reads one line from the console into buf (NUL-terminated, without the end
 * of line), echoing what it reads because the console is raw. Backspace
 * (0x7f, 0x08) erases; '\r', '\n' and "\r\n" end a line; Ctrl-C abandons the
 * line (returns 0); other control bytes and escape sequences are dropped;
 * bytes beyond size - 1 are dropped. Returns the length or a vr_error.
 */
long readline(char *buf, size_t size);

#pragma GCC visibility pop

#endif
