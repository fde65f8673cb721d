/* Optimized int8 CONV_2D for Cortex-M4 (DSP extension), bit-exact with TFLM's reference
 * ConvPerChannel.
 *
 * Scheme: im2col two output pixels at a time into one int16 buffer with the input offset already
 * added (padding taps become 0, which is what skipping them contributes), then multiply it with
 * two filter rows at a time: 2 output channels x 2 output pixels per inner step, SMLAD on packed
 * int16 pairs. The filter row (OHWI, i.e. contiguous over K = k_h*k_w*in_c) is read as int8 words
 * and widened with SXTB16 / SXTB16 ROR 8, which yields lanes (0,2) and (1,3); the im2col buffer
 * therefore stores each group of four values in that order, and interleaves the two pixels group
 * by group so one LDM fetches both:  [A0 A2 A1 A3 B0 B2 B1 B3] per group of four, then the K % 4
 * leftover values of A, then those of B. An odd last pixel or channel is paired with itself.
 *
 * Packed path (p->packed, the code generator's layout of th_kernels.h / conv_pack.c; taken for
 * every layer with even out_c whose requantization fits it): the filter is pre-widened to int16,
 * doubled (so the accumulator is the 2 * acc the SMMULR requantization wants), and per channel
 * pair followed by its six requantization constants, so the assembly walks one pointer through
 * the layer: per group of four 11 instructions for 16 MACs (LDM of the columns, 2 LDM of weights,
 * 8 SMLAD), per channel pair 2 LDM of constants, 5 instructions per output, one STRH per pixel.
 * K is zero-padded to a multiple of 4 (the im2col fills the last group's spare lanes with 0), so
 * there is no tail loop; inputs with in_c % 4 != 0 (first layers) are gathered as bytes first.
 * Emulator instructions/MAC (benchmarks/kernels): KWS pointwise 1.37 -> 0.98, IC 3x3 16->16
 * 1.36 -> 1.05, IC first layer (3 channels) 3.42 -> 1.90.
 *
 * Scratch contract (firmware/engine/scratch.c implements th_conv2d_s8_scratch_bytes):
 *   2 * ceil4(k_h * k_w * in_c) * sizeof(int16_t) bytes, 4-byte aligned (LDM), for EVERY
 *   convolution, 1x1 included (KWS pointwise: 256 bytes). Without it (scratch == NULL, the
 *   scratch-free paths below, which need the int8 filter) the KWS pointwise layer takes 1.88.
 * 1x1 convolutions that reach no padding still run without scratch: the input pixels are then
 * widened on the fly. Any other convolution given scratch == NULL runs a direct, slow loop.
 * Overlap (scratch.c's layout contract): output pixels are written in raster order, two at a
 * time, after both pixels' inputs were read; earlier pixels' inputs are never read again. */
#include "th_dsp.h"
#include "th_kernels.h"

typedef struct {
  const int32_t *bias, *mult, *shift;
  int32_t out_offset, act_min, act_max;
  int all_small; /* every channel qualifies for th_dsp_requantize_small (|acc| < 2^30, shift) */
} requant_ctx;

static requant_ctx requant_of(const th_conv_params *p) {
  const int64_t dot_bound = (int64_t)p->k_h * p->k_w * p->in_c * 255 * 128;
  requant_ctx r = {p->bias, p->out_multiplier, p->out_shift, p->output_offset,
                   p->act_min, p->act_max, dot_bound < TH_DSP_SMALL_ACC_LIMIT};
  for (int32_t ch = 0; ch < p->out_c && r.all_small; ++ch) {
    const int32_t bias = p->bias ? p->bias[ch] : 0;
    r.all_small = th_dsp_small_shift(p->out_shift[ch]) && bias < TH_DSP_SMALL_ACC_LIMIT &&
                  bias > -TH_DSP_SMALL_ACC_LIMIT;
  }
  return r;
}

TH_INLINE int8_t requant_out(int32_t acc, const requant_ctx *r, int32_t ch) {
  int32_t v = th_dsp_requantize(acc, r->mult[ch], r->shift[ch]) + r->out_offset;
  return (int8_t)th_dsp_clamp(v, r->act_min, r->act_max);
}

/* Requantize channel ch for two pixels. `full_range` (act range [-128, 127]) and `small`
 * (r->all_small) are compile-time constants at each call, so the common case compiles to SMMULR,
 * three ALU instructions and an SSAT per output. */
TH_INLINE void requant_pair(int32_t acc_a, int32_t acc_b, const requant_ctx *r, int32_t ch,
                            int8_t *out_a, int8_t *out_b, int full_range, int small) {
  const int32_t shift = r->shift[ch], mult = r->mult[ch];
  int32_t va, vb;
  if (small) {
    /* |acc| < 2^30: the SMMULR form, output offset folded into the rounding constant. */
    const int32_t e = -shift;
    const int32_t bias_e = (1 << (e - 1)) + (int32_t)((uint32_t)r->out_offset << e);
    va = th_dsp_requantize_small(acc_a * 2, mult, bias_e, e);
    vb = th_dsp_requantize_small(acc_b * 2, mult, bias_e, e);
  } else if (th_dsp_fast_shift(shift)) {
    const int32_t e = -shift, half = 1 << (e - 1);
    va = th_dsp_requantize_fast(acc_a, mult, half, e) + r->out_offset;
    vb = th_dsp_requantize_fast(acc_b, mult, half, e) + r->out_offset;
  } else {
    va = th_dsp_requantize(acc_a, mult, shift) + r->out_offset;
    vb = th_dsp_requantize(acc_b, mult, shift) + r->out_offset;
  }
  if (full_range) {
    out_a[ch] = (int8_t)th_ssat8(va);
    out_b[ch] = (int8_t)th_ssat8(vb);
  } else {
    out_a[ch] = (int8_t)th_dsp_clamp(va, r->act_min, r->act_max);
    out_b[ch] = (int8_t)th_dsp_clamp(vb, r->act_min, r->act_max);
  }
}

/* Interleaved-buffer writer for pixel `pix` when groups of four straddle taps: a cursor walks
 * each group's lanes 0,2,1,3 (the nibbles of 0x3120), then the K % 4 tail. */
typedef struct {
  int16_t *group, *tail;
  int32_t lane, left_in_groups;
} col_cursor;

TH_INLINE void cursor_put(col_cursor *cur, int16_t v) {
  if (cur->left_in_groups > 0) {
    cur->group[(0x3120 >> (4 * cur->lane)) & 0xF] = v;
    --cur->left_in_groups;
    if (++cur->lane == 4) {
      cur->lane = 0;
      cur->group += 8;
    }
  } else {
    *cur->tail++ = v;
  }
}

/* Four consecutive values at a group boundary: straight into the group as two words. */
TH_INLINE void cursor_put_word(col_cursor *cur, uint32_t offset2, uint32_t w) {
  uint32_t *dst = (uint32_t *)(void *)cur->group;
  dst[0] = th_sxtab16(offset2, w);
  dst[1] = th_sxtab16_ror8(offset2, w);
  cur->group += 8;
  cur->left_in_groups -= 4;
}

/* n consecutive input bytes (or zeros when src is NULL) through the cursor: single values up to
 * a group boundary, then whole groups as words, then the rest. */
static void cursor_put_run(col_cursor *cur, const int8_t *src, int32_t n, int32_t offset, uint32_t offset2) {
  for (; n > 0 && cur->lane != 0; --n) cursor_put(cur, src ? (int16_t)(*src++ + offset) : 0);
  for (; n >= 4 && cur->left_in_groups >= 4; n -= 4) {
    if (src) {
      cursor_put_word(cur, offset2, th_read_u32(src));
      src += 4;
    } else {
      uint32_t *dst = (uint32_t *)(void *)cur->group;
      dst[0] = dst[1] = 0;
      cur->group += 8;
      cur->left_in_groups -= 4;
    }
  }
  for (; n > 0; --n) cursor_put(cur, src ? (int16_t)(*src++ + offset) : 0);
}

/* `padded`: the packed layout's im2col, where the K % 4 leftovers fill a last group (its unused
 * lanes 0) instead of the tail after the groups. */
static void im2col_straddling(const th_conv_params *p, int32_t y0, int32_t x0, int32_t pix, int16_t *col,
                              int padded) {
  const int32_t in_c = p->in_c, k = p->k_h * p->k_w * in_c, k4 = k & ~3;
  const int32_t offset = p->input_offset;
  const uint32_t offset2 = th_pack16(offset, offset);
  col_cursor cur = {col + 4 * pix, col + 2 * k4 + pix * (k - k4), 0, padded ? (k + 3) & ~3 : k4};
  /* With dilation_w 1 a kernel row's in-range taps [kx_lo, kx_hi) are one contiguous run. */
  int32_t kx_lo = 0, kx_hi = p->k_w;
  if (p->dilation_w == 1) {
    kx_lo = x0 < 0 ? -x0 : 0;
    kx_hi = p->in_w - x0 < p->k_w ? p->in_w - x0 : p->k_w;
    if (kx_lo > p->k_w) kx_lo = p->k_w;
    if (kx_hi < kx_lo) kx_hi = kx_lo;
  }
  for (int32_t ky = 0; ky < p->k_h; ++ky) {
    const int32_t iy = y0 + ky * p->dilation_h;
    if (iy < 0 || iy >= p->in_h) {
      cursor_put_run(&cur, NULL, p->k_w * in_c, offset, offset2);
      continue;
    }
    const int8_t *row = p->input + (size_t)iy * p->in_w * in_c;
    if (p->dilation_w == 1) {
      cursor_put_run(&cur, NULL, kx_lo * in_c, offset, offset2);
      cursor_put_run(&cur, row + (size_t)(x0 + kx_lo) * in_c, (kx_hi - kx_lo) * in_c, offset, offset2);
      cursor_put_run(&cur, NULL, (p->k_w - kx_hi) * in_c, offset, offset2);
      continue;
    }
    for (int32_t kx = 0; kx < p->k_w; ++kx) {
      const int32_t ix = x0 + kx * p->dilation_w;
      const int inside = ix >= 0 && ix < p->in_w;
      cursor_put_run(&cur, inside ? row + (size_t)ix * in_c : NULL, in_c, offset, offset2);
    }
  }
  while (padded && cur.lane != 0) cursor_put(&cur, 0);
}

/* im2col of output pixel (oy, ox) as pixel `pix` (0 = A, 1 = B) of the interleaved buffer. */
static void im2col_pixel(const th_conv_params *p, int32_t oy, int32_t ox, int32_t pix, int16_t *col,
                         int padded) {
  const int32_t in_c = p->in_c;
  const uint32_t offset2 = th_pack16(p->input_offset, p->input_offset);
  const int32_t y0 = oy * p->stride_h - p->pad_top;
  const int32_t x0 = ox * p->stride_w - p->pad_left;
  if ((in_c & 3) == 0) {
    /* Groups of four stay inside one tap: widen straight into the reordered layout. */
    uint32_t *dst = (uint32_t *)(void *)(col + 4 * pix);
    /* Whole kernel rows inside the input are one contiguous run of bytes (dilation_w 1). */
    const int rows_contiguous = p->dilation_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
    const int32_t row_groups = p->k_w * in_c / 4;
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
      const int32_t iy = y0 + ky * p->dilation_h;
      if (rows_contiguous && iy >= 0 && iy < p->in_h) {
        const int8_t *src = p->input + ((size_t)iy * p->in_w + x0) * in_c;
        for (int32_t g = 0; g < row_groups; ++g, src += 4, dst += 4) {
          const uint32_t w = th_read_u32(src);
          dst[0] = th_sxtab16(offset2, w);
          dst[1] = th_sxtab16_ror8(offset2, w);
        }
        continue;
      }
      for (int32_t kx = 0; kx < p->k_w; ++kx) {
        const int32_t ix = x0 + kx * p->dilation_w;
        if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
          for (int32_t c = 0; c < in_c; c += 4, dst += 4) dst[0] = dst[1] = 0;
          continue;
        }
        const int8_t *src = p->input + ((size_t)iy * p->in_w + ix) * in_c;
        for (int32_t c = 0; c < in_c; c += 4, dst += 4) {
          const uint32_t w = th_read_u32(src + c);
          dst[0] = th_sxtab16(offset2, w);
          dst[1] = th_sxtab16_ror8(offset2, w);
        }
      }
    }
    return;
  }
  im2col_straddling(p, y0, x0, pix, col, padded);
}

#ifdef TH_HAVE_DSP
/* acc[0..3] (channel 0 pixel A, channel 0 pixel B, channel 1 pixel A, channel 1 pixel B) +=
 * the first 4 * acc[4] values of the interleaved columns times filter rows w and w + k_minus_4 + 4.
 * Written as one assembly routine so all 14 registers work: 4 accumulators, 4 column words
 * (one LDM), 2 weight temporaries, column / weight pointers, row stride and the group count.
 * Per group of four: LDM + 2 LDR + 4 SXTB16 + 8 SMLAD = 15 instructions for 16 MACs. */
__attribute__((naked, noinline)) static void mac_2x2(const int16_t *col __attribute__((unused)),
                                                    const int8_t *w __attribute__((unused)),
                                                    int32_t k_minus_4 __attribute__((unused)),
                                                    int32_t *acc __attribute__((unused))) {
  __asm__ volatile(
      "push {r4-r11, lr}\n\t"
      "push {r3}\n\t"
      "ldm r3, {r8-r11, lr}\n\t"
      "cmp lr, #0\n\t"
      "beq 3f\n\t"
      "tst lr, #1\n\t"
      "beq 1f\n\t"
      "add lr, lr, #1\n\t" /* odd count: enter the unrolled loop at its second half */
      "b 2f\n\t"
      "1:\n\t"
      "ldm r0!, {r4-r7}\n\t"
      "ldr r3, [r1], #4\n\t"
      "sxtb16 r12, r3\n\t"
      "sxtb16 r3, r3, ror #8\n\t"
      "smlad r8, r12, r4, r8\n\t"
      "smlad r8, r3, r5, r8\n\t"
      "smlad r9, r12, r6, r9\n\t"
      "smlad r9, r3, r7, r9\n\t"
      "ldr r3, [r1, r2]\n\t"
      "sxtb16 r12, r3\n\t"
      "sxtb16 r3, r3, ror #8\n\t"
      "smlad r10, r12, r4, r10\n\t"
      "smlad r10, r3, r5, r10\n\t"
      "smlad r11, r12, r6, r11\n\t"
      "smlad r11, r3, r7, r11\n\t"
      "2:\n\t"
      "ldm r0!, {r4-r7}\n\t"
      "ldr r3, [r1], #4\n\t"
      "sxtb16 r12, r3\n\t"
      "sxtb16 r3, r3, ror #8\n\t"
      "smlad r8, r12, r4, r8\n\t"
      "smlad r8, r3, r5, r8\n\t"
      "smlad r9, r12, r6, r9\n\t"
      "smlad r9, r3, r7, r9\n\t"
      "ldr r3, [r1, r2]\n\t"
      "sxtb16 r12, r3\n\t"
      "sxtb16 r3, r3, ror #8\n\t"
      "smlad r10, r12, r4, r10\n\t"
      "smlad r10, r3, r5, r10\n\t"
      "smlad r11, r12, r6, r11\n\t"
      "smlad r11, r3, r7, r11\n\t"
      "subs lr, lr, #2\n\t"
      "bne 1b\n\t"
      "3:\n\t"
      "pop {r3}\n\t"
      "stm r3, {r8-r11}\n\t"
      "pop {r4-r11, pc}\n\t");
}
#else
static void mac_2x2(const int16_t *col, const int8_t *w, int32_t k_minus_4, int32_t *acc) {
  const int8_t *w1 = w + k_minus_4 + 4;
  for (int32_t g = 0; g < acc[4]; ++g, col += 8, w += 4, w1 += 4) {
    uint32_t a02 = th_read_u32(col), a13 = th_read_u32(col + 2);
    uint32_t b02 = th_read_u32(col + 4), b13 = th_read_u32(col + 6);
    uint32_t wa = th_read_u32(w), wb = th_read_u32(w1);
    acc[0] = th_smlad(th_sxtb16_ror8(wa), a13, th_smlad(th_sxtb16(wa), a02, acc[0]));
    acc[1] = th_smlad(th_sxtb16_ror8(wa), b13, th_smlad(th_sxtb16(wa), b02, acc[1]));
    acc[2] = th_smlad(th_sxtb16_ror8(wb), a13, th_smlad(th_sxtb16(wb), a02, acc[2]));
    acc[3] = th_smlad(th_sxtb16_ror8(wb), b13, th_smlad(th_sxtb16(wb), b02, acc[3]));
  }
}
#endif

/* All output channels for the two pixels held in the interleaved buffer `col`. */
TH_INLINE void gemm_two_pixels_impl(const th_conv_params *p, const requant_ctx *r, const int16_t *col,
                                    int8_t *out_a, int8_t *out_b, int32_t ch_begin, int full_range,
                                    int small) {
  const int32_t k = p->k_h * p->k_w * p->in_c, k4 = k & ~3, tail = k - k4;
  const int16_t *tail_a = col + 2 * k4, *tail_b = tail_a + tail;
  const int32_t out_c = p->out_c;
  for (int32_t ch = ch_begin; ch < out_c; ch += 2) {
    const int32_t ch1 = ch + 1 < out_c ? ch + 1 : ch; /* odd last channel: paired with itself */
    const int8_t *w0 = p->filter + (size_t)ch * k, *w1 = p->filter + (size_t)ch1 * k;
    int32_t b0 = r->bias ? r->bias[ch] : 0, b1 = r->bias ? r->bias[ch1] : 0;
    int32_t acc[5] = {b0, b0, b1, b1, k4 / 4};
    mac_2x2(col, w0, (int32_t)(w1 - w0) - 4, acc);
    for (int32_t i = 0; i < tail; ++i) {
      acc[0] += w0[k4 + i] * tail_a[i];
      acc[1] += w0[k4 + i] * tail_b[i];
      acc[2] += w1[k4 + i] * tail_a[i];
      acc[3] += w1[k4 + i] * tail_b[i];
    }
    requant_pair(acc[0], acc[1], r, ch, out_a, out_b, full_range, small);
    requant_pair(acc[2], acc[3], r, ch1, out_a, out_b, full_range, small);
  }
}

#ifdef TH_HAVE_DSP
/* Every channel pair of two pixels in assembly, requantization included (the common case: K >= 4,
 * bias present, all channels in the short requantization), so
 * nothing but the 2x2 multiply loop and eight instructions per output run per channel pair.
 * Field offsets are used by the assembly: keep the order. */
typedef struct {
  const int16_t *col;     /* 0: interleaved im2col of the two pixels */
  const int8_t *w;        /* 4: filter row of the current channel pair's first channel */
  int32_t k_minus_4;      /* 8 */
  int32_t n_groups;       /* 12: K / 4, >= 1 */
  int8_t *out_a, *out_b;  /* 16, 20: outputs of the current channel pair */
  int32_t n_pairs;        /* 24: >= 1 */
  const int32_t *bias;    /* 28 */
  const int32_t *mult;    /* 32 */
  const int32_t *shift;   /* 36 */
  int32_t round_offset;   /* 40: 1 + 2 * output_offset */
  int32_t act_min;        /* 44 */
  int32_t act_max;        /* 48 */
  int32_t clamp;          /* 52: 0 when [act_min, act_max] is the whole int8 range */
  int32_t in_delta;       /* 56: pointwise only: pixel B's input minus pixel A's, in bytes */
  uint32_t offset2;       /* 60: pointwise only: the input offset in both int16 lanes */
  int32_t tail;           /* 64: im2col only: K % 4 leftover values per pixel (after the groups) */
  int32_t tail_bytes;     /* 68: 2 * tail, pixel B's leftovers follow pixel A's */
} gemm_asm_args;

/* Clamp acc to [r0, r1] (the activation range, narrower than int8). */
#define GEMM_CLAMP(acc)                \
  "cmp " acc ", r0\n\t"               \
  "it lt\n\t"                         \
  "movlt " acc ", r0\n\t"             \
  "cmp " acc ", r1\n\t"               \
  "it gt\n\t"                         \
  "movgt " acc ", r1\n\t"

/* Short requantization of one accumulator (see th_dsp_requantize_small), with
 * RoundingDivideByPOT(s, e) + off == (((s - (s < 0)) >> (e - 1)) + 1 + 2 * off) >> 1. */
#define GEMM_REQ(acc, m, em1)                  \
  "lsl " acc ", " acc ", #1\n\t"              \
  "smmulr " acc ", " acc ", " m "\n\t"        \
  "sub " acc ", " acc ", " acc ", lsr #31\n\t" \
  "asr " acc ", " acc ", " em1 "\n\t"          \
  "add " acc ", " acc ", r3\n\t"               \
  "asr " acc ", " acc ", #1\n\t"               \
  "ssat " acc ", #8, " acc "\n\t"
#define GEMM_GROUP                    \
  "ldm r0!, {r4-r7}\n\t"              \
  "ldr r3, [r1], #4\n\t"              \
  "sxtb16 r12, r3\n\t"                \
  "sxtb16 r3, r3, ror #8\n\t"         \
  "smlad r8, r12, r4, r8\n\t"         \
  "smlad r8, r3, r5, r8\n\t"          \
  "smlad r9, r12, r6, r9\n\t"         \
  "smlad r9, r3, r7, r9\n\t"          \
  "ldr r3, [r1, r2]\n\t"              \
  "sxtb16 r12, r3\n\t"                \
  "sxtb16 r3, r3, ror #8\n\t"         \
  "smlad r10, r12, r4, r10\n\t"       \
  "smlad r10, r3, r5, r10\n\t"        \
  "smlad r11, r12, r6, r11\n\t"       \
  "smlad r11, r3, r7, r11\n\t"

/* After a channel pair's dot products (r12 = args): requantize, clamp, store, next pair. */
#define GEMM_PAIR_END \
  "ldr r0, [r12, #32]\n\t" \
  "ldr r4, [r0], #4\n\t" \
  "ldr r5, [r0], #4\n\t" \
  "str r0, [r12, #32]\n\t" \
  "ldr r0, [r12, #36]\n\t" \
  "ldr r6, [r0], #4\n\t" \
  "ldr r7, [r0], #4\n\t" \
  "str r0, [r12, #36]\n\t" \
  "mvn r6, r6\n\t" /* e - 1 = -shift - 1 = ~shift */ \
  "mvn r7, r7\n\t" \
  "ldr r3, [r12, #40]\n\t" \
  GEMM_REQ("r8", "r4", "r6") GEMM_REQ("r9", "r4", "r6") \
  GEMM_REQ("r10", "r5", "r7") GEMM_REQ("r11", "r5", "r7") \
  "ldr r0, [r12, #52]\n\t" \
  "cbz r0, 3f\n\t" \
  "ldr r0, [r12, #44]\n\t" \
  "ldr r1, [r12, #48]\n\t" \
  GEMM_CLAMP("r8") GEMM_CLAMP("r9") GEMM_CLAMP("r10") GEMM_CLAMP("r11") \
  "3:\n\t" \
  "ldr r0, [r12, #16]\n\t" \
  "strb r8, [r0]\n\t" \
  "strb r10, [r0, #1]\n\t" \
  "add r0, r0, #2\n\t" \
  "str r0, [r12, #16]\n\t" \
  "ldr r0, [r12, #20]\n\t" \
  "strb r9, [r0]\n\t" \
  "strb r11, [r0, #1]\n\t" \
  "add r0, r0, #2\n\t" \
  "str r0, [r12, #20]\n\t" \
  "ldr r3, [r12, #24]\n\t" \
  "subs r3, r3, #1\n\t" \
  "str r3, [r12, #24]\n\t" \
  "bne 0b\n\t"

__attribute__((naked, noinline)) static void gemm_2x2_asm(gemm_asm_args *a __attribute__((unused))) {
  __asm__ volatile(
      "push {r0, r4-r11, lr}\n\t"
      "0:\n\t" /* channel pair: r12 = args */
      "ldr r12, [sp]\n\t"
      "ldr r3, [r12, #28]\n\t"
      "ldr r8, [r3], #4\n\t"
      "ldr r10, [r3], #4\n\t"
      "str r3, [r12, #28]\n\t"
      "mov r9, r8\n\t"
      "mov r11, r10\n\t"
      "ldr r0, [r12, #0]\n\t"
      "ldr r1, [r12, #4]\n\t"
      "ldr r2, [r12, #8]\n\t"
      "ldr lr, [r12, #12]\n\t"
      "tst lr, #1\n\t"
      "beq 1f\n\t"
      "add lr, lr, #1\n\t" /* odd group count: enter the unrolled loop at its second half */
      "b 2f\n\t"
      "1:\n\t" GEMM_GROUP
      "2:\n\t" GEMM_GROUP
      "subs lr, lr, #2\n\t"
      "bne 1b\n\t"
      /* K % 4 leftovers: r0 = pixel A's, pixel B's 2*tail bytes later; rows at r1 and r1 + K */
      "ldr r12, [sp]\n\t"
      "ldr lr, [r12, #64]\n\t"
      "cmp lr, #0\n\t"
      "beq 4f\n\t"
      "ldr r12, [r12, #68]\n\t"
      "add r3, r1, r2\n\t"
      "add r3, r3, #4\n\t"
      "3:\n\t"
      "ldrsh r4, [r0, r12]\n\t"
      "ldrsh r5, [r0], #2\n\t"
      "ldrsb r6, [r1], #1\n\t"
      "ldrsb r7, [r3], #1\n\t"
      "mla r8, r6, r5, r8\n\t"
      "mla r9, r6, r4, r9\n\t"
      "mla r10, r7, r5, r10\n\t"
      "mla r11, r7, r4, r11\n\t"
      "subs lr, lr, #1\n\t"
      "bne 3b\n\t"
      "ldr r12, [sp]\n\t"
      "4:\n\t"
      /* next pair's first row: this pair's second row + K, i.e. r1 + (K - 4) + 4 */
      "add r1, r1, r2\n\t"
      "add r1, r1, #4\n\t"
      "str r1, [r12, #4]\n\t"
      GEMM_PAIR_END
      "pop {r0, r4-r11, pc}\n\t");
}

/* Scratch-free 1x1 variant: the two columns are the int8 input pixels (col = pixel A, pixel B at
 * col + in_delta), widened with the input offset inside the loop. Registers allow only four
 * temporaries next to the offset and both strides, so pixel A's word is read twice per group:
 * 5 LDR + 10 SXT(A)B16 + 8 SMLAD + 1 ADD = 24 instructions per 16 MACs (the im2col path: 15). */
#define PW_GROUP                        \
  "ldr r4, [r1]\n\t"                    \
  "sxtb16 r5, r4\n\t"                   \
  "sxtb16 r4, r4, ror #8\n\t"           \
  "ldr r6, [r0]\n\t"                    \
  "sxtab16 r7, r12, r6\n\t"             \
  "sxtab16 r6, r12, r6, ror #8\n\t"     \
  "smlad r8, r5, r7, r8\n\t"            \
  "smlad r8, r4, r6, r8\n\t"            \
  "ldr r6, [r0, r3]\n\t"                \
  "sxtab16 r7, r12, r6\n\t"             \
  "sxtab16 r6, r12, r6, ror #8\n\t"     \
  "smlad r9, r5, r7, r9\n\t"            \
  "smlad r9, r4, r6, r9\n\t"            \
  "ldr r4, [r1, r2]\n\t"                \
  "sxtb16 r5, r4\n\t"                   \
  "sxtb16 r4, r4, ror #8\n\t"           \
  "smlad r11, r5, r7, r11\n\t"          \
  "smlad r11, r4, r6, r11\n\t"          \
  "ldr r6, [r0], #4\n\t"                \
  "sxtab16 r7, r12, r6\n\t"             \
  "sxtab16 r6, r12, r6, ror #8\n\t"     \
  "smlad r10, r5, r7, r10\n\t"          \
  "smlad r10, r4, r6, r10\n\t"          \
  "add r1, r1, #4\n\t"

__attribute__((naked, noinline)) static void pointwise_2x2_asm(gemm_asm_args *a __attribute__((unused))) {
  __asm__ volatile(
      "push {r0, r4-r11, lr}\n\t"
      "0:\n\t"
      "ldr r12, [sp]\n\t"
      "ldr r3, [r12, #28]\n\t"
      "ldr r8, [r3], #4\n\t"
      "ldr r10, [r3], #4\n\t"
      "str r3, [r12, #28]\n\t"
      "mov r9, r8\n\t"
      "mov r11, r10\n\t"
      "ldr r0, [r12, #0]\n\t"
      "ldr r1, [r12, #4]\n\t"
      "ldr r2, [r12, #8]\n\t" /* K: row stride (no -4 here, the weight pointer moves last) */
      "ldr r3, [r12, #56]\n\t"
      "ldr lr, [r12, #12]\n\t"
      "ldr r12, [r12, #60]\n\t"
      "tst lr, #1\n\t"
      "beq 1f\n\t"
      "add lr, lr, #1\n\t"
      "b 2f\n\t"
      "1:\n\t" PW_GROUP
      "2:\n\t" PW_GROUP
      "subs lr, lr, #2\n\t"
      "bne 1b\n\t"
      "add r1, r1, r2\n\t" /* next pair's first row: this pair's second row + K */
      "ldr r12, [sp]\n\t"
      "str r1, [r12, #4]\n\t"
      GEMM_PAIR_END
      "pop {r0, r4-r11, pc}\n\t");
}
#endif

static void gemm_two_pixels(const th_conv_params *p, const requant_ctx *r, const int16_t *col,
                            int8_t *out_a, int8_t *out_b) {
  const int full_range = r->act_min == -128 && r->act_max == 127;
  int32_t ch_begin = 0;
#ifdef TH_HAVE_DSP
  const int32_t k = p->k_h * p->k_w * p->in_c;
  if (r->all_small && r->bias != NULL && k >= 4 && p->out_c >= 2) {
    gemm_asm_args a = {col,          p->filter, k - 4,   k / 4,    out_a,
                       out_b,        p->out_c / 2, r->bias, r->mult, r->shift,
                       1 + 2 * r->out_offset, r->act_min, r->act_max, !full_range,
                       0,            0,         k & 3,   2 * (k & 3)};
    gemm_2x2_asm(&a);
    ch_begin = p->out_c & ~1;
    if (ch_begin == p->out_c) return;
  }
#endif
  if (full_range && r->all_small) {
    gemm_two_pixels_impl(p, r, col, out_a, out_b, ch_begin, 1, 1);
  } else if (r->all_small) {
    gemm_two_pixels_impl(p, r, col, out_a, out_b, ch_begin, 0, 1);
  } else {
    gemm_two_pixels_impl(p, r, col, out_a, out_b, ch_begin, 0, 0);
  }
}

/* 1x1 convolutions whose every output pixel reads an in-range input pixel (no padding reached):
 * the two "columns" are the input pixels themselves, widened on the fly. Needs no scratch. */
static int pointwise_direct(const th_conv_params *p) {
  return p->k_h == 1 && p->k_w == 1 && p->pad_top == 0 && p->pad_left == 0 &&
         (p->out_h - 1) * p->stride_h < p->in_h && (p->out_w - 1) * p->stride_w < p->in_w;
}

static void pointwise_two_pixels(const th_conv_params *p, const requant_ctx *r, const int8_t *in_a,
                                 const int8_t *in_b, int8_t *out_a, int8_t *out_b) {
  const int32_t k = p->in_c, k4 = k & ~3;
  const int32_t off = p->input_offset;
  const uint32_t off2 = th_pack16(off, off);
  int32_t ch_begin = 0;
#ifdef TH_HAVE_DSP
  if (r->all_small && r->bias != NULL && (k & 3) == 0 && k > 0 && p->out_c >= 2) {
    const int full_range = r->act_min == -128 && r->act_max == 127;
    gemm_asm_args a = {(const int16_t *)(const void *)in_a, p->filter, k, k / 4, out_a, out_b,
                       p->out_c / 2, r->bias, r->mult, r->shift, 1 + 2 * r->out_offset,
                       r->act_min, r->act_max, !full_range, (int32_t)(in_b - in_a), off2, 0, 0};
    pointwise_2x2_asm(&a);
    ch_begin = p->out_c & ~1;
  }
#endif
  for (int32_t ch = ch_begin; ch < p->out_c; ch += 2) {
    const int32_t ch1 = ch + 1 < p->out_c ? ch + 1 : ch; /* odd last channel: paired with itself */
    const int8_t *w0 = p->filter + (size_t)ch * k, *w1 = p->filter + (size_t)ch1 * k;
    int32_t b0 = r->bias ? r->bias[ch] : 0, b1 = r->bias ? r->bias[ch1] : 0;
    int32_t a00 = b0, a01 = b0, a10 = b1, a11 = b1;
    for (int32_t i = 0; i < k4; i += 4) {
      uint32_t x = th_read_u32(in_a + i), y = th_read_u32(in_b + i);
      uint32_t x02 = th_sxtab16(off2, x), x13 = th_sxtab16_ror8(off2, x);
      uint32_t y02 = th_sxtab16(off2, y), y13 = th_sxtab16_ror8(off2, y);
      uint32_t wa = th_read_u32(w0 + i), wb = th_read_u32(w1 + i);
      uint32_t wa02 = th_sxtb16(wa), wa13 = th_sxtb16_ror8(wa);
      a00 = th_smlad(wa13, x13, th_smlad(wa02, x02, a00));
      a01 = th_smlad(wa13, y13, th_smlad(wa02, y02, a01));
      uint32_t wb02 = th_sxtb16(wb), wb13 = th_sxtb16_ror8(wb);
      a10 = th_smlad(wb13, x13, th_smlad(wb02, x02, a10));
      a11 = th_smlad(wb13, y13, th_smlad(wb02, y02, a11));
    }
    for (int32_t i = k4; i < k; ++i) {
      a00 += w0[i] * (in_a[i] + off);
      a01 += w0[i] * (in_b[i] + off);
      a10 += w1[i] * (in_a[i] + off);
      a11 += w1[i] * (in_b[i] + off);
    }
    requant_pair(a00, a01, r, ch, out_a, out_b, 0, 0);
    requant_pair(a10, a11, r, ch1, out_a, out_b, 0, 0);
  }
}

static void conv_pointwise(const th_conv_params *p) {
  const requant_ctx r = requant_of(p);
  const int32_t n_pix = p->out_h * p->out_w;
  for (int32_t pix = 0; pix < n_pix; pix += 2) {
    const int32_t pix_b = pix + 1 < n_pix ? pix + 1 : pix; /* odd last pixel: paired with itself */
    const int8_t *in_a = p->input + ((size_t)(pix / p->out_w) * p->stride_h * p->in_w +
                                     (size_t)(pix % p->out_w) * p->stride_w) * p->in_c;
    const int8_t *in_b = p->input + ((size_t)(pix_b / p->out_w) * p->stride_h * p->in_w +
                                     (size_t)(pix_b % p->out_w) * p->stride_w) * p->in_c;
    pointwise_two_pixels(p, &r, in_a, in_b, p->output + (size_t)pix * p->out_c,
                         p->output + (size_t)pix_b * p->out_c);
  }
}

/* Scratch-free path (only when the caller planned no scratch). */
static void conv_direct(const th_conv_params *p) {
  const requant_ctx r = requant_of(p);
  for (int32_t oy = 0; oy < p->out_h; ++oy) {
    for (int32_t ox = 0; ox < p->out_w; ++ox) {
      int8_t *out = p->output + ((size_t)oy * p->out_w + ox) * p->out_c;
      for (int32_t ch = 0; ch < p->out_c; ++ch) {
        const int8_t *w = p->filter + (size_t)ch * p->k_h * p->k_w * p->in_c;
        int32_t acc = p->bias ? p->bias[ch] : 0;
        for (int32_t ky = 0; ky < p->k_h; ++ky) {
          const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
          for (int32_t kx = 0; kx < p->k_w; ++kx, w += p->in_c) {
            const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) continue;
            const int8_t *src = p->input + ((size_t)iy * p->in_w + ix) * p->in_c;
            for (int32_t c = 0; c < p->in_c; ++c) acc += w[c] * (src[c] + p->input_offset);
          }
        }
        out[ch] = requant_out(acc, &r, ch);
      }
    }
  }
}

/* ---- Packed path (p->packed, th_conv_pack's layout): int16 weights doubled offline, the channel
 * pair's bias and requantization constants inline, so one pointer walks the whole layer. ---- */

#define GATHER_MAX 256 /* receptive fields up to this many values take the byte gather below */
/* The runs are a few bytes long: keep GCC from turning the loops into memcpy / memset calls. */
#if defined(__GNUC__) && !defined(__clang__)
#define TH_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define TH_NO_LIBCALLS
#endif

/* Bytes [src, src + n) to dst, words first (unaligned LDR/STR). */
TH_INLINE int8_t *copy_bytes(int8_t *dst, const int8_t *src, int32_t n) {
  for (; n >= 4; n -= 4, src += 4, dst += 4) th_write_u32(dst, th_read_u32(src));
  for (; n > 0; --n) *dst++ = *src++;
  return dst;
}

TH_INLINE int8_t *fill_bytes(int8_t *dst, int8_t v, int32_t n) {
  for (; n > 0; --n) *dst++ = v;
  return dst;
}

/* im2col of a pixel whose groups of four straddle taps (in_c % 4 != 0, e.g. first layers with 1 or 3
 * channels): the receptive field is first gathered as bytes, padding taps and the lanes past K as
 * the byte -input_offset (which widens to 0), then widened four at a time like the in_c % 4 == 0
 * path. Row runs are plain byte copies instead of the cursor's per-value placement. */
TH_NO_LIBCALLS static void im2col_gather(const th_conv_params *p, int32_t y0, int32_t x0, int32_t pix, int16_t *col) {
  uint32_t words[GATHER_MAX / 4];
  int8_t *buf = (int8_t *)(void *)words, *d = buf;
  const int32_t in_c = p->in_c, k = p->k_h * p->k_w * in_c, row_bytes = p->k_w * in_c;
  const int8_t pad = (int8_t)-p->input_offset;
  const uint32_t offset2 = th_pack16(p->input_offset, p->input_offset);
  int32_t kx_lo = 0, kx_hi = p->k_w;
  if (p->dilation_w == 1) {
    kx_lo = x0 < 0 ? -x0 : 0;
    kx_hi = p->in_w - x0 < p->k_w ? p->in_w - x0 : p->k_w;
    if (kx_lo > p->k_w) kx_lo = p->k_w;
    if (kx_hi < kx_lo) kx_hi = kx_lo;
  }
  const int32_t stride_h = p->dilation_h * p->in_w * in_c;
  if (kx_lo == 0 && kx_hi == p->k_w && p->dilation_w == 1 && y0 >= 0 &&
      y0 + (p->k_h - 1) * p->dilation_h < p->in_h) {
    /* Interior pixel: k_h runs of row_bytes at a fixed stride. */
    const int8_t *src = p->input + ((size_t)y0 * p->in_w + x0) * in_c;
    for (int32_t ky = 0; ky < p->k_h; ++ky, src += stride_h) d = copy_bytes(d, src, row_bytes);
    kx_hi = -1; /* done */
  }
  for (int32_t ky = 0; ky < p->k_h && kx_hi >= 0; ++ky) {
    const int32_t iy = y0 + ky * p->dilation_h;
    if (iy < 0 || iy >= p->in_h) {
      d = fill_bytes(d, pad, row_bytes);
      continue;
    }
    const int8_t *row = p->input + (size_t)iy * p->in_w * in_c;
    if (p->dilation_w == 1) {
      d = fill_bytes(d, pad, kx_lo * in_c);
      d = copy_bytes(d, row + (size_t)(x0 + kx_lo) * in_c, (kx_hi - kx_lo) * in_c);
      d = fill_bytes(d, pad, (p->k_w - kx_hi) * in_c);
      continue;
    }
    for (int32_t kx = 0; kx < p->k_w; ++kx) {
      const int32_t ix = x0 + kx * p->dilation_w;
      d = ix >= 0 && ix < p->in_w ? copy_bytes(d, row + (size_t)ix * in_c, in_c) : fill_bytes(d, pad, in_c);
    }
  }
  fill_bytes(d, pad, ((k + 3) & ~3) - k);
  uint32_t *dst = (uint32_t *)(void *)(col + 4 * pix);
  for (int32_t g = 0; g < (k + 3) / 4; ++g, dst += 4) {
    const uint32_t w = words[g];
    dst[0] = th_sxtab16(offset2, w);
    dst[1] = th_sxtab16_ror8(offset2, w);
  }
}

static void im2col_packed(const th_conv_params *p, int32_t oy, int32_t ox, int32_t pix, int16_t *col) {
  if ((p->in_c & 3) != 0 && ((p->k_h * p->k_w * p->in_c + 3) & ~3) <= GATHER_MAX) {
    im2col_gather(p, oy * p->stride_h - p->pad_top, ox * p->stride_w - p->pad_left, pix, col);
  } else {
    im2col_pixel(p, oy, ox, pix, col, 1);
  }
}

/* Field offsets are used by the assembly: keep the order. */
typedef struct {
  const int16_t *col;    /* 0: interleaved im2col of the two pixels, G groups */
  int32_t n_groups;      /* 4: G >= 1 */
  int8_t *out_a, *out_b; /* 8, 12: outputs of the current channel pair */
  const uint32_t *end;   /* 16: one past the packed layer */
  int32_t clamp;         /* 20: 0 when [act_min, act_max] is the whole int8 range */
  uint32_t min4, max4;   /* 24, 28: act_min / act_max in every byte */
  const uint32_t *w;     /* 32: the packed layer */
} packed_args;

#ifdef TH_HAVE_DSP
/* Per group of four: LDM (4 column words) + 2 LDM (2 weight words of each channel) + 8 SMLAD = 11
 * instructions for 16 MACs (the int8-filter loop: 15, its 2 LDR + 4 SXTB16 become 2 LDM). */
#define PK_GROUP                  \
  "ldm r0!, {r4-r7}\n\t"          \
  "ldm r1!, {r2, r3}\n\t"         \
  "smlad r8, r2, r4, r8\n\t"      \
  "smlad r8, r3, r5, r8\n\t"      \
  "smlad r9, r2, r6, r9\n\t"      \
  "smlad r9, r3, r7, r9\n\t"      \
  "ldm r1!, {r2, r3}\n\t"         \
  "smlad r10, r2, r4, r10\n\t"    \
  "smlad r10, r3, r5, r10\n\t"    \
  "smlad r11, r2, r6, r11\n\t"    \
  "smlad r11, r3, r7, r11\n\t"
/* th_dsp_requantize_small on an accumulator that already holds 2 * acc, then SSAT. */
#define PK_REQ(acc, m, be, e)                  \
  "smmulr " acc ", " acc ", " m "\n\t"        \
  "sub " acc ", " acc ", " acc ", lsr #31\n\t" \
  "add " acc ", " acc ", " be "\n\t"           \
  "asr " acc ", " acc ", " e "\n\t"            \
  "ssat " acc ", #8, " acc "\n\t"

/* Every channel pair of two pixels. Per pair beyond the groups: LDM of the two biases, LDM of the
 * six requantization constants (no pointer is stored back: the weight pointer walks into them),
 * 5 instructions per output, the two channels of a pixel merged with BFI and stored with one STRH;
 * a narrower activation range costs SSUB8 + SEL per bound and pixel (both channels at once). */
__attribute__((naked, noinline)) static void gemm_packed_asm(const packed_args *a __attribute__((unused))) {
  __asm__ volatile(
      "push {r4-r11, lr}\n\t"
      "mov r12, r0\n\t"
      "ldr r1, [r12, #32]\n\t"
      "0:\n\t"
      "ldm r1!, {r8, r10}\n\t"
      "mov r9, r8\n\t"
      "mov r11, r10\n\t"
      "ldr r0, [r12, #0]\n\t"
      "ldr lr, [r12, #4]\n\t"
      "tst lr, #1\n\t"
      "beq 1f\n\t"
      "add lr, lr, #1\n\t" /* odd group count: enter the unrolled loop at its second half */
      "b 2f\n\t"
      "1:\n\t" PK_GROUP
      "2:\n\t" PK_GROUP
      "subs lr, lr, #2\n\t"
      "bne 1b\n\t"
      "ldm r1!, {r0, r2, r3, r4, r5, r6}\n\t" /* mult0 mult1 bias_e0 bias_e1 e0 e1 */
      PK_REQ("r8", "r0", "r3", "r5") PK_REQ("r9", "r0", "r3", "r5")
      PK_REQ("r10", "r2", "r4", "r6") PK_REQ("r11", "r2", "r4", "r6")
      "bfi r8, r10, #8, #8\n\t" /* pixel A: channel 0 | channel 1 << 8 */
      "bfi r9, r11, #8, #8\n\t" /* pixel B */
      "ldr r0, [r12, #20]\n\t"
      "cbz r0, 3f\n\t"
      "ldrd r2, r3, [r12, #24]\n\t"
      "ssub8 r0, r8, r2\n\t"
      "sel r8, r8, r2\n\t"
      "ssub8 r0, r9, r2\n\t"
      "sel r9, r9, r2\n\t"
      "ssub8 r0, r3, r8\n\t"
      "sel r8, r8, r3\n\t"
      "ssub8 r0, r3, r9\n\t"
      "sel r9, r9, r3\n\t"
      "3:\n\t"
      "ldrd r2, r3, [r12, #8]\n\t"
      "strh r8, [r2], #2\n\t"
      "strh r9, [r3], #2\n\t"
      "strd r2, r3, [r12, #8]\n\t"
      "ldr r0, [r12, #16]\n\t"
      "cmp r1, r0\n\t"
      "bne 0b\n\t"
      "pop {r4-r11, pc}\n\t");
}
#else
static void gemm_packed_asm(const packed_args *a) {
  const int32_t lo = (int8_t)(a->min4 & 0xFF), hi = (int8_t)(a->max4 & 0xFF);
  int8_t *out_a = a->out_a, *out_b = a->out_b;
  for (const uint32_t *w = a->w; w != a->end; out_a += 2, out_b += 2) {
    int32_t acc[4] = {(int32_t)w[0], (int32_t)w[0], (int32_t)w[1], (int32_t)w[1]};
    w += 2;
    const uint32_t *col = (const uint32_t *)(const void *)a->col;
    for (int32_t g = 0; g < a->n_groups; ++g, col += 4, w += 4) {
      acc[0] = th_smlad(w[1], col[1], th_smlad(w[0], col[0], acc[0]));
      acc[1] = th_smlad(w[1], col[3], th_smlad(w[0], col[2], acc[1]));
      acc[2] = th_smlad(w[3], col[1], th_smlad(w[2], col[0], acc[2]));
      acc[3] = th_smlad(w[3], col[3], th_smlad(w[2], col[2], acc[3]));
    }
    for (int32_t i = 0; i < 4; ++i) {
      const int32_t c = i >> 1;
      int32_t v = th_ssat8(th_dsp_requantize_small(acc[i], (int32_t)w[c], (int32_t)w[2 + c], (int32_t)w[4 + c]));
      if (a->clamp) v = th_dsp_clamp(v, lo, hi);
      ((i & 1) ? out_b : out_a)[c] = (int8_t)v;
    }
    w += 6;
  }
}
#endif

static void conv_packed(const th_conv_params *p) {
  const int32_t n_pix = p->out_h * p->out_w, k = p->k_h * p->k_w * p->in_c;
  const uint32_t lo = (uint8_t)p->act_min, hi = (uint8_t)p->act_max;
  packed_args a = {p->scratch, (k + 3) / 4, NULL, NULL, p->packed + (size_t)(p->out_c / 2) * (8 + 4 * ((k + 3) / 4)),
                   !(p->act_min == -128 && p->act_max == 127), lo * 0x01010101u, hi * 0x01010101u, p->packed};
  for (int32_t pix = 0; pix < n_pix; pix += 2) {
    const int32_t pix_b = pix + 1 < n_pix ? pix + 1 : pix; /* odd last pixel: paired with itself */
    im2col_packed(p, pix / p->out_w, pix % p->out_w, 0, p->scratch);
    im2col_packed(p, pix_b / p->out_w, pix_b % p->out_w, 1, p->scratch);
    a.out_a = p->output + (size_t)pix * p->out_c;
    a.out_b = p->output + (size_t)pix_b * p->out_c;
    gemm_packed_asm(&a);
  }
}

void th_opt_conv2d_s8(const th_conv_params *p) {
  /* LDM needs a word-aligned scratch; anything else is treated as no scratch. */
  if (p->scratch == NULL || ((uintptr_t)p->scratch & 3) != 0) {
    if (pointwise_direct(p)) {
      conv_pointwise(p);
    } else {
      conv_direct(p);
    }
    return;
  }
  if (p->packed != NULL) {
    conv_packed(p);
    return;
  }
  const requant_ctx r = requant_of(p);
  const int32_t n_pix = p->out_h * p->out_w;
  for (int32_t pix = 0; pix < n_pix; pix += 2) {
    const int32_t pix_b = pix + 1 < n_pix ? pix + 1 : pix; /* odd last pixel: paired with itself */
    im2col_pixel(p, pix / p->out_w, pix % p->out_w, 0, p->scratch, 0);
    im2col_pixel(p, pix_b / p->out_w, pix_b % p->out_w, 1, p->scratch, 0);
    gemm_two_pixels(p, &r, p->scratch, p->output + (size_t)pix * p->out_c,
                    p->output + (size_t)pix_b * p->out_c);
  }
}
