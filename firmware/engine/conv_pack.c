/* The optimized CONV_2D layouts (th_kernels.h): the code generator lays it out offline in Python
 * (harness/codegen/pack.py); this C version serves the kernel benchmark and the tests, which check
 * that both agree. */
#include <stddef.h>

#include "th_dsp.h"
#include "th_kernels.h"

#define SMALL_LIMIT (1 << 29) /* TH_DSP_SMALL_ACC_LIMIT */

/* Packed words of channel c (2 * bias, mult, bias_e, e): 0 when the channel does not fit the
 * packed kernel's arithmetic. |dot product| <= D = K * 255 * 128; acc lies in [bias + lo, bias + hi]
 * (dot_range: from the channel's own weights, within +-D). A channel whose requantized output is
 * the same over that whole range (multiplier 0, or VWW's
 * dead channels: huge bias, right shift of 29-31) is encoded as bias 0, multiplier 0, e = 1,
 * bias_e = 1 + 2 * that output: the kernel then yields it for any accumulator. Otherwise |bias| <
 * 2^29 and, as |SMMULR result| <= B = |bias| + D, (s - (s < 0) + bias_e) >> e cannot overflow when
 * B + 1 + 2^(e-1) + |off| * 2^e < 2^31. */
/* The channel's dot product lies in [*lo, *hi]: each term w * (x + input_offset) with x in
 * [-128, 127] (a padded tap contributes 0, inside that range). Tighter than +-D: it finds more
 * constant channels. */
static void dot_range(const th_conv_params *p, int32_t c, int64_t k, int64_t *lo, int64_t *hi) {
  const int64_t x_lo = -128 + (int64_t)p->input_offset, x_hi = 127 + (int64_t)p->input_offset;
  const int8_t *w = p->filter + (size_t)c * (size_t)k;
  *lo = *hi = 0;
  for (int64_t i = 0; i < k; ++i) {
    const int64_t a = w[i] * x_lo, b = w[i] * x_hi;
    *lo += a < b ? a : b;
    *hi += a < b ? b : a;
  }
}

static int channel_quant(const th_conv_params *p, int32_t c, int64_t k, uint32_t *bias2, uint32_t *mult,
                         uint32_t *bias_e, uint32_t *e) {
  const int64_t bias = p->bias ? p->bias[c] : 0, off = p->output_offset, d = k * 255 * 128;
  const int32_t m = p->out_multiplier[c], shift = p->out_shift[c];
  int64_t dot_lo, dot_hi;
  dot_range(p, c, k, &dot_lo, &dot_hi);
  const int64_t lo = bias + dot_lo, hi = bias + dot_hi, ex = -(int64_t)shift;
  if (lo >= INT32_MIN && hi <= INT32_MAX && (m == 0 || shift <= 0)) {
    /* MultiplyByQuantizedMultiplier is monotone in acc for m >= 0 without a left shift. */
    const int32_t r_lo = th_dsp_requantize((int32_t)lo, m, shift), r_hi = th_dsp_requantize((int32_t)hi, m, shift);
    if (m == 0 || r_lo == r_hi) {
      const int64_t out = r_lo + off;
      if (out >= SMALL_LIMIT || out <= -SMALL_LIMIT) return 0;
      *bias2 = 0;
      *mult = 0;
      *e = 1;
      *bias_e = (uint32_t)(1 + 2 * out);
      return 1;
    }
  }
  if (ex < 1 || ex > 31 || bias >= SMALL_LIMIT || bias <= -SMALL_LIMIT) return 0;
  const int64_t b = (bias < 0 ? -bias : bias) + d;
  if (b + 1 + ((int64_t)1 << (ex - 1)) + (off < 0 ? -off : off) * ((int64_t)1 << ex) >= ((int64_t)1 << 31)) return 0;
  *bias2 = (uint32_t)(2 * bias);
  *mult = (uint32_t)m;
  *e = (uint32_t)ex;
  *bias_e = (uint32_t)(((int64_t)1 << (ex - 1)) + off * ((int64_t)1 << ex));
  return 1;
}

int32_t th_conv_packed_words(const th_conv_params *p) {
  const int64_t k = (int64_t)p->k_h * p->k_w * p->in_c;
  if (p->out_c < 2 || (p->out_c & 1) || k < 1 || k * 255 * 128 >= SMALL_LIMIT) return 0;
  for (int32_t ch = 0; ch < p->out_c; ++ch) {
    uint32_t b2, m, be, e;
    if (!channel_quant(p, ch, k, &b2, &m, &be, &e)) return 0;
  }
  return (p->out_c / 2) * (int32_t)(8 + 4 * ((k + 3) / 4));
}

int32_t th_conv_packed8_words(const th_conv_params *p) {
  const int32_t words = th_conv_packed_words(p);
  return words ? (p->out_c / 2) * (8 + 2 * ((p->k_h * p->k_w * p->in_c + 3) / 4)) : 0;
}

static uint32_t pair16(int32_t lo, int32_t hi) { return ((uint32_t)hi << 16) | ((uint32_t)lo & 0xFFFFu); }

void th_conv_pack(const th_conv_params *p, uint32_t *dst) {
  static const int8_t lane_order[4] = {0, 2, 1, 3};
  const int32_t k = p->k_h * p->k_w * p->in_c, groups = (k + 3) / 4;
  for (int32_t c0 = 0; c0 < p->out_c; c0 += 2) {
    uint32_t b2[2], m[2], be[2], e[2];
    for (int32_t i = 0; i < 2; ++i) channel_quant(p, c0 + i, k, &b2[i], &m[i], &be[i], &e[i]);
    *dst++ = b2[0];
    *dst++ = b2[1];
    for (int32_t g = 0; g < groups; ++g) {
      for (int32_t half = 0; half < 2; ++half) { /* lanes (w0, w2) of c0 and c1, then (w1, w3) */
        for (int32_t c = c0; c < c0 + 2; ++c) {
          int32_t v[2];
          for (int32_t l = 0; l < 2; ++l) {
            const int32_t i = 4 * g + lane_order[2 * half + l];
            v[l] = i < k ? 2 * p->filter[(size_t)c * k + i] : 0;
          }
          *dst++ = pair16(v[0], v[1]);
        }
      }
    }
    *dst++ = m[0];
    *dst++ = m[1];
    *dst++ = be[0];
    *dst++ = be[1];
    *dst++ = e[0];
    *dst++ = e[1];
  }
}

void th_conv_pack8(const th_conv_params *p, uint32_t *dst) {
  const int32_t k = p->k_h * p->k_w * p->in_c, groups = (k + 3) / 4;
  for (int32_t c0 = 0; c0 < p->out_c; c0 += 2) {
    uint32_t b2[2], m[2], be[2], e[2];
    for (int32_t i = 0; i < 2; ++i) channel_quant(p, c0 + i, k, &b2[i], &m[i], &be[i], &e[i]);
    *dst++ = (uint32_t)((int32_t)b2[0] / 2);
    *dst++ = (uint32_t)((int32_t)b2[1] / 2);
    for (int32_t g = 0; g < groups; ++g) {
      for (int32_t c = c0; c < c0 + 2; ++c) {
        uint32_t word = 0;
        for (int32_t l = 0; l < 4; ++l) {
          const int32_t i = 4 * g + l;
          word |= (uint32_t)(uint8_t)(i < k ? p->filter[(size_t)c * k + i] : 0) << (8 * l);
        }
        *dst++ = word;
      }
    }
    *dst++ = m[0];
    *dst++ = m[1];
    *dst++ = be[0];
    *dst++ = be[1];
    *dst++ = e[0];
    *dst++ = e[1];
  }
}

/* The Winograd layout (th_kernels.h; harness/codegen/winograd.py mirrors it). */
static const int8_t wino_g2[4][3] = {{2, 0, 0}, {1, 1, 1}, {1, -1, 1}, {0, 0, 2}}; /* 2G */
static const int8_t wino_at[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
#define WINO_V_BOUND 1020 /* |B^T d B|: four inputs of at most 255 */

/* U = (2G) g (2G)^T of output channel c and input channel i at position xi (4 * row + column). */
static int32_t wino_u(const th_conv_params *p, int32_t c, int32_t i, int32_t xi) {
  int32_t u = 0;
  for (int32_t k = 0; k < 3; ++k)
    for (int32_t l = 0; l < 3; ++l)
      u += wino_g2[xi / 4][k] * wino_g2[xi % 4][l] * p->filter[(((size_t)c * 3 + k) * 3 + l) * p->in_c + i];
  return u;
}

/* Every partial sum of channel c (the 16 products' sums, the output transform, plus 2 * bias) fits
 * 32 bits. */
static int wino_fits(const th_conv_params *p, int32_t c, int64_t bias2) {
  int64_t m[16];
  for (int32_t xi = 0; xi < 16; ++xi) {
    int64_t s = 0;
    for (int32_t i = 0; i < p->in_c; ++i) {
      const int32_t u = wino_u(p, c, i, xi);
      s += u < 0 ? -u : u;
    }
    m[xi] = WINO_V_BOUND * s;
  }
  for (int32_t a = 0; a < 2; ++a)
    for (int32_t b = 0; b < 2; ++b) {
      int64_t y = 0;
      for (int32_t xi = 0; xi < 16; ++xi) y += (wino_at[a][xi / 4] != 0 && wino_at[b][xi % 4] != 0) ? m[xi] : 0;
      if (y >= ((int64_t)1 << 31) || y / 2 + (bias2 < 0 ? -bias2 : bias2) >= ((int64_t)1 << 31)) return 0;
    }
  return 1;
}

int32_t th_conv_wino_words(const th_conv_params *p) {
  if (p->k_h != 3 || p->k_w != 3 || p->stride_h != 1 || p->stride_w != 1 || p->dilation_h != 1 ||
      p->dilation_w != 1 || (p->in_c & 3) != 0 || th_conv_packed_words(p) == 0)
    return 0;
  for (int32_t ch = 0; ch < p->out_c; ++ch) {
    uint32_t b2, m, be, e;
    channel_quant(p, ch, 9 * (int64_t)p->in_c, &b2, &m, &be, &e);
    if (!wino_fits(p, ch, (int32_t)b2)) return 0;
  }
  return (p->out_c / 2) * (8 + 16 * p->in_c);
}

void th_conv_wino_pack(const th_conv_params *p, uint32_t *dst) {
  static const int8_t lane_order[4] = {0, 2, 1, 3};
  const int64_t k = 9 * (int64_t)p->in_c;
  for (int32_t c0 = 0; c0 < p->out_c; c0 += 2) {
    uint32_t b2[2], m[2], be[2], e[2];
    for (int32_t i = 0; i < 2; ++i) channel_quant(p, c0 + i, k, &b2[i], &m[i], &be[i], &e[i]);
    *dst++ = b2[0];
    *dst++ = b2[1];
    for (int32_t xi = 0; xi < 16; ++xi)
      for (int32_t g = 0; g < p->in_c / 4; ++g)
        for (int32_t half = 0; half < 2; ++half) /* lanes (u0, u2) of c0 and c1, then (u1, u3) */
          for (int32_t c = c0; c < c0 + 2; ++c)
            *dst++ = pair16(wino_u(p, c, 4 * g + lane_order[2 * half], xi),
                            wino_u(p, c, 4 * g + lane_order[2 * half + 1], xi));
    *dst++ = m[0];
    *dst++ = m[1];
    *dst++ = be[0];
    *dst++ = be[1];
    *dst++ = e[0];
    *dst++ = e[1];
  }
}
