/*
 * Frame allocator: one bitmap over the physical range spanned by the usable
 * regions, a bit per 4 KiB frame (1 = used or not RAM).
 *
 * Invariants (checked by pmm_check):
 *  1. free_pages == number of 0 bits in the bitmap.
 *  2. Frames outside every usable region, the bitmap's own frames and frame
 *     0 are 1 bits.
 *  3. Every frame below `hint` is used.
 * Allocation is first-fit, starting at a hint below which no frame is free
 * (lowered by every free). Reusing the lowest frames keeps the working set
 * small: in veridian-sim every frame touched for the first time costs a host
 * page fault on the memfd.
 */
#include <veridian/klib.h>
#include <veridian/pmm.h>

static struct {
	uint64_t base_pfn;  /* first frame covered by the bitmap */
	uint64_t nframes;   /* frames covered */
	uint64_t *bitmap;
	uint64_t total_pages;
	uint64_t free_pages;
	uint64_t hint;      /* no free frame below this index */
} pmm;

static bool bit_get(uint64_t i)
{
	return pmm.bitmap[i / 64] >> (i % 64) & 1;
}

static void bit_set(uint64_t i)
{
	pmm.bitmap[i / 64] |= 1ull << (i % 64);
}

static void bit_clear(uint64_t i)
{
	pmm.bitmap[i / 64] &= ~(1ull << (i % 64));
}

static void span_of(const struct boot_info *bi, uint64_t *lo, uint64_t *hi)
{
	*lo = UINT64_MAX;
	*hi = 0;
	for (uint32_t i = 0; i < bi->mem_count; i++) {
		uint64_t b = ALIGN_UP(bi->mem[i].base, PAGE_SIZE);
		uint64_t e = ALIGN_DOWN(bi->mem[i].base + bi->mem[i].size, PAGE_SIZE);
		if (e <= b)
			continue;
		*lo = MIN(*lo, b);
		*hi = MAX(*hi, e);
	}
}

static uint64_t bitmap_bytes(void)
{
	return ALIGN_UP((pmm.nframes + 63) / 64 * 8, PAGE_SIZE);
}

/* Find a usable region that can hold the bitmap; returns its start. */
static uint64_t place_bitmap(const struct boot_info *bi, uint64_t bytes)
{
	for (uint32_t i = 0; i < bi->mem_count; i++) {
		uint64_t b = ALIGN_UP(bi->mem[i].base, PAGE_SIZE);
		uint64_t e = ALIGN_DOWN(bi->mem[i].base + bi->mem[i].size, PAGE_SIZE);
		if (b == 0)
			b = PAGE_SIZE; /* keep frame 0 out of everything */
		if (e > b && e - b >= bytes)
			return b;
	}
	return 0;
}

int pmm_init(const struct boot_info *bi)
{
	uint64_t lo, hi, bytes, at;

	span_of(bi, &lo, &hi);
	if (hi <= lo)
		return VR_EINVAL;
	pmm.base_pfn = lo >> PAGE_SHIFT;
	pmm.nframes = (hi - lo) >> PAGE_SHIFT;
	bytes = bitmap_bytes();
	at = place_bitmap(bi, bytes);
	if (!at)
		return VR_ENOMEM;
	pmm.bitmap = phys_to_virt(at);
	memset(pmm.bitmap, 0xff, bytes);
	pmm.total_pages = pmm.free_pages = 0;
	for (uint32_t i = 0; i < bi->mem_count; i++) {
		uint64_t b = ALIGN_UP(bi->mem[i].base, PAGE_SIZE);
		uint64_t e = ALIGN_DOWN(bi->mem[i].base + bi->mem[i].size, PAGE_SIZE);
		for (uint64_t pa = b; pa < e; pa += PAGE_SIZE) {
			uint64_t idx = (pa >> PAGE_SHIFT) - pmm.base_pfn;
			if (pa == 0 || (pa >= at && pa < at + bytes) || !bit_get(idx))
				continue; /* reserved, or listed twice */
			bit_clear(idx);
			pmm.free_pages++;
		}
	}
	pmm.total_pages = pmm.free_pages;
	pmm.hint = 0;
	KCHECK(pmm_check());
	return VR_OK;
}

/* Is [i, i+count) entirely free? Returns the index of the last used frame
 * in it otherwise (so the search can skip past it), via *used. */
static bool run_free(uint64_t i, size_t count, uint64_t *used)
{
	for (uint64_t j = i + count; j-- > i;) {
		if (bit_get(j)) {
			*used = j;
			return false;
		}
	}
	return true;
}

/* Search [from, to) for a free aligned run; returns its index or UINT64_MAX. */
static uint64_t search(uint64_t from, uint64_t to, size_t count, size_t align)
{
	uint64_t i = ALIGN_UP(pmm.base_pfn + from, align) - pmm.base_pfn;

	while (i + count <= to) {
		uint64_t used;
		if (count == 1 && pmm.bitmap[i / 64] == UINT64_MAX) {
			/* whole word used: skip it, keeping the run aligned */
			i = ALIGN_UP(pmm.base_pfn + ALIGN_UP(i + 1, 64), align) - pmm.base_pfn;
			continue;
		}
		if (run_free(i, count, &used))
			return i;
		i = ALIGN_UP(pmm.base_pfn + used + 1, align) - pmm.base_pfn;
	}
	return UINT64_MAX;
}

uint64_t pmm_alloc(size_t count, size_t align)
{
	uint64_t i;

	if (count == 0 || align == 0 || (align & (align - 1)) || count > pmm.free_pages)
		return 0;
	i = search(pmm.hint, pmm.nframes, count, align);
	if (i == UINT64_MAX)
		return 0;
	for (uint64_t j = i; j < i + count; j++)
		bit_set(j);
	pmm.free_pages -= count;
	if (i == pmm.hint)
		pmm.hint = i + count;
	uint64_t pa = (pmm.base_pfn + i) << PAGE_SHIFT;
	memset(phys_to_virt(pa), 0, count * PAGE_SIZE);
	KCHECK(pmm_check());
	return pa;
}

void pmm_free(uint64_t pa, size_t count)
{
	uint64_t first = pa >> PAGE_SHIFT;

	KASSERT(IS_ALIGNED(pa, PAGE_SIZE));
	KASSERT(first >= pmm.base_pfn && first + count <= pmm.base_pfn + pmm.nframes);
	for (uint64_t j = first - pmm.base_pfn; j < first - pmm.base_pfn + count; j++) {
		if (!bit_get(j))
			KPANIC("pmm_free: frame 0x%llx is not allocated",
			       (unsigned long long)((pmm.base_pfn + j) << PAGE_SHIFT));
		bit_clear(j);
	}
	pmm.free_pages += count;
	pmm.hint = MIN(pmm.hint, first - pmm.base_pfn);
	KCHECK(pmm_check());
}

void pmm_get_stats(struct pmm_stats *st)
{
	st->total_pages = pmm.total_pages;
	st->free_pages = pmm.free_pages;
}

/* SWAR population count: __builtin_popcountll would need libgcc, which the
 * bare-metal link does not have. */
static unsigned popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* Counting the whole bitmap is O(frames): fine for debug builds and tests
 * at the sizes we run (128 MiB = 32768 frames = 512 words). */
bool pmm_check(void)
{
	uint64_t free = 0, bm;

	if (!pmm.bitmap)
		return false;
	for (uint64_t w = 0; w < (pmm.nframes + 63) / 64; w++) {
		uint64_t word = pmm.bitmap[w];
		if (w == (pmm.nframes + 63) / 64 - 1 && pmm.nframes % 64)
			word |= ~0ull << (pmm.nframes % 64); /* bits past the end count as used */
		free += popcount64(~word);
	}
	if (free != pmm.free_pages || pmm.free_pages > pmm.total_pages)
		return false;
	if (pmm.base_pfn == 0 && !bit_get(0))
		return false;
	for (uint64_t w = 0; w < pmm.hint / 64; w++)
		if (pmm.bitmap[w] != UINT64_MAX)
			return false;
	for (uint64_t i = ALIGN_DOWN(pmm.hint, 64); i < pmm.hint && i < pmm.nframes; i++)
		if (!bit_get(i))
			return false;
	bm = (virt_to_phys(pmm.bitmap) >> PAGE_SHIFT) - pmm.base_pfn;
	for (uint64_t i = bm; i < bm + bitmap_bytes() / PAGE_SIZE; i++)
		if (!bit_get(i))
			return false; /* invariant 2: the bitmap's own frames are used */
	return true;
}
