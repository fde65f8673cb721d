/* Host check of th_dsp.h's short requantization forms against the reference
 * MultiplyByQuantizedMultiplier (th_fixedpoint.h), on random and edge accumulators.
 * Prints "OK <n>" or the first counter-example. */
#include <stdint.h>
#include <stdio.h>

#include "th_dsp.h"
#include "th_fixedpoint.h"

static uint64_t state = 88172645463325252ull;
static uint32_t rnd(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return (uint32_t)state;
}

static int check(int32_t acc, int32_t mult, int32_t shift, int32_t off) {
  const int32_t ref = th_mul_by_quantized_multiplier(acc, mult, shift) + off;
  const int32_t e = -shift;
  if (th_dsp_fast_shift(shift)) {
    const int32_t fast = th_dsp_requantize_fast(acc, mult, 1 << (e - 1), e) + off;
    if (th_ssat8(fast) != th_ssat8(ref)) {
      printf("fast acc=%d mult=%d shift=%d off=%d: %d != %d\n", acc, mult, shift, off, fast, ref);
      return 0;
    }
  }
  if (th_dsp_small_shift(shift) && acc < (1 << 30) && acc > -(1 << 30)) {
    const int32_t bias_e = (1 << (e - 1)) + (int32_t)((uint32_t)off << e);
    const int32_t small = th_dsp_requantize_small(acc * 2, mult, bias_e, e);
    if (small != ref) {
      printf("small acc=%d mult=%d shift=%d off=%d: %d != %d\n", acc, mult, shift, off, small, ref);
      return 0;
    }
    /* the form opt_conv.c's assembly uses: (((s - (s < 0)) >> (e - 1)) + 1 + 2 * off) >> 1 */
    const int32_t s = th_smmulr(acc * 2, mult);
    const int32_t halved = (((s - (int32_t)((uint32_t)s >> 31)) >> (e - 1)) + 1 + 2 * off) >> 1;
    if (halved != ref) {
      printf("halved acc=%d mult=%d shift=%d off=%d: %d != %d\n", acc, mult, shift, off, halved, ref);
      return 0;
    }
  }
  const int32_t exact = th_dsp_requantize(acc, mult, shift) + off;
  if (exact != ref) {
    printf("exact acc=%d mult=%d shift=%d off=%d: %d != %d\n", acc, mult, shift, off, exact, ref);
    return 0;
  }
  return 1;
}

int main(void) {
  static const int32_t edges[] = {0, 1, -1, 2, -2, (1 << 30) - 1, -(1 << 30) + 1, INT32_MAX, INT32_MIN,
                                  INT32_MAX - 1, INT32_MIN + 1, 12345, -12345, 1 << 20, -(1 << 20)};
  long n = 0;
  for (int i = 0; i < 2000000; ++i) {
    const int32_t mult = (int32_t)(0x40000000u + (rnd() & 0x3FFFFFFFu));
    const int32_t shift = (int32_t)(rnd() % 34) - 31; /* -31 .. 2 */
    const int32_t off = (int32_t)(rnd() % 256) - 128;
    int32_t acc;
    switch (rnd() % 4) {
      case 0: acc = edges[rnd() % (sizeof edges / sizeof edges[0])]; break;
      case 1: acc = (int32_t)rnd(); break;                         /* anything */
      case 2: acc = (int32_t)(rnd() % (1u << 24)) - (1 << 23); break; /* typical */
      default: acc = (int32_t)(rnd() % (1u << 31)) - (1 << 30); break; /* up to 2^30 */
    }
    if (shift > 0 && (acc > (1 << 28) || acc < -(1 << 28))) acc >>= 4; /* x << shift stays defined */
    if (!check(acc, mult, shift, off)) return 1;
    /* ties of the rounding divide: accumulators whose product lands on a half */
    if (shift < 0) {
      const int32_t e = -shift;
      const int32_t t = (int32_t)((rnd() % 2000u) * (1u << (e > 20 ? 20 : e))) - (1 << 20);
      if (!check(t, 1 << 30, shift, off)) return 1; /* mult = 0.5: s = t / 2 exactly */
    }
    ++n;
  }
  printf("OK %ld\n", n);
  return 0;
}
