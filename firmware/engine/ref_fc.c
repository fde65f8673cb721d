/* Plain C reference fully-connected layer (int8), bit-exact with TFLM's reference
 * FullyConnected / FullyConnectedPerChannel. Weights [out_n][in_n]. */
#include "th_fixedpoint.h"
#include "th_kernels.h"

void th_ref_fc_s8(const th_fc_params *p) {
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in = p->input + b * p->in_n;
    int8_t *out = p->output + b * p->out_n;
    for (int32_t o = 0; o < p->out_n; ++o) {
      const int8_t *w = p->weights + o * p->in_n;
      int32_t acc = 0;
      for (int32_t i = 0; i < p->in_n; ++i) acc += ((int32_t)w[i] + p->weights_offset) * ((int32_t)in[i] + p->input_offset);
      if (p->bias) acc += p->bias[o];
      const int32_t ch = p->per_channel ? o : 0;
      acc = th_mul_by_quantized_multiplier(acc, p->out_multiplier[ch], p->out_shift[ch]);
      out[o] = (int8_t)th_clamp(acc + p->output_offset, p->act_min, p->act_max);
    }
  }
}
