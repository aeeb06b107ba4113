/*
 * VM fuzzer: sequences of create (4 KiB or 2 MiB-page objects) / map
 * (shared or private, any range or a whole huge object at an aligned
 * address) / unmap of any range / protect of any range / copy-on-write
 * copy / capability delete / read / write over three address spaces,
 * driving core/mem.c, core/vm.c, core/pmm.c, core/quota.c and core/cap.c
 * over the fake HAL, against a reference model of what every page should
 * show. After each step every translation of every mapping is checked
 * against the model (frame contents, writability, no-execute, and where a
 * huge leaf may be), no leaf may lie outside the model's mappings, and
 * each subsystem's _check() runs; at the end everything is torn down and
 * the frame allocator must be back to its starting count.
 *
 * Input: a sequence of 6-byte operations [op, a, b, c, d, e]. A read or
 * write is done as user code would: the leaf is looked up, and a missing
 * or insufficient one goes through mem_fault(), as kernel_user_fault()
 * does. One source for libFuzzer and AFL++ (-fsanitize=fuzzer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veridian/cap.h>
#include <veridian/kheap.h>
#include <veridian/mem.h>
#include <veridian/pmm.h>
#include <veridian/quota.h>
#include <veridian/vm.h>

#include "tests/unit/fake_hal.h"

#define RAM_BYTES (8u << 20) /* three aligned 2 MiB runs; the quota holds one */
#define NSPACES 3
#define HUGE 512u    /* pages of a 2 MiB page */
#define WINDOW 1024u /* pages of each space the fuzzer uses: two 2 MiB runs */
#define NOBJ 12
#define MAXPAGES 8 /* of a 4 KiB-page object */
#define MAXMAPS 24
#define OP_BYTES 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mobj { /* the model of one memory object */
	bool alive, has_cap, huge;
	cap_handle_t h;
	struct mem_obj *mo;
	unsigned npages, nmaps;
	uint8_t val[HUGE]; /* byte 0 of each page; 0 for untouched */
};

struct mmap_ { /* the model of one mapping (or piece of one after cuts) */
	bool used;
	unsigned space, vpage, n, obj, first, prot, max_prot;
};

static struct {
	struct cspace *cs;
	struct quota *root;
	struct vm_space vs[NSPACES];
	struct mobj obj[NOBJ];
	struct mmap_ map[MAXMAPS];
	uint64_t free_start;
} w;

#define FAIL(...)                                         \
	do {                                              \
		fprintf(stderr, "vm_fuzz: " __VA_ARGS__); \
		fputc('\n', stderr);                      \
		abort();                                  \
	} while (0)

static uintptr_t va_of(unsigned space, unsigned vpage)
{
	return VR_SLOT_BASE + space * VR_SLOT_SIZE + 0x10000000ull + vpage * PAGE_SIZE;
}

static struct mmap_ *model_map_at(unsigned space, unsigned vpage)
{
	for (unsigned i = 0; i < MAXMAPS; i++) {
		struct mmap_ *m = &w.map[i];
		if (m->used && m->space == space && vpage >= m->vpage && vpage < m->vpage + m->n)
			return m;
	}
	return NULL;
}

static unsigned free_frames(void)
{
	struct pmm_stats st;

	pmm_get_stats(&st);
	return (unsigned)st.free_pages;
}

static void model_obj_release(unsigned o)
{
	if (!w.obj[o].has_cap && !w.obj[o].nmaps)
		w.obj[o].alive = false;
}

static int free_obj_slot(void)
{
	for (int o = 0; o < NOBJ; o++)
		if (!w.obj[o].alive)
			return o;
	return -1;
}

static int free_map_slots(void)
{
	int n = 0;

	for (unsigned i = 0; i < MAXMAPS; i++)
		n += !w.map[i].used;
	return n;
}

static struct mmap_ *new_map_slot(void)
{
	for (unsigned i = 0; i < MAXMAPS; i++)
		if (!w.map[i].used)
			return &w.map[i];
	FAIL("no free mapping slot (the caller counted them)");
}

/* a[0]: object slot, a[1]: pages, a[2] bit 0: a 2 MiB-page object. */
static void op_create(const uint8_t *a)
{
	unsigned o = a[0] % NOBJ, n = 1 + a[1] % MAXPAGES;
	bool huge = a[2] & 1;
	struct mem_obj *mo;
	int err;

	if (w.obj[o].alive)
		return;
	if (huge)
		n = HUGE;
	err = huge ? mem_obj_create_huge(w.root, n, VM_SIZE_2M, &mo)
		   : mem_obj_create(w.root, n, &mo);
	if (err == VR_ENOMEM)
		return; /* quota or memory: fine, the model has no object */
	if (err)
		FAIL("create: %d", err);
	if (cap_insert(w.cs, &mo->obj, CAP_RIGHTS_ALL, 0, &w.obj[o].h)) {
		mem_obj_drop_unused(mo);
		return;
	}
	w.obj[o] = (struct mobj){
		.alive = true, .has_cap = true, .huge = huge, .h = w.obj[o].h, .mo = mo, .npages = n
	};
}

static void op_copy(const uint8_t *a)
{
	unsigned s = a[0] % NOBJ, o = a[1] % NOBJ;
	struct mem_obj *mo;
	cap_handle_t h;

	if (!w.obj[s].has_cap || w.obj[o].alive)
		return;
	if (mem_obj_copy(w.root, w.obj[s].mo, &mo))
		return;
	if (cap_insert(w.cs, &mo->obj, CAP_RIGHTS_ALL, 0, &h)) {
		mem_obj_drop_unused(mo);
		return;
	}
	w.obj[o] = w.obj[s];
	w.obj[o].h = h;
	w.obj[o].mo = mo;
	w.obj[o].nmaps = 0;
	w.obj[o].has_cap = true;
}

static void op_delete(const uint8_t *a)
{
	unsigned o = a[0] % NOBJ;

	if (!w.obj[o].has_cap)
		return;
	if (cap_delete(w.cs, w.obj[o].h))
		FAIL("cap_delete of object %u failed", o);
	w.obj[o].has_cap = false;
	model_obj_release(o);
}

/* Does the model expect mem_map_check to refuse? */
static int model_map_check(unsigned space, unsigned vpage, unsigned n, unsigned o, unsigned first)
{
	if (n == 0 || n > w.obj[o].npages || first > w.obj[o].npages - n)
		return VR_EINVAL;
	for (unsigned p = vpage; p < vpage + n; p++)
		if (model_map_at(space, p))
			return VR_EBUSY;
	return VR_OK;
}

/* A private mapping: the kernel maps a copy of the range; the model gets
 * a capability-less object holding the snapshot. */
static int map_private(unsigned space, unsigned vpage, unsigned n, unsigned o, unsigned first,
		       unsigned prot, unsigned *obj)
{
	int k = free_obj_slot();
	struct mem_obj *copy;
	int err;

	if (k < 0)
		return VR_EAGAIN; /* the model is full: not tried */
	err = mem_map_private(&w.vs[space], w.root, w.obj[o].mo, va_of(space, vpage), first, n,
			      prot, prot | VM_WRITE, &copy);
	if (err)
		return err;
	w.obj[k] = (struct mobj){ .alive = true, .mo = copy, .npages = n };
	w.obj[k].huge = w.obj[o].huge && first % HUGE == 0 && n % HUGE == 0;
	memcpy(w.obj[k].val, w.obj[o].val + first, n);
	*obj = (unsigned)k;
	return VR_OK;
}

/* a[0]: object, a[1]: space, a[2] (+ a[4] bit 6: +512): page, a[3]: count
 * (low nibble) + protection (bits 4-5: R, RW, RX) + private (bit 6),
 * a[4] bits 0-5: first page, bit 7: the whole object at an aligned page. */
static void op_map(const uint8_t *a)
{
	static const unsigned prots[] = { VM_READ, VM_READ | VM_WRITE, VM_READ | VM_EXEC };
	unsigned o = a[0] % NOBJ, space = a[1] % NSPACES;
	unsigned vpage = (a[2] + (a[4] & 0x40 ? HUGE : 0)) % WINDOW;
	unsigned n = (a[3] & 0x0fu) % (MAXPAGES + 1), first = (a[4] & 0x3fu) % MAXPAGES;
	unsigned prot = prots[((a[3] >> 4) & 3) % 3], obj = o, max = prot;
	bool private = a[3] & 0x40;
	struct mmap_ *slot;
	int want, got;

	if (!w.obj[o].has_cap || !free_map_slots())
		return;
	if (a[4] & 0x80) { /* the whole object, at an aligned page */
		first = 0;
		n = w.obj[o].npages;
		vpage = w.obj[o].huge ? vpage & ~(HUGE - 1) : vpage;
	}
	if (vpage + n > WINDOW)
		return;
	want = model_map_check(space, vpage, n, o, first);
	got = mem_map_check(&w.vs[space], w.obj[o].mo, va_of(space, vpage), first, n);
	if (want != got)
		FAIL("map check: model %d, kernel %d", want, got);
	if (got)
		return;
	if (private) {
		max = prot | VM_WRITE;
		got = map_private(space, vpage, n, o, first, prot, &obj);
		first = 0;
	} else {
		got = mem_map(&w.vs[space], w.obj[o].mo, va_of(space, vpage), first, n, prot, prot,
			      0);
	}
	if (got == VR_ENOMEM || got == VR_EAGAIN)
		return;
	if (got)
		FAIL("mem_map: %d", got);
	slot = new_map_slot();
	*slot = (struct mmap_){ true, space, vpage, n, obj, first, prot, max };
	w.obj[obj].nmaps++;
}

/* A range of pages of one space: a[0] space, a[1] | a[3] << 8 page,
 * a[2] | (a[4] & 3) << 8 count - 1. */
static void range_of(const uint8_t *a, unsigned *space, unsigned *vpage, unsigned *n)
{
	*space = a[0] % NSPACES;
	*vpage = (a[1] | (unsigned)a[3] << 8) % WINDOW;
	*n = 1 + (a[2] | (unsigned)(a[4] & 3) << 8) % WINDOW;
	if (*vpage + *n > WINDOW)
		*n = WINDOW - *vpage;
}

static bool overlaps(const struct mmap_ *m, unsigned space, unsigned vpage, unsigned n)
{
	return m->used && m->space == space && m->vpage < vpage + n && vpage < m->vpage + m->n;
}

/* Pieces the cuts at the edges of the range add. */
static int model_cuts(unsigned space, unsigned vpage, unsigned n)
{
	int cuts = 0;

	for (unsigned i = 0; i < MAXMAPS; i++) {
		const struct mmap_ *m = &w.map[i];
		if (!overlaps(m, space, vpage, n))
			continue;
		cuts += m->vpage < vpage;
		cuts += m->vpage + m->n > vpage + n;
	}
	return cuts;
}

/* Cut model mapping m at page `at` (strictly inside): m keeps the left. */
static void model_cut(struct mmap_ *m, unsigned at)
{
	struct mmap_ *r = new_map_slot();

	*r = *m;
	r->vpage = at;
	r->first = m->first + (at - m->vpage);
	r->n = m->n - (at - m->vpage);
	m->n = at - m->vpage;
	w.obj[m->obj].nmaps++;
}

/* Cut the model's mappings so that those overlapping the range lie inside. */
static void model_carve(unsigned space, unsigned vpage, unsigned n)
{
	for (unsigned i = 0; i < MAXMAPS; i++) {
		struct mmap_ *m = &w.map[i];
		if (!overlaps(m, space, vpage, n))
			continue;
		if (m->vpage < vpage) {
			model_cut(m, vpage);
			continue; /* the right piece is in a later or earlier slot: see below */
		}
		if (m->vpage + m->n > vpage + n)
			model_cut(m, vpage + n);
	}
	/* a piece made by the first cut may still cross the far edge */
	for (unsigned i = 0; i < MAXMAPS; i++) {
		struct mmap_ *m = &w.map[i];
		if (overlaps(m, space, vpage, n) && m->vpage + m->n > vpage + n)
			model_cut(m, vpage + n);
	}
}

static void op_unmap(const uint8_t *a)
{
	unsigned space, vpage, n;
	int want = VR_ENOENT, got;

	range_of(a, &space, &vpage, &n);
	for (unsigned i = 0; i < MAXMAPS; i++)
		if (overlaps(&w.map[i], space, vpage, n))
			want = VR_OK;
	if (model_cuts(space, vpage, n) > free_map_slots())
		return; /* the model cannot hold the pieces */
	got = mem_unmap(&w.vs[space], va_of(space, vpage), n);
	if (got == VR_ENOMEM && want == VR_OK)
		return; /* a record for a cut: nothing changed (check_all sees it) */
	if (want != got)
		FAIL("unmap: model %d, kernel %d", want, got);
	if (got)
		return;
	model_carve(space, vpage, n);
	for (unsigned i = 0; i < MAXMAPS; i++) {
		struct mmap_ *m = &w.map[i];
		if (overlaps(m, space, vpage, n)) {
			m->used = false;
			w.obj[m->obj].nmaps--;
			model_obj_release(m->obj);
		}
	}
}

/* The range as range_of() says; a[4] bit 6: read-only (else RW), bit 7:
 * the old call (the whole mapping that starts at the page). */
static void op_protect(const uint8_t *a)
{
	unsigned space, vpage, n, covered = 0;
	unsigned prot = a[4] & 0x40 ? VM_READ : VM_READ | VM_WRITE;
	int want = VR_OK, got;
	struct mmap_ *start;

	range_of(a, &space, &vpage, &n);
	if (a[4] & 0x80) {
		start = model_map_at(space, vpage);
		if (!start || start->vpage != vpage) {
			got = mem_protect(&w.vs[space], va_of(space, vpage), prot);
			if (got != VR_ENOENT)
				FAIL("protect: model ENOENT, kernel %d", got);
			return;
		}
		n = start->n;
	}
	for (unsigned i = 0; i < MAXMAPS; i++) {
		const struct mmap_ *m = &w.map[i];
		if (!overlaps(m, space, vpage, n))
			continue;
		covered += MIN(vpage + n, m->vpage + m->n) - MAX(vpage, m->vpage);
		if (prot & ~m->max_prot)
			want = VR_ECAP_RIGHTS;
	}
	if (want == VR_OK && covered != n)
		want = VR_ENOENT;
	if (model_cuts(space, vpage, n) > free_map_slots())
		return;
	got = a[4] & 0x80 ? mem_protect(&w.vs[space], va_of(space, vpage), prot)
			  : mem_protect_range(&w.vs[space], va_of(space, vpage), n, prot);
	if (got == VR_ENOMEM && want == VR_OK)
		return;
	if (want != got)
		FAIL("protect: model %d, kernel %d", want, got);
	if (got)
		return;
	model_carve(space, vpage, n);
	for (unsigned i = 0; i < MAXMAPS; i++)
		if (overlaps(&w.map[i], space, vpage, n))
			w.map[i].prot = prot;
}

/* A user access: look at the leaf, fault if it does not allow the access.
 * a[0] space, a[1] | (a[4] & 3) << 8 page, a[2] value, a[3] offset. */
static void op_access(const uint8_t *a, bool write)
{
	unsigned space = a[0] % NSPACES, vpage = (a[1] | (unsigned)(a[4] & 3) << 8) % WINDOW;
	uint8_t val = a[2] | 1;
	struct mmap_ *m = model_map_at(space, vpage);
	uintptr_t va = va_of(space, vpage);
	uint64_t need = PTE_P | PTE_U | (write ? PTE_W : 0), pte = vm_lookup(&w.vs[space], va);
	bool allowed = m && (!write || (m->prot & VM_WRITE));
	int err = VR_OK;

	if ((pte & need) != need)
		err = mem_fault(&w.vs[space], va + (a[3] & 0xfff), write ? HAL_ACCESS_WRITE : 0);
	if (err == VR_ENOMEM)
		return; /* the model cannot predict memory exhaustion; the check still runs */
	if (allowed != (err == VR_OK))
		FAIL("%s at space %u page %u: model %s, kernel %d", write ? "write" : "read", space,
		     vpage, allowed ? "allowed" : "refused", err);
	if (!allowed)
		return;
	pte = vm_lookup(&w.vs[space], va);
	if ((pte & need) != need)
		FAIL("resolved fault left the leaf without the access");
	if (write) {
		*(uint8_t *)phys_to_virt(pte & PTE_ADDR_MASK) = val;
		w.obj[m->obj].val[m->first + vpage - m->vpage] = val;
	}
}

/* One present page p of mapping m in space s agrees with the model. */
static void check_page(unsigned s, const struct mmap_ *m, unsigned p, uint64_t pte, uint64_t size)
{
	uint8_t got = *(uint8_t *)phys_to_virt(pte & PTE_ADDR_MASK);
	uint8_t want = w.obj[m->obj].val[m->first + p - m->vpage];

	if (got != want)
		FAIL("space %u page %u shows %u, model %u", s, p, got, want);
	if ((pte & PTE_W) && !(m->prot & VM_WRITE))
		FAIL("space %u page %u writable against its protection", s, p);
	if (!(pte & PTE_NX) != !!(m->prot & VM_EXEC))
		FAIL("space %u page %u: no-execute bit disagrees", s, p);
	if (size == PAGE_SIZE)
		return;
	/* a huge leaf: a huge object, an aligned run, wholly inside this mapping */
	if (size != VM_SIZE_2M || !w.obj[m->obj].huge ||
	    (m->first + (p & ~(HUGE - 1)) - m->vpage) % HUGE || (p & ~(HUGE - 1)) < m->vpage ||
	    (p & ~(HUGE - 1)) + HUGE > m->vpage + m->n)
		FAIL("space %u page %u: a huge leaf where the model allows none", s, p);
}

/* Every present leaf lies in a model mapping and agrees with it; every
 * subsystem is consistent. */
static void check_all(void)
{
	for (unsigned s = 0; s < NSPACES; s++) {
		uint64_t present = 0;
		if (!vm_space_check(&w.vs[s]))
			FAIL("vm_space_check(%u)", s);
		for (unsigned i = 0; i < MAXMAPS; i++) {
			const struct mmap_ *m = &w.map[i];
			if (!m->used || m->space != s)
				continue;
			for (unsigned p = m->vpage; p < m->vpage + m->n; p++) {
				uint64_t size, pte = vm_lookup_size(&w.vs[s], va_of(s, p), &size);
				if (!(pte & PTE_P))
					continue;
				present++;
				check_page(s, m, p, pte, size);
			}
		}
		if (present != w.vs[s].mapped_pages)
			FAIL("space %u: %llu pages mapped, %llu inside the model's mappings", s,
			     (unsigned long long)w.vs[s].mapped_pages, (unsigned long long)present);
	}
	if (!mem_check_all() || !pmm_check() || !kheap_check() || !cspace_check(w.cs))
		FAIL("a subsystem check failed");
	if (!quota_check(w.root))
		FAIL("quota_check");
}

/* The fake RAM is made once: zeroing it per input cost most of the time;
 * pmm_init() rebuilds the allocator over it and frames are zeroed when
 * handed out. */
static bool setup(void)
{
	static bool ram;

	if (!ram && !fake_hal_init(RAM_BYTES))
		return false;
	ram = true;
	fake_hal_reset_records();
	if (pmm_init(&fake_hal.bi))
		return false;
	memset(&w, 0, sizeof(w));
	w.free_start = free_frames();
	mem_init();
	w.cs = cspace_create(64);
	/* 3/4 of RAM: a 2 MiB object and a copy of it fit, two do not */
	w.root = quota_create(NULL, (uint64_t)w.free_start * PAGE_SIZE * 3 / 4);
	if (!w.cs || !w.root)
		return false;
	for (unsigned s = 0; s < NSPACES; s++)
		if (vm_space_init_quota(&w.vs[s], w.root))
			return false;
	return true;
}

static void teardown(void)
{
	for (unsigned s = 0; s < NSPACES; s++) {
		mem_unmap_all(&w.vs[s]);
		vm_space_destroy(&w.vs[s]);
	}
	cspace_destroy(w.cs);
	if (w.root->used)
		FAIL("quota still charged %llu bytes after teardown",
		     (unsigned long long)w.root->used);
	quota_put(w.root);
	if (!mem_check_all())
		FAIL("objects left after teardown");
	if (free_frames() != w.free_start)
		FAIL("leak: %u frames free at the end, %llu at the start", free_frames(),
		     (unsigned long long)w.free_start);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!setup())
		FAIL("setup");
	for (size_t i = 0; i + OP_BYTES <= size; i += OP_BYTES) {
		const uint8_t *a = data + i + 1;
		switch (data[i] % 8) {
		case 0:
			op_create(a);
			break;
		case 1:
			op_map(a);
			break;
		case 2:
			op_unmap(a);
			break;
		case 3:
			op_protect(a);
			break;
		case 4:
			op_copy(a);
			break;
		case 5:
			op_delete(a);
			break;
		case 6:
			op_access(a, false);
			break;
		case 7:
			op_access(a, true);
			break;
		}
		check_all();
	}
	teardown();
	return 0;
}
