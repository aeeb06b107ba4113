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

#include "veridian/hal.h"

#define PAGE_SIZE 4096ull
#define PAGE_SHIFT 12

/* Largest block of the buddy allocator: 2^18 frames (1 GiB), so that a
 * 1 GiB page (core/mem.c huge objects) can come from one aligned block. */
#define PMM_MAX_ORDER 18u

struct pmm_stats {
	uint64_t total_pages; /* pages the allocator manages */
	uint64_t free_pages;
	uint64_t shared_frames; /* allocated frames with more than one reference */
};

/* Take over the usable regions of `bi`. The allocator's per-frame metadata
 * (16 bytes a frame) is carved out of them. Frame 0 is never handed out, so
 * 0 means failure. */
int pmm_init(const struct boot_info *bi);

/* Allocate `count` contiguous frames whose first frame is aligned to
 * `align` pages (a power of two, 1 for none; both at most 2^PMM_MAX_ORDER).
 * The frames are zeroed and each has one reference. Returns the physical
 * address, or 0 when memory is exhausted. */
uint64_t pmm_alloc(size_t count, size_t align);

/* Return frames obtained from pmm_alloc() (any sub-run of them). Freeing a
 * frame that is not allocated, or that has more than one reference, is a
 * kernel bug (panics, before anything changes). */
void pmm_free(uint64_t pa, size_t count);

/* Reference counts of single allocated frames, for copy-on-write sharing:
 * ref adds an owner; unref drops one and frees the frame with the last,
 * returning the references left. */
void pmm_frame_ref(uint64_t pa);
uint32_t pmm_frame_unref(uint64_t pa);
uint32_t pmm_frame_refs(uint64_t pa);

void pmm_get_stats(struct pmm_stats *st);

/* Invariants (numbered in pmm.c): free blocks aligned, on the right list,
 * fully merged; counters equal what the metadata says; frame 0 and the
 * metadata's own frames reserved. */
bool pmm_check(void);

/* The part of pmm_check() that debug builds run after every allocation and
 * free: the free lists and counters, O(free blocks) rather than O(frames),
 * so a debug kernel stays usable with real RAM sizes. */
bool pmm_check_quick(void);

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(hal_physmap_base + (uintptr_t)pa);
}

static inline uint64_t virt_to_phys(const void *p)
{
	return (uint64_t)((uintptr_t)p - hal_physmap_base);
}

#endif
