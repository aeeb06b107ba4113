/*
 * Memory objects (KOBJ_MEMORY): a run of pages that capabilities name and
 * that processes map into their own slot. Pages are allocated on first
 * touch (demand-zero); an object mapped by two processes shares its
 * frames; a copy shares them read-only until a write fault copies the page
 * (copy-on-write, with the frame reference counts of core/pmm.c).
 *
 * Lifetime: an object lives while a capability names it (obj.ncaps) or a
 * mapping uses it (nmaps); anonymous objects (a process's stack) have no
 * capability at all.
 */
#ifndef VERIDIAN_MEM_H
#define VERIDIAN_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "veridian/abi.h"
#include "veridian/cap.h"
#include "veridian/quota.h"
#include "veridian/vm.h"

#define MEM_MAX_PAGES (1u << 18) /* 1 GiB per object */
#define MEM_MAP_NOFILL 1u        /* missing pages fault to the handler: no zero fill */
#define MEM_MAP_PRIVATE 2u       /* maps a private copy-on-write copy (mem_map_private) */

struct mem_obj {
	struct kobj obj;
	uint64_t npages;
	uint64_t page_size; /* VM_SIZE_4K, or the huge size its frames come in */
	uint64_t *pages;    /* frame of each page; 0: not yet touched */
	uint64_t pages_pa;  /* frames holding `pages` */
	uint64_t pages_frames;
	uint64_t resident; /* non-zero entries of pages */
	struct list maps;  /* struct mem_map.obj_link */
	uint32_t nmaps;
	struct quota *quota; /* pays for the object, its array and its pages */
	uint64_t charged;    /* bytes charged to quota */
	struct list all_link;
};

struct mem_map {
	struct list obj_link;   /* in mo->maps */
	struct list space_link; /* in vs->maps */
	struct mem_obj *mo;
	struct vm_space *vs;
	uintptr_t va;
	uint64_t first; /* first page of the object mapped at va */
	uint64_t npages;
	unsigned prot;     /* VM_READ | VM_WRITE | VM_EXEC */
	unsigned max_prot; /* what the capability allowed at map time */
	unsigned flags;    /* MEM_MAP_* */
};

struct mem_stats {
	uint64_t objects;
	uint64_t frames; /* distinct frames held by memory objects */
	uint64_t maps;
	uint64_t huge_objects;
};

/* Register the object type and the fault resolver of core/vm.c. */
void mem_init(void);

/* A new object of npages (1..MEM_MAX_PAGES) charged to q, with no
 * capability and no mapping yet. VR_ENOMEM (quota or memory). */
int mem_obj_create(struct quota *q, uint64_t npages, struct mem_obj **out);

/* A huge-page object: npages (a multiple of page_size / 4 KiB, at most
 * MEM_MAX_PAGES) backed at once by aligned, physically contiguous runs of
 * page_size (VM_SIZE_2M or VM_SIZE_1G) from the buddy allocator, zeroed
 * and charged to q. Its mappings use huge leaves where the address and
 * the MMU allow. VR_EINVAL for bad sizes, VR_ENOMEM (quota, or no free
 * aligned run of that size). */
int mem_obj_create_huge(struct quota *q, uint64_t npages, uint64_t page_size, struct mem_obj **out);

/* A copy-on-write copy of src charged to q: every resident page shared
 * (read-only in all mappings of both) until written. */
int mem_obj_copy(struct quota *q, struct mem_obj *src, struct mem_obj **out);

/* The same for pages [first, first + npages) of src only (the copy's page
 * 0 is src's page `first`). A huge source gives a huge copy when the range
 * is aligned to its page size. */
int mem_obj_copy_range(struct quota *q, struct mem_obj *src, uint64_t first, uint64_t npages,
		       struct mem_obj **out);

/* Free an object that has neither capability nor mapping (a creation that
 * failed half-way). */
void mem_obj_drop_unused(struct mem_obj *mo);

/* Decoding half of a mapping: is [va, va + npages pages) free in vs (no
 * mapping, no present page) and [first, first + npages) inside the object?
 * VR_EINVAL for bad numbers, VR_EBUSY for an overlap. */
int mem_map_check(struct vm_space *vs, const struct mem_obj *mo, uintptr_t va, uint64_t first,
		  uint64_t npages);

/* Map pages [first, first + npages) of mo at va with prot (already checked
 * by mem_map_check and against max_prot). Nothing is touched: pages
 * appear on first access. VR_ENOMEM for the mapping record. */
int mem_map(struct vm_space *vs, struct mem_obj *mo, uintptr_t va, uint64_t first, uint64_t npages,
	    unsigned prot, unsigned max_prot, unsigned flags);

/* A private mapping (VR_MAP_PRIVATE): map, as mem_map() does, a new
 * copy-on-write copy of pages [first, first + npages) of mo charged to q.
 * Reads show the object as it was at this call; writes go to the copy,
 * which nothing else names and which goes with the mapping's last piece
 * (unmap or process exit). Already checked by mem_map_check. *copy (if
 * not NULL) gets the copy. VR_ENOMEM (quota or memory). */
int mem_map_private(struct vm_space *vs, struct quota *q, struct mem_obj *mo, uintptr_t va,
		    uint64_t first, uint64_t npages, unsigned prot, unsigned max_prot,
		    struct mem_obj **copy);

/* Remove every page of [va, va + npages pages) from the mappings of vs:
 * mappings inside go, mappings crossing an edge are cut there (one
 * crossing both edges becomes two). VR_EINVAL for a bad range, VR_ENOENT
 * if no mapping overlaps it, VR_ENOMEM if a cut needs a mapping record
 * that cannot be had (nothing changes then). */
int mem_unmap(struct vm_space *vs, uintptr_t va, uint64_t npages);

/* Change the protection of [va, va + npages pages), which must be covered
 * by mappings (one or several), cutting those that cross an edge.
 * VR_EINVAL for a bad range, VR_ENOENT if a page of it is not mapped,
 * VR_ECAP_RIGHTS if prot exceeds what a mapping's capability allowed,
 * VR_ENOMEM for a record a cut needs; nothing changes on error. */
int mem_protect_range(struct vm_space *vs, uintptr_t va, uint64_t npages, unsigned prot);

/* Change the protection of the whole mapping that starts at va: VR_ENOENT
 * if no mapping starts there, VR_ECAP_RIGHTS beyond what its capability
 * allowed. */
int mem_protect(struct vm_space *vs, uintptr_t va, unsigned prot);

/* Remove every mapping of vs (its process is going away). */
void mem_unmap_all(struct vm_space *vs);

/* A new anonymous object of npages mapped at va with prot, its top `eager`
 * pages populated now (a stack). */
int mem_map_anon(struct vm_space *vs, struct quota *q, uintptr_t va, uint64_t npages, unsigned prot,
		 uint64_t eager);

/* Resolve a fault (HAL_ACCESS_* bits) at va: demand-zero fill, or the copy
 * of a shared page on write. VR_EFAULT: no mapping there, or the mapping
 * forbids the access; VR_ENOENT: a NOFILL page nobody provided; VR_ENOMEM:
 * the object's quota or memory is spent. */
int mem_fault(struct vm_space *vs, uintptr_t va, unsigned access);

void mem_get_stats(struct mem_stats *st);

/* Fill the memory fields of meminfo that come from here, the slab
 * allocator and the page tables (given total/free/user already set);
 * object frames count as user pages, not kernel pages. */
void mem_fill_meminfo(struct vr_meminfo *m);

/* Invariants of one object (numbered in mem.c). */
bool mem_obj_check(const struct mem_obj *mo);
bool mem_check_all(void);

#endif
