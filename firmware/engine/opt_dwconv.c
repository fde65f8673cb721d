/* Optimized int8 DEPTHWISE_CONV_2D for Cortex-M4 (DSP extension), bit-exact with TFLM's reference
 * DepthwiseConvPerChannel.
 *
 * 3x3 layers with stride_w 1 and rows under 62 outputs, or columns of 8 to 61 with stride_h 1
 * (th_dw3_applies): dwconv3x3.c, SMLAD over pairs of taps in int16 channel planes.
 * Fast path (depth multiplier 1, channels a multiple of 4, scratch given): group by group of four
 * channels (so the group's bias and requantization constants stay hoisted), the group's filter is
 * widened into the scratch as int16 lane pairs (0,2),(1,3), and the k_h input rows an output row
 * reads are widened the same way (input offset added, padding columns/rows as 0) into k_h scratch
 * rows kept as a ring: with stride 1 each output row widens one new input row. Each tap is then
 * two LDRD word pairs and SMLABB / SMLATT per channel, with no bounds tests. The 3x3 case with
 * bounded accumulators (the short SMMULR requantization of th_dsp.h, weights and bias doubled)
 * runs one output row per call of an assembly routine (dwconv_ring3.c): 6 instructions per tap of 4
 * channels and 7 per output for requantization, clamp and store (constants fetched by LDM).
 * Cycle budget per tap of four channels (TRM DDI 0439: LDRD 3, SMLAxy 1): 2 LDRD + 4 SMLAxy = 10
 * cycles for 4 MACs, 2.5 cycles/MAC before requantization: why wider 3x3 rows go to dwconv3x3.c.
 * Other cases: per output pixel, channels in groups of four reading the int8 filter directly
 * (depth multiplier 1), and a plain per-channel loop for the rest (depth multiplier > 1 or the
 * in_c % 4 leftover).
 * Overlap (scratch.c's layout contract): per group, the input rows an output row needs are read
 * before that row is written; earlier rows are never read from the input again.
 *
 * Scratch contract (firmware/engine/scratch.c implements th_dwconv_s8_scratch_bytes):
 *   layers dwconv3x3.c takes: th_dw3_scratch_bytes (th_kernels.h); else depth multiplier 1, out_c % 4 == 0, k_h <= 16:
 *     8 * k_h * (k_w + W) bytes, W = (out_w - 1) * stride_w + (k_w - 1) * dilation_w + 1,
 *     4-byte aligned (KWS 3x3 on 25x5: 8 * 3 * (3 + 7) = 240 bytes);
 *   otherwise 0. With scratch == NULL the slower scratch-free paths run. */
#include "th_dwconv_internal.h"

TH_INLINE int8_t requant_out(int32_t acc, const th_conv_params *c, int32_t ch) {
  int32_t v = th_dsp_requantize(acc, c->out_multiplier[ch], c->out_shift[ch]) + c->output_offset;
  return (int8_t)th_dsp_clamp(v, c->act_min, c->act_max);
}

/* Filter taps [k_lo, k_hi) that land inside [0, in_size) for an output starting at `origin`. */
static void clip_taps(int32_t origin, int32_t dilation, int32_t k, int32_t in_size, int32_t *k_lo,
                      int32_t *k_hi) {
  int32_t lo = 0, hi = k;
  while (lo < k && origin + lo * dilation < 0) ++lo;
  while (hi > lo && origin + (hi - 1) * dilation >= in_size) --hi;
  *k_lo = lo;
  *k_hi = hi;
}

/* Four channels starting at ch (depth multiplier 1) for one output pixel. */
TH_INLINE void dw_group4(const th_conv_params *c, const int8_t *in_px, const int8_t *w_px,
                         int32_t ky_n, int32_t kx_n, int32_t ch, int8_t *out) {
  const uint32_t off2 = th_pack16(c->input_offset, c->input_offset);
  const int32_t in_row = c->in_w * c->in_c * c->dilation_h;
  const int32_t in_step = c->in_c * c->dilation_w;
  const int32_t w_row = c->k_w * c->out_c;
  const int32_t w_step = c->out_c;
  int32_t a0, a1, a2, a3;
  if (c->bias) {
    a0 = c->bias[ch];
    a1 = c->bias[ch + 1];
    a2 = c->bias[ch + 2];
    a3 = c->bias[ch + 3];
  } else {
    a0 = a1 = a2 = a3 = 0;
  }
  const int8_t *in_r = in_px + ch;
  const int8_t *w_r = w_px + ch;
  for (int32_t ky = 0; ky < ky_n; ++ky, in_r += in_row, w_r += w_row) {
    const int8_t *pi = in_r;
    const int8_t *pw = w_r;
    for (int32_t kx = 0; kx < kx_n; ++kx, pi += in_step, pw += w_step) {
      uint32_t x = th_read_u32(pi);
      uint32_t w = th_read_u32(pw);
      uint32_t x02 = th_sxtab16(off2, x), x13 = th_sxtab16_ror8(off2, x);
      uint32_t w02 = th_sxtb16(w), w13 = th_sxtb16_ror8(w);
      a0 = th_smlabb(x02, w02, a0);
      a2 = th_smlatt(x02, w02, a2);
      a1 = th_smlabb(x13, w13, a1);
      a3 = th_smlatt(x13, w13, a3);
    }
  }
  out[ch] = requant_out(a0, c, ch);
  out[ch + 1] = requant_out(a1, c, ch + 1);
  out[ch + 2] = requant_out(a2, c, ch + 2);
  out[ch + 3] = requant_out(a3, c, ch + 3);
}

/* Output channel oc = ic * dm + m, any depth multiplier. */
static void dw_one_channel(const th_dwconv_params *p, const int8_t *in_px, const int8_t *w_px,
                           int32_t ky_n, int32_t kx_n, int32_t oc, int8_t *out) {
  const th_conv_params *c = &p->conv;
  const int32_t ic = oc / p->depth_multiplier;
  int32_t acc = c->bias ? c->bias[oc] : 0;
  for (int32_t ky = 0; ky < ky_n; ++ky) {
    const int8_t *pi = in_px + (size_t)ky * c->dilation_h * c->in_w * c->in_c + ic;
    const int8_t *pw = w_px + (size_t)ky * c->k_w * c->out_c + oc;
    for (int32_t kx = 0; kx < kx_n; ++kx) {
      acc += (pi[(size_t)kx * c->dilation_w * c->in_c] + c->input_offset) * pw[kx * c->out_c];
    }
  }
  out[oc] = requant_out(acc, c, oc);
}

/* Width of the padded, widened input row the fast path keeps: every column any output reads. */
static int32_t padded_row_width(const th_conv_params *c) {
  return (c->out_w - 1) * c->stride_w + (c->k_w - 1) * c->dilation_w + 1;
}

/* Four channels of the filter [1][k_h][k_w][out_c] -> [tap][4] int16, lanes (0,2),(1,3), times
 * `scale` (2 for the short requantization, which wants 2 * acc). */
static void widen_group_filter(const th_conv_params *c, int32_t ch, int32_t scale, uint32_t *dst) {
  const int8_t *src = c->filter + ch;
  for (int32_t t = 0; t < c->k_h * c->k_w; ++t, src += c->out_c, dst += 2) {
    const int8_t *w = src;
    dst[0] = th_pack16(w[0] * scale, w[2] * scale);
    dst[1] = th_pack16(w[1] * scale, w[3] * scale);
  }
}

/* Input row iy, channels ch..ch+3, columns -pad_left .. width-pad_left-1, widened with the input
 * offset added into a slot whose padding columns are already 0 (dw_fast zeroes them once); rows
 * outside the input are all 0 (what TFLM's skipped taps contribute). */
static void widen_group_row(const th_conv_params *c, int32_t iy, int32_t ch, int32_t lo, int32_t hi,
                            uint32_t *dst) {
  if (iy < 0 || iy >= c->in_h) {
    for (int32_t i = 2 * lo; i < 2 * hi; i += 2) dst[i] = dst[i + 1] = 0;
    return;
  }
  const uint32_t off2 = th_pack16(c->input_offset, c->input_offset);
  const int32_t step = c->in_c; /* a local: the stores may alias *c, which GCC would reload */
  const int8_t *src = c->input + ((size_t)iy * c->in_w + (lo - c->pad_left)) * step + ch;
  for (uint32_t *d = dst + 2 * lo, *end = dst + 2 * hi; d != end; d += 2, src += step) {
    const uint32_t x = th_read_u32(src);
    d[0] = th_sxtab16(off2, x);
    d[1] = th_sxtab16_ror8(off2, x);
  }
}


static void group_quant_of(const th_conv_params *c, int32_t ch, group_quant *q) {
  const int64_t dot_bound = (int64_t)c->k_h * c->k_w * 255 * 128;
  q->small = dot_bound < TH_DSP_SMALL_ACC_LIMIT;
  for (int32_t i = 0; i < 4; ++i) {
    const int32_t bias = c->bias ? c->bias[ch + i] : 0;
    q->mult[i] = c->out_multiplier[ch + i];
    q->shift[i] = c->out_shift[ch + i];
    q->small &= th_dsp_small_shift(q->shift[i]) && bias < TH_DSP_SMALL_ACC_LIMIT &&
                bias > -TH_DSP_SMALL_ACC_LIMIT;
  }
  for (int32_t i = 0; i < 4; ++i) {
    const int32_t bias = c->bias ? c->bias[ch + i] : 0;
    q->acc0[i] = q->small ? 2 * bias : bias;
    q->e[i] = q->small ? -q->shift[i] : 0;
    q->bias_e[i] = q->small ? (1 << (q->e[i] - 1)) + (int32_t)((uint32_t)c->output_offset << q->e[i]) : 0;
  }
}

/* acc[0..3] += one tap: x and w point at (0,2),(1,3) lane pairs of four channels. */
#define DW_TAP(x, w)                          \
  do {                                        \
    const uint32_t x02 = (x)[0], x13 = (x)[1]; \
    const uint32_t w02 = (w)[0], w13 = (w)[1]; \
    a0 = th_smlabb(x02, w02, a0);             \
    a2 = th_smlatt(x02, w02, a2);             \
    a1 = th_smlabb(x13, w13, a1);             \
    a3 = th_smlatt(x13, w13, a3);             \
  } while (0)

TH_INLINE int8_t dw_finish(int32_t acc, const group_quant *q, int32_t i, const th_conv_params *c,
                           int small, int full_range) {
  int32_t v = small ? th_dsp_requantize_small(acc, q->mult[i], q->bias_e[i], q->e[i])
                    : th_dsp_requantize(acc, q->mult[i], q->shift[i]) + c->output_offset;
  return (int8_t)(full_range ? th_ssat8(v) : th_dsp_clamp(v, c->act_min, c->act_max));
}

/* One output row of one group from the widened rows rows[ky]. `k3` (3x3 kernel, dilation 1),
 * `small` and `full_range` are constants at each call site. */
TH_INLINE void dw_group_row(const th_conv_params *c, const uint32_t *w, const uint32_t *const *rows,
                            const group_quant *q, int8_t *out, int k3, int small, int full_range) {
  const int32_t step = 2 * c->stride_w, dil = 2 * c->dilation_w;
  for (int32_t ox = 0, col = 0; ox < c->out_w; ++ox, col += step, out += c->out_c) {
    int32_t a0 = q->acc0[0], a1 = q->acc0[1], a2 = q->acc0[2], a3 = q->acc0[3];
    if (k3) {
      const uint32_t *r0 = rows[0] + col, *r1 = rows[1] + col, *r2 = rows[2] + col;
      DW_TAP(r0, w);
      DW_TAP(r0 + 2, w + 2);
      DW_TAP(r0 + 4, w + 4);
      DW_TAP(r1, w + 6);
      DW_TAP(r1 + 2, w + 8);
      DW_TAP(r1 + 4, w + 10);
      DW_TAP(r2, w + 12);
      DW_TAP(r2 + 2, w + 14);
      DW_TAP(r2 + 4, w + 16);
    } else {
      const uint32_t *pw = w;
      for (int32_t ky = 0; ky < c->k_h; ++ky) {
        const uint32_t *pr = rows[ky] + col;
        for (int32_t kx = 0; kx < c->k_w; ++kx, pr += dil, pw += 2) DW_TAP(pr, pw);
      }
    }
    out[0] = dw_finish(a0, q, 0, c, small, full_range);
    out[1] = dw_finish(a1, q, 1, c, small, full_range);
    out[2] = dw_finish(a2, q, 2, c, small, full_range);
    out[3] = dw_finish(a3, q, 3, c, small, full_range);
  }
}


#define DW_MAX_RING 16 /* the fast path takes kernel heights up to this */

/* Depth multiplier 1, out_c % 4 == 0: group by group, output row by output row. The input rows
 * an output row reads are widened (padding included) into k_h scratch slots; with dilation 1 the
 * slots form a ring (slot = row mod k_h), so each input row is widened once per group. Every
 * output pixel is then a straight run of taps with no bounds tests. */
TH_NO_LIBCALLS static void dw_fast(const th_conv_params *c) {
  const int32_t k_h = c->k_h, taps = k_h * c->k_w, width = padded_row_width(c);
  uint32_t *w = (uint32_t *)(void *)c->scratch;
  uint32_t *slots = w + 2 * taps;
  const int ring = c->dilation_h == 1;
  const int k3 = c->k_h == 3 && c->k_w == 3 && c->dilation_w == 1;
  const int full_range = c->act_min == -128 && c->act_max == 127;
  /* Columns [lo, hi) of a padded row come from the input; the rest stay 0 for the whole call. */
  const int32_t lo = c->pad_left < width ? c->pad_left : width;
  int32_t hi = c->pad_left + c->in_w < width ? c->pad_left + c->in_w : width;
  if (hi < lo) hi = lo;
  for (int32_t i = 0; i < 2 * k_h * width; ++i) slots[i] = 0;
  const uint32_t *rows[DW_MAX_RING];
  uint32_t *slot_ptr[DW_MAX_RING];
  for (int32_t i = 0; i < k_h; ++i) slot_ptr[i] = slots + (size_t)i * 2 * width;
  /* Ring slot of the first row an output row reads, i.e. of y0 = oy * stride_h - pad_top. */
  const int32_t first_slot = ((-c->pad_top % k_h) + k_h) % k_h;
  for (int32_t ch = 0; ch < c->out_c; ch += 4) {
    group_quant q;
    group_quant_of(c, ch, &q);
    widen_group_filter(c, ch, q.small ? 2 : 1, w);
#ifdef TH_HAVE_DSP
    dw3_row_args a3;
    th_dw_ring3_args(c, w, &q, &a3);
#endif
    int32_t slot_row[DW_MAX_RING];
    for (int32_t i = 0; i < DW_MAX_RING; ++i) slot_row[i] = INT32_MIN;
    int32_t base_slot = first_slot;
    for (int32_t oy = 0; oy < c->out_h; ++oy) {
      const int32_t y0 = oy * c->stride_h - c->pad_top;
      if (oy > 0 && ring && c->stride_h == 1) {
        /* The window moves down one row: rotate the row pointers, widen the one new row. */
        const uint32_t *freed = rows[0];
        for (int32_t ky = 0; ky + 1 < k_h; ++ky) rows[ky] = rows[ky + 1];
        rows[k_h - 1] = freed;
        widen_group_row(c, y0 + k_h - 1, ch, lo, hi, (uint32_t *)(uintptr_t)freed);
      } else {
        for (int32_t ky = 0, slot = base_slot; ky < k_h; ++ky) {
          const int32_t iy = y0 + ky * c->dilation_h;
          const int32_t s = ring ? slot : ky;
          if (!ring || slot_row[s] != iy) {
            widen_group_row(c, iy, ch, lo, hi, slot_ptr[s]);
            if (ring) slot_row[s] = iy;
          }
          rows[ky] = slot_ptr[s];
          if (++slot == k_h) slot = 0;
        }
        for (int32_t step = 0; step < c->stride_h; ++step) {
          if (++base_slot == k_h) base_slot = 0;
        }
      }
      int8_t *out = c->output + (size_t)oy * c->out_w * c->out_c + ch;
#ifdef TH_HAVE_DSP
      if (k3 && q.small) {
        a3.row[0] = rows[0];
        a3.row[1] = rows[1];
        a3.row[2] = rows[2];
        a3.out = out;
        th_dw_ring3_row_asm(&a3);
        continue;
      }
#endif
      if (k3 && q.small && full_range) {
        dw_group_row(c, w, rows, &q, out, 1, 1, 1);
      } else if (k3 && q.small) {
        dw_group_row(c, w, rows, &q, out, 1, 1, 0);
      } else if (q.small) {
        dw_group_row(c, w, rows, &q, out, 0, 1, 0);
      } else {
        dw_group_row(c, w, rows, &q, out, 0, 0, 0);
      }
    }
  }
}

void th_opt_dwconv_s8(const th_dwconv_params *p) {
  const th_conv_params *c = &p->conv;
  const int scratch_ok = c->scratch != NULL && ((uintptr_t)c->scratch & 3) == 0; /* LDRD: word aligned */
  if (scratch_ok && th_dw3_applies(p)) {
    th_dw3_run(p);
    return;
  }
  if (p->depth_multiplier == 1 && (c->out_c & 3) == 0 && c->k_h <= DW_MAX_RING && scratch_ok) {
    dw_fast(c);
    return;
  }
  const int32_t groups = p->depth_multiplier == 1 ? (c->out_c & ~3) : 0;
  for (int32_t oy = 0; oy < c->out_h; ++oy) {
    const int32_t y0 = oy * c->stride_h - c->pad_top;
    int32_t ky_lo, ky_hi;
    clip_taps(y0, c->dilation_h, c->k_h, c->in_h, &ky_lo, &ky_hi);
    for (int32_t ox = 0; ox < c->out_w; ++ox) {
      const int32_t x0 = ox * c->stride_w - c->pad_left;
      int32_t kx_lo, kx_hi;
      clip_taps(x0, c->dilation_w, c->k_w, c->in_w, &kx_lo, &kx_hi);
      int8_t *out = c->output + ((size_t)oy * c->out_w + ox) * c->out_c;
      const int32_t iy = y0 + ky_lo * c->dilation_h;
      const int32_t ix = x0 + kx_lo * c->dilation_w;
      /* First valid tap: input pixel and filter tap it meets (pointers only formed if valid). */
      const int32_t ky_n = ky_hi - ky_lo, kx_n = kx_hi - kx_lo;
      const int8_t *in_px = c->input;
      const int8_t *w_px = c->filter;
      if (ky_n > 0 && kx_n > 0) {
        in_px += ((size_t)iy * c->in_w + ix) * c->in_c;
        w_px += ((size_t)ky_lo * c->k_w + kx_lo) * c->out_c;
      }
      const int32_t ky_use = kx_n > 0 ? ky_n : 0;
      int32_t ch = 0;
      for (; ch < groups; ch += 4) dw_group4(c, in_px, w_px, ky_use, kx_n, ch, out);
      for (; ch < c->out_c; ++ch) dw_one_channel(p, in_px, w_px, ky_use, kx_n, ch, out);
    }
  }
}
