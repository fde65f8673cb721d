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
TH_INLINE int32_t th_smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(th_lo16(a) * th_lo16(b)));
}
TH_INLINE int32_t th_smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(th_hi16(a) * th_hi16(b)));
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

TH_INLINE int32_t th_dsp_clamp(int32_t v, int32_t lo, int32_t hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

#endif
