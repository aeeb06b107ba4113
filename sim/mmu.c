/*
 * The simulated MMU: a software walker of x86-64 4-level page tables (the
 * "hardware"), and the host mirror that plays the TLB.
 *
 * The walker takes 2 MiB (PDE) and 1 GiB (PDPTE) leaves with PS=1 as a CPU
 * with 1 GiB pages does (SIM_MMU_1G_PAGES: the boot info tells the kernel
 * so). The mirror needs nothing special for them: it maps 4 KiB pages of
 * the memfd, and a huge leaf's pages are contiguous frames with one
 * protection, so mirror_range() maps the whole leaf with one mmap. (The
 * host still uses 4 KiB pages for it: the memfd has no huge pages.)
 *
 * User code runs natively in the host process, so the host's own page
 * tables must say what the kernel's page tables say. hal_vm_invalidate()
 * re-walks the changed pages and maps each present user page at the SAME
 * virtual address, from the RAM memfd at its physical address, with the
 * protection of its PTE. Everything else in the slot area is a PROT_NONE
 * reservation, so a user access the tables forbid takes a host SIGSEGV,
 * which host/linux turns into a page fault for the kernel.
 *
 * Invariants:
 *  1. The slot area [VR_SLOT_BASE, + VR_SLOT_COUNT * VR_SLOT_SIZE) is
 *     reserved (PROT_NONE) at start; only this file maps anything there.
 *     Under Valgrind each slot is reserved when first used instead:
 *     memcheck takes ~10 s to mark a 1 TiB reservation, and Valgrind
 *     places the program's own mappings far below the slot area anyway.
 *  2. owner[n] is the pml4 of the last hal_vm_invalidate() in slot n.
 *  3. Default mode: every slot mirrors its owner's tables whenever user
 *     code runs: changes are collected in dirty[n] and applied by
 *     sim_mmu_sync() before each return to user mode, so that a new
 *     process's pages (frames allocated one by one, but mostly contiguous)
 *     take a handful of mmap calls instead of one per page. The kernel
 *     itself never goes through the mirror (it uses the physical map).
 *     Strict mode: only slots whose owner is the active pml4 are visible
 *     (exposed[n]); sim_mmu_sync() leaves the changes of the others in
 *     dirty[n]. A switch hides the outgoing slot with one mprotect
 *     (PROT_NONE over the slot: the mappings stay) and re-exposes the
 *     incoming one with one mprotect per run of pages of one protection,
 *     then its collected changes are applied by the next sync; re-mapping
 *     page by page cost ~1 ms per switch.
 *  4. `mirrored` holds exactly the pages of the slot area the host maps
 *     from RAM, with the frame and protection of that mapping (in a
 *     hidden slot, the protection it gets back when exposed). A page
 *     whose walk gives the same frame and protection is never mapped
 *     again: a dirty range is usually much wider than what changed (it is
 *     one interval per slot), and re-mapping an unchanged page would
 *     throw away what a debugger wrote into it (invariant 5). When a
 *     slot's owner changes, its next sync re-maps every page (stale[n]).
 *  5. Writable user pages are MAP_SHARED views of RAM: user stores must
 *     reach the frame. Read-only and executable pages are MAP_PRIVATE
 *     views: they show RAM just the same (the kernel writes frames only
 *     through the physical map; an unwritten private page is the memfd's
 *     page), but gdb can write a breakpoint into one through ptrace (the
 *     kernel refuses a forced write into a read-only shared mapping,
 *     which silently disabled every software breakpoint in user code).
 *     That write makes a private copy of the page in the host process
 *     only: RAM, the kernel and other processes do not see the int3. The
 *     copy lives until the mapping is replaced (the page is unmapped,
 *     changes frame or protection, or the slot changes owner; strict
 *     mode hiding the slot keeps it); a breakpoint in such a page is then
 *     lost, as on a real kernel when a page is remapped under the debugger.
 *  6. Inaccessible parts of the slot area are SHARED anonymous PROT_NONE
 *     mappings: the kernel refuses a debugger's forced write there. A
 *     private one would take it (a breakpoint set before the program's
 *     pages are mirrored), and the mirror would then map the code over the
 *     int3 and gdb later "restore" the zero byte it read into the code.
 *     Now gdb reports that it cannot insert the breakpoint instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <glib.h>

#include "config.h"
#include "sim/sim.h"

#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* Inaccessible parts of the slot area (invariant 6). */
#define RESERVE_FLAGS (MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE)
#define SLOT_AREA_END (VR_SLOT_BASE + (uint64_t)VR_SLOT_COUNT * VR_SLOT_SIZE)
#define USER_VA_END 0x800000000000ull

static struct {
	bool strict;
	bool warned_outside;
	uint64_t active;
	uint64_t owner[VR_SLOT_COUNT];
	bool exposed[VR_SLOT_COUNT];
	bool reserved[VR_SLOT_COUNT];
	struct {
		uint64_t lo, hi; /* [lo, hi) to re-mirror; lo == hi: clean */
	} dirty[VR_SLOT_COUNT];
	bool any_dirty;
	bool stale[VR_SLOT_COUNT]; /* owner changed: re-map every page on the next sync */
	GTree *mirrored;           /* struct mirrored, ordered by va (invariant 4) */
	struct sim_mmu_stats stats;
} mmu;

/* A page of the slot area that the host maps from RAM. Key and value of
 * mmu.mirrored are the same record. */
struct mirrored {
	uint64_t va;
	uint64_t pa;
	int prot;
};

static unsigned pt_index(uint64_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * level)) & 511u;
}

/* The walk; on failure *absent is the size of the aligned region around va
 * that the missing entry covers (the MMU would fail there the same way). */
static bool walk(uint64_t pml4_pa, uint64_t va, struct sim_walk *w, uint64_t *absent)
{
	uint64_t table_pa = pml4_pa;
	bool writable = true, user = true, exec = true;

	*absent = VR_PAGE_SIZE;
	if (va >= USER_VA_END)
		return false; /* the upper half holds no user mappings */
	for (int level = 3; level >= 0; level--) {
		const uint64_t *table = sim_ram_ptr(table_pa & SIM_PTE_ADDR, VR_PAGE_SIZE);
		uint64_t e;

		*absent = 1ull << (12 + 9 * level);
		if (!table)
			return false;
		e = table[pt_index(va, level)];
		if (!(e & SIM_PTE_P))
			return false;
		writable = writable && (e & SIM_PTE_W);
		user = user && (e & SIM_PTE_U);
		exec = exec && !(e & SIM_PTE_NX);
		if (level == 0 || ((level == 1 || level == 2) && (e & SIM_PTE_PS))) {
			uint64_t size = 1ull << (12 + 9 * level);
			/* bit 12 of a large-page entry is PAT, not address */
			uint64_t base = e & SIM_PTE_ADDR & ~(size - 1);

			*w = (struct sim_walk){ .pte = e,
						.pa = base + (va & (size - 1)),
						.page_size = size,
						.writable = writable,
						.user = user,
						.exec = exec };
			return true;
		}
		table_pa = e;
	}
	return false;
}

bool sim_mmu_walk(uint64_t pml4_pa, uint64_t va, struct sim_walk *w)
{
	uint64_t absent;

	return walk(pml4_pa, va, w, &absent);
}

int sim_mmu_slot_of(uintptr_t va)
{
	if (va < VR_SLOT_BASE || va >= SLOT_AREA_END)
		return -1;
	return (int)((va - VR_SLOT_BASE) / VR_SLOT_SIZE);
}

uint64_t sim_mmu_slot_owner(int slot)
{
	return slot >= 0 && slot < (int)VR_SLOT_COUNT ? mmu.owner[slot] : 0;
}

void sim_mmu_get_stats(struct sim_mmu_stats *st)
{
	*st = mmu.stats;
}

static void host_map(uintptr_t va, uint64_t len, int prot, uint64_t pa, bool ram)
{
	int share = ram && !(prot & PROT_WRITE) ? MAP_PRIVATE : MAP_SHARED; /* invariants 5, 6 */
	int flags = MAP_FIXED | share | (ram ? 0 : RESERVE_FLAGS);
	void *p = mmap((void *)va, len, prot, flags, ram ? sim_ram_fd() : -1, ram ? (off_t)pa : 0);

	mmu.stats.host_maps++;
	if (p == MAP_FAILED) {
		/* The mirror is now wrong: user code could see stale memory. */
		fprintf(stderr, "veridian-sim: mmu: mmap(%#lx, %#llx) failed: %s\n",
			(unsigned long)va, (unsigned long long)len, strerror(errno));
		hal_panic_halt();
	}
}

static gint mirrored_cmp(gconstpointer a, gconstpointer b, gpointer unused)
{
	const struct mirrored *x = a, *y = b;

	(void)unused;
	return x->va < y->va ? -1 : x->va > y->va;
}

/* g_tree_search() direction for "some page in [range[0], range[1])". */
static gint mirrored_in_range(gconstpointer key, gconstpointer range)
{
	const struct mirrored *m = key;
	const uint64_t *r = range;

	return m->va < r[0] ? 1 : m->va >= r[1] ? -1 : 0;
}

static bool is_mirrored(uint64_t va, uint64_t pa, int prot)
{
	struct mirrored key = { .va = va };
	const struct mirrored *m = g_tree_lookup(mmu.mirrored, &key);

	return m && m->pa == pa && m->prot == prot;
}

/* Forget the pages of [lo, hi); returns whether there were any. */
static bool forget_range(uint64_t lo, uint64_t hi)
{
	uint64_t range[2] = { lo, hi };
	struct mirrored *m;
	bool any = false;

	while ((m = g_tree_search(mmu.mirrored, mirrored_in_range, range))) {
		g_tree_remove(mmu.mirrored, m);
		any = true;
	}
	return any;
}

/* Make [lo, hi) inaccessible. Only pages mapped from RAM need an mmap:
 * the rest is the PROT_NONE reservation already. */
static void hide_range(uint64_t lo, uint64_t hi)
{
	if (forget_range(lo, hi))
		host_map(lo, hi - lo, PROT_NONE, 0, false);
}

/* Map [va, va + len) from RAM at pa with prot and record its pages. */
static void map_run(uint64_t va, uint64_t len, int prot, uint64_t pa)
{
	host_map(va, len, prot, pa, true);
	for (uint64_t off = 0; off < len; off += VR_PAGE_SIZE) {
		struct mirrored key = { .va = va + off }, *m = g_tree_lookup(mmu.mirrored, &key);

		if (!m) {
			m = g_new(struct mirrored, 1);
			m->va = va + off;
			g_tree_insert(mmu.mirrored, m, m);
		}
		m->pa = pa + off;
		m->prot = prot;
	}
}

/* What the host mirror must show for the user page at va: false if it must
 * be inaccessible (then *skip is how many bytes from va on are inaccessible
 * for the same reason), else its physical address and protection. */
static bool mirror_of(uint64_t pml4_pa, uint64_t va, uint64_t *pa, int *prot, uint64_t *skip)
{
	struct sim_walk w;
	uint64_t absent;

	if (!walk(pml4_pa, va, &w, &absent)) {
		*skip = absent - (va & (absent - 1));
		return false;
	}
	*skip = VR_PAGE_SIZE;
	if (!w.user || !sim_ram_ptr(w.pa & ~(VR_PAGE_SIZE - 1), VR_PAGE_SIZE))
		return false; /* supervisor page, or device/absent memory */
	*pa = w.pa & ~(VR_PAGE_SIZE - 1);
	*prot = PROT_READ | (w.writable ? PROT_WRITE : 0) | (w.exec ? PROT_EXEC : 0);
	return true;
}

/* Whether the page at va must be (re)mapped from RAM, and from where. */
static bool needs_map(uint64_t pml4_pa, uint64_t va, bool force, uint64_t *pa, int *prot)
{
	uint64_t skip;

	return mirror_of(pml4_pa, va, pa, prot, &skip) && (force || !is_mirrored(va, *pa, *prot));
}

/* Mirror [va, end) (page-aligned, inside the slot area) from pml4_pa: one
 * mmap per run of pages that must change and are contiguous in RAM with
 * one protection; pages already mirrored as the tables say are left alone
 * unless `force` (invariant 4). Missing tables are skipped whole. */
static void mirror_range(uint64_t pml4_pa, uint64_t va, uint64_t end, bool force)
{
	while (va < end) {
		uint64_t pa = 0, npa = 0, skip, len;
		int prot = PROT_NONE, nprot = PROT_NONE;

		if (!mirror_of(pml4_pa, va, &pa, &prot, &skip)) {
			len = MIN(skip, end - va);
			hide_range(va, va + len);
			va += len;
			continue;
		}
		if (!force && is_mirrored(va, pa, prot)) {
			va += VR_PAGE_SIZE;
			continue;
		}
		len = VR_PAGE_SIZE;
		while (va + len < end && needs_map(pml4_pa, va + len, force, &npa, &nprot) &&
		       nprot == prot && npa == pa + len)
			len += VR_PAGE_SIZE;
		map_run(va, len, prot, pa);
		va += len;
	}
}

static void warn_outside(uint64_t va)
{
	if (mmu.warned_outside)
		return;
	mmu.warned_outside = true;
	fprintf(stderr,
		"veridian-sim: mmu: user mapping at %#llx lies outside the slot area "
		"[%#llx, %#llx) and cannot be mirrored; user code faults there\n",
		(unsigned long long)va, VR_SLOT_BASE, (unsigned long long)SLOT_AREA_END);
}

/* Reserve slot s (Valgrind only; otherwise the whole area is reserved).
 * Something of the host already there would be clobbered: stop. */
static void reserve_slot(int s)
{
	uint64_t base = VR_SLOT_BASE + (uint64_t)s * VR_SLOT_SIZE;
	void *p;

	if (mmu.reserved[s])
		return;
	p = mmap((void *)base, VR_SLOT_SIZE, PROT_NONE, RESERVE_FLAGS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)base) {
		fprintf(stderr, "veridian-sim: mmu: cannot reserve slot %d at %#llx: %s\n", s,
			(unsigned long long)base, p == MAP_FAILED ? strerror(errno) : "moved");
		hal_panic_halt();
	}
	mmu.reserved[s] = true;
}

static void mark_dirty(uint64_t start, uint64_t end)
{
	for (int s = sim_mmu_slot_of(start); s <= sim_mmu_slot_of(end - 1); s++) {
		uint64_t base = VR_SLOT_BASE + (uint64_t)s * VR_SLOT_SIZE;
		uint64_t lo = MAX(start, base), hi = MIN(end, base + VR_SLOT_SIZE);

		if (mmu.dirty[s].lo == mmu.dirty[s].hi) {
			mmu.dirty[s].lo = lo;
			mmu.dirty[s].hi = hi;
		} else {
			mmu.dirty[s].lo = MIN(mmu.dirty[s].lo, lo);
			mmu.dirty[s].hi = MAX(mmu.dirty[s].hi, hi);
		}
	}
	mmu.any_dirty = true;
}

static bool slot_visible(int s);
static void set_exposed(int s, bool expose);

void hal_vm_invalidate(uint64_t pml4_pa, uintptr_t va, size_t len)
{
	uint64_t start = va & ~(VR_PAGE_SIZE - 1);
	uint64_t end = (va + len + VR_PAGE_SIZE - 1) & ~(VR_PAGE_SIZE - 1);

	mmu.stats.invalidations++;
	if (start < VR_SLOT_BASE || end > SLOT_AREA_END || end < start) {
		warn_outside(va);
		return;
	}
	for (int s = sim_mmu_slot_of(start); s <= sim_mmu_slot_of(end - 1); s++) {
		reserve_slot(s);
		if (mmu.owner[s] != pml4_pa) {
			/* a new process in the slot: nothing of the old one may stay */
			uint64_t base = VR_SLOT_BASE + (uint64_t)s * VR_SLOT_SIZE;

			mmu.stale[s] = true;
			mark_dirty(base, base + VR_SLOT_SIZE);
		}
		mmu.owner[s] = pml4_pa;
		if (mmu.exposed[s] && !slot_visible(s))
			set_exposed(s, false); /* strict: a process's slot went to another */
	}
	mark_dirty(start, end);
}

/* Strict mode: whether slot s may be visible to user code now. */
static bool slot_visible(int s)
{
	return !mmu.strict || (mmu.owner[s] && mmu.owner[s] == mmu.active);
}

/* Apply the collected changes of every visible slot; a hidden slot
 * (strict mode) keeps its changes until its space is activated. */
void sim_mmu_sync(void)
{
	if (!mmu.any_dirty)
		return;
	mmu.any_dirty = false;
	for (int s = 0; s < (int)VR_SLOT_COUNT; s++) {
		if (mmu.dirty[s].lo == mmu.dirty[s].hi)
			continue;
		if (!slot_visible(s)) {
			mmu.any_dirty = true;
			continue;
		}
		mirror_range(mmu.owner[s], mmu.dirty[s].lo, mmu.dirty[s].hi, mmu.stale[s]);
		mmu.dirty[s].lo = mmu.dirty[s].hi = 0;
		mmu.stale[s] = false;
		mmu.exposed[s] = mmu.strict;
	}
}

static void host_protect(uint64_t va, uint64_t len, int prot)
{
	mmu.stats.host_maps++;
	if (mprotect((void *)va, len, prot) < 0) {
		fprintf(stderr, "veridian-sim: mmu: mprotect(%#llx, %#llx) failed: %s\n",
			(unsigned long long)va, (unsigned long long)len, strerror(errno));
		hal_panic_halt();
	}
}

/* Strict mode, g_tree_foreach() over mmu.mirrored: give the pages the
 * mirror holds in one slot their recorded protection again, one mprotect
 * per run of adjacent pages with one protection (frames need not be
 * contiguous: the mappings stay). run = { start, end, prot, slot base,
 * slot end }; the last run is left for the caller. (GLib 2.66 has no
 * lower-bound iteration: pages of lower slots are skipped one by one.) */
static gboolean reexpose_page(gpointer key, gpointer value, gpointer data)
{
	const struct mirrored *m = key;
	uint64_t *run = data;

	(void)value;
	if (m->va < run[3])
		return FALSE;
	if (m->va >= run[4])
		return TRUE;
	if (run[0] != run[1] && (m->va != run[1] || (uint64_t)m->prot != run[2])) {
		host_protect(run[0], run[1] - run[0], (int)run[2]);
		run[0] = run[1];
	}
	if (run[0] == run[1]) {
		run[0] = m->va;
		run[2] = (uint64_t)m->prot;
	}
	run[1] = m->va + VR_PAGE_SIZE;
	return FALSE;
}

/* Strict mode: hide slot s with one mprotect, keeping its mappings (and
 * the mirror's record of them), or show them again. Changes made to the
 * slot's tables while it was hidden are still dirty: sim_mmu_sync()
 * applies them before user code runs. A slot whose owner changed is
 * re-mirrored whole by that sync, so it is not re-exposed here. */
static void set_exposed(int s, bool expose)
{
	uint64_t base = VR_SLOT_BASE + (uint64_t)s * VR_SLOT_SIZE;
	uint64_t run[5] = { base, base, PROT_NONE, base, base + VR_SLOT_SIZE };

	if (!expose) {
		if (mmu.exposed[s])
			host_protect(base, VR_SLOT_SIZE, PROT_NONE);
		mmu.exposed[s] = false;
		return;
	}
	if (mmu.exposed[s] || mmu.stale[s])
		return;
	g_tree_foreach(mmu.mirrored, reexpose_page, run);
	if (run[0] != run[1])
		host_protect(run[0], run[1] - run[0], (int)run[2]);
	mmu.exposed[s] = true;
}

void hal_vm_activate(uint64_t pml4_pa)
{
	mmu.stats.activations++;
	if (pml4_pa == mmu.active)
		return;
	mmu.active = pml4_pa;
	if (!mmu.strict)
		return; /* every process stays mapped: no host call on a switch */
	for (int s = 0; s < (int)VR_SLOT_COUNT; s++) {
		bool mine = mmu.owner[s] && mmu.owner[s] == pml4_pa;

		if (mine != mmu.exposed[s])
			set_exposed(s, mine);
	}
}

int sim_mmu_init(bool strict)
{
	uint64_t len = SLOT_AREA_END - VR_SLOT_BASE;
	void *p;

	mmu.strict = strict;
	mmu.mirrored = g_tree_new_full(mirrored_cmp, NULL, g_free, NULL);
	if (RUNNING_ON_VALGRIND)
		return 0;
	p = mmap((void *)VR_SLOT_BASE, len, PROT_NONE, RESERVE_FLAGS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || p != (void *)VR_SLOT_BASE) {
		fprintf(stderr,
			"veridian-sim: cannot reserve the user slot area [%#llx, %#llx): %s\n",
			VR_SLOT_BASE, (unsigned long long)SLOT_AREA_END,
			p == MAP_FAILED ? strerror(errno) : "the kernel placed it elsewhere");
		return -1;
	}
	for (int s = 0; s < (int)VR_SLOT_COUNT; s++)
		mmu.reserved[s] = true;
	return 0;
}
