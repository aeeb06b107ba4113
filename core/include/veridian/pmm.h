/*
 * Physical memory manager: the frame allocator. Every dynamic kernel
 * allocation in both builds comes from here (in veridian-sim, from the
 * simulated RAM).
 */
#ifndef VERIDIAN_PMM_H
#define VERIDIAN_PMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veridian/hal.h>

#define PAGE_SIZE 4096ull
#define PAGE_SHIFT 12

struct pmm_stats {
	uint64_t total_pages; /* pages the allocator manages */
	uint64_t free_pages;
};

/* Take over the usable regions of `bi`. The allocator's own bitmap is
 * carved out of them. Frame 0 is never handed out, so 0 means failure. */
int pmm_init(const struct boot_info *bi);

/* Allocate `count` contiguous frames whose first frame is aligned to
 * `align` pages (a power of two, 1 for none). The frames are zeroed.
 * Returns the physical address, or 0 when memory is exhausted. */
uint64_t pmm_alloc(size_t count, size_t align);

/* Return frames obtained from pmm_alloc(). Freeing a frame that is not
 * allocated is a kernel bug (panics). */
void pmm_free(uint64_t pa, size_t count);

void pmm_get_stats(struct pmm_stats *st);

/* Invariants: the free count equals the number of clear bits; the bitmap's
 * own frames and frame 0 are marked used. */
bool pmm_check(void);

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(hal_physmap_base + (uintptr_t)pa);
}

static inline uint64_t virt_to_phys(const void *p)
{
	return (uint64_t)((uintptr_t)p - hal_physmap_base);
}

#endif
