/*
 * Frame allocator: a binary buddy allocator over the physical range spanned
 * by the usable regions, with one metadata record per 4 KiB frame (struct
 * frame) that also carries the frame's reference count for copy-on-write
 * sharing (core/mem.c).
 *
 * A block of order k is 2^k frames whose first absolute frame number is a
 * multiple of 2^k; its buddy is the block at pfn ^ 2^k. Free blocks sit on
 * one doubly linked list per order, linked through frame indexes (no
 * pointers: the metadata array can move between the builds' physmaps).
 *
 * Invariants (checked by pmm_check):
 *  1. Every frame is exactly one of: RESERVED (not RAM, frame 0, the
 *     metadata's own frames), USED (handed out, refs >= 1), or inside a free
 *     block (refs == 0); only a free block's first frame carries HEAD.
 *  2. A free block of order k is on list k, aligned to 2^k, inside the span.
 *  3. free_pages == the sum of the sizes of the free blocks, and
 *     free_pages + USED frames == total_pages.
 *  4. No two free buddies of the same order (merging is complete).
 *
 * Allocation takes the smallest block that fits (count rounded up to a
 * power of two, with an aligned start) and returns the unused tail at once,
 * so pmm_alloc(3, 1) costs 3 frames, not 4. LIFO lists hand out recently
 * freed (warm) frames first: in veridian-sim every frame touched for the
 * first time costs a host page fault on the memfd.
 */
#include "veridian/klib.h"
#include "veridian/pmm.h"

#define FRAME_RESERVED 1u
#define FRAME_USED 2u
#define FRAME_HEAD 4u /* first frame of a free block */
#define NIL UINT32_MAX

struct frame {
	uint32_t next, prev; /* free list, frame indexes; NIL ends */
	uint32_t refs;       /* owners of a USED frame */
	uint8_t order;       /* of a free block (HEAD only) */
	uint8_t flags;
	uint16_t pad;
};

static struct {
	uint64_t base_pfn; /* first frame covered by `frames` */
	uint64_t nframes;  /* frames covered */
	struct frame *frames;
	uint32_t head[PMM_MAX_ORDER + 1];
	uint64_t total_pages;
	uint64_t free_pages;
	uint64_t shared_frames; /* USED frames with refs > 1 */
} pmm;

static void span_of(const struct boot_info *bi, uint64_t *lo, uint64_t *hi)
{
	*lo = UINT64_MAX;
	*hi = 0;
	for (uint32_t i = 0; i < bi->mem_count; i++) {
		uint64_t b = ALIGN_UP(bi->mem[i].base, PAGE_SIZE);
		uint64_t e = ALIGN_DOWN(bi->mem[i].base + bi->mem[i].size, PAGE_SIZE);
		if (e <= b)
			continue;
		*lo = MIN(*lo, b);
		*hi = MAX(*hi, e);
	}
}

static uint64_t meta_bytes(void)
{
	return ALIGN_UP(pmm.nframes * sizeof(struct frame), PAGE_SIZE);
}

/* Find a usable region that can hold the metadata; returns its start. */
static uint64_t place_meta(const struct boot_info *bi, uint64_t bytes)
{
	for (uint32_t i = 0; i < bi->mem_count; i++) {
		uint64_t b = ALIGN_UP(bi->mem[i].base, PAGE_SIZE);
		uint64_t e = ALIGN_DOWN(bi->mem[i].base + bi->mem[i].size, PAGE_SIZE);
		if (b == 0)
			b = PAGE_SIZE; /* keep frame 0 out of everything */
		if (e > b && e - b >= bytes)
			return b;
	}
	return 0;
}

static void list_push(uint32_t i, unsigned order)
{
	struct frame *f = &pmm.frames[i];

	f->flags = FRAME_HEAD;
	f->order = (uint8_t)order;
	f->prev = NIL;
	f->next = pmm.head[order];
	if (f->next != NIL)
		pmm.frames[f->next].prev = i;
	pmm.head[order] = i;
}

static void list_unlink(uint32_t i)
{
	struct frame *f = &pmm.frames[i];

	if (f->prev != NIL)
		pmm.frames[f->prev].next = f->next;
	else
		pmm.head[f->order] = f->next;
	if (f->next != NIL)
		pmm.frames[f->next].prev = f->prev;
	f->flags = 0;
}

/* Index of the buddy of block i of `order`, or NIL if it lies outside. */
static uint32_t buddy_of(uint32_t i, unsigned order)
{
	uint64_t b = (pmm.base_pfn + i) ^ (1ull << order);

	if (b < pmm.base_pfn || b - pmm.base_pfn + (1ull << order) > pmm.nframes)
		return NIL;
	return (uint32_t)(b - pmm.base_pfn);
}

/* Put the free block i of `order` on its list, merging with free buddies. */
static void free_block(uint32_t i, unsigned order)
{
	while (order < PMM_MAX_ORDER) {
		uint32_t b = buddy_of(i, order);
		if (b == NIL || pmm.frames[b].flags != FRAME_HEAD || pmm.frames[b].order != order)
			break;
		list_unlink(b);
		i = MIN(i, b);
		order++;
	}
	list_push(i, order);
}

/* Free [i, i+n) (frames already marked neither USED nor RESERVED), as the
 * largest aligned blocks that tile it. */
static void free_range(uint32_t i, uint64_t n)
{
	pmm.free_pages += n;
	while (n) {
		unsigned k = 0;
		while (k < PMM_MAX_ORDER && IS_ALIGNED(pmm.base_pfn + i, 2ull << k) &&
		       (2ull << k) <= n)
			k++;
		free_block(i, k);
		i += 1u << k;
		n -= 1ull << k;
	}
}

int pmm_init(const struct boot_info *bi)
{
	uint64_t lo, hi, bytes, at;

	span_of(bi, &lo, &hi);
	if (hi <= lo)
		return VR_EINVAL;
	pmm.base_pfn = lo >> PAGE_SHIFT;
	pmm.nframes = (hi - lo) >> PAGE_SHIFT;
	if (pmm.nframes >= NIL)
		return VR_ERANGE;
	bytes = meta_bytes();
	at = place_meta(bi, bytes);
	if (!at)
		return VR_ENOMEM;
	pmm.frames = phys_to_virt(at);
	for (uint64_t i = 0; i < pmm.nframes; i++)
		pmm.frames[i] = (struct frame){ .next = NIL, .prev = NIL, .flags = FRAME_RESERVED };
	for (unsigned k = 0; k <= PMM_MAX_ORDER; k++)
		pmm.head[k] = NIL;
	pmm.free_pages = pmm.shared_frames = 0;
	for (uint32_t r = 0; r < bi->mem_count; r++) {
		uint64_t b = ALIGN_UP(bi->mem[r].base, PAGE_SIZE);
		uint64_t e = ALIGN_DOWN(bi->mem[r].base + bi->mem[r].size, PAGE_SIZE);
		for (uint64_t pa = b; pa < e; pa += PAGE_SIZE) {
			uint32_t i = (uint32_t)((pa >> PAGE_SHIFT) - pmm.base_pfn);
			if (pa == 0 || (pa >= at && pa < at + bytes) ||
			    pmm.frames[i].flags != FRAME_RESERVED)
				continue; /* reserved, or listed twice */
			pmm.frames[i].flags = 0;
			free_range(i, 1);
		}
	}
	pmm.total_pages = pmm.free_pages;
	KCHECK(pmm_check());
	return VR_OK;
}

static unsigned order_of(uint64_t n)
{
	unsigned k = 0;

	while ((1ull << k) < n)
		k++;
	return k;
}

/* Take a free block of at least `order` whose start is aligned to
 * `align` frames off its list; returns its index and order, or NIL. Blocks
 * of order >= log2(align) are aligned by construction; smaller ones are
 * searched (bounded by the list length: only small aligned runs get here). */
static uint32_t take_block(unsigned order, uint64_t align, unsigned *got)
{
	unsigned align_order = order_of(align);

	for (unsigned k = order; k <= PMM_MAX_ORDER; k++) {
		uint32_t i = pmm.head[k];
		while (k < align_order && i != NIL && !IS_ALIGNED(pmm.base_pfn + i, align))
			i = pmm.frames[i].next;
		if (i == NIL)
			continue;
		list_unlink(i);
		*got = k;
		return i;
	}
	return NIL;
}

uint64_t pmm_alloc(size_t count, size_t align)
{
	unsigned order, got;
	uint32_t i;
	uint64_t pa;

	if (count == 0 || align == 0 || (align & (align - 1)) || count > pmm.free_pages)
		return 0;
	order = order_of(count);
	if (order > PMM_MAX_ORDER || order_of(align) > PMM_MAX_ORDER)
		return 0;
	i = take_block(order, align, &got);
	if (i == NIL)
		return 0;
	pmm.free_pages -= 1ull << got;
	for (size_t j = 0; j < count; j++)
		pmm.frames[i + j] = (struct frame){ NIL, NIL, 1, 0, FRAME_USED, 0 };
	free_range(i + (uint32_t)count, (1ull << got) - count);
	pa = (pmm.base_pfn + i) << PAGE_SHIFT;
	memset(phys_to_virt(pa), 0, count * PAGE_SIZE);
	KCHECK(pmm_check_quick());
	return pa;
}

/* The index of frame `pa`, which must be USED (a kernel bug otherwise). */
static uint32_t used_index(uint64_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;
	uint32_t i;

	KASSERT(IS_ALIGNED(pa, PAGE_SIZE));
	KASSERT(pfn >= pmm.base_pfn && pfn < pmm.base_pfn + pmm.nframes);
	i = (uint32_t)(pfn - pmm.base_pfn);
	if (!(pmm.frames[i].flags & FRAME_USED))
		KPANIC("pmm: frame 0x%llx is not allocated", (unsigned long long)pa);
	return i;
}

void pmm_free(uint64_t pa, size_t count)
{
	uint64_t first = pa >> PAGE_SHIFT;
	uint32_t i;

	KASSERT(IS_ALIGNED(pa, PAGE_SIZE));
	KASSERT(count > 0 && first >= pmm.base_pfn && first + count <= pmm.base_pfn + pmm.nframes);
	/* check the whole run before changing anything */
	for (size_t j = 0; j < count; j++) {
		uint32_t k = used_index(pa + j * PAGE_SIZE);
		if (pmm.frames[k].refs != 1)
			KPANIC("pmm_free: frame 0x%llx is shared (%u references)",
			       (unsigned long long)(pa + j * PAGE_SIZE), pmm.frames[k].refs);
	}
	i = (uint32_t)(first - pmm.base_pfn);
	for (size_t j = 0; j < count; j++)
		pmm.frames[i + j] = (struct frame){ NIL, NIL, 0, 0, 0, 0 };
	free_range(i, count);
	KCHECK(pmm_check_quick());
}

void pmm_frame_ref(uint64_t pa)
{
	uint32_t i = used_index(pa);

	KASSERT(pmm.frames[i].refs < UINT32_MAX);
	if (pmm.frames[i].refs++ == 1)
		pmm.shared_frames++;
}

uint32_t pmm_frame_unref(uint64_t pa)
{
	uint32_t i = used_index(pa);

	KASSERT(pmm.frames[i].refs > 0);
	if (pmm.frames[i].refs > 1) {
		if (pmm.frames[i].refs == 2)
			pmm.shared_frames--;
		return --pmm.frames[i].refs;
	}
	pmm_free(pa, 1);
	return 0;
}

uint32_t pmm_frame_refs(uint64_t pa)
{
	return pmm.frames[used_index(pa)].refs;
}

void pmm_get_stats(struct pmm_stats *st)
{
	st->total_pages = pmm.total_pages;
	st->free_pages = pmm.free_pages;
	st->shared_frames = pmm.shared_frames;
}

/* Invariants 2 and 4 for block i of list k (and with `deep`, the free part
 * of 1 for each of its frames); adds its size to *free. */
static bool block_ok(uint32_t i, unsigned k, bool deep, uint64_t *free)
{
	uint32_t b;

	if (i >= pmm.nframes || i + (1ull << k) > pmm.nframes)
		return false;
	if (pmm.frames[i].flags != FRAME_HEAD || pmm.frames[i].order != k || pmm.frames[i].refs ||
	    !IS_ALIGNED(pmm.base_pfn + i, 1ull << k))
		return false;
	for (uint64_t j = 1; deep && j < (1ull << k); j++)
		if (pmm.frames[i + j].refs || pmm.frames[i + j].flags)
			return false;
	b = k < PMM_MAX_ORDER ? buddy_of(i, k) : NIL;
	if (b != NIL && pmm.frames[b].flags == FRAME_HEAD && pmm.frames[b].order == k)
		return false; /* invariant 4 */
	*free += 1ull << k;
	return true;
}

/* The free lists: links, blocks (invariants 2, 4) and the free count. */
static bool lists_ok(bool deep)
{
	uint64_t free = 0, blocks = 0;

	for (unsigned k = 0; k <= PMM_MAX_ORDER; k++) {
		uint32_t prev = NIL;
		for (uint32_t i = pmm.head[k]; i != NIL; i = pmm.frames[i].next) {
			if (!block_ok(i, k, deep, &free) || pmm.frames[i].prev != prev)
				return false;
			if (++blocks > pmm.nframes)
				return false; /* a cycle */
			prev = i;
		}
	}
	return free == pmm.free_pages;
}

bool pmm_check_quick(void)
{
	return pmm.frames && lists_ok(false) && pmm.free_pages <= pmm.total_pages;
}

/* O(frames): for unit tests, fuzzers and pmm_init. */
bool pmm_check(void)
{
	uint64_t used = 0, shared = 0, meta;

	if (!pmm.frames || !lists_ok(true))
		return false;
	for (uint64_t i = 0; i < pmm.nframes; i++) {
		const struct frame *f = &pmm.frames[i];
		if (f->flags & FRAME_USED) {
			used++;
			shared += f->refs > 1;
			if (f->refs == 0 || (f->flags & ~FRAME_USED))
				return false;
		}
	}
	if (pmm.free_pages + used != pmm.total_pages || shared != pmm.shared_frames)
		return false;
	if (pmm.base_pfn == 0 && pmm.frames[0].flags != FRAME_RESERVED)
		return false;
	meta = (virt_to_phys(pmm.frames) >> PAGE_SHIFT) - pmm.base_pfn;
	for (uint64_t i = meta; i < meta + meta_bytes() / PAGE_SIZE; i++)
		if (pmm.frames[i].flags != FRAME_RESERVED)
			return false; /* invariant 1: the metadata's own frames */
	return true;
}
