/*
 * Kernel library: formatted console output, panic and assertions, and the
 * C string functions that freestanding compilers require the platform to
 * provide (see hal.h).
 */
#ifndef VERIDIAN_KLIB_H
#define VERIDIAN_KLIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "config.h"

#include "veridian/abi.h" /* enum vr_error */

/* Provided by the platform (libc in veridian-sim, host/x86_64/string.c). */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t kstrlen(const char *s);
size_t kstrnlen(const char *s, size_t max);
int kstrcmp(const char *a, const char *b);
/* Copy at most size-1 bytes and always NUL-terminate (size > 0). */
void kstrlcpy(char *dst, const char *src, size_t size);

/* printf subset: %d %i %u %x %X %p %s %c %%, length l/ll/z, width, '-', '0'. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

noreturn void kpanic(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define KPANIC(...) kpanic(__FILE__, __LINE__, __VA_ARGS__)

/* A kernel bug: always checked, in every build. */
#define KASSERT(cond)                                                              \
	do {                                                                       \
		if (!(cond))                                                       \
			kpanic(__FILE__, __LINE__, "assertion failed: %s", #cond); \
	} while (0)

/* Invariant checkers (<type>_check()) run after each mutation when
 * configured with debug checks (the default); tests call them directly. */
#ifdef CONFIG_DEBUG_CHECKS
#define KCHECK(expr) KASSERT(expr)
#else
/* not evaluated, but still compiled: a checker used only here is not an
 * unused function, and it cannot rot unnoticed */
#define KCHECK(expr) ((void)sizeof(expr))
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Intrusive doubly linked list (circular, with a head node). */
struct list {
	struct list *prev, *next;
};

static inline void list_init(struct list *l)
{
	l->prev = l->next = l;
}

static inline bool list_empty(const struct list *l)
{
	return l->next == l;
}

static inline void list_insert_before(struct list *pos, struct list *n)
{
	n->prev = pos->prev;
	n->next = pos;
	pos->prev->next = n;
	pos->prev = n;
}

static inline void list_push_back(struct list *head, struct list *n)
{
	list_insert_before(head, n);
}

static inline void list_remove(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

static inline struct list *list_pop_front(struct list *head)
{
	struct list *n = head->next;
	if (n == head)
		return NULL;
	list_remove(n);
	return n;
}

/* Is node on the list? O(length): for invariant checks only. */
static inline bool list_contains(const struct list *head, const struct list *node)
{
	for (const struct list *l = head->next; l != head; l = l->next)
		if (l == node)
			return true;
	return false;
}

#define list_for_each(pos, head) for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

#endif
