/*
 * The machine's seeded random source (xoshiro256** seeded through
 * splitmix64). One global stream: the simulator is single-threaded, and a
 * single stream drawn in a deterministic order is what makes `--seed`
 * reproduce a run.
 */
#include "sim/sim.h"

static struct {
	uint64_t seed;
	uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void sim_rng_seed(uint64_t seed)
{
	uint64_t x = seed;

	rng.seed = seed;
	for (int i = 0; i < 4; i++)
		rng.s[i] = splitmix64(&x);
}

uint64_t sim_rng_seed_value(void)
{
	return rng.seed;
}

uint64_t sim_rng_next(void)
{
	uint64_t *s = rng.s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t sim_rng_below(uint64_t bound)
{
	/* Rejection sampling: no modulo bias, and still one stream. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
	uint64_t x;

	do
		x = sim_rng_next();
	while (x >= limit);
	return x % bound;
}
