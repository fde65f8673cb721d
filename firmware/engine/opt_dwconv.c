/* Optimized int8 DEPTHWISE_CONV_2D for Cortex-M4 (DSP extension), bit-exact with TFLM's reference
 * DepthwiseConvPerChannel.
 *
 * Depth multiplier 1 (the common case): per output pixel, channels in groups of four. A tap reads
 * one word of four input channels and one word of four filter channels, widens them with
 * SXTAB16 (input offset added on the way) / SXTB16 into lanes (0,2) and (1,3), and accumulates
 * each channel with SMLABB / SMLATT. The tap window is clipped to the input once per pixel, so
 * the inner loops carry no padding tests. Channels left over (in_c % 4) and depth multipliers > 1
 * take a plain per-channel loop with the same clipping.
 *
 * Scratch: none (th_dwconv_s8_scratch_bytes may return 0). No alignment needs. */
#include "th_dsp.h"
#include "th_kernels.h"

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

void th_opt_dwconv_s8(const th_dwconv_params *p) {
  const th_conv_params *c = &p->conv;
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
