/*
 * The simulated machine veridian-sim runs on: physical RAM (ram.c), the
 * x86-64 MMU and its host mirror (mmu.c), the clock and event queue
 * (clock.c) and the seeded random source (rng.c).
 *
 * Used by host/linux and drivers-sim only; core/ never sees this header. All
 * functions run on the one simulator thread (the kernel's CPU); none is
 * async-signal-safe unless its comment says so.
 */
#ifndef VERIDIAN_SIM_H
#define VERIDIAN_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include <veridian/abi.h>
#include <veridian/hal.h>

/* ---- RAM (ram.c) ---------------------------------------------------------- */

#define SIM_RAM_MIN (8ull << 20) /* smallest --memory the kernel can boot in */
#define SIM_RAM_MAX (64ull << 30)
#define SIM_RAM_LOW_RESERVED (1ull << 20) /* kept out of the frame allocator, as on a PC */

/* Create the machine's RAM: a memfd of `size` bytes (page multiple, within
 * SIM_RAM_MIN..SIM_RAM_MAX) mapped once read/write; sets hal_physmap_base.
 * Returns 0, or -1 with a message in *err (static or strerror text). */
int sim_ram_init(uint64_t size, const char **err);
uint64_t sim_ram_size(void);
int sim_ram_fd(void);

/* Host pointer for [pa, pa+len) of simulated RAM, NULL if outside it. */
void *sim_ram_ptr(uint64_t pa, size_t len);

/* Copy the initrd file into the top of RAM and fill `bi` as a bootloader
 * would: usable regions exclude the low reserved area and the initrd.
 * Returns 0, or -1 and prints the reason to stderr. */
int sim_ram_load_boot_info(const char *initrd_path, struct boot_info *bi);

/* ---- MMU (mmu.c) ---------------------------------------------------------- */

#define SIM_PTE_P (1ull << 0)
#define SIM_PTE_W (1ull << 1)
#define SIM_PTE_U (1ull << 2)
#define SIM_PTE_PS (1ull << 7)
#define SIM_PTE_NX (1ull << 63)
#define SIM_PTE_ADDR 0x000ffffffffff000ull

/* The simulated MMU walks 2 MiB and 1 GiB leaves (PS in a PDE or PDPTE),
 * as a CPU with CPUID 0x80000001 EDX bit 26 does; the boot info says so. */
#define SIM_MMU_1G_PAGES 1

/* The result of a page walk: what the hardware would use for `va`. */
struct sim_walk {
	uint64_t pte;       /* the leaf entry */
	uint64_t pa;        /* physical address of va itself */
	uint64_t page_size; /* 4 KiB, 2 MiB or 1 GiB */
	bool writable;      /* W at every level */
	bool user;          /* U at every level */
	bool exec;          /* no NX at any level */
};

/* Walk the 4-level tables rooted at pml4_pa for va, as the MMU does. Returns
 * false if va is not mapped (non-canonical, a non-present entry, or a table
 * outside RAM). */
bool sim_mmu_walk(uint64_t pml4_pa, uint64_t va, struct sim_walk *w);

/* Reserve the user slot area of the host address space (so nothing of the
 * host lands there). strict: only the active process stays mapped. */
int sim_mmu_init(bool strict);

/* Apply the page-table changes collected since the last call to the host
 * mirror. Must run before every return to user mode. */
void sim_mmu_sync(void);

/* The slot index owning va, or -1 outside the slot area. Async-signal-safe. */
int sim_mmu_slot_of(uintptr_t va);

/* The pml4 that last touched slot `slot` (0 if none). Async-signal-safe. */
uint64_t sim_mmu_slot_owner(int slot);

/* Counters for diagnostics and benchmarks. */
struct sim_mmu_stats {
	uint64_t invalidations; /* hal_vm_invalidate calls */
	uint64_t host_maps;     /* mmap calls made to mirror pages */
	uint64_t activations;
};
void sim_mmu_get_stats(struct sim_mmu_stats *st);

/* ---- Clock and events (clock.c) ------------------------------------------- */

enum sim_time_mode { SIM_TIME_VIRTUAL, SIM_TIME_REAL };

/* The event loop shared by the clock and the device models. */
uv_loop_t *sim_loop(void);

void sim_clock_init(enum sim_time_mode mode);
bool sim_clock_virtual(void);

/* Virtual mode: the deadline set by hal_timer_arm() (UINT64_MAX: none). */
uint64_t sim_timer_deadline(void);

/* Virtual mode: move the clock forward by ns (a charged time slice). */
void sim_clock_advance(uint64_t ns);

/* Virtual mode: move the clock to the armed deadline if it is later. */
void sim_clock_jump_to_deadline(void);

/* If the armed deadline has passed, disarm it and call
 * kernel_timer_expired(). Returns whether it fired. Kernel context (the
 * idle thread or an interrupt on a kernel stack). */
bool sim_timer_fire_due(void);

/* ---- Random source (rng.c) ------------------------------------------------ */

/* The machine's seeded PRNG: every random choice of the simulator (fault
 * injection, interleavings) draws from it so a seed reproduces a run. */
void sim_rng_seed(uint64_t seed);
uint64_t sim_rng_seed_value(void);
uint64_t sim_rng_next(void);
/* Uniform in [0, bound), bound > 0. */
uint64_t sim_rng_below(uint64_t bound);

#endif
