/* Optimized int8 CONV_2D for Cortex-M4 (DSP extension), bit-exact with TFLM's reference
 * ConvPerChannel.
 *
 * Scheme: im2col two output pixels at a time into int16 columns with the input offset already
 * added (padding taps become 0, which is what skipping them contributes), then multiply the
 * columns with two filter rows at a time: 2 output channels x 2 output pixels per inner loop,
 * SMLAD on packed int16 pairs. The filter row (OHWI, i.e. contiguous over k_h*k_w*in_c) is read
 * as int8 words and widened with SXTB16 / SXTB16 ROR 8, which yields lanes (0,2) and (1,3); the
 * im2col column therefore stores each group of four values in that order (x0,x2,x1,x3).
 *
 * 1x1 convolutions that reach no padding (any stride) skip im2col: the two columns are the input
 * pixels themselves, widened on the fly, so they need no scratch.
 *
 * Scratch contract (firmware/engine/scratch.c implements th_conv2d_s8_scratch_bytes):
 *   1x1 kernel, pad_top == pad_left == 0 (stride 1 as in scratch.c, or any) -> 0 bytes;
 *   otherwise 2 * k_h * k_w * in_c * sizeof(int16_t) (two im2col columns), 4-byte aligned.
 * If p->scratch is NULL where a column is needed, a direct (slow, scratch-free) loop runs. */
#include "th_dsp.h"
#include "th_kernels.h"

/* One im2col column for output pixel (oy, ox): K = k_h*k_w*in_c int16 values. */
static void im2col_column(const th_conv_params *p, int32_t oy, int32_t ox, int16_t *col) {
  const int32_t in_c = p->in_c;
  const uint32_t offset2 = th_pack16(p->input_offset, p->input_offset);
  const int32_t y0 = oy * p->stride_h - p->pad_top;
  const int32_t x0 = ox * p->stride_w - p->pad_left;
  int16_t *dst = col;
  for (int32_t ky = 0; ky < p->k_h; ++ky) {
    const int32_t iy = y0 + ky * p->dilation_h;
    for (int32_t kx = 0; kx < p->k_w; ++kx) {
      const int32_t ix = x0 + kx * p->dilation_w;
      if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
        memset(dst, 0, (size_t)in_c * sizeof(int16_t));
        dst += in_c;
        continue;
      }
      const int8_t *src = p->input + ((size_t)iy * p->in_w + ix) * in_c;
      if ((in_c & 3) == 0) {
        /* Groups of four stay inside one tap: widen straight into the reordered layout. */
        for (int32_t c = 0; c < in_c; c += 4) {
          uint32_t w = th_read_u32(src + c);
          th_write_u32(dst, th_sxtab16(offset2, w));
          th_write_u32(dst + 2, th_sxtab16_ror8(offset2, w));
          dst += 4;
        }
      } else {
        for (int32_t c = 0; c < in_c; ++c) *dst++ = (int16_t)(src[c] + p->input_offset);
      }
    }
  }
  if ((in_c & 3) != 0) {
    /* Groups of four straddle taps: reorder each full group (x0,x1,x2,x3) -> (x0,x2,x1,x3). */
    const int32_t k = p->k_h * p->k_w * in_c;
    for (int32_t g = 0; g + 4 <= k; g += 4) {
      int16_t t = col[g + 1];
      col[g + 1] = col[g + 2];
      col[g + 2] = t;
    }
  }
}

TH_INLINE int8_t requant_out(int32_t acc, const th_conv_params *p, int32_t ch) {
  int32_t v = th_dsp_requantize(acc, p->out_multiplier[ch], p->out_shift[ch]) + p->output_offset;
  return (int8_t)th_dsp_clamp(v, p->act_min, p->act_max);
}

/* out[pix][ch] for pixels a and b (b may equal NULL) over all output channels. */
static void gemm_two_pixels(const th_conv_params *p, const int16_t *col_a, const int16_t *col_b,
                            int8_t *out_a, int8_t *out_b) {
  const int32_t k = p->k_h * p->k_w * p->in_c;
  const int32_t k4 = k & ~3;
  const int32_t out_c = p->out_c;
  const int8_t *w0 = p->filter;
  int32_t ch = 0;
  for (; ch + 2 <= out_c; ch += 2, w0 += 2 * k) {
    const int8_t *w1 = w0 + k;
    int32_t b0 = p->bias ? p->bias[ch] : 0;
    int32_t b1 = p->bias ? p->bias[ch + 1] : 0;
    int32_t a00 = b0, a01 = b0, a10 = b1, a11 = b1; /* a<channel><pixel> */
    const int16_t *pa = col_a;
    const int16_t *pb = col_b;
    const int8_t *pw0 = w0;
    const int8_t *pw1 = w1;
    for (int32_t i = 0; i < k4; i += 4) {
      uint32_t x0 = th_read_u32(pa);
      uint32_t x1 = th_read_u32(pa + 2);
      uint32_t y0 = th_read_u32(pb);
      uint32_t y1 = th_read_u32(pb + 2);
      pa += 4;
      pb += 4;
      uint32_t wa = th_read_u32(pw0);
      uint32_t wb = th_read_u32(pw1);
      pw0 += 4;
      pw1 += 4;
      uint32_t wa02 = th_sxtb16(wa), wa13 = th_sxtb16_ror8(wa);
      a00 = th_smlad(wa02, x0, a00);
      a00 = th_smlad(wa13, x1, a00);
      a01 = th_smlad(wa02, y0, a01);
      a01 = th_smlad(wa13, y1, a01);
      uint32_t wb02 = th_sxtb16(wb), wb13 = th_sxtb16_ror8(wb);
      a10 = th_smlad(wb02, x0, a10);
      a10 = th_smlad(wb13, x1, a10);
      a11 = th_smlad(wb02, y0, a11);
      a11 = th_smlad(wb13, y1, a11);
    }
    for (int32_t i = k4; i < k; ++i) {
      a00 += pw0[i - k4] * col_a[i];
      a01 += pw0[i - k4] * col_b[i];
      a10 += pw1[i - k4] * col_a[i];
      a11 += pw1[i - k4] * col_b[i];
    }
    out_a[ch] = requant_out(a00, p, ch);
    out_a[ch + 1] = requant_out(a10, p, ch + 1);
    out_b[ch] = requant_out(a01, p, ch);
    out_b[ch + 1] = requant_out(a11, p, ch + 1);
  }
  if (ch < out_c) {
    int32_t b0 = p->bias ? p->bias[ch] : 0;
    int32_t a00 = b0, a01 = b0;
    const int16_t *pa = col_a;
    const int16_t *pb = col_b;
    const int8_t *pw0 = w0;
    for (int32_t i = 0; i < k4; i += 4) {
      uint32_t wa = th_read_u32(pw0);
      pw0 += 4;
      uint32_t wa02 = th_sxtb16(wa), wa13 = th_sxtb16_ror8(wa);
      a00 = th_smlad(wa02, th_read_u32(pa), a00);
      a00 = th_smlad(wa13, th_read_u32(pa + 2), a00);
      a01 = th_smlad(wa02, th_read_u32(pb), a01);
      a01 = th_smlad(wa13, th_read_u32(pb + 2), a01);
      pa += 4;
      pb += 4;
    }
    for (int32_t i = k4; i < k; ++i) {
      a00 += pw0[i - k4] * col_a[i];
      a01 += pw0[i - k4] * col_b[i];
    }
    out_a[ch] = requant_out(a00, p, ch);
    out_b[ch] = requant_out(a01, p, ch);
  }
}

/* One output pixel, all channels (the odd pixel left over at the end). */
static void gemm_one_pixel(const th_conv_params *p, const int16_t *col, int8_t *out) {
  const int32_t k = p->k_h * p->k_w * p->in_c;
  const int32_t k4 = k & ~3;
  const int8_t *w = p->filter;
  for (int32_t ch = 0; ch < p->out_c; ++ch, w += k) {
    int32_t acc = p->bias ? p->bias[ch] : 0;
    const int16_t *pc = col;
    int32_t i = 0;
    for (; i < k4; i += 4, pc += 4) {
      uint32_t wv = th_read_u32(w + i);
      acc = th_smlad(th_sxtb16(wv), th_read_u32(pc), acc);
      acc = th_smlad(th_sxtb16_ror8(wv), th_read_u32(pc + 2), acc);
    }
    for (; i < k; ++i) acc += w[i] * col[i];
    out[ch] = requant_out(acc, p, ch);
  }
}

/* 1x1 convolutions whose every output pixel reads an in-range input pixel (no padding reached):
 * the two "columns" are the input pixels themselves, widened on the fly. Needs no scratch. */
static int pointwise_direct(const th_conv_params *p) {
  return p->k_h == 1 && p->k_w == 1 && p->pad_top == 0 && p->pad_left == 0 &&
         (p->out_h - 1) * p->stride_h < p->in_h && (p->out_w - 1) * p->stride_w < p->in_w;
}

static void pointwise_two_pixels(const th_conv_params *p, const int8_t *in_a, const int8_t *in_b,
                                 int8_t *out_a, int8_t *out_b) {
  const int32_t k = p->in_c, k4 = k & ~3;
  const int32_t off = p->input_offset;
  const uint32_t off2 = th_pack16(off, off);
  const int8_t *w0 = p->filter;
  int32_t ch = 0;
  for (; ch + 2 <= p->out_c; ch += 2, w0 += 2 * k) {
    const int8_t *w1 = w0 + k;
    int32_t b0 = p->bias ? p->bias[ch] : 0;
    int32_t b1 = p->bias ? p->bias[ch + 1] : 0;
    int32_t a00 = b0, a01 = b0, a10 = b1, a11 = b1;
    for (int32_t i = 0; i < k4; i += 4) {
      uint32_t x = th_read_u32(in_a + i), y = th_read_u32(in_b + i);
      uint32_t x02 = th_sxtab16(off2, x), x13 = th_sxtab16_ror8(off2, x);
      uint32_t y02 = th_sxtab16(off2, y), y13 = th_sxtab16_ror8(off2, y);
      uint32_t wa = th_read_u32(w0 + i), wb = th_read_u32(w1 + i);
      uint32_t wa02 = th_sxtb16(wa), wa13 = th_sxtb16_ror8(wa);
      a00 = th_smlad(wa02, x02, a00);
      a00 = th_smlad(wa13, x13, a00);
      a01 = th_smlad(wa02, y02, a01);
      a01 = th_smlad(wa13, y13, a01);
      uint32_t wb02 = th_sxtb16(wb), wb13 = th_sxtb16_ror8(wb);
      a10 = th_smlad(wb02, x02, a10);
      a10 = th_smlad(wb13, x13, a10);
      a11 = th_smlad(wb02, y02, a11);
      a11 = th_smlad(wb13, y13, a11);
    }
    for (int32_t i = k4; i < k; ++i) {
      a00 += w0[i] * (in_a[i] + off);
      a01 += w0[i] * (in_b[i] + off);
      a10 += w1[i] * (in_a[i] + off);
      a11 += w1[i] * (in_b[i] + off);
    }
    out_a[ch] = requant_out(a00, p, ch);
    out_a[ch + 1] = requant_out(a10, p, ch + 1);
    out_b[ch] = requant_out(a01, p, ch);
    out_b[ch + 1] = requant_out(a11, p, ch + 1);
  }
  for (; ch < p->out_c; ++ch, w0 += k) {
    int32_t a0 = p->bias ? p->bias[ch] : 0;
    int32_t a1 = a0;
    for (int32_t i = 0; i < k; ++i) {
      a0 += w0[i] * (in_a[i] + off);
      a1 += w0[i] * (in_b[i] + off);
    }
    out_a[ch] = requant_out(a0, p, ch);
    out_b[ch] = requant_out(a1, p, ch);
  }
}

static void conv_pointwise(const th_conv_params *p) {
  const int32_t n_pix = p->out_h * p->out_w;
  const int8_t *in_prev = NULL;
  int8_t *out_prev = NULL;
  for (int32_t pix = 0; pix < n_pix; ++pix) {
    const int32_t oy = pix / p->out_w, ox = pix % p->out_w;
    const int8_t *in = p->input + ((size_t)oy * p->stride_h * p->in_w + (size_t)ox * p->stride_w) * p->in_c;
    int8_t *out = p->output + (size_t)pix * p->out_c;
    if (in_prev == NULL) {
      in_prev = in;
      out_prev = out;
    } else {
      pointwise_two_pixels(p, in_prev, in, out_prev, out);
      in_prev = NULL;
    }
  }
  /* An odd pixel count: the last pixel is paired with itself (results written twice, same values). */
  if (in_prev != NULL) pointwise_two_pixels(p, in_prev, in_prev, out_prev, out_prev);
}

/* Scratch-free path (only when the caller planned no scratch). */
static void conv_direct(const th_conv_params *p) {
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
        out[ch] = requant_out(acc, p, ch);
      }
    }
  }
}

void th_opt_conv2d_s8(const th_conv_params *p) {
  if (pointwise_direct(p)) {
    conv_pointwise(p);
    return;
  }
  if (p->scratch == NULL) {
    conv_direct(p);
    return;
  }
  const int32_t k = p->k_h * p->k_w * p->in_c;
  int16_t *col_a = p->scratch;
  int16_t *col_b = p->scratch + k;
  const int32_t n_pix = p->out_h * p->out_w;
  int32_t pix = 0;
  for (; pix + 2 <= n_pix; pix += 2) {
    im2col_column(p, pix / p->out_w, pix % p->out_w, col_a);
    im2col_column(p, (pix + 1) / p->out_w, (pix + 1) % p->out_w, col_b);
    gemm_two_pixels(p, col_a, col_b, p->output + (size_t)pix * p->out_c,
                    p->output + (size_t)(pix + 1) * p->out_c);
  }
  if (pix < n_pix) {
    im2col_column(p, pix / p->out_w, pix % p->out_w, col_a);
    gemm_one_pixel(p, col_a, p->output + (size_t)pix * p->out_c);
  }
}
