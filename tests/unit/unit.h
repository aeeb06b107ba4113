/*
 * Common helpers of the CMocka unit tests: the fake HAL wired to CMocka
 * (an unexpected kernel panic fails the running test), a seeded PRNG for
 * the random tests, and the standard test main().
 */
#ifndef VERIDIAN_UNIT_H
#define VERIDIAN_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/fake_hal.h"
#include "veridian/abi.h"
#include "veridian/pmm.h"

/* Free frames of the frame allocator now (tests compare them with the
 * count at setup to prove nothing leaked). */
static inline uint64_t unit_free_pages(void)
{
	struct pmm_stats st;

	pmm_get_stats(&st);
	return st.free_pages;
}

/* Fresh fake RAM of `bytes` handed to the frame allocator: the common
 * start of a test's setup. Returns false if either step fails. */
static inline bool unit_boot_ram(size_t bytes)
{
	return fake_hal_init(bytes) && pmm_init(&fake_hal.bi) == VR_OK;
}

/* The seed of this run's random tests: VERIDIAN_SEED, else the first
 * command-line argument, else 1 (so `make check` is deterministic).
 * VERIDIAN_SEED=random picks one from the clock. Set by unit_main(). */
extern uint64_t unit_seed;

/* splitmix64: small, good enough for test inputs, and reproducible. */
static inline uint64_t unit_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A value in [0, n), n > 0. */
static inline uint64_t unit_below(uint64_t *state, uint64_t n)
{
	return unit_rand(state) % n;
}

/* The PRNG state of one random test: the run's seed mixed with the test's
 * own tag, so tests do not depend on each other's order. */
static inline uint64_t unit_rng(const char *tag)
{
	uint64_t h = unit_seed;

	while (*tag)
		h = (h ^ (unsigned char)*tag++) * 0x100000001b3ull;
	return h;
}

/* Fail the current test if `stmt` does not end in a kernel panic. */
#define assert_panics(stmt)                                                  \
	do {                                                                 \
		if (!FAKE_PANICS(stmt))                                      \
			fail_msg("expected a kernel panic from: %s", #stmt); \
	} while (0)

/* Console text the fake HAL captured contains `needle`. */
#define assert_console_has(needle)                                                                 \
	do {                                                                                       \
		if (!strstr(fake_hal.console, (needle)))                                           \
			fail_msg("console lacks \"%s\"; it has:\n%s", (needle), fake_hal.console); \
	} while (0)

/* Parses the seed, prints it, installs the panic hook and runs `tests`. */
int unit_main(int argc, char **argv, const char *group, const struct CMUnitTest *tests,
	      size_t count, CMFixtureFunction setup, CMFixtureFunction teardown);

#define UNIT_MAIN(group, tests, setup, teardown)                                               \
	int main(int argc, char **argv)                                                        \
	{                                                                                      \
		return unit_main(argc, argv, group, tests, sizeof(tests) / sizeof((tests)[0]), \
				 setup, teardown);                                             \
	}

#endif
