/* The seeded generator of the host fuzz drivers (fuzz_fw.c, fuzz_mlperf.c): xorshift64*, so a
 * failing run is repeated exactly from its seed. One copy per driver (static). */
#ifndef TH_FUZZ_RNG_H
#define TH_FUZZ_RNG_H

#include <stdint.h>

static uint64_t rng_state;
static void seed_rng(unsigned long long seed) { rng_state = seed * 0x9E3779B97F4A7C15ull + 1; }
static uint32_t rnd(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}
static uint32_t below(uint32_t n) { return n ? rnd() % n : 0; }

#endif
