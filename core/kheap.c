/*
 * Slab allocator. Each slab is one page: a header, then equal-sized
 * objects. Size classes are powers of two from 32 to 2048 bytes. A slab is
 * on its class's list while it has a free object; an empty slab goes back
 * to the frame allocator at once, so killing processes returns every page
 * (tests compare counters before and after).
 *
 * Invariants (kheap_check):
 *  1. For every slab on a class list: 0 < free <= capacity, and the free
 *     list has exactly `free` entries, all inside the slab.
 *  2. stats.objects == sum over slabs of (capacity - free).
 */
#include "veridian/kheap.h"
#include "veridian/klib.h"
#include "veridian/pmm.h"

#define KHEAP_MIN_SHIFT 5
#define KHEAP_CLASSES 7 /* 32, 64, ..., 2048 */
#define SLAB_MAGIC 0x51ab51ab

struct slab {
	uint32_t magic;
	uint16_t class_idx;
	uint16_t free; /* objects on the free list */
	uint16_t capacity;
	struct list link; /* on the class's partial list when free > 0 */
	void *free_list;  /* singly linked through the objects */
	struct list all;  /* every slab, for kheap_check */
};

static struct {
	struct list partial[KHEAP_CLASSES];
	struct list all;
	struct kheap_stats stats;
	bool ready;
} heap;

static void kheap_init(void)
{
	for (int i = 0; i < KHEAP_CLASSES; i++)
		list_init(&heap.partial[i]);
	list_init(&heap.all);
	heap.ready = true;
}

static size_t class_size(unsigned c)
{
	return (size_t)1 << (c + KHEAP_MIN_SHIFT);
}

static int class_of(size_t size)
{
	for (unsigned c = 0; c < KHEAP_CLASSES; c++)
		if (size <= class_size(c))
			return (int)c;
	return -1;
}

static size_t first_object_offset(unsigned c)
{
	return ALIGN_UP(sizeof(struct slab), class_size(c) < 64 ? class_size(c) : 64);
}

static struct slab *slab_new(unsigned c)
{
	uint64_t pa = pmm_alloc(1, 1);
	struct slab *s;
	size_t off, sz = class_size(c);

	if (!pa)
		return NULL;
	s = phys_to_virt(pa);
	s->magic = SLAB_MAGIC;
	s->class_idx = (uint16_t)c;
	s->free_list = NULL;
	off = first_object_offset(c);
	s->capacity = (uint16_t)((PAGE_SIZE - off) / sz);
	for (size_t i = s->capacity; i-- > 0;) {
		void **obj = (void **)((char *)s + off + i * sz);
		*obj = s->free_list;
		s->free_list = obj;
	}
	s->free = s->capacity;
	list_push_back(&heap.partial[c], &s->link);
	list_push_back(&heap.all, &s->all);
	heap.stats.slab_pages++;
	return s;
}

void *kzalloc(size_t size)
{
	int c = class_of(size ? size : 1);
	struct slab *s;
	void **obj;

	if (!heap.ready)
		kheap_init();
	if (c < 0)
		return NULL;
	if (list_empty(&heap.partial[c])) {
		if (!slab_new((unsigned)c))
			return NULL;
	}
	s = container_of(heap.partial[c].next, struct slab, link);
	obj = s->free_list;
	s->free_list = *obj;
	if (--s->free == 0)
		list_remove(&s->link);
	heap.stats.objects++;
	memset(obj, 0, class_size((unsigned)c));
	KCHECK(kheap_check());
	return obj;
}

static bool is_object(const struct slab *s, const void *p)
{
	uintptr_t lo = (uintptr_t)s + first_object_offset(s->class_idx);
	size_t sz = class_size(s->class_idx);

	return (uintptr_t)p >= lo && ((uintptr_t)p - lo) % sz == 0 &&
	       ((uintptr_t)p - lo) / sz < s->capacity;
}

static inline bool on_free_list(const struct slab *s, const void *p)
{
	for (void *const *o = s->free_list; o; o = *o)
		if (o == p)
			return true;
	return false;
}

void kfree(void *p)
{
	struct slab *s;

	if (!p)
		return;
	s = (struct slab *)ALIGN_DOWN((uintptr_t)p, PAGE_SIZE);
	KASSERT(s->magic == SLAB_MAGIC);
	KASSERT(is_object(s, p));
	KCHECK(!on_free_list(s, p)); /* a double free would release a slab in use */
#ifdef CONFIG_DEBUG_CHECKS
	/* poison: a use after free reads 0x6b6b... instead of stale values
	 * that look right (kmalloc zeroes objects again) */
	memset(p, 0x6b, class_size(s->class_idx));
#endif
	*(void **)p = s->free_list;
	s->free_list = p;
	heap.stats.objects--;
	if (s->free++ == 0)
		list_push_back(&heap.partial[s->class_idx], &s->link);
	if (s->free == s->capacity) {
		list_remove(&s->link);
		list_remove(&s->all);
		s->magic = 0;
		heap.stats.slab_pages--;
		pmm_free(virt_to_phys(s), 1);
	}
	KCHECK(kheap_check());
}

void kheap_get_stats(struct kheap_stats *st)
{
	*st = heap.stats;
}

static bool slab_check(const struct slab *s)
{
	size_t n = 0, sz = class_size(s->class_idx);
	uintptr_t lo = (uintptr_t)s + first_object_offset(s->class_idx);
	uintptr_t hi = lo + s->capacity * sz;

	if (s->magic != SLAB_MAGIC || s->free == 0 || s->free > s->capacity)
		return false;
	for (void *const *o = s->free_list; o; o = *o) {
		if ((uintptr_t)o < lo || (uintptr_t)o >= hi || ((uintptr_t)o - lo) % sz)
			return false;
		if (++n > s->capacity)
			return false;
	}
	return n == s->free;
}

bool kheap_check(void)
{
	uint64_t in_use = 0, pages = 0;
	struct list *l;

	if (!heap.ready)
		return heap.stats.objects == 0;
	list_for_each(l, &heap.all) {
		const struct slab *s = container_of(l, struct slab, all);
		pages++;
		if (s->free && !slab_check(s))
			return false;
		in_use += s->capacity - s->free;
	}
	return in_use == heap.stats.objects && pages == heap.stats.slab_pages;
}
