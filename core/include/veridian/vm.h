/*
 * Virtual memory: x86-64 4-level page tables, built by the same code in
 * both builds (in veridian-sim, sim/mmu.c walks them as the hardware would).
 * Kernel accesses to user memory (vm_copy_*) walk the tables in software and
 * honour the present, user, writable bits. User leaves are 4 KiB, 2 MiB
 * (PDE with PS) or 1 GiB (PDPTE with PS, where the MMU has them).
 */
#ifndef VERIDIAN_VM_H
#define VERIDIAN_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veridian/klib.h"

struct quota;

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_OWNED (1ull << 9) /* software bit: the frame belongs to this space */
#define PTE_NX (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

/* Leaf sizes (bytes); vm_page_sizes() is a mask of them. Every x86-64 CPU
 * in long mode maps 2 MiB pages; 1 GiB pages need CPUID 0x80000001 EDX
 * bit 26 (the platform says so in boot_info.mmu_1g_pages). */
#define VM_SIZE_4K 0x1000ull
#define VM_SIZE_2M 0x200000ull
#define VM_SIZE_1G 0x40000000ull
#define VM_PAGE_SIZES_DEFAULT (VM_SIZE_4K | VM_SIZE_2M)

/* Protection of a user mapping. */
#define VM_READ 1u
#define VM_WRITE 2u
#define VM_EXEC 4u

/* An address space. Lock: none (single CPU, kernel not preemptible). */
struct vm_space {
	uint64_t pml4_pa;
	uint64_t *pml4;        /* kernel-virtual address of the PML4 */
	uint64_t table_pages;  /* page-table frames below the PML4 */
	uint64_t mapped_pages; /* 4 KiB pages under present user leaves (2 MiB leaf: 512) */
	uint64_t owned_pages;  /* 4 KiB leaves that own their frame (PTE_OWNED) */
	uint64_t leaves_2m;    /* present 2 MiB leaves */
	uint64_t leaves_1g;    /* present 1 GiB leaves */
	uint64_t cpus;         /* CPUs that may cache its translations (bit mask) */
	struct list maps;      /* memory-object mappings (struct mem_map, core/mem.c) */
	struct quota *quota;   /* pays for page tables; NULL: the kernel's own */
};

/* A new space with the kernel's mappings and no user mappings. Page tables
 * created later are charged to `q` (may be NULL). */
int vm_space_init(struct vm_space *vs);
int vm_space_init_quota(struct vm_space *vs, struct quota *q);

/* Page-table frames in use by all spaces (for meminfo). */
uint64_t vm_table_pages_total(void);

/* Present huge leaves of `size` (VM_SIZE_2M or VM_SIZE_1G) in all spaces. */
uint64_t vm_huge_leaves_total(uint64_t size);

/* Which leaf sizes the MMU maps: set once at boot from the platform
 * (kernel_main), by unit tests at will. Default: 4 KiB and 2 MiB. */
void vm_set_page_sizes(bool has_1g);
uint64_t vm_page_sizes(void);

/* TLB shootdown: the entries for [va, va+len) of the tables at pml4_pa
 * changed; every CPU in `cpus` must drop them before the frames they named
 * are reused. One CPU today: the local invalidation (hal_vm_invalidate,
 * which veridian-sim's host mirror depends on). With several CPUs this is
 * the place that sends IPIs and waits for the acknowledgements. */
void vm_tlb_shootdown(uint64_t cpus, uint64_t pml4_pa, uintptr_t va, size_t len);

/* Resolve a fault on `va` in `vs` (demand-zero, copy-on-write) for the
 * given HAL_ACCESS_* bits. Installed by core/mem.c; vm_copy_*() and
 * vm_user_range_ok() call it so the kernel's accesses on behalf of a
 * process see the same memory its own accesses would. Returns VR_OK when
 * the page is now mapped with the access allowed. */
typedef int (*vm_resolve_fn)(struct vm_space *vs, uintptr_t va, unsigned access);
void vm_set_resolver(vm_resolve_fn fn);

/* Set the leaf for va to a frame the space does not own (a memory object's
 * page), replacing any non-owned leaf there. VR_ENOMEM if a table cannot be
 * allocated (or its quota is spent). */
int vm_set_leaf(struct vm_space *vs, uintptr_t va, uint64_t pa, unsigned prot);

/* Map [va, va + size) to the frames at pa with one huge leaf (size
 * VM_SIZE_2M or VM_SIZE_1G, supported by the MMU; va and pa aligned to
 * it), not owned. Whatever was there goes: a huge leaf is replaced, a
 * table of smaller leaves (none owned) is freed. VR_EINVAL for bad
 * arguments, VR_ENOMEM if a table above cannot be allocated. */
int vm_set_huge_leaf(struct vm_space *vs, uintptr_t va, uint64_t pa, uint64_t size, unsigned prot);

/* Split the huge leaf covering va into 512 leaves of the next size (same
 * frames and bits): 1 GiB -> 2 MiB, 2 MiB -> 4 KiB. VR_ENOENT if va is
 * not under a huge leaf; VR_ENOMEM (no table, or its quota is spent). */
int vm_split(struct vm_space *vs, uintptr_t va);

/* Make `at` a leaf boundary: a huge leaf that covers it (not at its
 * start) is split, or dropped whole if no table can be had for the split
 * (huge leaves are never owned: their object faults them back in). */
void vm_break(struct vm_space *vs, uintptr_t at);

/* Remove every translation inside [va, va + len) (page-aligned), freeing
 * owned frames; huge leaves crossing an edge are broken as vm_break() says
 * and only their part inside goes. Absent tables are skipped whole. */
void vm_unmap_range(struct vm_space *vs, uintptr_t va, size_t len);

/* Clear the writable bit of the leaf (any size) covering va. VR_ENOENT if
 * nothing is mapped there. */
int vm_leaf_clear_write(struct vm_space *vs, uintptr_t va);

/* Unmap everything (freeing owned frames) and free the tables. The space
 * must not be active. */
void vm_space_destroy(struct vm_space *vs);

/* Map one user page. `owned`: the frame is freed on unmap. VR_EBUSY if the
 * page is already mapped; VR_ENOMEM if a table cannot be allocated; VR_EINVAL
 * for a misaligned or non-user address. */
int vm_map(struct vm_space *vs, uintptr_t va, uint64_t pa, unsigned prot, bool owned);

/* Allocate `npages` zeroed frames and map them at va (owned). On failure
 * nothing stays mapped. */
int vm_map_anon(struct vm_space *vs, uintptr_t va, size_t npages, unsigned prot);

/* Remove the leaf covering va: one 4 KiB page, or a whole huge leaf.
 * Frees the frame if owned. VR_ENOENT if not mapped. */
int vm_unmap(struct vm_space *vs, uintptr_t va);

/* Look up a user virtual address: its leaf entry, 0 if not present. Under
 * a huge leaf the result names the 4 KiB frame of va itself (the leaf's
 * base plus the offset), with the leaf's bits (PTE_PS set), so callers
 * can treat every page alike. vm_lookup_size also gives the leaf's size. */
uint64_t vm_lookup(const struct vm_space *vs, uintptr_t va);
uint64_t vm_lookup_size(const struct vm_space *vs, uintptr_t va, uint64_t *size);

/* Kernel access to user memory, checked against the page tables as the
 * user would be: VR_EFAULT if any byte is not mapped user (+writable). */
int vm_copy_from_user(const struct vm_space *vs, void *dst, uintptr_t src, size_t n);
int vm_copy_to_user(const struct vm_space *vs, uintptr_t dst, const void *src, size_t n);

/* Is every byte of [va, va+n) mapped for the user (and writable if
 * `write`)? The decoding half of a syscall calls this before acting. */
bool vm_user_range_ok(const struct vm_space *vs, uintptr_t va, size_t n, bool write);

/* Copy a NUL-terminated string of at most max-1 bytes. VR_E2BIG if no NUL
 * within max bytes, VR_EFAULT for bad memory. Returns the length. */
int vm_copy_str_from_user(const struct vm_space *vs, char *dst, uintptr_t src, size_t max);

/* Is va in the canonical user half and page-aligned enough for mapping? */
bool vm_is_user_addr(uintptr_t va);

/* Invariants (numbered in vm.c): counters equal what a walk of the tables
 * finds; every intermediate entry is present+user+writable; huge leaves
 * are user, aligned, not owned, and of a size the MMU has. */
bool vm_space_check(const struct vm_space *vs);

#endif
