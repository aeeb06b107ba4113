/*
 * Unit tests of core/klib.c: ksnprintf conversions, flags, widths,
 * truncation and return value (compared with the C library's snprintf
 * where their behaviour is meant to agree), string helpers, kpanic.
 */
#include <veridian/klib.h>

#include "tests/unit/unit.h"

/* ksnprintf and snprintf agree on this format and arguments. */
#define assert_same(fmt, ...)                                             \
	do {                                                              \
		char k__[128], c__[128];                                  \
		int kn__ = ksnprintf(k__, sizeof(k__), fmt, __VA_ARGS__); \
		int cn__ = snprintf(c__, sizeof(c__), fmt, __VA_ARGS__);  \
		assert_string_equal(k__, c__);                            \
		assert_int_equal(kn__, cn__);                             \
	} while (0)

#define assert_fmt(expect, fmt, ...)                                     \
	do {                                                             \
		char b__[128];                                           \
		int n__ = ksnprintf(b__, sizeof(b__), fmt, __VA_ARGS__); \
		assert_string_equal(b__, expect);                        \
		assert_int_equal(n__, (int)strlen(expect));              \
	} while (0)

static void test_conversions(void **state)
{
	(void)state;
	assert_same("%d %i", 42, -42);
	assert_same("%d", INT32_MIN);
	assert_same("%d", INT32_MAX);
	assert_same("%u", 4000000000u);
	assert_same("%x %X", 0xdeadbeefu, 0xdeadbeefu);
	assert_same("%ld %lu %lx", -5l, 5ul, 0xabcul);
	assert_same("%lld %llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
	assert_same("%llx", 0x123456789abcdefull);
	assert_same("%zu %zx", (size_t)12345, (size_t)0xfff);
	assert_same("%s|%c|%%", "str", 'z');
	assert_same("%d", 0);
	assert_same("%x", 0u);
	assert_fmt("0x1234", "%p", (void *)0x1234);
	assert_fmt("0x0", "%p", (void *)0);
	const char *volatile null_str = NULL;
	assert_fmt("(null)", "%s", null_str);
	assert_fmt("plain text", "plain text%s", "");
}

static void test_widths_and_flags(void **state)
{
	(void)state;
	assert_same("[%5d]", 42);
	assert_same("[%-5d]", 42);
	assert_same("[%05d]", 42);
	assert_same("[%05d]", -42);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
	assert_same("[%-05d]", -42); /* '-' wins over '0', as in C */
#pragma GCC diagnostic pop
	assert_same("[%5d]", -42);
	assert_same("[%2d]", 12345);
	assert_same("[%08x]", 0xbeefu);
	assert_same("[%-8X]", 0xbeefu);
	assert_same("[%10s]", "abc");
	assert_same("[%-10s]", "abc");
	assert_same("[%1s]", "abc");
	assert_same("[%3c]", 'q');
	assert_same("[%-3c]", 'q');
	assert_same("[%020llu]", 18446744073709551615ull);
	assert_same("[%021lld]", (long long)INT64_MIN);
}

/* Documented departures from C: the width of %p pads the digits after
 * "0x"; an unknown conversion is printed verbatim; a lone '%' at the end
 * ends the output. */
static void test_nonstandard(void **state)
{
	char buf[32];
	int n;

	(void)state;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
	n = ksnprintf(buf, sizeof(buf), "%04p", (void *)0xff);
	assert_string_equal(buf, "0x00ff");
	assert_int_equal(n, 6);
	n = ksnprintf(buf, sizeof(buf), "a%qb", 1);
	assert_string_equal(buf, "a%qb");
	assert_int_equal(n, 4);
	n = ksnprintf(buf, sizeof(buf), "abc%");
	assert_string_equal(buf, "abc");
	assert_int_equal(n, 3);
#pragma GCC diagnostic pop
}

/* The return value is the full length; the buffer holds what fits and is
 * always terminated; size 0 writes nothing (buf may be NULL). */
static void test_truncation(void **state)
{
	char buf[8];
	int n;

	(void)state;
	memset(buf, 'X', sizeof(buf));
	n = ksnprintf(buf, sizeof(buf), "%s-%d", "hello", 12345);
	assert_int_equal(n, 11);
	assert_string_equal(buf, "hello-1");
	memset(buf, 'X', sizeof(buf));
	n = ksnprintf(buf, 1, "%d", 7);
	assert_int_equal(n, 1);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'X');
	n = ksnprintf(NULL, 0, "%10d", 1);
	assert_int_equal(n, 10);
	n = ksnprintf(buf, 5, "%-8s|", "ab");
	assert_int_equal(n, 9);
	assert_string_equal(buf, "ab  ");
	n = ksnprintf(buf, sizeof(buf), "1234567");
	assert_int_equal(n, 7);
	assert_string_equal(buf, "1234567");
	n = ksnprintf(buf, sizeof(buf), "12345678");
	assert_int_equal(n, 8);
	assert_string_equal(buf, "1234567");
}

/* Random numbers, widths and flags: ksnprintf must agree with snprintf. */
static void test_random_against_libc(void **state)
{
	static const char *const flags[] = { "", "-", "0" };
	static const char convs[] = "diuxX";
	uint64_t rng = unit_rng("klib-random");

	(void)state;
	for (int i = 0; i < 20000; i++) {
		char fmt[32], k[128], c[128];
		int kn, cn;
		unsigned w = (unsigned)unit_below(&rng, 4) ? (unsigned)unit_below(&rng, 25) : 0;
		char conv = convs[unit_below(&rng, sizeof(convs) - 1)];
		int len = (int)unit_below(&rng, 3);
		uint64_t v = unit_rand(&rng) >> unit_below(&rng, 64);

		char width[12] = "";

		if (w)
			snprintf(width, sizeof(width), "%u", w);
		snprintf(fmt, sizeof(fmt), "<%%%s%s%s%c>", flags[unit_below(&rng, 3)], width,
			 len == 0   ? ""
			 : len == 1 ? "l"
				    : "ll",
			 conv);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		if (len == 0) {
			kn = ksnprintf(k, sizeof(k), fmt, (unsigned)v);
			cn = snprintf(c, sizeof(c), fmt, (unsigned)v);
		} else if (len == 1) {
			kn = ksnprintf(k, sizeof(k), fmt, (unsigned long)v);
			cn = snprintf(c, sizeof(c), fmt, (unsigned long)v);
		} else {
			kn = ksnprintf(k, sizeof(k), fmt, (unsigned long long)v);
			cn = snprintf(c, sizeof(c), fmt, (unsigned long long)v);
		}
#pragma GCC diagnostic pop
		if (strcmp(k, c) != 0 || kn != cn)
			fail_msg(
				"format \"%s\" value %#llx: ksnprintf \"%s\" (%d), snprintf \"%s\" "
				"(%d); seed %llu",
				fmt, (unsigned long long)v, k, kn, c, cn,
				(unsigned long long)unit_seed);
		/* and any truncation of it */
		size_t cut = (size_t)unit_below(&rng, (uint64_t)cn + 2);
		kn = ksnprintf(k, cut, "%s", c);
		assert_int_equal(kn, cn);
		if (cut) {
			assert_memory_equal(k, c, cut - 1);
			assert_int_equal(k[cut - 1], '\0');
		}
	}
}

static void test_strings(void **state)
{
	char buf[6];

	(void)state;
	assert_int_equal(kstrlen(""), 0);
	assert_int_equal(kstrlen("abc"), 3);
	assert_int_equal(kstrnlen("abcdef", 3), 3);
	assert_int_equal(kstrnlen("ab", 10), 2);
	assert_int_equal(kstrcmp("abc", "abc"), 0);
	assert_true(kstrcmp("abc", "abd") < 0);
	assert_true(kstrcmp("abd", "abc") > 0);
	assert_true(kstrcmp("ab", "abc") < 0);
	assert_true(kstrcmp("\xff", "a") > 0); /* compared as unsigned char */
	kstrlcpy(buf, "hello world", sizeof(buf));
	assert_string_equal(buf, "hello");
	kstrlcpy(buf, "hi", sizeof(buf));
	assert_string_equal(buf, "hi");
	kstrlcpy(buf, "zzz", 1);
	assert_string_equal(buf, "");
}

static void test_kprintf_and_panic(void **state)
{
	(void)state;
	fake_hal_reset_records();
	kprintf("value %d\n", 17);
	assert_string_equal(fake_hal.console, "value 17\n");
	assert_panics(KPANIC("broken %s", "thing"));
	assert_console_has("KERNEL PANIC at ");
	assert_console_has("broken thing");
	fake_hal_reset_records();
	assert_panics(KASSERT(1 + 1 == 3));
	assert_console_has("assertion failed: 1 + 1 == 3");
	KASSERT(1 + 1 == 2);
	assert_int_equal(fake_hal.panics, 1);
}

/* kprintf formats into a 512-byte buffer: longer output is cut, and the
 * console gets exactly the bytes that fit. */
static void test_kprintf_long(void **state)
{
	char big[700];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fake_hal_reset_records();
	kprintf("%s", big);
	assert_int_equal(fake_hal.console_len, 511);
}

static void test_errors_table(void **state)
{
	(void)state;
	assert_string_equal(vr_strerror(VR_ENOMEM), "out of memory");
	assert_string_equal(vr_strerror(VR_EBUSY), "resource busy");
	assert_non_null(vr_strerror(12345));
}

static int setup(void **state)
{
	(void)state;
	return fake_hal_init(64 * 4096) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	fake_hal_fini();
	return 0;
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_conversions),         cmocka_unit_test(test_widths_and_flags),
	cmocka_unit_test(test_nonstandard),         cmocka_unit_test(test_truncation),
	cmocka_unit_test(test_random_against_libc), cmocka_unit_test(test_strings),
	cmocka_unit_test(test_kprintf_and_panic),   cmocka_unit_test(test_kprintf_long),
	cmocka_unit_test(test_errors_table),
};

UNIT_MAIN("klib", tests, setup, teardown)
