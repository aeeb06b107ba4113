/*
 * Kernel object allocator: slabs of one page per size class, carved from
 * frames of the frame allocator. Objects are zeroed on allocation.
 */
#ifndef VERIDIAN_KHEAP_H
#define VERIDIAN_KHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KHEAP_MAX_OBJECT 2048u /* larger allocations use pmm_alloc() */

/* Returns a zeroed object of at least `size` bytes (<= KHEAP_MAX_OBJECT),
 * or NULL when memory is exhausted. */
void *kzalloc(size_t size);

/* Free an object from kzalloc(). NULL is ignored. */
void kfree(void *p);

struct kheap_stats {
	uint64_t slab_pages; /* pages held by slabs */
	uint64_t objects;    /* objects allocated */
};

void kheap_get_stats(struct kheap_stats *st);

/* Invariants: every slab's free count matches its free list; a slab with
 * no object in use is not kept (pages go back to the frame allocator). */
bool kheap_check(void);

#endif
