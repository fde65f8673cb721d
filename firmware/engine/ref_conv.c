/* Plain C reference convolution (int8, per-channel requantization), the bit-exact baseline the
 * optimized kernel is checked against. Loop order and arithmetic follow TFLM's reference
 * ConvPerChannel; filter is OHWI, activations NHWC with batch 1. */
#include "th_fixedpoint.h"
#include "th_kernels.h"

void th_ref_conv2d_s8(const th_conv_params *p) {
  for (int32_t oy = 0; oy < p->out_h; ++oy) {
    const int32_t in_y0 = oy * p->stride_h - p->pad_top;
    for (int32_t ox = 0; ox < p->out_w; ++ox) {
      const int32_t in_x0 = ox * p->stride_w - p->pad_left;
      int8_t *out = p->output + (oy * p->out_w + ox) * p->out_c;
      for (int32_t oc = 0; oc < p->out_c; ++oc) {
        const int8_t *filter = p->filter + oc * p->k_h * p->k_w * p->in_c;
        int32_t acc = 0;
        for (int32_t ky = 0; ky < p->k_h; ++ky) {
          const int32_t iy = in_y0 + ky * p->dilation_h;
          if (iy < 0 || iy >= p->in_h) continue;
          for (int32_t kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = in_x0 + kx * p->dilation_w;
            if (ix < 0 || ix >= p->in_w) continue;
            const int8_t *in = p->input + (iy * p->in_w + ix) * p->in_c;
            const int8_t *f = filter + (ky * p->k_w + kx) * p->in_c;
            for (int32_t ic = 0; ic < p->in_c; ++ic) acc += (int32_t)f[ic] * ((int32_t)in[ic] + p->input_offset);
          }
        }
        if (p->bias) acc += p->bias[oc];
        acc = th_mul_by_quantized_multiplier(acc, p->out_multiplier[oc], p->out_shift[oc]);
        out[oc] = (int8_t)th_clamp(acc + p->output_offset, p->act_min, p->act_max);
      }
    }
  }
}
