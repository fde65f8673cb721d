#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include "th_fixedpoint.h"
/* The engine's fixed-point helpers against gemmlowp's own formulation (sign-dependent nudge,
 * truncating division; mask-and-threshold rounding shift), on random and edge operands. */
static int32_t srdhm_ref(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  int64_t ab = (int64_t)a * b; int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}
static int32_t rdbpot_ref(int32_t x, int e) {
  int32_t mask = (int32_t)(((int64_t)1 << e) - 1), rem = x & mask, thr = (mask >> 1) + (x < 0);
  return (x >> e) + (rem > thr);
}
static uint64_t s = 88172645463325252ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)s; }
int main(void) {
  long bad = 0;
  for (long i = 0; i < 5000000; ++i) {
    int32_t a = (int32_t)rnd(), b = (int32_t)rnd();
    if (i % 4 == 1) a >>= rnd() % 31;
    if (i % 4 == 2) b = (int32_t)(rnd() >> 1);
    int e = rnd() % 32;
    if (th_sat_rounding_doubling_high_mul(a, b) != srdhm_ref(a, b)) bad++;
    if (th_rounding_divide_by_pot(a, e) != rdbpot_ref(a, e)) bad++;
  }
  int32_t edge[] = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX, INT32_MAX - 1, 1 << 30, -(1 << 30)};
  for (int i = 0; i < 9; ++i) for (int j = 0; j < 9; ++j) {
    if (th_sat_rounding_doubling_high_mul(edge[i], edge[j]) != srdhm_ref(edge[i], edge[j])) bad++;
    for (int e = 0; e < 32; ++e) if (th_rounding_divide_by_pot(edge[i], e) != rdbpot_ref(edge[i], e)) bad++;
  }
  printf("bad %ld\n", bad);
  return bad != 0;
}
