/* Cortex-M4 DSP-extension helpers for the optimized int8 kernels.
 * With __ARM_FEATURE_DSP the ACLE intrinsics (or one-instruction inline asm where GCC's
 * arm_acle.h lacks a form, e.g. SXTB16 with ROR #8) are used; otherwise plain C with the same
 * results, so the same opt_*.c compile on the host for bit-exactness tests.
 * Packed values: a uint32_t holding two int16 lanes, "lo" = bits 0..15, "hi" = bits 16..31. */
#ifndef TH_DSP_H
#define TH_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define TH_HAVE_DSP 1
#endif

#define TH_INLINE static inline __attribute__((always_inline))

/* Put before an assembly loop's head: a taken branch costs 1 + P cycles, P 1 to 3 "depending on
 * the alignment and width of the target instruction" (Cortex-M4 TRM DDI 0439, 3.3.1); a 32-bit
 * instruction at a word-aligned target refills fastest. Padding before a head that is fallen
 * into costs one NOP per entry. */
#define TH_ASM_ALIGN ".p2align 2\n\t"
/* TH_ALIGN_LOOPS does the same for a hot C function's loops: without it the estimated cycles of a
 * layer move by ~1 % with the size of unrelated code placed before the function.
 * TH_NO_LIBCALLS keeps GCC from turning a function's loops into memcpy / memset calls: newlib-nano's
 * are byte loops built for size (3 KB of depthwise planes: ~9,000 cycles against ~2,000 as words),
 * and their place in flash differs from build to build, which moved estimates between twin boards. */
#if defined(__GNUC__) && !defined(__clang__)
#define TH_ALIGN_LOOPS __attribute__((optimize("align-loops=4")))
#define TH_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define TH_ALIGN_LOOPS
#define TH_NO_LIBCALLS
#endif

/* Unaligned 32-bit reads (LDR handles unaligned addresses on Cortex-M4); memcpy keeps the
 * compiler honest about aliasing and alignment and compiles to one LDR. */
TH_INLINE uint32_t th_read_u32(const void *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

TH_INLINE void th_write_u32(void *p, uint32_t v) { memcpy(p, &v, sizeof v); }

/* Two int16 lanes from one word: lane 0 <- lo, lane 1 <- hi. */
TH_INLINE uint32_t th_pack16(int32_t lo, int32_t hi) {
  return ((uint32_t)hi << 16) | ((uint32_t)lo & 0xFFFFu);
}

#ifdef TH_HAVE_DSP

/* acc + lo(a)*lo(b) + hi(a)*hi(b) */
TH_INLINE int32_t th_smlad(uint32_t a, uint32_t b, int32_t acc) {
  return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}
/* Bytes 0 and 2 sign-extended to the two int16 lanes. */
TH_INLINE uint32_t th_sxtb16(uint32_t x) { return (uint32_t)__sxtb16((int8x4_t)x); }
/* Bytes 1 and 3 sign-extended to the two int16 lanes. */
TH_INLINE uint32_t th_sxtb16_ror8(uint32_t x) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
/* a + bytes 0 and 2 of x, lane-wise (16-bit wrap; no overflow for int8 + offset). */
TH_INLINE uint32_t th_sxtab16(uint32_t a, uint32_t x) {
  return (uint32_t)__sxtab16((int16x2_t)a, (int8x4_t)x);
}
TH_INLINE uint32_t th_sadd16(uint32_t a, uint32_t b) { return (uint32_t)__sadd16((int16x2_t)a, (int16x2_t)b); }
TH_INLINE uint32_t th_ssub16(uint32_t a, uint32_t b) { return (uint32_t)__ssub16((int16x2_t)a, (int16x2_t)b); }
TH_INLINE uint32_t th_sxtab16_ror8(uint32_t a, uint32_t x) {
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
}
/* acc + lo(a)*lo(b), acc + hi(a)*hi(b) */
TH_INLINE int32_t th_smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return __smlabb((int32_t)a, (int32_t)b, acc);
}
TH_INLINE int32_t th_smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return __smlatt((int32_t)a, (int32_t)b, acc);
}
TH_INLINE int32_t th_qadd(int32_t a, int32_t b) { return __qadd(a, b); }
/* (a * b + 2^31) >> 32 */
TH_INLINE int32_t th_smmulr(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
TH_INLINE int32_t th_ssat8(int32_t x) { return __ssat(x, 8); }
/* Lane 0 of a, lane 0 of b: (a & 0xFFFF) | b << 16 (GCC does not find PKHBT for it). */
TH_INLINE uint32_t th_pkhbt(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
/* Lane 1 of b, lane 1 of a: b >> 16 | (a & 0xFFFF0000). */
TH_INLINE uint32_t th_pkhtb(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

#else /* plain C equivalents */

TH_INLINE int32_t th_lo16(uint32_t x) { return (int16_t)(x & 0xFFFFu); }
TH_INLINE int32_t th_hi16(uint32_t x) { return (int16_t)(x >> 16); }

TH_INLINE int32_t th_smlad(uint32_t a, uint32_t b, int32_t acc) {
  uint32_t sum = (uint32_t)acc + (uint32_t)(th_lo16(a) * th_lo16(b)) +
                 (uint32_t)(th_hi16(a) * th_hi16(b));
  return (int32_t)sum;
}
TH_INLINE uint32_t th_sxtb16(uint32_t x) {
  return th_pack16((int8_t)(x & 0xFFu), (int8_t)((x >> 16) & 0xFFu));
}
TH_INLINE uint32_t th_sxtb16_ror8(uint32_t x) {
  return th_pack16((int8_t)((x >> 8) & 0xFFu), (int8_t)(x >> 24));
}
TH_INLINE uint32_t th_sxtab16(uint32_t a, uint32_t x) {
  return th_pack16(th_lo16(a) + (int8_t)(x & 0xFFu), th_hi16(a) + (int8_t)((x >> 16) & 0xFFu));
}
TH_INLINE uint32_t th_sxtab16_ror8(uint32_t a, uint32_t x) {
  return th_pack16(th_lo16(a) + (int8_t)((x >> 8) & 0xFFu), th_hi16(a) + (int8_t)(x >> 24));
}
TH_INLINE uint32_t th_sadd16(uint32_t a, uint32_t b) { return th_pack16(th_lo16(a) + th_lo16(b), th_hi16(a) + th_hi16(b)); }
TH_INLINE uint32_t th_ssub16(uint32_t a, uint32_t b) { return th_pack16(th_lo16(a) - th_lo16(b), th_hi16(a) - th_hi16(b)); }
TH_INLINE int32_t th_smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(th_lo16(a) * th_lo16(b)));
}
TH_INLINE int32_t th_smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(th_hi16(a) * th_hi16(b)));
}
TH_INLINE int32_t th_qadd(int32_t a, int32_t b) {
  int64_t s = (int64_t)a + b;
  return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}
TH_INLINE int32_t th_ssat8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }
TH_INLINE uint32_t th_pkhbt(uint32_t a, uint32_t b) { return (a & 0xFFFFu) | (b << 16); }
TH_INLINE uint32_t th_pkhtb(uint32_t a, uint32_t b) { return (a & 0xFFFF0000u) | (b >> 16); }
TH_INLINE int32_t th_smmulr(int32_t a, int32_t b) {
  return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
}

#endif

/* TFLite's MultiplyByQuantizedMultiplier (double rounding, the TFLM default):
 * RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x << left, mult), right).
 * (x*m + 2^30) >> 31 (arithmetic) equals gemmlowp's nudged, truncating division for every sign;
 * the saturating case (x == m == INT32_MIN) cannot occur since multipliers are positive. */
TH_INLINE int32_t th_dsp_requantize(int32_t x, int32_t mult, int32_t shift) {
  int32_t left = shift > 0 ? shift : 0;
  int32_t right = shift > 0 ? 0 : -shift;
  int64_t prod = (int64_t)(int32_t)((uint32_t)x << left) * mult + ((int64_t)1 << 30);
  int32_t high = (int32_t)(prod >> 31);
  int32_t mask = (int32_t)((1u << right) - 1u);
  int32_t remainder = high & mask;
  int32_t threshold = (mask >> 1) + (high < 0);
  return (high >> right) + (remainder > threshold);
}

/* Fast form of th_dsp_requantize for right shifts e = -shift in [1, 23] (the usual case), with
 * half = 1 << (e - 1): the rounding divide becomes (s + half - (s < 0)) >> e with a saturating add.
 * It differs from the exact form only when that add saturates (s > INT32_MAX - half), where both
 * results are >= 2^(31-e) - 1 >= 255 and so clamp to the same int8 after any output offset. */
TH_INLINE int32_t th_dsp_requantize_fast(int32_t x, int32_t mult, int32_t half, int32_t e) {
  int32_t s = (int32_t)(((int64_t)x * mult + ((int64_t)1 << 30)) >> 31);
  return th_qadd(s, half - (int32_t)((uint32_t)s >> 31)) >> e;
}

TH_INLINE int th_dsp_fast_shift(int32_t shift) { return shift <= -1 && shift >= -23; }

/* Shortest form, for channels where the caller has proven |acc| < 2^30 (bias and the dot product
 * bounded) and e = -shift is in [1, 21]; acc2 = 2 * acc (kernels get it by doubling the weights
 * and the bias). Then SaturatingRoundingDoublingHighMul(acc, m) = (2*acc*m + 2^31) >> 32 = SMMULR,
 * |s| < 2^30 so the rounding add cannot overflow, and the output offset rides along as
 * bias_e = (1 << (e - 1)) + (output_offset << e), |bias_e| < 2^29:
 *   out = (s + bias_e - (s < 0)) >> e  ==  RoundingDivideByPOT(s, e) + output_offset. */
TH_INLINE int32_t th_dsp_requantize_small(int32_t acc2, int32_t mult, int32_t bias_e, int32_t e) {
  const int32_t s = th_smmulr(acc2, mult);
  return (s + (bias_e - (int32_t)((uint32_t)s >> 31))) >> e;
}

TH_INLINE int th_dsp_small_shift(int32_t shift) { return shift <= -1 && shift >= -21; }
#define TH_DSP_SMALL_ACC_LIMIT (1 << 29) /* |bias| and |dot product| each below this */

TH_INLINE int32_t th_dsp_clamp(int32_t v, int32_t lo, int32_t hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

#endif
