/*
 * Unit tests of the cpio newc reader (core/cpio.c). Archives are built in
 * memory here, field by field, so each malformation is exact.
 */
#include <veridian/abi.h>
#include <veridian/cpio.h>
#include <veridian/klib.h>

#include "tests/unit/unit.h"

#define MODE_REG 0100644u
#define MODE_DIR 0040755u

struct archive {
	char buf[4096];
	size_t len;
};

static void pad4(struct archive *a)
{
	while (a->len % 4)
		a->buf[a->len++] = '\0';
}

/* Append an entry; namesize 0 means strlen(name)+1 (the NUL written). */
static size_t add_entry_raw(struct archive *a, const char *name, uint32_t namesize, uint32_t mode,
			    const void *data, size_t size)
{
	size_t at = a->len;
	uint32_t ns = namesize ? namesize : (uint32_t)strlen(name) + 1;

	a->len += (size_t)snprintf(a->buf + a->len, sizeof(a->buf) - a->len,
				   "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1u,
				   mode, 0u, 0u, 1u, 0u, (unsigned)size, 0u, 0u, 0u, 0u, ns, 0u);
	memcpy(a->buf + a->len, name, ns);
	a->len += ns;
	pad4(a);
	memcpy(a->buf + a->len, data, size);
	a->len += size;
	pad4(a);
	assert_true(a->len < sizeof(a->buf));
	return at;
}

static size_t add_entry(struct archive *a, const char *name, uint32_t mode, const char *data)
{
	return add_entry_raw(a, name, 0, mode, data, strlen(data));
}

static void add_trailer(struct archive *a)
{
	add_entry_raw(a, "TRAILER!!!", 0, 0, "", 0);
}

/* bin/init, ./etc/motd, a directory and an empty file. */
static void build_valid(struct archive *a)
{
	memset(a, 0, sizeof(*a));
	add_entry(a, "bin", MODE_DIR, "");
	add_entry(a, "bin/init", MODE_REG,
		  "\x7f"
		  "ELF-init-image");
	add_entry(a, "./etc/motd", MODE_REG, "hello, world\n");
	add_entry(a, "empty", MODE_REG, "");
	add_trailer(a);
}

static void test_walk_valid(void **state)
{
	static const char *const names[] = { "bin", "bin/init", "./etc/motd", "empty" };
	struct archive a;
	struct cpio_entry e;
	size_t off = 0;

	(void)state;
	build_valid(&a);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		assert_int_equal(cpio_next(a.buf, a.len, &off, &e), 1);
		assert_string_equal(e.name, names[i]);
		assert_int_equal(e.namelen, strlen(names[i]));
		assert_int_equal(off % 4, 0);
	}
	assert_int_equal(cpio_next(a.buf, a.len, &off, &e), 0);
	assert_int_equal(off, a.len);
}

static void test_find(void **state)
{
	struct archive a;
	struct cpio_entry e;

	(void)state;
	build_valid(&a);
	assert_int_equal(cpio_find(a.buf, a.len, "bin/init", &e), VR_OK);
	assert_int_equal(e.size, 15);
	assert_memory_equal(e.data,
			    "\x7f"
			    "ELF-init-image",
			    15);
	assert_int_equal(e.mode, MODE_REG);
	assert_int_equal(((uintptr_t)e.data - (uintptr_t)a.buf) % 4, 0);
	/* "./" in the archive is ignored; it is not part of the lookup name */
	assert_int_equal(cpio_find(a.buf, a.len, "etc/motd", &e), VR_OK);
	assert_memory_equal(e.data, "hello, world\n", 13);
	assert_int_equal(cpio_find(a.buf, a.len, "./etc/motd", &e), VR_ENOENT);
	assert_int_equal(cpio_find(a.buf, a.len, "empty", &e), VR_OK);
	assert_int_equal(e.size, 0);
	/* directories are not files; names match exactly */
	assert_int_equal(cpio_find(a.buf, a.len, "bin", &e), VR_ENOENT);
	assert_int_equal(cpio_find(a.buf, a.len, "bin/ini", &e), VR_ENOENT);
	assert_int_equal(cpio_find(a.buf, a.len, "bin/init2", &e), VR_ENOENT);
	assert_int_equal(cpio_find(a.buf, a.len, "missing", &e), VR_ENOENT);
	assert_int_equal(cpio_find(a.buf, a.len, "", &e), VR_ENOENT);
}

/* The archive need not be 4-byte aligned in memory: offsets are relative
 * to its start. The "070702" (with checksum) magic is accepted. */
static void test_unaligned_and_crc_magic(void **state)
{
	static struct archive a;
	static char shifted[sizeof(a.buf) + 1];
	struct cpio_entry e;

	(void)state;
	build_valid(&a);
	memcpy(a.buf, "070702", 6);
	memcpy(shifted + 1, a.buf, a.len);
	assert_int_equal(cpio_find(shifted + 1, a.len, "etc/motd", &e), VR_OK);
	assert_memory_equal(e.data, "hello, world\n", 13);
}

/* Every proper prefix of a valid archive is malformed (EINVAL), never a
 * crash and never a trailer. Run under ASan/Valgrind, the copy to an
 * exactly-sized heap block catches any read past the end. */
static void test_truncated_everywhere(void **state)
{
	struct archive a;
	struct cpio_entry e;

	(void)state;
	build_valid(&a);
	for (size_t len = 0; len < a.len; len++) {
		char *copy = malloc(len ? len : 1);
		int r;
		assert_non_null(copy);
		memcpy(copy, a.buf, len);
		r = cpio_find(copy, len, "no-such-file", &e);
		if (r != VR_EINVAL)
			fail_msg("prefix of %zu bytes: cpio_find returned %d", len, r);
		free(copy);
	}
}

/* Truncated inside the header, the name and the data of the last entry. */
static void test_truncated_parts(void **state)
{
	struct archive a = { 0 };
	struct cpio_entry e;
	size_t off = 0, at;

	(void)state;
	at = add_entry(&a, "file", MODE_REG, "0123456789");
	assert_int_equal(cpio_next(a.buf, 100, &off, &e), VR_EINVAL); /* header */
	assert_int_equal(off, 0);
	assert_int_equal(cpio_next(a.buf, at + 112, &off, &e), VR_EINVAL);     /* name */
	assert_int_equal(cpio_next(a.buf, at + 116 + 5, &off, &e), VR_EINVAL); /* data */
	assert_int_equal(cpio_next(a.buf, a.len, &off, &e), 1);
	/* no trailer after the last entry */
	assert_int_equal(cpio_next(a.buf, a.len, &off, &e), VR_EINVAL);
	assert_int_equal(cpio_find(a.buf, a.len, "other", &e), VR_EINVAL);
	/* an offset past the end */
	off = a.len + 4;
	assert_int_equal(cpio_next(a.buf, a.len, &off, &e), VR_EINVAL);
}

static void test_bad_magic(void **state)
{
	struct archive a;
	struct cpio_entry e;

	(void)state;
	build_valid(&a);
	memcpy(a.buf, "070707", 6); /* the old binary-compatible magic */
	assert_int_equal(cpio_find(a.buf, a.len, "bin/init", &e), VR_EINVAL);
	memcpy(a.buf, "\0\0\0\0\0\0", 6);
	assert_int_equal(cpio_find(a.buf, a.len, "bin/init", &e), VR_EINVAL);
}

/* A non-hex character in each of the 13 fields, at its first and last
 * digit; both cases of hex digits are accepted. */
static void test_bad_hex(void **state)
{
	struct archive a;
	struct cpio_entry e;

	(void)state;
	for (int field = 0; field < 13; field++) {
		for (int digit = 0; digit < 8; digit += 7) {
			size_t size = 0;
			build_valid(&a);
			a.buf[6 + 8 * field + digit] = field % 2 ? 'g' : ' ';
			assert_int_equal(cpio_next(a.buf, a.len, &size, &e), VR_EINVAL);
		}
	}
	build_valid(&a);
	memcpy(a.buf + 6 + 8, "000041ed", 8); /* lower-case mode of "bin" */
	assert_int_equal(cpio_find(a.buf, a.len, "bin/init", &e), VR_OK);
}

static void test_name_without_nul(void **state)
{
	struct archive a = { 0 };
	struct cpio_entry e;
	size_t off = 0;

	(void)state;
	/* namesize 4 covers "name" without its NUL */
	add_entry_raw(&a, "name", 4, MODE_REG, "x", 1);
	add_trailer(&a);
	assert_int_equal(cpio_next(a.buf, a.len, &off, &e), VR_EINVAL);
	/* namesize 0 */
	memset(&a, 0, sizeof(a));
	add_entry(&a, "f", MODE_REG, "x");
	memcpy(a.buf + 6 + 8 * 11, "00000000", 8);
	off = 0;
	assert_int_equal(cpio_next(a.buf, a.len, &off, &e), VR_EINVAL);
	/* an embedded NUL: namesize 6 over "ab\0cd\0" */
	memset(&a, 0, sizeof(a));
	add_entry_raw(&a, "ab\0cd", 6, MODE_REG, "x", 1);
	add_trailer(&a);
	off = 0;
	assert_int_equal(cpio_next(a.buf, a.len, &off, &e), VR_EINVAL);
}

/* Huge sizes in the header must not wrap any offset computation. */
static void test_huge_sizes(void **state)
{
	struct archive a;
	struct cpio_entry e;
	size_t off;

	(void)state;
	build_valid(&a);
	memcpy(a.buf + 6 + 8 * 6, "FFFFFFFF", 8); /* filesize */
	off = 0;
	assert_int_equal(cpio_next(a.buf, a.len, &off, &e), VR_EINVAL);
	build_valid(&a);
	memcpy(a.buf + 6 + 8 * 11, "FFFFFFFF", 8); /* namesize */
	off = 0;
	assert_int_equal(cpio_next(a.buf, a.len, &off, &e), VR_EINVAL);
}

/* The trailer may end the data without padding after it; entries after
 * the trailer are never looked at. */
static void test_trailer_stops(void **state)
{
	struct archive a;
	struct cpio_entry e;

	(void)state;
	build_valid(&a);
	add_entry(&a, "after", MODE_REG, "late");
	assert_int_equal(cpio_find(a.buf, a.len, "after", &e), VR_ENOENT);
}

/* Random byte flips of a valid archive: the reader returns an answer and
 * every entry it reports lies inside the archive. */
static void test_random_corruption(void **state)
{
	uint64_t rng = unit_rng("cpio-random");
	struct archive a;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		struct cpio_entry e;
		size_t off = 0;
		int r, n = 0;

		build_valid(&a);
		for (int k = 1 + (int)unit_below(&rng, 4); k > 0; k--)
			a.buf[unit_below(&rng, a.len)] = (char)unit_rand(&rng);
		while ((r = cpio_next(a.buf, a.len, &off, &e)) == 1) {
			const char *d = e.data;
			assert_true(e.name >= a.buf && e.name + e.namelen < a.buf + a.len);
			assert_int_equal(e.name[e.namelen], '\0');
			assert_true(d >= a.buf && e.size <= (size_t)(a.buf + a.len - d));
			assert_true(off <= a.len);
			assert_true(++n < 100);
		}
		assert_true(r == 0 || r == VR_EINVAL);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_walk_valid),
	cmocka_unit_test(test_find),
	cmocka_unit_test(test_unaligned_and_crc_magic),
	cmocka_unit_test(test_truncated_everywhere),
	cmocka_unit_test(test_truncated_parts),
	cmocka_unit_test(test_bad_magic),
	cmocka_unit_test(test_bad_hex),
	cmocka_unit_test(test_name_without_nul),
	cmocka_unit_test(test_huge_sizes),
	cmocka_unit_test(test_trailer_stops),
	cmocka_unit_test(test_random_corruption),
};

UNIT_MAIN("cpio", tests, NULL, NULL)
