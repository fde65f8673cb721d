/* Builtin int8 engine: the light ops (one implementation each), called by generated model code.
 * Semantics are TFLM's reference kernels, bit for bit; all quantization constants (multipliers,
 * shifts, ranges) are computed by the harness at generation time and passed in. NHWC, batch 1
 * unless a shape says otherwise; shapes of up to 4 dims are passed padded with leading 1s.
 * The arena plan may lay an op's output over its input when the input dies at that op:
 * elementwise ops exactly in place, pooling with a lag (harness/codegen/overlap.py). So every
 * kernel here walks its output in raster order and reads element / window i before writing i. */
#ifndef TH_OPS_H
#define TH_OPS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MAX_POOL_2D / AVERAGE_POOL_2D. */
typedef struct {
  const int8_t *input;
  int32_t batches, in_h, in_w, channels;
  int8_t *output;
  int32_t out_h, out_w;
  int32_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
  int32_t act_min, act_max;
} th_pool_params;

void th_maxpool_s8(const th_pool_params *p);
void th_avgpool_s8(const th_pool_params *p);

/* ADD / MUL with broadcasting: output dims[4]; stride1/stride2 are each input's element strides
 * per output dim (0 where that input is broadcast).
 * ADD: input_lut[k][v + 128] is input k's value v already offset, shifted left by 20 and rescaled
 * (TFLM's first two MultiplyByQuantizedMultiplierSmallerThanOneExp steps, precomputed by the
 * harness); the sum is then rescaled by (output_multiplier, output_shift), output_shift <= 0
 * (the harness folds a left shift into the tables).
 * MUL: (v1 + input1_offset) * (v2 + input2_offset) rescaled by (output_multiplier, output_shift). */
typedef struct {
  const int8_t *input1, *input2;
  int8_t *output;
  int32_t dims[4];
  int32_t stride1[4], stride2[4];
  const int32_t *input1_lut, *input2_lut; /* ADD only: 256 entries each */
  int32_t input1_offset, input2_offset;   /* MUL only: -zp1, -zp2 */
  int32_t output_offset;                  /* +zp_out */
  int32_t output_multiplier, output_shift;
  int32_t act_min, act_max;
} th_binary_params;

void th_add_s8(const th_binary_params *p);
void th_mul_s8(const th_binary_params *p);

/* MEAN over the dims where reduce[d] != 0 (input dims[4]); output is the input with those dims
 * collapsed to 1, in row-major order. (multiplier, shift) rescale the zero-point-corrected sum
 * and include the 1/count of the mean, as TFLM's integer QuantizedMeanOrSum. */
typedef struct {
  const int8_t *input;
  int8_t *output;
  int32_t dims[4];
  int32_t reduce[4];
  int32_t input_zero_point, output_zero_point;
  int32_t multiplier, shift;
} th_mean_params;

void th_mean_s8(const th_mean_params *p);

/* PAD / PADV2 (int8): output dims[4] = before + input + after per dim. */
typedef struct {
  const int8_t *input;
  int8_t *output;
  int32_t in_dims[4], out_dims[4], before[4];
  int8_t pad_value;
} th_pad_params;

void th_pad_s8(const th_pad_params *p);

/* CONCATENATION (same quantization on all inputs): `outer` rows, each input contributes
 * chunk_bytes[i] contiguous bytes per row. */
void th_concat(const void *const *inputs, const int32_t *chunk_bytes, int32_t n_inputs, int32_t outer,
               void *output);

/* SOFTMAX int8 -> int8 (output scale 1/256, zero point -128), gemmlowp fixed-point exp. */
typedef struct {
  const int8_t *input;
  int8_t *output;
  int32_t outer, depth;
  int32_t input_multiplier, input_left_shift, diff_min;
} th_softmax_params;

void th_softmax_s8(const th_softmax_params *p);

/* LOGISTIC int8 -> int8 (output scale 1/256, zero point -128). */
typedef struct {
  const int8_t *input;
  int8_t *output;
  int32_t size;
  int32_t input_zero_point, input_range_radius, input_multiplier, input_left_shift;
} th_logistic_params;

void th_logistic_s8(const th_logistic_params *p);

/* out = clamp(output_zp + x*(multiplier, shift) of (in - input_zp)): RELU, and QUANTIZE int8->int8. */
typedef struct {
  const int8_t *input;
  int8_t *output;
  int32_t size;
  int32_t input_zero_point, output_zero_point, multiplier, shift, act_min, act_max;
} th_requant_params;

void th_requantize_s8(const th_requant_params *p);
/* QUANTIZE at uint8 model edges: the same rescale, reading (u8_s8) or writing (s8_u8) uint8
 * through the int8-typed pointers; act_min/act_max are in the output's own range. */
void th_requantize_u8_s8(const th_requant_params *p);
void th_requantize_s8_u8(const th_requant_params *p);

/* out = clamp(in, lo, hi) without rescaling: RELU6 (TFLM keeps input quantization). */
void th_clamp_s8(const int8_t *input, int8_t *output, int32_t size, int32_t lo, int32_t hi);

/* QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32 (model edges). */
void th_quantize_f32_s8(const float *input, int8_t *output, int32_t size, float scale, int32_t zero_point);
void th_dequantize_s8_f32(const int8_t *input, float *output, int32_t size, float scale, int32_t zero_point);

#ifdef __cplusplus
}
#endif
#endif
