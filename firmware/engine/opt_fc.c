/* Optimized int8 FULLY_CONNECTED for Cortex-M4 (DSP extension), bit-exact with TFLM's reference
 * FullyConnected (per-tensor or per-channel requantization; weights offset supported).
 *
 * Scheme: two weight rows at a time; four inputs per step are read as one word and widened with
 * SXTAB16 (input offset added) into lanes (0,2) and (1,3), the weights likewise (weights offset
 * added, 0 for symmetric weights), then SMLAD. Scratch: none. No alignment needs. */
#include "th_dsp.h"
#include "th_kernels.h"

TH_INLINE int8_t requant_out(int32_t acc, const th_fc_params *p, int32_t row) {
  const int32_t q = p->per_channel ? row : 0;
  int32_t v = th_dsp_requantize(acc, p->out_multiplier[q], p->out_shift[q]) + p->output_offset;
  return (int8_t)th_dsp_clamp(v, p->act_min, p->act_max);
}

static void fc_two_rows(const th_fc_params *p, const int8_t *in, int32_t row, int8_t *out) {
  const int32_t n = p->in_n, n4 = n & ~3;
  const uint32_t in_off2 = th_pack16(p->input_offset, p->input_offset);
  const uint32_t w_off2 = th_pack16(p->weights_offset, p->weights_offset);
  const int8_t *w0 = p->weights + (size_t)row * n;
  const int8_t *w1 = w0 + n;
  int32_t acc0 = p->bias ? p->bias[row] : 0;
  int32_t acc1 = p->bias ? p->bias[row + 1] : 0;
  int32_t i = 0;
  for (; i < n4; i += 4) {
    uint32_t x = th_read_u32(in + i);
    uint32_t x02 = th_sxtab16(in_off2, x), x13 = th_sxtab16_ror8(in_off2, x);
    uint32_t wa = th_read_u32(w0 + i);
    uint32_t wb = th_read_u32(w1 + i);
    acc0 = th_smlad(th_sxtab16(w_off2, wa), x02, acc0);
    acc0 = th_smlad(th_sxtab16_ror8(w_off2, wa), x13, acc0);
    acc1 = th_smlad(th_sxtab16(w_off2, wb), x02, acc1);
    acc1 = th_smlad(th_sxtab16_ror8(w_off2, wb), x13, acc1);
  }
  for (; i < n; ++i) {
    const int32_t x = in[i] + p->input_offset;
    acc0 += x * (w0[i] + p->weights_offset);
    acc1 += x * (w1[i] + p->weights_offset);
  }
  out[row] = requant_out(acc0, p, row);
  out[row + 1] = requant_out(acc1, p, row + 1);
}

static void fc_one_row(const th_fc_params *p, const int8_t *in, int32_t row, int8_t *out) {
  const int32_t n = p->in_n, n4 = n & ~3;
  const uint32_t in_off2 = th_pack16(p->input_offset, p->input_offset);
  const uint32_t w_off2 = th_pack16(p->weights_offset, p->weights_offset);
  const int8_t *w = p->weights + (size_t)row * n;
  int32_t acc = p->bias ? p->bias[row] : 0;
  int32_t i = 0;
  for (; i < n4; i += 4) {
    uint32_t x = th_read_u32(in + i);
    uint32_t wv = th_read_u32(w + i);
    acc = th_smlad(th_sxtab16(w_off2, wv), th_sxtab16(in_off2, x), acc);
    acc = th_smlad(th_sxtab16_ror8(w_off2, wv), th_sxtab16_ror8(in_off2, x), acc);
  }
  for (; i < n; ++i) acc += (in[i] + p->input_offset) * (w[i] + p->weights_offset);
  out[row] = requant_out(acc, p, row);
}

void th_opt_fc_s8(const th_fc_params *p) {
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in = p->input + (size_t)b * p->in_n;
    int8_t *out = p->output + (size_t)b * p->out_n;
    int32_t row = 0;
    for (; row + 2 <= p->out_n; row += 2) fc_two_rows(p, in, row, out);
    if (row < p->out_n) fc_one_row(p, in, row, out);
  }
}
