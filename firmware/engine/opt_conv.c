/* Optimized int8 CONV_2D for Cortex-M4 (DSP extension), bit-exact with TFLM's reference
 * ConvPerChannel. This file: the entry point and the paths for layers the code generator did not
 * pack. The files of the kernel:
 *   conv_im2col.c    two or three output pixels' receptive fields, widened and interleaved into
 *                    the scratch;
 *   conv_packed.c    the packed layouts (p->packed: int16 weights, --optimize speed; p->packed8:
 *                    int8 weights, --optimize size), taken for every layer whose requantization
 *                    fits them (even out_c, |bias| < 2^29, K * 255 * 128 < 2^29, right shifts);
 *   conv_winograd.c  3x3 stride-1 layers by Winograd F(2x2, 3x3) in integers (p->wino, --optimize
 *                    speed; its own entry, th_opt_conv2d_s8_winograd): 16 multiplies per 2 x 2
 *                    outputs instead of 36, bit-exact;
 *   conv_gemm_asm.c  the int8-filter multiply loops in assembly (this file's fast path);
 *   opt_conv.c       dispatch, requantization in C, the scratch-free 1x1 and direct loops.
 *
 * Int8-filter path (no packed layout): im2col two pixels, then two filter rows at a time: 2 output
 * channels x 2 pixels per group of four K values, SMLAD on int16 pairs, the filter row (OHWI:
 * contiguous over K = k_h*k_w*in_c) read as int8 words and widened with SXTB16 / SXTB16 ROR 8.
 * Cycle budget per group of 16 MACs (TRM DDI 0439: LDM 1 + N, LDR 2 or 1 after a load, SXTB16 and
 * SMLAD 1): 5 + 3 + 4 + 8 = 20 cycles (1.25 cycles/MAC), plus about 60 cycles per channel pair of
 * two pixels for pointers, constants and requantization kept in an argument block.
 * An odd last pixel or channel is paired with itself.
 *
 * Scratch contract (firmware/engine/scratch.c implements th_conv2d_s8_scratch_bytes):
 *   2 * ceil4(k_h * k_w * in_c) * sizeof(int16_t) bytes (3 * with the int16 packed layout, which
 *   multiplies three pixels at a time), 4-byte aligned (LDM), for EVERY convolution, 1x1 included
 *   (KWS pointwise: 256 bytes, 384 in speed mode). Without it (scratch == NULL, which needs
 *   the int8 filter) 1x1 convolutions that reach no padding widen the input pixels on the fly (KWS
 *   pointwise 1.88 instructions/MAC instead of 0.98); any other convolution runs a direct, slow loop.
 * Overlap (scratch.c's layout contract): output pixels are written in raster order, two (three on
 * the int16 packed layout) at a time, after their inputs were read; earlier pixels' inputs are
 * never read again. */
#include "th_conv_internal.h"

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
      TH_ASM_ALIGN "1:\n\t"
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
    th_conv_gemm_2x2_asm(&a);
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
    th_conv_pointwise_2x2_asm(&a);
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
  if (p->packed != NULL || p->packed8 != NULL) {
    th_conv_run_packed(p);
    return;
  }
  const requant_ctx r = requant_of(p);
  const int32_t n_pix = p->out_h * p->out_w;
  for (int32_t pix = 0; pix < n_pix; pix += 2) {
    const int32_t pix_b = pix + 1 < n_pix ? pix + 1 : pix; /* odd last pixel: paired with itself */
    th_conv_im2col_pixel(p, pix / p->out_w, pix % p->out_w, 0, p->scratch, 0);
    th_conv_im2col_pixel(p, pix_b / p->out_w, pix_b % p->out_w, 1, p->scratch, 0);
    gemm_two_pixels(p, &r, p->scratch, p->output + (size_t)pix * p->out_c,
                    p->output + (size_t)pix_b * p->out_c);
  }
}
