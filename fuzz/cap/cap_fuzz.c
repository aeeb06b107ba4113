/*
 * Capability fuzzer: core/cap.c against a reference model.
 *
 * The input is a program over NCS cspaces of at most MAXSLOTS slots each
 * and NOBJ objects (see README.md for the byte format). Every operation is
 * first predicted by the model (error code and, on success, the resulting
 * state), then run on core/cap.c; after every step the harness
 *  - runs cspace_check() on every cspace,
 *  - compares each object's ncaps with cap_count_refs() and the model,
 *  - compares every slot (generation, object, rights, badge, expiry, parent)
 *    with the model, and each object's destroy-callback count,
 * and aborts on the first difference. At the end it destroys every cspace
 * and checks that each object was destroyed exactly once and that the frame
 * and slab counters are back to where the input started.
 *
 * The model is deliberately plain: arrays of slots with parent indices,
 * no lists. Where the contract leaves a choice to cap.c (which free slot a
 * new capability takes; which descendants a partial revoke deletes) the
 * model checks that the choice was allowed and then adopts it.
 *
 * Builds: libFuzzer (clang -fsanitize=fuzzer,address,undefined) and AFL++
 * (afl-clang-fast -fsanitize=fuzzer, which links AFL's libFuzzer driver).
 * Set CAP_FUZZ_TRACE=1 to print each decoded operation when replaying.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cap/cap_hal.h"

#include <veridian/cap.h>
#include <veridian/kheap.h>
#include <veridian/pmm.h>

#define NCS 3
#define MAXSLOTS 8
#define NOBJ 3
#define MAX_OPS 400
#define RAM_PAGES 64
#define NO_PARENT (-1)

/* A kernel object for the fuzzer, allocated from kheap like a real one. */
struct fobj {
	struct kobj k;
	unsigned idx; /* in S.obj */
};

struct mslot {
	bool used;
	int obj; /* index in S.obj */
	uint32_t rights;
	uint64_t badge;
	uint64_t expiry;
	int parent; /* global slot index (cs * MAXSLOTS + slot) or NO_PARENT */
	uint16_t gen;
};

struct mobj {
	struct fobj *p;     /* NULL: no object (never made, or destroyed) */
	uint32_t ncaps;     /* the model's count */
	unsigned destroyed; /* destroy callbacks seen for p */
};

static const enum kobj_type obj_types[NOBJ] = { KOBJ_TEST, KOBJ_ENDPOINT, KOBJ_MEMORY };

static struct {
	struct cspace *cs[NCS];
	uint32_t nslots[NCS];
	struct mslot m[NCS * MAXSLOTS];
	struct mobj obj[NOBJ];
	uint64_t now;
	const uint8_t *in;
	size_t len, pos;
	unsigned step;
	bool trace;
} S;

#define FAIL(...)                                               \
	do {                                                    \
		fprintf(stderr, "cap_fuzz: step %u: ", S.step); \
		fprintf(stderr, __VA_ARGS__);                   \
		fprintf(stderr, "\n");                          \
		abort();                                        \
	} while (0)

#define TRACE(...)                                    \
	do {                                          \
		if (S.trace)                          \
			fprintf(stderr, __VA_ARGS__); \
	} while (0)

static uint8_t next(void)
{
	return S.pos < S.len ? S.in[S.pos++] : 0;
}

static struct mslot *ms(int gi)
{
	return &S.m[gi];
}

static struct cap_slot *islot(int gi)
{
	return &S.cs[gi / MAXSLOTS]->slots[gi % MAXSLOTS];
}

/* ---- the reference model ------------------------------------------------ */

static int model_decode(int c, cap_handle_t h, int *gi)
{
	uint32_t slot = h & (CAP_SLOTS_MAX - 1);

	if (slot >= S.nslots[c])
		return VR_ECAP_RANGE;
	*gi = c * MAXSLOTS + (int)slot;
	if (ms(*gi)->gen != (uint16_t)(h >> CAP_SLOT_BITS))
		return VR_ECAP_STALE;
	if (!ms(*gi)->used)
		return VR_ECAP_EMPTY;
	return VR_OK;
}

static bool model_expired(const struct mslot *s)
{
	return s->expiry != CAP_NO_EXPIRY && S.now >= s->expiry;
}

static int model_lookup(int c, cap_handle_t h, enum kobj_type type, uint32_t rights, int *gi)
{
	int err = model_decode(c, h, gi);

	if (err)
		return err;
	if (model_expired(ms(*gi)))
		return VR_ECAP_EXPIRED;
	if (type != KOBJ_NONE && obj_types[ms(*gi)->obj] != type)
		return VR_ECAP_TYPE;
	if ((ms(*gi)->rights & rights) != rights)
		return VR_ECAP_RIGHTS;
	return VR_OK;
}

static bool model_full(int c)
{
	for (uint32_t i = 0; i < S.nslots[c]; i++)
		if (!ms(c * MAXSLOTS + (int)i)->used)
			return false;
	return true;
}

/* Delete one capability: children go to its parent. */
static void model_delete(int gi)
{
	struct mslot *s = ms(gi);

	for (int i = 0; i < NCS * MAXSLOTS; i++)
		if (ms(i)->used && ms(i)->parent == gi)
			ms(i)->parent = s->parent;
	S.obj[s->obj].ncaps--;
	*s = (struct mslot){ .gen = (uint16_t)(s->gen + 1) };
}

static bool model_is_descendant(int gi, int of)
{
	for (int p = ms(gi)->parent; p != NO_PARENT; p = ms(p)->parent)
		if (p == of)
			return true;
	return false;
}

static unsigned model_count_descendants(int of)
{
	unsigned n = 0;

	for (int i = 0; i < NCS * MAXSLOTS; i++)
		n += ms(i)->used && model_is_descendant(i, of);
	return n;
}

/* cap.c put a new capability at handle h of cspace c: the slot must have
 * been free in the model and the handle must carry its generation. */
static int model_adopt_slot(int c, cap_handle_t h)
{
	uint32_t slot = h & (CAP_SLOTS_MAX - 1);
	int gi;

	if (slot >= S.nslots[c])
		FAIL("new handle %#x is out of range of cspace %d", h, c);
	gi = c * MAXSLOTS + (int)slot;
	if (ms(gi)->used)
		FAIL("new handle %#x names a slot the model has in use", h);
	if (ms(gi)->gen != (uint16_t)(h >> CAP_SLOT_BITS))
		FAIL("new handle %#x: generation should be %u", h, ms(gi)->gen);
	return gi;
}

/* ---- comparing model and implementation --------------------------------- */

static void compare_slot(int gi)
{
	const struct mslot *m = ms(gi);
	const struct cap_slot *s = islot(gi);
	const struct cap *c = &s->cap;

	if (s->gen != m->gen)
		FAIL("slot %d: generation %u, model %u", gi, s->gen, m->gen);
	if (!m->used) {
		if (c->obj)
			FAIL("slot %d is in use, model has it empty", gi);
		return;
	}
	if (c->obj != &S.obj[m->obj].p->k)
		FAIL("slot %d names the wrong object", gi);
	if (c->rights != m->rights || c->badge != m->badge || c->expiry != m->expiry)
		FAIL("slot %d: rights %#x badge %llu expiry %llu, model %#x %llu %llu", gi,
		     c->rights, (unsigned long long)c->badge, (unsigned long long)c->expiry,
		     m->rights, (unsigned long long)m->badge, (unsigned long long)m->expiry);
	if (m->parent == NO_PARENT ? c->parent != NULL : c->parent != &islot(m->parent)->cap)
		FAIL("slot %d: parent differs from the model's %d", gi, m->parent);
}

static void compare_all(void)
{
	struct cspace *live[NCS];

	for (int c = 0; c < NCS; c++) {
		if (!cspace_check(S.cs[c]))
			FAIL("cspace_check(cspace %d) failed", c);
		live[c] = S.cs[c];
		for (uint32_t i = 0; i < S.nslots[c]; i++)
			compare_slot(c * MAXSLOTS + (int)i);
	}
	for (int o = 0; o < NOBJ; o++) {
		struct mobj *mo = &S.obj[o];
		if (!mo->p) {
			if (mo->destroyed)
				FAIL("object %d destroyed while it had no instance", o);
			continue;
		}
		if (mo->ncaps == 0) {
			if (mo->destroyed != 1)
				FAIL("object %d lost its last capability: %u destroy calls", o,
				     mo->destroyed);
			*mo = (struct mobj){ 0 }; /* its memory is gone */
			continue;
		}
		if (mo->destroyed)
			FAIL("object %d destroyed with %u capabilities left", o, mo->ncaps);
		if (mo->p->k.ncaps != mo->ncaps)
			FAIL("object %d: ncaps %u, model %u", o, mo->p->k.ncaps, mo->ncaps);
		if (cap_count_refs(live, NCS, &mo->p->k) != mo->ncaps)
			FAIL("object %d: cap_count_refs %u, model %u", o,
			     cap_count_refs(live, NCS, &mo->p->k), mo->ncaps);
	}
}

static void expect_rc(const char *op, int got, int want)
{
	TRACE("   = %d (%s)\n", got, vr_strerror(got));
	if (got != want)
		FAIL("%s returned %d (%s), model expects %d (%s)", op, got, vr_strerror(got), want,
		     vr_strerror(want));
}

/* ---- decoding operands -------------------------------------------------- */

static int arg_cs(void)
{
	return next() % NCS;
}

/* Mostly valid handles, sometimes stale, foreign-generation or out of range. */
static cap_handle_t arg_handle(int c)
{
	uint8_t b = next();
	uint32_t slot = b & 15;
	uint16_t gen = slot < S.nslots[c] ? ms(c * MAXSLOTS + (int)slot)->gen : 0;

	if (b == 0xff)
		return 0xffffffffu;
	switch (b >> 4 & 3) {
	case 2:
		gen--;
		break;
	case 3:
		gen++;
		break;
	}
	return cap_handle(slot, gen);
}

/* Valid rights masks mostly; a byte with both top bits set is passed raw. */
static uint32_t arg_rights(void)
{
	uint8_t b = next();

	return (b & 0xc0) == 0xc0 ? b : b & CAP_RIGHTS_ALL;
}

static uint64_t arg_badge(void)
{
	return next() % 4;
}

/* 0: no expiry; otherwise near now, a few values at or before it. */
static uint64_t arg_expiry(void)
{
	uint8_t b = next();

	return b ? S.now + b - 8 : CAP_NO_EXPIRY;
}

/* ---- operations ---------------------------------------------------------- */

static void destroy_cb(struct kobj *k)
{
	struct fobj *f = container_of(k, struct fobj, k);

	if (f->idx >= NOBJ || S.obj[f->idx].p != f)
		FAIL("destroy callback for an unknown object");
	if (k->ncaps)
		FAIL("destroy callback with ncaps %u", k->ncaps);
	S.obj[f->idx].destroyed++;
	kfree(f);
}

static void op_insert(void)
{
	int c = arg_cs(), o = next() % (NOBJ + 1), gi = 0;
	uint32_t rights = arg_rights();
	uint64_t badge = arg_badge();
	struct kobj bogus = { .type = next() & 1 ? KOBJ_TYPE_COUNT : KOBJ_NONE };
	struct kobj *k;
	bool fresh = false;
	cap_handle_t h;
	int want, got;

	if (o < NOBJ && !S.obj[o].p) {
		struct fobj *f = kzalloc(sizeof(*f));
		if (!f)
			FAIL("kzalloc of an object failed");
		f->k.type = obj_types[o];
		f->idx = (unsigned)o;
		S.obj[o].p = f;
		fresh = true;
	}
	k = o < NOBJ ? &S.obj[o].p->k : &bogus;
	TRACE("%u: insert cs%d obj%d rights %#x badge %llu\n", S.step, c, o, rights,
	      (unsigned long long)badge);
	want = o == NOBJ || (rights & ~CAP_RIGHTS_ALL) ? VR_EINVAL
	       : model_full(c)                         ? VR_ENOMEM
						       : VR_OK;
	got = cap_insert(S.cs[c], k, rights, badge, &h);
	expect_rc("cap_insert", got, want);
	if (got) {
		if (fresh) {
			kfree(S.obj[o].p);
			S.obj[o].p = NULL;
		}
		return;
	}
	gi = model_adopt_slot(c, h);
	*ms(gi) = (struct mslot){ true, o, rights, badge, CAP_NO_EXPIRY, NO_PARENT, ms(gi)->gen };
	S.obj[o].ncaps++;
}

/* mint, or copy (= mint with every right, badge 0 and no expiry). */
static void op_mint(bool copy)
{
	int c = arg_cs(), d = arg_cs(), src = 0, gi;
	cap_handle_t h = arg_handle(c), out;
	uint32_t rights = copy ? CAP_RIGHTS_ALL : arg_rights();
	uint64_t badge = copy ? 0 : arg_badge();
	uint64_t expiry = copy ? CAP_NO_EXPIRY : arg_expiry();
	int want, got;

	TRACE("%u: %s cs%d %#x -> cs%d rights %#x badge %llu expiry %llu (now %llu)\n", S.step,
	      copy ? "copy" : "mint", c, h, d, rights, (unsigned long long)badge,
	      (unsigned long long)expiry, (unsigned long long)S.now);
	want = rights & ~CAP_RIGHTS_ALL ? VR_EINVAL
					: model_lookup(c, h, KOBJ_NONE, CAP_DELEGATE, &src);
	if (!want && badge && ms(src)->badge && badge != ms(src)->badge)
		want = VR_EINVAL;
	else if (!want && expiry != CAP_NO_EXPIRY && expiry <= S.now)
		want = VR_EINVAL;
	else if (!want && model_full(d))
		want = VR_ENOMEM;
	got = copy ? cap_copy(S.cs[c], h, S.cs[d], S.now, &out)
		   : cap_mint(S.cs[c], h, S.cs[d], rights, badge, expiry, S.now, &out);
	expect_rc(copy ? "cap_copy" : "cap_mint", got, want);
	if (got)
		return;
	gi = model_adopt_slot(d, out);
	*ms(gi) = (struct mslot){
		.used = true,
		.obj = ms(src)->obj,
		.rights = ms(src)->rights & rights,
		.badge = ms(src)->badge ? ms(src)->badge : badge,
		.expiry = ms(src)->expiry == CAP_NO_EXPIRY ? expiry
			  : expiry == CAP_NO_EXPIRY        ? ms(src)->expiry
			  : expiry < ms(src)->expiry       ? expiry
							   : ms(src)->expiry,
		.parent = src,
		.gen = ms(gi)->gen,
	};
	S.obj[ms(gi)->obj].ncaps++;
}

static void op_move(void)
{
	int c = arg_cs(), d = arg_cs(), src = 0, gi;
	cap_handle_t h = arg_handle(c), out;
	uint16_t gen;
	int want, got;

	TRACE("%u: move cs%d %#x -> cs%d\n", S.step, c, h, d);
	want = model_lookup(c, h, KOBJ_NONE, 0, &src);
	if (!want && model_full(d))
		want = VR_ENOMEM;
	got = cap_move(S.cs[c], h, S.cs[d], S.now, &out);
	expect_rc("cap_move", got, want);
	if (got)
		return;
	gi = model_adopt_slot(d, out);
	gen = ms(gi)->gen;
	*ms(gi) = *ms(src);
	ms(gi)->gen = gen;
	for (int i = 0; i < NCS * MAXSLOTS; i++)
		if (ms(i)->used && ms(i)->parent == src)
			ms(i)->parent = gi;
	*ms(src) = (struct mslot){ .gen = (uint16_t)(ms(src)->gen + 1) };
}

static void op_delete(void)
{
	int c = arg_cs(), gi = 0;
	cap_handle_t h = arg_handle(c);
	int want, got;

	TRACE("%u: delete cs%d %#x\n", S.step, c, h);
	want = model_decode(c, h, &gi);
	got = cap_delete(S.cs[c], h);
	expect_rc("cap_delete", got, want);
	if (!got)
		model_delete(gi);
}

static void op_revoke(void)
{
	int c = arg_cs(), gi = 0;
	cap_handle_t h = arg_handle(c);
	unsigned budget = next() % 6, deleted = 99, ndesc = 0, gone = 0;
	bool desc[NCS * MAXSLOTS] = { false };
	int want, got;

	TRACE("%u: revoke cs%d %#x budget %u\n", S.step, c, h, budget);
	want = model_decode(c, h, &gi);
	if (!want) {
		for (int i = 0; i < NCS * MAXSLOTS; i++)
			desc[i] = ms(i)->used && model_is_descendant(i, gi);
		ndesc = model_count_descendants(gi);
		want = ndesc <= budget ? VR_OK : VR_EAGAIN;
	}
	got = cap_revoke(S.cs[c], h, budget, &deleted);
	expect_rc("cap_revoke", got, want);
	if (got && got != VR_EAGAIN) {
		if (deleted)
			FAIL("failed cap_revoke reports %u deleted", deleted);
		return;
	}
	if (deleted != (ndesc < budget ? ndesc : budget))
		FAIL("cap_revoke deleted %u, model expects %u", deleted,
		     ndesc < budget ? ndesc : budget);
	/* Which descendants went is cap.c's choice; it must be descendants only. */
	for (int cs = 0; cs < NCS; cs++) {
		for (uint32_t i = 0; i < S.nslots[cs]; i++) {
			int g = cs * MAXSLOTS + (int)i;
			if (!ms(g)->used || islot(g)->cap.obj)
				continue;
			if (!desc[g])
				FAIL("cap_revoke deleted slot %d, not a descendant of %d", g, gi);
			gone++;
			model_delete(g); /* children of deleted nodes end at the nearest survivor */
		}
	}
	if (gone != deleted)
		FAIL("cap_revoke reports %u deleted, %u slots were emptied", deleted, gone);
}

static void op_identify(void)
{
	int c = arg_cs(), gi = 0;
	cap_handle_t h = arg_handle(c);
	struct cap_info info;
	int want, got;

	want = model_decode(c, h, &gi);
	if (!want && model_expired(ms(gi)))
		want = VR_ECAP_EXPIRED;
	TRACE("%u: identify cs%d %#x\n", S.step, c, h);
	got = cap_identify(S.cs[c], h, S.now, &info);
	expect_rc("cap_identify", got, want);
	if (got)
		return;
	if (info.type != obj_types[ms(gi)->obj] || info.rights != ms(gi)->rights ||
	    info.badge != ms(gi)->badge || info.expiry != ms(gi)->expiry)
		FAIL("cap_identify: type %d rights %#x badge %llu expiry %llu differ from the "
		     "model",
		     info.type, info.rights, (unsigned long long)info.badge,
		     (unsigned long long)info.expiry);
}

static void op_lookup(void)
{
	int c = arg_cs(), gi = 0;
	cap_handle_t h = arg_handle(c);
	enum kobj_type type = (enum kobj_type)(next() % (KOBJ_TYPE_COUNT + 1));
	uint32_t rights = arg_rights();
	struct cap *cap = NULL;
	int want, got;

	TRACE("%u: lookup cs%d %#x type %d rights %#x\n", S.step, c, h, type, rights);
	want = model_lookup(c, h, type, rights, &gi);
	got = cap_lookup(S.cs[c], h, type, rights, S.now, &cap);
	expect_rc("cap_lookup", got, want);
	if (!got && cap != &islot(gi)->cap)
		FAIL("cap_lookup returned the wrong capability");
}

/* The earliest expiry after now among the model's capabilities (0: none). */
static uint64_t model_next_expiry(void)
{
	uint64_t best = 0;

	for (int i = 0; i < NCS * MAXSLOTS; i++) {
		uint64_t e = ms(i)->used ? ms(i)->expiry : CAP_NO_EXPIRY;
		if (e != CAP_NO_EXPIRY && e > S.now && (!best || e < best))
			best = e;
	}
	return best;
}

/* Advance the clock: by a byte's worth, or exactly to (or just before) the
 * next expiry, since the boundaries are where expiry bugs live. */
static void op_clock(void)
{
	uint8_t b = next();
	uint64_t e = model_next_expiry();

	if (b < 2 && e)
		S.now = e - b;
	else
		S.now += b & 0x80 ? (uint64_t)(b & 0x7f) * 64 : b;
	TRACE("%u: clock -> %llu\n", S.step, (unsigned long long)S.now);
}

/* Destroy a cspace and create a fresh one (generations restart at 0). */
static void op_recreate(void)
{
	int c = arg_cs();
	uint32_t n = 1 + next() % MAXSLOTS;

	TRACE("%u: recreate cs%d with %u slots\n", S.step, c, n);
	cspace_destroy(S.cs[c]);
	for (uint32_t i = 0; i < S.nslots[c]; i++) {
		int gi = c * MAXSLOTS + (int)i;
		if (ms(gi)->used)
			model_delete(gi);
	}
	for (int i = 0; i < MAXSLOTS; i++)
		*ms(c * MAXSLOTS + i) = (struct mslot){ 0 };
	S.cs[c] = cspace_create(n);
	if (!S.cs[c])
		FAIL("cspace_create(%u) failed", n);
	S.nslots[c] = n;
}

static void run_op(void)
{
	switch (next() % 10) {
	case 0:
		op_insert();
		break;
	case 1:
		op_mint(false);
		break;
	case 2:
		op_mint(true);
		break;
	case 3:
		op_move();
		break;
	case 4:
		op_delete();
		break;
	case 5:
		op_revoke();
		break;
	case 6:
		op_identify();
		break;
	case 7:
		op_lookup();
		break;
	case 8:
		op_clock();
		break;
	case 9:
		op_recreate();
		break;
	}
}

static void init_once(void)
{
	static bool done;
	const char *t = getenv("CAP_FUZZ_TRACE");

	if (done)
		return;
	done = true;
	if (!cap_hal_init(RAM_PAGES))
		abort();
	for (int o = 0; o < NOBJ; o++)
		kobj_register_type(obj_types[o], destroy_cb);
	S.trace = t && *t == '1';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pmm_stats p0, p1;
	struct kheap_stats h0, h1;
	bool trace;

	init_once();
	trace = S.trace;
	memset(&S, 0, sizeof(S));
	S.trace = trace;
	S.in = data;
	S.len = size;
	S.now = 16;
	pmm_get_stats(&p0);
	kheap_get_stats(&h0);
	for (int c = 0; c < NCS; c++) {
		S.nslots[c] = 1 + next() % MAXSLOTS;
		S.cs[c] = cspace_create(S.nslots[c]);
		if (!S.cs[c])
			FAIL("cspace_create(%u) failed", S.nslots[c]);
	}
	compare_all();
	for (S.step = 1; S.pos < S.len && S.step <= MAX_OPS; S.step++) {
		run_op();
		compare_all();
	}
	for (int c = 0; c < NCS; c++) {
		cspace_destroy(S.cs[c]);
		for (uint32_t i = 0; i < S.nslots[c]; i++)
			if (ms(c * MAXSLOTS + (int)i)->used)
				model_delete(c * MAXSLOTS + (int)i);
	}
	for (int o = 0; o < NOBJ; o++)
		if (S.obj[o].p && (S.obj[o].ncaps || S.obj[o].destroyed != 1))
			FAIL("at the end, object %d: model ncaps %u, %u destroy calls", o,
			     S.obj[o].ncaps, S.obj[o].destroyed);
	pmm_get_stats(&p1);
	kheap_get_stats(&h1);
	if (p1.free_pages != p0.free_pages || h1.objects != h0.objects ||
	    h1.slab_pages != h0.slab_pages)
		FAIL("leak: free pages %llu -> %llu, heap objects %llu -> %llu",
		     (unsigned long long)p0.free_pages, (unsigned long long)p1.free_pages,
		     (unsigned long long)h0.objects, (unsigned long long)h1.objects);
	if (!pmm_check() || !kheap_check())
		FAIL("pmm_check or kheap_check failed at the end");
	return 0;
}
