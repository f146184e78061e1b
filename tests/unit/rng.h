/*
 * rng: the unit tests' deterministic data (xorshift64, Box-Muller).
 * Header only, like tap.h; a test reseeds by assigning rng.
 */
#ifndef CSQ_TEST_RNG_H
#define CSQ_TEST_RNG_H

#include <math.h>
#include <stdint.h>

static uint64_t rng = 88172645463325252ull;

/* uniform in (0, 1) */
static __attribute__((unused)) double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

static __attribute__((unused)) double gauss(void)
{
    return sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
}

#endif
