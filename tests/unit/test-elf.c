/*
 * Unit tests of the ELF parser and loader (core/elf.c, compiled into this
 * file for its header structures). Images are built in memory: a header,
 * program headers, and patterned segment bytes.
 */
#include "core/elf.c"

#include "tests/unit/unit.h"

#define RAM_BYTES (4u << 20)
#define BASE (VR_SLOT_BASE + VR_SLOT_IMAGE_OFF)
#define PT_NOTE 4
#define PT_GNU_STACK 0x6474e551u
#define FILE_MAX 0x8000

struct file {
	unsigned char bytes[FILE_MAX];
	size_t size;
	struct elf64_ehdr *eh;
	struct elf64_phdr *ph; /* eh->e_phnum of them, after the header */
};

static struct file f;

/* A valid static-pie image: text (R+X, with the headers), rodata (R),
 * data+bss (R+W, starting mid-page, bss over two more pages). */
static void build_valid(void)
{
	static const struct elf64_phdr segs[] = {
		{ PT_LOAD, PF_R | PF_X, 0, 0, 0, 0x1200, 0x1200, 0x1000 },
		{ PT_NOTE, PF_R, 0x200, 0x200, 0x200, 0x20, 0x20, 4 },
		{ PT_LOAD, PF_R, 0x2000, 0x2000, 0x2000, 0x100, 0x100, 0x1000 },
		{ PT_LOAD, PF_R | PF_W, 0x3010, 0x4010, 0x4010, 0x80, 0x2000, 0x1000 },
		{ PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0, 16 },
	};

	memset(&f, 0, sizeof(f));
	for (size_t i = 0; i < 0x3090; i++)
		f.bytes[i] = (unsigned char)(i * 13 + 5);
	f.size = 0x3090;
	f.eh = (struct elf64_ehdr *)f.bytes;
	*f.eh = (struct elf64_ehdr){
		.e_ident = { 0x7f, 'E', 'L', 'F', 2, 1, 1 },
		.e_type = ET_DYN,
		.e_machine = EM_X86_64,
		.e_version = 1,
		.e_entry = 0x100,
		.e_phoff = sizeof(struct elf64_ehdr),
		.e_ehsize = sizeof(struct elf64_ehdr),
		.e_phentsize = sizeof(struct elf64_phdr),
		.e_phnum = ARRAY_SIZE(segs),
	};
	f.ph = (struct elf64_phdr *)(f.bytes + sizeof(struct elf64_ehdr));
	memcpy(f.ph, segs, sizeof(segs));
}

static int parse(struct elf_image *img, const char **why)
{
	return elf_parse(f.bytes, f.size, img, why);
}

/* The current file is rejected with a reason containing `reason`. */
static void expect_reject(const char *reason)
{
	struct elf_image img;
	const char *why = NULL;
	int r = parse(&img, &why);

	if (r != VR_ENOEXEC)
		fail_msg("expected rejection \"%s\", got %d", reason, r);
	assert_non_null(why);
	assert_true(strlen(why) > 0);
	if (!strstr(why, reason))
		fail_msg("expected a reason with \"%s\", got \"%s\"", reason, why);
}

static void test_parse_valid(void **state)
{
	struct elf_image img;
	const char *why = NULL;

	(void)state;
	build_valid();
	assert_int_equal(parse(&img, &why), VR_OK);
	assert_string_equal(why, "");
	assert_int_equal(img.entry, 0x100);
	assert_int_equal(img.nsegments, 3);
	assert_int_equal(img.span, 0x7000);
	assert_int_equal(img.seg[0].prot, VM_READ | VM_EXEC);
	assert_int_equal(img.seg[1].prot, VM_READ);
	assert_int_equal(img.seg[2].prot, VM_READ | VM_WRITE);
	assert_int_equal(img.seg[2].vaddr, 0x4010);
	assert_int_equal(img.seg[2].offset, 0x3010);
	assert_int_equal(img.seg[2].filesz, 0x80);
	assert_int_equal(img.seg[2].memsz, 0x2000);
}

static void test_reject_header(void **state)
{
	struct elf_image img;
	const char *why = NULL;

	(void)state;
	build_valid();
	assert_int_equal(elf_parse(NULL, 100, &img, &why), VR_ENOEXEC);
	assert_true(strlen(why) > 0);
	f.size = sizeof(struct elf64_ehdr) - 1;
	expect_reject("shorter than an ELF header");
	build_valid();
	f.bytes[1] = 'X';
	expect_reject("bad magic");
	build_valid();
	f.eh->e_ident[4] = 1;
	expect_reject("64-bit");
	build_valid();
	f.eh->e_ident[5] = 2;
	expect_reject("little-endian");
	build_valid();
	f.eh->e_ident[6] = 0;
	expect_reject("version");
	build_valid();
	f.eh->e_version = 2;
	expect_reject("version");
	build_valid();
	f.eh->e_machine = 3;
	expect_reject("x86-64");
	build_valid();
	f.eh->e_type = 2; /* ET_EXEC */
	expect_reject("ET_DYN");
	build_valid();
	f.eh->e_phentsize = 55;
	expect_reject("program header size");
	build_valid();
	f.eh->e_phnum = 0;
	expect_reject("no program headers");
}

static void test_reject_phdr_table(void **state)
{
	(void)state;
	build_valid();
	f.eh->e_phoff = f.size;
	expect_reject("program headers extend past");
	build_valid();
	f.eh->e_phoff = UINT64_MAX - 8;
	expect_reject("program headers extend past");
	build_valid();
	f.eh->e_phnum = 0xffff;
	expect_reject("program headers extend past");
	build_valid();
	f.size = sizeof(struct elf64_ehdr) + 4 * sizeof(struct elf64_phdr) + 10;
	expect_reject("program headers extend past");
}

static void test_reject_segments(void **state)
{
	(void)state;
	build_valid();
	f.ph[2].p_filesz = 0x101;
	expect_reject("file size exceeds its memory size");
	build_valid();
	f.ph[3].p_filesz = f.ph[3].p_memsz = 0x3000; /* 0x3010 + 0x3000 > size */
	expect_reject("past the end of the file");
	build_valid();
	f.ph[2].p_offset = f.size + 0x1000;
	f.ph[2].p_vaddr = f.ph[2].p_offset; /* keep the page congruence */
	expect_reject("past the end of the file");
	build_valid();
	f.ph[2].p_filesz = 0;
	f.ph[2].p_memsz = 0;
	expect_reject("empty loadable segment");
	build_valid();
	f.ph[3].p_vaddr = ELF_MAX_SPAN + 0x10;
	f.ph[3].p_offset = 0x10;
	expect_reject("1 GiB image window");
	build_valid();
	f.ph[3].p_memsz = UINT64_MAX - 0x1000; /* vaddr + memsz wraps */
	expect_reject("1 GiB image window");
	build_valid();
	f.ph[2].p_align = 0x3000;
	expect_reject("not a power of two");
	build_valid();
	f.ph[2].p_vaddr = 0x2100;
	expect_reject("modulo the page size");
	build_valid();
	f.ph[3].p_flags = PF_R | PF_W | PF_X;
	expect_reject("both writable and executable");
}

static void test_reject_layout(void **state)
{
	(void)state;
	/* rodata starting in text's last page */
	build_valid();
	f.ph[2].p_vaddr = 0x1000;
	f.ph[2].p_offset = 0x2000 - 0x1000;
	expect_reject("overlap or are out of order");
	/* swapped order */
	build_valid();
	struct elf64_phdr t = f.ph[2];
	f.ph[2] = f.ph[3];
	f.ph[3] = t;
	expect_reject("overlap or are out of order");
	/* same page, different offsets in it */
	build_valid();
	f.ph[2].p_vaddr = 0x1300;
	f.ph[2].p_offset = 0x300;
	expect_reject("overlap or are out of order");
}

static void test_reject_kinds(void **state)
{
	(void)state;
	build_valid();
	f.ph[1].p_type = PT_INTERP;
	expect_reject("PT_INTERP");
	build_valid();
	f.ph[4].p_type = PT_TLS;
	expect_reject("thread-local storage");
	build_valid();
	for (int i = 0; i < 5; i++)
		if (f.ph[i].p_type == PT_LOAD)
			f.ph[i].p_type = PT_NOTE;
	expect_reject("no loadable segments");
}

static void test_reject_entry(void **state)
{
	(void)state;
	build_valid();
	f.eh->e_entry = 0x2010; /* rodata */
	expect_reject("not executable");
	build_valid();
	f.eh->e_entry = 0x3000; /* the gap between rodata and data */
	expect_reject("outside every loadable segment");
	build_valid();
	f.eh->e_entry = 0x1200; /* one past the end of text */
	expect_reject("outside every loadable segment");
	build_valid();
	f.eh->e_entry = UINT64_MAX;
	expect_reject("outside every loadable segment");
}

/* ELF_MAX_SEGMENTS loadable segments are fine, one more is not. */
static void test_segment_limit(void **state)
{
	struct elf_image img;
	const char *why;

	(void)state;
	for (unsigned n = ELF_MAX_SEGMENTS; n <= ELF_MAX_SEGMENTS + 1; n++) {
		build_valid();
		f.eh->e_phnum = (uint16_t)n;
		f.size = 0x1000 + 0x100;
		for (unsigned i = 0; i < n; i++)
			f.ph[i] = (struct elf64_phdr){ PT_LOAD, PF_R | (i ? 0 : PF_X),
						       0x1000,  0x1000 + i * 0x10000,
						       0,       0x100,
						       0x100,   0x1000 };
		if (n == ELF_MAX_SEGMENTS) {
			assert_int_equal(parse(&img, &why), VR_ENOEXEC); /* entry at 0x100 */
			f.eh->e_entry = 0x1000;
			assert_int_equal(parse(&img, &why), VR_OK);
			assert_int_equal(img.nsegments, ELF_MAX_SEGMENTS);
		} else {
			f.eh->e_entry = 0x1000;
			expect_reject("too many loadable segments");
		}
	}
}

/* Every prefix of a valid file, and every file shifted off alignment:
 * never a crash; a prefix is rejected unless it still holds every byte the
 * headers point at. */
static void test_truncations(void **state)
{
	size_t full;

	(void)state;
	build_valid();
	full = f.size;
	for (size_t len = 0; len < full; len++) {
		struct elf_image img;
		const char *why;
		unsigned char *copy = malloc(len ? len : 1);
		int r;
		assert_non_null(copy);
		memcpy(copy, f.bytes, len);
		r = elf_parse(copy, len, &img, &why);
		assert_int_equal(r, VR_ENOEXEC);
		free(copy);
	}
}

/* Random corruption of header bytes: parse never crashes, and anything it
 * accepts satisfies what the loader relies on. */
static void test_random_corruption(void **state)
{
	uint64_t rng = unit_rng("elf-random");

	(void)state;
	for (int round = 0; round < 20000; round++) {
		struct elf_image img;
		const char *why;

		build_valid();
		for (int k = 1 + (int)unit_below(&rng, 3); k > 0; k--) {
			size_t at = unit_below(&rng, sizeof(struct elf64_ehdr) +
							     5 * sizeof(struct elf64_phdr));
			f.bytes[at] ^= (unsigned char)(1u << unit_below(&rng, 8));
		}
		if (parse(&img, &why) != VR_OK) {
			assert_true(strlen(why) > 0);
			continue;
		}
		assert_true(img.nsegments >= 1 && img.nsegments <= ELF_MAX_SEGMENTS);
		assert_true(img.span <= ELF_MAX_SPAN);
		for (unsigned i = 0; i < img.nsegments; i++) {
			const struct elf_segment *s = &img.seg[i];
			assert_true(s->filesz <= s->memsz && s->memsz > 0);
			assert_true(s->offset <= f.size && s->filesz <= f.size - s->offset);
			assert_false((s->prot & VM_WRITE) && (s->prot & VM_EXEC));
			if (i)
				assert_true(ALIGN_DOWN(s->vaddr, PAGE_SIZE) >=
					    ALIGN_UP(img.seg[i - 1].vaddr + img.seg[i - 1].memsz,
						     PAGE_SIZE));
		}
	}
}

/* ---- loading ------------------------------------------------------------ */

static struct vm_space vs;
static uint64_t free_at_start;

static int setup_load(void **state)
{
	(void)state;
	if (!unit_boot_ram(RAM_BYTES))
		return -1;
	free_at_start = unit_free_pages();
	build_valid();
	return vm_space_init(&vs) == VR_OK ? 0 : -1;
}

static int teardown_load(void **state)
{
	bool clean;

	(void)state;
	clean = vm_space_check(&vs);
	vm_space_destroy(&vs);
	clean = clean && unit_free_pages() == free_at_start && pmm_check();
	fake_hal_fini();
	return clean ? 0 : -1;
}

/* The user sees file bytes where the file has them, zeros elsewhere, with
 * each segment's permissions. */
static void check_loaded(const unsigned char *file)
{
	static const struct {
		uint64_t page;
		uint64_t w, nx;
	} pages[] = {
		{ 0x0000, 0, 0 },          { 0x1000, 0, 0 },          { 0x2000, 0, PTE_NX },
		{ 0x4000, PTE_W, PTE_NX }, { 0x5000, PTE_W, PTE_NX }, { 0x6000, PTE_W, PTE_NX },
	};
	static unsigned char want[0x7000], got[0x7000];

	assert_int_equal(vs.mapped_pages, ARRAY_SIZE(pages));
	assert_int_equal(vs.owned_pages, ARRAY_SIZE(pages));
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
		uint64_t pte = vm_lookup(&vs, BASE + pages[i].page);
		assert_true(pte & PTE_P);
		assert_true(pte & PTE_U);
		assert_int_equal(pte & PTE_W, pages[i].w);
		assert_int_equal(pte & PTE_NX, pages[i].nx);
	}
	assert_int_equal(vm_lookup(&vs, BASE + 0x3000), 0);
	assert_int_equal(vm_lookup(&vs, BASE + 0x7000), 0);
	memset(want, 0, sizeof(want));
	memcpy(want, file, 0x1200);
	memcpy(want + 0x2000, file + 0x2000, 0x100);
	memcpy(want + 0x4010, file + 0x3010, 0x80);
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
		uint64_t p = pages[i].page;
		assert_int_equal(vm_copy_from_user(&vs, got + p, BASE + p, PAGE_SIZE), VR_OK);
		assert_memory_equal(got + p, want + p, PAGE_SIZE);
	}
}

static void test_load(void **state)
{
	struct elf_image img;
	const char *why;

	(void)state;
	assert_int_equal(parse(&img, &why), VR_OK);
	assert_int_equal(elf_load(&vs, BASE, f.bytes, &img), VR_OK);
	check_loaded(f.bytes);
	assert_true(vm_space_check(&vs));
}

/* cpio newc places a file at any 4-byte offset: an odd address must load
 * the same way. */
static void test_load_unaligned_file(void **state)
{
	static unsigned char shifted[FILE_MAX + 3];
	struct elf_image img;
	const char *why;

	(void)state;
	memcpy(shifted + 3, f.bytes, f.size);
	assert_int_equal(elf_parse(shifted + 3, f.size, &img, &why), VR_OK);
	assert_int_equal(elf_load(&vs, BASE, shifted + 3, &img), VR_OK);
	check_loaded(f.bytes);
}

/* Out of memory at every point of the load: ENOMEM, nothing mapped, and
 * the only frames kept are page tables (counted by the space). */
static void test_load_enomem(void **state)
{
	struct elf_image img;
	const char *why;
	uint64_t *frames = calloc(free_at_start, sizeof(*frames)), pa;
	size_t n = 0, room;
	int r = VR_ENOMEM;

	(void)state;
	assert_non_null(frames);
	assert_int_equal(parse(&img, &why), VR_OK);
	while ((pa = pmm_alloc(1, 1)) != 0)
		frames[n++] = pa;
	for (room = 0; r == VR_ENOMEM; room++) {
		uint64_t free_before, tables_before = vs.table_pages;

		if (room)
			pmm_free(frames[--n], 1);
		free_before = unit_free_pages();
		r = elf_load(&vs, BASE, f.bytes, &img);
		if (r == VR_ENOMEM) {
			assert_int_equal(vs.mapped_pages, 0);
			assert_int_equal(vs.owned_pages, 0);
			assert_int_equal(free_before - unit_free_pages(),
					 vs.table_pages - tables_before);
			assert_true(vm_space_check(&vs));
		}
	}
	assert_int_equal(r, VR_OK);
	assert_int_equal(room, 3 + 6 + 1); /* tables + pages, counted from 0 */
	check_loaded(f.bytes);
	while (n)
		pmm_free(frames[--n], 1);
	free(frames);
}

/*
 * Regression: elf_load() failing with VR_EBUSY (a page of the image already
 * mapped) unloaded every page of the image range, including the mapping
 * that was there before and was not the loader's (and freed its frame if
 * that mapping owned it).
 */
static void test_load_busy_keeps_other_mappings(void **state)
{
	struct elf_image img;
	const char *why;
	uint64_t mine = pmm_alloc(1, 1), before;

	(void)state;
	assert_int_equal(parse(&img, &why), VR_OK);
	assert_int_equal(vm_map(&vs, BASE + 0x5000, mine, VM_READ, true), VR_OK);
	before = unit_free_pages();
	assert_int_equal(elf_load(&vs, BASE, f.bytes, &img), VR_EBUSY);
	assert_int_equal(vm_lookup(&vs, BASE + 0x5000) & PTE_ADDR_MASK, mine);
	assert_int_equal(vs.mapped_pages, 1);
	assert_int_equal(unit_free_pages(), before);
	for (uint64_t p = 0; p < 0x7000; p += PAGE_SIZE)
		if (p != 0x5000)
			assert_int_equal(vm_lookup(&vs, BASE + p), 0);
	assert_true(vm_space_check(&vs));
}

/* A base outside the user half: EINVAL, nothing mapped, nothing leaked. */
static void test_load_bad_base(void **state)
{
	struct elf_image img;
	const char *why;

	(void)state;
	assert_int_equal(parse(&img, &why), VR_OK);
	assert_int_equal(elf_load(&vs, 0x7ffffffff000ull, f.bytes, &img), VR_EINVAL);
	assert_int_equal(vs.mapped_pages, 0);
	assert_int_equal(elf_load(&vs, 0, f.bytes, &img), VR_EINVAL);
	assert_int_equal(vs.mapped_pages, 0);
	assert_panics(elf_load(&vs, BASE + 8, f.bytes, &img));
}

#define L(fn) cmocka_unit_test_setup_teardown(fn, setup_load, teardown_load)

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse_valid),
	cmocka_unit_test(test_reject_header),
	cmocka_unit_test(test_reject_phdr_table),
	cmocka_unit_test(test_reject_segments),
	cmocka_unit_test(test_reject_layout),
	cmocka_unit_test(test_reject_kinds),
	cmocka_unit_test(test_reject_entry),
	cmocka_unit_test(test_segment_limit),
	cmocka_unit_test(test_truncations),
	cmocka_unit_test(test_random_corruption),
	L(test_load),
	L(test_load_unaligned_file),
	L(test_load_enomem),
	L(test_load_busy_keeps_other_mappings),
	L(test_load_bad_base),
};

UNIT_MAIN("elf", tests, NULL, NULL)
