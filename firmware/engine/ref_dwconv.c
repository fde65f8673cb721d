/* Plain C reference depthwise convolution (int8, per-channel), bit-exact with TFLM's reference
 * DepthwiseConvPerChannel. Filter [1][k_h][k_w][out_c], out_c = in_c * depth_multiplier. */
#include "th_fixedpoint.h"
#include "th_kernels.h"

void th_ref_dwconv_s8(const th_dwconv_params *dw) {
  const th_conv_params *p = &dw->conv;
  const int32_t mult = dw->depth_multiplier;
  for (int32_t oy = 0; oy < p->out_h; ++oy) {
    const int32_t in_y0 = oy * p->stride_h - p->pad_top;
    for (int32_t ox = 0; ox < p->out_w; ++ox) {
      const int32_t in_x0 = ox * p->stride_w - p->pad_left;
      int8_t *out = p->output + (oy * p->out_w + ox) * p->out_c;
      for (int32_t ic = 0; ic < p->in_c; ++ic) {
        for (int32_t m = 0; m < mult; ++m) {
          const int32_t oc = ic * mult + m;
          int32_t acc = 0;
          for (int32_t ky = 0; ky < p->k_h; ++ky) {
            const int32_t iy = in_y0 + ky * p->dilation_h;
            if (iy < 0 || iy >= p->in_h) continue;
            for (int32_t kx = 0; kx < p->k_w; ++kx) {
              const int32_t ix = in_x0 + kx * p->dilation_w;
              if (ix < 0 || ix >= p->in_w) continue;
              const int32_t in = p->input[(iy * p->in_w + ix) * p->in_c + ic];
              const int32_t f = p->filter[(ky * p->k_w + kx) * p->out_c + oc];
              acc += f * (in + p->input_offset);
            }
          }
          if (p->bias) acc += p->bias[oc];
          acc = th_mul_by_quantized_multiplier(acc, p->out_multiplier[oc], p->out_shift[oc]);
          out[oc] = (int8_t)th_clamp(acc + p->output_offset, p->act_min, p->act_max);
        }
      }
    }
  }
}
