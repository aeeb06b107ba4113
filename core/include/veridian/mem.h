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

struct mem_obj {
	struct kobj obj;
	uint64_t npages;
	uint64_t *pages;   /* frame of each page; 0: not yet touched */
	uint64_t pages_pa; /* frames holding `pages` */
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
};

/* Register the object type and the fault resolver of core/vm.c. */
void mem_init(void);

/* A new object of npages (1..MEM_MAX_PAGES) charged to q, with no
 * capability and no mapping yet. VR_ENOMEM (quota or memory). */
int mem_obj_create(struct quota *q, uint64_t npages, struct mem_obj **out);

/* A copy-on-write copy of src charged to q: every resident page shared
 * (read-only in all mappings of both) until written. */
int mem_obj_copy(struct quota *q, struct mem_obj *src, struct mem_obj **out);

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

/* Remove every mapping inside [va, va + npages pages): VR_ENOENT if there
 * is none; VR_EINVAL if one only partly overlaps the range. */
int mem_unmap(struct vm_space *vs, uintptr_t va, uint64_t npages);

/* Change the protection of the mapping that starts at va: VR_ENOENT if no
 * mapping starts there, VR_ECAP_RIGHTS beyond what its capability allowed. */
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
