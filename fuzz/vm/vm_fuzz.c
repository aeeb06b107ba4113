/*
 * VM fuzzer: sequences of create / map / unmap / protect / copy-on-write
 * copy / capability delete / read / write over three address spaces,
 * driving core/mem.c, core/vm.c, core/pmm.c, core/quota.c and core/cap.c
 * over the fake HAL, against a reference model of what every page should
 * show. After each step every translation of every space is checked
 * against the model (frame contents, writability, no-execute), together
 * with each subsystem's _check(); at the end everything is torn down and
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

#define RAM_BYTES (1u << 20) /* small: exhaustion paths get exercised */
#define NSPACES 3
#define WINDOW 32 /* pages of each space the fuzzer uses */
#define NOBJ 12
#define MAXPAGES 8
#define MAXMAPS 16
#define OP_BYTES 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mobj { /* the model of one memory object */
	bool alive, has_cap;
	cap_handle_t h;
	struct mem_obj *mo;
	unsigned npages, nmaps;
	uint8_t val[MAXPAGES]; /* byte 0 of each page; 0 for untouched */
};

struct mmap_ { /* the model of one mapping */
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

static void op_create(const uint8_t *a)
{
	unsigned o = a[0] % NOBJ, n = 1 + a[1] % MAXPAGES;
	struct mem_obj *mo;

	if (w.obj[o].alive)
		return;
	if (mem_obj_create(w.root, n, &mo))
		return; /* quota or memory: fine, the model has no object */
	if (cap_insert(w.cs, &mo->obj, CAP_RIGHTS_ALL, 0, &w.obj[o].h)) {
		mem_obj_drop_unused(mo);
		return;
	}
	w.obj[o] = (struct mobj){
		.alive = true, .has_cap = true, .h = w.obj[o].h, .mo = mo, .npages = n
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

static void op_map(const uint8_t *a)
{
	unsigned o = a[0] % NOBJ, space = a[1] % NSPACES, vpage = a[2] % WINDOW;
	unsigned n = (a[3] & 0x0fu) % (MAXPAGES + 1), first = a[4] % MAXPAGES, slot;
	static const unsigned prots[] = { VM_READ, VM_READ | VM_WRITE, VM_READ | VM_EXEC };
	unsigned prot = prots[(a[3] >> 4) % 3];
	int want, got;

	if (!w.obj[o].has_cap || vpage + n > WINDOW)
		return;
	for (slot = 0; slot < MAXMAPS && w.map[slot].used; slot++)
		;
	if (slot == MAXMAPS)
		return;
	want = model_map_check(space, vpage, n, o, first);
	got = mem_map_check(&w.vs[space], w.obj[o].mo, va_of(space, vpage), first, n);
	if (want != got)
		FAIL("map check: model %d, kernel %d", want, got);
	if (got)
		return;
	got = mem_map(&w.vs[space], w.obj[o].mo, va_of(space, vpage), first, n, prot, prot, 0);
	if (got == VR_ENOMEM)
		return;
	if (got)
		FAIL("mem_map: %d", got);
	w.map[slot] = (struct mmap_){ true, space, vpage, n, o, first, prot, prot };
	w.obj[o].nmaps++;
}

static void op_unmap(const uint8_t *a)
{
	unsigned space = a[0] % NSPACES, vpage = a[1] % WINDOW, n = 1 + a[2] % WINDOW;
	int want = VR_ENOENT, got;

	for (unsigned i = 0; i < MAXMAPS; i++) {
		struct mmap_ *m = &w.map[i];
		if (!m->used || m->space != space || m->vpage + m->n <= vpage ||
		    m->vpage >= vpage + n)
			continue;
		if (m->vpage < vpage || m->vpage + m->n > vpage + n) {
			want = VR_EINVAL;
			break;
		}
		want = VR_OK;
	}
	got = mem_unmap(&w.vs[space], va_of(space, vpage), n);
	if (want != got)
		FAIL("unmap: model %d, kernel %d", want, got);
	for (unsigned i = 0; got == VR_OK && i < MAXMAPS; i++) {
		struct mmap_ *m = &w.map[i];
		if (m->used && m->space == space && m->vpage >= vpage && m->vpage < vpage + n) {
			m->used = false;
			w.obj[m->obj].nmaps--;
			model_obj_release(m->obj);
		}
	}
}

static void op_protect(const uint8_t *a)
{
	unsigned space = a[0] % NSPACES, vpage = a[1] % WINDOW;
	unsigned prot = a[2] & 1 ? VM_READ : VM_READ | VM_WRITE;
	struct mmap_ *m = model_map_at(space, vpage);
	int want = !m || m->vpage != vpage ? VR_ENOENT
		   : prot & ~m->max_prot   ? VR_ECAP_RIGHTS
					   : VR_OK;
	int got = mem_protect(&w.vs[space], va_of(space, vpage), prot);

	if (want != got)
		FAIL("protect: model %d, kernel %d", want, got);
	if (got == VR_OK)
		m->prot = prot;
}

/* A user access: look at the leaf, fault if it does not allow the access. */
static void op_access(const uint8_t *a, bool write)
{
	unsigned space = a[0] % NSPACES, vpage = a[1] % WINDOW;
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

/* Every present leaf agrees with the model; every subsystem is consistent. */
static void check_all(void)
{
	for (unsigned s = 0; s < NSPACES; s++) {
		if (!vm_space_check(&w.vs[s]))
			FAIL("vm_space_check(%u)", s);
		for (unsigned p = 0; p < WINDOW; p++) {
			uint64_t pte = vm_lookup(&w.vs[s], va_of(s, p));
			struct mmap_ *m = model_map_at(s, p);
			uint8_t got;
			if (!(pte & PTE_P))
				continue;
			if (!m)
				FAIL("space %u page %u mapped, model has nothing", s, p);
			got = *(uint8_t *)phys_to_virt(pte & PTE_ADDR_MASK);
			if (got != w.obj[m->obj].val[m->first + p - m->vpage])
				FAIL("space %u page %u shows %u, model %u", s, p, got,
				     w.obj[m->obj].val[m->first + p - m->vpage]);
			if ((pte & PTE_W) && !(m->prot & VM_WRITE))
				FAIL("space %u page %u writable against its protection", s, p);
			if (!(pte & PTE_NX) != !!(m->prot & VM_EXEC))
				FAIL("space %u page %u: no-execute bit disagrees", s, p);
		}
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
	w.root = quota_create(NULL, (uint64_t)w.free_start * PAGE_SIZE / 2);
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
