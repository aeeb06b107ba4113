/*
 * The shared main() of the unit tests (see unit.h).
 */
#include <inttypes.h>
#include <time.h>

#include "tests/unit/unit.h"

uint64_t unit_seed = 1;

/* A panic nobody expected: fail the running test with the panic text. */
static void unexpected_panic(const char *console)
{
	fail_msg("unexpected kernel panic; console:\n%s", console);
}

static uint64_t parse_seed(int argc, char **argv)
{
	const char *s = getenv("VERIDIAN_SEED");

	if ((!s || !*s) && argc > 1)
		s = argv[1];
	if (!s || !*s)
		return 1;
	if (strcmp(s, "random") == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		return (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
	}
	return strtoull(s, NULL, 0);
}

int unit_main(int argc, char **argv, const char *group, const struct CMUnitTest *tests,
	      size_t count, CMFixtureFunction setup, CMFixtureFunction teardown)
{
	unit_seed = parse_seed(argc, argv);
	printf("%s: seed %" PRIu64 " (rerun with VERIDIAN_SEED=%" PRIu64 ")\n", group, unit_seed,
	       unit_seed);
	fflush(stdout);
	fake_hal.panic_hook = unexpected_panic;
	return _cmocka_run_group_tests(group, tests, count, setup, teardown);
}
